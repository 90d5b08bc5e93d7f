// SPDX-License-Identifier: MIT
/*
 * The `--device` table: every device type a user can add, in one const
 * table (no constructor lists, no linker sets). Each entry builds its device
 * and plugs it into the machine; destroy undoes both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/pci/host.h"
#include "core/util.h"
#include "core/vm_internal.h"
#include "emul-devices/e1000/e1000.h"
#include "emul-devices/net/backend.h"
#include "emul-devices/testdevs.h"
#include "sriov/sriov.h"
#include "vfio/sysfs.h"
#include "vfio/vfio.h"
#include "emul-devices/virtio/blk.h"
#include "emul-devices/virtio/net.h"
#include "vhost-user/net.h"

static int device_plug(struct vm *vm, const char *type, struct pci_dev *pci,
		       char *err, size_t errlen)
{
	int ret = pci_host_add(vm->pci, pci);

	if (ret)
		snprintf(err, errlen, "device %s: cannot add to PCI bus: %s",
			 type, ret == -ENOSPC ? "no free slot or BAR space" :
						strerror(-ret));
	return ret;
}

static int testdev_create(struct vm *vm, const struct vm_device_cfg *cfg,
			  void **state, char *err, size_t errlen)
{
	struct pci_testdev *td;
	int ret = pci_testdev_create(vm->irq, &td);

	if (ret) {
		snprintf(err, errlen, "pci-testdev: %s", strerror(-ret));
		return ret;
	}
	ret = device_plug(vm, "pci-testdev", pci_testdev_pci(td), err, errlen);
	if (ret) {
		pci_testdev_destroy(td);
		return ret;
	}
	*state = td;
	return 0;
}

static void testdev_destroy(void *state)
{
	pci_testdev_destroy(state);
}

static int edu_dev_create(struct vm *vm, const struct vm_device_cfg *cfg,
			  void **state, char *err, size_t errlen)
{
	struct edu *edu;
	int ret = edu_create(vm->irq, vm->mem, &edu);

	if (ret) {
		snprintf(err, errlen, "edu: %s", strerror(-ret));
		return ret;
	}
	ret = device_plug(vm, "edu", edu_pci(edu), err, errlen);
	if (ret) {
		edu_destroy(edu);
		return ret;
	}
	*state = edu;
	return 0;
}

static void edu_dev_destroy(void *state)
{
	edu_destroy(state);
}

/*
 * A NIC without mac= gets 52:54:00:12:34:56 + its index among the VM's NICs
 * (QEMU's convention), so MACs are stable from run to run.
 */
static void nic_mac(struct vm *vm, const uint8_t *given, uint8_t mac[6])
{
	static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	unsigned index = 0;

	if (given) {
		memcpy(mac, given, 6);
		return;
	}
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		const char *name = vm->devices[i].type->name;

		index += !strcmp(name, "virtio-net") || !strcmp(name, "e1000") ||
			 !strcmp(name, "vhost-user-net");
	}
	memcpy(mac, base, 6);
	mac[5] = (uint8_t)(base[5] + index);
}

static int virtio_net_dev_create(struct vm *vm, const struct vm_device_cfg *cfg,
				 void **state, char *err, size_t errlen)
{
	struct virtio_net_config ncfg = {
		.backend = cfg->net.backend,
		.has_mac = true,
		.queues = cfg->net.queues,
		.packed = cfg->net.packed,
	};

	nic_mac(vm, cfg->net.has_mac ? cfg->net.mac : NULL, ncfg.mac);
	return virtio_net_create(&ncfg, vm->mem, vm->irq, vm->io, vm->pci,
				 (struct virtio_net **)state, err, errlen);
}

static void virtio_net_dev_destroy(void *state)
{
	virtio_net_destroy(state);
}

