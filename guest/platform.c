/* SPDX-License-Identifier: MIT */
/*
 * Platform discovery at CPL3: ACPI (RSDP -> XSDT/RSDT -> MADT, MCFG) and
 * the TSC rate (kvmclock, then CPUID leaves). Every table is validated
 * (signature, length, checksum, inside the memory map) before use: the
 * tables come from the VMM, which the kit treats as fallible.
 */
#include "guest/kit.h"

#define ACPI_HDR_LEN 36
#define ACPI_MAX_TABLE (1u << 20)
#define ACPI_BIOS_START 0xe0000ULL
#define ACPI_BIOS_END 0x100000ULL

struct acpi_rsdp {
	char sig[8];
	uint8_t csum;
	char oem[6];
	uint8_t rev;
	uint32_t rsdt;
	/* ACPI 2.0+ (ACPI 6.5 §5.2.5.3) */
	uint32_t length;
	uint64_t xsdt;
	uint8_t xcsum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_hdr {
	char sig[4];
	uint32_t length;
	uint8_t rev;
	uint8_t csum;
	char oem[6];
	char oem_table[8];
	uint32_t oem_rev;
	uint32_t creator;
	uint32_t creator_rev;
} __attribute__((packed));

static uint8_t acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + b[i]);
	return s;
}

/*
 * A table must lie below 4 GiB (the identity map) and inside one memory-map
 * entry (RAM, reserved, ACPI or NVS), or in the legacy BIOS area the RSDP
 * search uses. Without a memory map only the 4 GiB bound applies.
 */
static bool acpi_range_ok(const struct kit_platform *p, uint64_t a,
			  uint64_t len)
{
	uint64_t end = a + len;

	if (a == 0 || end < a || end > 0x100000000ULL)
		return false;
	if (a >= ACPI_BIOS_START && end <= ACPI_BIOS_END)
		return true;
	if (!p->memmap_entries)
		return true;
	for (unsigned int i = 0; i < p->memmap_entries; i++) {
		const struct kit_hvm_memmap_entry *e = &p->memmap[i];

		if (e->type >= 1 && e->type <= 4 && a >= e->addr &&
		    end <= e->addr + e->size)
			return true;
	}
	return false;
}

static const struct acpi_hdr *acpi_table(const struct kit_platform *p,
					 uint64_t a)
{
	const struct acpi_hdr *h;
	uint32_t len;

	if (!acpi_range_ok(p, a, ACPI_HDR_LEN))
		return NULL;
	h = (const struct acpi_hdr *)(uintptr_t)a;
	len = h->length;
	if (len < ACPI_HDR_LEN || len > ACPI_MAX_TABLE ||
	    !acpi_range_ok(p, a, len) || acpi_sum(h, len) != 0)
		return NULL;
	return h;
}

static const struct acpi_rsdp *acpi_rsdp_at(const struct kit_platform *p,
					    uint64_t a)
{
	const struct acpi_rsdp *r;

	if (!acpi_range_ok(p, a, sizeof(*r)))
		return NULL;
	r = (const struct acpi_rsdp *)(uintptr_t)a;
	if (memcmp(r->sig, "RSD PTR ", 8) || acpi_sum(r, 20) != 0)
		return NULL;
	if (r->rev >= 2 && (r->length < sizeof(*r) ||
			    acpi_sum(r, sizeof(*r)) != 0))
		return NULL;
	return r;
}

/* ACPI 6.5 §5.2.5.1: the RSDP sits on a 16-byte boundary in the BIOS ROM
 * area 0xE0000-0xFFFFF when the boot protocol does not hand it to us. */
static const struct acpi_rsdp *acpi_find_rsdp(const struct kit_platform *p)
{
	if (p->rsdp)
		return acpi_rsdp_at(p, p->rsdp);
	for (uint64_t a = ACPI_BIOS_START; a < ACPI_BIOS_END; a += 16) {
		const struct acpi_rsdp *r = acpi_rsdp_at(p, a);

		if (r)
			return r;
	}
	return NULL;
}

/* ACPI 6.5 §5.2.12: MADT; type 0 = Processor Local APIC, flags bit 0 =
 * enabled. Type 9 (x2APIC) is taken too when its ID fits xAPIC. */
