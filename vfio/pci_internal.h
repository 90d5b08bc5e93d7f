/* SPDX-License-Identifier: MIT */
/*
 * The passthrough PCI device's state, shared by vfio/pci.c (lifetime, BARs,
 * reset), vfio/pci_config.c (config space virtualization) and
 * vfio/pci_irq.c (MSI, MSI-X, INTx). Not a public interface: the unit tests
 * include it for introspection, nothing else should.
 *
 * Locks (order as in core/pci/pci.h): pdev.lock (config space, bars[],
 * rom_*), then the MSI-X model's lock (its hooks run under it), then
 * irq_lock (msi, msix, intx). Nothing calls into the MSI-X model with
 * irq_lock held.
 */
#ifndef IOVMM_VFIO_PCI_INTERNAL_H
#define IOVMM_VFIO_PCI_INTERNAL_H

#include <pthread.h>

#include "core/pci/pci.h"
#include "vfio/device.h"
#include "vfio/layout.h"
#include "vfio/vfio.h"

/* Per config byte: where reads come from / writes go besides the model. */
#define VFIO_CFG_PASS_R 0x1  /* read from the device */
#define VFIO_CFG_PASS_W 0x2  /* written through to the device */

#define VFIO_MSI_MAX_VECTORS 32

/* PCIe capability registers (PCIe 6.0 sec 7.5.3), from the cap start. */
#define PCI_EXP_FLAGS         0x02
#define  PCI_EXP_FLAGS_VERS   0x000f
#define  PCI_EXP_FLAGS_TYPE   0x00f0
#define  PCI_EXP_FLAGS_SLOT   0x0100
#define  PCI_EXP_TYPE_ENDPOINT    0x0
#define  PCI_EXP_TYPE_LEG_END     0x1
#define  PCI_EXP_TYPE_RC_END      0x9
#define PCI_EXP_DEVCAP        0x04
#define  PCI_EXP_DEVCAP_FLR   0x10000000
#define PCI_EXP_DEVCTL        0x08
#define  PCI_EXP_DEVCTL_BCR_FLR 0x8000
#define PCI_EXP_DEVSTA        0x0a
#define PCI_EXP_LNKCAP        0x0c
#define PCI_EXP_DEVCAP2       0x24
#define PCI_EXP_DEVCTL2       0x28
#define PCI_CAP_ID_PM         0x01
#define PCI_CAP_ID_VNDR       0x09
#define PCI_CAP_ID_EXP        0x10
#define PCI_PM_CTRL           0x04
#define PCI_ROM_ADDRESS       0x30
#define  PCI_ROM_ADDRESS_ENABLE 0x1
#define PCI_MIN_GNT           0x3e
#define PCI_MAX_LAT           0x3f

struct vfio_pci_bar {
	struct vfio_region reg;
	unsigned nr_spans;
	struct vfio_bar_span spans[VFIO_BAR_MAX_SPANS];
	void *maps[VFIO_BAR_MAX_SPANS];  /* host mmap of an mmap span, or NULL */
	int slots[VFIO_BAR_MAX_SPANS];   /* its KVM memory slot, or -1 */
	uint64_t gpa;                    /* where the slots are, or PCI_BAR_UNMAPPED */
};

/* MSI-X: the model (core/pci/msix.c) and what the host was told. */
struct vfio_pci_msix {
	bool present;
	uint32_t cap;
	unsigned nvec;
	unsigned bar, pba_bar;
	uint32_t table_off, pba_off;
	struct pci_msix *model; /* table, PBA, routes, irqfds; owned */
	/* irq_lock: */
	bool enabled;       /* the guest has MSI-X on (INTx stays off) */
	unsigned hw_count;  /* vectors enabled in VFIO (0: MSI-X off there) */
	bool noresize;      /* VFIO_IRQ_INFO_NORESIZE: grow = disable + enable */
};

struct vfio_pci_msi {
	bool present;
	uint32_t cap, len;
	uint32_t data_off;  /* from cap: 8 (32-bit) or 12 (64-bit) */
	bool is64, maskable;
	unsigned max_vec;
	bool enabled;
	unsigned nvec;
	uint64_t addr;
	uint16_t data;
	uint32_t mask;
	int efd[VFIO_MSI_MAX_VECTORS];
	uint32_t gsi[VFIO_MSI_MAX_VECTORS];
	bool routed[VFIO_MSI_MAX_VECTORS];
	bool attached[VFIO_MSI_MAX_VECTORS];
};

