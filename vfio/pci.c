// SPDX-License-Identifier: MIT
/*
 * The passthrough PCI device: lifetime, BAR mappings, trapped BAR accesses
 * and resets. Config space is in pci_config.c, interrupts in pci_irq.c.
 *
 * BARs: every memory BAR is cut into spans (vfio/layout.h). mmap spans are
 * mmapped from VFIO once, at creation, and registered as KVM memory slots
 * wherever the guest places the BAR: pci_host_add() and later guest moves
 * call bar_moved, which drops the old slots and adds new ones. KVM resolves
 * guest accesses to those pages itself, so they never exit; the PCI host
 * still registers the whole BAR on the bus, and what does exit (trapped
 * spans: the MSI-X table and PBA pages, parts VFIO will not let us mmap,
 * I/O BARs, no-mmap BARs) arrives at bar_read/bar_write: MSI-X accesses are
 * emulated, the rest is forwarded with pread/pwrite on the VFIO region.
 *
 * Resets: VFIO_DEVICE_RESET (FLR, PM or slot reset, whatever vfio-pci has)
 * at creation, on guest-visible resets and at destruction, so the device
 * starts clean and is left clean for the host driver. Without a function
 * reset, a bus reset is used only when this VM owns every group it reaches.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pci/msix.h"
#include "core/util.h"
#include "vfio/pci_internal.h"
#include "vfio/quirks.h"

static const char *const who = "vfio-pci";

/* ---- BAR memory slots (dev->lock held, or no other thread) ---- */

static void bar_unmap(struct vfio_pci *v, unsigned i)
{
	struct vfio_pci_bar *b = &v->bars[i];

	for (unsigned s = 0; s < b->nr_spans; s++) {
		if (b->slots[s] < 0)
			continue;
		memslot_del(v->ctx.slots, b->slots[s]);
		b->slots[s] = -1;
	}
	b->gpa = PCI_BAR_UNMAPPED;
}

void vfio_pci_bars_unmap(struct vfio_pci *v)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		bar_unmap(v, i);
}

static void bar_map(struct vfio_pci *v, unsigned i, uint64_t gpa)
{
	struct vfio_pci_bar *b = &v->bars[i];

	b->gpa = gpa;
	for (unsigned s = 0; s < b->nr_spans && v->ctx.slots; s++) {
		int slot;

		if (!b->maps[s])
			continue;
		slot = memslot_add(v->ctx.slots, gpa + b->spans[s].off,
				   b->spans[s].size, b->maps[s], false);
		if (slot < 0) {
			/* Still correct: the span's accesses exit and are forwarded. */
			log_ratelimited(LOG_WARN, who,
					"%s: BAR%u+0x%llx: no memory slot (%s); trapping it",
					v->bdf, i,
					(unsigned long long)b->spans[s].off,
					strerror(-slot));
			continue;
		}
		b->slots[s] = slot;
	}
}

static void vfio_bar_moved(struct pci_dev *dev, unsigned bar, uint64_t old,
			   uint64_t new)
{
	struct vfio_pci *v = container_of(dev, struct vfio_pci, pdev);

	bar_unmap(v, bar);
	if (new == PCI_BAR_UNMAPPED)
		return;
	/* The BAR decodes in the model: let the device decode too. */
	vfio_pci_cmd_sync(v);
	bar_map(v, bar, new);
}

/* Cut each BAR into spans and mmap the mappable ones (at creation). */
static int bars_setup(struct vfio_pci *v)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		struct vfio_pci_bar *b = &v->bars[i];
		const struct pci_bar *pb = &v->pdev.cfg.bars[i];
		struct vfio_range ex[2];
		unsigned nex = 0;
		bool allow;
		int n;

		if (!pb->size)
			continue;
		if (v->msix.present && v->msix.bar == i)
			ex[nex++] = (struct vfio_range){
				v->msix.table_off,
				(uint64_t)v->msix.nvec * PCI_MSIX_ENTRY_SIZE };
		if (v->msix.present && v->msix.pba_bar == i)
			ex[nex++] = (struct vfio_range){
				v->msix.pba_off, ((uint64_t)v->msix.nvec + 63) / 64 * 8 };
		allow = pb->kind != PCI_BAR_IO && !(v->cfg.no_mmap_bars & (1u << i));
		n = vfio_bar_layout(&b->reg, allow, ex, nex, v->page_size, b->spans,
				    VFIO_BAR_MAX_SPANS);
		if (n < 0) {
			n = 1;
			b->spans[0] = (struct vfio_bar_span){ 0, b->reg.size, false };
		}
		b->nr_spans = (unsigned)n;
		for (unsigned s = 0; s < b->nr_spans; s++) {
			int ret;

			b->slots[s] = -1;
			if (!b->spans[s].mmap)
				continue;
			ret = v->vdev->ops->region_mmap(v->vdev, &b->reg,
							b->spans[s].off,
							b->spans[s].size, &b->maps[s]);
			if (ret) {
				log_warn(who, "%s: mmap of BAR%u+0x%llx: %s; trapping it",
					 v->bdf, i, (unsigned long long)b->spans[s].off,
					 strerror(-ret));
				b->maps[s] = NULL;
				b->spans[s].mmap = false;
			}
		}
	}
	return 0;
}

