/* SPDX-License-Identifier: MIT */
/*
 * The harness shared by the device fuzzers (tests/fuzz/fuzz_*.c): a small
 * machine made of the real core parts (gmem guest RAM, bus, PCI host
 * bridge, an I/O loop run on the fuzzer's own thread, optionally the
 * recording interrupt controller of tests/unit/fakes/fake_irq) and an
 * interpreter of "guest scripts": the input is a sequence of operations a
 * hostile guest performs, each an op byte and its operands.
 *
 *   op & 7 == 0  read   op >> 3: bits 0-1 length (1, 2, 4, 8), bits 2-4
 *                       window; then le32 offset (modulo the window size)
 *   op & 7 == 1  write  the same, then `length` bytes of value
 *   op & 7 == 2  poke   le16 GPA, u8 n, n bytes written into guest RAM
 *                       (a driver racing the device)
 *   op & 7 >= 3  the target's own operations (fz_script's `extra`)
 *
 * A window is a guest-visible address range (a BAR, config space through
 * ECAM, a run of I/O ports), so every access goes through bus_access()
 * exactly as a vCPU exit would deliver it. A truncated operation ends the
 * script. Invariants that must hold whatever the guest did are CHECKed;
 * a violation traps and libFuzzer reports it (as do ASan and UBSan).
 */
#ifndef IOVMM_FUZZ_FZ_H
#define IOVMM_FUZZ_FZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/bus.h"
#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/pci/host.h"
#include "fake_irq.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

#define FZ_MAX_WIN 8
#define FZ_MAX_OPS 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * Warnings about what the guest did wrong are the expected case here (and
 * rate-limited per call site, so they would print once per site anyway):
 * only errors reach stderr, which libFuzzer shares with its reports.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERR);
	return 0;
}

/* ---- input cursor ---- */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool fz_take(struct fz_in *in, void *out, size_t len)
{
	if (in->n < len)
		return false;
	memcpy(out, in->p, len);
	in->p += len;
	in->n -= len;
	return true;
}

