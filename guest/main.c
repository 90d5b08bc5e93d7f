/* SPDX-License-Identifier: MIT */
/*
 * CPL3 entry: read hvm_start_info, discover the platform, run the test the
 * command line names and print its single RESULT line.
 */
#include "guest/kit.h"
#include "guest/nvme.h"

int kit_test_e1000e_passthru(struct kit_result *r); /* test_e1000e.c */
int kit_test_soak(struct kit_result *r);            /* test_soak.c */

void kit_main(uint64_t start_info);

#define KIT_CMDLINE_MAX 1024

struct kit_platform kit_plat;
static char kit_cmdline[KIT_CMDLINE_MAX];

static const struct {
	const char *name;
	kit_test_fn *fn;
} kit_tests[] = {
	{ "hello", kit_test_hello },
	{ "pio", kit_test_pio },
	{ "mmio", kit_test_mmio },
	{ "ioeventfd", kit_test_ioeventfd },
	{ "irq", kit_test_irq },
	{ "smp", kit_test_smp },
	{ "net-loopback", kit_test_net_loopback },
	{ "net-tx", kit_test_net_tx },
	{ "net-echo", kit_test_net_echo },
	{ "blk-rw", kit_test_blk_rw },
	{ "virtio-hostile", kit_test_virtio_hostile },
	{ "e1000-hostile", kit_test_e1000_hostile },
	{ "nvme", kit_test_nvme },
	{ "nvme-dma-fault", kit_test_nvme_dma_fault },
	{ "e1000e-passthru", kit_test_e1000e_passthru },
	{ "nvme-hostile", kit_test_nvme_hostile },
	{ "soak", kit_test_soak },
};

/*
 * Find `key=` as a whole word in the command line; returns the value and
 * its length, or NULL.
 */
const char *kit_cmdline_get(const char *key, size_t *len)
{
	size_t klen = kit_strlen(key);
	const char *p = kit_cmdline;

	while (*p) {
		const char *w = p;
		size_t n = 0;

		while (w[n] && w[n] != ' ')
			n++;
		if (n > klen && w[klen] == '=' && !memcmp(w, key, klen)) {
			*len = n - klen - 1;
			return w + klen + 1;
		}
		p = w + n;
		while (*p == ' ')
			p++;
	}
	return NULL;
}

uint64_t kit_cmdline_u64(const char *key, uint64_t def, bool *bad)
{
	size_t len;
	const char *v = kit_cmdline_get(key, &len);
	uint64_t out;

	if (!v)
		return def;
	if (!kit_parse_u64(v, len, &out)) {
		*bad = true;
		return def;
	}
	return out;
}

/* Copy what we need out of hvm_start_info; it lives in VMM-owned memory. */
static int kit_read_start_info(uint64_t pa)
{
	const struct kit_hvm_start_info *si;
	struct kit_hvm_start_info copy;

	/* The identity map covers 0-4 GiB; anything else is bogus. */
	if (pa == 0 || pa > 0xffffffffULL - sizeof(copy))
		return -1;
	si = (const struct kit_hvm_start_info *)(uintptr_t)pa;
	memcpy(&copy, si, sizeof(copy));
	if (copy.magic != KIT_HVM_START_MAGIC)
		return -1;
	if (copy.cmdline_paddr && copy.cmdline_paddr < 0xffffffffULL -
	    KIT_CMDLINE_MAX) {
		const char *s = (const char *)(uintptr_t)copy.cmdline_paddr;
		size_t i;

		for (i = 0; i < KIT_CMDLINE_MAX - 1 && s[i]; i++)
			kit_cmdline[i] = (s[i] == '\t' || s[i] == '\n') ? ' '
									  : s[i];
		kit_cmdline[i] = '\0';
	}
	kit_plat.rsdp = copy.rsdp_paddr;
	if (copy.version >= 1 && copy.memmap_paddr &&
	    copy.memmap_paddr < 0xffffffffULL - 4096) {
		unsigned int n = copy.memmap_entries;

		if (n > KIT_MAX_MEMMAP)
			n = KIT_MAX_MEMMAP;
		memcpy(kit_plat.memmap,
		       (const void *)(uintptr_t)copy.memmap_paddr,
		       n * sizeof(kit_plat.memmap[0]));
		kit_plat.memmap_entries = n;
	}
	return 0;
}

