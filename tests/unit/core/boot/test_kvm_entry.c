// SPDX-License-Identifier: MIT
/*
 * Integration check of boot_load() + boot_cpu_state() against real KVM:
 * build ACPI, load a tiny PVH ELF and a tiny bzImage, apply the register
 * state exactly as the vCPU code does (KVM_GET_SREGS, boot_cpu_state,
 * KVM_SET_SREGS/REGS) and run. Each guest checks its boot structure
 * (start_info magic through EBX; "HdrS" in boot_params through RSI, which
 * also exercises the identity page tables) and writes 0x42 (ok) or 0x13 to
 * port 0xf4. A third run restarts through the BIOS the way Linux's
 * machine_real_restart() does (real mode, F000:FFF0) and must reach the
 * i8042 reset (0xfe to port 0x64) through boot_load()'s reset stub.
 * Exits 77 without /dev/kvm.
 */
#include <check.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "core/boot/acpi.h"
#include "core/boot/boot.h"
#include "boot_test_util.h"

/* cmp dword [ebx], 0x336ec578; jne fail; mov al, 0x42; out 0xf4, al; hlt;
 * fail: mov al, 0x13; out 0xf4, al; hlt */
static const uint8_t pvh_code[] = {
	0x81, 0x3b, 0x78, 0xc5, 0x6e, 0x33, 0x75, 0x05, 0xb0, 0x42, 0xe6, 0xf4,
	0xf4, 0xb0, 0x13, 0xe6, 0xf4, 0xf4,
};
/* cmp dword [rsi + 0x202], "HdrS"; jne fail; ... (64-bit) */
static const uint8_t linux_code[] = {
	0x81, 0xbe, 0x02, 0x02, 0x00, 0x00, 'H', 'd', 'r', 'S', 0x75, 0x05,
	0xb0, 0x42, 0xe6, 0xf4, 0xf4, 0xb0, 0x13, 0xe6, 0xf4, 0xf4,
};

static size_t make_pvh(uint8_t *b)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	Elf64_Phdr *ph = (Elf64_Phdr *)(b + 64);
	uint32_t *n = (uint32_t *)(b + 176);

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = 64;
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x200,
			      .p_paddr = 0x100000, .p_filesz = sizeof(pvh_code),
			      .p_memsz = 0x1000 };
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 176,
			      .p_filesz = 20, .p_align = 4 };
	n[0] = 4;
	n[1] = 4;
	n[2] = 18;
	memcpy(&n[3], "Xen", 4);
	n[4] = 0x100000;
	memcpy(b + 0x200, pvh_code, sizeof(pvh_code));
	return 0x200 + sizeof(pvh_code);
}

static size_t make_bzimage(uint8_t *b)
{
	const size_t setup = 5 * 512, klen = 0x1000;

	b[0x1f1] = 4;
	*(uint32_t *)(b + 0x1f4) = klen / 16;
	*(uint16_t *)(b + 0x1fe) = 0xaa55;
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;
	memcpy(b + 0x202, "HdrS", 4);
	*(uint16_t *)(b + 0x206) = 0x020f;
	b[0x211] = 1;
	*(uint32_t *)(b + 0x22c) = 0x7fffffff;
	b[0x234] = 1;
	*(uint16_t *)(b + 0x236) = 1;
	*(uint32_t *)(b + 0x238) = 255;
	*(uint64_t *)(b + 0x258) = 0x1000000;
	*(uint32_t *)(b + 0x260) = 0x10000;
	memcpy(b + setup + 0x200, linux_code, sizeof(linux_code));
	return setup + klen;
}

/*
 * Load img with boot_load() and run it from its boot entry, or with
 * bios_reset from F000:FFF0 in real mode. Returns the byte the guest wrote
 * to port 0xf4, or with bios_reset the byte written to port 0x64; -1 for any
 * other exit.
 */
