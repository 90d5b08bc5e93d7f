/* SPDX-License-Identifier: MIT */
/*
 * KVM memory slots: guest RAM, and host memory mapped straight into the
 * guest physical space (an assigned device's BARs), so guest accesses to it
 * never exit. One allocator of slot numbers per VM; thread-safe (a guest
 * moving a BAR re-maps from a vCPU thread).
 */
#ifndef IOVMM_MEMSLOT_H
#define IOVMM_MEMSLOT_H

#include <stdbool.h>
#include <stdint.h>

struct memslots;

/* vm_fd is borrowed. */
int memslots_create(int vm_fd, struct memslots **out);
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
