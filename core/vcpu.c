// SPDX-License-Identifier: MIT
/*
 * The vCPU thread and its exit loop.
 *
 * Stopping: vm_request_stop() sets vm->stopping and kicks every vCPU. A kick
 * sets kvm_run->immediate_exit (so a vCPU about to enter KVM_RUN returns at
 * once) and sends SIGUSR1 (so one already inside returns -EINTR). The signal
 * handler does nothing; it exists so the signal interrupts the ioctl.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/bus_reader.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/util.h"
#include "core/sandbox.h"
#include "core/vcpu.h"
#include "core/vm_internal.h"

#define VCPU_KICK_SIGNAL SIGUSR1

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run; /* shared with KVM; vcpu_mmap_size bytes */
	pthread_t thread;
	bool started;
	char name[16];
	_Atomic uint64_t exits; /* userspace PIO + MMIO exits */
	struct vcpu_state *reset_state; /* as KVM created it; for vcpu_reset() */
};

/* What a vCPU reset restores (KVM has no reset ioctl; this is INIT state). */
struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
};

static const struct {
	unsigned long get, set;
	size_t off;
} vcpu_state_ioctls[] = {
	{ KVM_GET_REGS, KVM_SET_REGS, offsetof(struct vcpu_state, regs) },
	{ KVM_GET_SREGS, KVM_SET_SREGS, offsetof(struct vcpu_state, sregs) },
	{ KVM_GET_FPU, KVM_SET_FPU, offsetof(struct vcpu_state, fpu) },
	{ KVM_GET_LAPIC, KVM_SET_LAPIC, offsetof(struct vcpu_state, lapic) },
	{ KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS,
	  offsetof(struct vcpu_state, events) },
	{ KVM_GET_MP_STATE, KVM_SET_MP_STATE, offsetof(struct vcpu_state, mp) },
};

static int vcpu_state_xfer(int fd, struct vcpu_state *st, bool set)
{
	for (size_t i = 0; i < ARRAY_SIZE(vcpu_state_ioctls); i++) {
		unsigned long req = set ? vcpu_state_ioctls[i].set :
					  vcpu_state_ioctls[i].get;

		if (ioctl(fd, req, (char *)st + vcpu_state_ioctls[i].off) < 0)
			return -errno;
	}
	return 0;
}

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

int vcpu_init_signals(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };

	/* No SA_RESTART: KVM_RUN must return -EINTR. */
	sigemptyset(&sa.sa_mask);
	return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

int vcpu_create(struct vm *vm, unsigned id, struct vcpu **out)
{
	struct vcpu *vcpu = calloc(1, sizeof(*vcpu));
	int ret;

	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	snprintf(vcpu->name, sizeof(vcpu->name), "vcpu%u", id);
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	vcpu->run = mmap(NULL, (size_t)vm->vcpu_mmap_size,
			 PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		vcpu->run = NULL;
		goto err_close;
	}
	vcpu->reset_state = calloc(1, sizeof(*vcpu->reset_state));
	if (!vcpu->reset_state) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	ret = vcpu_state_xfer(vcpu->fd, vcpu->reset_state, false);
	if (ret)
		goto err_unmap;
	*out = vcpu;
	return 0;

err_unmap:
	free(vcpu->reset_state);
	munmap(vcpu->run, (size_t)vm->vcpu_mmap_size);
err_close:
	close(vcpu->fd);
err_free:
	free(vcpu);
	return ret;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (!vcpu)
		return;
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu->reset_state);
	free(vcpu);
}

int vcpu_reset(struct vcpu *vcpu, const struct boot_entry *entry)
{
	int ret = vcpu_state_xfer(vcpu->fd, vcpu->reset_state, true);

	if (!ret)
		ret = cpu_reset_msrs(vcpu->fd);
	if (!ret && entry)
		ret = vcpu_set_boot_state(vcpu, entry);
	return ret;
}

int vcpu_set_boot_state(struct vcpu *vcpu, const struct boot_entry *entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	boot_cpu_state(entry, &regs, &sregs);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* Print the state a developer needs to debug a guest that died. */
static void vcpu_dump(struct vcpu *vcpu, const char *why)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	log_err(vcpu->name, "%s", why);
	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		log_err(vcpu->name, "cannot read registers: %m");
		return;
	}
	fprintf(stderr,
		" rip=%016llx rsp=%016llx rflags=%016llx\n"
		" rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		" rsi=%016llx rdi=%016llx rbp=%016llx\n"
		" r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		" r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
		" cs=%04x(dpl%u l%u db%u) ss=%04x ds=%04x\n"
		" cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx\n"
		" gdt=%016llx/%04x idt=%016llx/%04x\n",
		r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi,
		r.rdi, r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14,
		r.r15, s.cs.selector, s.cs.dpl, s.cs.l, s.cs.db, s.ss.selector,
		s.ds.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.gdt.base,
		s.gdt.limit, s.idt.base, s.idt.limit);
}

