/* SPDX-License-Identifier: MIT */
/*
 * The kit's CPL0 part: descriptor tables, the trap/syscall dispatcher and
 * the few privileged services CPL3 asks for. Kept deliberately small: on a
 * paravirtual host every CPL0 instruction is emulated (~1 us each).
 */
#include "guest/kit.h"

struct kit_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* 64-bit TSS (SDM Vol. 3 §8.7): only RSP0 matters, no I/O bitmap. */
struct kit_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct kit_idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
};

void kit_cpl0_start(uint64_t start_info);
void kit_trap(struct kit_frame *f);
void kit_main(uint64_t start_info);
void kit_enter_user(void (*entry)(uint64_t), uint64_t stack, uint64_t arg)
	__attribute__((noreturn));

extern uint64_t kit_gdt[];
extern uint64_t kit_pdpt[];
extern uint8_t kit_kstack_top[];

#define KIT_USTACK_SIZE 65536
#define KIT_PD_POOL 16
#define KIT_EFLAGS_IF 0x200

static struct kit_tss kit_tss __attribute__((aligned(16)));
static struct kit_idt_gate kit_idt[256] __attribute__((aligned(16)));
static uint8_t kit_ustack[KIT_USTACK_SIZE] __attribute__((aligned(16)));
static uint64_t kit_pd_pool[KIT_PD_POOL][512] __attribute__((aligned(4096)));
static unsigned int kit_pd_used;
static uint64_t kit_irq_edu_base;

volatile uint32_t kit_ap_online;
volatile uint64_t kit_irq_count;
volatile uint64_t kit_irq_spurious;
const char *volatile kit_current_test = "boot";

#define DECL_STUB(v) extern const char kit_trap_##v[]
DECL_STUB(0); DECL_STUB(1); DECL_STUB(2); DECL_STUB(3); DECL_STUB(4);
DECL_STUB(5); DECL_STUB(6); DECL_STUB(7); DECL_STUB(8); DECL_STUB(9);
DECL_STUB(10); DECL_STUB(11); DECL_STUB(12); DECL_STUB(13); DECL_STUB(14);
DECL_STUB(15); DECL_STUB(16); DECL_STUB(17); DECL_STUB(18); DECL_STUB(19);
DECL_STUB(20); DECL_STUB(21); DECL_STUB(64); DECL_STUB(128); DECL_STUB(255);

static const struct {
	uint8_t vector;
	uint8_t dpl;
	const char *stub;
} kit_gates[] = {
	{ 0, 0, kit_trap_0 }, { 1, 0, kit_trap_1 }, { 2, 0, kit_trap_2 },
	{ 3, 3, kit_trap_3 }, { 4, 0, kit_trap_4 }, { 5, 0, kit_trap_5 },
	{ 6, 0, kit_trap_6 }, { 7, 0, kit_trap_7 }, { 8, 0, kit_trap_8 },
	{ 9, 0, kit_trap_9 }, { 10, 0, kit_trap_10 }, { 11, 0, kit_trap_11 },
	{ 12, 0, kit_trap_12 }, { 13, 0, kit_trap_13 },
	{ 14, 0, kit_trap_14 }, { 15, 0, kit_trap_15 },
	{ 16, 0, kit_trap_16 }, { 17, 0, kit_trap_17 },
	{ 18, 0, kit_trap_18 }, { 19, 0, kit_trap_19 },
	{ 20, 0, kit_trap_20 }, { 21, 0, kit_trap_21 },
	{ KIT_IRQ_VECTOR, 0, kit_trap_64 },
	{ KIT_SYSCALL_VECTOR, 3, kit_trap_128 },
	{ KIT_SPURIOUS_VECTOR, 0, kit_trap_255 },
};

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void cpl0_puts(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		outb(KIT_PORT_COM1, (uint8_t)s[i]);
}

