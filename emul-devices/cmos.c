// SPDX-License-Identifier: MIT
/*
 * CMOS RAM and real-time clock (MC146818A) at ports 0x70 (index; bit 7 is
 * the NMI mask) and 0x71 (data). Without it Linux's cmos_init polls the
 * ports for ~4.7 s waiting for an update cycle (measured in the lab), so a
 * VMM that wants fast Linux boots answers them.
 *
 * The clock is read from the host (UTC) on every access, in BCD, 24-hour
 * mode; "update in progress" never reads as set, so readers never wait.
 * Other bytes are plain NVRAM.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "emul-devices/legacy.h"

enum {
	CMOS_SECONDS = 0x00,
	CMOS_MINUTES = 0x02,
	CMOS_HOURS = 0x04,
	CMOS_WEEKDAY = 0x06,
	CMOS_DAY = 0x07,
	CMOS_MONTH = 0x08,
	CMOS_YEAR = 0x09,
	CMOS_STATUS_A = 0x0a,
	CMOS_STATUS_B = 0x0b,
	CMOS_STATUS_C = 0x0c,
	CMOS_STATUS_D = 0x0d,
	CMOS_CENTURY = 0x32,
	CMOS_SIZE = 128,
};

#define CMOS_A_DIVIDER_32K 0x26 /* 32.768 kHz time base, 1024 Hz rate */
#define CMOS_B_24H 0x02
#define CMOS_B_BINARY 0x04
#define CMOS_D_VALID 0x80

struct cmos {
	struct bus_dev dev;
	pthread_mutex_t lock;
	uint8_t index;          /* lock: lock */
	uint8_t ram[CMOS_SIZE]; /* lock: lock */
};

static uint8_t cmos_encode(const struct cmos *c, int v)
{
	if (c->ram[CMOS_STATUS_B] & CMOS_B_BINARY)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t cmos_read_reg(struct cmos *c, uint8_t reg)
{
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	switch (reg) {
	case CMOS_SECONDS: return cmos_encode(c, tm.tm_sec);
	case CMOS_MINUTES: return cmos_encode(c, tm.tm_min);
	case CMOS_HOURS: return cmos_encode(c, tm.tm_hour);
	case CMOS_WEEKDAY: return cmos_encode(c, tm.tm_wday + 1);
	case CMOS_DAY: return cmos_encode(c, tm.tm_mday);
	case CMOS_MONTH: return cmos_encode(c, tm.tm_mon + 1);
	case CMOS_YEAR: return cmos_encode(c, tm.tm_year % 100);
	case CMOS_CENTURY: return cmos_encode(c, (tm.tm_year + 1900) / 100);
	case CMOS_STATUS_C: {
		/* Interrupt flags: cleared by reading. */
		uint8_t v = c->ram[CMOS_STATUS_C];

		c->ram[CMOS_STATUS_C] = 0;
		return v;
	}
	default:
		return c->ram[reg];
	}
}

static int cmos_read(struct bus_dev *dev, uint64_t offset, void *data,
		     uint32_t len)
{
	struct cmos *c = container_of(dev, struct cmos, dev);
	uint8_t *out = data;

	pthread_mutex_lock(&c->lock);
	for (uint32_t i = 0; i < len; i++)
		out[i] = offset + i == 1 ? cmos_read_reg(c, c->index) : 0xff;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static int cmos_write(struct bus_dev *dev, uint64_t offset, const void *data,
		      uint32_t len)
{
	struct cmos *c = container_of(dev, struct cmos, dev);
	const uint8_t *in = data;

	pthread_mutex_lock(&c->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (offset + i == 0) {
			c->index = in[i] & 0x7f; /* bit 7: NMI mask, ignored */
		} else if (offset + i == 1) {
			uint8_t reg = c->index;

			/* Status C/D are read-only; A's UIP bit too. */
			if (reg == CMOS_STATUS_C || reg == CMOS_STATUS_D)
				continue;
			if (reg == CMOS_STATUS_A)
				c->ram[reg] = in[i] & 0x7f;
			else
				c->ram[reg] = in[i];
		}
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static const struct bus_dev_ops cmos_ops = {
	.read = cmos_read,
	.write = cmos_write,
};

int cmos_create(struct cmos **out)
{
	struct cmos *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->dev = (struct bus_dev){ .ops = &cmos_ops, .name = "cmos" };
	pthread_mutex_init(&c->lock, NULL);
	c->ram[CMOS_STATUS_A] = CMOS_A_DIVIDER_32K;
	c->ram[CMOS_STATUS_B] = CMOS_B_24H;
	c->ram[CMOS_STATUS_D] = CMOS_D_VALID;
	*out = c;
	return 0;
}

struct bus_dev *cmos_bus_dev(struct cmos *cmos)
{
	return &cmos->dev;
}

void cmos_destroy(struct cmos *cmos)
{
	if (!cmos)
		return;
	pthread_mutex_destroy(&cmos->lock);
	free(cmos);
}
