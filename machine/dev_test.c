// SPDX-License-Identifier: MIT
/* QEMU's PCI test devices: pci-testdev and edu (emul-devices/testdevs.h). */
#include <stdio.h>
#include <string.h>

#include "emul-devices/testdevs.h"
#include "machine/devtypes.h"

static int testdev_create(struct machine *m, const void *opts,
			  struct pci_dev **dev, char *err, size_t errlen)
{
	struct pci_dev_ctx ctx = machine_pci_ctx(m);
	struct pci_testdev *td;
	int ret = pci_testdev_create(&ctx, &td);

	if (ret) {
		snprintf(err, errlen, "pci-testdev: %s", strerror(-ret));
		return ret;
	}
	*dev = pci_testdev_pci(td);
	return 0;
}

const struct machine_device_type machine_pci_testdev = {
	.name = "pci-testdev",
	.front = MACHINE_FRONT_DEVICE,
	.usage = "--device pci-testdev",
	.help = "QEMU-compatible PCI test device (1b36:0005)",
	.create_pci = testdev_create,
};

static int edu_dev_create(struct machine *m, const void *opts,
			  struct pci_dev **dev, char *err, size_t errlen)
{
	struct pci_dev_ctx ctx = machine_pci_ctx(m);
	struct edu *edu;
	int ret = edu_create(&ctx, &edu);

	if (ret) {
		snprintf(err, errlen, "edu: %s", strerror(-ret));
		return ret;
	}
	*dev = edu_pci(edu);
	return 0;
}

const struct machine_device_type machine_edu = {
	.name = "edu",
	.front = MACHINE_FRONT_DEVICE,
	.usage = "--device edu",
	.help = "QEMU-compatible edu device (1234:11e8): MSI, DMA, INTx",
	.create_pci = edu_dev_create,
};