static void __attribute__((noreturn)) cpl0_exit(uint8_t code)
{
	/* isa-debug-exit: QEMU exits with (code << 1) | 1. */
	outb(KIT_PORT_DEBUG_EXIT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void kit_cpl0_start(uint64_t start_info)
{
	uint64_t tss = (uint64_t)(uintptr_t)&kit_tss;
	uint64_t limit = sizeof(kit_tss) - 1;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(kit_idt) - 1,
					   (uint64_t)(uintptr_t)kit_idt };

	kit_tss.rsp[0] = (uint64_t)(uintptr_t)kit_kstack_top;
	kit_tss.iomap_base = sizeof(kit_tss); /* no I/O bitmap */
	/* Available 64-bit TSS descriptor (SDM Vol. 3 §8.2.3), type 9. */
	kit_gdt[5] = (limit & 0xffff) | ((tss & 0xffffff) << 16) |
		     (0x89ULL << 40) | (((tss >> 24) & 0xff) << 56);
	kit_gdt[6] = tss >> 32;
	__asm__ volatile("ltr %w0" : : "r"(0x28));

	for (size_t i = 0; i < KIT_ARRAY_SIZE(kit_gates); i++) {
		uint64_t off = (uint64_t)(uintptr_t)kit_gates[i].stub;
		struct kit_idt_gate *g = &kit_idt[kit_gates[i].vector];

		g->off_lo = off & 0xffff;
		g->sel = 0x08;
		/* Interrupt gate (type 0xe): IF is cleared on entry. */
		g->type_attr = 0x8e | (kit_gates[i].dpl << 5);
		g->off_mid = (off >> 16) & 0xffff;
		g->off_hi = off >> 32;
	}
	__asm__ volatile("lidt %0" : : "m"(idtr));

	kit_enter_user(kit_main, (uint64_t)(uintptr_t)kit_ustack +
		       KIT_USTACK_SIZE, start_info);
}

/*
 * Identity-map [phys, phys + size) above 4 GiB (below 512 GiB: one PDPT).
 * With pdpe1gb a PDPT entry maps 1 GiB directly; otherwise a page directory
 * from a small static pool maps it with 2 MiB pages.
 */
static int cpl0_map(uint64_t phys, uint64_t size)
{
	const uint64_t flags = 0x1f; /* P W U PWT PCD: MMIO is uncached */
	uint64_t end = phys + size;
	uint32_t r[4];
	bool gb;

	if (size == 0 || end < phys || end > (512ULL << 30))
		return -1;
	kit_cpuid(0x80000001, 0, r);
	gb = r[3] & (1u << 26);
	for (uint64_t g = phys >> 30; g < KIT_ALIGN_UP(end, 1ULL << 30) >> 30;
	     g++) {
		if (kit_pdpt[g] & 1)
			continue;
		if (gb) {
			kit_pdpt[g] = (g << 30) | flags | 0x80;
			continue;
		}
		if (kit_pd_used == KIT_PD_POOL)
			return -1;
		uint64_t *pd = kit_pd_pool[kit_pd_used++];

		for (uint64_t i = 0; i < 512; i++)
			pd[i] = (g << 30) | (i << 21) | flags | 0x80;
		kit_pdpt[g] = (uint64_t)(uintptr_t)pd | 0x7;
	}
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax",
			 "memory");
	return 0;
}

