// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/memslot.h"
#include "core/util.h"

/* Slots in address space 0; KVM allows KVM_CAP_NR_MEMSLOTS (>= 32). */
#define MEMSLOT_MAX 512

struct memslots {
	int vm_fd;
	int nr;                         /* usable slot ids: 0 .. nr-1 */
	pthread_mutex_t lock;
	uint64_t used[MEMSLOT_MAX / 64]; /* lock: lock */
};

static int memslot_set(int vm_fd, int slot, uint64_t gpa, uint64_t size,
		       void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = (uint32_t)slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

int memslots_create(int vm_fd, struct memslots **out)
{
	struct memslots *ms = calloc(1, sizeof(*ms));
	int nr;

	if (!ms)
		return -ENOMEM;
	nr = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	ms->nr = nr > 0 && nr < MEMSLOT_MAX ? nr : MEMSLOT_MAX;
	ms->vm_fd = vm_fd;
	pthread_mutex_init(&ms->lock, NULL);
	*out = ms;
	return 0;
}

void memslots_destroy(struct memslots *ms)
{
	if (!ms)
		return;
	for (int i = 0; i < ms->nr; i++)
		if (ms->used[i / 64] & (1ULL << (i % 64)))
			memslot_set(ms->vm_fd, i, 0, 0, NULL, 0);
	pthread_mutex_destroy(&ms->lock);
	free(ms);
}

int memslot_add(struct memslots *ms, uint64_t gpa, uint64_t size, void *hva,
		bool readonly)
{
	long page = sysconf(_SC_PAGESIZE);
	int slot, ret = -ENOSPC;

	if (!size || !IS_ALIGNED(gpa, (uint64_t)page) ||
	    !IS_ALIGNED(size, (uint64_t)page) ||
	    !IS_ALIGNED((uintptr_t)hva, (uintptr_t)page) ||
	    range_overflows(gpa, size))
		return -EINVAL;
	pthread_mutex_lock(&ms->lock);
	for (slot = 0; slot < ms->nr; slot++) {
		if (ms->used[slot / 64] & (1ULL << (slot % 64)))
			continue;
		ret = memslot_set(ms->vm_fd, slot, gpa, size, hva,
				  readonly ? KVM_MEM_READONLY : 0);
		if (!ret) {
			ms->used[slot / 64] |= 1ULL << (slot % 64);
			ret = slot;
		}
		break;
	}
	pthread_mutex_unlock(&ms->lock);
	return ret;
}

int memslot_del(struct memslots *ms, int slot)
{
	int ret = -ENOENT;

	if (slot < 0 || slot >= ms->nr)
		return -ENOENT;
	pthread_mutex_lock(&ms->lock);
	if (ms->used[slot / 64] & (1ULL << (slot % 64))) {
		/* A zero-sized region deletes the slot (KVM API). */
		ret = memslot_set(ms->vm_fd, slot, 0, 0, NULL, 0);
		if (!ret)
			ms->used[slot / 64] &= ~(1ULL << (slot % 64));
	}
	pthread_mutex_unlock(&ms->lock);
	return ret;
}
