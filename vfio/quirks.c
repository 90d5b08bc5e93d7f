// SPDX-License-Identifier: MIT
/*
 * The quirk table. Add a quirk as one entry plus a comment block above its
 * function:
 *
 *   What:   the device's deviation from the PCI/PCIe specification (or from
 *           what a guest driver assumes of bare metal).
 *   Effect: what goes wrong in the guest without the quirk.
 *   Fix:    what the quirk changes in the virtual device (config bytes,
 *           trapped ranges, reset method...).
 *   Source: erratum, Linux or QEMU commit, bug link.
 *
 * The table is empty today: the functions the project's lab assigns (QEMU's
 * SR-IOV NVMe VF 1b36:0010 and e1000e 8086:10d3) need none. Examples of
 * what belongs here, from QEMU's hw/vfio/pci-quirks.c: NVIDIA GPUs that
 * mirror their config space inside BAR0 (the mirror must be trapped like
 * config space), and AMD GPUs that only reset properly through a
 * device-specific sequence.
 */
#include <stddef.h>

#include "core/log.h"
#include "core/util.h"
#include "vfio/pci_internal.h"
#include "vfio/quirks.h"

static const struct vfio_quirk vfio_quirk_table[] = {
	/* { .vendor = 0x1234, .device = 0x5678, .name = "...", .apply = fn }, */
	{ 0 } /* sentinel: keeps the array non-empty in ISO C */
};

const struct vfio_quirk *vfio_quirk_next(const struct vfio_quirk *table,
					 size_t n, const struct vfio_quirk *from,
					 uint16_t vendor, uint16_t device)
{
	size_t i = from ? (size_t)(from - table) + 1 : 0;

	for (; i < n; i++) {
		const struct vfio_quirk *q = &table[i];

		if (q->apply && q->vendor == vendor &&
		    (q->device == VFIO_QUIRK_ANY || q->device == device))
			return q;
	}
	return NULL;
}

int vfio_quirks_apply(struct vfio_pci *v, uint16_t vendor, uint16_t device)
{
	const size_t n = ARRAY_SIZE(vfio_quirk_table);
	const struct vfio_quirk *q = NULL;

	while ((q = vfio_quirk_next(vfio_quirk_table, n, q, vendor, device))) {
		int ret = q->apply(v);

		log_info("vfio-quirk", "%s: %s%s", v->bdf, q->name,
			 ret ? " failed" : "");
		if (ret)
			return ret;
	}
	return 0;
}

size_t vfio_quirks_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(vfio_quirk_table); i++)
		n += vfio_quirk_table[i].apply != NULL;
	return n;
}
