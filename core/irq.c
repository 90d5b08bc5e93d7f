// SPDX-License-Identifier: MIT
/*
 * Interrupt policy: the GSI routing table and its MSI allocator, argument
 * checks, and rollback when the back end refuses a change. What reaches the
 * hypervisor goes through struct irq_ops (core/irq_kvm.c for KVM).
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so we keep the table here and
 * rewrite it on every change. The first 24 GSIs mirror what KVM installs by
 * default when the irqchip is created (GSI n -> IOAPIC pin n, and GSIs 0-15
 * also -> the PIC pins), so rewriting never loses legacy interrupts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/irq.h"
#include "core/layout.h"
#include "core/util.h"

/* Upper bound of GSIs we hand out; KVM allows up to KVM_MAX_IRQ_ROUTES. */
#define IRQ_MAX_GSI 1024

struct irq {
	struct irq_backend *be; /* borrowed, or owned when own_be */
	bool own_be;
	pthread_mutex_t lock;
	/* The routing table as last given to the back end. lock: lock */
	struct kvm_irq_routing *table;
	/* GSIs in use by MSI routes. lock: lock */
	uint64_t msi_used[IRQ_MAX_GSI / 64];
};

/*
 * The legacy routes, as a PC chipset wires them: GSIs 0-15 reach the PIC
 * pins, GSI n reaches IOAPIC pin n - except that ISA IRQ0 (the PIT) is wired
 * to IOAPIC pin 2, which is what the MADT's interrupt source override tells
 * the guest, and GSI 2 is only the PIC cascade.
 */
static void irq_default_routes(struct irq *irq)
{
	struct kvm_irq_routing_entry *e = irq->table->entries;
	uint32_t n = 0;

	for (uint32_t gsi = 0; gsi < LAYOUT_GSI_IOAPIC_PINS; gsi++) {
		if (gsi < 16) {
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi,
				.type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = {
					.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							   : KVM_IRQCHIP_PIC_SLAVE,
					.pin = gsi % 8,
				},
			};
		}
		if (gsi == 2)
			continue;
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC,
				       .pin = gsi == 0 ? 2 : gsi },
		};
	}
	irq->table->nr = n;
}

static int irq_commit(struct irq *irq)
{
	return irq->be->ops->set_routing(irq->be, irq->table);
}

static void irq_release_backend(struct irq_backend *be, bool own)
{
	if (own && be->ops->destroy)
		be->ops->destroy(be);
}

int irq_create(struct irq_backend *be, bool own, struct irq **out)
{
	size_t max_entries = 16 + LAYOUT_GSI_IOAPIC_PINS + IRQ_MAX_GSI;
	struct irq *irq;
	int ret;

	irq = calloc(1, sizeof(*irq));
	if (!irq) {
		ret = -ENOMEM;
		goto err_backend;
	}
	irq->be = be;
	irq->own_be = own;
	pthread_mutex_init(&irq->lock, NULL);
	irq->table = calloc(1, sizeof(*irq->table) +
				       max_entries * sizeof(irq->table->entries[0]));
	if (!irq->table) {
		ret = -ENOMEM;
		goto err_free;
	}
	irq_default_routes(irq);
	ret = irq_commit(irq);
	if (ret)
		goto err_free;
	*out = irq;
	return 0;

err_free:
	free(irq->table);
	pthread_mutex_destroy(&irq->lock);
	free(irq);
err_backend:
	irq_release_backend(be, own);
	return ret;
}

void irq_destroy(struct irq *irq)
{
	if (!irq)
		return;
	irq_release_backend(irq->be, irq->own_be);
	free(irq->table);
	pthread_mutex_destroy(&irq->lock);
	free(irq);
}

int irq_line_set(struct irq *irq, uint32_t gsi, int level)
{
	if (gsi >= LAYOUT_GSI_IOAPIC_PINS)
		return -EINVAL;
	return irq->be->ops->set_line(irq->be, gsi, !!level);
}

int irq_msi_inject(struct irq *irq, uint64_t addr, uint32_t data)
{
	return irq->be->ops->signal_msi(irq->be, addr, data);
}

static struct kvm_irq_routing_entry *irq_find_msi(struct irq *irq, uint32_t gsi)
{
	for (uint32_t i = 0; i < irq->table->nr; i++) {
		struct kvm_irq_routing_entry *e = &irq->table->entries[i];

		if (e->gsi == gsi && e->type == KVM_IRQ_ROUTING_MSI)
			return e;
	}
	return NULL;
}

