// SPDX-License-Identifier: MIT
/*
 * bzImage loader with a synthetic image carrying a real setup header
 * (boot.rst offsets), boot_params checked at the zero-page offsets of
 * zero-page.rst, identity page tables and the 64-bit entry state; plus
 * hostile headers.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/boot/boot.h"
#include "core/layout.h"
#include "boot_test_util.h"

#define MiB (1024ULL * 1024)
#define SETUP_SECTS 4
#define SETUP_SIZE  ((SETUP_SECTS + 1) * 512)
#define KERNEL_LEN  8192
#define IMG_LEN     (SETUP_SIZE + KERNEL_LEN)

static uint8_t img[IMG_LEN];

static void put16(size_t off, uint16_t v) { img[off] = (uint8_t)v; img[off + 1] = (uint8_t)(v >> 8); }
static void put32(size_t off, uint32_t v) { put16(off, (uint16_t)v); put16(off + 2, (uint16_t)(v >> 16)); }
static void put64(size_t off, uint64_t v) { put32(off, (uint32_t)v); put32(off + 4, (uint32_t)(v >> 32)); }

static void bz_build(void)
{
	memset(img, 0, sizeof(img));
	img[0x1f1] = SETUP_SECTS;             /* setup_sects */
	put32(0x1f4, KERNEL_LEN / 16);        /* syssize */
	put16(0x1fe, 0xaa55);                 /* boot_flag */
	img[0x200] = 0xeb;                    /* jump */
	img[0x201] = 0x6a;                    /* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	put16(0x206, 0x020f);                 /* version 2.15 */
	img[0x211] = 0x01;                    /* LOADED_HIGH */
	put32(0x22c, 0x7fffffff);             /* initrd_addr_max */
	put32(0x230, 0x200000);               /* kernel_alignment */
	img[0x234] = 1;                       /* relocatable_kernel */
	put16(0x236, 0x0003);                 /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	put32(0x238, 255);                    /* cmdline_size */
	put64(0x250, 0xdeadbeef000ULL);       /* setup_data: must not leak */
	put64(0x258, 0x1000000);              /* pref_address 16 MiB */
	put32(0x260, 0x100000);               /* init_size 1 MiB */
	for (size_t i = 0; i < KERNEL_LEN; i++)
		img[SETUP_SIZE + i] = (uint8_t)(i * 13 + 1);
}

static struct gmem *mem;
static char err[256];

static void setup(void)
{
	mem = tb_gmem(64 * MiB);
	bz_build();
}

static void teardown(void)
{
	gmem_destroy(mem);
	mem = NULL;
}

static int load(size_t len, const char *cmdline, const char *initrd,
		struct boot_entry *e)
{
	char *path = tb_write_file(img, len);
	struct boot_cfg cfg = { .kernel_path = path, .initrd_path = initrd,
				.cmdline = cmdline, .rsdp_gpa = 0xe0000 };
	int ret = boot_load(mem, &cfg, e, err, sizeof(err));

	tb_unlink(path);
	return ret;
}

