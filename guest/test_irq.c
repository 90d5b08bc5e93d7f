/* SPDX-License-Identifier: MIT */
/*
 * Interrupt-path tests: `irq` (edu 1234:11e8 MSI round trip, QEMU
 * docs/specs/edu.rst) and `smp` (INIT-SIPI-SIPI to every MADT CPU).
 * Both drive the xAPIC through its MMIO page from CPL3.
 */
#include "guest/kit.h"

#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_ICR_PENDING (1u << 12)
/* SDM Vol. 3 §11.6.1: level assert, INIT / Start-up delivery modes. */
#define LAPIC_ICR_INIT 0x4500
#define LAPIC_ICR_SIPI 0x4600

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_ID 0x00
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define PCI_CAP_MSI 0x05
#define MSI_CTRL_ENABLE 0x1
#define MSI_CTRL_64BIT 0x80
#define MSI_CTRL_MME 0x70

uint32_t kit_lapic_read(unsigned int reg)
{
	return kit_mmio_read32(KIT_LAPIC_BASE + reg);
}

void kit_lapic_write(unsigned int reg, uint32_t v)
{
	kit_mmio_write32(KIT_LAPIC_BASE + reg, v);
}

uint32_t kit_lapic_id(void)
{
	return kit_lapic_read(LAPIC_ID) >> 24;
}

/* A PVH boot leaves the APIC software-disabled (SVR bit 8 clear). */
static void lapic_enable(void)
{
	kit_lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | KIT_SPURIOUS_VECTOR);
	kit_lapic_write(LAPIC_TPR, 0);
}

static uint64_t timeout_cycles(uint64_t ms)
{
	return kit_plat.tsc_khz ? ms * kit_plat.tsc_khz : ms * 4000000ULL;
}

/* PCI 3.0 §6.8.1: MSI address/data for a fixed-delivery, edge vector. */
static int msi_setup(struct kit_pci_dev *d, unsigned int cap, bool on)
{
	uint32_t ctrl = kit_pci_cfg_read(d, cap + 2, 2);
	unsigned int data = (ctrl & MSI_CTRL_64BIT) ? cap + 12 : cap + 8;

	if (!on) {
		kit_pci_cfg_write(d, cap + 2, 2, ctrl & ~MSI_CTRL_ENABLE);
		return 0;
	}
	kit_pci_cfg_write(d, cap + 4, 4,
			  0xfee00000u | (kit_lapic_id() & 0xff) << 12);
	if (ctrl & MSI_CTRL_64BIT)
		kit_pci_cfg_write(d, cap + 8, 4, 0);
	kit_pci_cfg_write(d, data, 2, KIT_IRQ_VECTOR);
	kit_pci_cfg_write(d, cap + 2, 2,
			  (ctrl & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE);
	return (kit_pci_cfg_read(d, cap + 2, 2) & MSI_CTRL_ENABLE) ? 0 : -1;
}

static int irq_loop(uint64_t base, uint64_t n, uint64_t *cycles)
{
	uint64_t limit = timeout_cycles(1000);

	*cycles = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t before = kit_irq_count, t0 = kit_rdtsc(), dt = 0;

		kit_mmio_write32(base + EDU_IRQ_RAISE, 1);
		while (kit_irq_count == before) {
			dt = kit_rdtsc() - t0;
			if (dt > limit)
				return -1;
			kit_pause();
		}
		*cycles += kit_rdtsc() - t0;
	}
	return 0;
}

