// SPDX-License-Identifier: MIT
/*
 * The guest kit's own NVMe driver and test (guest/nvme.c, guest/test_nvme.c,
 * compiled unmodified for the host) against the emulated controller: the
 * same code that runs against QEMU's nvme and the lab's SR-IOV VF. The kit
 * API underneath is kitshim/guest/kit.h, implemented here: MMIO through the
 * PCI host's bus, config space through the host, guest RAM identity
 * mapped (GPA = host address, as the kit assumes), MSI-X through the fake
 * irq back end, counted at the kit's IDT vector.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/gmem.h"
#include "core/layout.h"
#include "core/pci/host.h"
#include "core/pci/pci.h"
#include "core/util.h"
#include "emul-devices/nvme/nvme.h"
#include "fake_irq.h"
#include "guest/kit.h"
#include "guest/lat.h"
#include "guest/nvme.h"

#define K_RAM     (64 * MiB)
#define K_HEAP    (1 * MiB)     /* kit_alloc from here on */
#define K_BLOCKS  32768u        /* 16 MiB image */

struct kit_platform kit_plat = { .tsc_khz = 1000000 };
volatile uint64_t kit_irq_count;
volatile uint64_t kit_irq_spurious;

static struct {
	struct irq *irq;
	struct fake_irq *fake;
	struct gmem *mem;
	struct bus *bus;
	struct pci_host *host;
	struct nvme *n;
	struct kit_pci_dev pci;
	uint8_t devfn;
	uint64_t heap;           /* next free byte (a host address) */
	unsigned msis_seen;
	char path[64];
	const char *const *cmdline; /* key, value, ..., NULL */
} k;

/* ---- the kit API ---- */

uint64_t kit_syscall(uint64_t nr, uint64_t a, uint64_t b, uint64_t c)
{
	return 0; /* IRQ hook/enable: interrupts are taken in kit_pause() */
}

