// SPDX-License-Identifier: MIT
/*
 * tap:NAME - a Linux tap device (Documentation/networking/tuntap.rst).
 *
 * The device is opened non-blocking with IFF_TAP | IFF_NO_PI and, when the
 * kernel has it, IFF_VNET_HDR with a 12-byte header (TUNSETVNETHDRSZ): the
 * flag is fixed at TUNSETIFF, before the front end says whether it speaks
 * virtio-net headers, so a front end without them gets a zero header added
 * on send and the received header stripped (with no offloads enabled the
 * kernel only hands us complete, checksummed frames, so nothing is lost).
 *
 * RX runs on the I/O thread: one read() per frame into a buffer that also
 * holds the one frame the front end refused, if any. While such a frame is
 * pending the tap fd is taken out of the epoll set (the kernel queues, then
 * drops, what arrives meanwhile: that is the back-pressure), and it goes
 * back in once net_backend_rx_ready() kicked us and the frame was taken.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "emul-devices/net/backend-impl.h"

#define TAP_RX_BUDGET 64    /* frames per wake-up, for fairness */
#define TAP_MAX_IOV 64      /* beyond this a frame is linearised first */
#define TAP_BUF_LEN (NET_MAX_FRAME + NET_VNET_HDR_LEN)

struct net_tap {
	struct net_backend be;
	int fd;             /* /dev/net/tun; owned */
	int kick_fd;        /* eventfd for rx_ready; owned */
	bool has_vnet;      /* IFF_VNET_HDR is on */
	bool kick_polled;   /* kick_fd is in the ioloop */
	/* I/O thread only: */
	bool fd_polled;     /* fd is in the ioloop */
	size_t pending;     /* bytes of the refused frame in rx_buf, 0: none */
	uint8_t *rx_buf;    /* TAP_BUF_LEN; owned */
	/* Sending thread only: */
	uint8_t *tx_buf;    /* TAP_BUF_LEN, for very fragmented frames; owned */
};

static const uint8_t tap_zero_hdr[NET_VNET_HDR_LEN];

static struct net_tap *tap_of(struct net_backend *be)
{
	return container_of(be, struct net_tap, be);
}

static int tap_send(struct net_backend *be, const struct iovec *iov,
		    int iovcnt, size_t len)
{
	struct net_tap *tap = tap_of(be);
	struct iovec v[TAP_MAX_IOV + 1];
	int n = 0;
	ssize_t ret;

	if (tap->has_vnet && !be->vnet_hdr)
		v[n++] = (struct iovec){ (void *)tap_zero_hdr, NET_VNET_HDR_LEN };
	if (iovcnt <= TAP_MAX_IOV) {
		memcpy(&v[n], iov, iovcnt * sizeof(*iov));
		n += iovcnt;
	} else {
		uint8_t *p = tap->tx_buf;

		for (int i = 0; i < iovcnt; i++) {
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
			p += iov[i].iov_len;
		}
		v[n++] = (struct iovec){ tap->tx_buf, len };
	}
	do {
		ret = writev(tap->fd, v, n);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		net_stat_add(&be->tx_dropped, 1);
		if (errno == EAGAIN)
			return 0; /* queue full: dropped like on a wire */
		log_ratelimited(LOG_WARN, be->name, "write: %m");
		return -EIO;
	}
	net_stat_add(&be->tx_frames, 1);
	net_stat_add(&be->tx_bytes, len);
	return 0;
}

/* Hand the pending frame over. true when taken (or dropped). */
static bool tap_deliver_pending(struct net_tap *tap)
{
	size_t skip = tap->has_vnet && !tap->be.vnet_hdr ? NET_VNET_HDR_LEN : 0;
	struct iovec iov = {
		.iov_base = tap->rx_buf + skip,
		.iov_len = tap->pending - skip,
	};

	if (net_backend_deliver(&tap->be, &iov, 1, iov.iov_len) == -EAGAIN)
		return false;
	tap->pending = 0;
	return true;
}

/* Deliver what is pending, then read more. false when stalled. */
static bool tap_pump(struct net_tap *tap)
{
	size_t min = tap->has_vnet ? NET_VNET_HDR_LEN : 0;

	for (int i = 0; i < TAP_RX_BUDGET; i++) {
		ssize_t n;

		if (tap->pending && !tap_deliver_pending(tap))
			return false;
		n = read(tap->fd, tap->rx_buf, TAP_BUF_LEN);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_ratelimited(LOG_WARN, tap->be.name,
						"read: %m");
			return true;
		}
		if ((size_t)n <= min) {
			net_stat_add(&tap->be.rx_dropped, 1);
			continue;
		}
		tap->pending = n;
	}
	if (tap->pending && !tap_deliver_pending(tap))
		return false;
	return true;
}

