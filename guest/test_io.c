/* SPDX-License-Identifier: MIT */
/*
 * hello, and the pci-testdev (1b36:0005) exit-cost tests: pio, mmio,
 * ioeventfd. Device contract (QEMU docs/specs/pci-testdev.rst and
 * hw/misc/pci-testdev.c): writing T (0..2) to offset 0 of a BAR selects
 * test T on that BAR; the header then reads back byte-wise as
 * {u8 test, u8 width, u8 pad[2], u32 offset, u8 data, u8 pad[3],
 * u32 count, name[]}. Writing any T >= 3 stops the current test.
 */
#include "guest/kit.h"

#define TESTDEV_VENDOR 0x1b36
#define TESTDEV_DEVICE 0x0005
#define TESTDEV_NO_EVENTFD 0
#define TESTDEV_WILDCARD_EVENTFD 1
#define TESTDEV_STOP 0xff
#define TESTDEV_HDR_WIDTH 1
#define TESTDEV_HDR_OFFSET 4
#define TESTDEV_HDR_DATA 8
#define TESTDEV_HDR_COUNT 12
#define KIT_DEFAULT_COUNT 10000
#define KIT_MAX_COUNT 100000000ULL

struct testdev {
	uint64_t base;
	uint64_t size;
	bool io;
	/* from the header of the selected test */
	uint32_t offset;
	uint8_t data;
	uint8_t width;
};

/* Optional min_pci=N / min_cpus=N let a harness insist on discovery. */
int kit_test_hello(struct kit_result *r)
{
	const struct kit_platform *p = &kit_plat;
	unsigned int cpus = p->ncpus ? p->ncpus : 1;
	bool bad = false;
	uint64_t min_pci = kit_cmdline_u64("min_pci", 0, &bad);
	uint64_t min_cpus = kit_cmdline_u64("min_cpus", 0, &bad);

	kit_printf("kit: tsc_source=%s ecam=0x%lx acpi_cpus=%u\n",
		   p->tsc_source, p->ecam_base, p->ncpus);
	kit_res_add(r, "cpus=%u", cpus);
	kit_res_add(r, "tsc_khz=%lu", p->tsc_khz);
	kit_res_add(r, "pci_devices=%u", p->pci_devices);
	if (bad)
		return kit_fail(r, "bad-param");
	if (p->pci_devices < min_pci)
		return kit_fail(r, "pci-missing");
	if (cpus < min_cpus)
		return kit_fail(r, "cpus-missing");
	return 0;
}

static uint8_t td_read8(const struct testdev *t, uint32_t off)
{
	if (t->io)
		return (uint8_t)kit_in((uint16_t)(t->base + off), 1);
	return kit_mmio_read8(t->base + off);
}

static void td_write8(const struct testdev *t, uint32_t off, uint8_t v)
{
	if (t->io)
		kit_out((uint16_t)(t->base + off), 1, v);
	else
		kit_mmio_write8(t->base + off, v);
}

/* The device is byte-wide only: assemble 32-bit fields from bytes. */
static uint32_t td_read32(const struct testdev *t, uint32_t off)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < 4; i++)
		v |= (uint32_t)td_read8(t, off + i) << (8 * i);
	return v;
}

/* Find the testdev BAR (0 = MMIO, 1 = I/O) and start test `test` on it. */
static int td_start(struct testdev *t, unsigned int bar, uint8_t test,
		    struct kit_result *r)
{
	struct kit_pci_dev *d = kit_pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE);

	if (!d)
		return kit_fail(r, "no-pci-testdev");
	t->base = d->bar[bar].base;
	t->size = d->bar[bar].size;
	t->io = d->bar[bar].io;
	if (!t->base || !t->size || t->io != (bar == 1))
		return kit_fail(r, "bar-unassigned");
	td_write8(t, 0, test);
	t->width = td_read8(t, TESTDEV_HDR_WIDTH);
	t->offset = td_read32(t, TESTDEV_HDR_OFFSET);
	t->data = td_read8(t, TESTDEV_HDR_DATA);
	/* The header is device-controlled: check it before trusting it. */
	if (t->width != 1 || t->offset < 16 || t->offset >= t->size)
		return kit_fail(r, "bad-header");
	return 0;
}

static uint64_t td_count_param(bool *bad)
{
	uint64_t n = kit_cmdline_u64("count", KIT_DEFAULT_COUNT, bad);

	if (n == 0 || n > KIT_MAX_COUNT)
		*bad = true;
	return n;
}

static int td_finish(struct testdev *t, uint64_t expect, uint64_t n,
		     uint64_t cycles, struct kit_result *r)
{
	uint32_t count = td_read32(t, TESTDEV_HDR_COUNT);

	td_write8(t, 0, TESTDEV_STOP);
	kit_res_timing(r, n, cycles);
	kit_res_add(r, "device_count=%u", count);
	if (count != expect)
		return kit_fail(r, "count-mismatch");
	return 0;
}

int kit_test_pio(struct kit_result *r)
{
	struct testdev t;
	bool bad = false;
	uint64_t n = td_count_param(&bad), cycles;

	if (bad)
		return kit_fail(r, "bad-count");
	if (td_start(&t, 1, TESTDEV_NO_EVENTFD, r) < 0)
		return -1;
	/* The whole loop is one trap: port I/O is CPL0-only (see kit.h). */
	cycles = kit_syscall(KIT_SYS_OUTB_LOOP, t.base + t.offset, t.data, n);
	return td_finish(&t, n, n, cycles, r);
}

static uint64_t mmio_loop(const struct testdev *t, uint64_t n)
{
	volatile uint8_t *reg = (volatile uint8_t *)(uintptr_t)(t->base +
								t->offset);
	uint8_t v = t->data;
	uint64_t t0 = kit_rdtsc();

	for (uint64_t i = 0; i < n; i++)
		*reg = v;
	return kit_rdtsc() - t0;
}

int kit_test_mmio(struct kit_result *r)
{
	struct testdev t;
	bool bad = false;
	uint64_t n = td_count_param(&bad), cycles;

	if (bad)
		return kit_fail(r, "bad-count");
	if (td_start(&t, 0, TESTDEV_NO_EVENTFD, r) < 0)
		return -1;
	cycles = mmio_loop(&t, n);
	return td_finish(&t, n, n, cycles, r);
}

/*
 * Wildcard ioeventfd: KVM completes every write in the kernel, so the
 * device model never sees one and its count must stay 0.
 */
int kit_test_ioeventfd(struct kit_result *r)
{
	struct testdev t;
	bool bad = false;
	uint64_t n = td_count_param(&bad), cycles;

	if (bad)
		return kit_fail(r, "bad-count");
	if (td_start(&t, 0, TESTDEV_WILDCARD_EVENTFD, r) < 0)
		return -1;
	cycles = mmio_loop(&t, n);
	return td_finish(&t, 0, n, cycles, r);
}
