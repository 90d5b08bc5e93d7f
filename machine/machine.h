/* SPDX-License-Identifier: MIT */
/*
 * The machine: a VM (core/vm.h) with the legacy PC devices and the devices
 * the user asked for. This layer sits above every device folder; core/
 * knows none of them.
 *
 * Devices are described in one const table (machine/devices.c): each type
 * parses its own options (the CLI hands it the text after `--device`,
 * `--net` or `--disk`; devices never see raw strings), checks the host
 * before anything is built, creates and plugs itself, and is destroyed by
 * the VM in reverse order. The machine owns plug order, NIC numbering and
 * the VFIO backend its assigned devices share.
 */
#ifndef IOVMM_MACHINE_H
#define IOVMM_MACHINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/vm.h"
#include "emul-devices/legacy.h"

#define MACHINE_MAX_DEVICES 32

/* How a user spells a device on the command line. */
enum machine_front {
	MACHINE_FRONT_DEVICE, /* --device TYPE[,opts] */
	MACHINE_FRONT_NET,    /* --net MODEL,opts */
	MACHINE_FRONT_DISK,   /* --disk MODEL,opts */
};

struct machine_device_type;

/* One device, parsed: its type and that type's own option struct. */
struct machine_device_cfg {
	const struct machine_device_type *type;
	void *opts; /* owned; freed by machine_config_free() */
	enum machine_front front;
	char *spec; /* owned: the argument as given ("virtio,path=..."), for reports */
};

struct machine_config {
	struct vm_config vm;
	enum legacy_serial serial;
	const char *serial_path; /* LEGACY_SERIAL_FILE: created/truncated */
	/*
	 * An eventfd (borrowed) the caller signals to abandon
	 * machine_create() while a step waits without a bound (a vhost-user
	 * server waiting for its back end): the step fails with -ECANCELED
	 * and everything built so far is unwound. -1: none.
	 */
	int cancel_fd;
	unsigned nr_devices;
	struct machine_device_cfg devices[MACHINE_MAX_DEVICES];
};

/* Defaults: stdio serial, no devices, cancel_fd -1 (vm fields zero). */
void machine_config_init(struct machine_config *cfg);
/*
 * Parse one `--device`/`--net`/`--disk` argument and append the device.
 * 0, or -EINVAL (-ENOMEM) with a one-line reason in err.
 */
int machine_config_add(struct machine_config *cfg, enum machine_front front,
		       const char *arg, char *err, size_t errlen);
/* Free every device's options; the config can be initialised again. */
void machine_config_free(struct machine_config *cfg);
/* The device part of `iovmm run --help`, from the table. */
void machine_print_usage(FILE *out);

struct machine;

/*
 * Build the machine: first everything that can be refused without a VM
 * (each device type's host check, the serial file; then the core VM loads
 * the kernel before it opens /dev/kvm), then the VM, the legacy devices and
 * the devices in command-line order. -errno and a one-line reason in err.
 */
int machine_create(const struct machine_config *cfg, struct machine **out,
		   char *err, size_t errlen);
/* Run until the guest stops; the vm_exit_status / debug-exit code. */
int machine_run(struct machine *m);
/*
 * machine_run() in two halves (core/vm.h: vm_start, vm_wait), for a caller
 * that drives the VM meanwhile (the API server).
 */
int machine_start(struct machine *m);
int machine_wait(struct machine *m);
/*
 * Reboot a paused (or not yet started) machine in place: every device reset,
 * the kernel loaded again, the vCPUs at the entry; RAM, device back ends
 * and host resources kept (vm_reset). -errno and a reason in err.
 */
int machine_reset(struct machine *m, char *err, size_t errlen);

/* A plugged device as reports show it. */
struct machine_device_info {
	const char *type; /* its type's name, e.g. "virtio-net" */
	const char *name; /* the PCI function's name in logs */
	uint8_t devfn;    /* bus 0: slot << 3 | function */
};
/* Device i of the machine (in plug order); -ENOENT past the last. */
int machine_device_info(const struct machine *m, unsigned i,
			struct machine_device_info *out);
void machine_destroy(struct machine *m);

struct vm *machine_vm(const struct machine *m);

/* Guest RAM DMA mapping of assigned devices; all zero without vfio-pci. */
void machine_vfio_dma_stats(const struct machine *m, unsigned *entries,
			    uint64_t *bytes, uint64_t *map_ns);

#endif
