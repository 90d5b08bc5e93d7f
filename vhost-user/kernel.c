// SPDX-License-Identifier: MIT
/*
 * The kernel vhost-net transport (see kernel.h): the primitives of
 * vhost.h as ioctls on /dev/vhost-net and the tap.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/util.h"
#include "emul-devices/virtio/virtio.h"
#include "vhost-user/kernel.h"

#define VIRTIO_NET_F_MRG_RXBUF 15
#define VHK_HDR_LEN_V1 12   /* struct virtio_net_hdr_v1 / _mrg_rxbuf */
#define VHK_HDR_LEN_LEGACY 10

struct vhk {
	struct vhost_dev dev;
	int fd;                /* /dev/vhost-net; owned */
	int tap_fd;            /* owned */
	uint64_t offer;        /* VHOST_GET_FEATURES */
	vhk_ioctl_fn ioctl;
	char name[32];
};

static int vhk_sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

static struct vhk *vhk_of(struct vhost_dev *d)
{
	return container_of(d, struct vhk, dev);
}

/* One ioctl on fd: 0 or -errno. */
static int vhk_call(struct vhk *k, int fd, unsigned long req, void *arg)
{
	return k->ioctl(fd, req, arg) < 0 ? -errno : 0;
}

/*
 * Only what the kernel offered goes back (it refuses unknown bits); the
 * tap's header follows the negotiated layout (virtio 1.2 §5.1.6: 12 bytes
 * with VERSION_1 or MRG_RXBUF). No offload is negotiated on this path,
 * so the tap must hand over complete, checksummed frames only.
 */
static int vhk_set_features(struct vhost_dev *d, uint64_t features)
{
	struct vhk *k = vhk_of(d);
	uint64_t f = features & k->offer;
	int hdr = f & (1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MRG_RXBUF) ?
			  VHK_HDR_LEN_V1 : VHK_HDR_LEN_LEGACY;
	int ret;

	ret = vhk_call(k, k->fd, VHOST_SET_FEATURES, &f);
	if (!ret)
		ret = vhk_call(k, k->tap_fd, TUNSETVNETHDRSZ, &hdr);
	if (!ret)
		ret = vhk_call(k, k->tap_fd, TUNSETOFFLOAD, (void *)0UL);
	return ret;
}

static int vhk_set_mem_table(struct vhost_dev *d)
{
	struct vhk *k = vhk_of(d);
	const struct gmem *mem = d->mem;
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r[GMEM_MAX_REGIONS];
	} t = { .hdr.nregions = mem->nr_regions };

	for (unsigned i = 0; i < mem->nr_regions; i++)
		t.r[i] = (struct vhost_memory_region){
			.guest_phys_addr = mem->regions[i].gpa,
			.memory_size = mem->regions[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)mem->regions[i].hva,
		};
	return vhk_call(k, k->fd, VHOST_SET_MEM_TABLE, &t);
}

static int vhk_vring_state(struct vhost_dev *d, unsigned long req,
			   uint32_t index, uint32_t num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return vhk_call(vhk_of(d), vhk_of(d)->fd, req, &s);
}

static int vhk_vring_file(struct vhost_dev *d, unsigned long req,
			  uint32_t index, int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return vhk_call(vhk_of(d), vhk_of(d)->fd, req, &f);
}

static int vhk_set_vring_num(struct vhost_dev *d, uint32_t index, uint16_t num)
{
	return vhk_vring_state(d, VHOST_SET_VRING_NUM, index, num);
}

static int vhk_set_vring_base(struct vhost_dev *d, uint32_t index,
			      uint16_t base)
{
	return vhk_vring_state(d, VHOST_SET_VRING_BASE, index, base);
}

static int vhk_set_vring_addr(struct vhost_dev *d,
			      const struct vhost_ring_hva *a)
{
	struct vhost_vring_addr va = {
		.index = a->index,
		.desc_user_addr = a->desc,
		.avail_user_addr = a->avail,
		.used_user_addr = a->used,
	};

	return vhk_call(vhk_of(d), vhk_of(d)->fd, VHOST_SET_VRING_ADDR, &va);
}

static int vhk_set_vring_call(struct vhost_dev *d, uint32_t index, int fd)
{
	return vhk_vring_file(d, VHOST_SET_VRING_CALL, index, fd);
}

static int vhk_set_vring_err(struct vhost_dev *d, uint32_t index, int fd)
{
	return vhk_vring_file(d, VHOST_SET_VRING_ERR, index, fd);
}