static void bars_munmap(struct vfio_pci *v)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		struct vfio_pci_bar *b = &v->bars[i];

		for (unsigned s = 0; s < b->nr_spans; s++) {
			if (b->maps[s])
				munmap(b->maps[s], b->spans[s].size);
			b->maps[s] = NULL;
		}
	}
}

/* ---- trapped accesses (no dev->lock) ---- */

static int vfio_bar_read(struct pci_dev *dev, unsigned bar, uint64_t off,
			 void *data, uint32_t len)
{
	struct vfio_pci *v = container_of(dev, struct vfio_pci, pdev);
	ssize_t n;

	__atomic_add_fetch(&v->trapped, 1, __ATOMIC_RELAXED);
	if (vfio_pci_msix_bar_read(v, bar, off, data, len))
		return 0;
	n = bar < PCI_NR_BARS ?
		    v->vdev->ops->region_read(v->vdev, &v->bars[bar].reg, off,
					      data, len) : -EINVAL;
	if (n < 0) {
		memset(data, 0xff, len);
		log_ratelimited(LOG_WARN, who, "%s: BAR%u+0x%llx read: %s", v->bdf,
				bar, (unsigned long long)off, strerror((int)-n));
	}
	return 0;
}

static int vfio_bar_write(struct pci_dev *dev, unsigned bar, uint64_t off,
			  const void *data, uint32_t len)
{
	struct vfio_pci *v = container_of(dev, struct vfio_pci, pdev);
	ssize_t n;

	__atomic_add_fetch(&v->trapped, 1, __ATOMIC_RELAXED);
	if (vfio_pci_msix_bar_write(v, bar, off, data, len))
		return 0;
	n = bar < PCI_NR_BARS ?
		    v->vdev->ops->region_write(v->vdev, &v->bars[bar].reg, off,
					       data, len) : -EINVAL;
	if (n < 0)
		log_ratelimited(LOG_WARN, who, "%s: BAR%u+0x%llx write: %s",
				v->bdf, bar, (unsigned long long)off,
				strerror((int)-n));
	return 0;
}

static int rom_read(struct bus_dev *bd, uint64_t off, void *data, uint32_t len)
{
	struct vfio_pci *v = container_of(bd, struct vfio_pci, rom_bdev);

	if (v->vdev->ops->region_read(v->vdev, &v->rom, off, data, len) < 0)
		memset(data, 0xff, len);
	return 0;
}

static int rom_write(struct bus_dev *bd, uint64_t off, const void *data,
		     uint32_t len)
{
	return 0; /* read-only memory */
}

static const struct bus_dev_ops rom_ops = {
	.read = rom_read,
	.write = rom_write,
};

/* ---- resets ---- */

static void reset_function(struct vfio_pci *v, const char *when)
{
	char why[256] = "";
	int ret = v->vdev->ops->reset(v->vdev);

	if (ret == -ENOTTY && v->vdev->ops->hot_reset)
		ret = v->vdev->ops->hot_reset(v->vdev, why, sizeof(why));
	if (ret)
		log_warn(who, "%s: no reset %s: %s", v->bdf, when,
			 why[0] ? why : strerror(-ret));
}

/* pci_host_reset_dev(): the model is back at reset values. dev->lock held. */
static void vfio_dev_reset(struct pci_dev *dev)
{
	struct vfio_pci *v = container_of(dev, struct vfio_pci, pdev);

	vfio_pci_bars_unmap(v);
	vfio_pci_irq_reset(v, true);
	reset_function(v, "on guest reset");
	vfio_pci_cmd_sync(v);
	vfio_pci_rom_sync(v);
}

/*
 * The host bridge wired the function's pin (declared at create when the
 * function has INTx): level-triggered with KVM resample, so an EOI unmasks
 * the host line. Guests that use MSI/MSI-X never need INTx, so a failure
 * here only costs INTx.
 */
static void vfio_intx_connect(struct pci_dev *dev, uint32_t gsi)
{
	struct vfio_pci *v = container_of(dev, struct vfio_pci, pdev);
	int ret = vfio_pci_set_intx_gsi(v, gsi);

	if (ret && ret != -ENOTSUP)
		log_warn("vfio-pci", "%s: no INTx: %s", v->bdf, strerror(-ret));
}

static void vfio_dev_destroy(struct pci_dev *dev)
{
	vfio_pci_destroy(container_of(dev, struct vfio_pci, pdev));
}

