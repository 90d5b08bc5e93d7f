// SPDX-License-Identifier: MIT
/*
 * The one place that talks to KVM about interrupts: in-kernel irqchip and
 * PIT, the GSI routing table, irqfd, MSI injection; and ioeventfd, the
 * mirror-image eventfd mechanism for guest-to-host notification.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so we keep the table here and
 * rewrite it on every change. The first 24 GSIs mirror what KVM installs by
 * default when the irqchip is created (GSI n -> IOAPIC pin n, and GSIs 0-15
 * also -> the PIC pins), so rewriting never loses legacy interrupts.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/irq.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"

/* Upper bound of GSIs we hand out; KVM allows up to KVM_MAX_IRQ_ROUTES. */
#define IRQ_MAX_GSI 1024

struct irq {
	int vm_fd;             /* borrowed from the VM */
	bool any_length_ioeventfd;
	pthread_mutex_t lock;
	/* The routing table as last given to KVM. lock: lock */
	struct kvm_irq_routing *table;
	/* GSIs in use by MSI routes. lock: lock */
	uint64_t msi_used[IRQ_MAX_GSI / 64];
};

static const char who[] = "irq";

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
	if (ioctl(irq->vm_fd, KVM_SET_GSI_ROUTING, irq->table) < 0)
		return -errno;
	return 0;
}

int irq_create(int vm_fd, struct irq **out)
{
	struct kvm_pit_config pit = { .flags = 0 };
	struct irq *irq;
	size_t max_entries = 16 + LAYOUT_GSI_IOAPIC_PINS + IRQ_MAX_GSI;
	int ret;

	irq = calloc(1, sizeof(*irq));
	if (!irq)
		return -ENOMEM;
	irq->vm_fd = vm_fd;
	pthread_mutex_init(&irq->lock, NULL);
	irq->table = calloc(1, sizeof(*irq->table) +
				       max_entries * sizeof(irq->table->entries[0]));
	if (!irq->table) {
		ret = -ENOMEM;
		goto err_free;
	}
	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP) < 0) {
		ret = -errno;
		log_err(who, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		goto err_free;
	}
	/* The in-kernel PIT (i8254 + speaker port 0x61), where KVM offers it. */
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2) > 0 &&
	    ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		log_warn(who, "KVM_CREATE_PIT2: %s (continuing without a PIT)",
			 strerror(errno));
	irq->any_length_ioeventfd =
		ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;
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
	return ret;
}

void irq_destroy(struct irq *irq)
{
	if (!irq)
		return;
	free(irq->table);
	pthread_mutex_destroy(&irq->lock);
	free(irq);
}

int irq_line_set(struct irq *irq, uint32_t gsi, int level)
{
	struct kvm_irq_level line = { .irq = gsi, .level = !!level };

	if (gsi >= LAYOUT_GSI_IOAPIC_PINS)
		return -EINVAL;
	if (ioctl(irq->vm_fd, KVM_IRQ_LINE, &line) < 0)
		return -errno;
	return 0;
}

int irq_msi_inject(struct irq *irq, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	int ret = ioctl(irq->vm_fd, KVM_SIGNAL_MSI, &msi);

	/* 0 means the guest blocked it (e.g. LAPIC disabled): not our error. */
	return ret < 0 ? -errno : 0;
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
			/* Put the table back exactly as KVM still has it. */
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
	struct kvm_irqfd req = { .fd = (uint32_t)efd, .gsi = gsi };

	if (efd < 0)
		return -EBADF;
	if (resample_fd >= 0) {
		req.flags = KVM_IRQFD_FLAG_RESAMPLE;
		req.resamplefd = (uint32_t)resample_fd;
	}
	return ioctl(irq->vm_fd, KVM_IRQFD, &req) < 0 ? -errno : 0;
}

int irq_irqfd_detach(struct irq *irq, uint32_t gsi, int efd)
{
	struct kvm_irqfd req = {
		.fd = (uint32_t)efd,
		.gsi = gsi,
		.flags = KVM_IRQFD_FLAG_DEASSIGN,
	};

	return ioctl(irq->vm_fd, KVM_IRQFD, &req) < 0 ? -errno : 0;
}

static int irq_ioeventfd(struct irq *irq, const struct irq_ioeventfd *ioev,
			 uint32_t extra_flags)
{
	struct kvm_ioeventfd req = {
		.datamatch = ioev->datamatch ? ioev->data : 0,
		.addr = ioev->addr,
		.len = ioev->len,
		.fd = ioev->efd,
		.flags = extra_flags,
	};

	if (ioev->efd < 0)
		return -EBADF;
	if (ioev->space == BUS_PIO)
		req.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (ioev->datamatch)
		req.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	/* Zero-length (any width) matches exist only for MMIO, and only lately. */
	if (ioev->len == 0 &&
	    (ioev->space != BUS_MMIO || ioev->datamatch ||
	     !irq->any_length_ioeventfd))
		return -EOPNOTSUPP;
	return ioctl(irq->vm_fd, KVM_IOEVENTFD, &req) < 0 ? -errno : 0;
}

int irq_ioeventfd_add(struct irq *irq, const struct irq_ioeventfd *ioev)
{
	return irq_ioeventfd(irq, ioev, 0);
}

int irq_ioeventfd_del(struct irq *irq, const struct irq_ioeventfd *ioev)
{
	return irq_ioeventfd(irq, ioev, KVM_IOEVENTFD_FLAG_DEASSIGN);
}
