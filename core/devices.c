// SPDX-License-Identifier: MIT
/*
 * The `--device` table: every device type a user can add, in one const
 * table (no constructor lists, no linker sets). Each entry builds its device
 * and plugs it into the machine; destroy undoes both.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/pci/host.h"
#include "core/util.h"
#include "core/vm_internal.h"
#include "emul-devices/e1000/e1000.h"
#include "emul-devices/testdevs.h"
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

static const struct vm_device_type virtio_net_type = {
	.name = "virtio-net",
	.help = "virtio-net served in iovmm (--net virtio,...)",
	.create = virtio_net_dev_create,
	.destroy = virtio_net_dev_destroy,
};

static const struct vm_device_type e1000_type = {
	.name = "e1000",
	.help = "emulated Intel 82540EM (--net e1000,...)",
	.create = e1000_dev_create,
	.destroy = e1000_dev_destroy,
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

static int vfio_dev_create(struct vm *vm, const struct vm_device_cfg *cfg,
			   void **state, char *err, size_t errlen)
{
	const struct vfio_pci_config vcfg = {
		.host = cfg->vfio.host,
		.no_mmap_bars = cfg->vfio.no_mmap_bars,
		.rom_off = cfg->vfio.rom_off,
		.keep_vendor_caps = cfg->vfio.keep_vendor_caps,
	};
	const struct vfio_ctx ctx = {
		.mem = vm->mem,
		.irq = vm->irq,
		.bus = vm->bus,
		.slots = vm->memslots,
		.container = &vm->vfio,
	};
	struct vfio_pci *v;
	int ret = vfio_pci_create(&vcfg, &ctx, &v, err, errlen);

	if (ret)
		return ret;
	ret = device_plug(vm, "vfio-pci", vfio_pci_dev(v), err, errlen);
	if (ret) {
		vfio_pci_destroy(v);
		return ret;
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
			log_warn("vfio-pci", "%s: no INTx: %s", cfg->vfio.host,
				 strerror(-ret));
	}
	*state = v;
	return 0;
}

static void vfio_dev_destroy(void *state)
{
	vfio_pci_destroy(state);
}

static const struct vm_device_type vfio_type = {
	.name = "vfio-pci",
	.help = "assigned host PCI function: host=BDF[,no-mmap=N][,rom=off]",
	.create = vfio_dev_create,
	.destroy = vfio_dev_destroy,
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
