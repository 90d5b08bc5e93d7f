/* SPDX-License-Identifier: MIT */
/*
 * A host build of the guest kit's API, just what guest/nvme.c and
 * guest/test_nvme.c use, so test_nvme_kit runs the kit's NVMe driver and
 * test unmodified against the emulated controller in a unit test. Put
 * this directory first on the include path: "guest/kit.h" then resolves
 * here while "guest/nvme.h" is the kit's own.
 *
 * What differs from the kit: MMIO goes through the VMM's bus (what a vCPU
 * exit does), memory is identity mapped (a pointer is its guest physical
 * address, as in the kit; test_nvme_kit.c makes guest RAM's GPA equal its
 * host address), the TSC is CLOCK_MONOTONIC in ns (tsc_khz = 10^6), port
 * I/O and system calls do nothing, and kit_pause() is where interrupts are
 * taken: it polls the fake irq back end and counts MSIs at KIT_IRQ_VECTOR.
 */
#ifndef IOVMM_GUEST_KIT_H
#define IOVMM_GUEST_KIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define KIT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KIT_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define KIT_IRQ_VECTOR 0x40
#define KIT_SPURIOUS_VECTOR 0xff

enum kit_sys {
	KIT_SYS_WRITE = 1,
	KIT_SYS_EXIT,
	KIT_SYS_OUT,
	KIT_SYS_IN,
	KIT_SYS_OUTB_LOOP,
	KIT_SYS_WRMSR,
	KIT_SYS_IRQ_ENABLE,
	KIT_SYS_MAP,
	KIT_SYS_IRQ_HOOK,
};

uint64_t kit_syscall(uint64_t nr, uint64_t a, uint64_t b, uint64_t c);
uint64_t kit_rdtsc(void);
void kit_pause(void);
uint32_t kit_mmio_read32(uint64_t addr);
void kit_mmio_write32(uint64_t addr, uint32_t v);
void kit_out(uint16_t port, unsigned int width, uint32_t v);

static inline void kit_wmb(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void kit_rmb(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

void kit_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *kit_alloc(uint64_t size, uint64_t align);
uint64_t kit_ms_to_cycles(uint64_t ms);
uint64_t kit_cycles_to_ns10(uint64_t cycles, uint64_t ops);
uint64_t kit_per_second(uint64_t n, uint64_t cycles);
void kit_delay_us(uint64_t us);
uint64_t kit_cmdline_u64(const char *key, uint64_t def, bool *bad);
const char *kit_cmdline_get(const char *key, size_t *len);
#define kit_strlen strlen
#define kit_snprintf snprintf

struct kit_platform {
	uint64_t tsc_khz;
	bool verbose;
};
extern struct kit_platform kit_plat;

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

struct kit_pci_dev *kit_pci_find(uint16_t vendor, uint16_t device);
uint32_t kit_pci_cfg_read(const struct kit_pci_dev *d, unsigned int off,
			  unsigned int width);
void kit_pci_cfg_write(const struct kit_pci_dev *d, unsigned int off,
		       unsigned int width, uint32_t v);
unsigned int kit_pci_find_cap(const struct kit_pci_dev *d, uint8_t id);

struct kit_result {
	char kv[384];
	size_t len;
	const char *reason;
};

void kit_res_add(struct kit_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kit_fail(struct kit_result *r, const char *reason);

void kit_lapic_write(unsigned int reg, uint32_t v);
uint32_t kit_lapic_id(void);
extern volatile uint64_t kit_irq_count;
extern volatile uint64_t kit_irq_spurious;

#endif