/* Little-endian integers; 0 once the input is exhausted. */
static inline uint64_t fz_le(struct fz_in *in, unsigned len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	fz_take(in, b, len);
	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline uint8_t fz_u8(struct fz_in *in) { return (uint8_t)fz_le(in, 1); }
static inline uint16_t fz_u16(struct fz_in *in) { return (uint16_t)fz_le(in, 2); }
static inline uint32_t fz_u32(struct fz_in *in) { return (uint32_t)fz_le(in, 4); }

/* ---- the machine ---- */

struct fz_win {
	enum bus_space space;
	uint64_t base, size;
};

struct fz_vm {
	struct gmem *mem;      /* kept across inputs (a memfd mapping is slow
				* to make); zeroed and reloaded by fz_vm_open */
	struct bus *bus;
	struct pci_host *host; /* NULL unless fz_vm_open(..., pci) */
	struct ioloop *io;     /* never started: fz_vm_io() runs it */
	struct irq *irq;       /* set by the target (fake_irq) or NULL */
	bool poll_io;          /* run the I/O loop after every operation */
	bool own_irq;          /* irq made by fz_vm_open_fake_irq */
	struct fz_win win[FZ_MAX_WIN];
	unsigned nwin;
};

/*
 * RAM of ram_size bytes (the same for every input of a process), zeroed,
 * then the first `image_len` bytes of image copied at GPA 0. A bus, an I/O
 * loop, and with pci a host bridge (CF8/CFC and ECAM) wired to vm->irq.
 * Returns false when the host cannot give the resources (not a finding).
 */
static inline bool fz_vm_open(struct fz_vm *vm, uint64_t ram_size,
			      const uint8_t *image, size_t image_len, bool pci)
{
	static struct gmem *mem;
	struct gmem_opts o = { .size = ram_size,
			       .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct irq *irq = vm->irq;

	if (!mem && gmem_create(&o, &mem))
		return false;
	memset(vm, 0, sizeof(*vm));
	vm->irq = irq;
	vm->poll_io = true;
	vm->mem = mem;
	gmem_zero(mem, 0, ram_size);
	if (image_len)
		gmem_write(mem, 0, image,
			   image_len < ram_size ? image_len : ram_size);
	if (bus_create(&vm->bus))
		return false;
	if (ioloop_create(&vm->io))
		goto err_bus;
	if (pci && pci_host_create(vm->bus, vm->irq, 0, 0, &vm->host))
		goto err_io;
	return true;
err_io:
	ioloop_destroy(vm->io);
err_bus:
	bus_destroy(vm->bus);
	return false;
}

/* The host bridge first (it unregisters the BARs), then the loop and bus;
 * the caller destroys its devices in between (fz_vm_close_host). */
static inline void fz_vm_close_host(struct fz_vm *vm)
{
	pci_host_destroy(vm->host);
	vm->host = NULL;
}

static inline void fz_vm_close(struct fz_vm *vm)
{
	if (vm->host)
		fz_vm_close_host(vm);
	ioloop_destroy(vm->io);
	bus_destroy(vm->bus);
	if (vm->own_irq)
		irq_destroy(vm->irq);
}

/*
 * The same with the recording interrupt controller (tests/unit/fakes/
 * fake_irq.h) as vm->irq, so MSI routes and irqfds are observable; the I/O
 * loop is not polled (set poll_io for targets with back ends).
 */
static inline bool fz_vm_open_fake_irq(struct fz_vm *vm, struct fake_irq **fake,
				       uint64_t ram_size, bool pci)
{
	struct irq *irq;

	if (fake_irq_create(&irq, fake))
		return false;
	vm->irq = irq;
	if (!fz_vm_open(vm, ram_size, NULL, 0, pci)) {
		irq_destroy(irq);
		return false;
	}
	vm->own_irq = true;
	vm->poll_io = false;
	return true;
}

/* The I/O thread's work, done now on this thread (deterministic). */
static inline void fz_vm_io(struct fz_vm *vm)
{
	for (int i = 0; i < 8 && ioloop_poll(vm->io, 0) > 0; i++)
		;
}

static inline void fz_win_add(struct fz_vm *vm, enum bus_space space,
			      uint64_t base, uint64_t size)
{
	if (vm->nwin < FZ_MAX_WIN && size && base != PCI_BAR_UNMAPPED)
		vm->win[vm->nwin++] = (struct fz_win){ space, base, size };
}

/* The BARs of a function as the host placed them, then its ECAM page. */
static inline void fz_win_pci(struct fz_vm *vm, struct pci_dev *dev)
{
	for (unsigned b = 0; b < PCI_NR_BARS; b++) {
		const struct pci_bar *bar = &dev->cfg.bars[b];

		if (bar->kind == PCI_BAR_NONE)
			continue;
		fz_win_add(vm, bar->kind == PCI_BAR_IO ? BUS_PIO : BUS_MMIO,
			   pci_dev_bar_mapped(dev, b), bar->size);
	}
	fz_win_add(vm, BUS_MMIO, LAYOUT_ECAM_START + ((uint64_t)dev->devfn << 12),
		   PCI_CFG_SIZE);
}

/* ---- guest scripts ---- */

/* One read or write in a window (op & 7 is 0 or 1). */
static inline bool fz_access(struct fz_vm *vm, uint8_t op, struct fz_in *in)
{
	static const uint32_t lens[4] = { 1, 2, 4, 8 };
	uint32_t len = lens[(op >> 3) & 3];
	const struct fz_win *w;
	uint64_t off, v = 0;

	if (!vm->nwin || in->n < 4)
		return false;
	w = &vm->win[(op >> 5) % vm->nwin];
	off = fz_u32(in) % w->size;
	if ((op & 7) == 1 && !fz_take(in, &v, len))
		return false;
	bus_access(vm->bus, w->space, w->base + off, &v, len, (op & 7) == 1);
	return true;
}

static inline bool fz_poke(struct fz_vm *vm, struct fz_in *in)
{
	uint64_t gpa = fz_u16(in);
	uint8_t n = fz_u8(in), buf[256];

	if (!fz_take(in, buf, n))
		return false;
	if (gmem_is_ram(vm->mem, gpa, n))
		gmem_write(vm->mem, gpa, buf, n);
	return true;
}

/* A target's operation op (op & 7 >= 3); false when the input ran out. */
typedef bool (*fz_op_fn)(struct fz_vm *vm, void *opaque, uint8_t op,
			 struct fz_in *in);

/* Run a script; after every operation the I/O loop runs and `check`. */
static inline void fz_script(struct fz_vm *vm, struct fz_in *in,
			     fz_op_fn extra, void *opaque,
			     void (*check)(void *opaque))
{
	for (unsigned i = 0; i < FZ_MAX_OPS && in->n; i++) {
		uint8_t op = fz_u8(in);
		bool ok;

		switch (op & 7) {
		case 0: case 1:
			ok = fz_access(vm, op, in);
			break;
		case 2:
			ok = fz_poke(vm, in);
			break;
		default:
			ok = extra && extra(vm, opaque, op, in);
			break;
		}
		if (!ok)
			return;
		if (vm->poll_io)
			fz_vm_io(vm);
		if (check)
			check(opaque);
	}
}

/*
 * Split an input into a header of hdr_len bytes, a script whose length is
 * the le16 that follows, and the rest (a RAM image, a file...).
 */
static inline bool fz_split(const uint8_t *data, size_t size, size_t hdr_len,
			    struct fz_in *hdr, struct fz_in *script,
			    struct fz_in *rest)
{
	size_t slen;

	if (size < hdr_len + 2)
		return false;
	*hdr = (struct fz_in){ data, hdr_len };
	slen = (size_t)data[hdr_len] | (size_t)data[hdr_len + 1] << 8;
	data += hdr_len + 2;
	size -= hdr_len + 2;
	if (slen > size)
		slen = size;
	*script = (struct fz_in){ data, slen };
	*rest = (struct fz_in){ data + slen, size - slen };
	return true;
}

#endif
