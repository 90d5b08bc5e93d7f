/* SPDX-License-Identifier: MIT */
/*
 * MSI-X (PCI 3.0 §6.8.2): the one model of an MSI-X table in iovmm, used by
 * emulated devices (virtio, NVMe), vhost-user queues and assigned functions
 * (VFIO). It holds the table of {address, data, vector control} entries and
 * the pending-bit array (PBA), both in memory BARs of the function, follows
 * the Message Control register in config space, and keeps the GSI routes and
 * irqfds (core/irq.h) that make the guest's table real.
 *
 * Each vector has an eventfd that is an irqfd of a GSI routed to the
 * vector's (address, data). Users differ only in who writes it:
 *
 *  - iovmm (emulated devices): pci_msix_notify(). The route is made the
 *    first time the vector fires unmasked (virtio drivers program far more
 *    vectors than they use) and refreshed when it fires after its entry
 *    changed. A masked vector latches its PBA bit in the model and fires on
 *    unmask (§6.8.2.9).
 *  - someone else, for every vector (cfg.external; VFIO: the host kernel).
 *    The eventfd is an irqfd exactly while the vector is live (MSI-X on,
 *    function and vector unmasked); while it is not, the irqfd is detached,
 *    so messages wait in the eventfd counter, which reads as the PBA bit;
 *    re-attaching on unmask makes KVM deliver what waited
 *    (kvm_irqfd_assign() checks for an already-signalled eventfd). The
 *    hooks tell the owner when MSI-X goes on or off and when a vector goes
 *    live, for it to program the host (VFIO_DEVICE_SET_IRQS).
 *  - someone else, for eventfds the owner binds to a vector at a time
 *    (sources; a vhost-user back end's call eventfd of a virtio queue,
 *    re-bound when the driver changes queue_msix_vector). A source is an
 *    irqfd on its vector's route exactly while the vector is live;
 *    hooks->source_wired tells the owner when that starts and stops, so it
 *    can read the eventfd itself meanwhile and pci_msix_notify() what it
 *    read (without the hook, the counter waits and reads as the PBA bit).
 *
 * With irq == NULL (unit tests) the eventfds exist but nothing is routed.
 *
 * Locking: the MSI-X lock guards the model. BAR accessors, notify, bind and
 * introspection take it; the config hooks run with dev->lock held and take
 * it. Lock order: dev->lock, then the owner's device lock, then the MSI-X
 * lock. Hooks run with the MSI-X lock held: they must not call into the
 * model (but pci_msix_hook_eventfd()), and a lock they take must never be
 * held around a call into the model.
 */
#ifndef IOVMM_PCI_MSIX_H
#define IOVMM_PCI_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/irq.h"
#include "core/pci/pci.h"

#define PCI_MSIX_FLAGS          2
#define  PCI_MSIX_FLAGS_QSIZE   0x07ff
#define  PCI_MSIX_FLAGS_MASKALL 0x4000
#define  PCI_MSIX_FLAGS_ENABLE  0x8000
#define PCI_MSIX_TABLE          4
#define PCI_MSIX_PBA            8
#define PCI_MSIX_CAP_LEN        12
#define PCI_MSIX_ENTRY_SIZE     16
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 1
#define PCI_MSIX_MAX_VECTORS    2048

struct pci_msix;

/* What the owner hears; every hook may be NULL. MSI-X lock held. */
struct pci_msix_hooks {
	/*
	 * MSI-X went on, before any vector is made live; span is 1 + the
	 * highest vector whose entry is unmasked (0: none). Or off, after
	 * every irqfd and route of the function is gone.
	 */
	void (*enable)(struct pci_dev *dev, bool on, unsigned span);
	/*
	 * cfg.external: vector went live and its eventfd is about to become
	 * an irqfd. -errno (logged by the hook) leaves it detached until it
	 * goes live again.
	 */
	int (*vector_live)(struct pci_dev *dev, unsigned vector);
	/*
	 * Source src became an irqfd (true: after the attach) or stopped
	 * being one (false: before the detach, so that a signal racing with
	 * the switch is taken by one of them).
	 */
	void (*source_wired)(struct pci_dev *dev, unsigned src, bool irqfd);
};

