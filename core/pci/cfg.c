// SPDX-License-Identifier: MIT
/*
 * The PCI configuration-space model: bytes + writable mask + write-1-to-clear
 * mask + reset values, and the capability list builder.
 */
#include <errno.h>
#include <string.h>

#include "core/pci/msi.h"
#include "core/pci/msix.h"
#include "core/pci/pci.h"
#include "core/util.h"

/*
 * The type 0 header registers a guest may change (PCI 3.0 sec 6.2). Anything
 * not listed is read-only (ids, class, header type, capability pointer) or
 * handled elsewhere (BARs, capabilities).
 */
struct pci_reg_desc {
	uint16_t off;
	uint8_t len;
	uint32_t wmask;
	uint32_t w1cmask;
};

static const struct pci_reg_desc pci_hdr_regs[] = {
	/* sec 6.2.2: I/O, memory, bus master, parity, SERR#, INTx disable. */
	{ .off = PCI_COMMAND, .len = 2,
	  .wmask = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		   PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
		   PCI_COMMAND_INTX_DISABLE },
	/* sec 6.2.3: the error bits of STATUS are RW1C. */
	{ .off = PCI_STATUS, .len = 2, .w1cmask = 0xf900 },
	{ .off = PCI_CACHE_LINE_SIZE, .len = 1, .wmask = 0xff },
	{ .off = PCI_LATENCY_TIMER, .len = 1, .wmask = 0xff },
	{ .off = PCI_INTERRUPT_LINE, .len = 1, .wmask = 0xff },
};

static void put_le(uint8_t *p, uint32_t val, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(val >> (8 * i));
}

static uint32_t get_le(const uint8_t *p, uint32_t len)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < len; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static bool cfg_range_ok(uint32_t off, uint32_t len)
{
	return (len == 1 || len == 2 || len == 4) && off < PCI_CFG_SIZE &&
	       len <= PCI_CFG_SIZE - off;
}

int pci_cfg_declare(struct pci_cfg *cfg, uint32_t off, uint32_t len,
		    uint32_t reset, uint32_t wmask, uint32_t w1cmask)
{
	if (!cfg_range_ok(off, len))
		return -EINVAL;
	put_le(&cfg->data[off], reset, len);
	put_le(&cfg->reset[off], reset, len);
	put_le(&cfg->wmask[off], wmask, len);
	put_le(&cfg->w1cmask[off], w1cmask, len);
	return 0;
}

void pci_cfg_init(struct pci_cfg *cfg, const struct pci_id *id)
{
	memset(cfg, 0, sizeof(*cfg));
	pci_cfg_declare(cfg, PCI_VENDOR_ID, 2, id->vendor, 0, 0);
	pci_cfg_declare(cfg, PCI_DEVICE_ID, 2, id->device, 0, 0);
	pci_cfg_declare(cfg, PCI_REVISION_ID, 1, id->revision, 0, 0);
	pci_cfg_declare(cfg, PCI_CLASS_PROG, 1, id->class_code & 0xff, 0, 0);
	pci_cfg_declare(cfg, PCI_CLASS_PROG + 1, 2, id->class_code >> 8, 0, 0);
	pci_cfg_declare(cfg, PCI_SUBSYSTEM_VENDOR_ID, 2, id->subsys_vendor, 0, 0);
	pci_cfg_declare(cfg, PCI_SUBSYSTEM_ID, 2, id->subsys, 0, 0);
	pci_cfg_declare(cfg, PCI_INTERRUPT_PIN, 1, id->int_pin, 0, 0);
	for (size_t i = 0; i < ARRAY_SIZE(pci_hdr_regs); i++) {
		const struct pci_reg_desc *r = &pci_hdr_regs[i];

		pci_cfg_declare(cfg, r->off, r->len, 0, r->wmask, r->w1cmask);
	}
	/* INTx disable is meaningless without a pin. */
	if (!id->int_pin)
		cfg->wmask[PCI_COMMAND + 1] &= ~(PCI_COMMAND_INTX_DISABLE >> 8);
	cfg->cap_end = PCI_CAP_START;
	cfg->ecap_end = PCI_ECAP_START;
}

