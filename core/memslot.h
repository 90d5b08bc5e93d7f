/* SPDX-License-Identifier: MIT */
/*
 * Memory slots: guest RAM, and host memory mapped straight into the guest
 * physical space (an assigned device's BARs), so guest accesses to it never
 * exit. One allocator of slot numbers per VM; thread-safe (a guest moving a
 * BAR re-maps from a vCPU thread).
 *
 * Like core/irq.h, split at a seam: slot numbering and argument checks live
 * here, a back end installs each slot. memslots_kvm_create() is KVM's
 * (KVM_SET_USER_MEMORY_REGION); unit tests use a recording fake
 * (tests/unit/fakes/fake_memslot.h).
 */
#ifndef IOVMM_MEMSLOT_H
#define IOVMM_MEMSLOT_H

#include <stdbool.h>
#include <stdint.h>

struct memslots;

struct memslot_backend;
struct memslot_ops {
	/*
	 * Install slot `slot` as [gpa, gpa + size) -> hva, or delete it when
	 * size is 0 (KVM's convention). 0 or -errno (-EEXIST: overlap).
	 */
	int (*set)(struct memslot_backend *be, int slot, uint64_t gpa,
		   uint64_t size, void *hva, bool readonly);
	/* Optional: called by memslots_destroy() when it owns the back end. */
	void (*destroy)(struct memslot_backend *be);
};

struct memslot_backend {
	const struct memslot_ops *ops;
	int nr_slots; /* usable slot ids: 0 .. nr_slots - 1 */
};

/* be is borrowed, unless own: then memslots_destroy() destroys it. */
int memslots_create(struct memslot_backend *be, bool own,
		    struct memslots **out);
/* The KVM back end; vm_fd is borrowed. */
int memslots_kvm_create(int vm_fd, struct memslots **out);
/* Deletes every slot still present. */
void memslots_destroy(struct memslots *ms);

/*
 * Map [hva, hva + size) at guest-physical gpa. gpa, size and hva must be
 * page aligned. readonly maps it KVM_MEM_READONLY (writes exit as MMIO).
 * Returns the slot id (>= 0) or -errno: -ENOSPC when KVM has no free slot,
 * -EEXIST when it overlaps a slot (KVM's answer), -EINVAL for misalignment.
 */
int memslot_add(struct memslots *ms, uint64_t gpa, uint64_t size, void *hva,
		bool readonly);
/* Remove a slot returned by memslot_add(). -ENOENT if unknown. */
int memslot_del(struct memslots *ms, int slot);

#endif
