/* SPDX-License-Identifier: MIT */
/*
 * `e1000e-passthru`: what a guest sees of an assigned NIC whose interrupt
 * cause can be set by software - the Intel 8254x/8257x register layout
 * (e1000e 82574L 8086:10d3 by default; vendor=/device= pick another
 * member of the family). Written for the lab's e1000e assigned through
 * VFIO, and runnable against QEMU's emulated e1000e.
 *
 * 1. Config space: vendor/device, class, every BAR (type and size) and the
 *    capability list as the guest sees them, reported so the lab compares
 *    them with the host function's sysfs view.
 * 2. BAR access: `count` iterations of one STATUS read and one IMC write of
 *    0 (which masks nothing: the write has no effect by definition, 82574
 *    datasheet §10.2.4.5) from CPL3, timed. Whether they cost VM exits is
 *    measured outside (iovmm --stats): the test only makes the number of
 *    accesses a parameter.
 * 3. Interrupts: MSI (PCI 3.0 §6.8.1) to KIT_IRQ_VECTOR; `irqs` rounds of
 *    writing the cause bit `cause` to ICS with it enabled in IMS (82574
 *    §10.2.4.2-4: ICS sets ICR bits, an enabled set bit raises the
 *    interrupt), waiting for the vector, then clearing the cause in ICR
 *    (write 1 to clear, §10.2.4.1) so the next ICS is a new edge. Pass iff
 *    every round brought an interrupt, none came before the first raise
 *    (`early`) nor after the last cause was cleared (`stray`); a cause
 *    signalled again while still pending is counted (`redelivered`, see
 *    irq_rounds). cause defaults to MDAC (bit 9, MDI/O access complete):
 *    the device sets it only for an MDIC access with interrupt enable,
 *    which nobody does here, so it has no other source during the test
 *    (LSC would: QEMU signals it when autonegotiation completes after a
 *    reset), and it is not one of the RX/TX causes a device may delay.
 *
 *   keys: vendor=0x8086 device=0x10d3 count=1000 irqs=16 cause=0x4
 *         timeout_ms=1000
 *   RESULT: id class bars caps status count mmio_ops ns_per_access
 *           irqs rounds redelivered early stray icr (ICR after the first
 *           interrupt) us_per_irq
 */
#include "guest/kit.h"

#define NIC_VENDOR 0x8086
#define NIC_DEVICE 0x10d3 /* 82574L, QEMU's e1000e */
#define NIC_STATUS 0x0008
#define NIC_ICR 0x00c0
#define NIC_ITR 0x00c4
#define NIC_ICS 0x00c8
#define NIC_IMS 0x00d0
#define NIC_IMC 0x00d8
#define NIC_MIN_BAR 0x1000
#define ICR_ASSERTED (1u << 31)
#define CAUSE_MDAC (1u << 9)

#define PCI_COMMAND 0x04
#define PCI_CLASS_REV 0x08
#define PCI_CMD_MEM 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR 0x34
#define PCI_CAP_MSI 0x05
#define MSI_CTRL_ENABLE 0x1
#define MSI_CTRL_64BIT 0x80
#define MSI_CTRL_MME 0x70

struct nic_params {
	uint64_t vendor, device, count, irqs, cause, timeout_ms;
};

static int nic_params(struct nic_params *p, struct kit_result *r)
{
	bool bad = false;

	p->vendor = kit_cmdline_u64("vendor", NIC_VENDOR, &bad);
	p->device = kit_cmdline_u64("device", NIC_DEVICE, &bad);
	p->count = kit_cmdline_u64("count", 1000, &bad);
	p->irqs = kit_cmdline_u64("irqs", 16, &bad);
	p->cause = kit_cmdline_u64("cause", CAUSE_MDAC, &bad);
	p->timeout_ms = kit_cmdline_u64("timeout_ms", 1000, &bad);
	/* One cause bit, not INT_ASSERTED (which ICS cannot set). */
	if (bad || p->vendor > 0xffff || p->device > 0xffff ||
	    p->count > 100000000 || p->irqs > 1000000 || p->cause == 0 ||
	    (p->cause & (p->cause - 1)) || p->cause >= ICR_ASSERTED ||
	    p->timeout_ms == 0 || p->timeout_ms > 600000)
		return kit_fail(r, "bad-param");
	return 0;
}

/*
 * "bars=m32:131072,m32:131072,io:32,m32:16384,-,-": type and size of BARs
 * 0-5; the upper half of a 64-bit BAR and unimplemented BARs are "-". The
 * lab prints the host function's BARs the same way from sysfs.
 */
