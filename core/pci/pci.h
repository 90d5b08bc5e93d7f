/* SPDX-License-Identifier: MIT */
/*
 * PCI devices: the configuration-space model and the device interface.
 *
 * Config space is 4 KiB of bytes (PCIe extended config through ECAM) plus,
 * per byte, a writable mask and a write-1-to-clear mask and a reset value:
 * QEMU's idea of declaring each register as (reset, wmask, w1cmask), so the
 * generic write path needs no per-register code. BAR sizing falls out of the
 * BAR's wmask: the low address bits and the flag bits are read-only, so a
 * guest writing all-ones reads back ~(size - 1) | flags (PCI 3.0 sec 6.2.5.1).
 *
 * BAR moves follow Cloud Hypervisor: the config model only *reports* where a
 * BAR decodes (pci_cfg_bar_decode()); the PCI host (host.h) compares before
 * and after each config write, moves the BAR's bus range and rolls back the
 * BAR register when the move fails.
 */
#ifndef IOVMM_PCI_H
#define IOVMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"

struct gmem;
struct irq;
struct ioloop;
struct memslots;

#define PCI_CFG_SIZE          4096
#define PCI_CFG_LEGACY_SIZE   256
#define PCI_NR_BARS           6
#define PCI_BAR_UNMAPPED      UINT64_MAX /* "not on the bus" */

/* Type 0 header offsets and bits (PCI 3.0 sec 6.1, 6.2). */
#define PCI_VENDOR_ID         0x00
#define PCI_DEVICE_ID         0x02
#define PCI_COMMAND           0x04
#define  PCI_COMMAND_IO       0x0001
#define  PCI_COMMAND_MEMORY   0x0002
#define  PCI_COMMAND_MASTER   0x0004
#define  PCI_COMMAND_PARITY   0x0040
#define  PCI_COMMAND_SERR     0x0100
#define  PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS            0x06
#define  PCI_STATUS_INTERRUPT 0x0008
#define  PCI_STATUS_CAP_LIST  0x0010
#define PCI_REVISION_ID       0x08
#define PCI_CLASS_PROG        0x09
#define PCI_CACHE_LINE_SIZE   0x0c
#define PCI_LATENCY_TIMER     0x0d
#define PCI_HEADER_TYPE       0x0e
#define PCI_BASE_ADDRESS_0    0x10
#define  PCI_BAR_IO_FLAG      0x1
#define  PCI_BAR_MEM64_FLAG   0x4
#define  PCI_BAR_PREFETCH_FLAG 0x8
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID      0x2e
#define PCI_CAPABILITY_LIST   0x34
#define PCI_INTERRUPT_LINE    0x3c
#define PCI_INTERRUPT_PIN     0x3d
#define PCI_CAP_START         0x40
#define PCI_ECAP_START        0x100

#define PCI_CAP_ID_MSI        0x05
#define PCI_CAP_ID_MSIX       0x11

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
	enum pci_bar_kind kind;
	bool prefetch;
	uint64_t size; /* power of two; 0 for an unimplemented BAR */
};

struct pci_id {
	uint16_t vendor;
	uint16_t device;
	uint16_t subsys_vendor;
	uint16_t subsys;
	uint8_t revision;
	uint32_t class_code; /* 24 bits: base class, sub class, prog-if */
	uint8_t int_pin;     /* 0 none, 1 = INTA# ... */
};

/* Plain data: the owner (struct pci_dev) serialises access. */
struct pci_cfg {
	uint8_t data[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];
	uint8_t w1cmask[PCI_CFG_SIZE];
	uint8_t reset[PCI_CFG_SIZE];
	struct pci_bar bars[PCI_NR_BARS]; /* index of the low dword */
	uint16_t cap_end;   /* next free byte for a standard capability */
	uint16_t cap_last;  /* last standard capability, 0 if none */
	uint16_t ecap_end;  /* next free byte for an extended capability */
	uint16_t ecap_last; /* last extended capability, 0 if none */
};

/* Fill the type 0 header: ids, register masks, reset values. */
void pci_cfg_init(struct pci_cfg *cfg, const struct pci_id *id);
/*
 * Declare a register of len 1, 2 or 4 bytes: its reset (and current) value
 * and its writable and write-1-to-clear masks. -EINVAL when out of range.
 */
