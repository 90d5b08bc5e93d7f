// SPDX-License-Identifier: MIT
/*
 * Config space of an assigned function, virtualized over the real one.
 *
 * The guest sees iovmm's config model (core/pci/pci.h: bytes + writable
 * mask + write-1-to-clear mask) built from a snapshot of the device's
 * config at start, plus a per-byte map of what is passed through:
 *
 *  - header: ids, class, revision, subsystem ids, MIN_GNT/MAX_LAT are
 *    read-only copies. STATUS is read live from the device (interrupt and
 *    error bits are the device's), except CAP_LIST, which describes the
 *    filtered list; its RW1C error bits are forwarded. COMMAND is the
 *    model's; I/O, memory, bus master, parity, SERR# and INTx disable are
 *    pushed to the device (vfio-pci virtualizes INTx disable itself).
 *  - BARs are emulated (PCI 3.0 sec 6.2.5.1): sized from VFIO's region
 *    sizes, placed by iovmm's PCI host and moved by the guest; the device's
 *    own BARs keep the host's addresses and are never written.
 *  - the expansion ROM BAR (sec 6.2.5.2) is emulated the same way; reads
 *    of the ROM go to VFIO's ROM region. rom=off hides it.
 *  - capabilities are filtered and relinked at their original offsets: PM
 *    (virtual power state: the function stays in D0, vfio-pci owns the real
 *    power state), MSI and MSI-X (virtualized, vfio/pci_irq.c), PCI Express
 *    (exposed, see pcie_init()); vendor-specific and unknown capabilities
 *    are hidden unless x-keep-vendor-caps, which passes them through.
 *  - extended capabilities (0x100+) are all hidden: 0x100 reads as a zero
 *    header, "no extended capabilities" (PCIe 6.0 sec 7.6.3). AER, SR-IOV,
 *    ATS, ACS and the like describe or steer the host's topology.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "vfio/pci_internal.h"

#define CMD_FORWARD (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
		     PCI_COMMAND_PARITY | PCI_COMMAND_SERR |                    \
		     PCI_COMMAND_INTX_DISABLE)
#define STATUS_W1C 0xf900
#define MAX_CAPS 48

static const char *const who = "vfio-pci";

static uint32_t get_le(const uint8_t *p, uint32_t len)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < len; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint8_t byte_of(uint32_t val, uint32_t off, uint32_t at)
{
	return (uint8_t)(val >> (8 * (at - off)));
}

int vfio_pci_real_read(struct vfio_pci *v, uint32_t off, void *buf,
		       uint32_t len)
{
	ssize_t n;

	if (off >= v->cfg_size || len > v->cfg_size - off)
		return -EINVAL;
	n = v->vdev->ops->region_read(v->vdev, &v->cfg_region, off, buf, len);
	return n < 0 ? (int)n : 0;
}

int vfio_pci_real_write(struct vfio_pci *v, uint32_t off, const void *buf,
			uint32_t len)
{
	ssize_t n;

	if (off >= v->cfg_size || len > v->cfg_size - off)
		return -EINVAL;
	n = v->vdev->ops->region_write(v->vdev, &v->cfg_region, off, buf, len);
	return n < 0 ? (int)n : 0;
}

/* A read-only copy of the device's bytes [off, off + len). */
static void decl_copy(struct vfio_pci *v, uint32_t off, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		pci_cfg_declare(&v->pdev.cfg, off + i, 1, v->real_cfg[off + i], 0, 0);
}

static void decl_zero(struct vfio_pci *v, uint32_t off, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		pci_cfg_declare(&v->pdev.cfg, off + i, 1, 0, 0, 0);
}

static void mark_pass(struct vfio_pci *v, uint32_t off, uint32_t len,
		      uint8_t how)
{
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		if (off + i < v->cfg_size)
			v->pass[off + i] |= how;
}

/* ---- BARs and ROM ---- */

