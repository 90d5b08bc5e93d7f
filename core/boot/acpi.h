/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables for an iovmm machine (ACPI 6.4): RSDP -> RSDT/XSDT -> FADT
 * (-> DSDT), MADT, MCFG. Written into [LAYOUT_ACPI_START, LAYOUT_ACPI_END)
 * with the RSDP first, so guests that scan the BIOS area (0xe0000-0xfffff,
 * ACPI 6.4 §5.2.5.1) find it as well as those given rsdp_paddr.
 */
#ifndef IOVMM_ACPI_H
#define IOVMM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"

#define ACPI_OEM_ID "IOVMM "  /* 6 bytes, space padded */
#define ACPI_MAX_CPUS 255      /* xAPIC MADT entries: 8-bit APIC IDs */

struct acpi_cfg {
	unsigned ncpus;           /* 1..ACPI_MAX_CPUS; APIC ID = UID = index */
	uint64_t lapic_base;      /* 0 = LAYOUT_LAPIC_START */
	uint64_t ioapic_base;     /* 0 = LAYOUT_IOAPIC_START */
	uint8_t ioapic_id;        /* KVM's IOAPIC resets its ID register to 0 */
	uint32_t gsi_base;        /* first GSI of the IOAPIC (0) */
	uint16_t sci_irq;         /* ISA IRQ of the SCI (9) */
	/* PCIe ECAM (MCFG + _CRS bus range). */
	uint64_t ecam_base;
	uint8_t ecam_bus_start, ecam_bus_end;
	/* Host-bridge windows for the DSDT's PCI0._CRS; size 0 = omitted. */
	uint64_t mmio32_base, mmio32_size;
	uint64_t mmio64_base, mmio64_size;
	uint32_t pio_base, pio_size;
	bool com1;                /* describe COM1 (PNP0501, 0x3f8, IRQ4) */
};

/* The defaults of core/layout.h for ncpus CPUs and RAM ending at ram_end. */
void acpi_cfg_default(struct acpi_cfg *cfg, unsigned ncpus, uint64_t ram_end);

/*
 * Build every table in guest RAM. *rsdp_gpa_out receives the RSDP address
 * (pass it to boot_cfg.rsdp_gpa). Returns 0, -EINVAL for an inconsistent
 * cfg (ncpus 0 or too many, empty bus range, window wrapping), -ENOSPC if the
 * tables outgrow the ACPI area, -EFAULT if the ACPI area is not RAM.
 */
int acpi_build(struct gmem *mem, const struct acpi_cfg *cfg,
	       uint64_t *rsdp_gpa_out);

/* 8-bit checksum so that the bytes [p, p+len) sum to 0 once stored. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
