// SPDX-License-Identifier: MIT
/*
 * The controller object: lifetime, the register window's access widths,
 * and the transport's hooks (interrupt mode, reset, statistics). The
 * registers themselves are in regs.c, the queues in queue.c.
 *
 * Access widths (Base §3.1.3): registers are dwords and qwords; a driver
 * may split a qword into two dwords, low first. Narrower accesses are
 * merged into the stored dword without read side effects (there are
 * none), as e1000 does. Doorbells take dword writes only; a qword write
 * is two doorbells, anything narrower or misaligned is dropped. Doorbells
 * read as 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "emul-devices/nvme/nvme-internal.h"

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Largest namespace whose byte offsets fit off_t. */
#define NVME_MAX_NLB (1ULL << (63 - NVME_LBA_SHIFT))

int nvme_ctrl_create(const struct nvme_ctrl_params *p, struct nvme_ctrl **out)
{
	struct nvme_ctrl *c;
	const char *serial = p->serial ? p->serial : "iovmm-nvme";

	*out = NULL;
	if (!p->mem || p->fd < 0 || p->nlb == 0 || p->nlb > NVME_MAX_NLB)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ops = p->ops;
	c->opaque = p->opaque;
	c->mem = p->mem;
	c->fd = p->fd;
	c->nlb = p->nlb;
	c->readonly = p->readonly;
	c->vid = p->vid;
	c->ssvid = p->ssvid;
	snprintf(c->name, sizeof(c->name), "%s", p->name ? p->name : "nvme");
	/* 20 bytes of printable ASCII, space padded (Figure 275, SN). */
	memset(c->serial, ' ', sizeof(c->serial));
	for (size_t i = 0; i < sizeof(c->serial) && serial[i]; i++)
		c->serial[i] = serial[i] > 0x20 && serial[i] < 0x7f ?
			       serial[i] : '_';
	pthread_mutex_init(&c->lock, NULL);
	nvme_regs_reset(c);
	nvme_features_reset(c);
	*out = c;
	return 0;
}

void nvme_ctrl_destroy(struct nvme_ctrl *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void nvme_ctrl_mmio_read(struct nvme_ctrl *c, uint32_t off, void *data,
			 uint32_t len)
{
	uint8_t *p = data;

	memset(data, 0, len);
	if (len > 8 || off >= NVME_REG_DB || len > NVME_REG_DB - off)
		return;
	pthread_mutex_lock(&c->lock);
	while (len) {
		uint32_t sub = off & 3u, n = min_u32(4 - sub, len);
		uint32_t v = nvme_regs_read(c, off & ~3u);

		memcpy(p, (uint8_t *)&v + sub, n);
		p += n;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&c->lock);
}

static void regs_write(struct nvme_ctrl *c, uint32_t off, const uint8_t *p,
		       uint32_t len)
{
	while (len) {
		uint32_t dw = off & ~3u, sub = off & 3u, n = min_u32(4 - sub, len);
		uint32_t v = dw < NVME_REG_END ? nvme_reg(c, dw) : 0;

		memcpy((uint8_t *)&v + sub, p, n);
		nvme_regs_write(c, dw, v);
		p += n;
		off += n;
		len -= n;
	}
}

void nvme_ctrl_mmio_write(struct nvme_ctrl *c, uint32_t off,
			  const void *data, uint32_t len)
{
	uint32_t v[2] = { 0, 0 };

	if (len > 8 || off >= NVME_CTRL_MMIO_SIZE ||
	    len > NVME_CTRL_MMIO_SIZE - off)
		return;
	pthread_mutex_lock(&c->lock);
	if (off < NVME_REG_DB) {
		regs_write(c, off, data, min_u32(len, NVME_REG_DB - off));
	} else if ((len == 4 || len == 8) && IS_ALIGNED(off, len)) {
		memcpy(v, data, len);
		nvme_doorbell(c, off, v[0]);
		if (len == 8)
			nvme_doorbell(c, off + 4, v[1]);
	} else {
		log_ratelimited(LOG_WARN, c->name,
				"%u-byte doorbell write at 0x%x dropped", len, off);
	}
	pthread_mutex_unlock(&c->lock);
}

void nvme_ctrl_set_msix(struct nvme_ctrl *c, bool on)
{
	pthread_mutex_lock(&c->lock);
	c->msix = on;
	nvme_irq_update(c);
	pthread_mutex_unlock(&c->lock);
}

void nvme_ctrl_reset(struct nvme_ctrl *c)
{
	pthread_mutex_lock(&c->lock);
	nvme_regs_reset(c);
	nvme_queues_reset(c);
	pthread_mutex_unlock(&c->lock);
}

void nvme_ctrl_get_stats(struct nvme_ctrl *c, struct nvme_ctrl_stats *out)
{
	uint32_t csts;

	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	csts = nvme_reg(c, NVME_REG_CSTS);
	out->ready = csts & NVME_CSTS_RDY;
	out->fatal = csts & NVME_CSTS_CFS;
	out->intx = c->intx_level;
	pthread_mutex_unlock(&c->lock);
}
