/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every module: no allocation, no state. */
#ifndef IOVMM_UTIL_H
#define IOVMM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define IS_POW2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

/* True when [base, base + len) wraps around the 64-bit address space. */
static inline int range_overflows(uint64_t base, uint64_t len)
{
	return len != 0 && base + len - 1 < base;
}

/* True when [a, a + alen) and [b, b + blen) share at least one byte. */
static inline int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
				 uint64_t blen)
{
	return alen && blen && a <= b + blen - 1 && b <= a + alen - 1;
}

/* CLOCK_MONOTONIC in milliseconds, for durations that are logged. */
static inline uint64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
