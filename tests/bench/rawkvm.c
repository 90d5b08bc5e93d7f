/* SPDX-License-Identifier: MIT */
/*
 * rawkvm: the raw KVM exit-cost floor.
 *
 * One VM per test: one RAM memslot, one vCPU put in long mode with
 * KVM_SET_SREGS, and a loop on KVM_RUN that does nothing but re-enter. The
 * guest (rawkvm-guest.S) loads its own GDT/IDT/TSS, enters CPL3 itself with
 * iretq where the test runs at CPL3, and times its loop with rdtsc exactly as
 * the guest kit does. The host also times the same span with CLOCK_MONOTONIC
 * (from the guest's "mark" exit to its "done" exit), so both are reported.
 *
 * Deliberately independent of libiovmm: this is what any userspace VMM's exit
 * handling is compared against.
 *
 * Usage: rawkvm [--count N] [--timeout SEC] [mmio|ioeventfd|pio ...]
 * Exit status: 0 all passed, 1 a test failed, 2 usage error, 77 no /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "rawkvm-layout.h"

/* Guest blob boundaries, from rawkvm-guest.S. */
extern const uint8_t rawkvm_guest_start[];
extern const uint8_t rawkvm_guest_stubs[];
extern const uint8_t rawkvm_guest_end[];

#define RK_DEFAULT_COUNT 10000ULL

struct rk_test {
	const char *name;
	int mode;		/* RK_MODE_* passed to the guest in %rdi */
	int ioeventfd;		/* attach a KVM ioeventfd to the bench address */
};

static const struct rk_test rk_tests[] = {
	{ .name = "mmio", .mode = RK_MODE_MMIO_CPL3, .ioeventfd = 0 },
	{ .name = "ioeventfd", .mode = RK_MODE_MMIO_CPL3, .ioeventfd = 1 },
	{ .name = "pio", .mode = RK_MODE_PIO_CPL0, .ioeventfd = 0 },
};

struct rk_vm {
	int vm_fd;
	int vcpu_fd;
	int event_fd;
	int ioeventfd_len;	/* length registered with KVM_IOEVENTFD */
	uint8_t *ram;
	struct kvm_run *run;
	size_t run_size;
};

struct rk_result {
	uint64_t exits;		/* userspace exits on the bench address */
	uint64_t events;	/* eventfd counter (ioeventfd test) */
	uint64_t tsc0, tsc1;	/* guest rdtsc around its loop */
	struct timespec mark, done;
	long tsc_khz;
	char why[128];		/* failure reason, empty on success */
};

/* Watchdog: a guest must never hang the benchmark. */
static volatile sig_atomic_t rk_timed_out;
static struct kvm_run *volatile rk_cur_run;

static void rk_alarm(int sig)
{
	(void)sig;
	rk_timed_out = 1;
	/* Closes the window between checking the flag and entering KVM_RUN. */
	if (rk_cur_run)
		rk_cur_run->immediate_exit = 1;
}