static int e1000_dev_create(struct vm *vm, const struct vm_device_cfg *cfg,
			    void **state, char *err, size_t errlen)
{
	struct e1000_config ecfg = {
		.backend = cfg->net.backend,
		.has_mac = true,
	};

	nic_mac(vm, cfg->net.has_mac ? cfg->net.mac : NULL, ecfg.mac);
	return e1000_create(&ecfg, vm->mem, vm->irq, vm->io, vm->pci,
			    (struct e1000 **)state, err, errlen);
}

static void e1000_dev_destroy(void *state)
{
	e1000_destroy(state);
}

static int vhu_net_dev_create(struct vm *vm, const struct vm_device_cfg *cfg,
			      void **state, char *err, size_t errlen)
{
	struct vhu_net_config ncfg = {
		.socket = cfg->vhu.socket,
		.server = cfg->vhu.server,
		.queues = cfg->vhu.queues,
		.cancel_fd = vm->cancel_fd,
	};

	nic_mac(vm, cfg->vhu.has_mac ? cfg->vhu.mac : NULL, ncfg.mac);
	return vhu_net_create(&ncfg, vm->mem, vm->irq, vm->io, vm->pci,
			      (struct vhu_net **)state, err, errlen);
}

static void vhu_net_dev_destroy(void *state)
{
	vhu_net_destroy(state);
}

static int virtio_blk_dev_create(struct vm *vm, const struct vm_device_cfg *cfg,
				 void **state, char *err, size_t errlen)
{
	struct virtio_blk_config bcfg = {
		.path = cfg->disk.path,
		.readonly = cfg->disk.readonly,
		.packed = cfg->disk.packed,
	};

	return virtio_blk_create(&bcfg, vm->mem, vm->irq, vm->io, vm->pci,
				 (struct virtio_blk **)state, err, errlen);
}

static void virtio_blk_dev_destroy(void *state)
{
	virtio_blk_destroy(state);
}

/*
 * The back end opens (a tap device this user may not create or attach to
 * fails here) and is closed again; a transient tap goes with it and is
 * made again with the device.
 */
static int net_dev_check(const struct vm_device_cfg *cfg, char *err,
			 size_t errlen)
{
	struct net_backend *be;
	struct ioloop *io;
	int ret = ioloop_create(&io);

	if (ret) {
		snprintf(err, errlen, "I/O loop: %s", strerror(-ret));
		return ret;
	}
	ret = net_backend_create(cfg->net.backend, io, &be, err, errlen);
	if (!ret)
		net_backend_destroy(be);
	ioloop_destroy(io);
	return ret;
}

static const struct vm_device_type virtio_net_type = {
	.name = "virtio-net",
	.help = "virtio-net served in iovmm (--net virtio,...)",
	.create = virtio_net_dev_create,
	.destroy = virtio_net_dev_destroy,
	.check = net_dev_check,
};

static const struct vm_device_type e1000_type = {
	.name = "e1000",
	.help = "emulated Intel 82540EM (--net e1000,...)",
	.create = e1000_dev_create,
	.destroy = e1000_dev_destroy,
	.check = net_dev_check,
};

static const struct vm_device_type vhu_net_type = {
	.name = "vhost-user-net",
	.help = "virtio-net served by a vhost-user back end (--net vhost-user,...)",
	.create = vhu_net_dev_create,
	.destroy = vhu_net_dev_destroy,
};

static const struct vm_device_type virtio_blk_type = {
	.name = "virtio-blk",
	.help = "virtio-blk on a raw file (--disk virtio,...)",
	.create = virtio_blk_dev_create,
	.destroy = virtio_blk_dev_destroy,
};

/*
 * An assigned function and the pool leases it answers for. A pooled VF
 * (pf=) may only go back to its pool once its IOMMU group is closed, and
 * groups stay open in the VM's VFIO container until the container's last
 * device is gone (vfio/container.h). So a device whose container outlives
 * it passes its leases on to an earlier vfio-pci device of the VM, which
 * vm_destroy() (reverse order) destroys later; the device that closes the
 * container gives every lease back.
 */
struct vfio_dev {
	struct vm *vm;
	struct vfio_pci *v;
	unsigned nleases;
	struct sriov_lease *leases[VM_MAX_DEVICES];
};

