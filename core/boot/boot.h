/* SPDX-License-Identifier: MIT */
/*
 * Kernel loaders: a PVH ELF (Xen docs/misc/pvh.pandoc, the entry the iovmm
 * guest kit and modern Linux vmlinux provide) or a Linux bzImage entered
 * through the 64-bit boot protocol (Documentation/arch/x86/boot.rst).
 *
 * Pure logic over guest memory: nothing here talks to KVM. boot_load() puts
 * the image, initrd, command line and the boot-data structures into guest RAM
 * (boot data lives in [LAYOUT_BOOT_DATA_START, LAYOUT_BOOT_DATA_END)) and
 * describes the BSP's initial state; the vCPU code turns that description
 * into KVM registers with boot_cpu_state().
 *
 * The kernel and initrd files are hostile input: every offset, size and count
 * is bounds- and overflow-checked before use.
 */
#ifndef IOVMM_BOOT_H
#define IOVMM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "core/gmem.h"

struct boot_cfg {
	const char *kernel_path; /* ELF with a PVH note, or bzImage (by content) */
	const char *initrd_path; /* optional; PVH: module 0; bzImage: initrd */
	const char *cmdline;     /* optional; NULL or "" = empty */
	uint64_t rsdp_gpa;       /* from acpi_build(); 0 = no ACPI */
};

enum boot_protocol {
	BOOT_PVH,     /* 32-bit protected mode, paging off, EBX = start_info */
	BOOT_LINUX64, /* 64-bit long mode, identity paging, RSI = boot_params */
};

/* What the BSP must start with. Plain data, filled by boot_load(). */
struct boot_entry {
	enum boot_protocol protocol;
	uint64_t rip, rsp, rbx, rsi;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	bool long_mode;          /* CS is a 64-bit code segment */
	/* Informational (for logs and tests): where things landed. */
	uint64_t kernel_start, kernel_end;  /* [start, end) of the image */
	uint64_t initrd_gpa, initrd_size;   /* 0/0 when no initrd */
	uint64_t boot_info_gpa;             /* start_info or boot_params */
};

/* Selectors of the flat segments in the boot GDT (Linux __BOOT_CS/__BOOT_DS). */
#define BOOT_GDT_CS 0x10
#define BOOT_GDT_DS 0x18

/*
 * Load the kernel (+ initrd, command line) into mem and write start_info
 * (PVH) or boot_params (Linux) and the memory map. The memory map reports the
 * gmem regions as RAM minus the legacy hole, the ACPI area, and reserves the
 * ECAM, IOAPIC and LAPIC windows from core/layout.h. A reset stub goes to
 * the real-mode reset entry F000:FFF0 (LAYOUT_RESET_VECTOR): a guest that
 * restarts through the BIOS (Linux does) pulses the i8042 reset line.
 *
 * Returns 0, or:
 *  -ENOENT/-EACCES/...  a file cannot be opened or read (errno of the call)
 *  -ENOEXEC  neither an ELF with a XEN_ELFNOTE_PHYS32_ENTRY note nor a
 *            bzImage with a 64-bit entry (protocol >= 2.12, XLF_KERNEL_64)
 *  -EFBIG    kernel or initrd does not fit guest RAM
 *  -E2BIG    command line too long for the protocol / boot-data area
 *  -EINVAL   malformed image: bad header, offsets outside the file,
 *            p_filesz > p_memsz, segment outside RAM or over boot data/ACPI
 * and always writes a one-line human message into err (if errlen > 0).
 * On failure guest memory may hold a partial image.
 */
int boot_load(struct gmem *mem, const struct boot_cfg *cfg,
	      struct boot_entry *out, char *err, size_t errlen);

/*
 * Fill the BSP's registers from e. sregs must be pre-filled by the caller
 * (KVM_GET_SREGS) so fields this does not own (TR, LDT, IDT, APIC base) keep
 * KVM's reset values. regs is overwritten entirely. Pure function.
 */
void boot_cpu_state(const struct boot_entry *e, struct kvm_regs *regs,
		    struct kvm_sregs *sregs);

#endif
