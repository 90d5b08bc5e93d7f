// SPDX-License-Identifier: MIT
/*
 * PVH loader: a tiny ELF64 (and ELF32) with a XEN_ELFNOTE_PHYS32_ENTRY note
 * built here, start_info checked at the offsets of Xen's start_info.h, and
 * hostile images that must fail with the documented errno. Also
 * boot_cpu_state() for the PVH entry.
 */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/boot/boot.h"
#include "core/layout.h"
#include "boot_test_util.h"

#define MiB (1024ULL * 1024)
#define LOAD_GPA  0x100000ULL
#define ENTRY_GPA 0x100010ULL
#define CODE_OFF  0x200
#define CODE_LEN  256
#define BSS_LEN   0x2000

struct elf_img {
	uint8_t b[4096];
	size_t len;
	Elf64_Ehdr *eh;
	Elf64_Phdr *load, *note;
	uint32_t *nhdr; /* namesz, descsz, type */
};

/* Ehdr @0, 2 phdrs @64, note @176 (12 + "Xen\0" + 4-byte desc), code @0x200 */
static void elf_build(struct elf_img *e)
{
	memset(e, 0, sizeof(*e));
	e->eh = (Elf64_Ehdr *)e->b;
	memcpy(e->eh->e_ident, ELFMAG, SELFMAG);
	e->eh->e_ident[EI_CLASS] = ELFCLASS64;
	e->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh->e_ident[EI_VERSION] = EV_CURRENT;
	e->eh->e_type = ET_EXEC;
	e->eh->e_machine = EM_X86_64;
	e->eh->e_version = EV_CURRENT;
	e->eh->e_entry = 0xffffffff81000000ULL; /* ignored by PVH */
	e->eh->e_phoff = 64;
	e->eh->e_ehsize = sizeof(Elf64_Ehdr);
	e->eh->e_phentsize = sizeof(Elf64_Phdr);
	e->eh->e_phnum = 2;
	e->load = (Elf64_Phdr *)(e->b + 64);
	e->note = e->load + 1;
	*e->load = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = CODE_OFF,
				 .p_vaddr = LOAD_GPA, .p_paddr = LOAD_GPA,
				 .p_filesz = CODE_LEN, .p_memsz = BSS_LEN,
				 .p_align = 4096 };
	*e->note = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 176,
				 .p_filesz = 20, .p_align = 4 };
	e->nhdr = (uint32_t *)(e->b + 176);
	e->nhdr[0] = 4;
	e->nhdr[1] = 4;
	e->nhdr[2] = 18;
	memcpy(e->b + 188, "Xen", 4);
	*(uint32_t *)(e->b + 192) = ENTRY_GPA;
	for (int i = 0; i < CODE_LEN; i++)
		e->b[CODE_OFF + i] = (uint8_t)(i ^ 0x5a);
	e->len = CODE_OFF + CODE_LEN;
}

static struct gmem *mem;
static char err[256];

static void setup(void)
{
	mem = tb_gmem(64 * MiB);
	/* Dirty RAM so zero-fill of p_memsz is observable. */
	memset(gmem_ptr(mem, LOAD_GPA, 16 * MiB), 0xaa, 16 * MiB);
	err[0] = '\0';
}

static void teardown(void)
{
	gmem_destroy(mem);
	mem = NULL;
}

static int load_buf(const void *buf, size_t len, const char *cmdline,
		    const char *initrd, struct boot_entry *e)
{
	char *path = tb_write_file(buf, len);
	struct boot_cfg cfg = { .kernel_path = path, .initrd_path = initrd,
				.cmdline = cmdline, .rsdp_gpa = 0xe0000 };
	int ret = boot_load(mem, &cfg, e, err, sizeof(err));

	tb_unlink(path);
	return ret;
}

static int load_elf(struct elf_img *img)
{
	struct boot_entry e;

	return load_buf(img->b, img->len, NULL, NULL, &e);
}

