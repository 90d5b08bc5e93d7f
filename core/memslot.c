// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/memslot.h"
#include "core/util.h"

/* Slots in address space 0; KVM allows KVM_CAP_NR_MEMSLOTS (>= 32). */
#define MEMSLOT_MAX 512

struct memslots {
	struct memslot_backend *be; /* borrowed, or owned when own_be */
	bool own_be;
	int nr;                         /* usable slot ids: 0 .. nr-1 */
	pthread_mutex_t lock;
	uint64_t used[MEMSLOT_MAX / 64]; /* lock: lock */
};

int memslots_create(struct memslot_backend *be, bool own,
		    struct memslots **out)
{
	struct memslots *ms = calloc(1, sizeof(*ms));

	if (!ms) {
		if (own && be->ops->destroy)
			be->ops->destroy(be);
		return -ENOMEM;
	}
	ms->be = be;
	ms->own_be = own;
	ms->nr = be->nr_slots > 0 && be->nr_slots < MEMSLOT_MAX ? be->nr_slots
								  : MEMSLOT_MAX;
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
			ms->be->ops->set(ms->be, i, 0, 0, NULL, false);
	if (ms->own_be && ms->be->ops->destroy)
		ms->be->ops->destroy(ms->be);
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
		ret = ms->be->ops->set(ms->be, slot, gpa, size, hva, readonly);
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
		ret = ms->be->ops->set(ms->be, slot, 0, 0, NULL, false);
		if (!ret)
			ms->used[slot / 64] &= ~(1ULL << (slot % 64));
	}
	pthread_mutex_unlock(&ms->lock);
	return ret;
}
