/* SPDX-License-Identifier: MIT */
/*
 * A front end for back-end tests: records every frame the back end delivers
 * (on the I/O thread) and refuses frames while it has no credits, so tests
 * can exercise back-pressure exactly like a guest with no RX buffers.
 */
#ifndef NET_TEST_UTIL_H
#define NET_TEST_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emul-devices/net/backend.h"

#define FE_MAX_FRAMES 4096

struct fe_frame {
	size_t len;
	uint8_t *data;
};

struct test_fe {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	long credits;       /* < 0: unlimited */
	unsigned refusals;  /* -EAGAIN answers so far */
	unsigned nframes;   /* frames recorded */
	unsigned long total;/* frames accepted, including unrecorded ones */
	bool record;
	struct fe_frame frames[FE_MAX_FRAMES];
};

static inline void fe_init(struct test_fe *fe, long credits)
{
	memset(fe, 0, sizeof(*fe));
	pthread_mutex_init(&fe->lock, NULL);
	pthread_cond_init(&fe->cond, NULL);
	fe->credits = credits;
	fe->record = true;
}

static inline void fe_fini(struct test_fe *fe)
{
	for (unsigned i = 0; i < fe->nframes; i++)
		free(fe->frames[i].data);
	pthread_mutex_destroy(&fe->lock);
	pthread_cond_destroy(&fe->cond);
}

static inline int fe_rx(void *opaque, const struct iovec *iov, int iovcnt,
			size_t len)
{
	struct test_fe *fe = opaque;
	int ret = 0;

	pthread_mutex_lock(&fe->lock);
	if (fe->credits == 0) {
		fe->refusals++;
		ret = -EAGAIN;
		goto out;
	}
	if (fe->credits > 0)
		fe->credits--;
	fe->total++;
	if (fe->record && fe->nframes < FE_MAX_FRAMES) {
		struct fe_frame *f = &fe->frames[fe->nframes++];
		size_t off = 0;

		f->len = len;
		f->data = malloc(len ? len : 1);
		for (int i = 0; i < iovcnt; i++) {
			memcpy(f->data + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
	}
out:
	pthread_cond_broadcast(&fe->cond);
	pthread_mutex_unlock(&fe->lock);
	return ret;
}

static inline void fe_add_credits(struct test_fe *fe, long n)
{
	pthread_mutex_lock(&fe->lock);
	fe->credits = n < 0 ? -1 : fe->credits + n;
	pthread_mutex_unlock(&fe->lock);
}

/* Wait until total >= n (or refusals >= r when r != 0); false on timeout. */
static inline bool fe_wait(struct test_fe *fe, unsigned long n, unsigned r,
			   int timeout_ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&fe->lock);
	for (;;) {
		ok = r ? fe->refusals >= r : fe->total >= n;
		if (ok || pthread_cond_timedwait(&fe->cond, &fe->lock, &ts))
			break;
	}
	ok = r ? fe->refusals >= r : fe->total >= n;
	pthread_mutex_unlock(&fe->lock);
	return ok;
}

static inline unsigned long fe_total(struct test_fe *fe)
{
	unsigned long n;

	pthread_mutex_lock(&fe->lock);
	n = fe->total;
	pthread_mutex_unlock(&fe->lock);
	return n;
}

/* An Ethernet frame whose payload starts with seq and is filled from it. */
static inline void fe_make_frame(uint8_t *buf, size_t len, uint32_t seq)
{
	static const uint8_t hdr[14] = {
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56,   /* dst */
		0x52, 0x54, 0x00, 0xab, 0xcd, 0xef,   /* src */
		0x88, 0xb5,                           /* local experimental */
	};

	memcpy(buf, hdr, len < 14 ? len : 14);
	for (size_t i = 14; i < len; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
	if (len >= 18)
		memcpy(buf + 14, &seq, 4);
}

static inline uint32_t fe_frame_seq(const struct fe_frame *f, size_t off)
{
	uint32_t seq;

	memcpy(&seq, f->data + off + 14, 4);
	return seq;
}

#endif
