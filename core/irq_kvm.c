// SPDX-License-Identifier: MIT
/*
 * The KVM back end of core/irq.h: the only file that talks to KVM about
 * interrupts (in-kernel irqchip and PIT, KVM_SET_GSI_ROUTING, KVM_IRQ_LINE,
 * KVM_SIGNAL_MSI, KVM_IRQFD) and ioeventfd (KVM_IOEVENTFD).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/irq.h"
#include "core/log.h"
#include "core/util.h"

struct irq_kvm {
	struct irq_backend be;
	int vm_fd; /* borrowed from the VM */
};

static const char who[] = "irq";

static int kvm_vm_ioctl(struct irq_backend *be, unsigned long req, void *arg)
{
	struct irq_kvm *k = container_of(be, struct irq_kvm, be);

	return ioctl(k->vm_fd, req, arg) < 0 ? -errno : 0;
}

static int kvm_set_routing(struct irq_backend *be,
			   const struct kvm_irq_routing *table)
{
	return kvm_vm_ioctl(be, KVM_SET_GSI_ROUTING, (void *)table);
}

static int kvm_set_line(struct irq_backend *be, uint32_t gsi, int level)
{
	struct kvm_irq_level line = { .irq = gsi, .level = level };

	return kvm_vm_ioctl(be, KVM_IRQ_LINE, &line);
}

/* KVM_SIGNAL_MSI returning 0 means the guest blocked it (e.g. LAPIC
 * disabled): not our error, so only < 0 counts. */
static int kvm_signal_msi(struct irq_backend *be, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	return kvm_vm_ioctl(be, KVM_SIGNAL_MSI, &msi);
}

static int kvm_irqfd_attach(struct irq_backend *be, uint32_t gsi, int efd,
			    int resample_fd)
{
	struct kvm_irqfd req = { .fd = (uint32_t)efd, .gsi = gsi };

	if (resample_fd >= 0) {
		req.flags = KVM_IRQFD_FLAG_RESAMPLE;
		req.resamplefd = (uint32_t)resample_fd;
	}
	return kvm_vm_ioctl(be, KVM_IRQFD, &req);
}

static int kvm_irqfd_detach(struct irq_backend *be, uint32_t gsi, int efd)
{
	struct kvm_irqfd req = {
		.fd = (uint32_t)efd,
		.gsi = gsi,
		.flags = KVM_IRQFD_FLAG_DEASSIGN,
	};

	return kvm_vm_ioctl(be, KVM_IRQFD, &req);
}

static int kvm_ioeventfd(struct irq_backend *be,
			 const struct irq_ioeventfd *ioev, uint32_t flags)
{
	struct kvm_ioeventfd req = {
		.datamatch = ioev->datamatch ? ioev->data : 0,
		.addr = ioev->addr,
		.len = ioev->len,
		.fd = ioev->efd,
		.flags = flags,
	};

	if (ioev->space == BUS_PIO)
		req.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (ioev->datamatch)
		req.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	return kvm_vm_ioctl(be, KVM_IOEVENTFD, &req);
}

static int kvm_ioeventfd_add(struct irq_backend *be,
			     const struct irq_ioeventfd *ioev)
{
	return kvm_ioeventfd(be, ioev, 0);
}

static int kvm_ioeventfd_del(struct irq_backend *be,
			     const struct irq_ioeventfd *ioev)
{
	return kvm_ioeventfd(be, ioev, KVM_IOEVENTFD_FLAG_DEASSIGN);
}

static void kvm_destroy(struct irq_backend *be)
{
	free(container_of(be, struct irq_kvm, be));
}

static const struct irq_ops irq_kvm_ops = {
	.set_routing = kvm_set_routing,
	.set_line = kvm_set_line,
	.signal_msi = kvm_signal_msi,
	.irqfd_attach = kvm_irqfd_attach,
	.irqfd_detach = kvm_irqfd_detach,
	.ioeventfd_add = kvm_ioeventfd_add,
	.ioeventfd_del = kvm_ioeventfd_del,
	.destroy = kvm_destroy,
};

int irq_kvm_create(int vm_fd, struct irq **out)
{
	struct kvm_pit_config pit = { .flags = 0 };
	struct irq_kvm *k;

	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP) < 0) {
		int ret = -errno;

		log_err(who, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return ret;
	}
	/* The in-kernel PIT (i8254 + speaker port 0x61), where KVM offers it. */
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2) > 0 &&
	    ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		log_warn(who, "KVM_CREATE_PIT2: %s (continuing without a PIT)",
			 strerror(errno));
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->be.ops = &irq_kvm_ops;
	k->be.any_length_ioeventfd =
		ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;
	k->vm_fd = vm_fd;
	return irq_create(&k->be, true, out);
}
