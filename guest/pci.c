/* SPDX-License-Identifier: MIT */
/*
 * PCI enumeration of bus 0 through ECAM (MCFG) or CF8/CFC (via the CPL0
 * trap), BAR sizing, and firmware-style BAR assignment for machines without
 * firmware (QEMU microvm leaves every BAR at 0).
 *
 * Assignment windows (documented in guest/README.md):
 *  - 32-bit memory: from max(0xc0000000, top of low RAM) up to the ECAM base
 *    when ECAM sits above that, else up to the IOAPIC (0xfec00000). This is
 *    iovmm's layout and QEMU microvm's GPEX window (0xc0000000-0xdfffffff,
 *    ECAM at 0xe0000000). 64-bit BARs are placed there too.
 *  - I/O: from 0x1000 up to 0xffff.
 * Allocation bumps upward from above every BAR already assigned in the
 * window, so firmware/VMM assignments are never overlapped.
 */
#include "guest/kit.h"

#define PCI_VENDOR 0x00
#define PCI_COMMAND 0x04
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CMD_IO 0x1
#define PCI_CMD_MEM 0x2
#define PCI_CMD_MASTER 0x4

static struct kit_pci_dev kit_pci_devs[KIT_PCI_MAX_DEVS];
static unsigned int kit_pci_ndevs;
static uint64_t kit_ecam;

static uint64_t pci_cfg_addr(uint8_t bus, uint8_t dev, uint8_t fn,
			     unsigned int off)
{
	return kit_ecam + ((uint64_t)bus << 20) + ((uint64_t)dev << 15) +
	       ((uint64_t)fn << 12) + off;
}

static uint32_t pci_raw_read(uint8_t bus, uint8_t dev, uint8_t fn,
			     unsigned int off, unsigned int width)
{
	if (kit_ecam) {
		uint64_t a = pci_cfg_addr(bus, dev, fn, off);

		if (width == 1)
			return kit_mmio_read8(a);
		if (width == 2)
			return *(volatile uint16_t *)(uintptr_t)a;
		return kit_mmio_read32(a);
	}
	if (off >= 256)
		return UINT32_MAX;
	kit_out(KIT_PORT_PCI_ADDR, 4, 0x80000000u | (uint32_t)bus << 16 |
		(uint32_t)dev << 11 | (uint32_t)fn << 8 | (off & 0xfc));
	return kit_in((uint16_t)(KIT_PORT_PCI_DATA + (off & 3)), width);
}

static void pci_raw_write(uint8_t bus, uint8_t dev, uint8_t fn,
			  unsigned int off, unsigned int width, uint32_t v)
{
	if (kit_ecam) {
		uint64_t a = pci_cfg_addr(bus, dev, fn, off);

		if (width == 1)
			kit_mmio_write8(a, (uint8_t)v);
		else if (width == 2)
			kit_mmio_write16(a, (uint16_t)v);
		else
			kit_mmio_write32(a, v);
		return;
	}
	if (off >= 256)
		return;
	kit_out(KIT_PORT_PCI_ADDR, 4, 0x80000000u | (uint32_t)bus << 16 |
		(uint32_t)dev << 11 | (uint32_t)fn << 8 | (off & 0xfc));
	kit_out((uint16_t)(KIT_PORT_PCI_DATA + (off & 3)), width, v);
}

uint32_t kit_pci_cfg_read(const struct kit_pci_dev *d, unsigned int off,
			  unsigned int width)
{
	return pci_raw_read(d->bus, d->dev, d->fn, off, width);
}

void kit_pci_cfg_write(const struct kit_pci_dev *d, unsigned int off,
		       unsigned int width, uint32_t v)
{
	pci_raw_write(d->bus, d->dev, d->fn, off, width, v);
}