static int tap_on_fd(void *opaque, int fd, uint32_t events)
{
	struct net_tap *tap = opaque;

	if (!tap->fd_polled)
		return 0; /* stale event from before we stopped polling */
	if (!tap_pump(tap)) {
		ioloop_del(tap->be.io, tap->fd);
		tap->fd_polled = false;
	}
	return 0;
}

static int tap_on_kick(void *opaque, int fd, uint32_t events)
{
	struct net_tap *tap = opaque;
	uint64_t cnt;
	int ret;

	if (read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_ERR, tap->be.name, "eventfd read: %m");
	if (tap->fd_polled || !tap_pump(tap))
		return 0;
	ret = ioloop_add(tap->be.io, tap->fd, EPOLLIN, tap_on_fd, tap);
	if (ret < 0)
		log_ratelimited(LOG_ERR, tap->be.name,
				"cannot resume polling: %s", strerror(-ret));
	else
		tap->fd_polled = true;
	return 0;
}

static void tap_kick(struct net_backend *be)
{
	uint64_t one = 1;

	if (write(tap_of(be)->kick_fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_ratelimited(LOG_ERR, be->name, "eventfd write: %m");
}

static int tap_set_vnet_hdr(struct net_backend *be, bool enable)
{
	return enable && !tap_of(be)->has_vnet ? -EOPNOTSUPP : 0;
}

static unsigned tap_set_offloads(struct net_backend *be, unsigned offloads)
{
	/* TSO needs checksum offload (tuntap.rst, TUNSETOFFLOAD). */
	static const unsigned tries[] = {
		NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4 | NET_OFFLOAD_TSO6,
		NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4,
		NET_OFFLOAD_CSUM,
		0,
	};
	struct net_tap *tap = tap_of(be);

	if (!tap->has_vnet || !(offloads & NET_OFFLOAD_CSUM))
		offloads = 0;
	for (size_t i = 0; i < ARRAY_SIZE(tries); i++) {
		unsigned want = offloads & tries[i], flags = 0;

		if (want & NET_OFFLOAD_CSUM)
			flags |= TUN_F_CSUM;
		if (want & NET_OFFLOAD_TSO4)
			flags |= TUN_F_TSO4;
		if (want & NET_OFFLOAD_TSO6)
			flags |= TUN_F_TSO6;
		if (ioctl(tap->fd, TUNSETOFFLOAD, (unsigned long)flags) == 0)
			return want;
	}
	return 0;
}

static void tap_destroy(struct net_backend *be)
{
	struct net_tap *tap = tap_of(be);

	if (tap->fd_polled)
		ioloop_del(be->io, tap->fd);
	if (tap->kick_polled)
		ioloop_del(be->io, tap->kick_fd);
	if (tap->kick_fd >= 0)
		close(tap->kick_fd);
	if (tap->fd >= 0)
		close(tap->fd);
	free(tap->rx_buf);
	free(tap->tx_buf);
	free(tap);
}

static const struct net_backend_ops tap_ops = {
	.send = tap_send,
	.kick = tap_kick,
	.set_vnet_hdr = tap_set_vnet_hdr,
	.set_offloads = tap_set_offloads,
	.destroy = tap_destroy,
};

/* The vnet header size and no offloads, on an attached tap. */
static int tap_configure(int fd, bool has_vnet, const char *ifname, char *err,
			 size_t errlen)
{
	int hdr_len = NET_VNET_HDR_LEN, e;

	if (has_vnet && ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		e = errno;
		snprintf(err, errlen, "tap %s: TUNSETVNETHDRSZ: %s", ifname,
			 strerror(e));
		return -e;
	}
	/* Start with no offloads: the kernel completes checksums for us. */
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0 && has_vnet) {
		e = errno;
		snprintf(err, errlen, "tap %s: TUNSETOFFLOAD: %s", ifname,
			 strerror(e));
		return -e;
	}
	return 0;
}

int net_tap_open(const char *ifname, bool *has_vnet, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	unsigned int features = 0;
	int e, fd;

	*has_vnet = false;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "tap %s: /dev/net/tun: %s", ifname,
			 e == EACCES || e == EPERM ? "permission denied" :
			 e == ENOENT || e == ENODEV ?
			 "no such device (is the tun module loaded?)" :
			 strerror(e));
		return -e;
	}
	if (ioctl(fd, TUNGETFEATURES, &features) == 0 &&
	    (features & IFF_VNET_HDR))
		*has_vnet = true;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (*has_vnet ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		snprintf(err, errlen, "tap %s: %s", ifname,
			 e == EBUSY ? "device busy (opened by another process?)" :
			 e == EPERM || e == EACCES ?
			 "permission denied (needs CAP_NET_ADMIN, or a tap "
			 "created for this user)" :
			 e == EINVAL ? "cannot attach (exists but is not a tap?)" :
			 e == ENODEV || e == ENOENT ? "no such device" :
			 strerror(e));
		close(fd);
		return -e;
	}
	e = tap_configure(fd, *has_vnet, ifname, err, errlen);
	if (e < 0) {
		close(fd);
		return e;
	}
	return fd;
}

