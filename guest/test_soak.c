/* SPDX-License-Identifier: MIT */
/*
 * soak seed=N rounds=M [span=BYTES]: a hostile guest for `rounds` rounds
 * (issue 17, item 4). From a deterministic PRNG seeded with `seed`, every
 * round (soak_round) does, over the PCI functions found (bridges aside):
 *   1. every BAR put back where enumeration found them, decode and bus
 *      master on (so the registers can be reached again);
 *   then for each function the kit knows (table below), in a random order:
 *   2. for devices the kit has drivers for (virtio-net, virtio-blk, e1000,
 *      NVMe), a driver-like set-up with rings in the sandbox (below)
 *      filled with random descriptors / commands, and doorbells rung with
 *      random values;
 *   3. every dword of each memory BAR's first `span` bytes (default 16
 *      KiB) plus 256 random offsets beyond it and the whole MSI-X table
 *      (sanitized, below): random widths (1/2/4/8), random values, one in
 *      five a read; for I/O BARs 32 random port writes;
 *   and last, for every function in the same order:
 *   4. every byte offset of config space 0x00-0xff (random widths,
 *      command register and BARs included) and 32 random offsets in
 *      0x100-0xfff (ECAM only).
 * Afterwards the VM must still answer: a line per round on the serial
 * line, every function's ids read back unchanged (they are read-only), the
 * RESULT line, and debug-exit. A VMM that crashes, hangs or corrupts the
 * kit fails it; the integ test bounds its wall-clock time.
 *
 * What is excluded, and why (the kit must keep its means of reporting;
 * without these rules a random value would make the test meaningless,
 * not the VMM wrong):
 *   - bridges (class 06h: the host bridge, ISA/LPC bridges: a random write
 *     there can unmap COM1 or ECAM or reset the machine) and functions the
 *     kit has no register map for (their DMA address registers are
 *     unknown): unknown functions get step 4 only;
 *   - DMA: every value that can become a DMA address (known address
 *     registers: e1000 RDBA/TDBA and their 82542 aliases, NVMe ASQ/ACQ,
 *     virtio queue_desc/driver/device, edu DMA source/destination, MSI and
 *     MSI-X message addresses; every descriptor and PRP this test builds)
 *     is drawn from soak_addr(): 0, the sandbox (all RAM the kit has not
 *     allocated for itself, up to the end of RAM), RAM's very end
 *     (straddling it), the hole between RAM and the PCI window, above 4
 *     GiB, or all ones. Never the kit's image, stacks or page tables, never
 *     the IOAPIC/LAPIC/ECAM ranges (a DMA write there is an interrupt or
 *     a config write on QEMU). A write that overlaps such a register is
 *     replaced by a whole-register write of such a value. Lengths paired
 *     with address 0 stay below 1 MiB (the kit starts at 1 MiB);
 *   - MSI/MSI-X data: fixed or lowest-priority delivery, vectors 30h-EFh
 *     (never NMI, INIT, SMI or ExtINT, which would stop or reset the
 *     vCPU); interrupts stay disabled (IF = 0), so vectors only pend;
 *   - BARs: moved only into the 32-bit PCI window (possibly over another
 *     function's BAR), onto sandbox RAM, to 0, above 4 GiB, or all ones
 *     (the sizing value); never onto the kit's image, ECAM, the APICs or
 *     legacy ports; I/O BARs never below 1000h (COM1, debug-exit, CF8);
 *   - the virtio PCI-configuration-access capability: its window is aimed
 *     at non-address registers only.
 * keys: seed=N (default 1) rounds=M (default 4) span=BYTES (1-65536)
 * RESULT: seed rounds devices cfg mmio io rings alive
 */
#include "guest/virtio.h"

#define SOAK_MAX_SPANS 80
#define SOAK_WINDOW_END_DEFAULT 0xd0000000ULL
#define SOAK_HOLE_MAX 0x8000000ULL /* hole addresses: top of RAM + 128 MiB */

enum soak_kind { SK_UNKNOWN, SK_VNET, SK_VBLK, SK_E1000, SK_NVME, SK_EDU,
		 SK_TESTDEV };

/* A register range whose writes are sanitized. */
enum span_type { SPAN_ADDR64, SPAN_MSIX };

struct soak_span {
	uint64_t addr;
	uint32_t len;
	enum span_type type;
};

