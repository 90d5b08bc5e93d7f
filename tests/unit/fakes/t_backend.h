/* SPDX-License-Identifier: MIT */
/*
 * Contract tests of core's seams: the same Check cases run against the
 * recording fakes (suite 'unit', any host) and, with `--kvm`, against the
 * KVM back ends (suite 'integ'), so the fakes cannot drift from what KVM
 * does. The choice and any skip are made in main(), before
 * srunner_run_all(), never inside a forked fixture.
 */
#ifndef IOVMM_TEST_T_BACKEND_H
#define IOVMM_TEST_T_BACKEND_H

#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The cases run against KVM (--kvm given and usable). */
static bool t_kvm;

/*
 * Parse argv: `--kvm` selects KVM. Returns 0 to go on, or 77 (with the
 * reason printed) when KVM was asked for and is not usable here.
 */
static inline int t_backend_select(int argc, char **argv)
{
	int kvm, vm;

	if (argc < 2 || strcmp(argv[1], "--kvm"))
		return 0;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0 || ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		printf("SKIP: /dev/kvm is not usable here (the integ tier runs "
		       "inside the lab's L1 on such hosts)\n");
		return 77;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	close(kvm);
	if (vm < 0) {
		printf("SKIP: KVM_CREATE_VM failed\n");
		return 77;
	}
	close(vm);
	t_kvm = true;
	return 0;
}

/* A new KVM VM fd (for a case's own back end); fails the case if none. */
static inline int t_kvm_vm(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1;

	if (kvm >= 0) {
		vm = ioctl(kvm, KVM_CREATE_VM, 0);
		close(kvm);
	}
	return vm;
}

#endif