int pci_cfg_declare(struct pci_cfg *cfg, uint32_t off, uint32_t len,
		    uint32_t reset, uint32_t wmask, uint32_t w1cmask);
/*
 * Implement BAR bar (a 64-bit BAR also takes bar + 1). size is a power of
 * two, >= 16 for memory and >= 4 for I/O (I/O <= 256, PCI 3.0 sec 6.2.5.1).
 * -EINVAL on bad arguments, -EBUSY when the BAR slot is taken.
 */
int pci_cfg_add_bar(struct pci_cfg *cfg, unsigned bar, enum pci_bar_kind kind,
		    uint64_t size, bool prefetch);
/*
 * Append a standard capability of len bytes (>= 2, the header included) in
 * 0x40-0xff, linked after the previous one; sets STATUS.CAP_LIST. The id and
 * next bytes are read-only. -ENOSPC when it does not fit.
 */
int pci_cfg_add_cap(struct pci_cfg *cfg, uint8_t id, uint32_t len,
		    uint32_t *off_out);
/* Same for a PCIe extended capability (PCIe 6.0 sec 7.6.3) at 0x100+. */
int pci_cfg_add_ecap(struct pci_cfg *cfg, uint16_t id, uint8_t version,
		     uint32_t len, uint32_t *off_out);
/* Offset of the first standard capability with this id, or 0. */
uint32_t pci_cfg_find_cap(const struct pci_cfg *cfg, uint8_t id);

/*
 * Generic accesses honouring the masks. len is 1, 2 or 4; accesses that run
 * past 4 KiB read as all-ones and are dropped on write.
 */
uint32_t pci_cfg_read(const struct pci_cfg *cfg, uint32_t off, uint32_t len);
void pci_cfg_write(struct pci_cfg *cfg, uint32_t off, uint32_t val,
		   uint32_t len);
/* Device-side update that ignores the masks (status bits, pending bits). */
void pci_cfg_set(struct pci_cfg *cfg, uint32_t off, uint32_t val, uint32_t len);
/* Restore every byte to its reset value. */
void pci_cfg_reset(struct pci_cfg *cfg);

/* The address programmed in a BAR (flags stripped), decoded or not. */
uint64_t pci_cfg_bar_addr(const struct pci_cfg *cfg, unsigned bar);
/* Program a BAR's address (as firmware does); the address bits only. */
void pci_cfg_bar_set_addr(struct pci_cfg *cfg, unsigned bar, uint64_t addr);
/*
 * Where a BAR decodes now: its address when the BAR is implemented, the
 * COMMAND decode bit of its space is set and the address is neither 0 nor
 * all-ones (nor beyond 64 KiB for I/O); else PCI_BAR_UNMAPPED.
 */
uint64_t pci_cfg_bar_decode(const struct pci_cfg *cfg, unsigned bar);

/* ---- devices ---- */

struct pci_dev;
struct pci_msi;
struct pci_msix;

/*
 * What every PCI device model is created with: the VM's parts it may use,
 * all borrowed and valid until the device is destroyed (the machine fills
 * it from vm_parts()). A device never plugs itself: the machine hands the
 * finished device to pci_host_add(), which places it, assigns its BARs and
 * wires its INTx pin.
 */
struct pci_dev_ctx {
	struct gmem *mem;       /* guest RAM, for DMA */
	struct irq *irq;        /* MSI routes, irqfds, ioeventfds; NULL: none */
	struct ioloop *io;      /* the I/O thread, for back ends; NULL: none */
	struct bus *bus;        /* the PIO/MMIO bus */
	struct memslots *slots; /* host memory mapped into the guest */
	int cancel_fd;          /* an eventfd that abandons a waiting create */
};

/*
 * The one device contract. Every callback may be NULL but destroy, which
 * every device added to a machine has. cfg_read/cfg_write default to the generic
 * model (pci_dev_cfg_read/write below) and run with dev->lock held; off < 4
 * KiB, len 1, 2 or 4 and off + len <= 4 KiB. bar_read/bar_write are the bus
 * handlers of the BAR ranges (offset inside the BAR) and run WITHOUT dev->lock:
 * the device serialises its own state. bar_moved runs with dev->lock held
 * whenever a BAR goes on, off or moves on the bus (PCI_BAR_UNMAPPED for
 * "off"), e.g. to move an ioeventfd along. reset runs with dev->lock held.
 * Lock order: dev->lock, then the device's own lock, then MSI/MSI-X locks.
 */