struct soak_dev {
	struct kit_pci_dev *pci;
	enum soak_kind kind;
	uint32_t bar_orig[6];
	uint32_t id;
	struct soak_span span[SOAK_MAX_SPANS];
	unsigned int nspan;
	unsigned int msi_cap, vcfg_cap; /* 0: none */
	struct kit_virtio v;            /* virtio: v.common 0 if unusable */
};

struct soak {
	uint64_t x; /* PRNG state */
	uint64_t sb, sb_end, ram_top, win_lo, win_hi, hole;
	uint64_t span;
	struct soak_dev dev[KIT_PCI_MAX_DEVS];
	unsigned int ndev;
	uint64_t cfg, mmio, io, rings;
};

static struct soak S;

static uint64_t rnd(void)
{
	/* xorshift64* (Vigna): deterministic per seed, never 0. */
	S.x ^= S.x >> 12;
	S.x ^= S.x << 25;
	S.x ^= S.x >> 27;
	return S.x * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* Random register contents: the shapes that break parsers most. */
static uint64_t rnd_val(void)
{
	switch (rnd_below(8)) {
	case 0: return 0;
	case 1: return UINT64_MAX;
	case 2: return rnd_below(256);
	case 3: return 1ULL << rnd_below(64);
	case 4: return rnd() & 0xffff;
	case 5: return rnd_below(0x10000) << 16;
	default: return rnd();
	}
}

/* A DMA address that cannot land on the kit (see the header). */
static uint64_t soak_addr(void)
{
	uint64_t sbsz = S.sb_end - S.sb;

	switch (rnd_below(16)) {
	case 0: return 0;
	case 1: case 2: case 3: case 4: case 5:
		return S.sb + (rnd_below(sbsz) & ~0xfffULL);
	case 6: case 7:
		return S.sb + (rnd_below(sbsz) & ~3ULL);
	case 8: return S.ram_top - 16 * rnd_below(256);
	case 9: case 10: /* nothing there (S.hole may be 0: RAM to 3 GiB) */
		if (S.hole)
			return S.ram_top + (rnd_below(S.hole) & ~0xfffULL);
		return 1ULL << 40;
	case 11: return 1ULL << 40;
	case 12: case 13:
		return (1ULL << 32) + (rnd() & ((1ULL << 46) - 1));
	case 14: return UINT64_MAX;
	default: return rnd() | (1ULL << 63);
	}
}

static uint32_t soak_len(uint64_t addr)
{
	if (addr < S.sb)
		return (uint32_t)rnd_below(0x10000);
	if (addr < S.ram_top)
		return (uint32_t)(rnd_below(4) == 0 ? rnd_below(64ULL << 20)
						    : rnd_below(0x4000));
	return (uint32_t)rnd();
}

/* A page-aligned chunk of the sandbox big enough for `bytes`. */
static uint64_t sb_chunk(uint64_t bytes)
{
	uint64_t room = S.sb_end - S.sb - bytes;

	return S.sb + (rnd_below(room) & ~0xfffULL);
}

/* MSI address/data (PCI 3.0 §6.8.1.x, SDM Vol. 3 §11.11). */
static uint32_t msi_addr(void)
{
	return 0xfee00000u | (uint32_t)(rnd() & 0xff00c);
}

static uint32_t msi_data(void)
{
	return (uint32_t)(0x30 + rnd_below(0xc0)) |
	       (uint32_t)(rnd_below(2) << 8);
}

/* ---- accesses ---- */

static void mmio_write(uint64_t a, unsigned int w, uint64_t v)
{
	switch (w) {
	case 1: kit_mmio_write8(a, (uint8_t)v); break;
	case 2: kit_mmio_write16(a, (uint16_t)v); break;
	case 4: kit_mmio_write32(a, (uint32_t)v); break;
	default: *(volatile uint64_t *)(uintptr_t)a = v; break;
	}
	S.mmio++;
}

static void mmio_read(uint64_t a, unsigned int w)
{
	switch (w) {
	case 1: (void)kit_mmio_read8(a); break;
	case 2: (void)kit_mmio_read16(a); break;
	case 4: (void)kit_mmio_read32(a); break;
	default: (void)*(volatile uint64_t *)(uintptr_t)a; break;
	}
	S.mmio++;
}

static void span_write(const struct soak_span *s)
{
	uint64_t a = soak_addr();

	if (s->type == SPAN_ADDR64) {
		mmio_write(s->addr, 4, (uint32_t)a);
		mmio_write(s->addr + 4, 4, (uint32_t)(a >> 32));
		return;
	}
	/* MSI-X entry (PCI 3.0 §6.8.2.6): address, upper address, data,
	 * vector control. */
	mmio_write(s->addr, 4, msi_addr());
	mmio_write(s->addr + 4, 4, 0);
	mmio_write(s->addr + 8, 4, msi_data());
	mmio_write(s->addr + 12, 4, rnd_val());
}

/* A random write at [a, a + w): sanitized when it touches a span. */
static void mmio_poke(struct soak_dev *d, uint64_t a, unsigned int w)
{
	for (unsigned int i = 0; i < d->nspan; i++) {
		const struct soak_span *s = &d->span[i];

		if (a < s->addr + s->len && s->addr < a + w) {
			span_write(s);
			return;
		}
	}
	if (rnd_below(5) == 0)
		mmio_read(a, w);
	else
		mmio_write(a, w, rnd_val());
}

static void add_span(struct soak_dev *d, uint64_t a, uint32_t len,
		     enum span_type t)
{
	if (d->nspan < SOAK_MAX_SPANS)
		d->span[d->nspan++] = (struct soak_span){ a, len, t };
}

/* ---- per-device knowledge ---- */

static const struct {
	uint16_t vendor, device;
	enum soak_kind kind;
} soak_known[] = {
	{ KIT_VIRTIO_VENDOR, KIT_VIRTIO_ID_NET_MODERN, SK_VNET },
	{ KIT_VIRTIO_VENDOR, KIT_VIRTIO_ID_NET_TRANS, SK_VNET },
	{ KIT_VIRTIO_VENDOR, KIT_VIRTIO_ID_BLK_MODERN, SK_VBLK },
	{ KIT_VIRTIO_VENDOR, KIT_VIRTIO_ID_BLK_TRANS, SK_VBLK },
	{ 0x8086, 0x100e, SK_E1000 },
	{ 0x1b36, 0x0010, SK_NVME },
	{ 0x1234, 0x11e8, SK_EDU },
	{ 0x1b36, 0x0005, SK_TESTDEV },
};

/* MSI-X table entries of the function become spans. */
static void msix_spans(struct soak_dev *d)
{
	unsigned int cap = kit_pci_find_cap(d->pci, 0x11);
	uint32_t ctrl, tbl, n;
	const struct kit_pci_bar *b;

	if (!cap)
		return;
	ctrl = kit_pci_cfg_read(d->pci, cap + 2, 2);
	tbl = kit_pci_cfg_read(d->pci, cap + 4, 4);
	n = (ctrl & 0x7ff) + 1;
	b = &d->pci->bar[tbl & 7];
	if ((tbl & 7) > 5 || !b->base || b->io)
		return;
	for (uint32_t i = 0; i < n && d->nspan < SOAK_MAX_SPANS - 8; i++)
		add_span(d, b->base + (tbl & ~7u) + 16ULL * i, 16, SPAN_MSIX);
}

/* The virtio vendor capability of cfg_type 5 (PCI configuration access,
 * virtio 1.2 §4.1.4.9). */
static unsigned int virtio_pcicfg_cap(const struct kit_pci_dev *p)
{
	unsigned int ptr = kit_pci_find_cap(p, 0x09);

	for (int n = 0; n < 48 && ptr >= 0x40; n++) {
		uint32_t hdr = kit_pci_cfg_read(p, ptr, 4);

		if ((hdr & 0xff) == 0x09 && (hdr >> 24) == 5)
			return ptr;
		ptr = (hdr >> 8) & 0xfc;
	}
	return 0;
}

static void known_spans(struct soak_dev *d)
{
	uint64_t b0 = d->pci->bar[0].base;
	static const uint32_t e1000_addr[] = { 0x2800, 0x3800, 0x0110, 0x0420 };
	const char *why;

	d->nspan = 0;
	switch (d->kind) {
	case SK_E1000:
		for (unsigned int i = 0; i < KIT_ARRAY_SIZE(e1000_addr); i++)
			add_span(d, b0 + e1000_addr[i], 8, SPAN_ADDR64);
		break;
	case SK_NVME:
		add_span(d, b0 + 0x28, 8, SPAN_ADDR64);
		add_span(d, b0 + 0x30, 8, SPAN_ADDR64);
		break;
	case SK_EDU:
		add_span(d, b0 + 0x80, 8, SPAN_ADDR64);
		add_span(d, b0 + 0x88, 8, SPAN_ADDR64);
		break;
	case SK_VNET:
	case SK_VBLK:
		if (kit_virtio_find(d->pci->device, d->pci->device, &d->v,
				    &why) < 0 || d->v.pci != d->pci)
			d->v.common = 0;
		for (unsigned int o = 0x20; d->v.common && o < 0x38; o += 8)
			add_span(d, d->v.common + o, 8, SPAN_ADDR64);
		break;
	default:
		break;
	}
	msix_spans(d);
}

/* ---- config space ---- */

/* A BAR dword (PCI 3.0 §6.2.5.1) the kit can live with. */
static uint32_t bar_value(const struct soak_dev *d, unsigned int i)
{
	const struct kit_pci_bar *b = &d->pci->bar[i];
	bool hi = i > 0 && d->pci->bar[i - 1].is64 && !b->size;
	uint64_t sz = b->size ? b->size : 4096;

	if (hi) {
		static const uint32_t his[] = { 0, 0xffffffffu, 1, 0x10 };

		return rnd_below(3) ? d->bar_orig[i] : his[rnd_below(4)];
	}
	if (b->io) {
		if (rnd_below(3) == 0)
			return 0xffffffffu;
		return (uint32_t)(0x1000 + (rnd_below(0xf000) & ~(sz - 1)));
	}
	switch (rnd_below(6)) {
	case 0: return 0xffffffffu;
	case 1: return 0;
	case 2: return (uint32_t)(S.sb + (rnd_below(S.sb_end - S.sb - sz) &
					    ~(sz - 1)));
	case 3: return d->bar_orig[i];
	default:
		return (uint32_t)((S.win_lo + rnd_below(S.win_hi - S.win_lo - sz)) &
				  ~(sz - 1));
	}
}

static void cfg_write(struct soak_dev *d, unsigned int off, unsigned int w,
		      uint32_t v)
{
	kit_pci_cfg_write(d->pci, off, w, v);
	S.cfg++;
}

/* Sanitized replacement for a write at [off, off + w); false: none. */
static bool cfg_protected(struct soak_dev *d, unsigned int off,
			  unsigned int w)
{
	unsigned int end = off + w, m = d->msi_cap, c = d->vcfg_cap;

	if (end > 0x10 && off < 0x28) {
		unsigned int i = (off < 0x10 ? 0 : off - 0x10) / 4;

		cfg_write(d, 0x10 + 4 * i, 4, bar_value(d, i));
		return true;
	}
	if (end > 0x30 && off < 0x34) {
		cfg_write(d, 0x30, 4, rnd_below(2) ? 0 :
			  (uint32_t)(S.win_lo + (rnd_below(0x100) << 16)) | 1);
		return true;
	}
	/* MSI (PCI 3.0 §6.8.1): address 4-7, upper 8-11 if 64-bit, data. */
	if (m && end > m + 4 && off < m + 16) {
		bool is64 = kit_pci_cfg_read(d->pci, m + 2, 2) & 0x80;

		cfg_write(d, m + 4, 4, msi_addr());
		if (is64)
			cfg_write(d, m + 8, 4, 0);
		cfg_write(d, m + (is64 ? 12 : 8), 2, msi_data());
		return true;
	}
	/* virtio pci_cfg window: bar, offset, length, data (§4.1.4.9). */
	if (c && end > c + 4 && off < c + 20) {
		uint8_t bar = (uint8_t)kit_pci_cfg_read(d->pci, c + 4, 1);
		static const uint8_t lens[] = { 1, 2, 4 };

		/* Common cfg offsets below queue_desc: never an address. */
		cfg_write(d, c + 4, 1, bar > 5 ? 0 : bar);
		cfg_write(d, c + 8, 4, (uint32_t)(rnd_below(8) * 4));
		cfg_write(d, c + 12, 4, lens[rnd_below(3)]);
		cfg_write(d, c + 16, 4, (uint32_t)rnd_val());
		return true;
	}
	return false;
}

static void cfg_soak(struct soak_dev *d)
{
	static const unsigned int widths[] = { 1, 2, 4 };

	for (unsigned int off = 0; off < 0x100;) {
		unsigned int w = widths[rnd_below(3)];

		if (off & (w - 1))
			w = 1;
		if (!cfg_protected(d, off, w)) {
			if (rnd_below(4) == 0) {
				(void)kit_pci_cfg_read(d->pci, off, w);
				S.cfg++;
			} else {
				cfg_write(d, off, w, (uint32_t)rnd_val());
			}
		}
		off += w;
	}
	if (!kit_plat.ecam_base)
		return;
	for (int i = 0; i < 32; i++)
		cfg_write(d, 0x100 + ((unsigned int)rnd_below(0xf00) & ~3u), 4,
			  (uint32_t)rnd_val());
}

/* Step 1: BARs back, decode and bus master on (decode is off). */
static void restore(struct soak_dev *d)
{
	for (unsigned int i = 0; i < 6; i++)
		if (d->pci->bar[i].size || (i && d->pci->bar[i - 1].is64))
			kit_pci_cfg_write(d->pci, 0x10 + 4 * i, 4, d->bar_orig[i]);
	kit_pci_cfg_write(d->pci, 0x04, 2, 0x7);
}

/* ---- step 3: BAR registers ---- */

/*
 * I/O BARs. The e1000's (IOADDR at 0, IODATA at 4, 8254x SDM §13.2.2)
 * reaches every register indirectly: IOADDR is aimed at a register that
 * is no DMA address before IODATA gets a random value.
 */
static void io_soak(struct soak_dev *d, const struct kit_pci_bar *b)
{
	for (int n = 0; n < 32; n++, S.io++) {
		uint32_t reg = (uint32_t)rnd_below(0x20000) & ~3u;
		bool addr = false;

		if (d->kind != SK_E1000 || b->size < 8) {
			kit_out((uint16_t)(b->base + rnd_below(b->size)), 1,
				(uint32_t)rnd());
			continue;
		}
		for (unsigned int i = 0; i < d->nspan; i++)
			if (d->span[i].type == SPAN_ADDR64 &&
			    reg - (uint32_t)(d->span[i].addr -
					     d->pci->bar[0].base) < 8)
				addr = true;
		if (addr)
			continue;
		kit_out((uint16_t)b->base, 4, reg);
		kit_out((uint16_t)(b->base + 4), 4, (uint32_t)rnd_val());
	}
}

static void bar_soak(struct soak_dev *d)
{
	static const unsigned int widths[] = { 1, 2, 4, 8 };

	for (unsigned int i = 0; i < 6; i++) {
		const struct kit_pci_bar *b = &d->pci->bar[i];
		uint64_t lim = b->size < S.span ? b->size : S.span;

		if (!b->base || !b->size)
			continue;
		if (b->io) {
			io_soak(d, b);
			continue;
		}
		for (uint64_t off = 0; off + 4 <= lim; off += 4) {
			unsigned int w = widths[rnd_below(4)];

			if (w == 8 && (off & 7))
				w = 4;
			if (off + w > b->size)
				w = 4;
			mmio_poke(d, b->base + off, w);
		}
		for (int n = 0; n < 256 && b->size > lim; n++)
			mmio_poke(d, b->base + (rnd_below(b->size) & ~3ULL), 4);
	}
	/* The MSI-X table wherever it is (a PBA past `span` only gets the
	 * random offsets). */
	for (unsigned int i = 0; i < d->nspan; i++)
		if (d->span[i].type == SPAN_MSIX)
			span_write(&d->span[i]);
}

/* ---- step 2: rings ---- */

static void fill_random(uint64_t at, uint64_t bytes)
{
	uint64_t *p = (uint64_t *)(uintptr_t)at;

	for (uint64_t i = 0; i < bytes / 8; i++)
		p[i] = rnd_val();
}

/* Descriptors (virtio split/packed, 16 bytes) with sanitized buffers. */
static void fill_vdesc(uint64_t at, unsigned int n, uint16_t size)
{
	struct kit_vring_desc *d = (struct kit_vring_desc *)(uintptr_t)at;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t a = soak_addr();

		d[i] = (struct kit_vring_desc){ a, soak_len(a),
						(uint16_t)rnd(),
						(uint16_t)rnd_below(size + 2) };
	}
}

