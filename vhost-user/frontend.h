/* SPDX-License-Identifier: MIT */
/*
 * The VMM side (front-end) of one vhost-user connection (QEMU
 * docs/interop/vhost-user.rst): the socket (client or server), the
 * handshake, the guest memory table, vring start/stop, and reconnection.
 * It knows nothing about PCI or the device type: a device model (e.g.
 * vhost-user/net.c) tells it which rings to start and with what.
 *
 * Life of a connection:
 *   connect (client) or accept (server)
 *   -> handshake: GET_FEATURES (VERSION_1 required, and every feature the
 *      guest already negotiated), GET/SET_PROTOCOL_FEATURES (the wanted set
 *      the back end offers: MQ, REPLY_ACK, CONFIG, CONFIGURE_MEM_SLOTS,
 *      INFLIGHT_SHMFD, STATUS), GET_QUEUE_NUM (MQ), GET_MAX_MEM_SLOTS
 *      (CONFIGURE_MEM_SLOTS), SET_OWNER
 *   -> ops->connected(): the device may now call vhu_fe_start()
 *   -> vhu_fe_start(): the ring hand-over shared with the kernel vhost
 *      transport (vhost.h, here as messages): SET_FEATURES, the memory table (SET_MEM_TABLE, or
 *      ADD_MEM_REG per region), GET/SET_INFLIGHT_FD, per ring
 *      SET_VRING_NUM/BASE/ADDR/CALL/KICK, SET_VRING_ENABLE, SET_STATUS
 *   -> vhu_fe_stop() on a device reset: SET_VRING_ENABLE 0 and
 *      GET_VRING_BASE per ring (the back end stops touching guest memory).
 * With REPLY_ACK every request without a reply carries NEED_REPLY, so a
 * back end that refuses anything is noticed at once.
 *
 * When the back end goes away (EOF/EPOLLHUP seen by the I/O thread, a
 * reply that fails validation, a timeout), the connection is dropped,
 * ops->disconnected() runs (I/O thread) and the front-end retries with
 * back-off (client: connect every 10 ms doubling to 1 s, forever; server:
 * the listening socket stays open). The guest keeps running meanwhile. On
 * reconnection everything is sent again; the device supplies ring bases
 * (the split ring's used index read from guest memory) and the inflight
 * region (kept across connections) lets a back end that tracks inflight
 * descriptors resubmit them.
 *
 * Locking: every field is guarded by *cfg->lock, the device's lock. The
 * vhu_fe_* calls below need it held; the front-end's I/O thread handlers
 * take it and call ops with it held. Requests are synchronous (a reply
 * waits at most VHU_FE_REPLY_TIMEOUT_MS), on whichever thread calls.
 */
#ifndef IOVMM_VHOST_USER_FRONTEND_H
#define IOVMM_VHOST_USER_FRONTEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"
#include "core/ioloop.h"
#include "vhost-user/proto.h"
#include "vhost-user/vhost.h"

struct vhu_frontend;

#define VHU_FE_MAX_VRINGS VHOST_MAX_VRINGS
#define VHU_FE_REPLY_TIMEOUT_MS 5000
#define VHU_FE_BACKOFF_MIN_MS 10
#define VHU_FE_BACKOFF_MAX_MS 1000

/* Protocol features the front-end uses when the back end offers them. */
#define VHU_FE_PROTOCOL_WANTED                                  \
	(1ULL << VHU_PROTOCOL_F_MQ |                            \
	 1ULL << VHU_PROTOCOL_F_REPLY_ACK |                     \
	 1ULL << VHU_PROTOCOL_F_CONFIG |                        \
	 1ULL << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS |           \
	 1ULL << VHU_PROTOCOL_F_INFLIGHT_SHMFD |                \
	 1ULL << VHU_PROTOCOL_F_STATUS)

struct vhu_frontend_ops {
	/*
	 * A back end reconnected and the handshake passed (I/O thread, lock
	 * held). The device starts its rings here if the driver is running.
	 */
	void (*connected)(void *opaque);
	/* The back end went away (I/O thread, lock held). */
	void (*disconnected)(void *opaque);
};

