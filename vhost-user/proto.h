/* SPDX-License-Identifier: MIT */
/*
 * vhost-user wire protocol (QEMU docs/interop/vhost-user.rst): message
 * layouts, one table describing every message, socket I/O with SCM_RIGHTS,
 * and a validating dispatcher.
 *
 * One X-macro list per channel is the single source of truth. Each row says:
 *   UPPER, lower, id      the request id, enum VHU_<UPPER>, handler member
 *                         `lower` in struct vhu_handlers
 *   request size rule     EXACT(n) | EXACT_FN(n, check) | VAR(min, max, check)
 *   request fd rule       FDS_0 | FDS_1 | FDS_REGIONS (== nregions) |
 *                         FDS_NOFD (1, or 0 when VHU_VRING_NOFD is set in the
 *                         u64) | FDS_OPT (0 or 1; the dispatcher closes it)
 *   vring index field     VQ_NONE | VQ_STATE | VQ_ADDR | VQ_U64 (bits 0-7);
 *                         checked against vhu_state.max_vrings
 *   reply rule            ACK (no reply body; a REPLY_ACK u64 when the
 *                         request has NEED_REPLY and PROTOCOL_F_REPLY_ACK is
 *                         negotiated) | REPLY(size rule, fd rule) (always)
 *   requirement           PF_NONE | PF(bit) (protocol feature negotiated) |
 *                         PF_OFFERED (GET_FEATURES offered
 *                         VHU_F_PROTOCOL_FEATURES) | PF_NEGOTIATED
 *                         (SET_PROTOCOL_FEATURES was accepted)
 *   state                 ANY | OWNER (after SET_OWNER) | MEM (after
 *                         SET_OWNER and a memory table)
 * proto.c expands the lists into the descriptor tables; the rule macros are
 * defined there only. Validation happens once, before any handler runs.
 *
 * Direction: the main channel (the socket the front-end connects or
 * accepts) carries front-end requests and back-end replies; the back-end
 * request channel (VHOST_USER_SET_BACKEND_REQ_FD, formerly SLAVE_REQ_FD)
 * carries back-end requests and front-end replies. A request never has
 * VHU_FLAG_REPLY; a reply always has it, with the request's id.
 *
 * Unsupported on purpose (rejected as unknown, -ENOSYS): the crypto session
 * messages (26, 27) and anything newer than VHOST_USER_GET_STATUS.
 */
#ifndef IOVMM_VHOST_USER_PROTO_H
#define IOVMM_VHOST_USER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- header ------------------------------------------------------------- */

#define VHU_HDR_SIZE 12u
#define VHU_VERSION 0x1u
#define VHU_FLAG_VERSION_MASK 0x3u
#define VHU_FLAG_REPLY (1u << 2)
#define VHU_FLAG_NEED_REPLY (1u << 3)
/* Flag bits a peer may set; anything else is a protocol error. */
#define VHU_FLAG_KNOWN (VHU_FLAG_VERSION_MASK | VHU_FLAG_REPLY | VHU_FLAG_NEED_REPLY)

/* Largest payload the reader accepts (every valid message is far smaller). */
#define VHU_MAX_PAYLOAD 4096u
/* Most fds one message may carry (SET_MEM_TABLE: one per region). */
#define VHU_MAX_FDS 8
/* SET_MEM_TABLE regions (VHOST_MEMORY_BASELINE_NREGIONS in the spec). */
#define VHU_MAX_REGIONS 8
/* GET_CONFIG/SET_CONFIG payload bytes (QEMU's VHOST_USER_MAX_CONFIG_SIZE). */
#define VHU_MAX_CONFIG_SIZE 256u
/* vring index space of the u64 KICK/CALL/ERR payloads: bits 0-7. */
#define VHU_MAX_VRINGS 256u
#define VHU_VRING_IDX_MASK 0xffull
#define VHU_VRING_NOFD (1ull << 8)
/* SET_VRING_ADDR flags: VHOST_VRING_F_LOG. */
#define VHU_VRING_F_LOG (1u << 0)
/* Largest SET_VRING_NUM (virtio 1.2 §2.6/§2.7: Queue Size <= 32768). */
#define VHU_MAX_VRING_SIZE 32768u