int pci_cfg_add_bar(struct pci_cfg *cfg, unsigned bar, enum pci_bar_kind kind,
		    uint64_t size, bool prefetch)
{
	unsigned nr = kind == PCI_BAR_MEM64 ? 2 : 1;
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint64_t mask = ~(size - 1);
	uint32_t flags;

	if (bar + nr > PCI_NR_BARS || !IS_POW2(size) || kind == PCI_BAR_NONE)
		return -EINVAL;
	if (kind == PCI_BAR_IO ? (size < 4 || size > 256) : size < 16)
		return -EINVAL;
	if (kind != PCI_BAR_MEM64 && size > (1ULL << 31))
		return -EINVAL;
	if (kind == PCI_BAR_IO && prefetch)
		return -EINVAL;
	for (unsigned i = 0; i < nr; i++) {
		if (cfg->bars[bar + i].size ||
		    (bar + i > 0 && cfg->bars[bar + i - 1].kind == PCI_BAR_MEM64))
			return -EBUSY;
	}
	/* sec 6.2.5.1: type and prefetch flags are read-only low bits. */
	if (kind == PCI_BAR_IO)
		flags = PCI_BAR_IO_FLAG;
	else
		flags = (kind == PCI_BAR_MEM64 ? PCI_BAR_MEM64_FLAG : 0) |
			(prefetch ? PCI_BAR_PREFETCH_FLAG : 0);
	pci_cfg_declare(cfg, off, 4, flags,
			(uint32_t)mask & (kind == PCI_BAR_IO ? ~3u : ~15u), 0);
	if (kind == PCI_BAR_MEM64)
		pci_cfg_declare(cfg, off + 4, 4, 0, (uint32_t)(mask >> 32), 0);
	cfg->bars[bar] = (struct pci_bar){ .kind = kind, .prefetch = prefetch,
					   .size = size };
	return 0;
}