static void virtio_rings(struct soak_dev *d)
{
	uint64_t c = d->v.common;
	uint16_t nq;

	if (!c)
		return;
	kit_mmio_write8(c + 0x14, 0); /* reset (§4.1.4.3.2) */
	kit_mmio_write8(c + 0x14, KIT_VIRTIO_S_ACK | KIT_VIRTIO_S_DRIVER);
	/* Half the time everything offered (which a device must accept,
	 * so the rings get used), else a random subset, or garbage. */
	for (uint32_t sel = 0, how = (uint32_t)rnd_below(4); sel < 2; sel++) {
		uint32_t f;

		kit_mmio_write32(c + 0x00, sel);
		f = kit_mmio_read32(c + 0x04);
		f = how < 2 ? f : how == 2 ? f & (uint32_t)rnd() : (uint32_t)rnd();
		kit_mmio_write32(c + 0x08, sel);
		kit_mmio_write32(c + 0x0c, f | (sel && how < 3 ? 1u : 0));
	}
	kit_mmio_write8(c + 0x14, KIT_VIRTIO_S_ACK | KIT_VIRTIO_S_DRIVER |
			KIT_VIRTIO_S_FEATURES_OK);
	nq = kit_mmio_read16(c + 0x12);
	for (uint16_t q = 0; q < nq && q < 4; q++) {
		uint16_t max, size;
		uint64_t ring = sb_chunk(0xc0000);

		kit_mmio_write16(c + 0x16, q);
		max = kit_mmio_read16(c + 0x18);
		size = rnd_below(8) ? (uint16_t)(1u << rnd_below(9)) :
				      (uint16_t)rnd();
		if (max && size > max && rnd_below(2))
			size = max;
		kit_mmio_write16(c + 0x18, size);
		fill_vdesc(ring, 256, size);
		fill_random(ring + 0x40000, 0x1000); /* driver area */
		for (unsigned int a = 0; a < 3; a++) {
			uint64_t v = rnd_below(8) ? ring + 0x40000ULL * a :
						    soak_addr();

			kit_mmio_write32(c + 0x20 + 8 * a, (uint32_t)v);
			kit_mmio_write32(c + 0x24 + 8 * a, (uint32_t)(v >> 32));
		}
		kit_mmio_write16(c + 0x1a, (uint16_t)rnd_below(4));
		kit_mmio_write16(c + 0x1c, 1);
	}
	kit_mmio_write8(c + 0x14, KIT_VIRTIO_S_ACK | KIT_VIRTIO_S_DRIVER |
			KIT_VIRTIO_S_FEATURES_OK | KIT_VIRTIO_S_DRIVER_OK);
	S.rings++;
}