static void report_bars(struct kit_result *r, const struct kit_pci_dev *d)
{
	char buf[160];
	size_t len = 0;

	for (unsigned int i = 0; i < 6 && len < sizeof(buf) - 40; i++) {
		const struct kit_pci_bar *b = &d->bar[i];

		len += (size_t)kit_snprintf(buf + len, sizeof(buf) - len,
					    "%s", i ? "," : "");
		if (!b->size)
			len += (size_t)kit_snprintf(buf + len,
						    sizeof(buf) - len, "-");
		else
			len += (size_t)kit_snprintf(
				buf + len, sizeof(buf) - len, "%s:%lu",
				b->io ? "io" : b->is64 ? "m64" : "m32",
				b->size);
	}
	kit_res_add(r, "bars=%s", buf);
}

/* "caps=01,05,10,11": capability IDs in list order (loop-safe). */
static void report_caps(struct kit_result *r, const struct kit_pci_dev *d)
{
	char buf[100];
	size_t len = 0;
	unsigned int ptr;

	buf[0] = '\0';
	if (kit_pci_cfg_read(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) {
		ptr = kit_pci_cfg_read(d, PCI_CAP_PTR, 1) & 0xfc;
		for (int n = 0; n < 24 && ptr >= 0x40; n++) {
			uint32_t hdr = kit_pci_cfg_read(d, ptr, 2);

			len += (size_t)kit_snprintf(buf + len,
						    sizeof(buf) - len, "%s%02x",
						    n ? "," : "", hdr & 0xff);
			ptr = (hdr >> 8) & 0xfc;
		}
	}
	kit_res_add(r, "caps=%s", len ? buf : "none");
}

static void mmio_loop(uint64_t regs, uint64_t n, uint32_t *status,
		      uint64_t *cycles)
{
	uint64_t t0 = kit_rdtsc();
	uint32_t s = 0;

	for (uint64_t i = 0; i < n; i++) {
		s = kit_mmio_read32(regs + NIC_STATUS);
		kit_mmio_write32(regs + NIC_IMC, 0);
	}
	*cycles = kit_rdtsc() - t0;
	*status = s;
}

/* PCI 3.0 §6.8.1: one fixed-delivery, edge vector to this CPU. */
static int msi_on(const struct kit_pci_dev *d, unsigned int cap)
{
	uint32_t ctrl = kit_pci_cfg_read(d, cap + 2, 2);
	unsigned int data = (ctrl & MSI_CTRL_64BIT) ? cap + 12 : cap + 8;

	kit_pci_cfg_write(d, cap + 4, 4,
			  0xfee00000u | (kit_lapic_id() & 0xff) << 12);
	if (ctrl & MSI_CTRL_64BIT)
		kit_pci_cfg_write(d, cap + 8, 4, 0);
	kit_pci_cfg_write(d, data, 2, KIT_IRQ_VECTOR);
	kit_pci_cfg_write(d, cap + 2, 2,
			  (ctrl & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE);
	return (kit_pci_cfg_read(d, cap + 2, 2) & MSI_CTRL_ENABLE) ? 0 : -1;
}

static void msi_off(const struct kit_pci_dev *d, unsigned int cap)
{
	uint32_t ctrl = kit_pci_cfg_read(d, cap + 2, 2);

	kit_pci_cfg_write(d, cap + 2, 2, ctrl & ~MSI_CTRL_ENABLE);
}

struct irq_stats {
	uint64_t cycles, done, early, stray;
	uint32_t first_icr;
	bool timeout;
};

/*
 * Raise `cause` through ICS n times; each must bring an interrupt. The
 * count may exceed the rounds: a cause still pending when the device's
 * interrupt throttling interval ends is signalled again (QEMU's 82574
 * model re-sends it; its ITR interval is at least 500 x 256 ns), and in the
 * TCG lab the guest takes milliseconds to clear it.
 */
static void irq_rounds(uint64_t regs, const struct nic_params *p,
		       struct irq_stats *s)
{
	uint64_t limit = kit_ms_to_cycles(p->timeout_ms);
	uint32_t cause = (uint32_t)p->cause;

	for (uint64_t i = 0; i < p->irqs; i++) {
		uint64_t before = kit_irq_count, t0 = kit_rdtsc();

		kit_mmio_write32(regs + NIC_ICS, cause);
		while (kit_irq_count == before) {
			if (kit_rdtsc() - t0 > limit) {
				s->timeout = true;
				return;
			}
			kit_pause();
		}
		s->cycles += kit_rdtsc() - t0;
		if (i == 0)
			s->first_icr = kit_mmio_read32(regs + NIC_ICR);
		/* Clear the cause (W1C) so the next ICS is a new edge. */
		kit_mmio_write32(regs + NIC_ICR, cause);
		s->done++;
	}
}

/* Interrupts arriving in `ms` with nothing raised: there must be none. */
static uint64_t irq_quiet(uint64_t ms)
{
	uint64_t before = kit_irq_count;

	kit_delay_us(ms * 1000);
	return kit_irq_count - before;
}

static void irq_arm(void)
{
	kit_out(0x21, 1, 0xff); /* mask the 8259s */
	kit_out(0xa1, 1, 0xff);
	kit_lapic_write(0xf0, 0x100 | KIT_SPURIOUS_VECTOR); /* SVR enable */
	kit_lapic_write(0x80, 0);                           /* TPR */
	/* The CPL0 handler only counts and EOIs: the device is acked here. */
	kit_syscall(KIT_SYS_IRQ_HOOK, 0, 0, 0);
	kit_irq_count = 0;
	kit_syscall(KIT_SYS_IRQ_ENABLE, 1, 0, 0);
}

static int irq_test(struct kit_pci_dev *d, uint64_t regs,
		    const struct nic_params *p, struct kit_result *r)
{
	unsigned int cap = kit_pci_find_cap(d, PCI_CAP_MSI);
	struct irq_stats s = { 0 };
	uint64_t ns10, irqs, quiet_ms = 2 * p->timeout_ms / 10;

	if (!cap)
		return kit_fail(r, "no-msi");
	/* Everything masked and clear, least moderation (ITR 0: the device's
	 * minimum), before the vector is live. */
	kit_mmio_write32(regs + NIC_IMC, UINT32_MAX);
	kit_mmio_write32(regs + NIC_ITR, 0);
	kit_mmio_write32(regs + NIC_ICR, UINT32_MAX);
	(void)kit_mmio_read32(regs + NIC_ICR);
	irq_arm();
	if (msi_on(d, cap) < 0)
		return kit_fail(r, "msi-enable");
	kit_mmio_write32(regs + NIC_IMS, (uint32_t)p->cause);
	s.early = irq_quiet(quiet_ms);
	irq_rounds(regs, p, &s);
	kit_mmio_write32(regs + NIC_IMC, UINT32_MAX);
	kit_mmio_write32(regs + NIC_ICR, UINT32_MAX);
	/* What was in flight lands first; then nothing may come. */
	(void)irq_quiet(quiet_ms);
	irqs = kit_irq_count - s.early;
	s.stray = irq_quiet(quiet_ms);
	kit_syscall(KIT_SYS_IRQ_ENABLE, 0, 0, 0);
	msi_off(d, cap);
	ns10 = kit_cycles_to_ns10(s.cycles, s.done);
	kit_res_add(r, "irqs=%lu rounds=%lu redelivered=%lu early=%lu stray=%lu "
		    "icr=0x%x", irqs, s.done, irqs - s.done, s.early, s.stray,
		    s.first_icr);
	if (kit_plat.tsc_khz)
		kit_res_add(r, "us_per_irq=%lu.%lu", ns10 / 10000,
			    (ns10 / 1000) % 10);
	if (s.timeout)
		return kit_fail(r, "irq-timeout");
	if (s.early || s.stray)
		return kit_fail(r, "unexpected-irq");
	if (p->irqs && !(s.first_icr & p->cause))
		return kit_fail(r, "cause-not-in-icr");
	return 0;
}

int kit_test_e1000e_passthru(struct kit_result *r)
{
	struct nic_params p;
	struct kit_pci_dev *d;
	uint64_t regs, cycles, ns10;
	uint32_t status, cls;

	if (nic_params(&p, r) < 0)
		return -1;
	d = kit_pci_find((uint16_t)p.vendor, (uint16_t)p.device);
	if (!d)
		return kit_fail(r, "no-nic");
	cls = kit_pci_cfg_read(d, PCI_CLASS_REV, 4) >> 8;
	kit_res_add(r, "id=%04x:%04x class=0x%06x", d->vendor, d->device, cls);
	report_bars(r, d);
	report_caps(r, d);
	regs = d->bar[0].base;
	if (!regs || d->bar[0].io || d->bar[0].size < NIC_MIN_BAR)
		return kit_fail(r, "bad-bar0");
	kit_pci_cfg_write(d, PCI_COMMAND, 2,
			  kit_pci_cfg_read(d, PCI_COMMAND, 2) | PCI_CMD_MEM |
				  PCI_CMD_MASTER);
	mmio_loop(regs, p.count, &status, &cycles);
	ns10 = kit_cycles_to_ns10(cycles, 2 * p.count);
	kit_res_add(r, "status=0x%x count=%lu mmio_ops=%lu", status, p.count,
		    2 * p.count);
	if (kit_plat.tsc_khz && p.count)
		kit_res_add(r, "ns_per_access=%lu.%lu", ns10 / 10, ns10 % 10);
	/* All ones: the BAR does not reach the device. */
	if (p.count && status == UINT32_MAX)
		return kit_fail(r, "bar-dead");
	if (p.irqs == 0)
		return 0;
	return irq_test(d, regs, &p, r);
}
