// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/cpu.h"
#include "core/util.h"

#define CPUID_MAX_ENTRIES 256

/* CPUID.1:ECX bit 31, "hypervisor present" (reserved for this use by Intel). */
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)

/* KVM's paravirtual leaves (Documentation/virt/kvm/x86/cpuid.rst). */
#define CPUID_KVM_SIGNATURE 0x40000000u
/* Hypervisor timing leaf (VMware convention, used by Linux and QEMU). */
#define CPUID_TIMING_INFO 0x40000010u

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_MISC_ENABLE_FAST_STRING 1ULL
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC 0x10

int cpu_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out)
{
	struct kvm_cpuid2 *cpuid;

	cpuid = calloc(1, sizeof(*cpuid) +
				  CPUID_MAX_ENTRIES * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		int err = -errno;

		free(cpuid);
		return err;
	}
	*out = cpuid;
	return 0;
}

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

void cpu_patch_cpuid(struct kvm_cpuid2 *cpuid, unsigned id, unsigned ncpus,
		     uint32_t tsc_khz)
{
	bool have_timing = false;

	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC ID and logical CPU count per package. */
			e->ebx = (e->ebx & 0x0000ffffu) | (id << 24) |
				 ((ncpus & 0xffu) << 16);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (ncpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			break;
		case 0xb:
		case 0x1f:
			/*
			 * Extended topology: one package of ncpus cores, one
			 * thread each. Sub-leaf 0 = SMT level, 1 = core level.
			 */
			e->edx = id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = bits_for(ncpus);
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case CPUID_KVM_SIGNATURE:
			if (tsc_khz && e->eax < CPUID_TIMING_INFO)
				e->eax = CPUID_TIMING_INFO;
			break;
		case CPUID_TIMING_INFO:
			have_timing = true;
			break;
		}
	}
	if (tsc_khz && !have_timing && cpuid->nent < CPUID_MAX_ENTRIES) {
		/* eax: TSC kHz, ebx: local APIC bus kHz (KVM: 1 GHz). */
		cpuid->entries[cpuid->nent++] = (struct kvm_cpuid_entry2){
			.function = CPUID_TIMING_INFO,
			.eax = tsc_khz,
			.ebx = 1000000,
		};
	}
}

int cpu_reset_msrs(int vcpu_fd)
{
	static const struct kvm_msr_entry init[] = {
		{ .index = MSR_IA32_SYSENTER_CS },
		{ .index = MSR_IA32_SYSENTER_ESP },
		{ .index = MSR_IA32_SYSENTER_EIP },
		{ .index = MSR_STAR },
		{ .index = MSR_LSTAR },
		{ .index = MSR_CSTAR },
		{ .index = MSR_SYSCALL_MASK },
		{ .index = MSR_KERNEL_GS_BASE },
		{ .index = MSR_IA32_TSC },
		{ .index = MSR_IA32_MISC_ENABLE,
		  .data = MSR_IA32_MISC_ENABLE_FAST_STRING },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[ARRAY_SIZE(init)];
	} msrs = { .hdr.nmsrs = ARRAY_SIZE(init) };
	int ret;

	memcpy(msrs.entries, init, sizeof(init));
	ret = ioctl(vcpu_fd, KVM_SET_MSRS, &msrs);
	if (ret < 0)
		return -errno;
	/* KVM_SET_MSRS returns how many it set; a short count is a failure. */
	return ret == (int)ARRAY_SIZE(init) ? 0 : -EINVAL;
}

int cpu_setup(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned id,
	      unsigned ncpus, uint32_t tsc_khz)
{
	size_t size = sizeof(*supported) +
		      CPUID_MAX_ENTRIES * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(size);
	int ret;

	if (!cpuid)
		return -ENOMEM;
	memcpy(cpuid, supported, sizeof(*supported) +
		supported->nent * sizeof(supported->entries[0]));
	cpu_patch_cpuid(cpuid, id, ncpus, tsc_khz);
	ret = ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	if (ret)
		return ret;
	return cpu_reset_msrs(vcpu_fd);
}