START_TEST(pvh_loads_and_fills_start_info)
{
	static const uint64_t mm_exp[][3] = {
		{ 0x0, 0x9fc00, 1 },
		{ 0x9fc00, 0xe0000 - 0x9fc00, 2 },
		{ 0xe0000, 0x20000, 3 },
		{ 0x100000, 64 * MiB - 0x100000, 1 },
		{ 0xd0000000, 0x10000000, 2 },
		{ 0xfec00000, 0x1000, 2 },
		{ 0xfee00000, 0x1000, 2 },
	};
	uint8_t initrd[10000], si[56], mod[32], mm[7 * 24], code[CODE_LEN];
	struct elf_img img;
	struct boot_entry e;
	char cmd[64];
	char *ipath;

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 7);
	ipath = tb_write_file(initrd, sizeof(initrd));
	elf_build(&img);
	ck_assert_int_eq(load_buf(img.b, img.len, "test=hello n=1", ipath, &e), 0);
	tb_unlink(ipath);

	ck_assert_int_eq(e.protocol, BOOT_PVH);
	ck_assert_uint_eq(e.rip, ENTRY_GPA);
	ck_assert_uint_eq(e.rbx, 0x1000);
	ck_assert(!e.long_mode);
	ck_assert_uint_eq(e.kernel_start, LOAD_GPA);
	ck_assert_uint_eq(e.kernel_end, LOAD_GPA + BSS_LEN);

	/* Segment bytes, then zero fill up to p_memsz, then untouched RAM. */
	ck_assert_int_eq(gmem_read(mem, LOAD_GPA, code, CODE_LEN), 0);
	ck_assert_mem_eq(code, img.b + CODE_OFF, CODE_LEN);
	for (uint64_t a = LOAD_GPA + CODE_LEN; a < LOAD_GPA + BSS_LEN; a++)
		ck_assert_uint_eq(*(uint8_t *)gmem_ptr(mem, a, 1), 0);
	ck_assert_uint_eq(*(uint8_t *)gmem_ptr(mem, LOAD_GPA + BSS_LEN, 1), 0xaa);

	/* hvm_start_info, offsets from start_info.h. */
	ck_assert_int_eq(gmem_read(mem, e.rbx, si, sizeof(si)), 0);
	ck_assert_uint_eq(tb_le32(si, 0), 0x336ec578);
	ck_assert_uint_eq(tb_le32(si, 4), 1);
	ck_assert_uint_eq(tb_le32(si, 8), 0);
	ck_assert_uint_eq(tb_le32(si, 12), 1);
	ck_assert_uint_eq(tb_le64(si, 32), 0xe0000);
	ck_assert_int_eq(gmem_read(mem, tb_le64(si, 24), cmd, sizeof(cmd)), 0);
	ck_assert_str_eq(cmd, "test=hello n=1");

	ck_assert_int_eq(gmem_read(mem, tb_le64(si, 16), mod, sizeof(mod)), 0);
	ck_assert_uint_eq(tb_le64(mod, 8), sizeof(initrd));
	ck_assert_uint_eq(tb_le64(mod, 0) % 4096, 0);
	ck_assert_uint_ge(tb_le64(mod, 0), e.kernel_end);
	ck_assert_uint_le(tb_le64(mod, 0) + sizeof(initrd), 64 * MiB);
	ck_assert_mem_eq(gmem_ptr(mem, tb_le64(mod, 0), sizeof(initrd)), initrd,
			 sizeof(initrd));
	ck_assert_uint_eq(e.initrd_gpa, tb_le64(mod, 0));

	ck_assert_uint_eq(tb_le32(si, 48), 7);
	ck_assert_int_eq(gmem_read(mem, tb_le64(si, 40), mm, sizeof(mm)), 0);
	for (int i = 0; i < 7; i++) {
		ck_assert_uint_eq(tb_le64(mm, 24 * i), mm_exp[i][0]);
		ck_assert_uint_eq(tb_le64(mm, 24 * i + 8), mm_exp[i][1]);
		ck_assert_uint_eq(tb_le32(mm, 24 * i + 16), mm_exp[i][2]);
		ck_assert_uint_eq(tb_le32(mm, 24 * i + 20), 0);
	}
	/* All boot data stays inside the boot data area. */
	ck_assert_uint_ge(tb_le64(si, 40), LAYOUT_BOOT_DATA_START);
	ck_assert_uint_le(tb_le64(si, 40) + 7 * 24, LAYOUT_BOOT_DATA_END);
}
END_TEST

START_TEST(pvh_no_initrd_no_cmdline)
{
	struct elf_img img;
	struct boot_entry e;
	uint8_t si[56];

	elf_build(&img);
	ck_assert_int_eq(load_buf(img.b, img.len, NULL, NULL, &e), 0);
	ck_assert_int_eq(gmem_read(mem, 0x1000, si, sizeof(si)), 0);
	ck_assert_uint_eq(tb_le32(si, 12), 0);
	ck_assert_uint_eq(tb_le64(si, 16), 0);
	ck_assert_uint_eq(*(uint8_t *)gmem_ptr(mem, tb_le64(si, 24), 1), 0);
	ck_assert_uint_eq(e.initrd_size, 0);
}
END_TEST

