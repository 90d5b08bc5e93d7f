/* SPDX-License-Identifier: MIT */
/* What core/ files share about a VM; not for devices or tools. */
#ifndef IOVMM_VM_INTERNAL_H
#define IOVMM_VM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/bus.h"
#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/memslot.h"
#include "core/irq.h"
#include "core/vm.h"

struct vcpu;
struct pci_host;

struct vm_adopted {
	void *obj;
	void (*release)(void *obj);
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct vm_parts parts; /* what devices are built on; each NULL until made */
	unsigned nr_adopted;
	struct vm_adopted adopted[VM_MAX_ADOPTED];
	unsigned ncpus;
	struct vcpu *vcpus[VM_MAX_CPUS];

	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stopping;   /* lock: stop_lock; also read racily by vCPUs */
	int exit_status; /* lock: stop_lock */
	bool started;    /* vm_start() ran its threads; vm_wait() joins them */

	/* vm_pause(): vCPUs park in vm_vcpu_park() after their kick. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_req;  /* lock: pause_lock; read by a kicked vCPU */
	unsigned parked; /* lock: pause_lock */

	/* What vm_reset() reloads: the config with its strings owned. */
	struct vm_config cfg;
};

/*
 * A vCPU thread whose KVM_RUN was interrupted calls this: while a pause is
 * requested it counts itself parked and waits for vm_resume() (or a stop).
 */
void vm_vcpu_park(struct vm *vm);

#endif