/*
 * The exit path. What runs per PIO/MMIO exit is kept to what KVM needs
 * (docs/benchmarks.md, "instructions per exit"): no lock (the bus is
 * searched lock-free through this thread's reader and the handler is called
 * from this loop), no syscall but KVM_RUN, no atomic read-modify-write (the
 * exit counter has one writer, this thread), rare exits out of line.
 */
static inline void vcpu_count_exit(struct vcpu *vcpu)
{
	/* Only this thread writes; vcpu_exit_count() may read at any time. */
	atomic_store_explicit(&vcpu->exits,
			      atomic_load_explicit(&vcpu->exits,
						   memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static inline void vcpu_handle_io(struct bus_reader *reader,
				  struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t count = run->io.count;

	bus_reader_access(reader, BUS_PIO, run->io.port, data, run->io.size,
			  is_write);
	/* rep ins/outs arrive as count back-to-back items in one exit. */
	for (uint32_t i = 1; __builtin_expect(i < count, 0); i++) {
		data += run->io.size;
		bus_reader_access(reader, BUS_PIO, run->io.port, data,
				  run->io.size, is_write);
	}
}

/* Every exit but PIO and MMIO. Returns false when the vCPU must stop. */
static __attribute__((noinline, cold)) bool
vcpu_handle_other(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char why[128];

	switch (run->exit_reason) {
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; ours has one. Treat as off. */
		vm_request_stop(vcpu->vm, VM_EXIT_POWEROFF);
		return false;
	case KVM_EXIT_SHUTDOWN:
		vcpu_dump(vcpu, "guest shutdown (triple fault)");
		vm_request_stop(vcpu->vm, VM_EXIT_FATAL);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_request_stop(vcpu->vm,
				run->system_event.type == KVM_SYSTEM_EVENT_CRASH ?
					VM_EXIT_FATAL : VM_EXIT_POWEROFF);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why),
			 "KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x%llx",
			 (unsigned long long)
				 run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why),
			 "KVM_EXIT_INTERNAL_ERROR: suberror %u (%s)",
			 run->internal.suberror,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
				 "instruction emulation failed" : "see KVM docs");
		break;
	default:
		snprintf(why, sizeof(why), "unhandled KVM exit reason %u",
			 run->exit_reason);
		break;
	}
	vcpu_dump(vcpu, why);
	vm_request_stop(vcpu->vm, VM_EXIT_FATAL);
	return false;
}

/* KVM_RUN failed: false when the vCPU must stop. */
static __attribute__((noinline, cold)) bool vcpu_run_failed(struct vcpu *vcpu)
{
	if (errno == EINTR || errno == EAGAIN) {
		__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_RELAXED);
		/* Every vm_pause() kicks, so a pause is seen here. */
		vm_vcpu_park(vcpu->vm);
		return true;
	}
	log_err(vcpu->name, "KVM_RUN: %m");
	vm_request_stop(vcpu->vm, VM_EXIT_FATAL);
	return false;
}

static void vcpu_loop(struct vcpu *vcpu, struct bus_reader *reader)
{
	struct kvm_run *run = vcpu->run;
	const bool *stopping = &vcpu->vm->stopping;
	int fd = vcpu->fd;

	while (!__atomic_load_n(stopping, __ATOMIC_ACQUIRE)) {
		if (__builtin_expect(ioctl(fd, KVM_RUN, 0) < 0, 0)) {
			if (!vcpu_run_failed(vcpu))
				return;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_MMIO) {
			vcpu_count_exit(vcpu);
			bus_reader_access(reader, BUS_MMIO, run->mmio.phys_addr,
					  run->mmio.data, run->mmio.len,
					  run->mmio.is_write);
		} else if (run->exit_reason == KVM_EXIT_IO) {
			vcpu_count_exit(vcpu);
			vcpu_handle_io(reader, run);
		} else if (!vcpu_handle_other(vcpu)) {
			return;
		}
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct bus_reader *reader;
	sigset_t set;

	/* The kick signal is blocked in every other thread; take it here. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	if (bus_reader_register(vcpu->vm->parts.bus, &reader) < 0) {
		log_err(vcpu->name, "cannot register as a bus reader: %s",
			strerror(ENOMEM));
		vm_request_stop(vcpu->vm, VM_EXIT_FATAL);
		return NULL;
	}
	/* Set up; from here on the guest drives this thread. */
	if (sandbox_enter(SANDBOX_VCPU, vcpu->name) < 0) {
		vm_request_stop(vcpu->vm, VM_EXIT_FATAL);
		bus_reader_unregister(reader);
		return NULL;
	}
	vcpu_loop(vcpu, reader);
	bus_reader_unregister(reader);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (ret)
		return -ret;
	pthread_setname_np(vcpu->thread, vcpu->name);
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}

uint64_t vcpu_exit_count(const struct vcpu *vcpu)
{
	return vcpu->exits;
}

int vcpu_fd(const struct vcpu *vcpu)
{
	return vcpu->fd;
}