static void rk_build_page_tables(uint8_t *ram)
{
	uint64_t *pml4 = (uint64_t *)(ram + RK_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(ram + RK_PDPT_GPA);
	uint64_t *pd = (uint64_t *)(ram + RK_PD_GPA);
	/* Present | writable | user: CPL3 reaches RAM and the MMIO GPAs. */
	const uint64_t flags = 0x7, large = 0x80;

	pml4[0] = RK_PDPT_GPA | flags;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (RK_PD_GPA + i * 0x1000) | flags;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | flags | large;
}

static uint64_t rk_seg_desc(uint64_t access, uint64_t flags)
{
	/* Flat segment: base 0, limit 0xfffff pages (SDM vol. 3A 3.4.5). */
	return 0xffffULL | (access << 40) | (0xfULL << 48) | (flags << 52);
}

static void rk_write_pseudo_desc(uint8_t *p, uint16_t limit, uint64_t base)
{
	memcpy(p, &limit, 2);
	memcpy(p + 2, &base, 8);
}

/* GDT, TSS and IDT contents; the guest loads them itself. */
static void rk_build_tables(uint8_t *ram)
{
	uint64_t *gdt = (uint64_t *)(ram + RK_GDT_GPA);
	uint64_t *idt = (uint64_t *)(ram + RK_IDT_GPA);
	uint8_t *tss = ram + RK_TSS_GPA;
	uint64_t stubs = RK_CODE_GPA +
			 (uint64_t)(rawkvm_guest_stubs - rawkvm_guest_start);
	uint64_t rsp0 = RK_KSTACK_TOP;
	uint16_t iomap = 104;	/* past the limit: no I/O bitmap */

	gdt[0] = 0;
	gdt[RK_SEL_KCODE / 8] = rk_seg_desc(0x9b, 0xa);	/* P, DPL0, code; L */
	gdt[RK_SEL_KDATA / 8] = rk_seg_desc(0x93, 0xc);	/* P, DPL0, data; D, G */
	gdt[RK_SEL_UDATA / 8] = rk_seg_desc(0xf3, 0xc);	/* P, DPL3, data */
	gdt[RK_SEL_UCODE / 8] = rk_seg_desc(0xfb, 0xa);	/* P, DPL3, code; L */
	/* 64-bit available TSS descriptor, 16 bytes (SDM vol. 3A 8.2.3). */
	gdt[RK_SEL_TSS / 8] = 103 | ((uint64_t)RK_TSS_GPA << 16) |
			      (0x89ULL << 40);
	gdt[RK_SEL_TSS / 8 + 1] = 0;

	/* TSS: RSP0 at offset 4, I/O map base at offset 102. */
	memset(tss, 0, 104);
	memcpy(tss + 4, &rsp0, 8);
	memcpy(tss + 102, &iomap, 2);

	/* Interrupt gates, DPL0, selector KCODE (SDM vol. 3A 6.14.1). */
	for (uint64_t v = 0; v < RK_IDT_VECTORS; v++) {
		uint64_t off = stubs + v * RK_STUB_SIZE;

		idt[2 * v] = (off & 0xffff) | ((uint64_t)RK_SEL_KCODE << 16) |
			     (0x8eULL << 40) | ((off >> 16 & 0xffff) << 48);
		idt[2 * v + 1] = off >> 32;
	}

	rk_write_pseudo_desc(ram + RK_GDTR_GPA, RK_GDT_ENTRIES * 8 - 1,
			     RK_GDT_GPA);
	rk_write_pseudo_desc(ram + RK_IDTR_GPA, RK_IDT_VECTORS * 16 - 1,
			     RK_IDT_GPA);
}

static void rk_seg(struct kvm_segment *s, uint16_t sel, int code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = code ? 11 : 3;	/* execute/read accessed : read/write accessed */
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

/* Long mode at CPL0, paging on; RIP at the blob, mode/count in rdi/rsi. */
static int rk_setup_vcpu(struct rk_vm *vm, int mode, uint64_t count)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	rk_seg(&sregs.cs, RK_SEL_KCODE, 1);
	rk_seg(&sregs.ds, RK_SEL_KDATA, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = RK_GDT_GPA;
	sregs.gdt.limit = RK_GDT_ENTRIES * 8 - 1;
	sregs.cr3 = RK_PML4_GPA;
	sregs.cr4 = 1u << 5;				/* PAE */
	sregs.cr0 = 0x80050033;				/* PG WP NE ET MP PE */
	sregs.efer = (1u << 8) | (1u << 10);		/* LME LMA */
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = RK_CODE_GPA;
	regs.rsp = RK_KSTACK_TOP;
	regs.rdi = (uint64_t)mode;
	regs.rsi = count;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static void rk_vm_destroy(struct rk_vm *vm)
{
	if (vm->run && vm->run != MAP_FAILED)
		munmap(vm->run, vm->run_size);
	if (vm->ram && vm->ram != MAP_FAILED)
		munmap(vm->ram, RK_RAM_SIZE);
	if (vm->event_fd >= 0)
		close(vm->event_fd);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = vm->vcpu_fd = vm->event_fd = -1;
}

/*
 * Wildcard MMIO ioeventfd on the bench address. len 0 matches any access
 * length (KVM_CAP_IOEVENTFD_ANY_LENGTH) and lets KVM take its fast MMIO path;
 * otherwise match the guest's 4-byte store.
 */
static int rk_attach_ioeventfd(int kvm_fd, struct rk_vm *vm)
{
	struct kvm_ioeventfd ioev = { 0 };

	vm->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vm->event_fd < 0)
		return -errno;
	vm->ioeventfd_len =
		ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0 ? 0 : 4;
	ioev.addr = RK_MMIO_BENCH_GPA;
	ioev.len = (uint32_t)vm->ioeventfd_len;
	ioev.fd = vm->event_fd;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &ioev) < 0)
		return -errno;
	return 0;
}

static int rk_vm_create(int kvm_fd, const struct rk_test *t, struct rk_vm *vm)
{
	size_t blob = (size_t)(rawkvm_guest_end - rawkvm_guest_start);
	struct kvm_userspace_memory_region region = { 0 };
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = vm->vcpu_fd = vm->event_fd = -1;
	if (blob > RK_KSTACK_TOP - RK_CODE_GPA - 0x1000)
		return -E2BIG;

	vm->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return -errno;
	/* Intel needs a TSS area below 4 GiB for its real-mode emulation. */
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);

	vm->ram = mmap(NULL, RK_RAM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED)
		goto fail_errno;
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = RK_RAM_SIZE;
	region.userspace_addr = (uint64_t)(uintptr_t)vm->ram;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		goto fail_errno;

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		goto fail_errno;
	ret = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < 0)
		goto fail_errno;
	vm->run_size = (size_t)ret;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED)
		goto fail_errno;

	rk_build_page_tables(vm->ram);
	rk_build_tables(vm->ram);
	memcpy(vm->ram + RK_CODE_GPA, rawkvm_guest_start, blob);

	if (t->ioeventfd) {
		ret = rk_attach_ioeventfd(kvm_fd, vm);
		if (ret < 0)
			goto fail;
	}
	return 0;