/* Release `leases` now if the VM's container is closed, else hand them to
 * the last vfio-pci device among vm->devices[0, below). */
static void vfio_leases_drop(struct vm *vm, unsigned below,
			     struct sriov_lease **leases, unsigned n)
{
	for (unsigned i = below; vm->vfio && i-- > 0;) {
		struct vfio_dev *o = vm->devices[i].state;

		if (strcmp(vm->devices[i].type->name, "vfio-pci"))
			continue;
		for (unsigned k = 0; k < n; k++)
			o->leases[o->nleases++] = leases[k];
		return;
	}
	for (unsigned k = 0; k < n; k++)
		sriov_pool_release(leases[k]);
}

/*
 * pf=: lease a free VF of the PF, apply the VF settings and bind it to
 * vfio-pci (sriov_pool_acquire() repairs what crashed iovmm processes left
 * on the VFs it considers). The lease is an flock()ed file, so it ends with
 * this process however it ends.
 */
static int vfio_dev_lease(struct vfio_dev *vd, const struct vm_vfio_cfg *cfg,
			  char bdf[SRIOV_BDF_SIZE], char *err, size_t errlen)
{
	const struct sriov_vf_settings *s = &cfg->vf_settings;
	uint64_t t0 = util_now_ms();
	struct sriov_env env;
	char msg[384] = "";
	int ret;

	sriov_env_default(&env);
	ret = sriov_pool_acquire(&env, cfg->pf, s->set ? s : NULL,
				 &vd->leases[0], bdf, SRIOV_BDF_SIZE, msg,
				 sizeof(msg));
	if (ret) {
		snprintf(err, errlen, "vfio-pci: pf=%s: %s", cfg->pf,
			 msg[0] ? msg : strerror(-ret));
		return ret;
	}
	vd->nleases = 1;
	log_info("vfio-pci", "VF %s from the pool of %s (leased and bound in "
		 "%llu ms)", bdf, cfg->pf,
		 (unsigned long long)(util_now_ms() - t0));
	return 0;
}

/*
 * The VF token when `host` is a VF of a PF owned by vfio-pci. A host the
 * sriov/ code cannot find is left to vfio_pci_create(), whose message
 * about a missing device is the better one.
 */
static int vfio_dev_token(const char *host, char token[SRIOV_TOKEN_SIZE],
			  char *err, size_t errlen)
{
	char msg[384] = "", bdf[VFIO_BDF_LEN];
	int ret;

	token[0] = '\0';
	if (vfio_sysfs_parse_bdf(host, bdf))
		return 0;
	ret = sriov_vf_token(bdf, token, msg, sizeof(msg));
	if (ret == -ENODEV || ret == -EINVAL || ret == -ENAMETOOLONG) {
		token[0] = '\0';
		return 0;
	}
	if (ret)
		snprintf(err, errlen, "vfio-pci: %s", msg[0] ? msg :
			 strerror(-ret));
	return ret;
}

