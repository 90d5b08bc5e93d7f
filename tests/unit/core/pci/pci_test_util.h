/* SPDX-License-Identifier: MIT */
/* Helpers shared by the PCI unit tests: guest-like config and BAR accesses. */
#ifndef IOVMM_TEST_PCI_UTIL_H
#define IOVMM_TEST_PCI_UTIL_H

#include <stdint.h>
#include <stdio.h>

#include "core/bus.h"
#include "core/layout.h"

static inline uint32_t t_pio_read(struct bus *bus, uint64_t port, uint32_t len)
{
	uint32_t v = 0;

	bus_access(bus, BUS_PIO, port, &v, len, false);
	return v;
}

static inline void t_pio_write(struct bus *bus, uint64_t port, uint32_t v,
			       uint32_t len)
{
	bus_access(bus, BUS_PIO, port, &v, len, true);
}

static inline uint64_t t_mmio_read(struct bus *bus, uint64_t a, uint32_t len)
{
	uint64_t v = 0;

	bus_access(bus, BUS_MMIO, a, &v, len, false);
	return v;
}

static inline void t_mmio_write(struct bus *bus, uint64_t a, uint64_t v,
				uint32_t len)
{
	bus_access(bus, BUS_MMIO, a, &v, len, true);
}

/* Config mechanism #1, as a guest does it. */
static inline uint32_t t_cf8_read(struct bus *bus, unsigned slot, uint32_t reg,
				  uint32_t len)
{
	t_pio_write(bus, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc), 4);
	return t_pio_read(bus, 0xcfc + (reg & 3), len);
}

static inline void t_cf8_write(struct bus *bus, unsigned slot, uint32_t reg,
			       uint32_t v, uint32_t len)
{
	t_pio_write(bus, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc), 4);
	t_pio_write(bus, 0xcfc + (reg & 3), v, len);
}

static inline uint64_t t_ecam(unsigned slot, uint32_t reg)
{
	return LAYOUT_ECAM_START + ((uint64_t)slot << 15) + reg;
}

#endif