static void acpi_parse_madt(struct kit_platform *p, const struct acpi_hdr *h)
{
	const uint8_t *b = (const uint8_t *)h;
	uint32_t off = ACPI_HDR_LEN + 8; /* LAPIC address, flags */

	while (off + 2 <= h->length) {
		uint8_t type = b[off], len = b[off + 1];
		uint32_t id = UINT32_MAX, flags = 0;

		if (len < 2 || off + len > h->length)
			break;
		if (type == 0 && len >= 8) {
			id = b[off + 3];
			memcpy(&flags, b + off + 4, 4);
		} else if (type == 9 && len >= 16) {
			memcpy(&id, b + off + 4, 4);
			memcpy(&flags, b + off + 8, 4);
		}
		if (id < 0xff && (flags & 1) && p->ncpus < KIT_MAX_CPUS)
			p->apic_ids[p->ncpus++] = id;
		off += len;
	}
}

/* PCI Firmware 3.2 §4.1.2: MCFG allocation entries after 8 reserved bytes. */
static void acpi_parse_mcfg(struct kit_platform *p, const struct acpi_hdr *h)
{
	const uint8_t *b = (const uint8_t *)h;

	for (uint32_t off = ACPI_HDR_LEN + 8; off + 16 <= h->length;
	     off += 16) {
		uint64_t base;
		uint16_t seg;

		memcpy(&base, b + off, 8);
		memcpy(&seg, b + off + 8, 2);
		if (seg != 0 || b[off + 10] > b[off + 11] || !base ||
		    base >= 0x100000000ULL)
			continue;
		p->ecam_base = base;
		p->ecam_bus_start = b[off + 10];
		p->ecam_bus_end = b[off + 11];
		return;
	}
}

static uint64_t aml_int(const uint8_t *b, uint32_t left)
{
	uint64_t v = 0;

	if (left >= 5 && b[0] == 0x0c) /* DWordPrefix */
		memcpy(&v, b + 1, 4);
	else if (left >= 9 && b[0] == 0x0e) /* QWordPrefix */
		memcpy(&v, b + 1, 8);
	return v;
}

/*
 * No MCFG (QEMU 7.2 microvm has none): look for the host bridge's _CBA in
 * the DSDT (ACPI 6.5 §6.5.8), either `Name (_CBA, n)` or a method that
 * only does `Return (n)`. A byte scan, not an AML interpreter: it takes
 * the first _CBA whose value is a plain DWord/QWord constant.
 */
static void acpi_scan_cba(struct kit_platform *p, const struct acpi_hdr *h)
{
	const uint8_t *b = (const uint8_t *)h;

	for (uint32_t off = ACPI_HDR_LEN; off + 4 <= h->length; off++) {
		uint32_t at = off + 4;
		uint64_t v;

		if (memcmp(b + off, "_CBA", 4))
			continue;
		v = aml_int(b + at, h->length - at);
		if (!v && at + 2 <= h->length && b[at + 1] == 0xa4)
			v = aml_int(b + at + 2, h->length - at - 2);
		if (v && v < 0x100000000ULL && !(v & 0xfffff)) {
			p->ecam_base = v;
			p->ecam_bus_start = 0;
			p->ecam_bus_end = 0;
			return;
		}
	}
}

static void acpi_parse_fadt(struct kit_platform *p, const struct acpi_hdr *h)
{
	const uint8_t *b = (const uint8_t *)h;
	const struct acpi_hdr *dsdt = NULL;
	uint64_t a = 0;

	/* ACPI 6.5 §5.2.9: X_DSDT at 140 wins over DSDT at 40. */
	if (h->length >= 148)
		memcpy(&a, b + 140, 8);
	if (!a && h->length >= 44)
		memcpy(&a, b + 40, 4);
	if (a)
		dsdt = acpi_table(p, a);
	if (dsdt && !memcmp(dsdt->sig, "DSDT", 4))
		acpi_scan_cba(p, dsdt);
}

int kit_acpi_init(struct kit_platform *p)
{
	uint64_t cba = 0;
	const struct acpi_rsdp *r = acpi_find_rsdp(p);
	const struct acpi_hdr *root;
	unsigned int esize;

	if (p->verbose) {
		kit_printf("kit: rsdp=0x%lx found=%p\n", p->rsdp, (void *)r);
		for (unsigned int i = 0; i < p->memmap_entries; i++)
			kit_printf("kit: memmap 0x%lx+0x%lx type %u\n",
				   p->memmap[i].addr, p->memmap[i].size,
				   p->memmap[i].type);
	}
	if (!r)
		return -1;
	if (r->rev >= 2 && r->xsdt) {
		root = acpi_table(p, r->xsdt);
		esize = 8;
	} else {
		root = acpi_table(p, r->rsdt);
		esize = 4;
	}
	if (!root)
		return -1;
	for (uint32_t off = ACPI_HDR_LEN; off + esize <= root->length;
	     off += esize) {
		uint64_t a = 0;
		const struct acpi_hdr *h;

		memcpy(&a, (const uint8_t *)root + off, esize);
		h = acpi_table(p, a);
		if (p->verbose)
			kit_printf("kit: acpi 0x%lx %c%c%c%c%s\n", a,
				   h ? h->sig[0] : '?', h ? h->sig[1] : '?',
				   h ? h->sig[2] : '?', h ? h->sig[3] : '?',
				   h ? "" : " rejected");
		if (!h)
			continue;
		if (!memcmp(h->sig, "APIC", 4) && !p->ncpus)
			acpi_parse_madt(p, h);
		else if (!memcmp(h->sig, "MCFG", 4))
			acpi_parse_mcfg(p, h);
		else if (!memcmp(h->sig, "FACP", 4) && !cba) {
			uint64_t keep = p->ecam_base;

			acpi_parse_fadt(p, h);
			cba = p->ecam_base;
			p->ecam_base = keep;
		}
	}
	if (!p->ecam_base && cba)
		p->ecam_base = cba; /* bus 0 only */
	return 0;
}

