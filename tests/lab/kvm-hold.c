// SPDX-License-Identifier: MIT
/*
 * kvm-hold: keep one idle KVM VM (in-kernel irqchip, one vCPU that never
 * runs) open in L1 for the whole lab boot, so the guests the scenarios
 * start never take KVM's global state from 0 to 1 or back.
 *
 * Why (docs/lab.md, "L1 hangs"): kvm_create_vm() and kvm_destroy_vm() turn
 * the static key preempt_notifier_key on for the first VM and off after
 * the last one, and a vCPU's local APIC does the same with apic_sw_disabled.
 * Each flip live-patches kernel text that every CPU runs constantly
 * (finish_task_switch() fires the preempt notifiers) through int3
 * breakpoints (text_poke_bp). Under QEMU 7.2's multi-threaded TCG a vCPU
 * sometimes keeps executing a stale translation of the patched code: it
 * hits the int3 the patcher already removed, the kernel's int3 handler
 * sees no int3 in memory and rewinds to re-execute the instruction
 * (kprobe_int3_handler), and the same stale translation traps again,
 * forever: both CPUs soft-lock at finish_task_switch+0x9f. Holding a VM
 * makes those flips happen once, here, right after the modules load,
 * instead of twice per guest.
 *
 * Usage: kvm-hold [/dev/kvm]. Prints "kvm-hold: ready" once the VM exists,
 * then sleeps until killed. Exit status 1 (and a message) on any error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/kvm";
	int kvm, vm, vcpu;

	kvm = open(path, O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "kvm-hold: %s: %s\n", path, strerror(errno));
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		fprintf(stderr, "kvm-hold: KVM_CREATE_VM: %s\n", strerror(errno));
		return 1;
	}
	/* With an in-kernel irqchip the vCPU gets a local APIC, which holds
	 * apic_sw_disabled up while its APIC stays software-disabled. */
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) {
		fprintf(stderr, "kvm-hold: KVM_CREATE_IRQCHIP: %s\n",
			strerror(errno));
		return 1;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		fprintf(stderr, "kvm-hold: KVM_CREATE_VCPU: %s\n",
			strerror(errno));
		return 1;
	}
	printf("kvm-hold: ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
