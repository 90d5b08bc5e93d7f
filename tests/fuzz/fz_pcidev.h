/* SPDX-License-Identifier: MIT */
/*
 * A PCI function whose shape comes from the fuzzer's input, for the
 * targets of the config-space model and of MSI/MSI-X (fuzz_pci.c,
 * fuzz_msix.c): up to six BARs of any kind and size, MSI with or without
 * per-vector masking, MSI-X with its table and PBA anywhere in memory
 * BARs, extra standard and extended capabilities. Everything but the shape
 * is the real core/pci code (cfg.c, msi.c, msix.c, host.c); BAR accesses
 * the MSI-X model does not claim read back a pattern and are dropped on
 * write, like a device with no registers there.
 *
 * Shape (FZ_PCIDEV_SHAPE bytes):
 *   0-5   BAR n: bits 0-1 kind (none, I/O, mem32, mem64), bit 2
 *         prefetchable, bits 3-7 size (I/O 4 << (v % 7), memory
 *         16 << (v % 20))
 *   6     bit 0 MSI, bits 1-3 log2 vectors, bit 4 per-vector mask;
 *         bits 5-7 extra vendor capabilities (length 4 + 4 * k)
 *   7-8   MSI-X vectors (le16, 0: none; else 1 + v % 2048)
 *   9     MSI-X table BAR (low 3 bits), PBA BAR (high 3 bits)
 *   10-11 MSI-X table offset / 8 (le16), 12-13 PBA offset / 8
 *   14    extended capabilities: count (low 2 bits), lengths
 */
#ifndef IOVMM_FUZZ_FZ_PCIDEV_H
#define IOVMM_FUZZ_FZ_PCIDEV_H

#include <errno.h>

#include "core/pci/msi.h"
#include "core/pci/msix.h"
#include "core/pci/pci.h"
#include "fz.h"

#define FZ_PCIDEV_SHAPE 15

struct fz_pcidev {
	struct pci_dev pdev;
	bool inited;
};

static int fz_pcidev_bar_read(struct pci_dev *dev, unsigned bar, uint64_t off,
			      void *data, uint32_t len)
{
	if (!dev->msix || !pci_msix_bar_read(dev->msix, bar, off, data, len))
		memset(data, 0xa5, len);
	return 0;
}

static int fz_pcidev_bar_write(struct pci_dev *dev, unsigned bar, uint64_t off,
			       const void *data, uint32_t len)
{
	if (dev->msix)
		pci_msix_bar_write(dev->msix, bar, off, data, len);
	return 0;
}

static const struct pci_dev_ops fz_pcidev_ops = {
	.bar_read = fz_pcidev_bar_read,
	.bar_write = fz_pcidev_bar_write,
};

static void fz_pcidev_bars(struct fz_pcidev *d, const uint8_t *shape)
{
	for (unsigned b = 0; b < PCI_NR_BARS; b++) {
		static const enum pci_bar_kind kinds[4] = {
			PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };
		enum pci_bar_kind kind = kinds[shape[b] & 3];
		unsigned v = shape[b] >> 3;
		uint64_t size = kind == PCI_BAR_IO ? 4ull << (v % 7)
						   : 16ull << (v % 20);

		if (kind != PCI_BAR_NONE)
			pci_cfg_add_bar(&d->pdev.cfg, b, kind, size,
					shape[b] & 4);
	}
}

static void fz_pcidev_caps(struct fz_pcidev *d, struct irq *irq,
			   const uint8_t *shape)
{
	struct pci_msix *msix;
	struct pci_msi *msi;
	unsigned nvec = shape[7] | shape[8] << 8;
	uint32_t off;

	if (shape[6] & 1)
		pci_msi_create(&d->pdev, irq, 1u << ((shape[6] >> 1) & 7) % 6,
			       shape[6] & 0x10, &msi);
	for (unsigned k = 0; k < (unsigned)(shape[6] >> 5); k++)
		pci_cfg_add_cap(&d->pdev.cfg, 0x09, 4 + 4 * k, &off);
	if (nvec) {
		struct pci_msix_config mc = {
			.nr_vectors = 1 + nvec % PCI_MSIX_MAX_VECTORS,
			.table_bar = shape[9] & 7,
			.pba_bar = (shape[9] >> 3) & 7,
			.table_off = (uint32_t)(shape[10] | shape[11] << 8) * 8,
			.pba_off = (uint32_t)(shape[12] | shape[13] << 8) * 8,
		};

		pci_msix_create_cfg(&d->pdev, irq, &mc, &msix);
	}
	for (unsigned k = 0; k < (shape[14] & 3u); k++)
		pci_cfg_add_ecap(&d->pdev.cfg, (uint16_t)(0x0b + k), 1,
				 4 + 4 * ((shape[14] >> 2) & 15u), &off);
}

/*
 * Build the function from its shape (creation errors are the model
 * refusing a bad shape, which is fine: the function then has less).
 */
static inline bool fz_pcidev_init(struct fz_pcidev *d, struct irq *irq,
				  const uint8_t *shape)
{
	static const struct pci_id id = { .vendor = 0x1234, .device = 0xf022,
					  .class_code = 0xff0000,
					  .int_pin = 1 };

	memset(d, 0, sizeof(*d));
	if (pci_dev_init(&d->pdev, &fz_pcidev_ops, "fuzz-pci", &id))
		return false;
	d->inited = true;
	fz_pcidev_bars(d, shape);
	fz_pcidev_caps(d, irq, shape);
	return true;
}

static inline void fz_pcidev_fini(struct fz_pcidev *d)
{
	if (!d->inited)
		return;
	pci_msix_destroy(d->pdev.msix);
	pci_msi_destroy(d->pdev.msi);
	pci_dev_fini(&d->pdev);
	d->inited = false;
}

/*
 * The device signals an MSI vector (u8) or an MSI-X vector (le16) read
 * from the input; only the documented results may come back.
 */
static inline bool fz_pcidev_signal(struct pci_dev *dev, bool msix,
				    struct fz_in *in)
{
	unsigned len = msix ? 2 : 1;
	unsigned vector;
	int ret;

	if (in->n < len)
		return false;
	vector = (unsigned)fz_le(in, len);
	ret = msix ? pci_msix_notify(dev, vector) : pci_msi_notify(dev, vector);
	CHECK(ret == 0 || ret == -EAGAIN || ret == -EINVAL);
	return true;
}

#endif
