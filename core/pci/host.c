// SPDX-License-Identifier: MIT
/*
 * PCI host bridge: CF8/CFC and ECAM decode, firmware-like BAR assignment,
 * and applying (or rolling back) the BAR moves a guest makes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/pci/alloc.h"
#include "core/pci/host.h"
#include "core/pci/msi.h"
#include "core/pci/msix.h"
#include "core/util.h"

#define CF8_ENABLE     0x80000000u
/* sec 3.2.2.3.2: bits 30:24 reserved, 1:0 read as 0. */
#define CF8_VALID_BITS 0x80fffffcu

struct pci_host {
	struct bus *bus;     /* borrowed */
	struct irq *irq;     /* borrowed, may be NULL */
	struct bus_dev pio;  /* 0xcf8-0xcff */
	struct bus_dev ecam; /* LAYOUT_ECAM_START */
	bool pio_registered;
	bool ecam_registered;
	uint32_t cf8;        /* CONFIG_ADDRESS latch; atomic accesses */
	pthread_mutex_t lock; /* guards slots[] and the allocators' use */
	struct pci_dev *slots[PCI_HOST_SLOTS];
	struct range_alloc *io, *mem32, *mem64;
	struct pci_dev bridge; /* 00:00.0 */
};

static const char *const who = "pci";

static uint32_t ones(uint32_t len)
{
	return len >= 4 ? UINT32_MAX : (1u << (8 * len)) - 1;
}

static const struct pci_dev_ops pci_bridge_ops = {
	.cfg_read = NULL, /* generic model: ids, COMMAND/STATUS only */
};

struct pci_dev *pci_host_bridge(struct pci_host *h)
{
	return &h->bridge;
}

/*
 * Bring the bus in line with where each BAR decodes now. old_addr[] holds
 * the BAR registers before the config write, for the rollback. Called with
 * dev->lock held. Returns 0, or the first registration error.
 */
static int pci_host_sync_bars(struct pci_host *h, struct pci_dev *dev,
			      const uint64_t *old_addr)
{
	uint64_t want[PCI_NR_BARS], had[PCI_NR_BARS];
	int err = 0;

	/* Unregister first, so two BARs can trade places in one step. */
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar_region *r = &dev->regions[i];

		had[i] = r->mapped;
		want[i] = pci_cfg_bar_decode(&dev->cfg, i);
		if (want[i] == had[i] || had[i] == PCI_BAR_UNMAPPED)
			continue;
		enum bus_space sp = dev->cfg.bars[i].kind == PCI_BAR_IO ?
					    BUS_PIO : BUS_MMIO;
		bus_unregister(h->bus, sp, had[i], &r->bdev);
		r->mapped = PCI_BAR_UNMAPPED;
	}
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar_region *r = &dev->regions[i];
		const struct pci_bar *b = &dev->cfg.bars[i];
		enum bus_space sp = b->kind == PCI_BAR_IO ? BUS_PIO : BUS_MMIO;
		int ret;

		if (want[i] == had[i])
			continue;
		if (want[i] != PCI_BAR_UNMAPPED) {
			ret = bus_register(h->bus, sp, want[i], b->size, &r->bdev);
			if (!ret) {
				r->mapped = want[i];
			} else {
				log_ratelimited(LOG_WARN, who,
					"%s: BAR%u at 0x%llx: %s; restoring 0x%llx",
					dev->name, i, (unsigned long long)want[i],
					strerror(-ret),
					(unsigned long long)old_addr[i]);
				if (!err)
					err = ret;
				/* Roll back the BAR register, and the old mapping. */
				pci_cfg_bar_set_addr(&dev->cfg, i, old_addr[i]);
				if (had[i] != PCI_BAR_UNMAPPED &&
				    pci_cfg_bar_decode(&dev->cfg, i) == had[i] &&
				    !bus_register(h->bus, sp, had[i], b->size,
						  &r->bdev))
					r->mapped = had[i];
			}
		}
		if (r->mapped != had[i] && dev->ops->bar_moved)
			dev->ops->bar_moved(dev, i, had[i], r->mapped);
	}
	return err;
}

static struct pci_dev *pci_host_lookup(struct pci_host *h, uint8_t devfn)
{
	struct pci_dev *dev;

	if (devfn & 7) /* single-function devices only */
		return NULL;
	pthread_mutex_lock(&h->lock);
	dev = h->slots[devfn >> 3];
	pthread_mutex_unlock(&h->lock);
	return dev;
}

