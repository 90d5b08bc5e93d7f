/* SPDX-License-Identifier: MIT */
/*
 * Memory for device rings and buffers, and the arithmetic the rate keys
 * need. The allocator hands out the RAM that follows the image inside the
 * same memory-map entry (RAM type 1): the identity map makes every pointer
 * its own bus address, and a fresh VM's RAM is not otherwise used by the
 * kit. Firmware data (ACPI tables, start info) lies in other entries or
 * below 1 MiB, so it is never handed out.
 */
#include "guest/kit.h"

extern const uint8_t kit_image_end[];

/* Stop below 3 GiB: the identity map makes 3-4 GiB uncached (MMIO). */
#define KIT_ALLOC_LIMIT 0xc0000000ULL
/* Without a memory map, assume the 64 MiB every test machine has. */
#define KIT_ALLOC_FALLBACK (64ULL << 20)

static uint64_t alloc_next, alloc_end;

static void alloc_init(void)
{
	uint64_t start = KIT_ALIGN_UP((uint64_t)(uintptr_t)kit_image_end, 4096);
	uint64_t end = KIT_ALLOC_FALLBACK;

	for (unsigned int i = 0; i < kit_plat.memmap_entries; i++) {
		const struct kit_hvm_memmap_entry *e = &kit_plat.memmap[i];

		if (e->type == 1 && e->addr <= start &&
		    e->addr + e->size > start)
			end = e->addr + e->size;
	}
	if (end > KIT_ALLOC_LIMIT)
		end = KIT_ALLOC_LIMIT;
	alloc_next = start;
	alloc_end = end > start ? end : start;
}

void *kit_alloc(uint64_t size, uint64_t align)
{
	uint64_t a;

	if (!alloc_end)
		alloc_init();
	if (align < 16)
		align = 16;
	if (align & (align - 1))
		return NULL;
	a = KIT_ALIGN_UP(alloc_next, align);
	if (size == 0 || a < alloc_next || a > alloc_end ||
	    size > alloc_end - a)
		return NULL;
	alloc_next = a + size;
	memset((void *)(uintptr_t)a, 0, size);
	return (void *)(uintptr_t)a;
}

uint64_t kit_alloc_avail(void)
{
	if (!alloc_end)
		alloc_init();
	return alloc_end - alloc_next;
}

uint64_t kit_muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t lo, hi, q, rem;

	if (c == 0)
		return UINT64_MAX;
	__asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "rm"(b) : "cc");
	/* divq faults (#DE) when the quotient needs more than 64 bits. */
	if (hi >= c)
		return UINT64_MAX;
	__asm__("divq %4"
		: "=a"(q), "=d"(rem)
		: "a"(lo), "d"(hi), "rm"(c)
		: "cc");
	(void)rem;
	return q;
}

uint64_t kit_ms_to_cycles(uint64_t ms)
{
	uint64_t khz = kit_plat.tsc_khz ? kit_plat.tsc_khz : 4000000ULL;

	return kit_muldiv(ms, khz, 1);
}

uint64_t kit_per_second(uint64_t n, uint64_t cycles)
{
	if (!kit_plat.tsc_khz || !cycles)
		return 0;
	return kit_muldiv(n, kit_plat.tsc_khz * 1000ULL, cycles);
}

int kit_cmdline_choice(const char *key, const char *const *choices, int def,
		       bool *bad)
{
	size_t len;
	const char *v = kit_cmdline_get(key, &len);

	if (!v)
		return def;
	for (int i = 0; choices[i]; i++)
		if (kit_strlen(choices[i]) == len &&
		    !memcmp(choices[i], v, len))
			return i;
	*bad = true;
	return -1;
}