static int bars_init(struct vfio_pci *v, char *err, size_t errlen)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		struct vfio_pci_bar *b = &v->bars[i];
		uint32_t reg = get_le(&v->real_cfg[PCI_BASE_ADDRESS_0 + 4 * i], 4);
		enum pci_bar_kind kind;
		bool prefetch = false;
		int ret;

		b->gpa = PCI_BAR_UNMAPPED;
		for (unsigned s = 0; s < VFIO_BAR_MAX_SPANS; s++)
			b->slots[s] = -1;
		ret = v->vdev->ops->region_info(v->vdev, i, &b->reg);
		if (ret || !b->reg.size)
			continue;
		if (reg & PCI_BAR_IO_FLAG) {
			kind = PCI_BAR_IO;
		} else {
			kind = (reg & 0x6) == 0x4 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
			prefetch = reg & PCI_BAR_PREFETCH_FLAG;
		}
		ret = pci_cfg_add_bar(&v->pdev.cfg, i, kind, b->reg.size, prefetch);
		if (ret) {
			log_errf(err, errlen,
				 "%s: BAR%u (%s, 0x%llx bytes) cannot be emulated",
				 v->bdf, i, kind == PCI_BAR_IO ? "I/O" : "memory",
				 (unsigned long long)b->reg.size);
			return ret;
		}
		if (kind == PCI_BAR_MEM64)
			i++; /* the upper half */
	}
	return 0;
}

static void rom_init(struct vfio_pci *v)
{
	uint32_t mask;

	v->rom_mapped = PCI_BAR_UNMAPPED;
	if (v->cfg.rom_off ||
	    v->vdev->ops->region_info(v->vdev, VFIO_PCI_ROM_REGION_INDEX, &v->rom) ||
	    v->rom.size < 2048 || v->rom.size > (1ULL << 31) ||
	    !IS_POW2(v->rom.size))
		return;
	v->rom_size = v->rom.size;
	/* sec 6.2.5.2: address bits 31:11 above the size, enable bit 0. */
	mask = (uint32_t)~(v->rom_size - 1) & 0xfffff800u;
	pci_cfg_declare(&v->pdev.cfg, PCI_ROM_ADDRESS, 4, 0,
			mask | PCI_ROM_ADDRESS_ENABLE, 0);
}

static void rom_sync(struct vfio_pci *v)
{
	uint32_t reg = pci_cfg_read(&v->pdev.cfg, PCI_ROM_ADDRESS, 4);
	uint16_t cmd = (uint16_t)pci_cfg_read(&v->pdev.cfg, PCI_COMMAND, 2);
	uint64_t want = PCI_BAR_UNMAPPED, addr;

	if (!v->rom_size)
		return;
	addr = reg & ~(uint32_t)(v->rom_size - 1) & 0xfffff800u;
	if ((reg & PCI_ROM_ADDRESS_ENABLE) && (cmd & PCI_COMMAND_MEMORY) &&
	    addr && !range_overflows(addr, v->rom_size) &&
	    addr + v->rom_size <= (1ULL << 32))
		want = addr;
	if (want == v->rom_mapped)
		return;
	if (v->rom_mapped != PCI_BAR_UNMAPPED)
		bus_unregister(v->ctx.bus, BUS_MMIO, v->rom_mapped, &v->rom_bdev);
	v->rom_mapped = PCI_BAR_UNMAPPED;
	if (want == PCI_BAR_UNMAPPED || !v->ctx.bus)
		return;
	if (bus_register(v->ctx.bus, BUS_MMIO, want, v->rom_size, &v->rom_bdev))
		log_ratelimited(LOG_WARN, who, "%s: ROM at 0x%llx overlaps another range; not mapped",
				v->bdf, (unsigned long long)want);
	else
		v->rom_mapped = want;
}

/* ---- capabilities ---- */

struct cap_ent {
	uint32_t off;
	uint32_t len;
	uint8_t id;
	bool keep;
};

static void pm_init(struct vfio_pci *v, uint32_t cap)
{
	uint16_t pmcsr = (uint16_t)get_le(&v->real_cfg[cap + PCI_PM_CTRL], 2);

	decl_copy(v, cap + 2, 6);
	/* Power state (bits 1:0) and PME_En are the guest's; PME status RW1C. */
	pci_cfg_declare(&v->pdev.cfg, cap + PCI_PM_CTRL, 2, pmcsr & ~0x8103u,
			0x0103, 0x8000);
}

/*
 * PCI Express capability (PCIe 6.0 sec 7.5.3). iovmm puts devices on the
 * root bus with no root port above them, so an Endpoint is presented as a
 * Root Complex Integrated Endpoint (sec 1.3.2.3), which has no link: the
 * link, slot and root registers read as zero and Linux's ASPM and link
 * code leave it alone. Device Control is the guest's (not forwarded: the
 * host set payload sizes for its own topology); a write of Initiate FLR
 * resets the function through VFIO. Device Status is read live.
 */
