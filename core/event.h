/* SPDX-License-Identifier: MIT */
/*
 * VM events for whoever watches the VMM from outside (the API's
 * GET /api/v1/iovmm.events): a device that needs a reset, a vhost-user back
 * end lost or back, the guest's end. Any thread posts; readers wait for
 * events newer than the last sequence number they saw.
 *
 * One bounded ring per process (iovmm runs one VM per process): when it is
 * full the oldest event goes, and a reader that falls behind sees a gap in
 * the sequence numbers ("dropped" tells it how many). Posting never blocks
 * on a reader and never allocates, so a device may post from its data path
 * (callers rate-limit as they do their log lines).
 */
#ifndef IOVMM_EVENT_H
#define IOVMM_EVENT_H

#include <stdint.h>

#define EVENT_RING_SIZE 128
#define EVENT_TYPE_LEN 32
#define EVENT_SOURCE_LEN 32
#define EVENT_DETAIL_LEN 160

struct event {
	uint64_t seq;     /* 1, 2, ...: never reused */
	uint64_t time_ms; /* CLOCK_REALTIME, milliseconds */
	char type[EVENT_TYPE_LEN];     /* e.g. "device-needs-reset" */
	char source[EVENT_SOURCE_LEN]; /* device or module name */
	char detail[EVENT_DETAIL_LEN]; /* one human sentence */
};

__attribute__((format(printf, 3, 4)))
void event_post(const char *type, const char *source, const char *fmt, ...);

/*
 * Copy up to max events with seq > after into out (oldest first). With none
 * available wait up to timeout_ms (0: do not wait) for one. Returns how many
 * were copied; *dropped is how many newer than `after` were already
 * overwritten. *last is the newest sequence number posted so far.
 */
unsigned event_wait(uint64_t after, int timeout_ms, struct event *out,
		    unsigned max, uint64_t *dropped, uint64_t *last);

#endif
