/* SPDX-License-Identifier: MIT */
/*
 * The VMM behind the API socket: one VM's lifecycle as Cloud Hypervisor's
 * API states it (Created, Running, Paused, Shutdown) and the endpoints that
 * drive it (docs/api.md).
 *
 * Threads: the API's connection threads run the handlers under one lock;
 * the caller's thread (main) runs api_vmm_main(), which waits for a booted
 * VM to stop (machine_wait) and tears it down, so a VM that ends by itself
 * (debug-exit, a fatal error, a signal) is noticed without any polling.
 */
#ifndef IOVMM_API_VMM_H
#define IOVMM_API_VMM_H

#include <stddef.h>

#include "machine/machine.h"

struct api_vmm;

/* Serve the API on socket_path. -errno and a reason in err. */
int api_vmm_create(const char *socket_path, struct api_vmm **out, char *err,
		   size_t errlen);
/*
 * iovmm run --api-socket: the VM of the command line (mc is borrowed and
 * must outlive the VMM), booted now; the process ends with it. 0, or
 * -errno with the reason in err (nothing was started).
 */
int api_vmm_boot_config(struct api_vmm *v, const struct machine_config *mc,
			char *err, size_t errlen);
/*
 * Run until the VMM is told to end (vmm.shutdown, a signal, or in run mode
 * the VM's end). Returns the process exit status: the VM's status in run
 * mode, 128 + N after signal N, else 0.
 */
int api_vmm_main(struct api_vmm *v);
/*
 * A terminating signal: stop the VM (orderly, as without the API), give up
 * a boot in progress, end api_vmm_main(). Safe from any thread.
 */
void api_vmm_signal(struct api_vmm *v, int sig);
void api_vmm_destroy(struct api_vmm *v);

#endif