struct vfio_pci_intx {
	bool present;   /* the function has an INTx pin (VFIO irq info) */
	bool wired;     /* vfio_pci_set_intx_gsi() was called */
	bool active;    /* eventfds handed to VFIO and attached as irqfd */
	uint32_t gsi;
	int trigger, resample;
};

struct vfio_pci {
	struct pci_dev pdev;
	struct vfio_device *vdev;       /* owned (released in destroy) */
	struct vfio_ctx ctx;            /* copy; pointers borrowed */
	struct vfio_pci_config cfg;     /* copy */
	char bdf[32];                   /* vfio_device.name */
	char name[40];                  /* "vfio 0000:01:00.1", for logs */
	uint64_t page_size;
	struct vfio_region cfg_region;
	uint32_t cfg_size;              /* bytes the device implements */
	uint8_t real_cfg[PCI_CFG_SIZE]; /* the device's config at create */
	uint8_t pass[PCI_CFG_SIZE];     /* VFIO_CFG_PASS_* per byte */
	uint32_t pcie_cap;              /* 0: none exposed */
	struct vfio_pci_bar bars[PCI_NR_BARS];
	struct vfio_region rom;
	uint64_t rom_size;              /* 0: no ROM exposed */
	struct bus_dev rom_bdev;
	uint64_t rom_mapped;            /* bus address or PCI_BAR_UNMAPPED */
	pthread_mutex_t irq_lock;
	struct vfio_pci_msi msi;        /* irq_lock */
	struct vfio_pci_msix msix;      /* see its fields */
	struct vfio_pci_intx intx;      /* irq_lock */
	uint64_t trapped;               /* BAR accesses that exited (atomic) */
};

extern const struct pci_dev_ops vfio_pci_dev_ops;

/*
 * pci_config.c: snapshot the device's config space, pci_dev_init() the
 * model from it and virtualize header, BARs, ROM and capabilities.
 */
int vfio_pci_config_init(struct vfio_pci *v, char *err, size_t errlen);
uint32_t vfio_pci_cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len);
void vfio_pci_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t val,
			uint32_t len);
/* Read/write the device's own config space (-errno on failure). */
int vfio_pci_real_read(struct vfio_pci *v, uint32_t off, void *buf,
		       uint32_t len);
int vfio_pci_real_write(struct vfio_pci *v, uint32_t off, const void *buf,
			uint32_t len);
/* Push the guest's COMMAND decode/master/INTx bits to the device. */
void vfio_pci_cmd_sync(struct vfio_pci *v);
/* Put the ROM on the bus (or off) as the model says. dev->lock held. */
void vfio_pci_rom_sync(struct vfio_pci *v);

/* pci_irq.c */
int vfio_pci_msi_init(struct vfio_pci *v, uint32_t cap, char *err,
		      size_t errlen);
int vfio_pci_msix_init(struct vfio_pci *v, uint32_t cap, char *err,
		       size_t errlen);
void vfio_pci_msi_cfg_read(struct vfio_pci *v, uint32_t off, uint32_t len);
void vfio_pci_msi_cfg_written(struct vfio_pci *v, uint32_t off, uint32_t len);
void vfio_pci_msix_cfg_written(struct vfio_pci *v, uint32_t off,
			       uint32_t len);
bool vfio_pci_msix_bar_read(struct vfio_pci *v, unsigned bar, uint64_t off,
			    void *data, uint32_t len);
bool vfio_pci_msix_bar_write(struct vfio_pci *v, unsigned bar, uint64_t off,
			     const void *data, uint32_t len);
/* Everything off (reset, destroy); INTx re-armed when keep_intx. */
void vfio_pci_irq_reset(struct vfio_pci *v, bool keep_intx);
void vfio_pci_irq_fini(struct vfio_pci *v);
int vfio_pci_intx_wire(struct vfio_pci *v, uint32_t gsi);

/* pci.c: BAR memory slots. dev->lock held. */
void vfio_pci_bars_unmap(struct vfio_pci *v);

/* Introspection for tests (per-vector state: pci_msix_vector_*()). */
unsigned vfio_pci_msix_hw_count(struct vfio_pci *v);

/*
 * Wire INTx to IOAPIC pin gsi (level, with KVM resample: EOI unmasks the
 * host line) and report it in INTERRUPT_LINE: the device's intx_connect,
 * which the host bridge calls when it plugs the function. -ENOTSUP when
 * the function has no INTx.
 */
int vfio_pci_set_intx_gsi(struct vfio_pci *v, uint32_t gsi);
/* The host function's interrupt pin: 0 none, 1-4 INTA#-INTD#. */
unsigned vfio_pci_intx_pin(const struct vfio_pci *v);

#endif
