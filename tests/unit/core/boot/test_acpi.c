// SPDX-License-Identifier: MIT
/*
 * AML encodings and ACPI tables, checked byte for byte against encodings
 * derived by hand from the ACPI 6.4 spec (§20.2 AML grammar, §6.4 resource
 * descriptors, §5.2 tables), at the spec's literal offsets.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/boot/acpi.h"
#include "core/boot/aml.h"
#include "core/layout.h"
#include "boot_test_util.h"

#define AML_EQ(b, ...)                                                    \
	do {                                                              \
		static const uint8_t exp__[] = { __VA_ARGS__ };           \
		ck_assert_int_eq((b)->err, 0);                            \
		ck_assert_uint_eq((b)->len, sizeof(exp__));               \
		ck_assert_mem_eq((b)->data, exp__, sizeof(exp__));        \
	} while (0)

static uint8_t store[8192];

START_TEST(aml_name_hid_eisaid)
{
	struct aml_buf b;

	aml_init(&b, store, sizeof(store));
	aml_name_decl(&b, "_HID");
	aml_eisaid(&b, "PNP0A08");
	AML_EQ(&b, 0x08, 0x5f, 0x48, 0x49, 0x44, 0x0c, 0x41, 0xd0, 0x0a, 0x08);

	aml_init(&b, store, sizeof(store));
	aml_eisaid(&b, "PNP0501");
	AML_EQ(&b, 0x0c, 0x41, 0xd0, 0x05, 0x01);
}
END_TEST

START_TEST(aml_integers)
{
	struct aml_buf b;

	aml_init(&b, store, sizeof(store));
	aml_integer(&b, 0);
	aml_integer(&b, 1);
	aml_integer(&b, 0x12);
	aml_integer(&b, 0x1234);
	aml_integer(&b, 0x12345678);
	aml_integer(&b, 0x100000000ULL);
	aml_integer(&b, UINT64_MAX);
	AML_EQ(&b, 0x00, 0x01, 0x0a, 0x12, 0x0b, 0x34, 0x12,
	       0x0c, 0x78, 0x56, 0x34, 0x12,
	       0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff);
}
END_TEST

START_TEST(aml_names)
{
	struct aml_buf b;

	aml_init(&b, store, sizeof(store));
	aml_name(&b, "\\_SB");
	aml_name(&b, "_SB.PCI0");
	aml_name(&b, "A.B.C");
	aml_name(&b, "PC");
	aml_name(&b, "^FOO");
	AML_EQ(&b, 0x5c, '_', 'S', 'B', '_',
	       0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
	       0x2f, 0x03, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_',
	       'P', 'C', '_', '_',
	       0x5e, 'F', 'O', 'O', '_');

	aml_init(&b, store, sizeof(store));
	aml_name(&b, "1ABC");
	ck_assert_int_eq(b.err, -EINVAL);
	aml_init(&b, store, sizeof(store));
	aml_name(&b, "TOOLONG");
	ck_assert_int_eq(b.err, -EINVAL);
	aml_init(&b, store, sizeof(store));
	aml_eisaid(&b, "pnp0a08");
	ck_assert_int_eq(b.err, -EINVAL);
}
END_TEST

START_TEST(aml_pkglength)
{
	struct aml_buf b;
	uint8_t filler[5000];
	size_t h;

	/* Scope(\_SB) {}: PkgLength 6 = 1 (itself) + 5 (name). */
	aml_init(&b, store, sizeof(store));
	h = aml_scope_begin(&b, "\\_SB");
	aml_pkg_end(&b, h);
	AML_EQ(&b, 0x10, 0x06, 0x5c, '_', 'S', 'B', '_');

	/* 100 bytes of content -> 102 total: 2-byte form 0x46 0x06. */
	memset(filler, 0xaa, sizeof(filler));
	aml_init(&b, store, sizeof(store));
	h = aml_device_begin(&b, "TEST");
	aml_bytes(&b, filler, 96);
	aml_pkg_end(&b, h);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, 2 + 2 + 100);
	ck_assert_uint_eq(store[0], 0x5b);
	ck_assert_uint_eq(store[1], 0x82);
	ck_assert_uint_eq(store[2], 0x46);
	ck_assert_uint_eq(store[3], 0x06);
	ck_assert_mem_eq(store + 4, "TEST", 4);

	/* 5000 bytes of content -> 5003 = 0x138b: 3-byte form 0x8b 0x38 0x01. */
	aml_init(&b, store, sizeof(store));
	h = aml_scope_begin(&b, "\\");
	ck_assert_uint_eq(b.len, 3); /* op, root char, NullName */
	b.len = 1;                   /* drop the name: raw content below */
	aml_bytes(&b, filler, 5000);
	aml_pkg_end(&b, h);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(store[1], 0x8b);
	ck_assert_uint_eq(store[2], 0x38);
	ck_assert_uint_eq(store[3], 0x01);
	ck_assert_uint_eq(b.len, 1 + 3 + 5000);
}
END_TEST

