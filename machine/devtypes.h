/* SPDX-License-Identifier: MIT */
/*
 * Inside the machine layer: the device-type contract, the machine's state
 * the types build on, and the option helpers every type's parser shares.
 *
 * Adding a device type: write its parse/check/create/destroy next to the
 * others (machine/dev_*.c; the device itself lives in its own folder),
 * declare it below and list it in machine/devices.c. Nothing else changes:
 * the CLI, `iovmm run --help` and the machine's build order come from the
 * table. docs/architecture.md walks through one.
 */
#ifndef IOVMM_MACHINE_DEVTYPES_H
#define IOVMM_MACHINE_DEVTYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pci/pci.h"
#include "core/vm.h"
#include "machine/machine.h"

struct vfio_backend;

struct machine_device_type {
	const char *name;  /* --device NAME, and in messages */
	enum machine_front front;
	const char *model; /* --net/--disk MODEL (NULL for --device) */
	/* `iovmm run --help` lines: the spelling, then what it is. */
	const char *usage;
	const char *help;
	bool nic;          /* numbered for default MACs (machine_nic_mac) */
	/*
	 * Parse the options after "NAME," or "MODEL," ("" when none) into a
	 * new option struct of the type's own (*opts, freed with free_opts).
	 * NULL: the type takes no options.
	 */
	int (*parse)(const char *opts, void **out, char *err, size_t errlen);
	void (*free_opts)(void *opts);
	/*
	 * Optional: refuse before any VM exists (no KVM yet), e.g. a host
	 * device that does not exist. Must leave the host unchanged.
	 */
	int (*check)(const void *opts, char *err, size_t errlen);
	/*
	 * Build the PCI function (the device contract, core/pci/pci.h) from
	 * machine_pci_ctx(m): the machine plugs it into the host bridge,
	 * which wires its INTx, and the VM destroys it through its ops.
	 */
	int (*create_pci)(struct machine *m, const void *opts,
			  struct pci_dev **dev, char *err, size_t errlen);
};

/* One built device: the VM destroys it (vm_adopt) in reverse order. */
struct machine_device {
	const struct machine_device_type *type;
	struct pci_dev *dev;
};

struct machine {
	struct vm *vm;
	const struct vm_parts *parts;
	struct legacy_devices *legacy;
	struct vfio_backend *vfio;   /* shared by vfio-pci devices, or NULL */
	int cancel_fd;               /* machine_config.cancel_fd, borrowed */
	unsigned nr_nics;
	unsigned nr_devices;
	struct machine_device devices[MACHINE_MAX_DEVICES];
};

/*
 * The next NIC's MAC: `given`, or 52:54:00:12:34:56 + its index among the
 * machine's NICs (QEMU's convention), so MACs are stable from run to run.
 */
void machine_nic_mac(struct machine *m, const uint8_t *given, uint8_t mac[6]);
/* The creation context of a PCI device on m's VM (core/pci/pci.h). */
struct pci_dev_ctx machine_pci_ctx(const struct machine *m);
/* pci_host_add() with the message every type gives when the bus is full. */
int machine_plug(struct machine *m, const char *type, struct pci_dev *pci,
		 char *err, size_t errlen);

/* ---- option parsing (machine/options.c) ---- */

/*
 * Split "key=value,key=value" into its next pair. Keys and values are
 * copied (bounded); a bare "key" yields an empty value. 1 for a pair, 0 at
 * the end, -EINVAL for a key or value that does not fit.
 */
int machine_opt_next(const char **cursor, char *key, size_t keylen,
		     char *val, size_t vallen);
/*
 * keys[] is the type's option names: -ENOENT for a key not among them,
 * -EEXIST when it was given before (*seen tracks them); else its index.
 */
int machine_opt_key(const char *const *keys, unsigned nkeys, const char *key,
		    unsigned *seen);
/*
 * The whole "key=value,..." string against keys[]: fn(ctx, index, value)
 * for each pair, in order. Over-long options, unknown keys and keys given
 * twice are refused here as "WHAT: ..."; fn returns 0 or -errno with its
 * own message. Values are at most PATH_MAX - 1 bytes.
 */
typedef int (*machine_opt_fn)(void *ctx, int key, const char *val, char *err,
			      size_t errlen);
int machine_opt_parse(const char *opts, const char *what,
		      const char *const *keys, unsigned nkeys,
		      machine_opt_fn fn, void *ctx, char *err, size_t errlen);
/* mac=: a unicast station address. 0 or -EINVAL with the reason. */
int machine_opt_mac(const char *val, uint8_t mac[6], char *err, size_t errlen);
/* queues=N: 1..MACHINE_NET_MAX_QUEUES queue pairs. */
#define MACHINE_NET_MAX_QUEUES 8
int machine_opt_queues(const char *val, unsigned *out, char *err,
		       size_t errlen);
/* ring=split|packed (virtio): *packed. 0 or -EINVAL with the reason. */
int machine_opt_ring(const char *val, bool *packed, char *err, size_t errlen);
/* on|off (and "" = on when bare is true). 0, 1 or -EINVAL. */
int machine_opt_bool(const char *val, bool bare);
__attribute__((format(printf, 3, 4)))
int machine_opt_error(char *err, size_t errlen, const char *fmt, ...);

/* ---- the types (machine/dev_*.c), listed in machine/devices.c ---- */

extern const struct machine_device_type machine_pci_testdev;
extern const struct machine_device_type machine_edu;
extern const struct machine_device_type machine_virtio_net;
extern const struct machine_device_type machine_e1000;
extern const struct machine_device_type machine_vhost_user_net;
extern const struct machine_device_type machine_virtio_blk;
extern const struct machine_device_type machine_nvme;
extern const struct machine_device_type machine_vfio_pci;

#endif
