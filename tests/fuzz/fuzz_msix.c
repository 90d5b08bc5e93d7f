// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for MSI-X emulation (core/pci/msix.c): the table and
 * PBA as the guest reaches them through their BARs (any width, any
 * offset, torn 64-bit writes, masked and unmasked entries rewritten while
 * live), the capability's Enable and Function Mask bits through config
 * space, and the device side: vectors signalled, sources (the call
 * eventfds of vhost-user queues, the kernel's eventfds of VFIO vectors)
 * bound and rebound to vectors, vectors signalled outside iovmm
 * ("external"), interrupts delivered by the recording interrupt controller
 * (tests/unit/fakes/fake_irq), function reset.
 *
 * Input: the MSI-X layout (8 bytes: le16 vectors, table BAR in bits 0-2
 * and PBA BAR in bits 3-5 of byte 2, bit 6 external, bit 7 a second BAR,
 * le16 table offset / 8, le16 PBA offset / 8, u8 sources), le16 script
 * length, the script (fz.h; windows 0 the function's ECAM page, then its
 * BARs). Own operations:
 *   3  vector le16 signalled (pci_msix_notify)
 *   4  source u8 bound to vector le16 with its eventfd (pci_msix_source_bind)
 *   5  source u8's eventfd written (the back end or the kernel signals)
 *   6  irqfds polled (fake_irq_poll), then vector le16's state queried
 *   7  function level reset
 * After every operation: the codes returned are the documented ones, and
 * every vector that holds a GSI has its MSI route committed.
 */
#include <sys/eventfd.h>
#include <unistd.h>

#include "fz_pcidev.h"

#define FUZZ_RAM (64 * 1024)
#define FUZZ_SOURCES 8

struct fz_msix {
	struct fz_pcidev dev;
	struct fake_irq *fake;
	int efd[FUZZ_SOURCES];
	unsigned nsrc;
};

/* A vector that has a GSI has its MSI route committed to the controller
 * (the first 32 vectors: the check runs after every operation). */
static void check_msix(void *opaque)
{
	struct fz_msix *t = opaque;
	uint64_t addr;
	uint32_t gsi, data;

	if (!t->dev.pdev.msix)
		return;
	for (unsigned v = 0; v < 32; v++)
		if (pci_msix_vector_gsi(&t->dev.pdev, v, &gsi) == 0)
			CHECK(fake_irq_route(t->fake, gsi, &addr, &data));
}

static bool msix_op(struct fz_vm *vm, void *opaque, uint8_t op,
		    struct fz_in *in)
{
	struct fz_msix *t = opaque;
	struct pci_dev *dev = &t->dev.pdev;
	struct pci_msix *m = dev->msix;
	uint64_t one = 1;
	unsigned src;
	uint32_t gsi;
	int ret;

	switch (op & 7) {
	case 3:
		return fz_pcidev_signal(dev, true, in);
	case 4:
		if (in->n < 3)
			return false;
		src = fz_u8(in);
		ret = fz_u16(in);
		if (m && t->nsrc) {
			src %= t->nsrc;
			ret = pci_msix_source_bind(m, src, t->efd[src],
						   (unsigned)ret);
			CHECK(ret <= 0);
		}
		return true;
	case 5:
		if (!in->n)
			return false;
		src = fz_u8(in);
		if (t->nsrc &&
		    write(t->efd[src % t->nsrc], &one, sizeof(one)) < 0)
			return false;
		return true;
	case 6:
		if (in->n < 2)
			return false;
		fake_irq_poll(t->fake);
		ret = fz_u16(in);
		if (m) {
			pci_msix_vector_gsi(dev, (unsigned)ret, &gsi);
			pci_msix_vector_fd(dev, (unsigned)ret);
			pci_msix_vector_irqfd(dev, (unsigned)ret);
		}
		return true;
	default:
		pci_host_reset_dev(vm->host, dev);
		return true;
	}
}

/* The layout bytes as fz_pcidev's shape: BARs sized for the table. */
static void msix_shape(const uint8_t *l, uint8_t shape[FZ_PCIDEV_SHAPE])
{
	memset(shape, 0, FZ_PCIDEV_SHAPE);
	shape[0] = 2 | 12 << 3;                 /* mem32, 64 KiB */
	if (l[2] & 0x80)
		shape[2] = 3 | 8 << 3;          /* mem64, 4 KiB */
	shape[7] = l[0];
	shape[8] = l[1] ? l[1] : (l[0] ? 0 : 1);
	shape[9] = l[2] & 0x3f;
	memcpy(&shape[10], &l[3], 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in layout, script, rest;
	uint8_t shape[FZ_PCIDEV_SHAPE];
	struct fz_vm vm = { 0 };
	struct fz_msix t = { 0 };

	if (!fz_split(data, size, 8, &layout, &script, &rest))
		return 0;
	if (!fz_vm_open_fake_irq(&vm, &t.fake, FUZZ_RAM, true))
		return 0;
	msix_shape(layout.p, shape);
	if (!fz_pcidev_init(&t.dev, vm.irq, shape))
		goto out;
	if (t.dev.pdev.msix && (layout.p[2] & 0x40)) {
		/* Rebuild as an external table (VFIO's kind). */
		struct pci_msix_config mc = {
			.nr_vectors = 1 + (layout.p[0] | layout.p[1] << 8) %
					      PCI_MSIX_MAX_VECTORS,
			.table_bar = shape[9] & 7, .pba_bar = shape[9] >> 3,
			.table_off = (uint32_t)(shape[10] | shape[11] << 8) * 8,
			.pba_off = (uint32_t)(shape[12] | shape[13] << 8) * 8,
			.cap = pci_cfg_find_cap(&t.dev.pdev.cfg, PCI_CAP_ID_MSIX),
			.external = true,
		};
		struct pci_msix *m;

		pci_msix_destroy(t.dev.pdev.msix);
		pci_msix_create_cfg(&t.dev.pdev, vm.irq, &mc, &m);
	}
	if (t.dev.pdev.msix) {
		t.nsrc = layout.p[7] % (FUZZ_SOURCES + 1);
		for (unsigned i = 0; i < t.nsrc; i++)
			t.efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		for (unsigned i = 0; i < t.nsrc; i++)
			if (t.efd[i] < 0)
				t.nsrc = 0;
	}
	if (pci_host_add(vm.host, &t.dev.pdev))
		goto out;
	fz_win_pci(&vm, &t.dev.pdev);
	/* ECAM first: window 0, as for the other PCI targets. */
	if (vm.nwin > 1) {
		struct fz_win ecam = vm.win[vm.nwin - 1];

		memmove(&vm.win[1], &vm.win[0], (vm.nwin - 1) * sizeof(vm.win[0]));
		vm.win[0] = ecam;
	}
	fz_script(&vm, &script, msix_op, &t, check_msix);
out:
	fz_vm_close_host(&vm);
	fz_pcidev_fini(&t.dev);
	for (unsigned i = 0; i < FUZZ_SOURCES; i++)
		if (t.efd[i] > 0)
			close(t.efd[i]);
	fz_vm_close(&vm);
	return 0;
}