struct vhu_frontend_config {
	const char *path;          /* AF_UNIX socket path; borrowed */
	bool server;               /* listen and accept instead of connect */
	const char *name;          /* for logs; borrowed */
	unsigned nr_vrings;        /* rings the device may start, 1..64 */
	unsigned nr_pairs;         /* > 1: MQ and GET_QUEUE_NUM >= this */
	/*
	 * Virtio features the device passes through to the back end. A back
	 * end must offer VERSION_1, and a reconnecting one every feature of
	 * this mask the first back end offered (the guest may use them).
	 */
	uint64_t features;
	struct gmem *mem;          /* borrowed */
	struct ioloop *io;         /* borrowed; NULL: no reconnection (tests) */
	pthread_mutex_t *lock;     /* borrowed, see "Locking"; used from vhu_fe_run() */
	const struct vhu_frontend_ops *ops;
	void *opaque;
	int timeout_ms;            /* reply timeout; 0: VHU_FE_REPLY_TIMEOUT_MS
	                            * times IOVMM_TIME_SCALE (frontend.c) */
	/*
	 * Server mode: how long vhu_fe_create() waits for the first back end
	 * (<= 0: forever). The guest's feature set comes from the first back
	 * end, so a server waits for it, as QEMU does by default.
	 */
	int accept_timeout_ms;
	/*
	 * Server mode: an eventfd (borrowed) that, once readable, ends that
	 * wait with -ECANCELED (the user gave up: Ctrl-C). -1 or 0: none
	 * (0 so that zero-initialised configs have none; stdin is no eventfd).
	 */
	int cancel_fd;
};

/* Counters for tests and logs (read with the lock held). */
struct vhu_fe_stats {
	uint64_t connects;         /* successful handshakes */
	uint64_t disconnects;
	uint64_t attempts;         /* connection attempts */
	uint64_t starts;           /* successful vhu_fe_start() */
};

/*
 * Create the front-end and make the first connection (client: connect;
 * server: bind, listen, and wait for a back end), including the handshake.
 * No callback runs and cfg->lock is not used until vhu_fe_run(), so the
 * device can create itself (and its lock) from the back end's features.
 * On failure a one-line reason goes to err:
 *   -EINVAL        bad cfg (path too long, nr_vrings...)
 *   -ENOENT        client: no socket at path
 *   -ECONNREFUSED  client: nobody listens there
 *   -EADDRINUSE    server: path exists and is not a stale socket
 *   -ETIMEDOUT     server: no back end within accept_timeout_ms
 *   -ECANCELED     server: cfg->cancel_fd was signalled while waiting
 *   -EPROTONOSUPPORT  the back end lacks VERSION_1 (or MQ for nr_pairs)
 *   -errno         socket errors, protocol errors (-EBADMSG, -EPROTO...)
 */
int vhu_fe_create(const struct vhu_frontend_config *cfg,
		  struct vhu_frontend **out, char *err, size_t errlen);
/*
 * From now on watch the connection on cfg->io and reconnect when it drops
 * (cfg->lock must be initialised). Without the lock held. 0 or -errno
 * (ioloop full).
 */
int vhu_fe_run(struct vhu_frontend *fe);
/*
 * Close the connection and the listening socket (unlinking its path), and
 * free. Call with the I/O thread stopped, without the lock. Idempotent on
 * NULL.
 */
void vhu_fe_destroy(struct vhu_frontend *fe);

/* Features the first back end offered (fixed for the VM's lifetime). */
uint64_t vhu_fe_backend_features(const struct vhu_frontend *fe);
/* Protocol features negotiated on the current (or last) connection. */
uint64_t vhu_fe_protocol_features(const struct vhu_frontend *fe);
bool vhu_fe_connected(const struct vhu_frontend *fe);
bool vhu_fe_started(const struct vhu_frontend *fe);
void vhu_fe_get_stats(const struct vhu_frontend *fe, struct vhu_fe_stats *out);

/*
 * Start the rings: features are the driver's (filtered to cfg->features
 * and the back end's offer), status the virtio device status to report
 * (SET_STATUS). Lock held. 0, or -ENOTCONN (no back end: the rings start
 * from ops->connected() later), -EINVAL (bad rings), or a protocol error
 * (the connection is then dropped and retried).
 */
int vhu_fe_start(struct vhu_frontend *fe, uint64_t features,
		 const struct vhost_ring *rings, unsigned nr, uint8_t status);
/*
 * Stop every started ring (SET_VRING_ENABLE 0, GET_VRING_BASE) and tell
 * the back end the device reset (SET_STATUS 0). bases (may be NULL, else
 * VHU_FE_MAX_VRINGS entries, indexed by vring) receive GET_VRING_BASE's
 * answers. keep_inflight false forgets the inflight region (a device
 * reset: the next start has nothing to resubmit). Lock held. 0 or the
 * error that dropped the connection.
 */
int vhu_fe_stop(struct vhu_frontend *fe, uint16_t *bases, bool keep_inflight);
/* SET_VRING_ENABLE on a started ring (e.g. MQ VQ_PAIRS_SET). Lock held. */
int vhu_fe_vring_enable(struct vhu_frontend *fe, uint32_t index, bool on);
/*
 * Drop the connection as if the back end had gone (tests, and device
 * models that find the back end misbehaving). Lock held. Does not call
 * ops->disconnected().
 */
void vhu_fe_disconnect(struct vhu_frontend *fe, const char *why);

#endif
