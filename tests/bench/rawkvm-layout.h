/* SPDX-License-Identifier: MIT */
/*
 * Guest physical layout and I/O addresses shared by rawkvm.c (host side) and
 * rawkvm-guest.S (guest side). Plain #defines only: this header is included
 * by the assembler too.
 */
#ifndef RAWKVM_LAYOUT_H
#define RAWKVM_LAYOUT_H

/* One RAM memslot at GPA 0. */
#define RK_RAM_SIZE		0x200000

/* 4-level paging: identity map of the first 4 GiB with 2 MiB pages. */
#define RK_PML4_GPA		0x1000
#define RK_PDPT_GPA		0x2000
#define RK_PD_GPA		0x3000	/* four PDs: 0x3000..0x6fff */

/* Descriptor tables the guest loads itself (lgdt/lidt/ltr at CPL0). */
#define RK_GDT_GPA		0x8000
#define RK_GDTR_GPA		0x8f00	/* pseudo-descriptor for lgdt */
#define RK_IDTR_GPA		0x8f10	/* pseudo-descriptor for lidt */
#define RK_IDT_GPA		0x9000
#define RK_TSS_GPA		0xa000

#define RK_CODE_GPA		0x10000
#define RK_KSTACK_TOP		0x30000
#define RK_USTACK_TOP		0x40000

/* GDT selectors. */
#define RK_SEL_KCODE		0x08
#define RK_SEL_KDATA		0x10
#define RK_SEL_UDATA		0x18
#define RK_SEL_UCODE		0x20
#define RK_SEL_TSS		0x28
#define RK_GDT_ENTRIES		7	/* TSS descriptor takes two slots */

/* Number of IDT vectors with a handler (the architectural exceptions). */
#define RK_IDT_VECTORS		32
/* Each exception stub is this many bytes apart in the guest blob. */
#define RK_STUB_SIZE		16

/* Unbacked GPAs: guest accesses there exit to userspace (or hit an ioeventfd). */
#define RK_MMIO_BENCH_GPA	0xd0000000
#define RK_MMIO_MARK_GPA	0xd0001000
#define RK_MMIO_DONE_GPA	0xd0002000

/* Ports for the CPL0 PIO test and for reporting guest exceptions. */
#define RK_PORT_BENCH		0x510
#define RK_PORT_MARK		0x511
#define RK_PORT_DONE		0x512
#define RK_PORT_FAULT		0x513

/* Guest entry: %rdi = mode, %rsi = iteration count (>= 1). */
#define RK_MODE_MMIO_CPL3	0	/* also used by the ioeventfd test */
#define RK_MODE_PIO_CPL0	1

#endif
