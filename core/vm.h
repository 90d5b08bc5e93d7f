/* SPDX-License-Identifier: MIT */
/*
 * A virtual machine: KVM VM, guest RAM, buses, interrupts, devices, vCPUs.
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

#include "sriov/sriov.h"

#define VM_MAX_CPUS 64
#define VM_MAX_DEVICES 32

/* How the VM ended; also iovmm's process exit status. */
enum vm_exit_status {
	VM_EXIT_POWEROFF = 0, /* guest reset/power-off request: a clean end */
	VM_EXIT_CONFIG = 2,   /* bad configuration, nothing ran */
	VM_EXIT_FATAL = 4,    /* KVM or VMM failure, or a guest crash (triple fault) */
	/* debug-exit: (value << 1) | 1, as QEMU's isa-debug-exit */
};

enum vm_serial_kind { VM_SERIAL_STDIO, VM_SERIAL_FILE, VM_SERIAL_NONE };

#define VM_DEVICE_TYPE_MAX 32
#define VM_BACKEND_MAX 64
#define VM_NET_MAX_QUEUES 8

/* --net MODEL,backend=...: a NIC and where its frames go. */
struct vm_net_cfg {
	char backend[VM_BACKEND_MAX]; /* "tap:NAME", "loopback" or "null" */
	uint8_t mac[6];
	bool has_mac;                 /* else iovmm picks 52:54:00:12:34:(56+n) */
	unsigned queues;              /* queue pairs (virtio only), 1..8 */
	bool packed;                  /* virtio: offer VIRTIO_F_RING_PACKED */
};

/*
 * --net vhost-user,socket=PATH[,server][,queues=N][,mac=MAC]: a virtio-net
 * function whose rings a vhost-user back end serves (vhost-user/net.h).
 */
#define VM_VHU_SOCKET_MAX 108 /* sizeof(sockaddr_un.sun_path) */
struct vm_vhu_cfg {
	char socket[VM_VHU_SOCKET_MAX]; /* NUL-terminated, < 108 bytes */
	bool server;                    /* listen instead of connect */
	unsigned queues;                /* queue pairs, 1..8 */
	uint8_t mac[6];
	bool has_mac;                   /* else iovmm picks one, as for --net */
};

/* --disk virtio,path=FILE[,readonly][,ring=split|packed] */
struct vm_disk_cfg {
	const char *path;
	bool readonly;
	bool packed;  /* offer VIRTIO_F_RING_PACKED */
};

/*
 * --device vfio-pci,host=BDF[,no-mmap=N][,rom=off][,x-keep-vendor-caps], or
 * --device vfio-pci,pf=PF[,mac=..][,vlan=..[,qos=..]][,trust=..]...: a VF
 * taken from PF's pool at VM start (sriov/sriov.h), configured with
 * `vf_settings` and returned when the VM ends. Exactly one of host, pf.
 */
#define VM_VFIO_HOST_MAX 256
struct vm_vfio_cfg {
	char host[VM_VFIO_HOST_MAX]; /* BDF or sysfs path */
	char pf[VM_VFIO_HOST_MAX];   /* PF BDF or network interface */
	struct sriov_vf_settings vf_settings; /* pf= only; .set == 0: none */
	uint32_t no_mmap_bars;       /* bit n: trap BAR n */
	bool rom_off;
	bool keep_vendor_caps;
};

/*
 * One device, already parsed: `type` names an entry of the device table
 * (core/devices.c); the union member matching the type holds its settings.
 * Devices never see option strings.
 */
struct vm_device_cfg {
	char type[VM_DEVICE_TYPE_MAX];
	union {
		struct vm_net_cfg net;   /* virtio-net, e1000 */
		struct vm_disk_cfg disk; /* virtio-blk */
		struct vm_vfio_cfg vfio; /* vfio-pci */
		struct vm_vhu_cfg vhu;   /* vhost-user-net */
	};
};

struct vm_config {
	uint64_t mem_size;
	bool hugepages;
	unsigned ncpus;
	const char *kernel;
	const char *initrd;  /* optional */
	const char *cmdline; /* optional */
	enum vm_serial_kind serial;
	const char *serial_path; /* for VM_SERIAL_FILE */
	unsigned nr_devices;
	struct vm_device_cfg devices[VM_MAX_DEVICES];
	/*
	 * An eventfd (borrowed) the caller signals to abandon vm_create()
	 * while a step waits without a bound (a vhost-user server waiting
	 * for its back end): the step fails with -ECANCELED and everything
	 * built so far is unwound. -1: none.
	 */
	int cancel_fd;
};

struct vm;

/*
 * Build a VM. On failure returns -errno and writes a one-line human reason to
 * err (what failed and why, e.g. "/dev/kvm: permission denied").
 */
int vm_create(const struct vm_config *cfg, struct vm **out, char *err,
	      size_t errlen);
/* Run until the guest stops. Returns the vm_exit_status / debug-exit code. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

/*
 * Ask every vCPU to stop; the first request's status wins. Safe from any
 * thread, including vCPU threads and signal-free contexts.
 */
void vm_request_stop(struct vm *vm, int status);

/* Sum of userspace exits (PIO + MMIO) over all vCPUs so far. */
uint64_t vm_exit_count(const struct vm *vm);

/*
 * Guest RAM DMA mapping of assigned devices: entries, bytes, map time.
 * All zero without a vfio-pci device.
 */
void vm_vfio_dma_stats(const struct vm *vm, unsigned *entries, uint64_t *bytes,
		       uint64_t *map_ns);

/* Bytes of guest RAM the guest has touched (resident in the memfd). */
uint64_t vm_guest_ram_resident(const struct vm *vm);

#endif