static int pcie_init(struct vfio_pci *v, uint32_t cap, uint32_t len)
{
	uint16_t flags = (uint16_t)get_le(&v->real_cfg[cap + PCI_EXP_FLAGS], 2);
	uint32_t devcap = get_le(&v->real_cfg[cap + PCI_EXP_DEVCAP], 4);
	unsigned type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
	bool rciep = type == PCI_EXP_TYPE_ENDPOINT || type == PCI_EXP_TYPE_LEG_END;

	if (type != PCI_EXP_TYPE_ENDPOINT && type != PCI_EXP_TYPE_LEG_END &&
	    type != PCI_EXP_TYPE_RC_END)
		return -ENOTSUP; /* ports and bridges are not assignable here */
	if (rciep)
		flags = (uint16_t)((flags & ~(PCI_EXP_FLAGS_TYPE | PCI_EXP_FLAGS_SLOT)) |
				   PCI_EXP_TYPE_RC_END << 4);
	pci_cfg_declare(&v->pdev.cfg, cap + PCI_EXP_FLAGS, 2, flags, 0, 0);
	if (!(v->vdev->flags & VFIO_DEVICE_FLAGS_RESET))
		devcap &= ~PCI_EXP_DEVCAP_FLR;
	pci_cfg_declare(&v->pdev.cfg, cap + PCI_EXP_DEVCAP, 4, devcap, 0, 0);
	pci_cfg_declare(&v->pdev.cfg, cap + PCI_EXP_DEVCTL, 2,
			get_le(&v->real_cfg[cap + PCI_EXP_DEVCTL], 2) & 0x7fff,
			0x7fff, 0);
	decl_zero(v, cap + PCI_EXP_DEVSTA, 2);
	mark_pass(v, cap + PCI_EXP_DEVSTA, 2, VFIO_CFG_PASS_R | VFIO_CFG_PASS_W);
	/* Link, slot and root registers: 0x0c-0x23 (0x0c-0x13 in v1). */
	decl_zero(v, cap + PCI_EXP_LNKCAP,
		  (len < 0x24 ? len : 0x24) - PCI_EXP_LNKCAP);
	if (len > PCI_EXP_DEVCAP2) {
		decl_copy(v, cap + PCI_EXP_DEVCAP2, 4);
		pci_cfg_declare(&v->pdev.cfg, cap + PCI_EXP_DEVCTL2, 2,
				get_le(&v->real_cfg[cap + PCI_EXP_DEVCTL2], 2),
				0xffff, 0);
		decl_zero(v, cap + PCI_EXP_DEVCTL2 + 2, len - PCI_EXP_DEVCTL2 - 2);
	}
	v->pcie_cap = cap;
	return 0;
}

static uint32_t msi_len(uint16_t ctrl)
{
	/* sec 6.8.1: 32-bit 0x0a, 64-bit 0x0e, each +0x0a with masking. */
	return (ctrl & 0x80 ? 0x0e : 0x0a) + (ctrl & 0x100 ? 0x0a : 0);
}

static uint32_t cap_known_len(const struct vfio_pci *v, const struct cap_ent *c)
{
	const uint8_t *r = v->real_cfg;

	switch (c->id) {
	case PCI_CAP_ID_PM:
		return 8;
	case PCI_CAP_ID_MSI:
		return msi_len((uint16_t)get_le(&r[c->off + 2], 2));
	case PCI_CAP_ID_MSIX:
		return 12;
	case PCI_CAP_ID_EXP: {
		/*
		 * Version 2 has the full 0x3c bytes (PCIe 6.0 sec 7.5.3);
		 * version 1 endpoints stop after Link Status (0x14), only
		 * ports carry the slot and root registers up to 0x24.
		 */
		uint16_t f = (uint16_t)get_le(&r[c->off + 2], 2);
		unsigned type = (f & PCI_EXP_FLAGS_TYPE) >> 4;

		if ((f & PCI_EXP_FLAGS_VERS) >= 2)
			return 0x3c;
		return type == PCI_EXP_TYPE_ENDPOINT ||
		       type == PCI_EXP_TYPE_LEG_END ||
		       type == PCI_EXP_TYPE_RC_END ? 0x14 : 0x24;
	}
	case PCI_CAP_ID_VNDR:
		return r[c->off + 2] < 3 ? 3 : r[c->off + 2];
	default:
		return 0;
	}
}