/* How long a started message may take to arrive or drain (ms). */
#define VHU_STALL_TIMEOUT_MS 1000
/* Default reply timeout of vhu_call() (vhu_state.timeout_ms). */
#define VHU_REPLY_TIMEOUT_MS 5000

/* Virtio feature bit 30 reused by vhost-user ("Communication"). */
#define VHU_F_PROTOCOL_FEATURES 30

/* Protocol feature bits ("Protocol features"). */
enum vhu_protocol_feature {
	VHU_PROTOCOL_F_MQ = 0,
	VHU_PROTOCOL_F_LOG_SHMFD = 1,
	VHU_PROTOCOL_F_RARP = 2,
	VHU_PROTOCOL_F_REPLY_ACK = 3,
	VHU_PROTOCOL_F_MTU = 4,
	VHU_PROTOCOL_F_BACKEND_REQ = 5,
	VHU_PROTOCOL_F_CROSS_ENDIAN = 6,
	VHU_PROTOCOL_F_CRYPTO_SESSION = 7,
	VHU_PROTOCOL_F_PAGEFAULT = 8,
	VHU_PROTOCOL_F_CONFIG = 9,
	VHU_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VHU_PROTOCOL_F_HOST_NOTIFIER = 11,
	VHU_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VHU_PROTOCOL_F_RESET_DEVICE = 13,
	VHU_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VHU_PROTOCOL_F_STATUS = 16,
};

/* --- the message table -------------------------------------------------- */

