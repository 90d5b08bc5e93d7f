/* SPDX-License-Identifier: MIT */
/*
 * Guest kit boot: PVH entry (32-bit protected mode, paging off, EBX =
 * hvm_start_info), long mode on static page tables, trap stubs, and the AP
 * trampoline the SMP test copies below 1 MiB.
 *
 * Why everything here is static data: guest CPL0 runs ~1M instructions/s on
 * the paravirtual hosts we develop on, and the first serial line is a
 * startup-latency target. The page tables and GDT are assembled into the
 * image (no loops at boot), .bss is not cleared (the loader zero-fills
 * p_memsz, fresh RAM is zero), and the first line goes out before anything
 * else happens.
 */

#define PTE_P     0x001
#define PTE_W     0x002
#define PTE_U     0x004
#define PTE_PWT   0x008
#define PTE_PCD   0x010
#define PTE_PS    0x080
#define PTE_TABLE (PTE_P | PTE_W | PTE_U)
#define PTE_2M    (PTE_P | PTE_W | PTE_U | PTE_PS)

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10

/* ---- PVH note: Xen public elfnote.h, XEN_ELFNOTE_PHYS32_ENTRY = 18 ---- */
	.section .note.Xen, "a"
	.p2align 2
	.long 4			/* namesz: "Xen\0" */
	.long 4			/* descsz: 32-bit physical entry point */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.p2align 2
	.long kit_pvh_entry

	.section .text.entry, "ax"
	.code32
	.globl kit_pvh_entry
kit_pvh_entry:
	cli
	cld
	mov %ebx, %edi			/* hvm_start_info, kept in edi/rdi */

	/* First line before anything else: COM1 THR, no LSR poll (both
	 * iovmm's and QEMU's 16550 are always ready). */
	mov $0x3f8, %dx
	mov $kit_boot_banner, %esi
1:	lodsb
	test %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:
	lgdt kit_gdtr
	mov $kit_pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax			/* CR4.PAE */
	mov %eax, %cr4
	mov $0xc0000080, %ecx		/* IA32_EFER */
	rdmsr
	or $0x100, %eax			/* LME */
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax		/* PG | PE */
	mov %eax, %cr0
	ljmp $SEL_KCODE, $kit_entry64

	.code64
kit_entry64:
	mov $SEL_KDATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov $kit_kstack_top, %rsp
	mov %edi, %edi			/* zero-extend start_info pointer */
	call kit_cpl0_start
3:	cli
	hlt
	jmp 3b

/*
 * kit_enter_user(entry, user_stack, arg): iretq to CPL3 with IF clear
 * (the irq test turns IF on through KIT_SYS_IRQ_ENABLE).
 */
	.text
	.globl kit_enter_user
kit_enter_user:
	mov %rdi, %rax
	mov %rdx, %rdi
	pushq $0x1b			/* SS: user data, RPL 3 */
	pushq %rsi			/* RSP */
	pushq $0x2			/* RFLAGS: IF=0, IOPL=0 */
	pushq $0x23			/* CS: user code, RPL 3 */
	pushq %rax			/* RIP */
	iretq

/* ---- trap stubs: push a dummy error code where the CPU pushes none ---- */
.macro TRAP_NOERR vec
	.globl kit_trap_\vec
kit_trap_\vec:
	pushq $0
	pushq $\vec
	jmp kit_trap_common
.endm
.macro TRAP_ERR vec
	.globl kit_trap_\vec
kit_trap_\vec:
	pushq $\vec
	jmp kit_trap_common
.endm

	TRAP_NOERR 0
	TRAP_NOERR 1
	TRAP_NOERR 2
	TRAP_NOERR 3
	TRAP_NOERR 4
	TRAP_NOERR 5
	TRAP_NOERR 6
	TRAP_NOERR 7
	TRAP_ERR 8
	TRAP_NOERR 9
	TRAP_ERR 10
	TRAP_ERR 11
	TRAP_ERR 12
	TRAP_ERR 13
	TRAP_ERR 14
	TRAP_NOERR 15
	TRAP_NOERR 16
	TRAP_ERR 17
	TRAP_NOERR 18
	TRAP_NOERR 19
	TRAP_NOERR 20
	TRAP_ERR 21
	TRAP_NOERR 64			/* KIT_IRQ_VECTOR */
	TRAP_NOERR 128			/* KIT_SYSCALL_VECTOR */
	TRAP_NOERR 255			/* KIT_SPURIOUS_VECTOR */