void kit_res_add(struct kit_result *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len >= sizeof(r->kv) - 1)
		return;
	r->kv[r->len++] = ' ';
	va_start(ap, fmt);
	n = kit_vsnprintf(r->kv + r->len, sizeof(r->kv) - r->len, fmt, ap);
	va_end(ap);
	r->len += (size_t)n;
	if (r->len > sizeof(r->kv) - 1)
		r->len = sizeof(r->kv) - 1;
}

uint64_t kit_cycles_to_ns10(uint64_t cycles, uint64_t ops)
{
	if (!kit_plat.tsc_khz || !ops)
		return 0;
	/* ns = cycles * 1e6 / khz; keep one decimal. Split to avoid
	 * overflow for long runs. */
	if (cycles < UINT64_MAX / 10000000ULL)
		return cycles * 10000000ULL / kit_plat.tsc_khz / ops;
	return cycles / kit_plat.tsc_khz * 10000000ULL / ops;
}

void kit_res_timing(struct kit_result *r, uint64_t count, uint64_t cycles)
{
	uint64_t ns10 = kit_cycles_to_ns10(cycles, count);

	kit_res_add(r, "count=%lu", count);
	if (kit_plat.tsc_khz)
		kit_res_add(r, "ns_per_op=%lu.%lu", ns10 / 10, ns10 % 10);
	kit_res_add(r, "cycles_per_op=%lu", count ? cycles / count : 0);
}

int kit_fail(struct kit_result *r, const char *reason)
{
	r->reason = reason;
	return -1;
}

void kit_main(uint64_t start_info)
{
	static struct kit_result res;
	const char *name = "hello";
	kit_test_fn *fn = NULL;
	size_t len = 5;
	bool bad = false;
	int rc = -1;

	if (kit_read_start_info(start_info) < 0) {
		kit_printf("RESULT test=boot status=fail reason=no-start-info\n");
		kit_exit(1);
	}
	const char *t = kit_cmdline_get("test", &len);

	if (t)
		name = t;
	for (size_t i = 0; i < KIT_ARRAY_SIZE(kit_tests); i++) {
		if (kit_strlen(kit_tests[i].name) == len &&
		    !memcmp(kit_tests[i].name, name, len)) {
			fn = kit_tests[i].fn;
			name = kit_tests[i].name;
			break;
		}
	}
	if (!fn) {
		char bad[33];
		size_t n = len < sizeof(bad) - 1 ? len : sizeof(bad) - 1;

		memcpy(bad, name, n);
		bad[n] = '\0';
		kit_printf("RESULT test=%s status=fail reason=unknown-test\n",
			   n ? bad : "none");
		kit_exit(1);
	}
	kit_current_test = name;
	kit_plat.verbose = kit_cmdline_u64("verbose", 0, &bad) != 0;
	if (bad) {
		kit_fail(&res, "bad-param");
		goto out;
	}

	kit_tsc_init(&kit_plat);
	/* Without ACPI the kit still runs: CF8/CFC and a single CPU. */
	kit_acpi_init(&kit_plat);
	if (kit_pci_init(&kit_plat) < 0) {
		kit_fail(&res, "pci-init");
	} else {
		rc = fn(&res);
	}
out:
	kit_printf("RESULT test=%s status=%s%s%s%s\n", name,
		   rc == 0 ? "pass" : "fail",
		   rc == 0 || !res.reason ? "" : " reason=",
		   rc == 0 || !res.reason ? "" : res.reason, res.kv);
	kit_exit(rc == 0 ? 0 : 1);
}