/* Notify every queue (the device may have taken the rings by now). */
static void virtio_kick(struct soak_dev *d)
{
	const struct kit_virtio *v = &d->v;

	for (uint16_t q = 0; v->common && q < 4; q++) {
		uint16_t off;

		kit_mmio_write16(v->common + 0x16, q);
		off = kit_mmio_read16(v->common + 0x1e);
		if ((uint64_t)off * v->notify_mult + 2 <= v->notify_len)
			kit_mmio_write16(v->notify_base +
					 (uint64_t)off * v->notify_mult, q);
	}
}

/* 8254x SDM §13: legacy TX/RX rings of random descriptors. */
static void e1000_rings(struct soak_dev *d)
{
	uint64_t r = d->pci->bar[0].base, tx = sb_chunk(0x20000),
		 rx = tx + 0x10000;
	uint32_t n = 8 * (1 + (uint32_t)rnd_below(64));

	kit_mmio_write32(r + 0x0000, 1u << 26); /* CTRL.RST */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t *t = (uint64_t *)(uintptr_t)(tx + 16ULL * i);
		uint64_t *x = (uint64_t *)(uintptr_t)(rx + 16ULL * i);
		uint64_t a = soak_addr();

		t[0] = a;
		t[1] = (soak_len(a) & 0xffff) | (rnd() & ~0xffffULL);
		x[0] = soak_addr();
		x[1] = rnd_val();
	}
	kit_mmio_write32(r + 0x3800, (uint32_t)tx);
	kit_mmio_write32(r + 0x3804, 0);
	kit_mmio_write32(r + 0x3808, rnd_below(8) ? n * 16 : (uint32_t)rnd());
	kit_mmio_write32(r + 0x3810, 0);
	kit_mmio_write32(r + 0x0400, 0x0a | (uint32_t)(rnd() & 0xfffffff0u));
	kit_mmio_write32(r + 0x2800, (uint32_t)rx);
	kit_mmio_write32(r + 0x2804, 0);
	kit_mmio_write32(r + 0x2808, rnd_below(8) ? n * 16 : (uint32_t)rnd());
	kit_mmio_write32(r + 0x2810, 0);
	kit_mmio_write32(r + 0x0100, 0x2 | (uint32_t)(rnd() & 0x07fffffcu));
	kit_mmio_write32(r + 0x2818, (uint32_t)rnd_below(n + 4));
	kit_mmio_write32(r + 0x3818, (uint32_t)rnd_below(n + 4));
	S.rings++;
}