struct pci_dev_ops {
	uint32_t (*cfg_read)(struct pci_dev *dev, uint32_t off, uint32_t len);
	void (*cfg_write)(struct pci_dev *dev, uint32_t off, uint32_t val,
			  uint32_t len);
	int (*bar_read)(struct pci_dev *dev, unsigned bar, uint64_t off,
			void *data, uint32_t len);
	int (*bar_write)(struct pci_dev *dev, unsigned bar, uint64_t off,
			 const void *data, uint32_t len);
	void (*reset)(struct pci_dev *dev);
	void (*bar_moved)(struct pci_dev *dev, unsigned bar, uint64_t old_addr,
			  uint64_t new_addr);
	/*
	 * INTx: pci_host_add() wired the function's pin (the Interrupt Pin
	 * register) to an IOAPIC GSI, the one the DSDT's _PRT names for the
	 * slot, and wrote it to Interrupt Line. Devices that raise INTx from
	 * iovmm call pci_dev_set_intx(); a device whose interrupt comes from
	 * elsewhere (VFIO: an eventfd the kernel signals) takes the GSI here.
	 * Runs without dev->lock, before the guest runs.
	 */
	void (*intx_connect)(struct pci_dev *dev, uint32_t gsi);
	/*
	 * Free the device (the embedding object). Called once, after the
	 * vCPUs and the I/O thread have stopped and after the host bridge is
	 * gone (the host has no hot-unplug).
	 */
	void (*destroy)(struct pci_dev *dev);
};

/* One bus range per BAR; the host registers region.bdev on the bus. */
struct pci_bar_region {
	struct bus_dev bdev;
	struct pci_dev *dev;
	unsigned bar;
	uint64_t mapped; /* where it is on the bus, or PCI_BAR_UNMAPPED; dev->lock */
};

struct pci_dev {
	const struct pci_dev_ops *ops;
	const char *name;           /* borrowed, for logs */
	pthread_mutex_t lock;       /* guards cfg, regions[].mapped */
	struct pci_cfg cfg;         /* dev->lock */
	struct pci_msi *msi;        /* owned by the device, set before adding */
	struct pci_msix *msix;      /* same */
	struct pci_bar_region regions[PCI_NR_BARS];
	struct pci_host *host;      /* set by pci_host_add() */
	uint8_t devfn;              /* set by pci_host_add() */
	bool intx_wired;            /* set by pci_host_add(): intx_gsi valid;
	                               cleared by pci_host_destroy() */
	uint32_t intx_gsi;
};

/*
 * Initialise an embedded pci_dev (config header from id). ops and name are
 * borrowed. 0 or -errno.
 */
int pci_dev_init(struct pci_dev *dev, const struct pci_dev_ops *ops,
		 const char *name, const struct pci_id *id);
void pci_dev_fini(struct pci_dev *dev);

/*
 * The generic config accessors, including the MSI/MSI-X hooks; devices with
 * their own cfg_read/cfg_write call these for the registers they don't
 * handle. Called with dev->lock held.
 */
uint32_t pci_dev_cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len);
void pci_dev_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t val,
		       uint32_t len);

/*
 * Drive the function's INTx line (level-triggered) to the GSI the host
 * wired it to; nothing before pci_host_add() or without an interrupt
 * controller. The device decides the level (its interrupt condition, not
 * masked by COMMAND.INTX_DISABLE, MSI off). Any thread, any lock.
 */
void pci_dev_set_intx(struct pci_dev *dev, bool level);

/* Free a device through its ops (no-op for NULL). */
void pci_dev_destroy(struct pci_dev *dev);

/*
 * Current bus address of a BAR, or PCI_BAR_UNMAPPED. Takes dev->lock, so it
 * must not be called from bar_moved/cfg callbacks.
 */
uint64_t pci_dev_bar_mapped(struct pci_dev *dev, unsigned bar);

#endif