START_TEST(pvh_elf32_and_8byte_note)
{
	uint8_t b[1024] = { 0 };
	Elf32_Ehdr *eh = (Elf32_Ehdr *)b;
	Elf32_Phdr *ph = (Elf32_Phdr *)(b + 52);
	uint32_t *n = (uint32_t *)(b + 128);
	struct boot_entry e;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_386;
	eh->e_phoff = 52;
	eh->e_phentsize = sizeof(Elf32_Phdr);
	eh->e_phnum = 2;
	ph[0] = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = 512,
			      .p_paddr = 0x200000, .p_filesz = 512,
			      .p_memsz = 512 };
	ph[1] = (Elf32_Phdr){ .p_type = PT_NOTE, .p_offset = 128,
			      .p_filesz = 24, .p_align = 4 };
	n[0] = 4;
	n[1] = 8;   /* Linux emits _ASM_PTR: 8 bytes on x86-64 */
	n[2] = 18;
	memcpy(&n[3], "Xen", 4);
	n[4] = 0x200100;
	n[5] = 0;
	ck_assert_int_eq(load_buf(b, sizeof(b), NULL, NULL, &e), 0);
	ck_assert_uint_eq(e.rip, 0x200100);
}
END_TEST

START_TEST(pvh_hostile_headers)
{
	struct elf_img img;
	struct boot_entry e;

	/* Truncated header. */
	elf_build(&img);
	ck_assert_int_eq(load_buf(img.b, 40, NULL, NULL, &e), -EINVAL);
	/* Phdr table outside the file (truncated after the ehdr). */
	ck_assert_int_eq(load_buf(img.b, 100, NULL, NULL, &e), -EINVAL);
	elf_build(&img);
	img.eh->e_phoff = 0xffffffffffffff00ULL;
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	/* Absurd phnum (PN_XNUM) and a wrong entry size. */
	elf_build(&img);
	img.eh->e_phnum = 0xffff;
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.eh->e_phentsize = 32;
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	/* Not for x86. */
	elf_build(&img);
	img.eh->e_machine = EM_AARCH64;
	ck_assert_int_eq(load_elf(&img), -ENOEXEC);
	/* Neither ELF nor bzImage. */
	ck_assert_int_eq(load_buf("hello world, not a kernel", 25, NULL, NULL,
				  &e), -ENOEXEC);
	ck_assert_int_eq(load_buf("", 0, NULL, NULL, &e), -ENOEXEC);
}
END_TEST

START_TEST(pvh_hostile_notes)
{
	struct elf_img img;

	elf_build(&img);
	img.nhdr[2] = 17;             /* some other Xen note */
	ck_assert_int_eq(load_elf(&img), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "XEN_ELFNOTE_PHYS32_ENTRY"));
	elf_build(&img);
	img.note->p_type = PT_NULL;   /* no note segment at all */
	ck_assert_int_eq(load_elf(&img), -ENOEXEC);
	elf_build(&img);
	img.nhdr[0] = 0xffffffff;     /* namesz overflows when aligned */
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.nhdr[1] = 0xfffffff0;     /* descsz past the segment */
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.nhdr[1] = 2;              /* entry of an impossible size */
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.note->p_offset = 0xfffffffffffffff0ULL;
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.note->p_filesz = 1ULL << 40;
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	*(uint32_t *)(img.b + 192) = 0x500000; /* entry outside the image */
	ck_assert_int_eq(load_elf(&img), -EINVAL);
}
END_TEST

START_TEST(pvh_hostile_segments)
{
	struct elf_img img;

	elf_build(&img);
	img.load->p_filesz = BSS_LEN + 1;              /* filesz > memsz */
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "p_filesz > p_memsz"));
	elf_build(&img);
	img.load->p_offset = 4000;                     /* data beyond EOF */
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.load->p_offset = 0xffffffffffffff00ULL;
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.load->p_paddr = 0x1000;                    /* over boot data */
	*(uint32_t *)(img.b + 192) = 0x1010;
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.load->p_paddr = 0xe0000;                   /* over ACPI tables */
	*(uint32_t *)(img.b + 192) = 0xe0010;
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.load->p_paddr = 0xc0000000;                /* MMIO hole */
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.load->p_paddr = 0xfffffffffffff000ULL;     /* wraps */
	ck_assert_int_eq(load_elf(&img), -EINVAL);
	elf_build(&img);
	img.load->p_paddr = 128 * MiB;                 /* beyond 64 MiB RAM */
	*(uint32_t *)(img.b + 192) = 128 * MiB + 16;
	ck_assert_int_eq(load_elf(&img), -EFBIG);
	elf_build(&img);
	img.load->p_memsz = 1ULL << 40;                /* too big for RAM */
	ck_assert_int_eq(load_elf(&img), -EFBIG);
}
END_TEST

