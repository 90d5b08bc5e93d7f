/* SPDX-License-Identifier: MIT */
/*
 * A virtual machine engine: KVM VM, guest RAM and the loaded kernel, the
 * PIO/MMIO bus, interrupts, the I/O thread, the PCI host bridge and the
 * vCPUs. It knows no device type: the machine layer above (machine/)
 * builds devices on the VM's parts and hands them to vm_adopt() so they
 * are torn down in order.
 *
 * vm_create() builds everything in a fixed order and unwinds in reverse on
 * failure; vm_run() starts the vCPU and I/O threads and returns when the guest
 * stops (debug-exit, reset, fatal error or vm_request_stop()); vm_destroy()
 * tears down in reverse order after every thread has been joined.
 */
#ifndef IOVMM_VM_H
#define IOVMM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_MAX_CPUS 64
#define VM_MAX_ADOPTED 64

/* How the VM ended; also iovmm's process exit status. */
enum vm_exit_status {
	VM_EXIT_POWEROFF = 0, /* guest reset/power-off request: a clean end */
	VM_EXIT_CONFIG = 2,   /* bad configuration, nothing ran */
	VM_EXIT_FATAL = 4,    /* KVM or VMM failure, or a guest crash (triple fault) */
	/* debug-exit: (value << 1) | 1, as QEMU's isa-debug-exit */
};

struct vm_config {
	uint64_t mem_size;
	bool hugepages;
	unsigned ncpus;
	const char *kernel;
	const char *initrd;  /* optional */
	const char *cmdline; /* optional */
	/*
	 * A /dev/kvm opened by the caller (a management layer, --kvm-fd):
	 * vm_create() takes ownership (closed by vm_destroy(), also when
	 * creation fails) instead of opening /dev/kvm itself.
	 */
	bool has_kvm_fd;
	int kvm_fd;
};

struct vm;

/*
 * Build a VM: guest RAM and the kernel loaded into it first (they need no
 * KVM, so a kernel that is not one is reported as such on any host), then
 * KVM, memory slots, bus, I/O loop, interrupts, PCI host bridge and vCPUs.
 * On failure returns -errno and writes a one-line human reason to err (what
 * failed and why, e.g. "/dev/kvm: permission denied").
 */
int vm_create(const struct vm_config *cfg, struct vm **out, char *err,
	      size_t errlen);
/* Run until the guest stops. Returns the vm_exit_status / debug-exit code. */
int vm_run(struct vm *vm);
/*
 * vm_run() in two halves, for a caller that controls the VM meanwhile (the
 * API server): vm_start() starts the I/O thread and the vCPUs and returns;
 * vm_wait() sleeps until a stop is requested, joins the threads and returns
 * the status. A failure to start is a stop with VM_EXIT_FATAL.
 */
int vm_start(struct vm *vm);
int vm_wait(struct vm *vm);

/*
 * Lifecycle of a started VM. One control thread makes these calls (they
 * are not serialised against each other); any thread may stop the VM
 * meanwhile, which ends a pause.
 *
 * vm_pause(): every vCPU out of KVM_RUN, parked; then the I/O thread parked
 * between callbacks. Returns once all are parked: -EALREADY (paused),
 * -ESHUTDOWN (not started, or stopping). vm_resume(): the reverse;
 * -EALREADY when not paused.
 * vm_reset(): a paused (or not started) VM back to power-on: every PCI
 * function reset (as FLR), ACPI tables, kernel, initrd and command line
 * loaded again into the RAM (which is otherwise kept), every vCPU to its
 * creation state, the BSP at the kernel entry. The in-kernel PIC, IOAPIC
 * and PIT keep their state (the guest programs them again). -EBUSY when
 * running; other -errno with a reason in err (the VM is then unusable:
 * stop it).
 */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
bool vm_paused(struct vm *vm);
int vm_reset(struct vm *vm, char *err, size_t errlen);
/*
 * Join the threads, destroy the vCPUs and the PCI host bridge (which unmaps
 * every BAR), release what was adopted in reverse order, then the rest.
 */
void vm_destroy(struct vm *vm);

/* What devices are built on; owned by the VM, valid until vm_destroy(). */
struct vm_parts {
	struct gmem *mem;
	struct bus *bus;
	struct irq *irq;
	struct ioloop *io;
	struct pci_host *pci;
	struct memslots *slots;
};
const struct vm_parts *vm_parts(const struct vm *vm);

/*
 * Hand obj to the VM: vm_destroy() calls release(obj) once every thread is
 * stopped and the PCI host bridge is gone, in the reverse order of adoption,
 * before the interrupts, bus and memory go. -ENOSPC beyond VM_MAX_ADOPTED
 * (obj is not released then: the caller still owns it).
 */
int vm_adopt(struct vm *vm, void *obj, void (*release)(void *obj));

/*
 * Ask every vCPU to stop; the first request's status wins. Safe from any
 * thread, including vCPU threads and signal-free contexts.
 */
void vm_request_stop(struct vm *vm, int status);

/* Sum of userspace exits (PIO + MMIO) over all vCPUs so far. */
uint64_t vm_exit_count(const struct vm *vm);

/* Bytes of guest RAM the guest has touched (resident in the memfd). */
uint64_t vm_guest_ram_resident(const struct vm *vm);

#endif
