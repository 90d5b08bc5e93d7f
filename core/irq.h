/* SPDX-License-Identifier: MIT */
/*
 * Interrupts, and the other eventfd plumbing KVM offers. This is the only
 * module that talks to KVM about interrupts (irqchip, GSI routing, irqfd,
 * MSI injection) and ioeventfd; devices hold eventfds and GSI numbers.
 *
 * The GSI routing table is owned here: the 24 IOAPIC pins (and PIC lines
 * 0-15) identity-routed, and MSI routes allocated above them. KVM replaces the
 * whole table on every KVM_SET_GSI_ROUTING, so every change rewrites it under
 * irq->lock. Safe to call from any thread.
 */
#ifndef IOVMM_IRQ_H
#define IOVMM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"

struct irq;

/*
 * Create the in-kernel irqchip (PIC + IOAPIC + LAPICs), the in-kernel PIT
 * when KVM offers it, and the default routing table. vm_fd is borrowed.
 * Must run before any vCPU is created.
 */
int irq_create(int vm_fd, struct irq **out);
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
int irq_ioeventfd_add(struct irq *irq, const struct irq_ioeventfd *ioev);
int irq_ioeventfd_del(struct irq *irq, const struct irq_ioeventfd *ioev);

#endif
