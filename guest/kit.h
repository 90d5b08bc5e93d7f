/* SPDX-License-Identifier: MIT */
/*
 * The guest kit: a freestanding x86-64 guest that boots through the PVH
 * entry under iovmm and QEMU alike. See guest/README.md for the contracts
 * (command line, RESULT lines, devices, memory use).
 *
 * Privilege split: only the code in cpl0.c (and entry.S) runs at CPL0, and
 * only briefly: on a paravirtual host KVM, guest CPL0 is emulated and about
 * 100x slower than CPL3, which runs natively. Everything else (ACPI, PCI,
 * tests) runs at CPL3 and reaches privileged work through a trap
 * (kit_syscall()). All memory is identity mapped with the U/S bit set, so CPL3
 * code touches MMIO BARs, the local APIC and low memory directly.
 */
#ifndef IOVMM_GUEST_KIT_H
#define IOVMM_GUEST_KIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KIT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KIT_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))

/* Port numbers of the platform devices both VMMs provide. */
#define KIT_PORT_COM1 0x3f8
#define KIT_PORT_DEBUG_EXIT 0xf4
#define KIT_PORT_PCI_ADDR 0xcf8
#define KIT_PORT_PCI_DATA 0xcfc

#define KIT_LAPIC_BASE 0xfee00000ULL
#define KIT_IRQ_VECTOR 0x40
#define KIT_SPURIOUS_VECTOR 0xff
/*
 * System-call gates (DPL3). The kit issues `int3` (0xCC, vector 3): on the
 * paravirtual hosts we develop on, the two-byte `int imm8` from CPL3 raises
 * #UD (measured, any vector), while int3 is delivered through the IDT. The
 * conventional `int 0x80` gate is installed as well and behaves the same.
 */
#define KIT_SYSCALL_VECTOR 0x80
#define KIT_SYSCALL_INT3 3

/* Low page the SMP test copies its AP trampoline to (SIPI vector 0x08). */
#define KIT_AP_TRAMPOLINE 0x8000ULL

/* ---- hvm_start_info (Xen public arch-x86/hvm/start_info.h, v1) ---- */
#define KIT_HVM_START_MAGIC 0x336ec578u

struct kit_hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	/* version >= 1 */
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct kit_hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* E820 types: 1 RAM, 2 reserved, 3 ACPI, 4 NVS */
	uint32_t reserved;
};

/* ---- system calls (int3; rax = number, rdi/rsi/rdx = args) ---- */
enum kit_sys {
	KIT_SYS_WRITE = 1,  /* (buf, len): COM1 output */
	KIT_SYS_EXIT,       /* (code): debug-exit, then halt forever */
	KIT_SYS_OUT,        /* (port, width, value) */
	KIT_SYS_IN,         /* (port, width) -> value */
	KIT_SYS_OUTB_LOOP,  /* (port, value, count) -> TSC cycles taken */
	KIT_SYS_WRMSR,      /* (msr, value) */
	KIT_SYS_IRQ_ENABLE, /* (on): set/clear IF of the CPL3 context */
	KIT_SYS_MAP,        /* (phys, size): identity map above 4 GiB */
	KIT_SYS_IRQ_HOOK,   /* (mmio base or 0): arm the edu handler */
};

static inline uint64_t kit_syscall(uint64_t nr, uint64_t a, uint64_t b,
				   uint64_t c)
{
	uint64_t ret;

	__asm__ volatile("int3"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "memory");
	return ret;
}

static inline uint64_t kit_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void kit_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline void kit_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline uint8_t kit_mmio_read8(uint64_t addr)
{
	return *(volatile uint8_t *)(uintptr_t)addr;
}

static inline uint16_t kit_mmio_read16(uint64_t addr)
{
	return *(volatile uint16_t *)(uintptr_t)addr;
}

static inline uint32_t kit_mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)(uintptr_t)addr;
}

static inline void kit_mmio_write8(uint64_t addr, uint8_t v)
{
	*(volatile uint8_t *)(uintptr_t)addr = v;
}

static inline void kit_mmio_write16(uint64_t addr, uint16_t v)
{
	*(volatile uint16_t *)(uintptr_t)addr = v;
}

static inline void kit_mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)addr = v;
}

/*
 * Barriers for memory shared with a device model running on another host
 * CPU. x86 is TSO: stores are not reordered with stores nor loads with
 * loads, so write/read barriers only stop the compiler; a store followed
 * by a load of another location (publish an index, then read the peer's
 * event index) needs a real fence (virtio 1.2 §2.7.13.3, §2.8.21.3).
 */
static inline void kit_wmb(void)
{
	__asm__ volatile("" ::: "memory");
}

static inline void kit_rmb(void)
{
	__asm__ volatile("" ::: "memory");
}

