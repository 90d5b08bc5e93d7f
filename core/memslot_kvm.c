// SPDX-License-Identifier: MIT
/* The KVM back end of core/memslot.h: KVM_SET_USER_MEMORY_REGION. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "core/memslot.h"
#include "core/util.h"

struct memslot_kvm {
	struct memslot_backend be;
	int vm_fd; /* borrowed from the VM */
};

static int kvm_slot_set(struct memslot_backend *be, int slot, uint64_t gpa,
			uint64_t size, void *hva, bool readonly)
{
	struct memslot_kvm *k = container_of(be, struct memslot_kvm, be);
	/* A zero-sized region deletes the slot (KVM API). */
	struct kvm_userspace_memory_region r = {
		.slot = (uint32_t)slot,
		.flags = readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

static void kvm_slots_destroy(struct memslot_backend *be)
{
	free(container_of(be, struct memslot_kvm, be));
}

static const struct memslot_ops memslot_kvm_ops = {
	.set = kvm_slot_set,
	.destroy = kvm_slots_destroy,
};

int memslots_kvm_create(int vm_fd, struct memslots **out)
{
	struct memslot_kvm *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	k->be.ops = &memslot_kvm_ops;
	k->be.nr_slots = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	k->vm_fd = vm_fd;
	return memslots_create(&k->be, true, out);
}