/* NVMe: admin queue in the sandbox, random commands, random doorbells. */
static void nvme_rings(struct soak_dev *d)
{
	static const uint8_t opc[] = { 0x00, 0x01, 0x02, 0x04, 0x05, 0x06,
				       0x08, 0x09, 0x0a, 0x0c, 0x01, 0x02 };
	uint64_t r = d->pci->bar[0].base, sq = sb_chunk(0x20000),
		 cq = sq + 0x10000, t0;
	uint32_t sqs = 2 + (uint32_t)rnd_below(63), cqs = 2 + (uint32_t)rnd_below(63);

	kit_mmio_write32(r + 0x14, 0);
	for (t0 = kit_rdtsc(); kit_mmio_read32(r + 0x1c) & 1;)
		if (kit_rdtsc() - t0 > kit_ms_to_cycles(50))
			break;
	for (uint32_t i = 0; i < sqs; i++) {
		uint32_t *e = (uint32_t *)(uintptr_t)(sq + 64ULL * i);
		uint64_t p1 = rnd_below(4) ? sb_chunk(0x1000) : soak_addr();
		uint64_t p2 = soak_addr(), list = sb_chunk(0x1000);

		fill_random(sq + 64ULL * i, 64);
		e[0] = (rnd_below(4) ? opc[rnd_below(KIT_ARRAY_SIZE(opc))] :
				       (uint8_t)rnd()) | (uint32_t)(rnd() & 0xffff0000u);
		if (rnd_below(2)) { /* a PRP list of sanitized pages */
			for (int k = 0; k < 512; k++)
				((uint64_t *)(uintptr_t)list)[k] = soak_addr();
			p2 = list;
		}
		e[6] = (uint32_t)p1;
		e[7] = (uint32_t)(p1 >> 32);
		e[8] = (uint32_t)p2;
		e[9] = (uint32_t)(p2 >> 32);
	}
	kit_mmio_write32(r + 0x24, (sqs - 1) | (cqs - 1) << 16);
	kit_mmio_write32(r + 0x28, (uint32_t)sq);
	kit_mmio_write32(r + 0x2c, 0);
	kit_mmio_write32(r + 0x30, (uint32_t)cq);
	kit_mmio_write32(r + 0x34, 0);
	kit_mmio_write32(r + 0x14, rnd_below(8) ? 0x460001u : (uint32_t)rnd());
	for (t0 = kit_rdtsc(); !(kit_mmio_read32(r + 0x1c) & 3);)
		if (kit_rdtsc() - t0 > kit_ms_to_cycles(50))
			break;
	kit_mmio_write32(r + 0x1000, (uint32_t)rnd_below(sqs));
	for (int k = 0; k < 8; k++)
		kit_mmio_write32(r + 0x1000 + 4 * rnd_below(16),
				 (uint32_t)rnd_val());
	S.rings++;
}

