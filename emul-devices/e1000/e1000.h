/* SPDX-License-Identifier: MIT */
/*
 * Intel 82540EM Gigabit Ethernet controller (PCI 8086:100e), as described
 * by the "PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual" (8254x SDM, rev 4.0): BAR0 128 KiB of registers, BAR1
 * 8 bytes of I/O (IOADDR/IODATA indirect access, SDM 13.2), INTA# and an
 * optional-in-real-life MSI capability (one vector, like QEMU's e1000e),
 * legacy and extended (context + data) TX descriptors with checksum
 * insertion and TCP segmentation, legacy RX descriptors, a Microwire EEPROM
 * (bit-banged through EECD, or read through EERD) and an M88E1011 PHY behind
 * MDIC. Frames go to and come from a net back end (emul-devices/net).
 *
 * Not modelled: interrupt moderation (RDTR/RADV/TIDV/TADV/ITR are stored
 * and ignored: every cause is signalled at once), flow control (FCAL/FCAH/
 * FCT/FCTTV/FCRTL/FCRTH stored, never acted upon), VLAN filtering (VFTA
 * stored; VET stored; frames are never tagged or stripped by the device),
 * wake-up and manageability, RX checksum offload (every RX descriptor has
 * IXSM set: "checksum not computed", so drivers verify in software),
 * receive size-bin statistics (PRCxxx/PTCxxx read 0).
 */
#ifndef IOVMM_E1000_H
#define IOVMM_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/irq.h"
#include "core/pci/host.h"
#include "core/pci/pci.h"

struct e1000_config {
	const char *backend;  /* net back end spec: "tap:NAME", "loopback", "null" */
	uint8_t mac[6];       /* used when has_mac; else 52:54:00:12:34:56 */
	bool has_mac;
	const char *name;     /* for log lines; NULL: "e1000". Borrowed. */
};

struct e1000;

/*
 * Create the device and its back end (registered with ctx->io); the caller
 * plugs e1000_pci(e) into the host bridge, which wires INTA#. ctx->irq may
 * be NULL (unit tests: MSI only signals its eventfd). err receives a
 * one-line reason. 0, -EINVAL (bad config or back end spec), -ENOMEM, or
 * the back end's -errno.
 */
int e1000_create(const struct pci_dev_ctx *ctx, const struct e1000_config *cfg,
		 struct e1000 **out, char *err, size_t errlen);
/*
 * Call after the vCPUs and the I/O thread have stopped and after
 * pci_host_destroy() (the host has no hot-unplug). Idempotent on NULL.
 * The same as pci_dev_destroy(e1000_pci(e)).
 */
void e1000_destroy(struct e1000 *e);

/* The PCI function (tests and the VMM's bookkeeping). */
struct pci_dev *e1000_pci(struct e1000 *e);

/* Introspection for tests and --stats. */
struct e1000_stats {
	uint64_t tx_frames, rx_frames;
	uint64_t tx_errors;   /* descriptors or buffers the guest got wrong */
	uint64_t rx_dropped;  /* filtered out, too big, receiver off, bad buffer */
	bool irq_asserted;    /* INTx level or MSI condition (ICR & IMS) */
};
void e1000_get_stats(struct e1000 *e, struct e1000_stats *out);

#endif
