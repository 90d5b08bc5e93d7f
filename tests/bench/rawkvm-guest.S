/* SPDX-License-Identifier: MIT */
/*
 * rawkvm guest code: position-independent x86-64 bytes that rawkvm.c copies
 * to RK_CODE_GPA. The host enters here at CPL0 in long mode (paging, EFER.LMA
 * and a flat 64-bit CS set with KVM_SET_SREGS); everything after that is the
 * guest's own doing.
 *
 * It lives in .rodata: the host never executes it, it only copies the bytes.
 * All intra-blob references are RIP-relative, all others are the absolute
 * GPAs from rawkvm-layout.h, so the blob needs no relocation.
 *
 * Entry: %rdi = mode, %rsi = count (>= 1).
 * Exit protocol: one "mark" access right before the timed loop (the host
 * starts its clock there), the loop, then one "done" access with
 * %r8 = TSC before the loop and %r9 = TSC after it.
 */
#include "rawkvm-layout.h"

	.section .rodata.rawkvm_guest, "a"
	.code64
	.balign 16
	.globl rawkvm_guest_start
rawkvm_guest_start:
	/*
	 * Load our own descriptor tables. The host wrote their contents, but
	 * a GDT/TSS the guest loaded itself and an iretq to CPL3 is the path a
	 * real kernel takes; on this host it is measurably cheaper per exit
	 * than a CPL3 state injected with KVM_SET_SREGS (see PEERS.md).
	 */
	lgdt	RK_GDTR_GPA
	lidt	RK_IDTR_GPA
	mov	$RK_SEL_TSS, %ax
	ltr	%ax
	mov	$RK_SEL_KDATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	/* Reload CS from our GDT with a far return. */
	pushq	$RK_SEL_KCODE
	lea	1f(%rip), %rax
	push	%rax
	lretq
1:
	cmp	$RK_MODE_PIO_CPL0, %rdi
	je	pio_cpl0

	/* iretq frame (SDM vol. 3A 6.14.3): SS, RSP, RFLAGS, CS, RIP. */
	pushq	$(RK_SEL_UDATA | 3)
	pushq	$RK_USTACK_TOP
	pushq	$0x2			/* IF=0: nothing may interrupt the loop */
	pushq	$(RK_SEL_UCODE | 3)
	lea	mmio_cpl3(%rip), %rax
	push	%rax
	iretq

	/* CPL3 from here on: native speed on this host. */
mmio_cpl3:
	mov	%rsi, %rcx
	mov	$RK_MMIO_BENCH_GPA, %rdi
	movl	%eax, RK_MMIO_MARK_GPA
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r8
2:	movl	%ecx, (%rdi)		/* the measured exit */
	dec	%rcx
	jnz	2b
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r9
	movl	%eax, RK_MMIO_DONE_GPA
	/* The host never re-enters after "done"; spin if it does. */
3:	jmp	3b

	/*
	 * CPL0 is emulated instruction by instruction on this host (~1 us
	 * each), so the loop is three instructions: out, dec, jnz.
	 */
pio_cpl0:
	mov	%rsi, %rcx
	mov	$RK_PORT_MARK, %dx
	outb	%al, %dx
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r8
	mov	$RK_PORT_BENCH, %dx
4:	outb	%al, %dx		/* the measured exit */
	dec	%rcx
	jnz	4b
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r9
	mov	$RK_PORT_DONE, %dx
	outb	%al, %dx
5:	hlt
	jmp	5b

	/*
	 * Exception stubs, RK_STUB_SIZE bytes apart; the host points IDT
	 * vector v at rawkvm_guest_stubs + v * RK_STUB_SIZE. A stub reports
	 * its vector on RK_PORT_FAULT so a broken guest fails loudly instead
	 * of triple-faulting or spinning.
	 */
	.balign RK_STUB_SIZE
	.globl rawkvm_guest_stubs
rawkvm_guest_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign RK_STUB_SIZE
	movb	$\v, %al
	jmp	fault_common
	.endr
fault_common:
	mov	$RK_PORT_FAULT, %dx
	outb	%al, %dx
	hlt
	jmp	fault_common

	.globl rawkvm_guest_end
rawkvm_guest_end:

	.section .note.GNU-stack, "", @progbits
