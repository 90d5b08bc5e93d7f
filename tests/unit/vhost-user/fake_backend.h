/* SPDX-License-Identifier: MIT */
/*
 * A scriptable vhost-user back end for the front-end tests: a thread that
 * serves one connection at a time through the real dispatcher
 * (vhu_dispatch), records every request, and can misbehave on cue
 * (hang up, send a malformed reply, stay silent, offer fewer features).
 * Server mode listens on a path (for a client front-end); connect mode
 * keeps connecting to a path (for a server front-end).
 */
#ifndef IOVMM_TEST_FAKE_BACKEND_H
#define IOVMM_TEST_FAKE_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vhost-user/proto.h"

#define FB_MAX_LOG 512
#define FB_MAX_VRINGS 64

struct fb {
	/* Set before fb_start(); fb->lock guards them afterwards too. */
	char path[108];
	bool connect_mode;        /* connect to path instead of listening */
	uint64_t features;        /* GET_FEATURES answer */
	uint64_t protocol;        /* GET_PROTOCOL_FEATURES answer */
	uint64_t queue_num;       /* GET_QUEUE_NUM answer */
	uint64_t max_mem_slots;   /* GET_MAX_MEM_SLOTS answer */
	uint32_t vring_base;      /* GET_VRING_BASE answer */
	/* Misbehaviour, one-shot: cleared when it fires (0 = off). */
	uint32_t hangup_at;       /* close the connection instead of handling */
	uint32_t bad_reply_at;    /* answer with a malformed ack/reply */
	uint32_t silent_at;       /* swallow the request, never answer */
	bool refuse;              /* close every new connection at once */
	bool inflight_eventfd;    /* answer GET_INFLIGHT_FD with an eventfd */

	/* Recorded (fb->lock). */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t log[FB_MAX_LOG]; /* request ids in arrival order */
	uint32_t log_flags[FB_MAX_LOG];
	unsigned nlog;
	unsigned connections;     /* accepted/connected so far */
	unsigned hangups;         /* connections that ended */
	bool connected;
	unsigned dispatch_errors; /* requests the real validator refused */
	uint64_t acked_features, acked_protocol, status;
	struct vhu_mem_table mem;
	unsigned mem_fds;         /* fds received with the last mem message */
	int mem_fd;               /* kept from SET_MEM_TABLE / ADD_MEM_REG */
	struct vhu_mem_region added[8];
	unsigned nadded;
	uint32_t vring_num[FB_MAX_VRINGS];
	uint32_t vring_base_set[FB_MAX_VRINGS];
	struct vhu_vring_addr vring_addr[FB_MAX_VRINGS];
	int kick_fd[FB_MAX_VRINGS], call_fd[FB_MAX_VRINGS];
	int enabled[FB_MAX_VRINGS]; /* -1 never set */
	struct vhu_inflight inflight_req;  /* last GET_INFLIGHT_FD request */
	int inflight_made;        /* memfd we answered GET_INFLIGHT_FD with */
	int inflight_got;         /* fd of the last SET_INFLIGHT_FD */
	struct vhu_inflight inflight_set;

	/* Private. */
	pthread_t thread;
	int listen_fd;
	int sock;
	bool stop;
	struct vhu_state st;
};

/* Defaults: VERSION_1 | PROTOCOL_FEATURES | EVENT_IDX | MRG_RXBUF, protocol
 * MQ | REPLY_ACK | STATUS, 8 queue pairs, 8 slots. */
void fb_init(struct fb *fb, const char *path);
/* Listen (or start connecting) and serve in a thread. */
void fb_start(struct fb *fb);
/* Stop the thread, close everything, unlink the path (server mode). */
void fb_stop(struct fb *fb);
/* Hang up the current connection (as if the process died). */
void fb_hangup(struct fb *fb);

/* Wait until `pred` holds (checked under the lock), up to ms. */
bool fb_wait(struct fb *fb, bool (*pred)(struct fb *fb, void *arg),
	     void *arg, int ms);
/* Index of the n-th (0-based) occurrence of request id in the log, or -1. */
int fb_find(struct fb *fb, uint32_t id, unsigned nth);
/* How many times id was received. */
unsigned fb_count(struct fb *fb, uint32_t id);
/* Forget the log (not the other records). */
void fb_clear_log(struct fb *fb);

#endif
