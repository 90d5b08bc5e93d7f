/* SPDX-License-Identifier: MIT */
/*
 * A recording back end for core/irq.h, so unit tests see what a device asked
 * of the interrupt controller without /dev/kvm: the routing table as last
 * committed, the lines' levels, every irqfd and ioeventfd registered, and
 * every MSI delivered.
 *
 * Delivery is explicit, as KVM's is asynchronous: fake_irq_poll() reads every
 * attached irqfd and, for each one that was signalled, delivers through the
 * route its GSI has *now* (an MSI route is appended to the delivered list; an
 * IOAPIC/PIC route raises that line). fake_irq_kick() is a guest write that
 * KVM would turn into an ioeventfd signal.
 *
 * ioeventfd registrations follow KVM's rules (virt/kvm/eventfd.c): a second
 * registration of the same (space, addr, len, datamatch) is -EEXIST, and a
 * removal that matches none is -ENOENT. Thread-safe: devices call it from
 * their I/O threads.
 */
#ifndef IOVMM_TEST_FAKE_IRQ_H
#define IOVMM_TEST_FAKE_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/irq.h"

#define FAKE_IRQ_MAX_MSIS 1024

struct fake_irq;

struct fake_irq_msi {
	uint64_t addr;
	uint32_t data;
	uint32_t gsi; /* the GSI it came through; UINT32_MAX for a direct MSI */
};

/*
 * A struct irq over a new fake; the irq owns it (irq_destroy() frees both).
 * *fake stays valid until then.
 */
int fake_irq_create(struct irq **irq, struct fake_irq **fake);

/* The next back-end operation fails with err (< 0), once. */
void fake_irq_fail_next(struct fake_irq *f, int err);

/* Number of routing-table commits so far. */
unsigned fake_irq_commits(struct fake_irq *f);
/* The committed MSI route of gsi: true and (addr, data), or false if none. */
bool fake_irq_route(struct fake_irq *f, uint32_t gsi, uint64_t *addr,
		    uint32_t *data);
/* Number of MSI routes in the committed table. */
unsigned fake_irq_msi_routes(struct fake_irq *f);

/* The level a line was last set to (by irq_line_set or a resampled irqfd). */
int fake_irq_line(struct fake_irq *f, uint32_t gsi);

/* The GSI efd is attached to: 0 and *gsi, or -ENOENT. */
int fake_irq_irqfd_gsi(struct fake_irq *f, int efd, uint32_t *gsi);
/* The resample fd of efd's irqfd (-1 for edge-triggered), or -ENOENT. */
int fake_irq_irqfd_resample(struct fake_irq *f, int efd);
unsigned fake_irq_irqfds(struct fake_irq *f);

/*
 * Deliver every signalled irqfd through its current route; returns how many
 * interrupts were delivered (an eventfd signalled n times before the poll
 * delivers once, as KVM coalesces them).
 */
unsigned fake_irq_poll(struct fake_irq *f);
/* Delivered MSIs (irq_msi_inject and polled irqfds), oldest first. */
unsigned fake_irq_msi_count(struct fake_irq *f);
struct fake_irq_msi fake_irq_msi_get(struct fake_irq *f, unsigned i);

/* Registered ioeventfds. */
unsigned fake_irq_ioeventfds(struct fake_irq *f);
bool fake_irq_ioeventfd_find(struct fake_irq *f, enum bus_space space,
			     uint64_t addr, struct irq_ioeventfd *out);
/*
 * A guest write of len bytes of data at addr: signals the ioeventfd that
 * matches it as KVM does (exact length or any-length, datamatch). Returns
 * true when one matched (the write then never reaches the VMM's bus).
 */
bool fake_irq_kick(struct fake_irq *f, enum bus_space space, uint64_t addr,
		   uint32_t len, uint64_t data);

#endif