START_TEST(aml_buffer_and_resources)
{
	static const uint8_t three[] = { 1, 2, 3 };
	struct aml_buf b;

	aml_init(&b, store, sizeof(store));
	aml_buffer(&b, three, 3);
	AML_EQ(&b, 0x11, 0x06, 0x0a, 0x03, 0x01, 0x02, 0x03);

	aml_init(&b, store, sizeof(store));
	aml_res_io(&b, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(&b, 1u << 4);
	aml_res_word_bus(&b, 0, 255);
	aml_res_word_io(&b, 0x1000, 0xffff);
	aml_res_end(&b);
	AML_EQ(&b, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
	       0x22, 0x10, 0x00,
	       0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
	       0xff, 0x00, 0x00, 0x00, 0x00, 0x01,
	       0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x10,
	       0xff, 0xff, 0x00, 0x00, 0x00, 0xf0,
	       0x79, 0x00);

	aml_init(&b, store, sizeof(store));
	aml_res_dword_mem(&b, 0xc0000000, 0xcfffffff);
	AML_EQ(&b, 0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
	       0, 0, 0, 0, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xcf,
	       0, 0, 0, 0, 0x00, 0x00, 0x00, 0x10);

	aml_init(&b, store, sizeof(store));
	aml_res_word_io(&b, 0, 0xffff); /* length 0x10000 does not fit */
	ck_assert_int_eq(b.err, -EINVAL);
	aml_init(&b, store, 4);
	aml_res_io(&b, 0x3f8, 0x3f8, 1, 8);
	ck_assert_int_eq(b.err, -ENOSPC);
	ck_assert_uint_le(b.len, 4);
}
END_TEST

/* ---- tables ---- */

static struct gmem *mem;
static uint64_t rsdp;

static void build(unsigned ncpus)
{
	struct acpi_cfg c;

	mem = tb_gmem(64 * 1024 * 1024);
	acpi_cfg_default(&c, ncpus, gmem_end(mem));
	ck_assert_int_eq(acpi_build(mem, &c, &rsdp), 0);
}

static void teardown(void)
{
	gmem_destroy(mem);
	mem = NULL;
}

/* Copy of a whole table at gpa after checking signature and checksum. */
static uint8_t *table(uint64_t gpa, const char *sig)
{
	uint8_t hdr[36], *t;
	uint32_t len;

	ck_assert_int_eq(gmem_read(mem, gpa, hdr, sizeof(hdr)), 0);
	ck_assert_mem_eq(hdr, sig, 4);
	len = tb_le32(hdr, 4);
	ck_assert_uint_ge(len, 36);
	ck_assert_uint_le(gpa + len, LAYOUT_ACPI_END);
	t = malloc(len);
	ck_assert_int_eq(gmem_read(mem, gpa, t, len), 0);
	ck_assert_uint_eq(tb_sum(t, len), 0);
	ck_assert_mem_eq(t + 10, "IOVMM ", 6);
	return t;
}

START_TEST(acpi_rsdp_fields)
{
	uint8_t r[36];

	build(2);
	ck_assert_uint_eq(rsdp, 0xe0000);
	ck_assert_int_eq(gmem_read(mem, rsdp, r, 36), 0);
	ck_assert_mem_eq(r, "RSD PTR ", 8);
	ck_assert_uint_eq(tb_sum(r, 20), 0);     /* checksum @8 over 20 bytes */
	ck_assert_uint_eq(tb_sum(r, 36), 0);     /* extended checksum @32 */
	ck_assert_mem_eq(r + 9, "IOVMM ", 6);
	ck_assert_uint_eq(r[15], 2);
	ck_assert_uint_eq(tb_le32(r, 20), 36);
	ck_assert_uint_ne(tb_le32(r, 16), 0);
	ck_assert_uint_ne(tb_le64(r, 24), 0);
	ck_assert_uint_eq(r[33] | r[34] | r[35], 0);
}
END_TEST

START_TEST(acpi_sdt_and_fadt)
{
	uint8_t r[36], *x, *rs, *f, *d;
	const char *sigs[] = { "FACP", "APIC", "MCFG" };

	build(2);
	ck_assert_int_eq(gmem_read(mem, rsdp, r, 36), 0);
	x = table(tb_le64(r, 24), "XSDT");
	rs = table(tb_le32(r, 16), "RSDT");
	ck_assert_uint_eq(tb_le32(x, 4), 36 + 3 * 8);
	ck_assert_uint_eq(tb_le32(rs, 4), 36 + 3 * 4);
	for (int i = 0; i < 3; i++) {
		uint8_t *t = table(tb_le64(x, 36 + 8 * i), sigs[i]);

		ck_assert_uint_eq(tb_le32(rs, 36 + 4 * i), tb_le64(x, 36 + 8 * i));
		free(t);
	}
	f = table(tb_le64(x, 36), "FACP");
	ck_assert_uint_eq(tb_le32(f, 4), 276);
	ck_assert_uint_eq(f[8], 6);
	ck_assert_uint_eq(tb_le16(f, 46), 9);                 /* SCI_INT */
	ck_assert_uint_ne(tb_le32(f, 40), 0);                 /* DSDT */
	ck_assert_uint_eq(tb_le64(f, 140), tb_le32(f, 40));   /* X_DSDT */
	ck_assert_uint_ne(tb_le32(f, 112) & (1u << 20), 0);   /* HW_REDUCED */
	ck_assert_uint_eq(tb_le32(f, 36), 0);                 /* no FACS */
	d = table(tb_le64(f, 140), "DSDT");
	ck_assert_uint_eq(d[8], 2);
	free(d);
	free(f);
	free(rs);
	free(x);
}
END_TEST

static uint8_t *find_sig(const char *sig)
{
	uint8_t r[36], *x, *t = NULL;

	ck_assert_int_eq(gmem_read(mem, rsdp, r, 36), 0);
	x = table(tb_le64(r, 24), "XSDT");
	for (unsigned i = 0; i < (tb_le32(x, 4) - 36) / 8 && !t; i++) {
		uint8_t h[4];
		uint64_t gpa = tb_le64(x, 36 + 8 * i);

		ck_assert_int_eq(gmem_read(mem, gpa, h, 4), 0);
		if (!memcmp(h, sig, 4))
			t = table(gpa, sig);
	}
	free(x);
	ck_assert_ptr_nonnull(t);
	return t;
}

START_TEST(acpi_madt_two_cpus)
{
	static const uint8_t exp[] = {
		/* 36: local APIC address, flags PCAT_COMPAT */
		0x00, 0x00, 0xe0, 0xfe, 0x01, 0x00, 0x00, 0x00,
		/* 44: Processor Local APIC: UID 0, APIC ID 0, enabled */
		0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		/* 52: UID 1, APIC ID 1, enabled */
		0x00, 0x08, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
		/* 60: I/O APIC id 0 at 0xfec00000, GSI base 0 */
		0x01, 0x0c, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xfe,
		0x00, 0x00, 0x00, 0x00,
		/* 72: ISO ISA IRQ0 -> GSI2, conforming */
		0x02, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
		/* 82: ISO ISA IRQ9 -> GSI9, active high (01), level (11<<2) */
		0x02, 0x0a, 0x00, 0x09, 0x09, 0x00, 0x00, 0x00, 0x0d, 0x00,
		/* 92: Local APIC NMI, all CPUs, LINT1 */
		0x04, 0x06, 0xff, 0x00, 0x00, 0x01,
	};
	uint8_t *m;

	build(2);
	m = find_sig("APIC");
	ck_assert_uint_eq(tb_le32(m, 4), 36 + sizeof(exp));
	ck_assert_mem_eq(m + 36, exp, sizeof(exp));
	free(m);
}
END_TEST

START_TEST(acpi_mcfg_bytes)
{
	static const uint8_t exp[] = {
		0, 0, 0, 0, 0, 0, 0, 0,                         /* reserved */
		0x00, 0x00, 0x00, 0xd0, 0x00, 0x00, 0x00, 0x00, /* base */
		0x00, 0x00,                                     /* segment 0 */
		0x00, 0x00,                                     /* bus 0 only */
		0x00, 0x00, 0x00, 0x00,
	};
	uint8_t *m;

	build(1);
	m = find_sig("MCFG");
	ck_assert_uint_eq(tb_le32(m, 4), 60);
	ck_assert_mem_eq(m + 36, exp, sizeof(exp));
	free(m);
}
END_TEST

START_TEST(acpi_dsdt_contents)
{
	static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41,
				       0xd0, 0x0a, 0x08 };
	static const uint8_t cid[] = { 0x08, '_', 'C', 'I', 'D', 0x0c, 0x41,
				       0xd0, 0x0a, 0x03 };
	static const uint8_t com[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	/* WordBusNumber: bus 0 to 0, length 1 (the buses the host decodes). */
	static const uint8_t bus[] = { 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00,
				       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				       0x01, 0x00 };
	static const uint8_t cf8[] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c,
				       0x01, 0x08 };
	static const uint8_t prt[] = { 0x08, '_', 'P', 'R', 'T', 0x12 };
	static const uint8_t prt_entry[] = { 0x12, 0x0c, 0x04, 0x0c, 0xff, 0xff,
					     0x03, 0x00, 0x0a, 0x02, 0x00,
					     0x0a, 0x11 };
	uint8_t *f, *d;
	uint32_t len;

	build(1);
	f = find_sig("FACP");
	d = table(tb_le64(f, 140), "DSDT");
	len = tb_le32(d, 4);
	ck_assert_ptr_nonnull(memmem(d, len, hid, sizeof(hid)));
	ck_assert_ptr_nonnull(memmem(d, len, cid, sizeof(cid)));
	ck_assert_ptr_nonnull(memmem(d, len, com, sizeof(com)));
	ck_assert_ptr_nonnull(memmem(d, len, bus, sizeof(bus)));
	ck_assert_ptr_nonnull(memmem(d, len, cf8, sizeof(cf8)));
	ck_assert_ptr_nonnull(memmem(d, len, "PCI0", 4));
	/*
	 * _PRT: Package(128) of Package(4) { Address, Pin, Source, Index }.
	 * Slot 3, INTC# (pin 2) -> GSI 16 + (3 + 2) % 4 = 17:
	 * 12 <PkgLength 0x0c: 11 bytes + itself> 04 0c ffff0300 0a 02 00 0a 11.
	 */
	ck_assert_ptr_nonnull(memmem(d, len, prt, sizeof(prt)));
	ck_assert_ptr_nonnull(memmem(d, len, prt_entry, sizeof(prt_entry)));
	ck_assert_uint_eq(layout_pci_intx_gsi(3, 2), 17);
	/* AML starts with Scope(\_SB): 0x10, PkgLength, 0x5c '_SB_'. */
	ck_assert_uint_eq(d[36], 0x10);
	free(d);
	free(f);
}
END_TEST