/*
 * A tap the caller opened and attached (a management layer with the
 * privilege iovmm lacks): fd is borrowed and stays the caller's; the back
 * end works on its own duplicate. Whether vnet headers are on is what the
 * caller chose at TUNSETIFF (TUNGETIFF tells). O_NONBLOCK is set on the
 * shared open file.
 */
static int tap_attach_fd(struct net_tap *tap, int fd, char *name,
			 size_t namelen, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int e, fl;

	snprintf(name, namelen, "fd %d", fd);
	tap->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (tap->fd < 0) {
		e = errno;
		snprintf(err, errlen, "tap fd=%d: %s", fd,
			 e == EBADF ? "not an open file descriptor" : strerror(e));
		return -e;
	}
	if (ioctl(tap->fd, TUNGETIFF, &ifr) < 0 ||
	    !(ifr.ifr_flags & IFF_TAP)) {
		snprintf(err, errlen,
			 "tap fd=%d: not an attached tap device (/dev/net/tun after TUNSETIFF with IFF_TAP)",
			 fd);
		return -EINVAL;
	}
	if (!(ifr.ifr_flags & IFF_NO_PI)) {
		snprintf(err, errlen, "tap fd=%d (%s): needs IFF_NO_PI", fd,
			 ifr.ifr_name);
		return -EINVAL;
	}
	tap->has_vnet = ifr.ifr_flags & IFF_VNET_HDR;
	fl = fcntl(tap->fd, F_GETFL);
	if (fl < 0 || fcntl(tap->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		e = errno;
		snprintf(err, errlen, "tap fd=%d: O_NONBLOCK: %s", fd,
			 strerror(e));
		return -e;
	}
	snprintf(name, namelen, "%s", ifr.ifr_name);
	return tap_configure(tap->fd, tap->has_vnet, name, err, errlen);
}

/* ifname: open and attach it; else attach_fd is the caller's open tap. */
static int tap_create(const char *ifname, int attach_fd, struct ioloop *io,
		      struct net_backend **out, char *err, size_t errlen)
{
	struct net_tap *tap = calloc(1, sizeof(*tap));
	char name[IFNAMSIZ + 8];
	int ret;

	if (!tap) {
		snprintf(err, errlen, "tap: out of memory");
		return -ENOMEM;
	}
	tap->fd = -1;
	tap->kick_fd = -1;
	if (ifname) {
		snprintf(name, sizeof(name), "%s", ifname);
		ret = net_tap_open(ifname, &tap->has_vnet, err, errlen);
		if (ret >= 0)
			tap->fd = ret;
	} else {
		ret = tap_attach_fd(tap, attach_fd, name, sizeof(name), err,
				    errlen);
	}
	net_backend_init(&tap->be, &tap_ops, io, name);
	ifname = name;
	if (ret < 0)
		goto fail;
	tap->rx_buf = malloc(TAP_BUF_LEN);
	tap->tx_buf = malloc(TAP_BUF_LEN);
	tap->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!tap->rx_buf || !tap->tx_buf || tap->kick_fd < 0) {
		ret = tap->kick_fd < 0 ? -errno : -ENOMEM;
		snprintf(err, errlen, "tap %s: %s", ifname, strerror(-ret));
		goto fail;
	}
	ret = ioloop_add(io, tap->kick_fd, EPOLLIN, tap_on_kick, tap);
	if (ret < 0)
		goto fail_loop;
	tap->kick_polled = true;
	ret = ioloop_add(io, tap->fd, EPOLLIN, tap_on_fd, tap);
	if (ret < 0)
		goto fail_loop;
	tap->fd_polled = true;
	*out = &tap->be;
	return 0;
fail_loop:
	snprintf(err, errlen, "tap %s: ioloop_add: %s", ifname, strerror(-ret));
fail:
	tap_destroy(&tap->be);
	return ret;
}

int net_tap_create(const char *ifname, struct ioloop *io,
		   struct net_backend **out, char *err, size_t errlen)
{
	return tap_create(ifname, -1, io, out, err, errlen);
}

int net_tap_create_fd(int fd, struct ioloop *io, struct net_backend **out,
		      char *err, size_t errlen)
{
	return tap_create(NULL, fd, io, out, err, errlen);
}