uint32_t pci_host_cfg_read(struct pci_host *h, uint8_t devfn, uint32_t off,
			   uint32_t len)
{
	struct pci_dev *dev = pci_host_lookup(h, devfn);
	uint32_t v;

	if (!dev || off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
		return ones(len);
	pthread_mutex_lock(&dev->lock);
	if (dev->ops->cfg_read)
		v = dev->ops->cfg_read(dev, off, len);
	else
		v = pci_dev_cfg_read(dev, off, len);
	pthread_mutex_unlock(&dev->lock);
	return v;
}

void pci_host_cfg_write(struct pci_host *h, uint8_t devfn, uint32_t off,
			uint32_t val, uint32_t len)
{
	struct pci_dev *dev = pci_host_lookup(h, devfn);
	uint64_t old_addr[PCI_NR_BARS];

	if (!dev || off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
		return;
	pthread_mutex_lock(&dev->lock);
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		old_addr[i] = pci_cfg_bar_addr(&dev->cfg, i);
	if (dev->ops->cfg_write)
		dev->ops->cfg_write(dev, off, val, len);
	else
		pci_dev_cfg_write(dev, off, val, len);
	pci_host_sync_bars(h, dev, old_addr);
	pthread_mutex_unlock(&dev->lock);
}

void pci_host_reset_dev(struct pci_host *h, struct pci_dev *dev)
{
	uint64_t old_addr[PCI_NR_BARS];

	pthread_mutex_lock(&dev->lock);
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		old_addr[i] = pci_cfg_bar_addr(&dev->cfg, i);
	pci_cfg_reset(&dev->cfg);
	/* Let MSI/MSI-X see their (now disabled) registers. */
	if (dev->msi)
		pci_msi_cfg_written(dev->msi, &dev->cfg, 0, PCI_CFG_SIZE);
	if (dev->msix)
		pci_msix_cfg_written(dev->msix, &dev->cfg, 0, PCI_CFG_SIZE);
	pci_host_sync_bars(h, dev, old_addr);
	if (dev->ops->reset)
		dev->ops->reset(dev);
	pthread_mutex_unlock(&dev->lock);
}

void pci_host_reset_all(struct pci_host *h)
{
	struct pci_dev *devs[PCI_HOST_SLOTS];

	/* Copied under the lock: a reset takes the device's own lock. */
	pthread_mutex_lock(&h->lock);
	memcpy(devs, h->slots, sizeof(devs));
	pthread_mutex_unlock(&h->lock);
	for (unsigned i = 0; i < PCI_HOST_SLOTS; i++)
		if (devs[i])
			pci_host_reset_dev(h, devs[i]);
}

/* ---- configuration mechanism #1 (PCI 3.0 sec 3.2.2.3.2) ---- */

static int pci_cf8_read(struct bus_dev *bdev, uint64_t off, void *data,
			uint32_t len)
{
	struct pci_host *h = container_of(bdev, struct pci_host, pio);
	uint32_t addr = __atomic_load_n(&h->cf8, __ATOMIC_ACQUIRE);
	uint32_t v = UINT32_MAX;

	memset(data, 0xff, len);
	if (len > 4)
		return 0;
	if (off == 0 && len == 4) {
		/* Only dword accesses hit CONFIG_ADDRESS; narrower ones pass. */
		v = addr;
	} else if (off >= 4 && off - 4 + len <= 4 &&
		   (addr & CF8_ENABLE) && ((addr >> 16) & 0xff) == 0) {
		v = pci_host_cfg_read(h, (addr >> 8) & 0xff,
				      (addr & 0xfc) + (uint32_t)(off - 4), len);
	}
	memcpy(data, &v, len);
	return 0;
}

static int pci_cf8_write(struct bus_dev *bdev, uint64_t off, const void *data,
			 uint32_t len)
{
	struct pci_host *h = container_of(bdev, struct pci_host, pio);
	uint32_t addr = __atomic_load_n(&h->cf8, __ATOMIC_ACQUIRE);
	uint32_t v = 0;

	if (len > 4)
		return 0;
	memcpy(&v, data, len);
	if (off == 0 && len == 4) {
		__atomic_store_n(&h->cf8, v & CF8_VALID_BITS, __ATOMIC_RELEASE);
	} else if (off >= 4 && off - 4 + len <= 4 && (addr & CF8_ENABLE) &&
		   ((addr >> 16) & 0xff) == 0) {
		pci_host_cfg_write(h, (addr >> 8) & 0xff,
				   (addr & 0xfc) + (uint32_t)(off - 4), v, len);
	}
	return 0;
}

static const struct bus_dev_ops pci_cf8_ops = {
	.read = pci_cf8_read,
	.write = pci_cf8_write,
};

/* ---- ECAM (PCIe 6.0 sec 7.2.2): bus << 20 | devfn << 12 | reg ---- */

static bool ecam_decode(uint64_t off, uint32_t len, uint8_t *devfn,
			uint32_t *reg)
{
	if ((len != 1 && len != 2 && len != 4) || (off & (len - 1)))
		return false; /* config requests are naturally aligned */
	if (off >> 20) /* bus 0 only */
		return false;
	*devfn = (off >> 12) & 0xff;
	*reg = off & 0xfff;
	return true;
}

static int pci_ecam_read(struct bus_dev *bdev, uint64_t off, void *data,
			 uint32_t len)
{
	struct pci_host *h = container_of(bdev, struct pci_host, ecam);
	uint8_t devfn;
	uint32_t reg, v;

	memset(data, 0xff, len);
	if (!ecam_decode(off, len, &devfn, &reg))
		return 0;
	v = pci_host_cfg_read(h, devfn, reg, len);
	memcpy(data, &v, len);
	return 0;
}

static int pci_ecam_write(struct bus_dev *bdev, uint64_t off, const void *data,
			  uint32_t len)
{
	struct pci_host *h = container_of(bdev, struct pci_host, ecam);
	uint32_t reg, v = 0;
	uint8_t devfn;

	if (!ecam_decode(off, len, &devfn, &reg))
		return 0;
	memcpy(&v, data, len);
	pci_host_cfg_write(h, devfn, reg, v, len);
	return 0;
}

static const struct bus_dev_ops pci_ecam_ops = {
	.read = pci_ecam_read,
	.write = pci_ecam_write,
};

/* ---- setup ---- */

/*
 * INTA#-INTD# of a slot go to the GSI layout_pci_intx_gsi() gives, which
 * is also what the DSDT's PCI0._PRT tells the guest (core/boot/acpi.c);
 * Interrupt Line says so too (PCI 3.0 §6.2.4), for guests that read it.
 */
static void pci_host_wire_intx(struct pci_host *h, struct pci_dev *dev,
			       unsigned slot)
{
	uint32_t pin;

	pthread_mutex_lock(&dev->lock);
	pin = pci_cfg_read(&dev->cfg, PCI_INTERRUPT_PIN, 1);
	if (pin >= 1 && pin <= 4 && h->irq) {
		dev->intx_gsi = layout_pci_intx_gsi(slot, pin - 1);
		pci_cfg_set(&dev->cfg, PCI_INTERRUPT_LINE, dev->intx_gsi & 0xff, 1);
		__atomic_store_n(&dev->intx_wired, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&dev->lock);
	if (dev->intx_wired && dev->ops->intx_connect)
		dev->ops->intx_connect(dev, dev->intx_gsi);
}

static int pci_host_add_slot(struct pci_host *h, struct pci_dev *dev,
			     unsigned slot)
{
	uint64_t old_addr[PCI_NR_BARS];
	int ret;

	dev->host = h;
	dev->devfn = (uint8_t)(slot << 3);
	pthread_mutex_lock(&dev->lock);
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		old_addr[i] = pci_cfg_bar_addr(&dev->cfg, i);
	pci_cfg_set(&dev->cfg, PCI_COMMAND,
		    pci_cfg_read(&dev->cfg, PCI_COMMAND, 2) | PCI_COMMAND_IO |
			    PCI_COMMAND_MEMORY, 2);
	ret = pci_host_sync_bars(h, dev, old_addr);
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		return ret;
	pthread_mutex_lock(&h->lock);
	h->slots[slot] = dev;
	pthread_mutex_unlock(&h->lock);
	pci_host_wire_intx(h, dev, slot);
	return 0;
}

static void pci_host_unmap_all(struct pci_host *h, struct pci_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar_region *r = &dev->regions[i];

		if (r->mapped == PCI_BAR_UNMAPPED)
			continue;
		bus_unregister(h->bus, dev->cfg.bars[i].kind == PCI_BAR_IO ?
				       BUS_PIO : BUS_MMIO,
			       r->mapped, &r->bdev);
		r->mapped = PCI_BAR_UNMAPPED;
	}
	pthread_mutex_unlock(&dev->lock);
}

static struct range_alloc *pci_host_window(struct pci_host *h,
					   const struct pci_bar *b)
{
	if (b->kind == PCI_BAR_IO)
		return h->io;
	if (b->kind == PCI_BAR_MEM64 && h->mem64)
		return h->mem64;
	return h->mem32;
}

static void pci_host_free_bars(struct pci_host *h, struct pci_dev *dev,
			       unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct pci_bar *b = &dev->cfg.bars[i];

		if (b->size)
			range_alloc_free(pci_host_window(h, b),
					 pci_cfg_bar_addr(&dev->cfg, i));
		pci_cfg_bar_set_addr(&dev->cfg, i, 0);
	}
}

int pci_host_add(struct pci_host *h, struct pci_dev *dev)
{
	unsigned slot, i;
	int ret;

	if (dev->host)
		return -EBUSY;
	pthread_mutex_lock(&h->lock);
	for (slot = 1; slot < PCI_HOST_SLOTS && h->slots[slot]; slot++)
		;
	pthread_mutex_unlock(&h->lock);
	if (slot == PCI_HOST_SLOTS)
		return -ENOSPC;
	/* Firmware's job: naturally aligned addresses from the windows. */
	for (i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &dev->cfg.bars[i];
		uint64_t addr;

		if (!b->size)
			continue;
		ret = range_alloc_alloc(pci_host_window(h, b), b->size, b->size,
					&addr);
		if (ret)
			goto err_free;
		pci_cfg_bar_set_addr(&dev->cfg, i, addr);
	}
	ret = pci_host_add_slot(h, dev, slot);
	if (ret)
		goto err_unmap;
	return 0;

err_unmap:
	pci_host_unmap_all(h, dev);
	dev->host = NULL;
err_free:
	pci_host_free_bars(h, dev, i);
	return ret;
}

int pci_host_create(struct bus *bus, struct irq *irq, uint64_t mmio64_base,
		    uint64_t mmio64_size, struct pci_host **out)
{
	static const struct pci_id bridge_id = {
		.vendor = PCI_HOST_VENDOR, .device = PCI_HOST_DEVICE,
		.class_code = 0x060000, /* host bridge */
	};
	struct pci_host *h;
	int ret;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->bus = bus;
	h->irq = irq;
	pthread_mutex_init(&h->lock, NULL);
	h->pio = (struct bus_dev){ .ops = &pci_cf8_ops, .name = "pci-cf8" };
	h->ecam = (struct bus_dev){ .ops = &pci_ecam_ops, .name = "pci-ecam" };
	ret = pci_dev_init(&h->bridge, &pci_bridge_ops, "pci-host", &bridge_id);
	if (ret)
		goto err;
	h->slots[0] = &h->bridge;
	h->bridge.host = h;
	ret = range_alloc_create(LAYOUT_PIO_PCI_START, LAYOUT_PIO_PCI_SIZE, &h->io);
	if (!ret)
		ret = range_alloc_create(LAYOUT_MMIO32_START, LAYOUT_MMIO32_SIZE,
					 &h->mem32);
	if (!ret && mmio64_size)
		ret = range_alloc_create(mmio64_base, mmio64_size, &h->mem64);
	if (ret)
		goto err;
	ret = bus_register(bus, BUS_PIO, LAYOUT_PORT_PCI_CONFIG, 8, &h->pio);
	if (ret)
		goto err;
	h->pio_registered = true;
	ret = bus_register(bus, BUS_MMIO, LAYOUT_ECAM_START, LAYOUT_ECAM_SIZE,
			   &h->ecam);
	if (ret)
		goto err;
	h->ecam_registered = true;
	*out = h;
	return 0;

err:
	pci_host_destroy(h);
	return ret;
}

void pci_host_destroy(struct pci_host *h)
{
	if (!h)
		return;
	for (unsigned s = 1; s < PCI_HOST_SLOTS; s++) {
		if (h->slots[s]) {
			pci_host_unmap_all(h, h->slots[s]);
			/*
			 * Devices outlive the host (vm_destroy frees it
			 * first); one that lowers its INTx pin on the way out
			 * must not follow dev->host. Unwired, it no-ops.
			 */
			__atomic_store_n(&h->slots[s]->intx_wired, false,
					 __ATOMIC_RELEASE);
			h->slots[s]->host = NULL;
		}
	}
	if (h->ecam_registered)
		bus_unregister(h->bus, BUS_MMIO, LAYOUT_ECAM_START, &h->ecam);
	if (h->pio_registered)
		bus_unregister(h->bus, BUS_PIO, LAYOUT_PORT_PCI_CONFIG, &h->pio);
	range_alloc_destroy(h->mem64);
	range_alloc_destroy(h->mem32);
	range_alloc_destroy(h->io);
	pci_dev_fini(&h->bridge);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void pci_dev_set_intx(struct pci_dev *dev, bool level)
{
	if (!__atomic_load_n(&dev->intx_wired, __ATOMIC_ACQUIRE))
		return;
	/* Wired only when the host has an irq (pci_host_wire_intx). */
	irq_line_set(dev->host->irq, dev->intx_gsi, level);
}