struct pci_msix_config {
	unsigned nr_vectors;            /* table size, 1..2048 */
	unsigned table_bar, pba_bar;    /* memory BARs, already declared */
	uint32_t table_off, pba_off;    /* 8-byte aligned */
	/*
	 * 0: append the capability. Else the offset where the owner placed
	 * it in the capability list (VFIO keeps the device's layout); the
	 * model declares its registers there.
	 */
	uint32_t cap;
	bool external;                  /* every vector is signalled outside */
	unsigned nr_sources;            /* for pci_msix_source_bind() */
	const struct pci_msix_hooks *hooks; /* borrowed, may be NULL */
};

/*
 * Add MSI-X to dev as cfg says (after pci_dev_init() and the BARs, before
 * pci_host_add()) and set dev->msix. irq borrowed (NULL: eventfds only).
 * -EINVAL (bad layout: table or PBA outside its BAR, overlapping, dev
 * already has MSI-X), -ENOSPC, -ENOMEM.
 */
int pci_msix_create_cfg(struct pci_dev *dev, struct irq *irq,
			const struct pci_msix_config *cfg,
			struct pci_msix **out);
/* The common case: table and PBA in one BAR, vectors signalled by iovmm. */
int pci_msix_create(struct pci_dev *dev, struct irq *irq, unsigned nr_vectors,
		    unsigned bar, uint32_t table_off, uint32_t pba_off,
		    struct pci_msix **out);
/*
 * Detach and free every route and irqfd, close the model's eventfds, clear
 * dev->msix. No hook runs. Idempotent on NULL.
 */
void pci_msix_destroy(struct pci_msix *msix);
/*
 * Function reset (FLR): MSI-X off as if the guest cleared Enable (hooks
 * run), the table back to masked zeroes, function unmasked, PBA clear.
 * The owner resets the config registers itself.
 */
void pci_msix_reset(struct pci_msix *msix);

/* 0 delivered or latched pending; -EAGAIN disabled; -EINVAL bad vector. */
int pci_msix_notify(struct pci_dev *dev, unsigned vector);

/*
 * Bind source src (< cfg.nr_sources) to efd and vector: efd (borrowed
 * until re-bound, or pci_msix_destroy()) becomes an irqfd whenever the
 * vector is live. vector >= the table size: no vector, never an irqfd; efd
 * -1: no source. May run hooks->source_wired. -EINVAL: bad src.
 */
int pci_msix_source_bind(struct pci_msix *msix, unsigned src, int efd,
			 unsigned vector);
/* Is source src an irqfd right now? */
bool pci_msix_source_irqfd(struct pci_msix *msix, unsigned src);

/*
 * From a hook only (MSI-X lock held): vector's eventfd, made now if it has
 * none; the model owns it (closed when MSI-X goes off). -errno.
 */
int pci_msix_hook_eventfd(struct pci_msix *msix, unsigned vector);

/*
 * BAR access helpers for the device's bar_read/bar_write: true when
 * [off, off + len) is in the table or PBA (and was handled).
 */
bool pci_msix_bar_read(struct pci_msix *msix, unsigned bar, uint64_t off,
		       void *data, uint32_t len);
bool pci_msix_bar_write(struct pci_msix *msix, unsigned bar, uint64_t off,
			const void *data, uint32_t len);

/* Introspection for tests: messages sent by notify, per-vector state. */
uint64_t pci_msix_delivered(struct pci_dev *dev);
int pci_msix_vector_gsi(struct pci_dev *dev, unsigned vector, uint32_t *gsi);
int pci_msix_vector_fd(struct pci_dev *dev, unsigned vector);
bool pci_msix_vector_irqfd(struct pci_dev *dev, unsigned vector);

/* Generic config path hooks, with dev->lock held (see msi.h). */
void pci_msix_cfg_sync(struct pci_msix *msix, struct pci_cfg *cfg,
		       uint32_t off, uint32_t len);
void pci_msix_cfg_written(struct pci_msix *msix, struct pci_cfg *cfg,
			  uint32_t off, uint32_t len);

#endif
