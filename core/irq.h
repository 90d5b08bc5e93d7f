/* SPDX-License-Identifier: MIT */
/*
 * Interrupts, and the other eventfd plumbing KVM offers: the GSI routing
 * table, MSI routes, irqfd, MSI injection, INTx lines and ioeventfd. Devices
 * hold eventfds and GSI numbers; only this module decides what goes to the
 * hypervisor.
 *
 * The module is split at a seam: the policy (the routing table and its GSI
 * allocator, rollback on failure, argument checks) lives here, and a back
 * end carries out each decision. Production uses the KVM back end
 * (irq_kvm_create(), core/irq_kvm.c, the only file that issues KVM's
 * interrupt ioctls); unit tests use a recording fake
 * (tests/unit/fakes/fake_irq.h), so PCI, MSI/MSI-X, virtio, vhost-user and
 * VFIO interrupt behaviour is tested on hosts without /dev/kvm.
 *
 * The GSI routing table is owned here: the 24 IOAPIC pins (and PIC lines
 * 0-15) identity-routed, and MSI routes allocated above them. KVM replaces the
 * whole table on every KVM_SET_GSI_ROUTING, so every change rewrites it under
 * irq->lock. Safe to call from any thread.
 */
#ifndef IOVMM_IRQ_H
#define IOVMM_IRQ_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"

struct irq;

/*
 * ioeventfd: a guest write of len bytes to addr signals efd inside KVM
 * without leaving the kernel. len 0 matches any width (MMIO only, where KVM
 * supports it). With datamatch, only writes of exactly `data` match. efd is
 * borrowed until irq_ioeventfd_del() with the same arguments.
 */
struct irq_ioeventfd {
	enum bus_space space;
	uint64_t addr;
	uint32_t len;
	bool datamatch;
	uint64_t data;
	int efd;
};

/*
 * What a back end does; each op returns 0 or -errno and is called with
 * arguments already checked. Back ends embed struct irq_backend and find
 * themselves with container_of().
 */
struct irq_backend;
struct irq_ops {
	/* Replace the whole routing table (KVM_SET_GSI_ROUTING semantics). */
	int (*set_routing)(struct irq_backend *be,
			   const struct kvm_irq_routing *table);
	/* Set an IOAPIC/PIC input (gsi < LAYOUT_GSI_IOAPIC_PINS) to level. */
	int (*set_line)(struct irq_backend *be, uint32_t gsi, int level);
	/* Deliver one MSI now. */
	int (*signal_msi)(struct irq_backend *be, uint64_t addr, uint32_t data);
	/* Make a write to efd raise gsi; resample_fd >= 0: level-triggered. */
	int (*irqfd_attach)(struct irq_backend *be, uint32_t gsi, int efd,
			    int resample_fd);
	int (*irqfd_detach)(struct irq_backend *be, uint32_t gsi, int efd);
	/* -EEXIST when an equal registration exists; del: -ENOENT if none. */
	int (*ioeventfd_add)(struct irq_backend *be,
			     const struct irq_ioeventfd *ioev);
	int (*ioeventfd_del)(struct irq_backend *be,
			     const struct irq_ioeventfd *ioev);
	/* Optional: called by irq_destroy() when the irq owns the back end. */
	void (*destroy)(struct irq_backend *be);
};

struct irq_backend {
	const struct irq_ops *ops;
	/* Zero-length (any width) MMIO ioeventfds are supported. */
	bool any_length_ioeventfd;
};

/*
 * Create the policy half over a back end, and give the back end the default
 * (legacy) routing table. be is borrowed, unless own is true: then
 * irq_destroy() calls be->ops->destroy().
 */
int irq_create(struct irq_backend *be, bool own, struct irq **out);

/*
 * The KVM back end: create the in-kernel irqchip (PIC + IOAPIC + LAPICs),
 * the in-kernel PIT when KVM offers it, and the default routing table.
 * vm_fd is borrowed. Must run before any vCPU is created.
 */
int irq_kvm_create(int vm_fd, struct irq **out);

void irq_destroy(struct irq *irq);

/* Assert (level=1) or deassert an IOAPIC/PIC line. */
int irq_line_set(struct irq *irq, uint32_t gsi, int level);

/* Deliver one MSI directly (KVM_SIGNAL_MSI). */
int irq_msi_inject(struct irq *irq, uint64_t addr, uint32_t data);

/*
 * MSI routes: allocate a GSI routed to (addr, data), change it, free it.
 * -ENOSPC when the routing table is full.
 */
int irq_msi_route_add(struct irq *irq, uint64_t addr, uint32_t data,
		      uint32_t *gsi_out);
int irq_msi_route_update(struct irq *irq, uint32_t gsi, uint64_t addr,
			 uint32_t data);
int irq_msi_route_del(struct irq *irq, uint32_t gsi);

/*
 * irqfd: a write to efd raises gsi inside KVM. resample_fd >= 0 makes it a
 * level-triggered line with EOI notification (INTx), else pass -1. Both fds
 * are borrowed and must stay open until irq_irqfd_detach().
 */
int irq_irqfd_attach(struct irq *irq, uint32_t gsi, int efd, int resample_fd);
int irq_irqfd_detach(struct irq *irq, uint32_t gsi, int efd);

int irq_ioeventfd_add(struct irq *irq, const struct irq_ioeventfd *ioev);
int irq_ioeventfd_del(struct irq *irq, const struct irq_ioeventfd *ioev);

#endif