START_TEST(bz_loads_and_fills_zero_page)
{
	static const uint64_t e820[][3] = {
		{ 0x0, 0x9fc00, 1 }, { 0x9fc00, 0x40400, 2 },
		{ 0xe0000, 0x20000, 3 }, { 0x100000, 64 * MiB - 0x100000, 1 },
		{ 0xd0000000, 0x10000000, 2 }, { 0xfec00000, 0x1000, 2 },
		{ 0xfee00000, 0x1000, 2 },
	};
	uint8_t zp[4096], initrd[5000];
	struct boot_entry e;
	char cmd[32], *ipath;

	memset(initrd, 0x42, sizeof(initrd));
	ipath = tb_write_file(initrd, sizeof(initrd));
	ck_assert_int_eq(load(IMG_LEN, "console=ttyS0", ipath, &e), 0);
	tb_unlink(ipath);
	ck_assert_int_eq(e.protocol, BOOT_LINUX64);
	ck_assert(e.long_mode);
	ck_assert_uint_eq(e.rip, 0x1000000 + 0x200);
	ck_assert_uint_eq(e.rsi, 0x1000);
	ck_assert_mem_eq(gmem_ptr(mem, 0x1000000, KERNEL_LEN), img + SETUP_SIZE,
			 KERNEL_LEN);

	ck_assert_int_eq(gmem_read(mem, e.rsi, zp, sizeof(zp)), 0);
	ck_assert_uint_eq(zp[0x1f1], SETUP_SECTS);
	ck_assert_mem_eq(zp + 0x202, "HdrS", 4);
	ck_assert_uint_eq(tb_le16(zp, 0x206), 0x020f);
	ck_assert_uint_eq(tb_le16(zp, 0x1fe), 0xaa55);
	ck_assert_uint_eq(zp[0x210], 0xff);                 /* type_of_loader */
	ck_assert_uint_eq(tb_le64(zp, 0x250), 0);           /* setup_data */
	ck_assert_uint_eq(tb_le64(zp, 0x070), 0xe0000);     /* acpi_rsdp_addr */
	ck_assert_int_eq(gmem_read(mem, tb_le32(zp, 0x228), cmd, sizeof(cmd)), 0);
	ck_assert_str_eq(cmd, "console=ttyS0");
	ck_assert_uint_eq(tb_le32(zp, 0x0c8), 0);           /* ext_cmd_line_ptr */
	ck_assert_uint_eq(tb_le32(zp, 0x21c), sizeof(initrd));
	ck_assert_uint_eq(tb_le32(zp, 0x218) % 4096, 0);
	ck_assert_uint_ge(tb_le32(zp, 0x218), 0x1000000 + 0x100000);
	ck_assert_uint_le(tb_le32(zp, 0x218) + sizeof(initrd), 64 * MiB);
	ck_assert_mem_eq(gmem_ptr(mem, tb_le32(zp, 0x218), sizeof(initrd)),
			 initrd, sizeof(initrd));
	ck_assert_uint_eq(zp[0x1e8], 7);                    /* e820_entries */
	for (int i = 0; i < 7; i++) {
		ck_assert_uint_eq(tb_le64(zp, 0x2d0 + 20 * i), e820[i][0]);
		ck_assert_uint_eq(tb_le64(zp, 0x2d0 + 20 * i + 8), e820[i][1]);
		ck_assert_uint_eq(tb_le32(zp, 0x2d0 + 20 * i + 16), e820[i][2]);
	}
	/* Nothing past the header copy (0x26c) except e820. */
	ck_assert_uint_eq(zp[0x26c], 0);
}
END_TEST

START_TEST(bz_page_tables_and_cpu_state)
{
	struct boot_entry e;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint8_t pt[4096], gdt[32];

	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), 0);
	memset(&sregs, 0, sizeof(sregs));
	boot_cpu_state(&e, &regs, &sregs);
	ck_assert_uint_eq(regs.rip, 0x1000200);
	ck_assert_uint_eq(regs.rsi, 0x1000);
	ck_assert_uint_eq(regs.rflags, 2);
	ck_assert_uint_eq(sregs.cs.selector, 0x10);
	ck_assert_uint_eq(sregs.cs.l, 1);
	ck_assert_uint_eq(sregs.cs.db, 0);
	ck_assert_uint_eq(sregs.cs.type, 0xb);
	ck_assert_uint_eq(sregs.cs.present, 1);
	ck_assert_uint_eq(sregs.ds.selector, 0x18);
	ck_assert_uint_eq(sregs.ds.type, 3);
	ck_assert_uint_eq(sregs.ss.selector, 0x18);
	ck_assert_uint_eq(sregs.cr0 & 0x80000001ULL, 0x80000001ULL); /* PG|PE */
	ck_assert_uint_eq(sregs.cr4 & 0x20, 0x20);                    /* PAE */
	ck_assert_uint_eq(sregs.efer & 0x500, 0x500);                 /* LME|LMA */
	ck_assert_int_eq(gmem_read(mem, sregs.gdt.base, gdt, 32), 0);
	ck_assert_uint_eq(sregs.gdt.limit, 31);
	/* 64-bit code: L (bit 53) set, D (bit 54) clear, P, S, type 0xb. */
	ck_assert_uint_eq(tb_le64(gdt, 0x10), 0x00af9b000000ffffULL);
	ck_assert_uint_eq(tb_le64(gdt, 0x18), 0x00cf93000000ffffULL);

	/* Walk the identity map: PML4[0] -> PDPT -> PD, 2 MiB pages. */
	ck_assert_int_eq(gmem_read(mem, sregs.cr3, pt, 4096), 0);
	ck_assert_uint_eq(tb_le64(pt, 0) & 0x3, 0x3);
	ck_assert_uint_eq(tb_le64(pt, 8), 0);
	ck_assert_int_eq(gmem_read(mem, tb_le64(pt, 0) & ~0xfffULL, pt, 4096), 0);
	for (int i = 0; i < 3; i++) {
		uint8_t pd[4096];

		ck_assert_uint_eq(tb_le64(pt, 8 * i) & 0x3, 0x3);
		ck_assert_int_eq(gmem_read(mem, tb_le64(pt, 8 * i) & ~0xfffULL, pd,
					   4096), 0);
		for (int j = 0; j < 512; j += 97)
			ck_assert_uint_eq(tb_le64(pd, 8 * j),
					  ((uint64_t)i << 30 | (uint64_t)j << 21) | 0x83);
	}
	/* The tables themselves stay inside boot data. */
	ck_assert_uint_lt(sregs.cr3, LAYOUT_BOOT_DATA_END);
}
END_TEST

