/* SPDX-License-Identifier: MIT */
/*
 * The guest side of a virtio PCI function for the device fuzzers
 * (fuzz_virtio_blk.c, fuzz_virtio_net.c): it finds the function's
 * structures through its vendor capabilities (virtio 1.2 §4.1.4), brings
 * it up the way a driver does (§3.1.1: reset, ACKNOWLEDGE, DRIVER,
 * features, FEATURES_OK, queues, DRIVER_OK) with features, queue sizes and
 * ring addresses taken from the input, then hands over to the guest script.
 * Everything behind the registers is the real transport (pci.c,
 * pci_common.c, pci_notify.c, pci_msix.c, transport.c), virtqueue walker
 * and device model; kicks reach the model through the I/O loop, run on the
 * fuzzer's thread after every operation (fz.h).
 *
 * Set-up (FZ_VIRTIO_SETUP bytes):
 *   0-3   le32 mask over feature bits 0-31 the driver accepts
 *   4     mask over feature bits 32-39 (VERSION_1 32, RING_PACKED 34)
 *   5     queue size: 0 the device's maximum, else 1 << (v % 16)
 *   6     queues to enable (bit q; queues 8+ stay off)
 *   7-12  le16 GPAs of queue 0's descriptor table, driver and device areas;
 *         queue q's are 0x1000 * q further (modulo 64 KiB)
 * Windows of the script: 0 common config, 1 notify, 2 ISR, 3 device
 * config, 4 the function's ECAM page. Operations a target may map:
 * fz_virtio_kick() (notify a queue) and fz_virtio_setup() (reset and set
 * up again, with set-up bytes from the script).
 */
#ifndef IOVMM_FUZZ_FZ_VIRTIO_H
#define IOVMM_FUZZ_FZ_VIRTIO_H

#include "emul-devices/virtio/pci_regs.h"
#include "emul-devices/virtio/virtio.h"
#include "fz.h"

#define FZ_VIRTIO_SETUP 13
#define FZ_VIRTIO_RAM (64 * 1024)

struct fz_virtio {
	struct fz_vm *vm;
	struct pci_dev *dev;
	uint64_t common, notify, isr, device; /* absolute MMIO addresses */
	uint32_t notify_mult;
	uint16_t nq;                          /* queues the device has */
};

static inline uint64_t fzv_rd(struct fz_virtio *v, uint64_t a, uint32_t len)
{
	uint64_t x = 0;

	bus_access(v->vm->bus, BUS_MMIO, a, &x, len, false);
	return x;
}

static inline void fzv_wr(struct fz_virtio *v, uint64_t a, uint64_t x,
			  uint32_t len)
{
	bus_access(v->vm->bus, BUS_MMIO, a, &x, len, true);
}

static inline uint32_t fzv_cfg(struct fz_virtio *v, uint32_t off, uint32_t len)
{
	return pci_host_cfg_read(v->vm->host, v->dev->devfn, off, len);
}

/* §4.1.4: the structures the vendor capabilities point at. */
static inline bool fz_virtio_probe(struct fz_virtio *v, struct fz_vm *vm,
				   struct pci_dev *dev)
{
	uint32_t ptr;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->dev = dev;
	ptr = fzv_cfg(v, PCI_CAPABILITY_LIST, 1) & 0xfc;
	for (int guard = 0; ptr && guard < 48; guard++) {
		if (fzv_cfg(v, ptr, 1) == 0x09) {
			uint8_t type = (uint8_t)fzv_cfg(v, ptr + 3, 1);
			uint64_t a = pci_dev_bar_mapped(
				dev, fzv_cfg(v, ptr + VIRTIO_PCI_CAP_BAR, 1) % 6);

			a += fzv_cfg(v, ptr + VIRTIO_PCI_CAP_OFFSET, 4);
			if (type == VIRTIO_PCI_CAP_COMMON_CFG)
				v->common = a;
			else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
				v->notify = a;
				v->notify_mult = fzv_cfg(
					v, ptr + VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
			} else if (type == VIRTIO_PCI_CAP_ISR_CFG)
				v->isr = a;
			else if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
				v->device = a;
		}
		ptr = fzv_cfg(v, ptr + 1, 1) & 0xfc;
	}
	if (!v->common || !v->notify || !v->isr)
		return false;
	v->nq = (uint16_t)fzv_rd(v, v->common + VIRTIO_PCI_COMMON_NUMQ, 2);
	fz_win_add(vm, BUS_MMIO, v->common, 0x40);
	fz_win_add(vm, BUS_MMIO, v->notify, (uint64_t)(v->nq ? v->nq : 1) *
		   (v->notify_mult ? v->notify_mult : 4));
	fz_win_add(vm, BUS_MMIO, v->isr, 4);
	fz_win_add(vm, BUS_MMIO, v->device ? v->device : v->isr, 0x40);
	fz_win_add(vm, BUS_MMIO,
		   LAYOUT_ECAM_START + ((uint64_t)dev->devfn << 12), PCI_CFG_SIZE);
	return true;
}