static inline void kit_mb(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

static inline uint32_t kit_in(uint16_t port, unsigned int width)
{
	return (uint32_t)kit_syscall(KIT_SYS_IN, port, width, 0);
}

static inline void kit_out(uint16_t port, unsigned int width, uint32_t v)
{
	kit_syscall(KIT_SYS_OUT, port, width, v);
}

/* ---- lib.c: freestanding helpers, formatting, console ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t kit_strlen(const char *s);
int kit_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int kit_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* CPL3 console: formats a line and sends it with a single trap. */
void kit_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kit_exit(int code) __attribute__((noreturn));
/* Parse a decimal or 0x-hex number; returns false on junk or overflow. */
bool kit_parse_u64(const char *s, size_t len, uint64_t *out);

/* ---- mem.c: memory for rings and buffers, arithmetic, time ---- */
/*
 * Zeroed memory from the RAM above the image (physical == virtual, so the
 * pointer is also the DMA address). Bump allocation, never freed: a test
 * allocates what it needs once. NULL when RAM is exhausted.
 */
void *kit_alloc(uint64_t size, uint64_t align);
/* Bytes still available to kit_alloc (for "is this run possible" checks). */
uint64_t kit_alloc_avail(void);
/* a * b / c without intermediate overflow; UINT64_MAX if the result
 * does not fit or c == 0. */
uint64_t kit_muldiv(uint64_t a, uint64_t b, uint64_t c);
/* TSC cycles for `ms` milliseconds (a 4 GHz guess when the rate is unknown). */
uint64_t kit_ms_to_cycles(uint64_t ms);
/* Events per second for `n` events taking `cycles`; 0 if unknown. */
uint64_t kit_per_second(uint64_t n, uint64_t cycles);
/*
 * key=WORD where WORD is one of the NULL-terminated `choices`: its index;
 * `def` when the key is absent; -1 (and *bad = true) for anything else.
 */
int kit_cmdline_choice(const char *key, const char *const *choices, int def,
		       bool *bad);

/* ---- platform.c: what the kit learnt about the machine ---- */
#define KIT_MAX_CPUS 64
#define KIT_MAX_MEMMAP 32

struct kit_platform {
	/* Memory map copied out of hvm_start_info (may be empty). */
	struct kit_hvm_memmap_entry memmap[KIT_MAX_MEMMAP];
	unsigned int memmap_entries;
	uint64_t rsdp;
	/* From the MADT: APIC IDs of enabled CPUs (BSP included). */
	unsigned int ncpus;
	uint32_t apic_ids[KIT_MAX_CPUS];
	/* From the MCFG: ECAM for segment 0 (0 if absent). */
	uint64_t ecam_base;
	uint8_t ecam_bus_start, ecam_bus_end;
	uint64_t tsc_khz;        /* 0 when unknown: report cycles only */
	const char *tsc_source;  /* "kvmclock", "cpuid-0x40000010", ... */
	unsigned int pci_devices;
	bool verbose; /* command line verbose=1: print discovery details */
};

extern struct kit_platform kit_plat;

int kit_acpi_init(struct kit_platform *p);
void kit_tsc_init(struct kit_platform *p);
const char *kit_cmdline_get(const char *key, size_t *len);
uint64_t kit_cmdline_u64(const char *key, uint64_t def, bool *bad);
/* ns * 10 per op (one decimal digit), or 0 if the TSC rate is unknown. */
uint64_t kit_cycles_to_ns10(uint64_t cycles, uint64_t ops);
/* Busy-wait using the TSC (falls back to a calibrated-less spin). */
void kit_delay_us(uint64_t us);

/* ---- pci.c ---- */
#define KIT_PCI_MAX_DEVS 32

struct kit_pci_bar {
	uint64_t base;
	uint64_t size;
	bool io;
	bool is64;
};

struct kit_pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class_code, subclass;
	struct kit_pci_bar bar[6];
};

int kit_pci_init(struct kit_platform *p);
struct kit_pci_dev *kit_pci_find(uint16_t vendor, uint16_t device);
uint32_t kit_pci_cfg_read(const struct kit_pci_dev *d, unsigned int off,
			  unsigned int width);
void kit_pci_cfg_write(const struct kit_pci_dev *d, unsigned int off,
		       unsigned int width, uint32_t v);
/* Offset of capability `id`, or 0 if absent (loop- and bound-safe). */
unsigned int kit_pci_find_cap(const struct kit_pci_dev *d, uint8_t id);

/* ---- tests ---- */
struct kit_result {
	char kv[384];    /* " key=value" pairs appended by the test */
	size_t len;
	const char *reason;
};

void kit_res_add(struct kit_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Adds count=, ns_per_op= (if the TSC rate is known) and cycles_per_op=. */
void kit_res_timing(struct kit_result *r, uint64_t count, uint64_t cycles);
int kit_fail(struct kit_result *r, const char *reason);

typedef int kit_test_fn(struct kit_result *r);

int kit_test_hello(struct kit_result *r);
int kit_test_pio(struct kit_result *r);
int kit_test_mmio(struct kit_result *r);
int kit_test_ioeventfd(struct kit_result *r);
int kit_test_irq(struct kit_result *r);
int kit_test_smp(struct kit_result *r);
int kit_test_net_loopback(struct kit_result *r);
int kit_test_net_tx(struct kit_result *r);
int kit_test_net_echo(struct kit_result *r);
int kit_test_blk_rw(struct kit_result *r);
int kit_test_virtio_hostile(struct kit_result *r);
int kit_test_e1000_hostile(struct kit_result *r);

/* LAPIC helpers (xAPIC MMIO, reachable from CPL3). */
uint32_t kit_lapic_read(unsigned int reg);
void kit_lapic_write(unsigned int reg, uint32_t v);
uint32_t kit_lapic_id(void);

/* ---- cpl0.c / entry.S shared state ---- */
extern volatile uint32_t kit_ap_online;
extern volatile uint64_t kit_irq_count;
extern volatile uint64_t kit_irq_spurious;
extern const char *volatile kit_current_test;
extern const uint8_t kit_ap_trampoline_start[];
extern const uint8_t kit_ap_trampoline_end[];

#endif