kit_trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call kit_trap
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp			/* vector, error code */
	iretq

/*
 * AP trampoline. Copied to KIT_AP_TRAMPOLINE (0x8000) at run time and
 * entered in real mode at 0800:0000 by the SIPI (vector 0x08). Addresses
 * are computed relative to the copy. It reuses the BSP's page tables, bumps
 * kit_ap_online atomically and halts forever.
 */
#define AP_ADDR(sym) (0x8000 + (sym) - kit_ap_trampoline_start)
	.section .rodata
	.p2align 4
	.globl kit_ap_trampoline_start
	.globl kit_ap_trampoline_end
kit_ap_trampoline_start:
	.code16
	cli
	xor %ax, %ax
	mov %ax, %ds
	lgdtl AP_ADDR(ap_gdtr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $AP_ADDR(ap_pm32)
	.code32
ap_pm32:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %ss
	mov %cr4, %eax
	or $0x20, %eax
	mov %eax, %cr4
	mov $kit_pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax
	mov %eax, %cr0
	ljmp $0x18, $AP_ADDR(ap_lm64)
	.code64
ap_lm64:
	lock incl kit_ap_online
1:	cli
	hlt
	jmp 1b
	.p2align 3
ap_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
ap_gdtr:
	.word 4 * 8 - 1
	.long AP_ADDR(ap_gdt)
kit_ap_trampoline_end:

kit_boot_banner:
	.asciz "iovmm-kit: boot\n"

/* ---- GDT: the TSS descriptor (0x28) is filled in by kit_cpl0_start ---- */
	.data
	.p2align 4
	.globl kit_gdt
kit_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: kernel code 64 */
	.quad 0x00cf92000000ffff	/* 0x10: kernel data */
	.quad 0x00cff2000000ffff	/* 0x18: user data */
	.quad 0x00affa000000ffff	/* 0x20: user code 64 */
	.quad 0, 0			/* 0x28: TSS (16 bytes) */
kit_gdt_end:
	.p2align 3
kit_gdtr:
	.word kit_gdt_end - kit_gdt - 1
	.quad kit_gdt

/*
 * Page tables: PML4[0] -> PDPT; PDPT[0..3] -> four page directories that
 * identity-map 0-4 GiB with 2 MiB pages, U/S set everywhere (CPL3 loops use
 * MMIO and rings directly). 3-4 GiB (PCI MMIO, ECAM, IOAPIC, LAPIC) is
 * mapped uncached. PDPT[4..511] start empty; KIT_SYS_MAP fills them on
 * demand for 64-bit BARs (1 GiB pages when the CPU has pdpe1gb).
 */
	.section .data.pagetables, "aw"
	.p2align 12
	.globl kit_pml4
kit_pml4:
	.quad kit_pdpt + PTE_TABLE
	.fill 511, 8, 0
	.globl kit_pdpt
kit_pdpt:
	.quad kit_pd + PTE_TABLE
	.quad kit_pd + 0x1000 + PTE_TABLE
	.quad kit_pd + 0x2000 + PTE_TABLE
	.quad kit_pd + 0x3000 + PTE_TABLE
	.fill 508, 8, 0
kit_pd:
	.set i, 0
	.rept 1536
	.quad (i << 21) + PTE_2M
	.set i, i + 1
	.endr
	.rept 512
	.quad (i << 21) + PTE_2M + PTE_PCD + PTE_PWT
	.set i, i + 1
	.endr

	.bss
	.p2align 12
	.globl kit_kstack_top
kit_kstack:
	.skip 16384
kit_kstack_top:

	.section .note.GNU-stack, "", @progbits