/* Main channel: front-end requests ("Front-end message types"). */
#define VHU_MAIN_MSGS(X)                                                        \
	X(GET_FEATURES, get_features, 1, EXACT(0), FDS_0, VQ_NONE,              \
	  REPLY(EXACT(8), FDS_0), PF_NONE, ANY)                                 \
	X(SET_FEATURES, set_features, 2, EXACT_FN(8, chk_features), FDS_0,     \
	  VQ_NONE, ACK, PF_NONE, OWNER)                                         \
	X(SET_OWNER, set_owner, 3, EXACT(0), FDS_0, VQ_NONE, ACK, PF_NONE, ANY) \
	X(RESET_OWNER, reset_owner, 4, EXACT(0), FDS_0, VQ_NONE, ACK, PF_NONE,  \
	  OWNER)                                                                \
	X(SET_MEM_TABLE, set_mem_table, 5,                                      \
	  VAR(8, VHU_MEM_TABLE_SIZE(VHU_MAX_REGIONS), chk_mem_table),           \
	  FDS_REGIONS, VQ_NONE, ACK, PF_NONE, OWNER)                            \
	X(SET_LOG_BASE, set_log_base, 6, EXACT(16), FDS_1, VQ_NONE,             \
	  REPLY(EXACT(8), FDS_0), PF(LOG_SHMFD), OWNER)                         \
	X(SET_LOG_FD, set_log_fd, 7, EXACT(0), FDS_1, VQ_NONE, ACK, PF_NONE,    \
	  OWNER)                                                                \
	X(SET_VRING_NUM, set_vring_num, 8, EXACT_FN(8, chk_vring_num), FDS_0,   \
	  VQ_STATE, ACK, PF_NONE, OWNER)                                        \
	X(SET_VRING_ADDR, set_vring_addr, 9, EXACT_FN(40, chk_vring_addr),      \
	  FDS_0, VQ_ADDR, ACK, PF_NONE, MEM)                                    \
	X(SET_VRING_BASE, set_vring_base, 10, EXACT(8), FDS_0, VQ_STATE, ACK,   \
	  PF_NONE, OWNER)                                                       \
	X(GET_VRING_BASE, get_vring_base, 11, EXACT(8), FDS_0, VQ_STATE,        \
	  REPLY(EXACT_FN(8, chk_same_vring), FDS_0), PF_NONE, OWNER)            \
	X(SET_VRING_KICK, set_vring_kick, 12, EXACT_FN(8, chk_vring_fd),        \
	  FDS_NOFD, VQ_U64, ACK, PF_NONE, OWNER)                                \
	X(SET_VRING_CALL, set_vring_call, 13, EXACT_FN(8, chk_vring_fd),        \
	  FDS_NOFD, VQ_U64, ACK, PF_NONE, OWNER)                                \
	X(SET_VRING_ERR, set_vring_err, 14, EXACT_FN(8, chk_vring_fd),          \
	  FDS_NOFD, VQ_U64, ACK, PF_NONE, OWNER)                                \
	X(GET_PROTOCOL_FEATURES, get_protocol_features, 15, EXACT(0), FDS_0,    \
	  VQ_NONE, REPLY(EXACT(8), FDS_0), PF_OFFERED, ANY)                     \
	X(SET_PROTOCOL_FEATURES, set_protocol_features, 16,                     \
	  EXACT_FN(8, chk_protocol_features), FDS_0, VQ_NONE, ACK, PF_OFFERED,  \
	  ANY)                                                                  \
	X(GET_QUEUE_NUM, get_queue_num, 17, EXACT(0), FDS_0, VQ_NONE,           \
	  REPLY(EXACT(8), FDS_0), PF(MQ), ANY)                                  \
	X(SET_VRING_ENABLE, set_vring_enable, 18, EXACT_FN(8, chk_vring_bool),  \
	  FDS_0, VQ_STATE, ACK, PF_NEGOTIATED, OWNER)                           \
	X(SEND_RARP, send_rarp, 19, EXACT(8), FDS_0, VQ_NONE, ACK, PF(RARP),    \
	  OWNER)                                                                \
	X(NET_SET_MTU, net_set_mtu, 20, EXACT(8), FDS_0, VQ_NONE, ACK, PF(MTU), \
	  OWNER)                                                                \
	X(SET_BACKEND_REQ_FD, set_backend_req_fd, 21, EXACT(0), FDS_1,          \
	  VQ_NONE, ACK, PF(BACKEND_REQ), ANY)                                   \
	X(IOTLB_MSG, iotlb_msg, 22, EXACT(32), FDS_0, VQ_NONE, ACK, PF_NONE,    \
	  OWNER)                                                                \
	X(SET_VRING_ENDIAN, set_vring_endian, 23, EXACT_FN(8, chk_vring_bool),  \
	  FDS_0, VQ_STATE, ACK, PF(CROSS_ENDIAN), OWNER)                        \
	X(GET_CONFIG, get_config, 24,                                           \
	  VAR(12, 12 + VHU_MAX_CONFIG_SIZE, chk_config), FDS_0, VQ_NONE,        \
	  REPLY(VAR(0, 12 + VHU_MAX_CONFIG_SIZE, chk_config_reply), FDS_0),    \
	  PF(CONFIG), OWNER)                                                    \
	X(SET_CONFIG, set_config, 25,                                           \
	  VAR(12, 12 + VHU_MAX_CONFIG_SIZE, chk_config), FDS_0, VQ_NONE, ACK,   \
	  PF(CONFIG), OWNER)                                                    \
	X(POSTCOPY_ADVISE, postcopy_advise, 28, EXACT(0), FDS_0, VQ_NONE,       \
	  REPLY(EXACT(0), FDS_1), PF(PAGEFAULT), OWNER)                         \
	X(POSTCOPY_LISTEN, postcopy_listen, 29, EXACT(0), FDS_0, VQ_NONE, ACK,  \
	  PF(PAGEFAULT), OWNER)                                                 \
	X(POSTCOPY_END, postcopy_end, 30, EXACT(0), FDS_0, VQ_NONE,             \
	  REPLY(EXACT(8), FDS_0), PF(PAGEFAULT), OWNER)                         \
	X(GET_INFLIGHT_FD, get_inflight_fd, 31, EXACT_FN(24, chk_inflight_req), \
	  FDS_0, VQ_NONE, REPLY(EXACT_FN(24, chk_inflight), FDS_1),             \
	  PF(INFLIGHT_SHMFD), OWNER)                                            \
	X(SET_INFLIGHT_FD, set_inflight_fd, 32, EXACT_FN(24, chk_inflight),     \
	  FDS_1, VQ_NONE, ACK, PF(INFLIGHT_SHMFD), OWNER)                       \
	X(GPU_SET_SOCKET, gpu_set_socket, 33, EXACT(0), FDS_1, VQ_NONE, ACK,    \
	  PF_NONE, OWNER)                                                       \
	X(RESET_DEVICE, reset_device, 34, EXACT(0), FDS_0, VQ_NONE, ACK,        \
	  PF(RESET_DEVICE), OWNER)                                              \
	X(VRING_KICK, vring_kick, 35, EXACT_FN(8, chk_vring_zero), FDS_0,       \
	  VQ_STATE, ACK, PF(INBAND_NOTIFICATIONS), OWNER)                       \
	X(GET_MAX_MEM_SLOTS, get_max_mem_slots, 36, EXACT(0), FDS_0, VQ_NONE,   \
	  REPLY(EXACT(8), FDS_0), PF(CONFIGURE_MEM_SLOTS), ANY)                 \
	X(ADD_MEM_REG, add_mem_reg, 37, EXACT_FN(40, chk_mem_reg), FDS_1,       \
	  VQ_NONE, ACK, PF(CONFIGURE_MEM_SLOTS), OWNER)                         \
	X(REM_MEM_REG, rem_mem_reg, 38, EXACT_FN(40, chk_mem_reg), FDS_OPT,     \
	  VQ_NONE, ACK, PF(CONFIGURE_MEM_SLOTS), OWNER)                         \
	X(SET_STATUS, set_status, 39, EXACT_FN(8, chk_status), FDS_0, VQ_NONE,  \
	  ACK, PF(STATUS), OWNER)                                               \
	X(GET_STATUS, get_status, 40, EXACT(0), FDS_0, VQ_NONE,                 \
	  REPLY(EXACT_FN(8, chk_status), FDS_0), PF(STATUS), OWNER)