uint64_t kit_rdtsc(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void kit_pause(void)
{
	unsigned n;

	fake_irq_poll(k.fake);
	n = fake_irq_msi_count(k.fake);
	for (; k.msis_seen < n; k.msis_seen++)
		if (fake_irq_msi_get(k.fake, k.msis_seen).data == KIT_IRQ_VECTOR)
			kit_irq_count++;
}

uint32_t kit_mmio_read32(uint64_t addr)
{
	uint32_t v = UINT32_MAX;

	bus_access(k.bus, BUS_MMIO, addr, &v, 4, false);
	return v;
}

void kit_mmio_write32(uint64_t addr, uint32_t v)
{
	bus_access(k.bus, BUS_MMIO, addr, &v, 4, true);
}

void kit_out(uint16_t port, unsigned int width, uint32_t v)
{
}

void kit_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void *kit_alloc(uint64_t size, uint64_t align)
{
	uint64_t end = (uint64_t)(uintptr_t)k.mem->base + K_RAM;
	uint64_t p = KIT_ALIGN_UP(k.heap, align ? align : 8);

	if (p + size > end)
		return NULL;
	k.heap = p + size;
	memset((void *)(uintptr_t)p, 0, size);
	return (void *)(uintptr_t)p;
}

uint64_t kit_ms_to_cycles(uint64_t ms)
{
	return ms * 1000000ull;
}

uint64_t kit_cycles_to_ns10(uint64_t cycles, uint64_t ops)
{
	return ops ? cycles * 10 / ops : 0;
}

uint64_t kit_per_second(uint64_t n, uint64_t cycles)
{
	return cycles ? n * 1000000000ull / cycles : 0;	/* 1 GHz "TSC" */
}

void kit_delay_us(uint64_t us)
{
	uint64_t end = kit_rdtsc() + us * 1000;

	while (kit_rdtsc() < end)
		kit_pause();
}

uint64_t kit_cmdline_u64(const char *key, uint64_t def, bool *bad)
{
	for (const char *const *p = k.cmdline; p && *p; p += 2)
		if (!strcmp(p[0], key))
			return strtoull(p[1], NULL, 0);
	return def;
}

const char *kit_cmdline_get(const char *key, size_t *len)
{
	for (const char *const *p = k.cmdline; p && *p; p += 2)
		if (!strcmp(p[0], key)) {
			*len = strlen(p[1]);
			return p[1];
		}
	return NULL;
}

struct kit_pci_dev *kit_pci_find(uint16_t vendor, uint16_t device)
{
	uint32_t id = pci_host_cfg_read(k.host, k.devfn, PCI_VENDOR_ID, 4);

	if (id != ((uint32_t)device << 16 | vendor))
		return NULL;
	k.pci = (struct kit_pci_dev){
		.dev = k.devfn >> 3, .vendor = vendor, .device = device,
		.class_code = 0x01, .subclass = 0x08,
	};
	k.pci.bar[0] = (struct kit_pci_bar){
		.base = pci_dev_bar_mapped(nvme_pci(k.n), 0),
		.size = nvme_pci(k.n)->cfg.bars[0].size, .is64 = true,
	};
	return &k.pci;
}

uint32_t kit_pci_cfg_read(const struct kit_pci_dev *d, unsigned int off,
			  unsigned int width)
{
	return pci_host_cfg_read(k.host, k.devfn, off, width);
}

void kit_pci_cfg_write(const struct kit_pci_dev *d, unsigned int off,
		       unsigned int width, uint32_t v)
{
	pci_host_cfg_write(k.host, k.devfn, off, v, width);
}

unsigned int kit_pci_find_cap(const struct kit_pci_dev *d, uint8_t id)
{
	unsigned int p = kit_pci_cfg_read(d, PCI_CAPABILITY_LIST, 1);

	for (int i = 0; i < 48 && p; i++) {
		if (kit_pci_cfg_read(d, p, 1) == id)
			return p;
		p = kit_pci_cfg_read(d, p + 1, 1);
	}
	return 0;
}

void kit_res_add(struct kit_result *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len + 1 >= sizeof(r->kv))
		return;
	r->kv[r->len++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(r->kv + r->len, sizeof(r->kv) - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n < sizeof(r->kv) - r->len ?
			  (size_t)n : sizeof(r->kv) - r->len - 1;
}

int kit_fail(struct kit_result *r, const char *reason)
{
	r->reason = reason;
	return -1;
}

void kit_lapic_write(unsigned int reg, uint32_t v)
{
}

uint32_t kit_lapic_id(void)
{
	return 0;
}

/* ---- fixture ---- */

static void setup(void)
{
	struct gmem_opts o = { .size = K_RAM, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct nvme_config cfg = { .name = "nvme-kit", .serial = "KIT0001" };
	char err[160] = "";
	int fd;

	memset(&k, 0, sizeof(k));
	snprintf(k.path, sizeof(k.path), "/tmp/nvme-kit-XXXXXX");
	fd = mkstemp(k.path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)K_BLOCKS * 512), 0);
	close(fd);
	cfg.path = k.path;
	ck_assert_int_eq(fake_irq_create(&k.irq, &k.fake), 0);
	ck_assert_int_eq(gmem_create(&o, &k.mem), 0);
	/* Identity map: guest RAM's GPA is its address in this process. */
	ck_assert_uint_eq(k.mem->nr_regions, 1);
	k.mem->regions[0].gpa = (uint64_t)(uintptr_t)k.mem->base;
	k.heap = (uint64_t)(uintptr_t)k.mem->base + K_HEAP;
	ck_assert_int_eq(bus_create(&k.bus), 0);
	ck_assert_int_eq(pci_host_create(k.bus, k.irq, 0, 0, &k.host), 0);
	ck_assert_msg(nvme_create(&(struct pci_dev_ctx){ .mem = k.mem,
							 .irq = k.irq },
				  &cfg, &k.n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pci_host_add(k.host, nvme_pci(k.n)), 0);
	k.devfn = nvme_pci(k.n)->devfn;
	kit_irq_count = 0;
}

static void teardown(void)
{
	pci_host_destroy(k.host);
	nvme_destroy(k.n);
	bus_destroy(k.bus);
	gmem_destroy(k.mem);
	irq_destroy(k.irq);
	unlink(k.path);
}

static void run(int (*test)(struct kit_result *), const char *const *cmdline,
		struct kit_result *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	k.cmdline = cmdline;
	rc = test(r);
	r->kv[sizeof(r->kv) - 1] = '\0';
	printf("RESULT%s%s%s\n", r->kv, r->reason ? " reason=" : "",
	       r->reason ? r->reason : "");
	ck_assert_msg(rc == 0 && !r->reason, "kit test failed: %s (%s)",
		      r->reason ? r->reason : "?", r->kv);
}

/* The kit's defaults: 12 commands per pass, the three PRP shapes, MSI-X. */
START_TEST(kit_nvme_defaults)
{
	static const char *const cl[] = { "seed", "0x1234", NULL };
	struct kit_result r;

	run(kit_test_nvme, cl, &r);
	ck_assert_ptr_nonnull(strstr(r.kv, "model=iovmm_NVMe_Ctrl"));
	ck_assert_ptr_nonnull(strstr(r.kv, "serial=KIT0001"));
	ck_assert_ptr_nonnull(strstr(r.kv, "mdts=7 max_xfer=524288 nn=1"));
	ck_assert_ptr_nonnull(strstr(r.kv, "lba_size=512"));
	ck_assert_ptr_nonnull(strstr(r.kv, "cmds=24 "));
	ck_assert_ptr_nonnull(strstr(r.kv, "irqs=24 "));
	ck_assert_ptr_null(strstr(r.kv, "missed_irqs"));
}
END_TEST

/* MDTS-sized transfers through the PRP list, a 4-deep queue, polling. */
START_TEST(kit_nvme_big_polled)
{
	static const char *const cl[] = {
		"xfer", "524288", "count", "30", "qdepth", "4", "irq", "0",
		"lba", "100", NULL };
	struct kit_result r;

	run(kit_test_nvme, cl, &r);
	ck_assert_ptr_nonnull(strstr(r.kv, "cmds=60 "));
}
END_TEST

/* Another MSI-X vector for the I/O CQ. */
START_TEST(kit_nvme_vector)
{
	static const char *const cl[] = { "vector", "7", "count", "6", NULL };
	struct kit_result r;

	run(kit_test_nvme, cl, &r);
	ck_assert_ptr_nonnull(strstr(r.kv, "irqs=12 "));
}
END_TEST

/* pingpong=1: one page per command, every Read timed, p50 <= p99. */
START_TEST(kit_nvme_pingpong)
{
	static const char *const cl[] = { "count", "40", "irq", "0",
					  "pingpong", "1", NULL };
	struct kit_result r;
	const char *p50, *p99;

	run(kit_test_nvme, cl, &r);
	ck_assert_ptr_nonnull(strstr(r.kv, "cmds=80 bytes=327680 "));
	ck_assert_ptr_nonnull(strstr(r.kv, "iops_read="));
	ck_assert_ptr_nonnull(strstr(r.kv, "lat_n=40 "));
	p50 = strstr(r.kv, "lat_p50_ns=");
	p99 = strstr(r.kv, "lat_p99_ns=");
	ck_assert_ptr_nonnull(p50);
	ck_assert_ptr_nonnull(p99);
	ck_assert_double_le(strtod(p50 + 11, NULL), strtod(p99 + 11, NULL));
	ck_assert_double_gt(strtod(p50 + 11, NULL), 0);
}
END_TEST

/* The percentiles themselves: nearest rank over shuffled samples. */
START_TEST(kit_lat_percentiles)
{
	struct kit_lat l;
	struct kit_result r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(kit_lat_init(&l, 200), 0);
	/* 1..200 in a scrambled order (7 is coprime with 200). */
	for (uint64_t i = 0; i < 200; i++)
		kit_lat_add(&l, (i * 7) % 200 + 1);
	kit_lat_add(&l, 999);	/* beyond max: dropped */
	kit_lat_report(&l, &r);
	/* 1 GHz: one cycle is one ns (one decimal). */
	ck_assert_str_eq(r.kv, " lat_n=200 lat_p50_ns=100.0 lat_p99_ns=198.0");
	for (uint64_t i = 1; i < 200; i++)
		ck_assert_uint_le(l.v[i - 1], l.v[i]);
	/* One sample: both percentiles are it; none: no keys. */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(kit_lat_init(&l, 4), 0);
	kit_lat_add(&l, 42);
	kit_lat_report(&l, &r);
	ck_assert_str_eq(r.kv, " lat_n=1 lat_p50_ns=42.0 lat_p99_ns=42.0");
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(kit_lat_init(&l, 4), 0);
	kit_lat_report(&l, &r);
	ck_assert_str_eq(r.kv, "");
}
END_TEST

/* A Read into nowhere completes with an error; the controller lives on. */
START_TEST(kit_nvme_dma_fault)
{
	struct kit_result r;

	run(kit_test_nvme_dma_fault, NULL, &r);
	ck_assert_ptr_nonnull(strstr(r.kv, "cmd=read completed=1 sc=0x4 sct=0"));
	ck_assert_ptr_nonnull(strstr(r.kv, "after=ok"));
}
END_TEST

/*
 * The kit's hostile-NVMe test (guest/test_nvme_hostile.c), every case at
 * its strictest: per-command errors with the exact status, the invalid
 * doorbells fatal without an AER, reported through AERs with one, a bad
 * ASQ fatal at enable; a reset and a verified round trip after each.
 */
START_TEST(kit_nvme_hostile)
{
	static const char *const cl[] = { "seed", "7", NULL };
	struct kit_result r;

	run(kit_test_nvme_hostile, cl, &r);
	ck_assert_ptr_nonnull(strstr(r.kv, "cases=16 ok=16 fatal=4 recovered=4"));
}
END_TEST

/* The knob that excuses ignored doorbells is not a free pass here. */
START_TEST(kit_nvme_hostile_knob)
{
	static const char *const cl[] = { "db_fatal", "0", "case",
					  "db-sq-past", NULL };
	struct kit_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	k.cmdline = cl;
	rc = kit_test_nvme_hostile(&r);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(r.reason, "unexpected-outcome");
	ck_assert_ptr_nonnull(strstr(r.kv, "bad=db-sq-past"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nvme-kit");
	TCase *tc = tcase_create("kit");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kit_nvme_defaults);
	tcase_add_test(tc, kit_nvme_big_polled);
	tcase_add_test(tc, kit_nvme_vector);
	tcase_add_test(tc, kit_nvme_dma_fault);
	tcase_add_test(tc, kit_nvme_hostile);
	tcase_add_test(tc, kit_nvme_hostile_knob);
	tcase_add_test(tc, kit_nvme_pingpong);
	tcase_add_test(tc, kit_lat_percentiles);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
