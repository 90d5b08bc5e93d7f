/* SPDX-License-Identifier: MIT */
/*
 * Device quirks for assigned functions: per vendor:device fix-ups applied
 * after the config space is virtualized and before the device is plugged.
 * Every quirk lives in vfio/quirks.c's table with a prose note saying what
 * the device does wrong, how the quirk compensates, and where it is
 * documented (erratum, kernel or QEMU commit, bug link).
 */
#ifndef IOVMM_VFIO_QUIRKS_H
#define IOVMM_VFIO_QUIRKS_H

#include <stddef.h>
#include <stdint.h>

#define VFIO_QUIRK_ANY 0xffff /* device id wildcard */

struct vfio_pci;

struct vfio_quirk {
	uint16_t vendor;
	uint16_t device;   /* or VFIO_QUIRK_ANY */
	const char *name;
	/* 0 or -errno (creation fails). Runs with no lock held, before plug. */
	int (*apply)(struct vfio_pci *v);
};

/*
 * The first entry of table[0, n) matching vendor:device after *from (NULL:
 * from the start), or NULL. Exposed so tests can run the lookup on their
 * own table.
 */
const struct vfio_quirk *vfio_quirk_next(const struct vfio_quirk *table,
					 size_t n, const struct vfio_quirk *from,
					 uint16_t vendor, uint16_t device);

/* Apply every quirk of iovmm's table that matches v. 0 or the first error. */
int vfio_quirks_apply(struct vfio_pci *v, uint16_t vendor, uint16_t device);

/* Number of entries in iovmm's table (for `iovmm vfio` listings/tests). */
size_t vfio_quirks_count(void);

#endif