/* Back-end request channel ("Back-end message types"). */
#define VHU_BACKEND_MSGS(X)                                                     \
	X(BACKEND_IOTLB_MSG, backend_iotlb_msg, 1, EXACT(32), FDS_0, VQ_NONE,   \
	  ACK, PF_NONE, ANY)                                                    \
	X(BACKEND_CONFIG_CHANGE_MSG, backend_config_change_msg, 2, EXACT(0),    \
	  FDS_0, VQ_NONE, ACK, PF(CONFIG), ANY)                                 \
	X(BACKEND_VRING_HOST_NOTIFIER_MSG, backend_vring_host_notifier_msg, 3,  \
	  EXACT_FN(24, chk_vring_area), FDS_NOFD, VQ_U64, ACK,                  \
	  PF(HOST_NOTIFIER), ANY)                                               \
	X(BACKEND_VRING_CALL, backend_vring_call, 4,                            \
	  EXACT_FN(8, chk_vring_zero), FDS_0, VQ_STATE, ACK,                    \
	  PF(INBAND_NOTIFICATIONS), ANY)                                        \
	X(BACKEND_VRING_ERR, backend_vring_err, 5, EXACT_FN(8, chk_vring_zero), \
	  FDS_0, VQ_STATE, ACK, PF(INBAND_NOTIFICATIONS), ANY)

#define VHU_X_ENUM(U, l, id, ...) VHU_##U = (id),
enum vhu_main_req {
	VHU_MAIN_MSGS(VHU_X_ENUM)
	VHU_MAIN_MAX = 41, /* ids are < this */
};
enum vhu_backend_req {
	VHU_BACKEND_MSGS(VHU_X_ENUM)
	VHU_BACKEND_MAX = 6,
};
#undef VHU_X_ENUM

/* --- payloads (native byte order; layouts match the spec's C structs) --- */

struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;         /* VHU_VRING_F_LOG */
	uint64_t desc;          /* front-end virtual addresses (no IOMMU) */
	uint64_t used;
	uint64_t avail;
	uint64_t log;           /* guest physical address of the used ring */
};

struct vhu_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;         /* the front-end's mapping of the region */
	uint64_t mmap_offset;   /* offset of the region in its fd */
};

struct vhu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_mem_region regions[VHU_MAX_REGIONS];
};
/* Wire size of a SET_MEM_TABLE payload with n regions. */
#define VHU_MEM_TABLE_SIZE(n) (8u + (n) * 32u)

/* ADD_MEM_REG / REM_MEM_REG ("Single memory region description"). */
struct vhu_mem_single {
	uint64_t padding;
	struct vhu_mem_region region;
};

