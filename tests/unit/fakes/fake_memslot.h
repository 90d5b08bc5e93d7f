/* SPDX-License-Identifier: MIT */
/*
 * A recording back end for core/memslot.h: the slots as KVM would hold them,
 * with KVM's overlap rule (a new slot overlapping a present one is -EEXIST).
 */
#ifndef IOVMM_TEST_FAKE_MEMSLOT_H
#define IOVMM_TEST_FAKE_MEMSLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/memslot.h"

#define FAKE_MEMSLOT_NR 32

struct fake_memslot {
	bool present;
	uint64_t gpa;
	uint64_t size;
	void *hva;
	bool readonly;
};

struct fake_memslots;

/* memslots over a new fake, which they own. */
int fake_memslots_create(struct memslots **ms, struct fake_memslots **fake);
/* The slot that covers gpa: true and a copy in *out. */
bool fake_memslots_lookup(struct fake_memslots *f, uint64_t gpa,
			  struct fake_memslot *out);
unsigned fake_memslots_count(struct fake_memslots *f);

#endif
