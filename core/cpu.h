/* SPDX-License-Identifier: MIT */
/* CPUID and MSR set-up for a vCPU (KVM_SET_CPUID2, KVM_SET_MSRS). */
#ifndef IOVMM_CPU_H
#define IOVMM_CPU_H

#include <linux/kvm.h>
#include <stdint.h>

/* Read KVM's supported CPUID once per VM; caller frees with free(). */
int cpu_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out);

/*
 * Give vCPU `id` of `ncpus` its CPUID (APIC IDs, topology, hypervisor bit,
 * TSC frequency leaf) and architectural MSR reset values. tsc_khz may be 0.
 */
int cpu_setup(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned id,
	      unsigned ncpus, uint32_t tsc_khz);

/* The MSRs cpu_setup() sets, back to their power-on values (vcpu_reset). */
int cpu_reset_msrs(int vcpu_fd);
/* Patch a copy of the supported CPUID for one vCPU (pure; unit-tested). */
void cpu_patch_cpuid(struct kvm_cpuid2 *cpuid, unsigned id, unsigned ncpus,
		     uint32_t tsc_khz);

#endif
