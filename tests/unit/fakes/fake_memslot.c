// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/util.h"
#include "fake_memslot.h"

struct fake_memslots {
	struct memslot_backend be;
	pthread_mutex_t lock; /* guards slots */
	struct fake_memslot slots[FAKE_MEMSLOT_NR];
};

static struct fake_memslots *to_fake(struct memslot_backend *be)
{
	return container_of(be, struct fake_memslots, be);
}

static int fake_set(struct memslot_backend *be, int slot, uint64_t gpa,
		    uint64_t size, void *hva, bool readonly)
{
	struct fake_memslots *f = to_fake(be);
	int ret = 0;

	if (slot < 0 || slot >= FAKE_MEMSLOT_NR)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	if (!size) {
		f->slots[slot].present = false;
		goto out;
	}
	/* KVM: a new slot may not overlap another one (-EEXIST). */
	for (int i = 0; i < FAKE_MEMSLOT_NR; i++) {
		const struct fake_memslot *s = &f->slots[i];

		if (i != slot && s->present && gpa < s->gpa + s->size &&
		    s->gpa < gpa + size) {
			ret = -EEXIST;
			goto out;
		}
	}
	f->slots[slot] = (struct fake_memslot){ .present = true, .gpa = gpa,
						.size = size, .hva = hva,
						.readonly = readonly };
out:
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static void fake_destroy(struct memslot_backend *be)
{
	struct fake_memslots *f = to_fake(be);

	pthread_mutex_destroy(&f->lock);
	free(f);
}

static const struct memslot_ops fake_memslot_ops = {
	.set = fake_set,
	.destroy = fake_destroy,
};

int fake_memslots_create(struct memslots **ms, struct fake_memslots **fake)
{
	struct fake_memslots *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->be.ops = &fake_memslot_ops;
	f->be.nr_slots = FAKE_MEMSLOT_NR;
	pthread_mutex_init(&f->lock, NULL);
	*fake = f;
	return memslots_create(&f->be, true, ms);
}

bool fake_memslots_lookup(struct fake_memslots *f, uint64_t gpa,
			  struct fake_memslot *out)
{
	bool found = false;

	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < FAKE_MEMSLOT_NR && !found; i++) {
		const struct fake_memslot *s = &f->slots[i];

		if (s->present && gpa >= s->gpa && gpa - s->gpa < s->size) {
			*out = *s;
			found = true;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return found;
}

unsigned fake_memslots_count(struct fake_memslots *f)
{
	unsigned n = 0;

	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < FAKE_MEMSLOT_NR; i++)
		n += f->slots[i].present;
	pthread_mutex_unlock(&f->lock);
	return n;
}