int pci_cfg_add_cap(struct pci_cfg *cfg, uint8_t id, uint32_t len,
		    uint32_t *off_out)
{
	uint32_t off = ALIGN_UP((uint32_t)cfg->cap_end, 4);

	if (len < 2 || len > PCI_CFG_LEGACY_SIZE ||
	    off + len > PCI_CFG_LEGACY_SIZE)
		return -ENOSPC;
	/* sec 6.7: id and next pointer are read-only; the list ends in 0. */
	pci_cfg_declare(cfg, off, 1, id, 0, 0);
	pci_cfg_declare(cfg, off + 1, 1, 0, 0, 0);
	if (cfg->cap_last)
		pci_cfg_declare(cfg, cfg->cap_last + 1, 1, off, 0, 0);
	else
		pci_cfg_declare(cfg, PCI_CAPABILITY_LIST, 1, off, 0, 0);
	cfg->data[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	cfg->reset[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	cfg->cap_last = off;
	cfg->cap_end = off + len;
	*off_out = off;
	return 0;
}

int pci_cfg_add_ecap(struct pci_cfg *cfg, uint16_t id, uint8_t version,
		     uint32_t len, uint32_t *off_out)
{
	uint32_t off = ALIGN_UP((uint32_t)cfg->ecap_end, 4);
	uint32_t hdr = id | ((uint32_t)(version & 0xf) << 16);

	if (len < 4 || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	/* PCIe 6.0 sec 7.6.3: id[15:0] version[19:16] next[31:20]. */
	pci_cfg_declare(cfg, off, 4, hdr, 0, 0);
	if (cfg->ecap_last) {
		uint32_t prev = get_le(&cfg->data[cfg->ecap_last], 4);

		prev = (prev & 0xfffff) | (off << 20);
		pci_cfg_declare(cfg, cfg->ecap_last, 4, prev, 0, 0);
	}
	cfg->ecap_last = off;
	cfg->ecap_end = off + len;
	*off_out = off;
	return 0;
}

uint32_t pci_cfg_find_cap(const struct pci_cfg *cfg, uint8_t id)
{
	uint32_t off = cfg->data[PCI_CAPABILITY_LIST] & ~3u;

	/* At most 48 capabilities fit in 0x40-0xff: bound the walk. */
	for (int n = 0; off >= PCI_CAP_START && n < 48; n++) {
		if (cfg->data[off] == id)
			return off;
		off = cfg->data[off + 1] & ~3u;
	}
	return 0;
}

uint32_t pci_cfg_read(const struct pci_cfg *cfg, uint32_t off, uint32_t len)
{
	if (!cfg_range_ok(off, len))
		return UINT32_MAX;
	return get_le(&cfg->data[off], len);
}

void pci_cfg_write(struct pci_cfg *cfg, uint32_t off, uint32_t val,
		   uint32_t len)
{
	if (!cfg_range_ok(off, len))
		return;
	for (uint32_t i = 0; i < len; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		uint8_t w = cfg->wmask[off + i], c = cfg->w1cmask[off + i];
		uint8_t *d = &cfg->data[off + i];

		*d = (uint8_t)((*d & ~w) | (b & w));
		*d &= (uint8_t)~(b & c);
	}
}

void pci_cfg_set(struct pci_cfg *cfg, uint32_t off, uint32_t val, uint32_t len)
{
	if (cfg_range_ok(off, len))
		put_le(&cfg->data[off], val, len);
}

void pci_cfg_reset(struct pci_cfg *cfg)
{
	memcpy(cfg->data, cfg->reset, sizeof(cfg->data));
}

uint64_t pci_cfg_bar_addr(const struct pci_cfg *cfg, unsigned bar)
{
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
	const struct pci_bar *b;
	uint64_t lo;

	if (bar >= PCI_NR_BARS)
		return 0;
	b = &cfg->bars[bar];
	lo = get_le(&cfg->data[off], 4);
	switch (b->kind) {
	case PCI_BAR_IO:
		return lo & ~3ULL;
	case PCI_BAR_MEM32:
		return lo & ~15ULL;
	case PCI_BAR_MEM64:
		return (lo & ~15ULL) |
		       ((uint64_t)get_le(&cfg->data[off + 4], 4) << 32);
	default:
		return 0;
	}
}

void pci_cfg_bar_set_addr(struct pci_cfg *cfg, unsigned bar, uint64_t addr)
{
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint32_t lo_flags, mask;

	if (bar >= PCI_NR_BARS || cfg->bars[bar].kind == PCI_BAR_NONE)
		return;
	mask = cfg->bars[bar].kind == PCI_BAR_IO ? 3u : 15u;
	lo_flags = get_le(&cfg->data[off], 4) & mask;
	put_le(&cfg->data[off], ((uint32_t)addr & ~mask) | lo_flags, 4);
	if (cfg->bars[bar].kind == PCI_BAR_MEM64)
		put_le(&cfg->data[off + 4], (uint32_t)(addr >> 32), 4);
}

uint64_t pci_cfg_bar_decode(const struct pci_cfg *cfg, unsigned bar)
{
	uint16_t cmd = (uint16_t)get_le(&cfg->data[PCI_COMMAND], 2);
	const struct pci_bar *b;
	uint64_t addr, ones;

	if (bar >= PCI_NR_BARS)
		return PCI_BAR_UNMAPPED;
	b = &cfg->bars[bar];
	if (!b->size)
		return PCI_BAR_UNMAPPED;
	if (!(cmd & (b->kind == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
		return PCI_BAR_UNMAPPED;
	addr = pci_cfg_bar_addr(cfg, bar);
	/*
	 * 0 means "unassigned", and an all-ones address is what sizing leaves
	 * behind (sec 6.2.5.1); neither decodes. I/O BARs only decode in the
	 * 64 KiB x86 port space; memory ranges must not wrap.
	 */
	ones = b->kind == PCI_BAR_MEM64 ? ~(b->size - 1) :
		(uint32_t)~(b->size - 1) & (b->kind == PCI_BAR_IO ? ~3u : ~15u);
	if (addr == 0 || addr == ones)
		return PCI_BAR_UNMAPPED;
	if (b->kind == PCI_BAR_IO && addr + b->size > 0x10000)
		return PCI_BAR_UNMAPPED;
	if (range_overflows(addr, b->size))
		return PCI_BAR_UNMAPPED;
	return addr;
}

/* ---- struct pci_dev ---- */

static int pci_bar_bus_read(struct bus_dev *bdev, uint64_t off, void *data,
			    uint32_t len)
{
	struct pci_bar_region *r = container_of(bdev, struct pci_bar_region, bdev);

	if (!r->dev->ops->bar_read) {
		memset(data, 0xff, len);
		return 0;
	}
	return r->dev->ops->bar_read(r->dev, r->bar, off, data, len);
}

static int pci_bar_bus_write(struct bus_dev *bdev, uint64_t off,
			     const void *data, uint32_t len)
{
	struct pci_bar_region *r = container_of(bdev, struct pci_bar_region, bdev);

	if (!r->dev->ops->bar_write)
		return 0;
	return r->dev->ops->bar_write(r->dev, r->bar, off, data, len);
}

static const struct bus_dev_ops pci_bar_bus_ops = {
	.read = pci_bar_bus_read,
	.write = pci_bar_bus_write,
};

int pci_dev_init(struct pci_dev *dev, const struct pci_dev_ops *ops,
		 const char *name, const struct pci_id *id)
{
	int ret;

	memset(dev, 0, sizeof(*dev));
	ret = -pthread_mutex_init(&dev->lock, NULL);
	if (ret)
		return ret;
	dev->ops = ops;
	dev->name = name;
	pci_cfg_init(&dev->cfg, id);
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		dev->regions[i] = (struct pci_bar_region){
			.bdev = { .ops = &pci_bar_bus_ops, .name = name },
			.dev = dev,
			.bar = i,
			.mapped = PCI_BAR_UNMAPPED,
		};
	}
	return 0;
}

void pci_dev_destroy(struct pci_dev *dev)
{
	if (dev)
		dev->ops->destroy(dev);
}

void pci_dev_fini(struct pci_dev *dev)
{
	if (!dev || !dev->ops)
		return;
	pthread_mutex_destroy(&dev->lock);
	dev->ops = NULL;
}

uint32_t pci_dev_cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len)
{
	/* Device-owned bits (MSI pending) are refreshed before the copy. */
	if (dev->msi)
		pci_msi_cfg_sync(dev->msi, &dev->cfg, off, len);
	if (dev->msix)
		pci_msix_cfg_sync(dev->msix, &dev->cfg, off, len);
	return pci_cfg_read(&dev->cfg, off, len);
}

void pci_dev_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t val,
		       uint32_t len)
{
	pci_cfg_write(&dev->cfg, off, val, len);
	if (dev->msi)
		pci_msi_cfg_written(dev->msi, &dev->cfg, off, len);
	if (dev->msix)
		pci_msix_cfg_written(dev->msix, &dev->cfg, off, len);
}

uint64_t pci_dev_bar_mapped(struct pci_dev *dev, unsigned bar)
{
	uint64_t addr;

	if (bar >= PCI_NR_BARS)
		return PCI_BAR_UNMAPPED;
	pthread_mutex_lock(&dev->lock);
	addr = dev->regions[bar].mapped;
	pthread_mutex_unlock(&dev->lock);
	return addr;
}