static int vhk_set_vring_kick(struct vhost_dev *d, uint32_t index, int fd)
{
	return vhk_vring_file(d, VHOST_SET_VRING_KICK, index, fd);
}

/* vhost-net serves a ring while it has a backend socket (the tap). */
static int vhk_set_vring_enable(struct vhost_dev *d, uint32_t index, bool on)
{
	return vhk_vring_file(d, VHOST_NET_SET_BACKEND, index,
			      on ? vhk_of(d)->tap_fd : -1);
}

static int vhk_get_vring_base(struct vhost_dev *d, uint32_t index,
			      uint16_t *base)
{
	struct vhost_vring_state s = { .index = index };
	int ret = vhk_call(vhk_of(d), vhk_of(d)->fd, VHOST_GET_VRING_BASE, &s);

	if (!ret)
		*base = (uint16_t)s.num;
	return ret;
}

static const struct vhost_ops vhk_ops = {
	.set_features = vhk_set_features,
	.set_mem_table = vhk_set_mem_table,
	.set_vring_num = vhk_set_vring_num,
	.set_vring_base = vhk_set_vring_base,
	.set_vring_addr = vhk_set_vring_addr,
	.set_vring_call = vhk_set_vring_call,
	.set_vring_err = vhk_set_vring_err,
	.set_vring_kick = vhk_set_vring_kick,
	.set_vring_enable = vhk_set_vring_enable,
	.get_vring_base = vhk_get_vring_base,
};

static int vhk_open_error(int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", VHK_DEV_PATH,
		 e == ENOENT || e == ENODEV ?
		 "no such device (is the vhost_net module loaded?)" :
		 e == EACCES || e == EPERM ?
		 "permission denied (needs read-write access)" : strerror(e));
	return -e;
}

int vhk_host_check(char *err, size_t errlen)
{
	int fd = open(VHK_DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return vhk_open_error(errno, err, errlen);
	close(fd);
	return 0;
}

int vhk_create(const struct vhk_config *cfg, struct vhk **out, char *err,
	       size_t errlen)
{
	struct vhk *k = calloc(1, sizeof(*k));
	int ret;

	*out = NULL;
	if (!k) {
		if (cfg->vhost_fd >= 0)
			close(cfg->vhost_fd);
		close(cfg->tap_fd);
		snprintf(err, errlen, "vhost-net: out of memory");
		return -ENOMEM;
	}
	snprintf(k->name, sizeof(k->name), "%s", cfg->name ? cfg->name : "vhost-net");
	k->ioctl = cfg->ioctl ? cfg->ioctl : vhk_sys_ioctl;
	k->tap_fd = cfg->tap_fd;
	k->fd = cfg->vhost_fd;
	k->dev = (struct vhost_dev){
		.ops = &vhk_ops, .mem = cfg->mem, .nr_vrings = VHK_NR_VRINGS,
	};
	if (k->fd < 0) {
		k->fd = open(VHK_DEV_PATH, O_RDWR | O_CLOEXEC);
		if (k->fd < 0) {
			ret = vhk_open_error(errno, err, errlen);
			goto fail;
		}
	}
	ret = vhk_call(k, k->fd, VHOST_SET_OWNER, NULL);
	if (ret) {
		snprintf(err, errlen, "%s: VHOST_SET_OWNER: %s", k->name,
			 ret == -EBUSY ? "the vhost fd already has an owner" :
			 strerror(-ret));
		goto fail;
	}
	ret = vhk_call(k, k->fd, VHOST_GET_FEATURES, &k->offer);
	if (ret) {
		snprintf(err, errlen, "%s: VHOST_GET_FEATURES: %s", k->name,
			 strerror(-ret));
		goto fail;
	}
	if (!(k->offer & (1ULL << VIRTIO_F_VERSION_1))) {
		snprintf(err, errlen, "%s: the kernel's vhost-net lacks VIRTIO_F_VERSION_1",
			 k->name);
		ret = -EPROTONOSUPPORT;
		goto fail;
	}
	*out = k;
	return 0;
fail:
	vhk_destroy(k);
	return ret;
}

void vhk_destroy(struct vhk *k)
{
	if (!k)
		return;
	if (k->fd >= 0)
		close(k->fd);
	if (k->tap_fd >= 0)
		close(k->tap_fd);
	free(k);
}

uint64_t vhk_features(const struct vhk *k)
{
	return k->offer;
}

struct vhost_dev *vhk_dev(struct vhk *k)
{
	return &k->dev;
}