/* Walk the device's list; bounded and loop-proof (sec 6.7). */
static unsigned caps_walk(const struct vfio_pci *v, struct cap_ent *caps)
{
	const uint8_t *r = v->real_cfg;
	uint8_t seen[PCI_CFG_LEGACY_SIZE / 8] = { 0 };
	uint32_t off;
	unsigned n = 0;

	if (!(r[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	off = r[PCI_CAPABILITY_LIST] & 0xfc;
	while (off >= PCI_CAP_START && off < PCI_CFG_LEGACY_SIZE && n < MAX_CAPS &&
	       !(seen[off / 8] & (1u << (off % 8)))) {
		seen[off / 8] |= (uint8_t)(1u << (off % 8));
		caps[n++] = (struct cap_ent){ .off = off, .id = r[off] };
		off = r[off + 1] & 0xfc;
	}
	/* Unknown lengths run to the next capability (or the end). */
	for (unsigned i = 0; i < n; i++) {
		uint32_t end = PCI_CFG_LEGACY_SIZE;

		for (unsigned j = 0; j < n; j++)
			if (caps[j].off > caps[i].off && caps[j].off < end)
				end = caps[j].off;
		caps[i].len = cap_known_len(v, &caps[i]);
		if (!caps[i].len)
			caps[i].len = end - caps[i].off;
	}
	return n;
}

static bool cap_overlaps_kept(const struct cap_ent *caps, unsigned n,
			      unsigned i)
{
	for (unsigned j = 0; j < n; j++)
		if (j != i && caps[j].keep &&
		    ranges_overlap(caps[i].off, caps[i].len, caps[j].off,
				   caps[j].len))
			return true;
	return false;
}

static int cap_init_one(struct vfio_pci *v, struct cap_ent *c, char *err,
			size_t errlen)
{
	switch (c->id) {
	case PCI_CAP_ID_PM:
		pm_init(v, c->off);
		return 0;
	case PCI_CAP_ID_MSI:
		return vfio_pci_msi_init(v, c->off, err, errlen);
	case PCI_CAP_ID_MSIX:
		return vfio_pci_msix_init(v, c->off, err, errlen);
	case PCI_CAP_ID_EXP:
		return pcie_init(v, c->off, c->len);
	default:
		/* x-keep-vendor-caps: the body is the device's, both ways. */
		mark_pass(v, c->off + 2, c->len - 2,
			  VFIO_CFG_PASS_R | VFIO_CFG_PASS_W);
		return 0;
	}
}

static int caps_init(struct vfio_pci *v, char *err, size_t errlen)
{
	struct cap_ent caps[MAX_CAPS];
	unsigned n = caps_walk(v, caps);
	uint32_t prev = PCI_CAPABILITY_LIST;
	int ret;

	for (unsigned i = 0; i < n; i++) {
		struct cap_ent *c = &caps[i];
		bool known = c->id == PCI_CAP_ID_PM || c->id == PCI_CAP_ID_MSI ||
			     c->id == PCI_CAP_ID_MSIX || c->id == PCI_CAP_ID_EXP;

		if (!known && !v->cfg.keep_vendor_caps)
			continue;
		if (c->len < 2 || c->off + c->len > PCI_CFG_LEGACY_SIZE ||
		    cap_overlaps_kept(caps, n, i)) {
			log_warn(who, "%s: capability 0x%02x at 0x%02x is malformed; hidden",
				 v->bdf, c->id, c->off);
			continue;
		}
		ret = cap_init_one(v, c, err, errlen);
		if (ret == -ENOTSUP || ret == -EINVAL) {
			log_warn(who, "%s: capability 0x%02x at 0x%02x cannot be virtualized; hidden",
				 v->bdf, c->id, c->off);
			continue;
		}
		if (ret)
			return ret;
		c->keep = true;
	}
	/* Relink the kept capabilities in their original order. */
	for (unsigned i = 0; i < n; i++) {
		if (!caps[i].keep)
			continue;
		pci_cfg_declare(&v->pdev.cfg, caps[i].off, 1, caps[i].id, 0, 0);
		pci_cfg_declare(&v->pdev.cfg, prev == PCI_CAPABILITY_LIST ?
				prev : prev + 1, 1, caps[i].off, 0, 0);
		prev = caps[i].off;
	}
	if (prev != PCI_CAPABILITY_LIST) {
		pci_cfg_declare(&v->pdev.cfg, prev + 1, 1, 0, 0, 0);
		v->pdev.cfg.data[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
		v->pdev.cfg.reset[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	}
	return 0;
}

/* ---- init ---- */

int vfio_pci_config_init(struct vfio_pci *v, char *err, size_t errlen)
{
	const uint8_t *r = v->real_cfg;
	struct pci_id id;
	int ret;

	ret = v->vdev->ops->region_info(v->vdev, VFIO_PCI_CONFIG_REGION_INDEX,
					   &v->cfg_region);
	if (ret || v->cfg_region.size < PCI_CFG_LEGACY_SIZE) {
		log_errf(err, errlen, "%s: no config space region", v->bdf);
		return ret ? ret : -ENODEV;
	}
	v->cfg_size = v->cfg_region.size > PCI_CFG_SIZE ? PCI_CFG_SIZE :
			      (uint32_t)v->cfg_region.size;
	memset(v->real_cfg, 0, sizeof(v->real_cfg));
	ret = vfio_pci_real_read(v, 0, v->real_cfg, v->cfg_size);
	if (ret) {
		log_errf(err, errlen, "%s: reading config space: %s", v->bdf,
			 strerror(-ret));
		return ret;
	}
	id = (struct pci_id){
		.vendor = (uint16_t)get_le(&r[PCI_VENDOR_ID], 2),
		.device = (uint16_t)get_le(&r[PCI_DEVICE_ID], 2),
		.subsys_vendor = (uint16_t)get_le(&r[PCI_SUBSYSTEM_VENDOR_ID], 2),
		.subsys = (uint16_t)get_le(&r[PCI_SUBSYSTEM_ID], 2),
		.revision = r[PCI_REVISION_ID],
		.class_code = get_le(&r[PCI_CLASS_PROG], 3),
		.int_pin = 0, /* until vfio_pci_set_intx_gsi() */
	};
	if (id.vendor == 0xffff || id.vendor == 0) {
		log_errf(err, errlen, "%s: config space reads as 0x%04x: the device does not respond",
			 v->bdf, id.vendor);
		return -EIO;
	}
	if ((r[PCI_HEADER_TYPE] & 0x7f) != 0) {
		log_errf(err, errlen, "%s: header type %u: only endpoints (type 0) can be assigned",
			 v->bdf, r[PCI_HEADER_TYPE] & 0x7f);
		return -ENOTSUP;
	}
	ret = pci_dev_init(&v->pdev, &vfio_pci_dev_ops, v->name, &id);
	if (ret)
		return ret;
	decl_copy(v, PCI_MIN_GNT, 2);
	/* STATUS: live from the device, see vfio_pci_cfg_read(). */
	mark_pass(v, PCI_STATUS, 2, VFIO_CFG_PASS_R);
	ret = bars_init(v, err, errlen);
	if (ret)
		return ret;
	rom_init(v);
	return caps_init(v, err, errlen);
}

/* ---- accesses (dev->lock held) ---- */

uint32_t vfio_pci_cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len)
{
	struct vfio_pci *v = container_of(dev, struct vfio_pci, pdev);
	uint8_t real[4];
	uint32_t val;
	bool pass = false;

	if (v->msi.present)
		vfio_pci_msi_cfg_read(v, off, len);
	val = pci_cfg_read(&dev->cfg, off, len);
	for (uint32_t i = 0; i < len; i++)
		pass |= v->pass[off + i] & VFIO_CFG_PASS_R;
	if (!pass)
		return val;
	if (vfio_pci_real_read(v, off, real, len))
		memset(real, 0xff, sizeof(real));
	for (uint32_t i = 0; i < len; i++) {
		uint32_t at = off + i;
		uint8_t b = real[i];

		if (!(v->pass[at] & VFIO_CFG_PASS_R))
			continue;
		/* CAP_LIST describes our filtered list, not the device's. */
		if (at == PCI_STATUS)
			b = (uint8_t)((b & ~PCI_STATUS_CAP_LIST) |
				      (dev->cfg.data[PCI_STATUS] & PCI_STATUS_CAP_LIST));
		val = (val & ~(0xffu << (8 * i))) | (uint32_t)b << (8 * i);
	}
	return val;
}

void vfio_pci_cmd_sync(struct vfio_pci *v)
{
	uint16_t virt = (uint16_t)pci_cfg_read(&v->pdev.cfg, PCI_COMMAND, 2);
	uint16_t real, want;

	if (vfio_pci_real_read(v, PCI_COMMAND, &real, 2))
		return;
	want = (uint16_t)((real & ~CMD_FORWARD) | (virt & CMD_FORWARD));
	if (want != real && vfio_pci_real_write(v, PCI_COMMAND, &want, 2))
		log_ratelimited(LOG_WARN, who, "%s: cannot write COMMAND", v->bdf);
}

/* Bytes marked PASS_W go to the device as the guest wrote them. */
static void pass_write(struct vfio_pci *v, uint32_t off, uint32_t val,
		       uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		uint32_t j = i;
		uint8_t buf[4];

		if (!(v->pass[off + i] & VFIO_CFG_PASS_W)) {
			i++;
			continue;
		}
		while (j < len && (v->pass[off + j] & VFIO_CFG_PASS_W)) {
			buf[j - i] = byte_of(val, off, off + j);
			j++;
		}
		vfio_pci_real_write(v, off + i, buf, j - i);
		i = j;
	}
}

static void status_write(struct vfio_pci *v, uint32_t off, uint32_t val,
			 uint32_t len)
{
	uint16_t st = 0;

	for (uint32_t at = off; at < off + len; at++)
		if (at == PCI_STATUS || at == PCI_STATUS + 1)
			st |= (uint16_t)(byte_of(val, off, at) << (8 * (at - PCI_STATUS)));
	st &= STATUS_W1C;
	if (st)
		vfio_pci_real_write(v, PCI_STATUS, &st, 2);
}

static void pcie_written(struct vfio_pci *v, uint32_t off, uint32_t val,
			 uint32_t len)
{
	uint32_t hi = v->pcie_cap + PCI_EXP_DEVCTL + 1;
	int ret;

	if (off > hi || off + len <= hi ||
	    !(byte_of(val, off, hi) & (PCI_EXP_DEVCTL_BCR_FLR >> 8)))
		return;
	/*
	 * Initiate Function Level Reset (PCIe 6.0 sec 6.6.2): the function's
	 * registers go back to their defaults, so the model does too; the PCI
	 * host then sees the BARs stop decoding and takes them off the bus.
	 */
	vfio_pci_bars_unmap(v);
	vfio_pci_irq_reset(v, true);
	ret = v->vdev->ops->reset(v->vdev);
	if (ret)
		log_ratelimited(LOG_WARN, who, "%s: FLR: %s", v->bdf, strerror(-ret));
	pci_cfg_reset(&v->pdev.cfg);
	vfio_pci_cmd_sync(v);
	rom_sync(v);
}

void vfio_pci_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t val,
			uint32_t len)
{
	struct vfio_pci *v = container_of(dev, struct vfio_pci, pdev);
	uint16_t old_cmd = (uint16_t)pci_cfg_read(&dev->cfg, PCI_COMMAND, 2);
	uint16_t cmd;

	pci_cfg_write(&dev->cfg, off, val, len);
	pass_write(v, off, val, len);
	if (ranges_overlap(off, len, PCI_COMMAND, 2)) {
		cmd = (uint16_t)pci_cfg_read(&dev->cfg, PCI_COMMAND, 2);
		/* Take the memory slots down before the device stops decoding. */
		if ((old_cmd & PCI_COMMAND_MEMORY) && !(cmd & PCI_COMMAND_MEMORY))
			vfio_pci_bars_unmap(v);
		vfio_pci_cmd_sync(v);
	}
	if (ranges_overlap(off, len, PCI_STATUS, 2))
		status_write(v, off, val, len);
	if (ranges_overlap(off, len, PCI_COMMAND, 2) ||
	    ranges_overlap(off, len, PCI_ROM_ADDRESS, 4))
		rom_sync(v);
	if (v->msi.present && ranges_overlap(off, len, v->msi.cap, v->msi.len))
		vfio_pci_msi_cfg_written(v, off, len);
	if (v->msix.present && ranges_overlap(off, len, v->msix.cap, 12))
		vfio_pci_msix_cfg_written(v, off, len);
	if (v->pcie_cap)
		pcie_written(v, off, val, len);
}

void vfio_pci_rom_sync(struct vfio_pci *v)
{
	rom_sync(v);
}