START_TEST(acpi_bad_cfg)
{
	struct acpi_cfg c;
	uint64_t r = 0;

	mem = tb_gmem(64 * 1024 * 1024);
	acpi_cfg_default(&c, 0, gmem_end(mem));
	ck_assert_int_eq(acpi_build(mem, &c, &r), -EINVAL);
	acpi_cfg_default(&c, 256, gmem_end(mem));
	ck_assert_int_eq(acpi_build(mem, &c, &r), -EINVAL);
	acpi_cfg_default(&c, 1, gmem_end(mem));
	c.ecam_bus_start = 5;
	c.ecam_bus_end = 4;
	ck_assert_int_eq(acpi_build(mem, &c, &r), -EINVAL);
	acpi_cfg_default(&c, 1, gmem_end(mem));
	c.mmio32_base = 0xf0000000;
	c.mmio32_size = 0x20000000;
	ck_assert_int_eq(acpi_build(mem, &c, &r), -EINVAL);
	acpi_cfg_default(&c, 1, gmem_end(mem));
	c.pio_base = 0x1000;
	c.pio_size = 0x10000;
	ck_assert_int_eq(acpi_build(mem, &c, &r), -EINVAL);
	ck_assert_uint_eq(r, 0);
}
END_TEST

START_TEST(acpi_max_cpus)
{
	uint8_t *m;

	build(ACPI_MAX_CPUS);
	m = find_sig("APIC");
	ck_assert_uint_eq(tb_le32(m, 4), 44 + 8 * ACPI_MAX_CPUS + 12 + 20 + 6);
	ck_assert_uint_eq(m[44 + 8 * 254 + 3], 254);
	free(m);
}
END_TEST

static Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *a = tcase_create("aml");
	TCase *t = tcase_create("tables");

	tcase_add_test(a, aml_name_hid_eisaid);
	tcase_add_test(a, aml_integers);
	tcase_add_test(a, aml_names);
	tcase_add_test(a, aml_pkglength);
	tcase_add_test(a, aml_buffer_and_resources);
	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, acpi_rsdp_fields);
	tcase_add_test(t, acpi_sdt_and_fadt);
	tcase_add_test(t, acpi_madt_two_cpus);
	tcase_add_test(t, acpi_mcfg_bytes);
	tcase_add_test(t, acpi_dsdt_contents);
	tcase_add_test(t, acpi_bad_cfg);
	tcase_add_test(t, acpi_max_cpus);
	suite_add_tcase(s, a);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(acpi_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