struct vhu_log {
	uint64_t size;
	uint64_t offset;
};

struct vhu_iotlb {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm;
	uint8_t type;
	uint8_t padding[6];
};

struct vhu_config {
	uint32_t offset;
	uint32_t size;          /* bytes in region[] */
	uint32_t flags;
	uint8_t region[VHU_MAX_CONFIG_SIZE];
};
#define VHU_CONFIG_HDR_SIZE 12u

struct vhu_vring_area {
	uint64_t u64;           /* vring index (bits 0-7) | VHU_VRING_NOFD */
	uint64_t size;
	uint64_t offset;
};

struct vhu_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t padding;       /* sizeof == 24 on the wire, as QEMU and DPDK */
};

union vhu_payload {
	uint64_t u64;
	struct vhu_vring_state state;
	struct vhu_vring_addr addr;
	struct vhu_mem_table mem;
	struct vhu_mem_single mem_reg;
	struct vhu_log log;
	struct vhu_iotlb iotlb;
	struct vhu_config config;
	struct vhu_vring_area area;
	struct vhu_inflight inflight;
	uint8_t raw[VHU_MAX_PAYLOAD];
};

/*
 * One message. On the wire: the 12 header bytes, then `size` payload bytes.
 * In memory the payload is 8-byte aligned (the `pad` word is never sent), so
 * no packed structs and no unaligned accesses are needed.
 */
struct vhu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint32_t pad;
	union vhu_payload payload;
};

/* --- session state ------------------------------------------------------ */

enum vhu_chan {
	VHU_CHAN_MAIN,          /* front-end requests, back-end replies */
	VHU_CHAN_BACKEND,       /* back-end requests, front-end replies */
};

/*
 * What the validator needs to know about one channel's session. The
 * dispatcher (receiving side) and vhu_call() (sending side) both update it
 * from successful exchanges, so the two ends of a socket agree on it:
 *   GET_FEATURES reply -> features_offered; SET_FEATURES -> features;
 *   GET_PROTOCOL_FEATURES reply -> protocol_offered;
 *   SET_PROTOCOL_FEATURES -> protocol_features, protocol_negotiated;
 *   SET_OWNER -> owner; SET_MEM_TABLE / ADD_MEM_REG -> mem_set;
 *   RESET_OWNER / RESET_DEVICE -> mem_set = false.
 * For the back-end channel, copy protocol_features (and set
 * protocol_negotiated) from the main channel's state after vhu_state_init.
 * Not locked: one thread owns a channel.
 */
struct vhu_state {
	enum vhu_chan chan;
	int sock;                       /* borrowed */
	uint32_t max_vrings;            /* vring index bound, <= VHU_MAX_VRINGS */
	int timeout_ms;                 /* vhu_call() reply wait, -1 = forever */
	uint64_t features_offered;
	uint64_t features;
	uint64_t protocol_offered;
	uint64_t protocol_features;
	bool protocol_negotiated;
	bool owner;
	bool mem_set;
};

/* chan's defaults: max_vrings = VHU_MAX_VRINGS, timeout VHU_REPLY_TIMEOUT_MS,
 * nothing negotiated. sock is borrowed. */
void vhu_state_init(struct vhu_state *st, enum vhu_chan chan, int sock);

static inline bool vhu_has_protocol(const struct vhu_state *st,
				    enum vhu_protocol_feature f)
{
	return st->protocol_negotiated && (st->protocol_features >> f) & 1;
}

/* --- message helpers ---------------------------------------------------- */

/* Zero msg, set request id, version 1, and payload size. */
void vhu_msg_init(struct vhu_msg *msg, uint32_t request, uint32_t size);

/* "VHOST_USER_SET_MEM_TABLE"-style name, or NULL for an unknown id. */
const char *vhu_msg_name(enum vhu_chan chan, uint32_t request);

/* True when `request` on `chan` is answered with a body (GET_* etc.). */
bool vhu_msg_always_replies(enum vhu_chan chan, uint32_t request);

/* --- socket I/O ---------------------------------------------------------- */

