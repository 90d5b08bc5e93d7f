// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the VFIO config-space virtualization (vfio/pci.c,
 * pci_config.c, pci_irq.c, quirks.c, layout.c): the device behind VFIO is
 * the in-memory transport of the unit tests (tests/unit/vfio/fake_vfio.h:
 * config space captured from the lab's NVMe VF or e1000e, BARs backed by
 * memfds, a recorder of VFIO_DEVICE_SET_IRQS), with its config space
 * altered by the input, so both sides are hostile: the device (capability
 * lists that loop or point outside, MSI/MSI-X capabilities with impossible
 * tables, BARs that claim anything) when iovmm reads it at creation, and
 * the guest, which then sizes and moves the BARs, walks and writes the
 * virtualized capabilities, programs MSI/MSI-X and INTx, resets.
 *
 * Input: byte 0 the device (bit 0: e1000e, else the NVMe VF), byte 1 the
 * options (bit 0 rom_off, bit 1 keep_vendor_caps, bits 2-7 BARs 0-5 not
 * mmapped), le16 script length, the script (fz.h; windows 0 the function's
 * ECAM page, then its BARs where the host placed them), then bytes XORed
 * onto the captured config space from offset 0 (none: the device as
 * captured). Own operations:
 *   3  function level reset through the host
 *   4  the device raises interrupt u8 (index % 3: INTx, MSI, MSI-X) of
 *      vector u8 (writes the eventfd the "kernel" holds, if any)
 *   5  the interrupt controller delivers (irqfds polled)
 *   6  a hot reset (vfio_pci_hot_reset)
 * After every operation: at most three memory slots per BAR (the MSI-X
 * table and PBA pages are the only holes in a mapped BAR, vfio/layout.h).
 */
#include <linux/vfio.h>
#include <unistd.h>

#include "core/memslot.h"
#include "fake_memslot.h"
#include "fz.h"
#include "tests/unit/vfio/fake_vfio.h"
#include "vfio/vfio.h"

#define FUZZ_RAM (64 * 1024)

struct fz_vfio {
	struct fake_vfio *f;
	struct vfio_pci *v;
	struct fake_irq *fake;
	struct fake_memslots *fslots;
};

static void check_slots(void *opaque)
{
	struct fz_vfio *t = opaque;

	CHECK(fake_memslots_count(t->fslots) <= 3 * PCI_NR_BARS);
}

static bool vfio_op(struct fz_vm *vm, void *opaque, uint8_t op,
		    struct fz_in *in)
{
	struct fz_vfio *t = opaque;
	unsigned index, vec;
	uint64_t one = 1;
	char err[128];

	switch (op & 7) {
	case 3:
		pci_host_reset_dev(vm->host, vfio_pci_dev(t->v));
		return true;
	case 4:
		if (in->n < 2)
			return false;
		index = fz_u8(in) % 3;
		vec = fz_u8(in) % FAKE_MAX_FDS;
		if (t->f->trigger[index][vec] >= 0 &&
		    write(t->f->trigger[index][vec], &one, sizeof(one)) < 0)
			return false;
		return true;
	case 5:
		fake_irq_poll(t->fake);
		return true;
	case 6:
		vfio_pci_hot_reset(t->v, err, sizeof(err));
		return true;
	default:
		return true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in hdr, script, overlay;
	struct vfio_pci_config cfg = { 0 };
	struct memslots *slots = NULL;
	struct fz_vfio t = { 0 };
	struct fz_vm vm = { 0 };
	struct vfio_ctx ctx;
	char err[256] = "";

	if (!fz_split(data, size, 2, &hdr, &script, &overlay))
		return 0;
	if (fake_memslots_create(&slots, &t.fslots))
		return 0;
	if (!fz_vm_open_fake_irq(&vm, &t.fake, FUZZ_RAM, true))
		goto out_slots;
	t.f = hdr.p[0] & 1 ? fake_e1000e() : fake_nvme_vf();
	t.f->keep_alive = true;
	for (size_t i = 0; i < overlay.n && i < sizeof(t.f->cfg); i++)
		t.f->cfg[i] ^= overlay.p[i];
	cfg.rom_off = hdr.p[1] & 1;
	cfg.keep_vendor_caps = hdr.p[1] & 2;
	cfg.no_mmap_bars = hdr.p[1] >> 2;
	ctx = (struct vfio_ctx){ .irq = vm.irq, .bus = vm.bus, .slots = slots };
	if (vfio_pci_create(&t.f->dev, &cfg, &ctx, &t.v, err, sizeof(err))) {
		CHECK(err[0]); /* a refused device always says why */
		goto out;
	}
	if (pci_host_add(vm.host, vfio_pci_dev(t.v)))
		goto out;
	fz_win_add(&vm, BUS_MMIO, LAYOUT_ECAM_START +
		   ((uint64_t)vfio_pci_dev(t.v)->devfn << 12), PCI_CFG_SIZE);
	for (unsigned b = 0; b < PCI_NR_BARS; b++) {
		const struct pci_bar *bar = &vfio_pci_dev(t.v)->cfg.bars[b];

		fz_win_add(&vm, bar->kind == PCI_BAR_IO ? BUS_PIO : BUS_MMIO,
			   pci_dev_bar_mapped(vfio_pci_dev(t.v), b), bar->size);
	}
	fz_script(&vm, &script, vfio_op, &t, check_slots);
out:
	fz_vm_close_host(&vm);
	vfio_pci_destroy(t.v);
	t.f->keep_alive = false;
	fake_release(&t.f->dev);
	fz_vm_close(&vm);
out_slots:
	memslots_destroy(slots);
	return 0;
}