START_TEST(bz_placement)
{
	struct boot_entry e;

	/* pref_address beyond RAM: relocatable kernel goes to 1 MiB. */
	put64(0x258, 0x10000000);
	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), 0);
	ck_assert_uint_eq(e.rip, 0x100000 + 0x200);
	/* ... a non-relocatable one cannot. */
	img[0x234] = 0;
	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), -EFBIG);
	/* init_size larger than RAM. */
	bz_build();
	put32(0x260, 0x7fffffff);
	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), -EFBIG);
}
END_TEST

START_TEST(bz_hostile)
{
	struct boot_entry e;
	char cmd[300];

	ck_assert_int_eq(load(IMG_LEN - 4096, NULL, NULL, &e), -EINVAL); /* truncated */
	ck_assert_ptr_nonnull(strstr(err, "syssize"));
	ck_assert_int_eq(load(0x300, NULL, NULL, &e), -EINVAL);          /* header only */
	ck_assert_int_eq(load(0x206, NULL, NULL, &e), -EINVAL);
	put16(0x206, 0x0200);                                              /* too old */
	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), -ENOEXEC);
	bz_build();
	put16(0x236, 0);                                                   /* 32-bit only */
	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), -ENOEXEC);
	bz_build();
	img[0x211] = 0;                                                    /* zImage */
	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), -ENOEXEC);
	bz_build();
	put16(0x1fe, 0x1234);
	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), -EINVAL);
	bz_build();
	img[0x1f1] = 255;                                                  /* setup past EOF */
	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), -EINVAL);
	bz_build();
	put32(0x1f4, 0xffffffff);                                          /* syssize huge */
	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), -EINVAL);
	bz_build();
	img[0x201] = 0xff;                                                 /* header end clamp */
	ck_assert_int_eq(load(IMG_LEN, NULL, NULL, &e), 0);
	bz_build();
	memset(cmd, 'a', 256);                                             /* > cmdline_size */
	cmd[256] = '\0';
	ck_assert_int_eq(load(IMG_LEN, cmd, NULL, &e), -E2BIG);
	cmd[255] = '\0';
	ck_assert_int_eq(load(IMG_LEN, cmd, NULL, &e), 0);
}
END_TEST

static Suite *bz_suite(void)
{
	Suite *s = suite_create("bzimage");
	TCase *t = tcase_create("bzimage");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, bz_loads_and_fills_zero_page);
	tcase_add_test(t, bz_page_tables_and_cpu_state);
	tcase_add_test(t, bz_placement);
	tcase_add_test(t, bz_hostile);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(bz_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
