// SPDX-License-Identifier: MIT
/*
 * The `--device` table: every device type a user can add, in one const
 * table (no constructor lists, no linker sets). Each entry builds its device
 * and plugs it into the machine; destroy undoes both.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/pci/host.h"
#include "core/util.h"
#include "core/vm_internal.h"
#include "emul-devices/testdevs.h"

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
	NULL,
};

const struct vm_device_type *vm_device_type_find(const char *name)
{
	for (size_t i = 0; vm_device_types[i]; i++)
		if (!strcmp(vm_device_types[i]->name, name))
			return vm_device_types[i];
	return NULL;
}