static void cpl0_out(uint16_t port, unsigned int width, uint32_t v)
{
	if (width == 1)
		outb(port, (uint8_t)v);
	else if (width == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

static uint32_t cpl0_in(uint16_t port, unsigned int width)
{
	if (width == 1)
		return inb(port);
	if (width == 2)
		return inw(port);
	return inl(port);
}

/*
 * The PIO exit loop, in the same three instructions as the raw KVM floor
 * (tests/bench/rawkvm-guest.S): guest CPL0 is instruction-emulated on the
 * development hosts, so every extra instruction per iteration shows up in
 * the exit cost. One `out` per iteration, never `rep outsb`, which KVM would
 * batch into a single exit.
 */
static uint64_t cpl0_outb_loop(uint16_t port, uint8_t v, uint64_t count)
{
	uint64_t t0 = kit_rdtsc();

	if (count)
		__asm__ volatile("1: outb %%al, %%dx\n\t"
				 "dec %%rcx\n\t"
				 "jnz 1b"
				 : "+c"(count)
				 : "a"(v), "d"(port)
				 : "memory", "cc");
	return kit_rdtsc() - t0;
}

static void cpl0_syscall(struct kit_frame *f)
{
	uint64_t a = f->rdi, b = f->rsi, c = f->rdx;

	switch (f->rax) {
	case KIT_SYS_WRITE:
		cpl0_puts((const char *)(uintptr_t)a, b);
		f->rax = 0;
		break;
	case KIT_SYS_EXIT:
		cpl0_exit((uint8_t)a);
	case KIT_SYS_OUT:
		cpl0_out((uint16_t)a, (unsigned int)b, (uint32_t)c);
		f->rax = 0;
		break;
	case KIT_SYS_IN:
		f->rax = cpl0_in((uint16_t)a, (unsigned int)b);
		break;
	case KIT_SYS_OUTB_LOOP:
		f->rax = cpl0_outb_loop((uint16_t)a, (uint8_t)b, c);
		break;
	case KIT_SYS_WRMSR:
		__asm__ volatile("wrmsr" : : "c"((uint32_t)a), "a"((uint32_t)b),
				 "d"((uint32_t)(b >> 32)));
		f->rax = 0;
		break;
	case KIT_SYS_IRQ_ENABLE:
		if (a)
			f->rflags |= KIT_EFLAGS_IF;
		else
			f->rflags &= ~(uint64_t)KIT_EFLAGS_IF;
		f->rax = 0;
		break;
	case KIT_SYS_MAP:
		f->rax = (uint64_t)(int64_t)cpl0_map(a, b);
		break;
	case KIT_SYS_IRQ_HOOK:
		kit_irq_edu_base = a;
		f->rax = 0;
		break;
	default:
		f->rax = (uint64_t)-1;
		break;
	}
}

/*
 * The irq test's handler (edu, QEMU docs/specs/edu.rst): read the status
 * register, acknowledge exactly those bits, then EOI the local APIC.
 */
static void cpl0_irq(void)
{
	uint64_t base = kit_irq_edu_base;

	if (base) {
		uint32_t st = kit_mmio_read32(base + 0x24);

		if (st)
			kit_mmio_write32(base + 0x64, st);
		else
			kit_irq_spurious++;
	} else {
		kit_irq_spurious++;
	}
	kit_irq_count++;
	kit_mmio_write32(KIT_LAPIC_BASE + 0xb0, 0);
}

static void __attribute__((noreturn)) cpl0_exception(struct kit_frame *f)
{
	char line[256];
	uint64_t cr2;
	int n;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	n = kit_snprintf(line, sizeof(line),
			 "\nRESULT test=%s status=fail reason=exception "
			 "vector=%lu error=0x%lx rip=0x%lx cr2=0x%lx cs=0x%lx\n",
			 kit_current_test, f->vector, f->error, f->rip, cr2,
			 f->cs);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	cpl0_puts(line, (size_t)n);
	cpl0_exit(2);
}

void kit_trap(struct kit_frame *f)
{
	switch (f->vector) {
	case KIT_SYSCALL_INT3:
	case KIT_SYSCALL_VECTOR:
		cpl0_syscall(f);
		return;
	case KIT_IRQ_VECTOR:
		cpl0_irq();
		return;
	case KIT_SPURIOUS_VECTOR:
		/* SDM Vol. 3 §11.9: no EOI for the spurious vector. */
		kit_irq_spurious++;
		return;
	default:
		cpl0_exception(f);
	}
}