static int vfio_dev_create(struct vm *vm, const struct vm_device_cfg *cfg,
			   void **state, char *err, size_t errlen)
{
	const struct vfio_ctx ctx = {
		.mem = vm->mem,
		.irq = vm->irq,
		.bus = vm->bus,
		.slots = vm->memslots,
		.container = &vm->vfio,
	};
	char bdf[SRIOV_BDF_SIZE], token[SRIOV_TOKEN_SIZE];
	struct vfio_pci_config vcfg = {
		.host = cfg->vfio.host,
		.no_mmap_bars = cfg->vfio.no_mmap_bars,
		.rom_off = cfg->vfio.rom_off,
		.keep_vendor_caps = cfg->vfio.keep_vendor_caps,
	};
	struct vfio_dev *vd = calloc(1, sizeof(*vd));
	struct vfio_pci *v;
	int ret;

	if (!vd)
		return -ENOMEM;
	vd->vm = vm;
	if (cfg->vfio.pf[0]) {
		ret = vfio_dev_lease(vd, &cfg->vfio, bdf, err, errlen);
		if (ret)
			goto err_free;
		vcfg.host = bdf;
	}
	ret = vfio_dev_token(vcfg.host, token, err, errlen);
	if (ret)
		goto err_lease;
	vcfg.vf_token = token[0] ? token : NULL;
	ret = vfio_pci_create(&vcfg, &ctx, &v, err, errlen);
	if (ret)
		goto err_lease;
	ret = device_plug(vm, "vfio-pci", vfio_pci_dev(v), err, errlen);
	if (ret) {
		vfio_pci_destroy(v);
		goto err_lease;
	}
	/*
	 * INTx where the function has it, on the GSI the DSDT's _PRT names
	 * for its slot and pin. Guests that use MSI/MSI-X never need it, so a
	 * failure only costs INTx (the device is on the bus already and must
	 * stay alive until the host bridge is gone).
	 */
	if (vfio_pci_intx_pin(v)) {
		unsigned slot = vfio_pci_dev(v)->devfn >> 3;

		ret = vfio_pci_set_intx_gsi(v, layout_pci_intx_gsi(slot,
						vfio_pci_intx_pin(v) - 1));
		if (ret && ret != -ENOTSUP)
			log_warn("vfio-pci", "%s: no INTx: %s", vcfg.host,
				 strerror(-ret));
	}
	vd->v = v;
	*state = vd;
	return 0;

err_lease:
	/* The VF's group may stay open in the container of earlier devices. */
	vfio_leases_drop(vm, vm->nr_devices, vd->leases, vd->nleases);
err_free:
	free(vd);
	return ret;
}

static void vfio_dev_destroy(void *state)
{
	struct vfio_dev *vd = state;
	struct vm *vm = vd->vm;
	unsigned self = 0;

	vfio_pci_destroy(vd->v);
	while (self < vm->nr_devices && vm->devices[self].state != vd)
		self++;
	vfio_leases_drop(vm, self, vd->leases, vd->nleases);
	free(vd);
}

/* The host side, read only: the function (host=) or the PF (pf=) exists
 * and is usable, before anything is leased, bound or opened. */
static int vfio_dev_check(const struct vm_device_cfg *cfg, char *err,
			  size_t errlen)
{
	char bdf[SRIOV_BDF_SIZE], msg[384] = "";
	struct sriov_env env;
	int ret;

	if (!cfg->vfio.pf[0])
		return vfio_pci_host_check(cfg->vfio.host, NULL, NULL, err,
					   errlen);
	sriov_env_default(&env);
	ret = sriov_pf_resolve(&env, cfg->vfio.pf, bdf, msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "vfio-pci: pf=%s: %s", cfg->vfio.pf,
			 msg[0] ? msg : strerror(-ret));
	return ret;
}

static const struct vm_device_type vfio_type = {
	.name = "vfio-pci",
	.help = "assigned host PCI function: host=BDF or pf=PF (a pooled SR-IOV VF)",
	.create = vfio_dev_create,
	.destroy = vfio_dev_destroy,
	.check = vfio_dev_check,
};

static const struct vm_device_type testdev_type = {
	.name = "pci-testdev",
	.help = "QEMU-compatible PCI test device (1b36:0005)",
	.create = testdev_create,
	.destroy = testdev_destroy,
};

static const struct vm_device_type edu_type = {
	.name = "edu",
	.help = "QEMU-compatible edu device (1234:11e8): MSI, DMA",
	.create = edu_dev_create,
	.destroy = edu_dev_destroy,
};

const struct vm_device_type *const vm_device_types[] = {
	&testdev_type,
	&edu_type,
	&vfio_type,
	&virtio_net_type,
	&e1000_type,
	&vhu_net_type,
	&virtio_blk_type,
	NULL,
};

const struct vm_device_type *vm_device_type_find(const char *name)
{
	for (size_t i = 0; vm_device_types[i]; i++)
		if (!strcmp(vm_device_types[i]->name, name))
			return vm_device_types[i];
	return NULL;
}
