/* SPDX-License-Identifier: MIT */
/*
 * The kernel's vhost-net as a vhost transport (vhost.h): one /dev/vhost-net
 * fd serving one virtio-net queue pair (ring 0 receiveq, ring 1 transmitq)
 * on a tap device, inside the host kernel (Linux drivers/vhost/net.c,
 * include/uapi/linux/vhost.h). The primitives are ioctls:
 *   set_features      VHOST_SET_FEATURES, then the tap's header size
 *                     (TUNSETVNETHDRSZ: 12 bytes with VERSION_1 or
 *                     MRG_RXBUF, else 10) and no offloads (TUNSETOFFLOAD 0)
 *   set_mem_table     VHOST_SET_MEM_TABLE (every guest RAM region)
 *   set_vring_*       VHOST_SET_VRING_NUM/BASE/ADDR/CALL/ERR/KICK
 *   set_vring_enable  VHOST_NET_SET_BACKEND with the tap fd, or -1 to
 *                     detach (the kernel's way to stop a ring)
 *   get_vring_base    VHOST_GET_VRING_BASE
 * vhk_create() does VHOST_SET_OWNER and VHOST_GET_FEATURES once: the
 * kernel's worker thread belongs to this process from then on, and the
 * rings can be set up again after a device reset on the same fd.
 *
 * The tap is used with its own virtio-net header (IFF_VNET_HDR), as QEMU
 * does: VHOST_NET_F_VIRTIO_NET_HDR (vhost adding/stripping headers
 * itself) is never asked for.
 */
#ifndef IOVMM_VHOST_USER_KERNEL_H
#define IOVMM_VHOST_USER_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"
#include "vhost-user/vhost.h"

#define VHK_DEV_PATH "/dev/vhost-net"
#define VHK_NR_VRINGS 2

struct vhk;

/* ioctl(2) as the transport calls it; tests give a fake kernel. */
typedef int (*vhk_ioctl_fn)(int fd, unsigned long req, void *arg);

struct vhk_config {
	int vhost_fd;          /* a pre-opened /dev/vhost-net (takes ownership),
				* or -1: open VHK_DEV_PATH */
	int tap_fd;            /* a tap opened with IFF_VNET_HDR (takes
				* ownership; closed on failure too) */
	struct gmem *mem;      /* borrowed */
	const char *name;      /* for messages; borrowed */
	vhk_ioctl_fn ioctl;    /* NULL: ioctl(2) */
};

/*
 * Open (or adopt) the vhost-net fd, VHOST_SET_OWNER, VHOST_GET_FEATURES.
 * 0, or -errno with a one-line reason in err (-ENOENT: no vhost_net
 * module, -EACCES: no permission on /dev/vhost-net, -EBUSY: an fd some
 * other process already owns).
 */
int vhk_create(const struct vhk_config *cfg, struct vhk **out, char *err,
	       size_t errlen);
/* Close both fds (the kernel stops the rings) and free. NULL: nothing. */
void vhk_destroy(struct vhk *k);
/* What VHOST_GET_FEATURES offered. */
uint64_t vhk_features(const struct vhk *k);
/* The rings, for vhost_dev_start()/vhost_dev_stop(). */
struct vhost_dev *vhk_dev(struct vhk *k);
/*
 * Can this process use VHK_DEV_PATH (opens it read-write and closes it)?
 * For the host checks made before any VM exists. 0 or -errno with a
 * one-line reason.
 */
int vhk_host_check(char *err, size_t errlen);

#endif