fail_errno:
	ret = -errno;
fail:
	rk_vm_destroy(vm);
	return ret;
}

/* Records "done": guest TSC values are in r8/r9 (see rawkvm-guest.S). */
static int rk_done(struct rk_vm *vm, struct rk_result *res)
{
	struct kvm_regs regs;

	clock_gettime(CLOCK_MONOTONIC, &res->done);
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	res->tsc0 = regs.r8;
	res->tsc1 = regs.r9;
	return 1;
}

/* Handles one non-bench exit: 0 re-enter, 1 finished, -errno failure. */
static int rk_slow_exit(struct rk_vm *vm, struct rk_result *res)
{
	struct kvm_run *run = vm->run;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		if (run->mmio.phys_addr == RK_MMIO_MARK_GPA) {
			clock_gettime(CLOCK_MONOTONIC, &res->mark);
			return 0;
		}
		if (run->mmio.phys_addr == RK_MMIO_DONE_GPA)
			return rk_done(vm, res);
		snprintf(res->why, sizeof(res->why), "mmio_0x%llx",
			 (unsigned long long)run->mmio.phys_addr);
		return -EPROTO;
	case KVM_EXIT_IO:
		if (run->io.port == RK_PORT_MARK) {
			clock_gettime(CLOCK_MONOTONIC, &res->mark);
			return 0;
		}
		if (run->io.port == RK_PORT_DONE)
			return rk_done(vm, res);
		if (run->io.port == RK_PORT_FAULT)
			snprintf(res->why, sizeof(res->why), "guest_exception_%u",
				 *((uint8_t *)run + run->io.data_offset));
		else
			snprintf(res->why, sizeof(res->why), "port_0x%x",
				 run->io.port);
		return -EPROTO;
	default:
		snprintf(res->why, sizeof(res->why), "exit_reason_%u",
			 run->exit_reason);
		return -EPROTO;
	}
}

/*
 * The floor itself: re-enter as fast as possible. The bench exit is checked
 * first and does nothing but count.
 */
static int rk_loop(struct rk_vm *vm, struct rk_result *res)
{
	struct kvm_run *run = vm->run;
	int ret;

	for (;;) {
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR && !rk_timed_out)
				continue;
			if (rk_timed_out) {
				snprintf(res->why, sizeof(res->why), "timeout");
				return -ETIMEDOUT;
			}
			snprintf(res->why, sizeof(res->why), "KVM_RUN_%s",
				 strerror(errno));
			return -errno;
		}
		if ((run->exit_reason == KVM_EXIT_MMIO &&
		     run->mmio.phys_addr == RK_MMIO_BENCH_GPA) ||
		    (run->exit_reason == KVM_EXIT_IO &&
		     run->io.port == RK_PORT_BENCH)) {
			res->exits++;
			continue;
		}
		ret = rk_slow_exit(vm, res);
		if (ret != 0)
			return ret < 0 ? ret : 0;
	}
}

static int rk_check(const struct rk_test *t, const struct rk_vm *vm,
		    uint64_t count, struct rk_result *res)
{
	uint64_t ev = 0;

	if (t->ioeventfd) {
		if (read(vm->event_fd, &ev, sizeof(ev)) != sizeof(ev) &&
		    errno != EAGAIN)
			return -errno;
		res->events = ev;
		if (ev != count || res->exits != 0) {
			snprintf(res->why, sizeof(res->why),
				 "events_%" PRIu64 "_exits_%" PRIu64, ev,
				 res->exits);
			return -EPROTO;
		}
	} else if (res->exits != count) {
		snprintf(res->why, sizeof(res->why), "exits_%" PRIu64,
			 res->exits);
		return -EPROTO;
	}
	if (res->tsc1 <= res->tsc0) {
		snprintf(res->why, sizeof(res->why), "tsc_not_monotonic");
		return -EPROTO;
	}
	return 0;
}