START_TEST(pvh_files_and_limits)
{
	struct boot_cfg cfg = { .kernel_path = "/nonexistent/kernel.elf" };
	struct elf_img img;
	struct boot_entry e;
	char *big, *path;
	int fd;

	ck_assert_int_eq(boot_load(mem, &cfg, &e, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/kernel.elf"));
	elf_build(&img);
	ck_assert_int_eq(load_buf(img.b, img.len, NULL, "/nonexistent/initrd",
				  &e), -ENOENT);
	big = malloc(8192);
	memset(big, 'x', 8191);
	big[8191] = '\0';
	ck_assert_int_eq(load_buf(img.b, img.len, big, NULL, &e), -E2BIG);
	free(big);
	/* A sparse 128 MiB initrd cannot fit in 64 MiB of RAM. */
	path = tb_write_file("", 0);
	fd = open(path, O_WRONLY);
	ck_assert_int_eq(ftruncate(fd, 128 * MiB), 0);
	close(fd);
	ck_assert_int_eq(load_buf(img.b, img.len, NULL, path, &e), -EFBIG);
	tb_unlink(path);
}
END_TEST

START_TEST(pvh_cpu_state)
{
	struct elf_img img;
	struct boot_entry e;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint8_t gdt[32];

	elf_build(&img);
	ck_assert_int_eq(load_buf(img.b, img.len, NULL, NULL, &e), 0);
	memset(&sregs, 0, sizeof(sregs));
	sregs.cr0 = 0x60000010;  /* reset value: CD, NW, ET */
	sregs.tr.type = 11;
	sregs.tr.present = 1;
	boot_cpu_state(&e, &regs, &sregs);
	ck_assert_uint_eq(regs.rip, ENTRY_GPA);
	ck_assert_uint_eq(regs.rbx, 0x1000);
	ck_assert_uint_eq(regs.rflags, 0x2);
	ck_assert_uint_eq(sregs.cs.base, 0);
	ck_assert_uint_eq(sregs.cs.limit, 0xffffffff);
	ck_assert_uint_eq(sregs.cs.selector, 0x10);
	ck_assert_uint_eq(sregs.cs.type, 0xb);
	ck_assert_uint_eq(sregs.cs.db, 1);
	ck_assert_uint_eq(sregs.cs.l, 0);
	ck_assert_uint_eq(sregs.cs.s, 1);
	ck_assert_uint_eq(sregs.cs.g, 1);
	ck_assert_uint_eq(sregs.cs.present, 1);
	ck_assert_uint_eq(sregs.cs.dpl, 0);
	ck_assert_uint_eq(sregs.ds.selector, 0x18);
	ck_assert_uint_eq(sregs.ds.type, 0x3);
	ck_assert_uint_eq(sregs.ds.db, 1);
	ck_assert_uint_eq(sregs.ss.type, 0x3);
	ck_assert_uint_eq(sregs.es.limit, 0xffffffff);
	ck_assert_uint_eq(sregs.cr0 & 1, 1);             /* PE */
	ck_assert_uint_eq(sregs.cr0 & (1ULL << 31), 0);  /* PG off */
	ck_assert_uint_eq(sregs.cr0 & (3ULL << 29), 0);  /* caches on */
	ck_assert_uint_eq(sregs.cr4, 0);
	ck_assert_uint_eq(sregs.efer, 0);
	ck_assert_uint_eq(sregs.tr.type, 11);            /* untouched */
	/* GDT in RAM: flat 32-bit code at 0x10, data at 0x18 (SDM §3.4.5). */
	ck_assert_uint_eq(sregs.gdt.limit, 31);
	ck_assert_int_eq(gmem_read(mem, sregs.gdt.base, gdt, 32), 0);
	ck_assert_uint_eq(tb_le64(gdt, 0x10), 0x00cf9b000000ffffULL);
	ck_assert_uint_eq(tb_le64(gdt, 0x18), 0x00cf93000000ffffULL);
}
END_TEST

static Suite *pvh_suite(void)
{
	Suite *s = suite_create("pvh");
	TCase *t = tcase_create("pvh");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, pvh_loads_and_fills_start_info);
	tcase_add_test(t, pvh_no_initrd_no_cmdline);
	tcase_add_test(t, pvh_elf32_and_8byte_note);
	tcase_add_test(t, pvh_hostile_headers);
	tcase_add_test(t, pvh_hostile_notes);
	tcase_add_test(t, pvh_hostile_segments);
	tcase_add_test(t, pvh_files_and_limits);
	tcase_add_test(t, pvh_cpu_state);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pvh_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
