/* SPDX-License-Identifier: MIT */
/*
 * The guest-physical address map of an iovmm machine (x86-64). One place, so
 * the boot code, ACPI tables, PCI host and allocators agree.
 *
 *   0x0000_0000  RAM (low). 0x1000-0x7fff: boot data written by iovmm
 *                (start_info/boot_params, memory map, command line, GDT,
 *                boot page tables). 0x8000-0x9ffff: free for the guest.
 *   0x000a_0000  legacy VGA/ROM hole (reported reserved, not RAM)
 *   0x000e_0000  ACPI tables (RSDP first, inside the BIOS search area)
 *   0x000f_fff0  reset stub at the real-mode reset entry F000:FFF0
 *   0x0010_0000  RAM continues; kernels load at 1 MiB
 *   LOW_RAM_END  = min(ram, 0xc000_0000)
 *   0xc000_0000  32-bit PCI MMIO window (256 MiB)
 *   0xd000_0000  PCIe ECAM (256 buses x 1 MiB, MCFG)
 *   0xfec0_0000  IOAPIC
 *   0xfee0_0000  local APIC
 *   4 GiB        RAM (high), the rest of guest RAM
 *   above RAM    64-bit PCI MMIO window, 1 GiB aligned
 */
#ifndef IOVMM_LAYOUT_H
#define IOVMM_LAYOUT_H

#define LAYOUT_BOOT_DATA_START  0x1000ULL
#define LAYOUT_BOOT_DATA_END    0x8000ULL
#define LAYOUT_EBDA_START       0x9fc00ULL
#define LAYOUT_LOW_HOLE_START   0xa0000ULL
#define LAYOUT_ACPI_START       0xe0000ULL
#define LAYOUT_ACPI_END         0x100000ULL
/* F000:FFF0, where a BIOS's reset entry is; the last 16 bytes of the ACPI
 * area hold iovmm's reset stub instead (boot_load(), core/boot/boot.c). */
#define LAYOUT_RESET_VECTOR     0xffff0ULL
#define LAYOUT_HIGH_MEM_START   0x100000ULL

#define LAYOUT_MMIO32_START     0xc0000000ULL
#define LAYOUT_MMIO32_SIZE      0x10000000ULL
#define LAYOUT_ECAM_START       0xd0000000ULL
#define LAYOUT_ECAM_SIZE        0x10000000ULL
#define LAYOUT_ECAM_BUSES       256
#define LAYOUT_PCI_BUSES        1   /* decoded by the host bridge: bus 0 */
#define LAYOUT_IOAPIC_START     0xfec00000ULL
#define LAYOUT_LAPIC_START      0xfee00000ULL

/* Highest end of low RAM; anything beyond it goes above 4 GiB. */
#define LAYOUT_LOW_RAM_MAX      LAYOUT_MMIO32_START
#define LAYOUT_RAM_HIGH_START   0x100000000ULL
#define LAYOUT_MMIO64_ALIGN     0x40000000ULL
#define LAYOUT_MMIO64_SIZE      0x4000000000ULL /* 256 GiB */

/* PCI I/O port window handed to I/O BARs. */
#define LAYOUT_PIO_PCI_START    0x1000ULL
#define LAYOUT_PIO_PCI_SIZE     0xf000ULL

/* Legacy ISA ports iovmm emulates in userspace. */
#define LAYOUT_PORT_COM1        0x3f8
#define LAYOUT_PORT_CMOS        0x70
#define LAYOUT_PORT_I8042       0x60
#define LAYOUT_PORT_DEBUG_EXIT  0xf4
#define LAYOUT_PORT_PCI_CONFIG  0xcf8

/* GSIs: 0-23 are IOAPIC pins; MSI routes are allocated above them. */
#define LAYOUT_GSI_IOAPIC_PINS  24
#define LAYOUT_IRQ_COM1         4

#include <stdint.h>

/*
 * Base of the 64-bit PCI MMIO window: the first 1 GiB boundary at or above
 * both 4 GiB and the end of RAM. The ACPI _CRS and the BAR allocator must
 * agree, so both call this.
 */
static inline uint64_t layout_mmio64_base(uint64_t ram_end)
{
	uint64_t base = (ram_end + LAYOUT_MMIO64_ALIGN - 1) &
			~(LAYOUT_MMIO64_ALIGN - 1);

	return base < LAYOUT_RAM_HIGH_START ? LAYOUT_RAM_HIGH_START : base;
}

/*
 * PCI INTx routing (pin 0 = INTA#): every slot's pins reach IOAPIC GSIs
 * 16-19 with the conventional swizzle, and DSDT PCI0._PRT says exactly this.
 * GSIs are level-triggered; KVM's IOAPIC ignores the polarity the guest
 * programs, so a device asserts its line by raising it to 1.
 */
#define LAYOUT_GSI_PCI_INTX_BASE 16
static inline uint32_t layout_pci_intx_gsi(unsigned slot, unsigned pin)
{
	return LAYOUT_GSI_PCI_INTX_BASE + (slot + pin) % 4;
}

#endif