static int run_guest(const uint8_t *img, size_t len, bool bios_reset)
{
	struct { struct kvm_cpuid2 c; struct kvm_cpuid_entry2 e[128]; } cpuid;
	struct gmem *mem = tb_gmem(64ULL << 20);
	char *path = tb_write_file(img, len);
	struct boot_cfg cfg = { .kernel_path = path, .cmdline = "test" };
	struct acpi_cfg ac;
	struct boot_entry e;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_run *run;
	char err[256];
	int kvm, vm, vcpu, result = -1;

	acpi_cfg_default(&ac, 1, gmem_end(mem));
	ck_assert_int_eq(acpi_build(mem, &ac, &cfg.rsdp_gpa), 0);
	ck_assert_msg(boot_load(mem, &cfg, &e, err, sizeof(err)) == 0, "%s", err);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(kvm, 0);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ck_assert_int_ge(vm, 0);
	ck_assert_int_eq(ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000), 0);
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i, .guest_phys_addr = mem->regions[i].gpa,
			.memory_size = mem->regions[i].size,
			.userspace_addr = (uintptr_t)mem->regions[i].hva,
		};

		ck_assert_int_eq(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r), 0);
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	ck_assert_int_ge(vcpu, 0);
	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.c.nent = 128;
	ck_assert_int_eq(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid), 0);
	ck_assert_int_eq(ioctl(vcpu, KVM_SET_CPUID2, &cpuid), 0);
	run = mmap(NULL, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0),
		   PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ck_assert_ptr_ne(run, MAP_FAILED);
	ck_assert_int_eq(ioctl(vcpu, KVM_GET_SREGS, &sregs), 0);
	boot_cpu_state(&e, &regs, &sregs);
	if (bios_reset) {
		/* KVM's reset state is real mode; only CS differs from the
		 * far jump's result (base 0xffff0000 at reset). */
		ck_assert_int_eq(ioctl(vcpu, KVM_GET_SREGS, &sregs), 0);
		sregs.cs.selector = 0xf000;
		sregs.cs.base = 0xf0000;
		memset(&regs, 0, sizeof(regs));
		regs.rflags = 0x2;
		regs.rip = 0xfff0;
	}
	ck_assert_int_eq(ioctl(vcpu, KVM_SET_SREGS, &sregs), 0);
	ck_assert_int_eq(ioctl(vcpu, KVM_SET_REGS, &regs), 0);
	ck_assert_int_eq(ioctl(vcpu, KVM_RUN, 0), 0);
	if (run->exit_reason == KVM_EXIT_IO &&
	    run->io.direction == KVM_EXIT_IO_OUT &&
	    run->io.port == (bios_reset ? 0x64 : 0xf4))
		result = *((uint8_t *)run + run->io.data_offset);
	else
		fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
	close(vcpu);
	close(vm);
	close(kvm);
	tb_unlink(path);
	gmem_destroy(mem);
	return result;
}

START_TEST(kvm_pvh_entry)
{
	uint8_t *b = calloc(1, 8192);

	ck_assert_int_eq(run_guest(b, make_pvh(b), false), 0x42);
	free(b);
}
END_TEST

START_TEST(kvm_linux64_entry)
{
	uint8_t *b = calloc(1, 8192);

	ck_assert_int_eq(run_guest(b, make_bzimage(b), false), 0x42);
	free(b);
}
END_TEST

/* Linux's BIOS restart (see boot_reset_stub in core/boot/boot.c). */
START_TEST(kvm_bios_reset_stub)
{
	uint8_t *b = calloc(1, 8192);

	ck_assert_int_eq(run_guest(b, make_bzimage(b), true), 0xfe);
	free(b);
}
END_TEST

int main(void)
{
	SRunner *sr;
	Suite *s;
	TCase *t;
	int failed;

	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("SKIP: /dev/kvm is not available\n");
		return 77;
	}
	s = suite_create("kvm_entry");
	t = tcase_create("kvm_entry");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, kvm_pvh_entry);
	tcase_add_test(t, kvm_linux64_entry);
	tcase_add_test(t, kvm_bios_reset_stub);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