static inline void fz_virtio_queue(struct fz_virtio *v, unsigned q,
				   uint8_t size_sel, const uint8_t *gpas)
{
	uint64_t c = v->common;
	uint16_t max, size;
	uint64_t a[3];

	fzv_wr(v, c + VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	max = (uint16_t)fzv_rd(v, c + VIRTIO_PCI_COMMON_Q_SIZE, 2);
	size = size_sel ? (uint16_t)(1u << (size_sel % 16)) : max;
	fzv_wr(v, c + VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	for (unsigned i = 0; i < 3; i++)
		a[i] = ((uint32_t)(gpas[2 * i] | gpas[2 * i + 1] << 8) +
			0x1000u * q) % FZ_VIRTIO_RAM;
	/* §4.1.3.1: 64-bit fields as two 32-bit accesses. */
	fzv_wr(v, c + VIRTIO_PCI_COMMON_Q_DESCLO, a[0], 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_Q_AVAILLO, a[1], 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_Q_AVAILHI, 0, 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_Q_USEDLO, a[2], 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_Q_USEDHI, 0, 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

/* §3.1.1, with the choices of the FZ_VIRTIO_SETUP bytes s. */
static inline void fz_virtio_setup(struct fz_virtio *v, const uint8_t *s)
{
	uint64_t c = v->common, offer, want;
	uint8_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	fzv_wr(v, c + VIRTIO_PCI_COMMON_STATUS, 0, 1);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_STATUS, st, 1);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	offer = fzv_rd(v, c + VIRTIO_PCI_COMMON_DF, 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	offer |= fzv_rd(v, c + VIRTIO_PCI_COMMON_DF, 4) << 32;
	want = offer & ((uint64_t)(s[0] | s[1] << 8 | s[2] << 16 |
				   (uint32_t)s[3] << 24) |
			(uint64_t)s[4] << 32);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_GF, (uint32_t)want, 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_GF, want >> 32, 4);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_STATUS,
	       st | VIRTIO_STATUS_FEATURES_OK, 1);
	if (!(fzv_rd(v, c + VIRTIO_PCI_COMMON_STATUS, 1) &
	      VIRTIO_STATUS_FEATURES_OK))
		return; /* refused: the script may still poke at it */
	for (unsigned q = 0; q < v->nq && q < 8; q++)
		if (s[6] & (1u << q))
			fz_virtio_queue(v, q, s[5], &s[7]);
	fzv_wr(v, c + VIRTIO_PCI_COMMON_STATUS,
	       st | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
}

/* The guest kicks queue q (§4.1.4.4); the I/O loop runs after the op. */
static inline void fz_virtio_kick(struct fz_virtio *v, unsigned q)
{
	uint16_t noff;

	if (!v->nq)
		return;
	q %= v->nq;
	fzv_wr(v, v->common + VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	noff = (uint16_t)fzv_rd(v, v->common + VIRTIO_PCI_COMMON_Q_NOFF, 2);
	fzv_wr(v, v->notify + (uint64_t)noff * v->notify_mult, q, 2);
}

/*
 * The operations every virtio target shares, as an fz_op_fn (opaque is
 * the target's state, which starts with its struct fz_virtio):
 *   3  kick queue u8            4  reset and set up again (set-up bytes)
 */
static inline bool fz_virtio_op(struct fz_vm *vm, void *opaque, uint8_t op,
				struct fz_in *in)
{
	struct fz_virtio *v = opaque;
	uint8_t s[FZ_VIRTIO_SETUP];

	switch (op & 7) {
	case 3:
		if (!in->n)
			return false;
		fz_virtio_kick(v, fz_u8(in));
		return true;
	case 4:
		if (!fz_take(in, s, sizeof(s)))
			return false;
		fz_virtio_setup(v, s);
		return true;
	default:
		return true;
	}
}

#endif
