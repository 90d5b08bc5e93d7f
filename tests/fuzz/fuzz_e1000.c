// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the emulated e1000 (emul-devices/e1000): a hostile
 * guest programs the registers (BAR0 MMIO, the BAR1 IOADDR/IODATA window,
 * config space through ECAM and CF8/CFC) and lays TX and RX descriptor
 * rings and buffers out in a 64 KiB guest RAM; frames arrive from the
 * network at any moment. The device is the real one on a real PCI host
 * and bus, with the null back end (TX frames are sent and dropped).
 *
 * Input: a flags byte (unused, kept for the layout of fz_split), le16
 * script length, the script (fz.h; windows 0 BAR0, 1 BAR1, 2 ECAM, 3
 * ports 0xcf8-0xcff), then the initial guest RAM from GPA 0. Own
 * operations:
 *   op & 7 == 3  a frame arrives: le16 length (mod 9018), its bytes, given
 *                to the device's receive path as the I/O thread would
 *   op & 7 == 4  function level reset through the host (pci_host_reset_dev)
 * After every operation the TX assembly state must stay within its bounds.
 */
#include <sys/uio.h>

#include "emul-devices/e1000/e1000-internal.h"
#include "emul-devices/e1000/e1000.h"
#include "fz.h"

#define FUZZ_RAM (64 * 1024)
#define FUZZ_MAX_FRAME 9018 /* jumbo, as RCTL.LPE accepts */

static uint8_t frame[FUZZ_MAX_FRAME];

static void check_e1000(void *opaque)
{
	struct e1000 *e = opaque;

	CHECK(e->tx.iovcnt <= E1000_TX_MAX_IOV);
	CHECK(e->tx.nwb <= E1000_TX_MAX_WB);
	CHECK(e->tx.len <= E1000_TX_BUF_LEN);
}

static bool e1000_op(struct fz_vm *vm, void *opaque, uint8_t op,
		     struct fz_in *in)
{
	struct e1000 *e = opaque;
	struct iovec iov;
	size_t len;

	switch (op & 7) {
	case 3:
		len = fz_u16(in) % FUZZ_MAX_FRAME;
		if (!fz_take(in, frame, len))
			return false;
		iov = (struct iovec){ frame, len };
		e1000_rx(e, &iov, 1, len);
		return true;
	case 4:
		pci_host_reset_dev(vm->host, e1000_pci(e));
		return true;
	default:
		return true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct e1000_config cfg = { .backend = "null", .name = "fuzz-e1000" };
	struct fz_in hdr, script, ram;
	struct pci_dev_ctx ctx;
	struct e1000 *e;
	struct fz_vm vm = { 0 };
	char err[160];

	if (!fz_split(data, size, 1, &hdr, &script, &ram))
		return 0;
	if (!fz_vm_open(&vm, FUZZ_RAM, ram.p, ram.n, true))
		return 0;
	ctx = (struct pci_dev_ctx){ .mem = vm.mem, .io = vm.io, .bus = vm.bus,
				    .cancel_fd = -1 };
	if (e1000_create(&ctx, &cfg, &e, err, sizeof(err)))
		goto out;
	if (pci_host_add(vm.host, e1000_pci(e))) {
		e1000_destroy(e);
		goto out;
	}
	vm.poll_io = false; /* the null back end never receives */
	fz_win_pci(&vm, e1000_pci(e));
	fz_win_add(&vm, BUS_PIO, LAYOUT_PORT_PCI_CONFIG, 8);
	fz_script(&vm, &script, e1000_op, e, check_e1000);
	fz_vm_close_host(&vm);
	e1000_destroy(e);
out:
	fz_vm_close(&vm);
	return 0;
}
