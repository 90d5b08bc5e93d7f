/* SPDX-License-Identifier: MIT */
/*
 * The parsed options of the device types that take any (what each type's
 * parse() allocates), for the types' files and the unit tests.
 */
#ifndef IOVMM_MACHINE_DEV_OPTS_H
#define IOVMM_MACHINE_DEV_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "sriov/sriov.h"

/*
 * --net virtio|e1000,backend=...[,mac=][,queues=N][,ring=split|packed]
 * [,vhost=on|off][,vhostfd=N] (vhost: virtio with a tap only)
 */
#define MACHINE_BACKEND_MAX 64
struct machine_net_opts {
	char backend[MACHINE_BACKEND_MAX]; /* "tap:NAME", "loopback" or "null" */
	uint8_t mac[6];
	bool has_mac;     /* else the machine picks 52:54:00:12:34:(56+n) */
	unsigned queues;  /* queue pairs (virtio only), 1..8 */
	bool packed;      /* virtio: offer VIRTIO_F_RING_PACKED */
	bool vhost;       /* virtio: the kernel's vhost-net serves the rings */
	int vhostfd;      /* with vhost: a /dev/vhost-net fd the caller
			   * opened (inherited); -1: iovmm opens it */
};

/*
 * --net vhost-user,socket=PATH[,server][,queues=N][,mac=MAC]: a virtio-net
 * function whose rings a vhost-user back end serves (vhost-user/net.h).
 */
#define MACHINE_VHU_SOCKET_MAX 108 /* sizeof(sockaddr_un.sun_path) */
struct machine_vhu_opts {
	char socket[MACHINE_VHU_SOCKET_MAX]; /* NUL-terminated, < 108 bytes */
	bool server;                         /* listen instead of connect */
	unsigned queues;                     /* queue pairs, 1..8 */
	uint8_t mac[6];
	bool has_mac;
};

/* --disk virtio|nvme,path=FILE[,readonly][,serial=S][,ring=split|packed] */
struct machine_disk_opts {
	char *path;   /* owned */
	char *serial; /* owned, NULL: the image's base name */
	bool readonly;
	bool packed;  /* virtio: offer VIRTIO_F_RING_PACKED */
};

/*
 * --device vfio-pci,host=BDF[,no-mmap=N][,rom=off][,x-keep-vendor-caps], or
 * --device vfio-pci,pf=PF[,mac=..][,vlan=..[,qos=..]][,trust=..]...: a VF
 * taken from PF's pool at VM start (sriov/sriov.h), configured with
 * `vf_settings` and returned when the VM ends. Exactly one of host, pf.
 */
#define MACHINE_VFIO_HOST_MAX 256
struct machine_vfio_opts {
	char host[MACHINE_VFIO_HOST_MAX]; /* BDF or sysfs path */
	char pf[MACHINE_VFIO_HOST_MAX];   /* PF BDF or network interface */
	struct sriov_vf_settings vf_settings; /* pf= only; .set == 0: none */
	uint32_t no_mmap_bars;       /* bit n: trap BAR n */
	bool rom_off;
	bool keep_vendor_caps;
};

#endif