static void msi_entry_set(struct kvm_irq_routing_entry *e, uint64_t addr,
			  uint32_t data)
{
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
}

int irq_msi_route_add(struct irq *irq, uint64_t addr, uint32_t data,
		      uint32_t *gsi_out)
{
	struct kvm_irq_routing_entry *e;
	uint32_t gsi;
	int ret;

	pthread_mutex_lock(&irq->lock);
	for (gsi = LAYOUT_GSI_IOAPIC_PINS; gsi < IRQ_MAX_GSI; gsi++)
		if (!(irq->msi_used[gsi / 64] & (1ULL << (gsi % 64))))
			break;
	if (gsi == IRQ_MAX_GSI) {
		ret = -ENOSPC;
		goto out;
	}
	e = &irq->table->entries[irq->table->nr++];
	*e = (struct kvm_irq_routing_entry){ .gsi = gsi,
					     .type = KVM_IRQ_ROUTING_MSI };
	msi_entry_set(e, addr, data);
	ret = irq_commit(irq);
	if (ret) {
		irq->table->nr--;
		goto out;
	}
	irq->msi_used[gsi / 64] |= 1ULL << (gsi % 64);
	*gsi_out = gsi;
out:
	pthread_mutex_unlock(&irq->lock);
	return ret;
}

int irq_msi_route_update(struct irq *irq, uint32_t gsi, uint64_t addr,
			 uint32_t data)
{
	struct kvm_irq_routing_entry *e, old;
	int ret = -ENOENT;

	pthread_mutex_lock(&irq->lock);
	e = irq_find_msi(irq, gsi);
	if (e) {
		old = *e;
		msi_entry_set(e, addr, data);
		ret = irq_commit(irq);
		if (ret)
			*e = old;
	}
	pthread_mutex_unlock(&irq->lock);
	return ret;
}

int irq_msi_route_del(struct irq *irq, uint32_t gsi)
{
	struct kvm_irq_routing_entry *e, old;
	int ret = -ENOENT;

	pthread_mutex_lock(&irq->lock);
	e = irq_find_msi(irq, gsi);
	if (e) {
		struct kvm_irq_routing_entry *last =
			&irq->table->entries[irq->table->nr - 1];

		old = *e;
		*e = *last;
		irq->table->nr--;
		ret = irq_commit(irq);
		if (ret) {
			/* Put the table back exactly as the back end has it. */
			irq->table->nr++;
			*last = *e;
			*e = old;
		} else {
			irq->msi_used[gsi / 64] &= ~(1ULL << (gsi % 64));
		}
	}
	pthread_mutex_unlock(&irq->lock);
	return ret;
}

int irq_irqfd_attach(struct irq *irq, uint32_t gsi, int efd, int resample_fd)
{
	if (efd < 0)
		return -EBADF;
	return irq->be->ops->irqfd_attach(irq->be, gsi, efd, resample_fd);
}

int irq_irqfd_detach(struct irq *irq, uint32_t gsi, int efd)
{
	if (efd < 0)
		return -EBADF;
	return irq->be->ops->irqfd_detach(irq->be, gsi, efd);
}

/* What KVM accepts (KVM_IOEVENTFD, Documentation/virt/kvm/api.rst). */
static int irq_ioeventfd_check(struct irq *irq, const struct irq_ioeventfd *ioev)
{
	if (ioev->efd < 0)
		return -EBADF;
	if (ioev->space != BUS_PIO && ioev->space != BUS_MMIO)
		return -EINVAL;
	if (ioev->len != 0 && ioev->len != 1 && ioev->len != 2 &&
	    ioev->len != 4 && ioev->len != 8)
		return -EINVAL;
	/* Zero-length (any width) matches exist only for MMIO, and only lately. */
	if (ioev->len == 0 &&
	    (ioev->space != BUS_MMIO || ioev->datamatch ||
	     !irq->be->any_length_ioeventfd))
		return -EOPNOTSUPP;
	return 0;
}

int irq_ioeventfd_add(struct irq *irq, const struct irq_ioeventfd *ioev)
{
	int ret = irq_ioeventfd_check(irq, ioev);

	return ret ? ret : irq->be->ops->ioeventfd_add(irq->be, ioev);
}

int irq_ioeventfd_del(struct irq *irq, const struct irq_ioeventfd *ioev)
{
	int ret = irq_ioeventfd_check(irq, ioev);

	return ret ? ret : irq->be->ops->ioeventfd_del(irq->be, ioev);
}