/* ---- the test ---- */

static void platform(void)
{
	for (unsigned int i = 0; i < kit_plat.memmap_entries; i++) {
		const struct kit_hvm_memmap_entry *m = &kit_plat.memmap[i];

		if (m->type == 1 && m->addr + m->size <= 0xc0000000ULL &&
		    m->addr + m->size > S.ram_top)
			S.ram_top = m->addr + m->size;
	}
	S.win_lo = 0xc0000000ULL;
	S.hole = S.win_lo - S.ram_top > SOAK_HOLE_MAX ? SOAK_HOLE_MAX :
						       S.win_lo - S.ram_top;
	S.win_hi = kit_plat.ecam_base > S.win_lo ? kit_plat.ecam_base :
						   SOAK_WINDOW_END_DEFAULT;
}

static void collect(void)
{
	for (unsigned int i = 0; kit_pci_dev_at(i); i++) {
		struct kit_pci_dev *p = kit_pci_dev_at(i);
		struct soak_dev *d = &S.dev[S.ndev];

		if (p->class_code == 0x06)
			continue; /* bridges: see the header */
		memset(d, 0, sizeof(*d));
		d->pci = p;
		d->id = kit_pci_cfg_read(p, 0, 4);
		for (unsigned int k = 0; k < KIT_ARRAY_SIZE(soak_known); k++)
			if (soak_known[k].vendor == p->vendor &&
			    soak_known[k].device == p->device)
				d->kind = soak_known[k].kind;
		for (unsigned int b = 0; b < 6; b++)
			d->bar_orig[b] = kit_pci_cfg_read(p, 0x10 + 4 * b, 4);
		d->msi_cap = kit_pci_find_cap(p, 0x05);
		d->vcfg_cap = virtio_pcicfg_cap(p);
		S.ndev++;
	}
}

