// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the emulated PCI config-space model and host bridge
 * (core/pci: cfg.c, host.c, msi.c, msix.c): a function whose BARs and
 * capabilities come from the input (fz_pcidev.h) sits on a real host
 * bridge next to the edu device, with the recording interrupt controller
 * (tests/unit/fakes/fake_irq). The guest sizes and moves BARs (onto each
 * other, onto edu's, over RAM, to 0 and all-ones), walks and writes the
 * capability list, programs MSI and MSI-X through config space, toggles
 * decoding, and resets the function.
 *
 * Input: the shape (FZ_PCIDEV_SHAPE bytes), le16 script length, script
 * (fz.h; windows: 0 the function's ECAM page, 1 ports 0xcf8-0xcff, then
 * its BARs as the host placed them). Own operations:
 *   3  function level reset (pci_host_reset_dev)
 *   4  MSI vector u8 signalled        5  MSI-X vector le16 signalled
 *   6  the interrupt controller delivers what is pending (irqfds polled)
 * After every operation: a BAR on the bus is exactly where its config
 * registers say it decodes (the host applied the move or rolled the BAR
 * back; a BAR whose range another device holds stays off the bus),
 * naturally aligned; signalling returns only the documented codes.
 */
#include "emul-devices/testdevs.h"
#include "fz_pcidev.h"

#define FUZZ_RAM (64 * 1024)

struct fz_pci {
	struct fz_pcidev dev;
	struct fake_irq *fake;
};

static void check_bars(void *opaque)
{
	struct fz_pci *t = opaque;
	struct pci_dev *dev = &t->dev.pdev;

	for (unsigned b = 0; b < PCI_NR_BARS; b++) {
		uint64_t on_bus = pci_dev_bar_mapped(dev, b);

		if (dev->cfg.bars[b].kind == PCI_BAR_NONE) {
			CHECK(on_bus == PCI_BAR_UNMAPPED);
			continue;
		}
		if (on_bus == PCI_BAR_UNMAPPED)
			continue; /* off, or its range was taken (host.h) */
		CHECK(on_bus == pci_cfg_bar_decode(&dev->cfg, b));
		CHECK(on_bus % dev->cfg.bars[b].size == 0);
	}
}

static bool pci_op(struct fz_vm *vm, void *opaque, uint8_t op,
		   struct fz_in *in)
{
	struct fz_pci *t = opaque;
	struct pci_dev *dev = &t->dev.pdev;

	switch (op & 7) {
	case 3:
		pci_host_reset_dev(vm->host, dev);
		return true;
	case 4:
		return fz_pcidev_signal(dev, false, in);
	case 5:
		return fz_pcidev_signal(dev, true, in);
	case 6:
		fake_irq_poll(t->fake);
		return true;
	default:
		return true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pci_dev_ctx ctx;
	struct fz_in shape, script, rest;
	struct fz_vm vm = { 0 };
	struct fz_pci t = { 0 };
	struct edu *edu = NULL;

	if (!fz_split(data, size, FZ_PCIDEV_SHAPE, &shape, &script, &rest))
		return 0;
	if (!fz_vm_open_fake_irq(&vm, &t.fake, FUZZ_RAM, true))
		return 0;
	ctx = (struct pci_dev_ctx){ .mem = vm.mem, .irq = vm.irq, .bus = vm.bus,
				    .cancel_fd = -1 };
	if (edu_create(&ctx, &edu) || pci_host_add(vm.host, edu_pci(edu)))
		goto out;
	if (!fz_pcidev_init(&t.dev, vm.irq, shape.p) ||
	    pci_host_add(vm.host, &t.dev.pdev))
		goto out;
	fz_win_add(&vm, BUS_MMIO,
		   LAYOUT_ECAM_START + ((uint64_t)t.dev.pdev.devfn << 12),
		   PCI_CFG_SIZE);
	fz_win_add(&vm, BUS_PIO, LAYOUT_PORT_PCI_CONFIG, 8);
	for (unsigned b = 0; b < PCI_NR_BARS; b++)
		fz_win_add(&vm, t.dev.pdev.cfg.bars[b].kind == PCI_BAR_IO ?
			   BUS_PIO : BUS_MMIO,
			   pci_dev_bar_mapped(&t.dev.pdev, b),
			   t.dev.pdev.cfg.bars[b].size);
	check_bars(&t);
	fz_script(&vm, &script, pci_op, &t, check_bars);
out:
	fz_vm_close_host(&vm);
	fz_pcidev_fini(&t.dev);
	edu_destroy(edu);
	fz_vm_close(&vm);
	return 0;
}