const struct pci_dev_ops vfio_pci_dev_ops = {
	.cfg_read = vfio_pci_cfg_read,
	.cfg_write = vfio_pci_cfg_write,
	.bar_read = vfio_bar_read,
	.bar_write = vfio_bar_write,
	.reset = vfio_dev_reset,
	.bar_moved = vfio_bar_moved,
	.intx_connect = vfio_intx_connect,
	.destroy = vfio_dev_destroy,
};

/* ---- lifetime ---- */

int vfio_pci_create(struct vfio_device *vdev,
		    const struct vfio_pci_config *cfg,
		    const struct vfio_ctx *ctx, struct vfio_pci **out,
		    char *err, size_t errlen)
{
	struct vfio_irq intx = { 0 };
	struct vfio_pci *v;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	v = calloc(1, sizeof(*v));
	if (!v) {
		vdev->ops->release(vdev);
		return -ENOMEM;
	}
	v->vdev = vdev;
	v->ctx = *ctx;
	v->cfg = *cfg;
	snprintf(v->bdf, sizeof(v->bdf), "%s", vdev->name);
	snprintf(v->name, sizeof(v->name), "vfio %s", vdev->name);
	v->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	v->rom_mapped = PCI_BAR_UNMAPPED;
	v->rom_bdev = (struct bus_dev){ .ops = &rom_ops, .name = v->name };
	v->intx.trigger = v->intx.resample = -1;
	pthread_mutex_init(&v->irq_lock, NULL);
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		v->bars[i].gpa = PCI_BAR_UNMAPPED;

	/* Clean state first, so the config snapshot is the reset one. */
	reset_function(v, "at start");
	ret = vfio_pci_config_init(v, err, errlen);
	if (ret)
		goto err;
	if (!vdev->ops->irq_info(vdev, VFIO_PCI_INTX_IRQ_INDEX, &intx))
		v->intx.present = intx.count && vfio_pci_intx_pin(v);
	/* The pin the host bridge wires (intx_connect); none without INTx. */
	if (v->intx.present)
		pci_cfg_declare(&v->pdev.cfg, PCI_INTERRUPT_PIN, 1,
				vfio_pci_intx_pin(v), 0, 0);
	ret = bars_setup(v);
	if (!ret)
		ret = vfio_quirks_apply(v, v->pdev.cfg.data[PCI_VENDOR_ID] |
					v->pdev.cfg.data[PCI_VENDOR_ID + 1] << 8,
					v->pdev.cfg.data[PCI_DEVICE_ID] |
					v->pdev.cfg.data[PCI_DEVICE_ID + 1] << 8);
	if (ret) {
		if (err && !err[0])
			log_errf(err, errlen, "%s: %s", v->bdf, strerror(-ret));
		goto err;
	}
	*out = v;
	return 0;
err:
	vfio_pci_destroy(v);
	return ret;
}

void vfio_pci_destroy(struct vfio_pci *v)
{
	if (!v)
		return;
	vfio_pci_irq_fini(v);
	vfio_pci_bars_unmap(v);
	if (v->rom_mapped != PCI_BAR_UNMAPPED && v->ctx.bus)
		bus_unregister(v->ctx.bus, BUS_MMIO, v->rom_mapped, &v->rom_bdev);
	v->rom_mapped = PCI_BAR_UNMAPPED;
	/* Leave the function clean for the host driver it goes back to. */
	reset_function(v, "at stop");
	bars_munmap(v);
	v->vdev->ops->release(v->vdev);
	pci_dev_fini(&v->pdev);
	pthread_mutex_destroy(&v->irq_lock);
	free(v);
}

struct pci_dev *vfio_pci_dev(struct vfio_pci *v)
{
	return &v->pdev;
}

unsigned vfio_pci_intx_pin(const struct vfio_pci *v)
{
	uint8_t pin = v->real_cfg[PCI_INTERRUPT_PIN];

	return pin <= 4 ? pin : 0;
}

int vfio_pci_set_intx_gsi(struct vfio_pci *v, uint32_t gsi)
{
	struct pci_cfg *c = &v->pdev.cfg;

	if (!v->intx.present)
		return -ENOTSUP;
	pthread_mutex_lock(&v->pdev.lock);
	pci_cfg_declare(c, PCI_INTERRUPT_LINE, 1, gsi & 0xff, 0xff, 0);
	c->wmask[PCI_COMMAND + 1] |= PCI_COMMAND_INTX_DISABLE >> 8;
	pthread_mutex_unlock(&v->pdev.lock);
	return vfio_pci_intx_wire(v, gsi);
}

int vfio_pci_hot_reset(struct vfio_pci *v, char *err, size_t errlen)
{
	if (!v->vdev->ops->hot_reset) {
		log_errf(err, errlen, "%s: no bus reset on this transport", v->bdf);
		return -ENOTSUP;
	}
	return v->vdev->ops->hot_reset(v->vdev, err, errlen);
}
