/* SPDX-License-Identifier: MIT */
/*
 * Guest-driver helpers for the vhost-user device tests: config space and
 * BAR accesses through the real bus, as a virtio driver does them (virtio
 * 1.2 §4.1: vendor capabilities, common configuration, notify, ISR,
 * MSI-X table). Header-only; the test defines `gp_bus` and `gp_slot`.
 */
#ifndef IOVMM_TEST_GUEST_PCI_H
#define IOVMM_TEST_GUEST_PCI_H

#include <check.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/pci/msix.h"
#include "core/pci/pci.h"
#include "emul-devices/virtio/pci.h"
#include "emul-devices/virtio/pci_regs.h"
#include "emul-devices/virtio/virtio.h"
#include "tests/unit/core/pci/pci_test_util.h"

extern struct bus *gp_bus;
extern unsigned gp_slot;

static inline uint32_t gp_cfg_rd(uint32_t off, uint32_t len)
{
	return t_cf8_read(gp_bus, gp_slot, off, len);
}

static inline void gp_cfg_wr(uint32_t off, uint32_t v, uint32_t len)
{
	t_cf8_write(gp_bus, gp_slot, off, v, len);
}

static inline uint32_t gp_find_cap(uint8_t id, int vtype)
{
	uint32_t off = gp_cfg_rd(PCI_CAPABILITY_LIST, 1);

	for (int n = 0; off && n < 48; n++) {
		if (gp_cfg_rd(off, 1) == id &&
		    (vtype < 0 || gp_cfg_rd(off + 3, 1) == (uint32_t)vtype))
			return off;
		off = gp_cfg_rd(off + 1, 1);
	}
	return 0;
}

static inline uint64_t gp_bar(unsigned bar)
{
	uint64_t lo = gp_cfg_rd(PCI_BASE_ADDRESS_0 + 4 * bar, 4);

	if (lo & PCI_BAR_MEM64_FLAG)
		lo |= (uint64_t)gp_cfg_rd(PCI_BASE_ADDRESS_0 + 4 * bar + 4, 4) << 32;
	return lo & ~0xfULL;
}

/* Guest address of a virtio capability's region (1 common .. 4 device). */
static inline uint64_t gp_region(uint8_t type)
{
	uint32_t c = gp_find_cap(0x09, type);

	ck_assert_uint_ne(c, 0);
	return gp_bar(gp_cfg_rd(c + 4, 1)) + gp_cfg_rd(c + 8, 4);
}

static inline uint64_t gp_common_rd(uint32_t off, uint32_t len)
{
	return t_mmio_read(gp_bus, gp_region(1) + off, len);
}

static inline void gp_common_wr(uint32_t off, uint64_t v, uint32_t len)
{
	t_mmio_write(gp_bus, gp_region(1) + off, v, len);
}

static inline uint64_t gp_devcfg_rd(uint32_t off, uint32_t len)
{
	return t_mmio_read(gp_bus, gp_region(4) + off, len);
}

static inline uint8_t gp_isr(void)
{
	return (uint8_t)t_mmio_read(gp_bus, gp_region(3), 1);
}

static inline uint8_t gp_status(void)
{
	return (uint8_t)gp_common_rd(VIRTIO_PCI_COMMON_STATUS, 1);
}

static inline uint64_t gp_dev_features(void)
{
	uint64_t f;

	gp_common_wr(VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	f = gp_common_rd(VIRTIO_PCI_COMMON_DF, 4);
	gp_common_wr(VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	return f | gp_common_rd(VIRTIO_PCI_COMMON_DF, 4) << 32;
}

/* §3.1.1 steps 1-6; returns the status read back. */
static inline uint8_t gp_negotiate(uint64_t f)
{
	gp_common_wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	gp_common_wr(VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	gp_common_wr(VIRTIO_PCI_COMMON_STATUS,
		     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	gp_common_wr(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	gp_common_wr(VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
	gp_common_wr(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	gp_common_wr(VIRTIO_PCI_COMMON_GF, f >> 32, 4);
	gp_common_wr(VIRTIO_PCI_COMMON_STATUS,
		     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			     VIRTIO_STATUS_FEATURES_OK, 1);
	return gp_status();
}

static inline void gp_driver_ok(void)
{
	gp_common_wr(VIRTIO_PCI_COMMON_STATUS,
		     gp_status() | VIRTIO_STATUS_DRIVER_OK, 1);
}

/* Program queue q's rings and vector, then enable it. */
static inline void gp_queue(unsigned q, uint16_t size, uint64_t desc,
			    uint64_t avail, uint64_t used, uint16_t vector)
{
	gp_common_wr(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	gp_common_wr(VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	gp_common_wr(VIRTIO_PCI_COMMON_Q_MSIX, vector, 2);
	gp_common_wr(VIRTIO_PCI_COMMON_Q_DESCLO, desc, 8);
	gp_common_wr(VIRTIO_PCI_COMMON_Q_AVAILLO, avail, 8);
	gp_common_wr(VIRTIO_PCI_COMMON_Q_USEDLO, used, 8);
	gp_common_wr(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

/* Notify address of queue q (§4.1.4.4). */
static inline uint64_t gp_notify_addr(unsigned q)
{
	uint32_t c = gp_find_cap(0x09, 2);

	gp_common_wr(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	return gp_region(2) + gp_cfg_rd(c + 16,
					4) * gp_common_rd(VIRTIO_PCI_COMMON_Q_NOFF, 2);
}

/* A trapped 16-bit kick (what a driver's iowrite16 becomes without KVM). */
static inline void gp_kick(unsigned q)
{
	t_mmio_write(gp_bus, gp_notify_addr(q), q, 2);
}

/* ---- MSI-X ---- */

static inline uint64_t gp_msix_table(void)
{
	uint32_t cap = gp_find_cap(PCI_CAP_ID_MSIX, -1);
	uint32_t t = gp_cfg_rd(cap + PCI_MSIX_TABLE, 4);

	return gp_bar(t & 7) + (t & ~7u);
}

static inline uint64_t gp_msix_pba(void)
{
	uint32_t cap = gp_find_cap(PCI_CAP_ID_MSIX, -1);
	uint32_t t = gp_cfg_rd(cap + PCI_MSIX_PBA, 4);

	return gp_bar(t & 7) + (t & ~7u);
}

static inline void gp_msix_entry(unsigned v, uint32_t data, bool masked)
{
	uint64_t e = gp_msix_table() + 16ULL * v;

	t_mmio_write(gp_bus, e, 0xfee00000, 4);
	t_mmio_write(gp_bus, e + 4, 0, 4);
	t_mmio_write(gp_bus, e + 8, data, 4);
	t_mmio_write(gp_bus, e + 12, masked, 4);
}

static inline void gp_msix_mask(unsigned v, bool masked)
{
	t_mmio_write(gp_bus, gp_msix_table() + 16ULL * v + 12, masked, 4);
}

static inline void gp_msix_ctrl(uint16_t flags)
{
	gp_cfg_wr(gp_find_cap(PCI_CAP_ID_MSIX, -1) + PCI_MSIX_FLAGS, flags, 2);
}

static inline bool gp_msix_pending(unsigned v)
{
	uint64_t w = t_mmio_read(gp_bus, gp_msix_pba() + 8 * (v / 64), 8);

	return (w >> (v % 64)) & 1;
}

#endif
