/* SPDX-License-Identifier: MIT */
/*
 * vCPUs: one POSIX thread each, running KVM_RUN and dispatching userspace
 * exits to the bus. The BSP (id 0) starts at the boot entry; APs start in the
 * state KVM gives them and wait in the kernel for INIT/SIPI from the guest.
 */
#ifndef IOVMM_VCPU_H
#define IOVMM_VCPU_H

#include <stdint.h>

#include "core/boot/boot.h"

struct vm;
struct vcpu;

int vcpu_create(struct vm *vm, unsigned id, struct vcpu **out);
void vcpu_destroy(struct vcpu *vcpu);

/* Put the BSP at the kernel entry point. */
int vcpu_set_boot_state(struct vcpu *vcpu, const struct boot_entry *entry);

int vcpu_start(struct vcpu *vcpu);
/* Make a running KVM_RUN return (signal + immediate_exit); non-blocking. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);

/*
 * Back to the state KVM gave the vCPU at creation (registers, FPU, LAPIC,
 * pending events, MP state: the APs wait for INIT/SIPI again) and the MSRs
 * iovmm sets; with entry, put it at the kernel entry (the BSP). Only while
 * its thread is out of KVM_RUN (parked or not started).
 */
int vcpu_reset(struct vcpu *vcpu, const struct boot_entry *entry);

uint64_t vcpu_exit_count(const struct vcpu *vcpu);
int vcpu_fd(const struct vcpu *vcpu);

/* One-time process setup: the signal used by vcpu_kick(). */
int vcpu_init_signals(void);

#endif