/*
 * Send one message (header + msg->size payload bytes) with nfds fds as
 * SCM_RIGHTS on a connected AF_UNIX SOCK_STREAM socket. The fds are
 * borrowed (the kernel duplicates them). Works on blocking and non-blocking
 * sockets; never raises SIGPIPE.
 * Returns 0, or:
 *   -EINVAL      msg->size > VHU_MAX_PAYLOAD, nfds < 0 or > VHU_MAX_FDS
 *   -EPIPE / -ECONNRESET   the peer is gone
 *   -ETIMEDOUT   the socket stayed full for VHU_STALL_TIMEOUT_MS
 *   -errno       any other sendmsg()/poll() error
 * After an error the stream may hold a partial message: close it.
 */
int vhu_msg_send(int sock, const struct vhu_msg *msg, const int *fds, int nfds);

/*
 * Receive one message: the 12-byte header (with recvmsg collecting the
 * ancillary fds, MSG_CMSG_CLOEXEC), then msg->size payload bytes. Checks the
 * wire-level rules only: version == 1, no unknown flag bits, size <=
 * VHU_MAX_PAYLOAD, at most VHU_MAX_FDS fds, no truncated ancillary data.
 * Table rules (size, fd count, direction, state) are vhu_msg_validate()'s
 * and vhu_reply_validate()'s. Payload bytes past msg->size read as zero.
 *
 * fds must have room for VHU_MAX_FDS; *nfds receives the count and the
 * caller owns those fds. On any error every received fd is closed and
 * *nfds is 0.
 * Waits up to timeout_ms (-1: forever, 0: not at all) for the first byte;
 * once a message has started, the rest must follow within
 * VHU_STALL_TIMEOUT_MS. Handles EINTR and short reads.
 * Returns 0, or:
 *   -EAGAIN      timeout_ms == 0 and nothing to read (nothing consumed)
 *   -ETIMEDOUT   no message within timeout_ms, or a stalled partial message
 *   -ECONNRESET  end of file (at a message boundary or inside one)
 *   -EPROTO      bad version or unknown flag bits
 *   -EMSGSIZE    size > VHU_MAX_PAYLOAD
 *   -ENOBUFS     more than VHU_MAX_FDS fds (MSG_CTRUNC)
 *   -errno       any other recvmsg()/poll() error
 * Every error but -EAGAIN leaves the stream out of step: close it.
 */
int vhu_msg_recv_timeout(int sock, struct vhu_msg *msg, int *fds, int *nfds,
			 int timeout_ms);

/* vhu_msg_recv_timeout(sock, msg, fds, nfds, -1). */
int vhu_msg_recv(int sock, struct vhu_msg *msg, int *fds, int *nfds);

/* Close fds[0..nfds) that are >= 0 and set them to -1. */
void vhu_close_fds(int *fds, int nfds);

/* --- validation ---------------------------------------------------------- */

/*
 * Check a request on st->chan against the table and the session state:
 * known id, no VHU_FLAG_REPLY, size rule and payload checks (mem table
 * nregions <= VHU_MAX_REGIONS and sane regions, config size, vring num, ...),
 * fd count, vring index < st->max_vrings, required protocol feature, state.
 * Does not close fds. Returns 0, or:
 *   -ENOSYS      unknown request id on this channel
 *   -EPROTO      VHU_FLAG_REPLY set on a request, bad version/flag bits
 *   -EBADMSG     payload size, payload content or fd count wrong
 *   -ERANGE      vring index >= st->max_vrings
 *   -EOPNOTSUPP  a required (protocol) feature is not negotiated
 *   -EPERM       not allowed yet (before SET_OWNER / a memory table)
 */
int vhu_msg_validate(const struct vhu_state *st, const struct vhu_msg *msg,
		     int nfds);

/*
 * Check `reply` (with nfds fds) as the answer to `req` on st->chan:
 * VHU_FLAG_REPLY set, NEED_REPLY clear, same request id, and the reply
 * rule (a u64 for a REPLY_ACK; else the table's size/fd rule, e.g.
 * GET_VRING_BASE answers the same index, GET_CONFIG the requested size
 * or an empty config as the spec's error indication).
 * Returns 0, or -EPROTO (flags / id mismatch), -EBADMSG (size, content,
 * fds), -ENOSYS (req unknown). Does not close fds.
 */
