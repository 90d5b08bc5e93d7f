// SPDX-License-Identifier: MIT
/* The VM event ring (core/event.h). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/event.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* CLOCK_MONOTONIC */
	pthread_once_t once;
	uint64_t next;           /* lock: seq of the next event */
	struct event ring[EVENT_RING_SIZE]; /* lock: seq % size */
} ev = { .lock = PTHREAD_MUTEX_INITIALIZER, .once = PTHREAD_ONCE_INIT,
	 .next = 1 };

static void event_init_cond(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&ev.cond, &a);
	pthread_condattr_destroy(&a);
}

void event_post(const char *type, const char *source, const char *fmt, ...)
{
	struct timespec now;
	struct event *e;
	va_list ap;

	pthread_once(&ev.once, event_init_cond);
	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&ev.lock);
	e = &ev.ring[ev.next % EVENT_RING_SIZE];
	memset(e, 0, sizeof(*e));
	e->seq = ev.next++;
	e->time_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	snprintf(e->type, sizeof(e->type), "%s", type);
	snprintf(e->source, sizeof(e->source), "%s", source ? source : "");
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	pthread_cond_broadcast(&ev.cond);
	pthread_mutex_unlock(&ev.lock);
}

unsigned event_wait(uint64_t after, int timeout_ms, struct event *out,
		    unsigned max, uint64_t *dropped, uint64_t *last)
{
	struct timespec dl;
	uint64_t oldest, seq;
	unsigned n = 0;

	pthread_once(&ev.once, event_init_cond);
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&ev.lock);
	while (ev.next - 1 <= after && timeout_ms > 0 &&
	       pthread_cond_timedwait(&ev.cond, &ev.lock, &dl) != ETIMEDOUT)
		;
	oldest = ev.next > EVENT_RING_SIZE ? ev.next - EVENT_RING_SIZE : 1;
	seq = after + 1 > oldest ? after + 1 : oldest;
	*dropped = seq - (after + 1);
	for (; seq < ev.next && n < max; seq++)
		out[n++] = ev.ring[seq % EVENT_RING_SIZE];
	*last = ev.next - 1;
	pthread_mutex_unlock(&ev.lock);
	return n;
}