int kit_test_irq(struct kit_result *r)
{
	struct kit_pci_dev *d = kit_pci_find(EDU_VENDOR, EDU_DEVICE);
	bool bad = false;
	uint64_t n = kit_cmdline_u64("count", 1000, &bad), base, cycles = 0;
	unsigned int cap;
	int rc;

	if (bad || n == 0 || n > 10000000)
		return kit_fail(r, "bad-count");
	if (!d)
		return kit_fail(r, "no-edu");
	base = d->bar[0].base;
	if (!base || d->bar[0].io || d->bar[0].size < 0x100 ||
	    (kit_mmio_read32(base + EDU_ID) & 0xff) != 0xed)
		return kit_fail(r, "bad-edu");
	cap = kit_pci_find_cap(d, PCI_CAP_MSI);
	if (!cap)
		return kit_fail(r, "no-msi");
	/* Mask the 8259s: their vectors are not ours to take. */
	kit_out(0x21, 1, 0xff);
	kit_out(0xa1, 1, 0xff);
	lapic_enable();
	kit_mmio_write32(base + EDU_IRQ_ACK, UINT32_MAX);
	if (msi_setup(d, cap, true) < 0)
		return kit_fail(r, "msi-enable");
	kit_syscall(KIT_SYS_IRQ_HOOK, base, 0, 0);
	kit_irq_count = 0;
	kit_irq_spurious = 0;
	kit_syscall(KIT_SYS_IRQ_ENABLE, 1, 0, 0);
	rc = irq_loop(base, n, &cycles);
	/* Late duplicates would show up here. */
	kit_delay_us(10000);
	kit_syscall(KIT_SYS_IRQ_ENABLE, 0, 0, 0);
	msi_setup(d, cap, false);
	kit_syscall(KIT_SYS_IRQ_HOOK, 0, 0, 0);
	kit_res_timing(r, n, cycles);
	kit_res_add(r, "irqs=%lu spurious=%lu", kit_irq_count,
		    kit_irq_spurious);
	if (rc < 0)
		return kit_fail(r, "timeout");
	if (kit_irq_count != n || kit_irq_spurious)
		return kit_fail(r, "irq-count-mismatch");
	return 0;
}

static int ipi(uint32_t apic_id, uint32_t icr)
{
	uint64_t t0 = kit_rdtsc(), limit = timeout_cycles(100);

	kit_lapic_write(LAPIC_ICR_HI, apic_id << 24);
	kit_lapic_write(LAPIC_ICR_LO, icr);
	while (kit_lapic_read(LAPIC_ICR_LO) & LAPIC_ICR_PENDING) {
		if (kit_rdtsc() - t0 > limit)
			return -1;
		kit_pause();
	}
	return 0;
}

/*
 * MP bring-up (SDM Vol. 3 §9.4.4.1): INIT, 10 ms, SIPI, 200 us, SIPI. The
 * SIPI vector is the trampoline's page number (0x8000 >> 12).
 */
int kit_test_smp(struct kit_result *r)
{
	size_t len = (size_t)(kit_ap_trampoline_end - kit_ap_trampoline_start);
	unsigned int ncpus = kit_plat.ncpus ? kit_plat.ncpus : 1, aps = 0;
	uint32_t bsp = kit_lapic_id(), sipi;
	bool bad = false;
	uint64_t ms = kit_cmdline_u64("timeout_ms", 1000, &bad), t0;

	if (bad || ms == 0 || ms > 600000)
		return kit_fail(r, "bad-timeout");
	if (len > 4096)
		return kit_fail(r, "trampoline-size");
	memcpy((void *)(uintptr_t)KIT_AP_TRAMPOLINE, kit_ap_trampoline_start,
	       len);
	kit_ap_online = 0;
	lapic_enable();
	sipi = LAPIC_ICR_SIPI | (uint32_t)(KIT_AP_TRAMPOLINE >> 12);
	for (unsigned int pass = 0; pass < 3; pass++) {
		for (unsigned int i = 0; i < kit_plat.ncpus; i++) {
			if (kit_plat.apic_ids[i] == bsp)
				continue;
			if (ipi(kit_plat.apic_ids[i],
				pass == 0 ? LAPIC_ICR_INIT : sipi) < 0) {
				kit_res_add(r, "cpus=%u", ncpus);
				return kit_fail(r, "ipi-stuck");
			}
			aps += pass == 0;
		}
		kit_delay_us(pass == 0 ? 10000 : 200);
	}
	t0 = kit_rdtsc();
	while (kit_ap_online < aps && kit_rdtsc() - t0 < timeout_cycles(ms))
		kit_pause();
	kit_res_add(r, "cpus=%u", ncpus);
	if (kit_ap_online != aps) {
		kit_res_add(r, "online=%u", kit_ap_online + 1);
		return kit_fail(r, "timeout");
	}
	return 0;
}