int vhu_reply_validate(const struct vhu_state *st, const struct vhu_msg *req,
		       const struct vhu_msg *reply, int nfds);

/* --- dispatch (receiving requests) -------------------------------------- */

/*
 * What a handler sees. msg has passed vhu_msg_validate(). fds[0..nfds) are
 * the message's fds: a handler that keeps one sets fds[i] = -1; the
 * dispatcher closes the rest afterwards (also when the handler fails).
 * For messages that always reply, `reply` is pre-set (id, flags, and size
 * = the expected reply size: 8 for a u64, 8 for a vring state, the request's
 * size for GET_CONFIG with its config header copied, 24 for inflight) and
 * the handler fills the payload (and may lower reply->size for an error
 * GET_CONFIG). reply_fd is borrowed: sent with the reply, not closed
 * (GET_INFLIGHT_FD, POSTCOPY_ADVISE must set it).
 */
struct vhu_req {
	const struct vhu_msg *msg;
	int *fds;
	int nfds;
	struct vhu_msg *reply;
	int reply_fd;
};

/* Return 0 or -errno. A failure turns into a non-zero REPLY_ACK. */
typedef int (*vhu_handler_fn)(void *opaque, struct vhu_req *req);

/* One member per message of both channels; NULL = unsupported. */
#define VHU_X_MEMBER(U, l, ...) vhu_handler_fn l;
struct vhu_handlers {
	VHU_MAIN_MSGS(VHU_X_MEMBER)
	VHU_BACKEND_MSGS(VHU_X_MEMBER)
};
#undef VHU_X_MEMBER

/*
 * Validate a received request (vhu_msg_validate against st), run its
 * handler, then answer on st->sock: the handler's reply for messages that
 * always reply; a REPLY_ACK u64 (0 = success, 1 = failure) when the
 * request has NEED_REPLY and PROTOCOL_F_REPLY_ACK is negotiated; nothing
 * otherwise. Updates st (see struct vhu_state) after a successful handler.
 * Takes ownership of fds[0..nfds): kept ones are set to -1 by the handler,
 * every other one is closed before returning, on success and on error.
 * Returns 0, or:
 *   the vhu_msg_validate() errors (no handler ran, nothing was sent)
 *   -EOPNOTSUPP  no handler for this message (a NACK is sent if asked for)
 *   the handler's error (after the NACK, if one was asked for)
 *   -EINVAL      the handler produced a reply breaking the reply rule
 *   vhu_msg_send() errors while answering
 * A handler error on a message that always replies sends nothing; the
 * caller should then drop the connection (the peer is waiting).
 */
int vhu_dispatch(const struct vhu_handlers *h, void *opaque,
		 struct vhu_msg *msg, int *fds, int nfds, struct vhu_state *st);

/* --- calling (sending requests) ----------------------------------------- */

/*
 * Send request `req` (with borrowed fds) on st->sock after checking it
 * with vhu_msg_validate(), then, if an answer is due (the message always
 * replies, or it has VHU_FLAG_NEED_REPLY and REPLY_ACK is negotiated), wait
 * up to st->timeout_ms for it and check it with vhu_reply_validate().
 * Updates st after success (see struct vhu_state). Clears
 * VHU_FLAG_NEED_REPLY in req when no ACK is due (REPLY_ACK not negotiated,
 * or the message replies with a body), as some back ends answer it anyway.
 * reply: where the answer goes (may be NULL when only an ACK is expected).
 * reply_fd: receives the reply's fd for GET_INFLIGHT_FD/POSTCOPY_ADVISE
 * (caller owns it), else -1; may be NULL when no fd is expected.
 * Returns 0, or:
 *   vhu_msg_validate() errors for a bad request (-EBADMSG...; not sent)
 *   vhu_msg_send() / vhu_msg_recv_timeout() errors
 *   vhu_reply_validate() errors for a bad reply
 *   -EREMOTEIO   the back-end answered a REPLY_ACK with non-zero
 * After any error but a validation error of req, the connection is out of
 * step: close it.
 */
int vhu_call(struct vhu_state *st, struct vhu_msg *req, const int *fds,
	     int nfds, struct vhu_msg *reply, int *reply_fd);

#endif
