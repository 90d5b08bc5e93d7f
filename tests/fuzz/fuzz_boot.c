// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the kernel loaders (core/boot: boot.c, pvh.c,
 * bzimage.c): the kernel file, the initrd and the command line are the
 * user's, so any bytes: ELF headers, program headers and PVH notes (PVH
 * entry), or a bzImage setup header (64-bit boot protocol), loaded into a
 * 16 MiB guest RAM through boot_load() as `iovmm run --kernel` does.
 *
 * Input: a flags byte (bit 0 an initrd, bit 1 a command line, bit 2 an
 * RSDP address), le16 command-line length and its bytes, le16 initrd
 * length and its bytes, then the kernel file. The files are memfds named
 * through /proc/self/fd, so the loader opens, stats and preads them as it
 * does real files.
 * On success: the kernel, the initrd and the boot information structure
 * lie inside RAM, and the vCPU state derived from the entry is built.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/boot/boot.h"
#include "fz.h"

#define FUZZ_RAM (16ull << 20)

static int file_fd(unsigned i, const uint8_t *p, size_t n, char path[64])
{
	static int fd[2] = { -1, -1 };

	if (fd[i] < 0)
		fd[i] = memfd_create("fuzz-boot", MFD_CLOEXEC);
	if (fd[i] < 0 || ftruncate(fd[i], 0) ||
	    (n && pwrite(fd[i], p, n, 0) != (ssize_t)n))
		return -1;
	snprintf(path, 64, "/proc/self/fd/%d", fd[i]);
	return 0;
}

static void check_entry(struct gmem *mem, const struct boot_entry *e)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	CHECK(e->kernel_end > e->kernel_start);
	CHECK(gmem_is_ram(mem, e->kernel_start, e->kernel_end - e->kernel_start));
	if (e->initrd_size)
		CHECK(gmem_is_ram(mem, e->initrd_gpa, e->initrd_size));
	CHECK(gmem_is_ram(mem, e->boot_info_gpa, 1));
	boot_cpu_state(e, &regs, &sregs);
	CHECK(regs.rip == e->rip);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gmem *mem;
	struct gmem_opts o = { .size = FUZZ_RAM,
			       .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	char kernel[64], initrd[64], cmdline[1024], err[256];
	struct fz_in in = { data, size };
	struct boot_cfg cfg = { .kernel_path = kernel };
	struct boot_entry e;
	uint8_t flags = fz_u8(&in);
	uint16_t n;

	if (!mem && gmem_create(&o, &mem))
		return 0;
	n = fz_u16(&in);
	if (n >= sizeof(cmdline) || !fz_take(&in, cmdline, n))
		return 0;
	cmdline[n] = 0;
	if (flags & 2)
		cfg.cmdline = cmdline;
	n = fz_u16(&in);
	if (in.n < n || file_fd(1, in.p, n, initrd))
		return 0;
	in.p += n;
	in.n -= n;
	if (flags & 1)
		cfg.initrd_path = initrd;
	if (flags & 4)
		cfg.rsdp_gpa = 0xe0000;
	if (file_fd(0, in.p, in.n, kernel))
		return 0;
	if (boot_load(mem, &cfg, &e, err, sizeof(err)) == 0)
		check_entry(mem, &e);
	else
		CHECK(err[0]); /* a failure always says why */
	return 0;
}