/* KVM pvclock ABI (Documentation/virt/kvm/x86/msr.rst). */
struct kit_pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE2 3

static struct kit_pvclock kit_pvclock __attribute__((aligned(64)));

/*
 * kvmclock: system_time advances by ((tsc << shift) * mul) >> 32 ns, so
 * tsc_khz = 1e6 * 2^32 / mul, shifted back by tsc_shift.
 */
static uint64_t tsc_from_kvmclock(void)
{
	volatile struct kit_pvclock *pv = &kit_pvclock;
	uint32_t r[4], ver, mul;
	int8_t shift;
	uint64_t khz;

	kit_cpuid(0x40000000, 0, r);
	if (memcmp(&r[1], "KVMK", 4) || memcmp(&r[2], "VMKV", 4) ||
	    memcmp(&r[3], "M\0\0\0", 4) || r[0] < 0x40000001)
		return 0;
	kit_cpuid(0x40000001, 0, r);
	if (!(r[0] & (1u << KVM_FEATURE_CLOCKSOURCE2)))
		return 0;
	kit_syscall(KIT_SYS_WRMSR, MSR_KVM_SYSTEM_TIME_NEW,
		    (uint64_t)(uintptr_t)&kit_pvclock | 1, 0);
	for (int tries = 0; tries < 1000; tries++) {
		ver = pv->version;
		__asm__ volatile("" ::: "memory");
		mul = pv->tsc_to_system_mul;
		shift = pv->tsc_shift;
		__asm__ volatile("" ::: "memory");
		if (ver && !(ver & 1) && ver == pv->version)
			break;
		mul = 0;
	}
	/* Stop the host from writing into our .bss behind our back. */
	kit_syscall(KIT_SYS_WRMSR, MSR_KVM_SYSTEM_TIME_NEW, 0, 0);
	if (!mul)
		return 0;
	khz = (1000000ULL << 32) / mul;
	if (shift > 0)
		khz >>= shift;
	else if (shift < 0)
		khz <<= -shift;
	return khz;
}

void kit_tsc_init(struct kit_platform *p)
{
	uint32_t r[4];

	p->tsc_khz = tsc_from_kvmclock();
	if (p->tsc_khz) {
		p->tsc_source = "kvmclock";
		return;
	}
	kit_cpuid(0x40000000, 0, r);
	if (r[0] >= 0x40000010 && r[0] < 0x40000100) {
		kit_cpuid(0x40000010, 0, r);
		if (r[0]) {
			p->tsc_khz = r[0];
			p->tsc_source = "cpuid-0x40000010";
			return;
		}
	}
	kit_cpuid(0, 0, r);
	if (r[0] >= 0x15) {
		uint32_t max = r[0];

		kit_cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2]) {
			p->tsc_khz = (uint64_t)r[2] * r[1] / r[0] / 1000;
			p->tsc_source = "cpuid-0x15";
			return;
		}
		if (max >= 0x16) {
			kit_cpuid(0x16, 0, r);
			if (r[0] & 0xffff) {
				p->tsc_khz = (uint64_t)(r[0] & 0xffff) * 1000;
				p->tsc_source = "cpuid-0x16";
				return;
			}
		}
	}
	p->tsc_source = "none";
}

void kit_delay_us(uint64_t us)
{
	if (kit_plat.tsc_khz) {
		uint64_t end = kit_rdtsc() + us * kit_plat.tsc_khz / 1000;

		while (kit_rdtsc() < end)
			kit_pause();
		return;
	}
	/* Unknown rate: assume no more than ~4 GHz worth of pauses. */
	for (uint64_t i = 0; i < us * 100; i++)
		kit_pause();
}
