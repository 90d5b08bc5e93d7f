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
struct vfio_container;

struct vm_device {
	const struct vm_device_type *type;
	void *state;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct gmem *mem;
	struct memslots *memslots;
	struct bus *bus;
	struct irq *irq;
	struct ioloop *io;
	struct pci_host *pci;
	struct vfio_container *vfio; /* shared by vfio-pci devices, NULL if none */
	struct legacy_devices *legacy;
	unsigned nr_devices;
	struct vm_device devices[VM_MAX_DEVICES];
	unsigned ncpus;
	struct vcpu *vcpus[VM_MAX_CPUS];
	int cancel_fd;   /* vm_config.cancel_fd (borrowed), during vm_create */
	int serial_fd;   /* the serial file until legacy devices take it */

	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stopping;   /* lock: stop_lock; also read racily by vCPUs */
	int exit_status; /* lock: stop_lock */
};

/* Device table entry (core/devices.c): one per `--device` type. */
struct vm_device_type {
	const char *name;
	const char *help;
	int (*create)(struct vm *vm, const struct vm_device_cfg *cfg,
		      void **state, char *err, size_t errlen);
	void (*destroy)(void *state);
	/*
	 * Optional: refuse a configuration before the VM is built (no KVM
	 * yet), e.g. a host device that does not exist. Must not change
	 * anything on the host.
	 */
	int (*check)(const struct vm_device_cfg *cfg, char *err, size_t errlen);
};

const struct vm_device_type *vm_device_type_find(const char *name);
extern const struct vm_device_type *const vm_device_types[];

#endif