unsigned int kit_pci_find_cap(const struct kit_pci_dev *d, uint8_t id)
{
	unsigned int ptr;

	if (!(kit_pci_cfg_read(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	ptr = kit_pci_cfg_read(d, PCI_CAP_PTR, 1) & 0xfc;
	/* At most 48 capabilities fit in 192 bytes: bounds a looped list. */
	for (int n = 0; n < 48 && ptr >= 0x40; n++) {
		uint32_t hdr = kit_pci_cfg_read(d, ptr, 2);

		if ((hdr & 0xff) == id)
			return ptr;
		ptr = (hdr >> 8) & 0xfc;
	}
	return 0;
}

struct kit_pci_dev *kit_pci_find(uint16_t vendor, uint16_t device)
{
	for (unsigned int i = 0; i < kit_pci_ndevs; i++)
		if (kit_pci_devs[i].vendor == vendor &&
		    kit_pci_devs[i].device == device)
			return &kit_pci_devs[i];
	return NULL;
}

struct kit_pci_dev *kit_pci_dev_at(unsigned int i)
{
	return i < kit_pci_ndevs ? &kit_pci_devs[i] : NULL;
}

/* PCI 3.0 §6.2.5.1: size a BAR by writing all ones (decode is off). */
static unsigned int pci_size_bar(struct kit_pci_dev *d, unsigned int i)
{
	unsigned int off = PCI_BAR0 + 4 * i;
	uint32_t orig = kit_pci_cfg_read(d, off, 4), mask, hi = 0, hmask = 0;
	struct kit_pci_bar *b = &d->bar[i];

	kit_pci_cfg_write(d, off, 4, UINT32_MAX);
	mask = kit_pci_cfg_read(d, off, 4);
	kit_pci_cfg_write(d, off, 4, orig);
	if (mask == 0 || mask == UINT32_MAX)
		return 1; /* unimplemented (or absent device) */
	if (orig & 1) {
		b->io = true;
		mask = (mask & ~3u) | 0xffff0000u;
		b->size = (uint32_t)(~mask + 1);
		b->base = orig & ~3u & 0xffff;
		return 1;
	}
	b->is64 = ((orig >> 1) & 3) == 2 && i < 5;
	if (b->is64) {
		hi = kit_pci_cfg_read(d, off + 4, 4);
		kit_pci_cfg_write(d, off + 4, 4, UINT32_MAX);
		hmask = kit_pci_cfg_read(d, off + 4, 4);
		kit_pci_cfg_write(d, off + 4, 4, hi);
	}
	b->size = ~(((uint64_t)hmask << 32) | (mask & ~0xfu)) + 1;
	if (!b->is64)
		b->size &= 0xffffffffULL;
	b->base = ((uint64_t)hi << 32) | (orig & ~0xfu);
	return b->is64 ? 2 : 1;
}

struct pci_window {
	uint64_t next, end;
};

static int pci_alloc(struct pci_window *w, uint64_t size, uint64_t *out)
{
	uint64_t a = KIT_ALIGN_UP(w->next, size);

	if (size == 0 || (size & (size - 1)) || a < w->next || a + size > w->end)
		return -1;
	*out = a;
	w->next = a + size;
	return 0;
}

static void pci_assign(struct kit_pci_dev *d, struct pci_window *mem,
		       struct pci_window *io)
{
	uint16_t cmd = 0;

	for (unsigned int i = 0; i < 6; i++) {
		struct kit_pci_bar *b = &d->bar[i];
		unsigned int off = PCI_BAR0 + 4 * i;
		uint64_t a;

		if (!b->size)
			continue;
		if (!b->base && !pci_alloc(b->io ? io : mem, b->size, &a)) {
			b->base = a;
			kit_pci_cfg_write(d, off, 4, (uint32_t)a |
					  (kit_pci_cfg_read(d, off, 4) & 0xf));
			if (b->is64)
				kit_pci_cfg_write(d, off + 4, 4,
						  (uint32_t)(a >> 32));
		}
		if (b->base && b->base >= 0x100000000ULL &&
		    kit_syscall(KIT_SYS_MAP, b->base, b->size, 0) != 0)
			b->base = 0; /* unreachable: leave it unused */
		if (b->base)
			cmd |= b->io ? PCI_CMD_IO : PCI_CMD_MEM;
	}
	/* Only devices with BARs are ours to enable; never clear bits the
	 * firmware set (host bridges). */
	if (cmd)
		kit_pci_cfg_write(d, PCI_COMMAND, 2,
				  kit_pci_cfg_read(d, PCI_COMMAND, 2) | cmd |
				  PCI_CMD_MASTER);
}

static void pci_probe_fn(uint8_t bus, uint8_t dev, uint8_t fn)
{
	uint32_t id = pci_raw_read(bus, dev, fn, PCI_VENDOR, 4);
	struct kit_pci_dev *d;
	uint32_t cmd;

	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0 ||
	    kit_pci_ndevs == KIT_PCI_MAX_DEVS)
		return;
	d = &kit_pci_devs[kit_pci_ndevs++];
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	d->class_code = (uint8_t)kit_pci_cfg_read(d, 0x0b, 1);
	d->subclass = (uint8_t)kit_pci_cfg_read(d, 0x0a, 1);
	if ((kit_pci_cfg_read(d, PCI_HEADER_TYPE, 1) & 0x7f) != 0)
		return; /* bridges: BARs not handled */
	cmd = kit_pci_cfg_read(d, PCI_COMMAND, 2);
	kit_pci_cfg_write(d, PCI_COMMAND, 2, cmd & ~3u);
	for (unsigned int i = 0; i < 6;)
		i += pci_size_bar(d, i);
	kit_pci_cfg_write(d, PCI_COMMAND, 2, cmd);
}

static void pci_windows(const struct kit_platform *p, struct pci_window *mem,
			struct pci_window *io)
{
	uint64_t lo = 0xc0000000ULL;

	for (unsigned int i = 0; i < p->memmap_entries; i++) {
		const struct kit_hvm_memmap_entry *e = &p->memmap[i];
		uint64_t end = e->addr + e->size;

		if (e->type == 1 && end <= 0x100000000ULL && end > lo)
			lo = KIT_ALIGN_UP(end, 1ULL << 20);
	}
	mem->next = lo;
	mem->end = p->ecam_base > lo ? p->ecam_base : 0xfec00000ULL;
	io->next = 0x1000;
	io->end = 0x10000;
	/* Never overlap what firmware or the VMM already assigned. */
	for (unsigned int i = 0; i < kit_pci_ndevs; i++) {
		for (unsigned int j = 0; j < 6; j++) {
			const struct kit_pci_bar *b = &kit_pci_devs[i].bar[j];
			struct pci_window *w = b->io ? io : mem;

			if (b->size && b->base && b->base < w->end &&
			    b->base + b->size > w->next)
				w->next = b->base + b->size;
		}
	}
}

int kit_pci_init(struct kit_platform *p)
{
	struct pci_window mem, io;
	uint8_t bus = 0;

	size_t len;
	const char *how = kit_cmdline_get("pci", &len);

	/* pci=cf8 forces the legacy mechanism even when ECAM is known. */
	kit_ecam = p->ecam_base;
	if (how && len == 3 && !memcmp(how, "cf8", 3))
		kit_ecam = 0;
	if (kit_ecam)
		bus = p->ecam_bus_start;
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint32_t id = pci_raw_read(bus, dev, 0, PCI_VENDOR, 4);
		uint8_t fns = 1;

		if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
			continue;
		if (pci_raw_read(bus, dev, 0, PCI_HEADER_TYPE, 1) & 0x80)
			fns = 8;
		for (uint8_t fn = 0; fn < fns; fn++)
			pci_probe_fn(bus, dev, fn);
	}
	pci_windows(p, &mem, &io);
	for (unsigned int i = 0; i < kit_pci_ndevs; i++)
		pci_assign(&kit_pci_devs[i], &mem, &io);
	p->pci_devices = kit_pci_ndevs;
	return 0;
}