static int rk_run_test(int kvm_fd, const struct rk_test *t, uint64_t count,
		       unsigned int timeout, struct rk_result *res)
{
	struct rk_vm vm;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = rk_vm_create(kvm_fd, t, &vm);
	if (ret < 0) {
		snprintf(res->why, sizeof(res->why), "setup_%s", strerror(-ret));
		return ret;
	}
	ret = rk_setup_vcpu(&vm, t->mode, count);
	if (ret < 0) {
		snprintf(res->why, sizeof(res->why), "vcpu_%s", strerror(-ret));
		goto out;
	}
	/* The guest runs at the vCPU's TSC rate, which KVM reports in kHz. */
	res->tsc_khz = ioctl(vm.vcpu_fd, KVM_GET_TSC_KHZ, 0);

	rk_timed_out = 0;
	rk_cur_run = vm.run;
	alarm(timeout);
	ret = rk_loop(&vm, res);
	alarm(0);
	rk_cur_run = NULL;
	if (ret == 0)
		ret = rk_check(t, &vm, count, res);
out:
	rk_vm_destroy(&vm);
	return ret;
}

static void rk_report(const struct rk_test *t, uint64_t count, int ret,
		      const struct rk_result *res)
{
	double host_ns, guest_ns = -1;

	if (ret < 0) {
		printf("RESULT test=%s status=fail count=%" PRIu64 " reason=%s\n",
		       t->name, count, res->why[0] ? res->why : strerror(-ret));
		return;
	}
	host_ns = ((double)(res->done.tv_sec - res->mark.tv_sec) * 1e9 +
		   (double)(res->done.tv_nsec - res->mark.tv_nsec)) / (double)count;
	if (res->tsc_khz > 0)
		guest_ns = (double)(res->tsc1 - res->tsc0) * 1e6 /
			   (double)res->tsc_khz / (double)count;
	printf("RESULT test=%s status=pass count=%" PRIu64
	       " ns_per_op=%.1f host_ns_per_op=%.1f tsc_khz=%ld"
	       " exits=%" PRIu64 " events=%" PRIu64 "\n",
	       t->name, count, guest_ns > 0 ? guest_ns : host_ns, host_ns,
	       res->tsc_khz, res->exits, res->events);
}

static const struct rk_test *rk_find(const char *name)
{
	for (size_t i = 0; i < sizeof(rk_tests) / sizeof(rk_tests[0]); i++)
		if (strcmp(rk_tests[i].name, name) == 0)
			return &rk_tests[i];
	return NULL;
}

static void rk_usage(FILE *f)
{
	fprintf(f, "usage: rawkvm [--count N] [--timeout SEC] [mmio|ioeventfd|pio ...]\n"
		   "  mmio       userspace MMIO exit from guest CPL3\n"
		   "  ioeventfd  MMIO write absorbed by a KVM ioeventfd, from CPL3\n"
		   "  pio        userspace PIO exit from guest CPL0 (emulated here)\n"
		   "Prints one 'RESULT test=... status=... ns_per_op=...' line per test;\n"
		   "ns_per_op is guest rdtsc time, host_ns_per_op is CLOCK_MONOTONIC.\n");
}

static int rk_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const struct rk_test *sel[16];
	struct sigaction sa = { .sa_handler = rk_alarm };
	uint64_t count = RK_DEFAULT_COUNT, timeout = 0;
	size_t nsel = 0;
	int kvm_fd, opt, failed = 0;

	while ((opt = getopt_long(argc, argv, "c:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (rk_parse_u64(optarg, &count) || count == 0 ||
			    count > (1ULL << 40)) {
				fprintf(stderr, "rawkvm: bad --count '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			if (rk_parse_u64(optarg, &timeout) || timeout == 0 ||
			    timeout > 86400) {
				fprintf(stderr, "rawkvm: bad --timeout '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			rk_usage(stdout);
			return 0;
		default:
			rk_usage(stderr);
			return 2;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (nsel == sizeof(sel) / sizeof(sel[0]) || !(sel[nsel] = rk_find(argv[i]))) {
			fprintf(stderr, "rawkvm: unknown or too many tests at '%s'\n", argv[i]);
			rk_usage(stderr);
			return 2;
		}
		nsel++;
	}
	if (nsel == 0)
		for (; nsel < sizeof(rk_tests) / sizeof(rk_tests[0]); nsel++)
			sel[nsel] = &rk_tests[nsel];
	/* Generous: 1 ms per iteration on top of 30 s (CPL0 is emulated here). */
	if (timeout == 0)
		timeout = 30 + count / 1000;
	if (timeout > 86400)
		timeout = 86400;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		fprintf(stderr, "rawkvm: SKIP: cannot open /dev/kvm: %s\n",
			strerror(errno));
		return 77;
	}
	/* No SA_RESTART: the alarm must interrupt KVM_RUN. */
	sigaction(SIGALRM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (size_t i = 0; i < nsel; i++) {
		struct rk_result res;
		int ret = rk_run_test(kvm_fd, sel[i], count, (unsigned int)timeout,
				      &res);

		rk_report(sel[i], count, ret, &res);
		failed |= ret < 0;
	}
	close(kvm_fd);
	return failed ? 1 : 0;
}
