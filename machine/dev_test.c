// SPDX-License-Identifier: MIT
/* QEMU's PCI test devices: pci-testdev and edu (emul-devices/testdevs.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "emul-devices/testdevs.h"
#include "machine/devtypes.h"

static int testdev_create(struct machine *m, const void *opts, void **state,
			  char *err, size_t errlen)
{
	struct pci_testdev *td;
	int ret = pci_testdev_create(m->parts->irq, &td);

	if (ret) {
		snprintf(err, errlen, "pci-testdev: %s", strerror(-ret));
		return ret;
	}
	ret = machine_plug(m, "pci-testdev", pci_testdev_pci(td), err, errlen);
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

const struct machine_device_type machine_pci_testdev = {
	.name = "pci-testdev",
	.front = MACHINE_FRONT_DEVICE,
	.usage = "--device pci-testdev",
	.help = "QEMU-compatible PCI test device (1b36:0005)",
	.create = testdev_create,
	.destroy = testdev_destroy,
};

static int edu_dev_create(struct machine *m, const void *opts, void **state,
			  char *err, size_t errlen)
{
	struct edu *edu;
	int ret = edu_create(m->parts->irq, m->parts->mem, &edu);

	if (ret) {
		snprintf(err, errlen, "edu: %s", strerror(-ret));
		return ret;
	}
	ret = machine_plug(m, "edu", edu_pci(edu), err, errlen);
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

const struct machine_device_type machine_edu = {
	.name = "edu",
	.front = MACHINE_FRONT_DEVICE,
	.usage = "--device edu",
	.help = "QEMU-compatible edu device (1234:11e8): MSI, DMA",
	.create = edu_dev_create,
	.destroy = edu_dev_destroy,
};