/*
 * One round. BAR sweeps happen only while every BAR is back at its
 * enumerated place (decode off everywhere first, so a BAR left on top of
 * another function's by the last round cannot collide on the way back):
 * a sweep meant for one function must never reach another's registers
 * unsanitized. Config space, which moves BARs, comes last.
 */
static void soak_round(const unsigned int *order)
{
	for (unsigned int i = 0; i < S.ndev; i++)
		kit_pci_cfg_write(S.dev[i].pci, 0x04, 2, 0);
	for (unsigned int i = 0; i < S.ndev; i++)
		restore(&S.dev[i]);
	for (unsigned int i = 0; i < S.ndev; i++) {
		struct soak_dev *d = &S.dev[order[i]];

		if (d->kind == SK_UNKNOWN)
			continue;
		known_spans(d);
		if (d->kind == SK_VNET || d->kind == SK_VBLK) {
			virtio_rings(d);
			virtio_kick(d);
		} else if (d->kind == SK_E1000) {
			e1000_rings(d);
		} else if (d->kind == SK_NVME) {
			nvme_rings(d);
		}
		bar_soak(d);
	}
	for (unsigned int i = 0; i < S.ndev; i++)
		cfg_soak(&S.dev[order[i]]);
}

int kit_test_soak(struct kit_result *r)
{
	bool bad = false;
	uint64_t seed = kit_cmdline_u64("seed", 1, &bad);
	uint64_t rounds = kit_cmdline_u64("rounds", 4, &bad);
	unsigned int alive = 0, order[KIT_PCI_MAX_DEVS];

	S.span = kit_cmdline_u64("span", 16384, &bad);
	if (bad || rounds == 0 || rounds > 100000 || S.span == 0 ||
	    S.span > 65536)
		return kit_fail(r, "bad-param");
	S.x = seed * 0x9e3779b97f4a7c15ULL + 0x6a09e667f3bcc909ULL;
	platform();
	/* The sandbox: every byte the kit has not taken, to RAM's end. */
	S.sb_end = S.ram_top;
	S.sb = (uint64_t)(uintptr_t)kit_alloc((kit_alloc_avail() & ~0xfffULL) -
					      0x1000, 4096);
	if (!S.sb || S.sb_end < S.sb + (16ULL << 20))
		return kit_fail(r, "no-sandbox");
	collect();
	kit_printf("soak: seed=%lu rounds=%lu devices=%u sandbox=0x%lx-0x%lx\n",
		   seed, rounds, S.ndev, S.sb, S.sb_end);
	for (uint64_t round = 0; round < rounds; round++) {
		for (unsigned int i = 0; i < S.ndev; i++)
			order[i] = i;
		for (unsigned int i = S.ndev; i > 1; i--) {
			unsigned int j = (unsigned int)rnd_below(i), t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		soak_round(order);
		kit_printf("soak: round=%lu cfg=%lu mmio=%lu io=%lu rings=%lu\n",
			   round, S.cfg, S.mmio, S.io, S.rings);
	}
	for (unsigned int i = 0; i < S.ndev; i++) {
		uint32_t id = kit_pci_cfg_read(S.dev[i].pci, 0, 4);

		if (id == S.dev[i].id)
			alive++;
		else
			kit_printf("soak: %02x:%02x.%x id %08x -> %08x\n",
				   S.dev[i].pci->bus, S.dev[i].pci->dev,
				   S.dev[i].pci->fn, S.dev[i].id, id);
	}
	kit_res_add(r, "seed=%lu rounds=%lu devices=%u cfg=%lu mmio=%lu io=%lu "
		    "rings=%lu alive=%u", seed, rounds, S.ndev, S.cfg, S.mmio,
		    S.io, S.rings, alive);
	return alive == S.ndev ? 0 : kit_fail(r, "ids-changed");
}
