// SPDX-License-Identifier: MIT
/*
 * The common configuration structure of the virtio PCI transport (virtio
 * 1.2 §4.1.4.3): the PCI encoding of the transport-independent state
 * (transport.h) plus the PCI-only selectors and MSI-X vectors. A register
 * file read and written bytewise: a read copies from a snapshot of every
 * register, a write merges the written bytes into the snapshot and applies
 * each field they touch, in address order, so partial writes of a field
 * keep its other bytes, as on a real register file. vdev->lock held.
 */
#include <string.h>

#include "core/util.h"
#include "emul-devices/virtio/pci_internal.h"
#include "emul-devices/virtio/pci_regs.h"

static void put16(uint8_t *r, uint32_t off, uint16_t v)
{
	memcpy(r + off, &v, 2);
}

static void put32(uint8_t *r, uint32_t off, uint32_t v)
{
	memcpy(r + off, &v, 4);
}

/* The selected queue, or -1 when queue_select names none. */
static int vp_cur_queue(const struct virtio_pci *vp)
{
	return vp->queue_select < vp->t.dev->nr_queues ? vp->queue_select : -1;
}

static void vp_common_snapshot(struct virtio_pci *vp, uint8_t *r)
{
	const struct virtio_transport *t = &vp->t;
	const struct virtio_tq *tq;
	int q = vp_cur_queue(vp);

	memset(r, 0, VP_COMMON_REGS);
	put32(r, VIRTIO_PCI_COMMON_DFSELECT, vp->dfselect);
	put32(r, VIRTIO_PCI_COMMON_DF,
	      virtio_transport_features(t, vp->dfselect));
	put32(r, VIRTIO_PCI_COMMON_GFSELECT, vp->gfselect);
	if (vp->gfselect < 2)
		put32(r, VIRTIO_PCI_COMMON_GF,
		      (uint32_t)(t->driver_features >> (32 * vp->gfselect)));
	put16(r, VIRTIO_PCI_COMMON_MSIX, vp->config_vector);
	put16(r, VIRTIO_PCI_COMMON_NUMQ, (uint16_t)t->dev->nr_queues);
	r[VIRTIO_PCI_COMMON_STATUS] = t->dev->status;
	r[VIRTIO_PCI_COMMON_CFGGENERATION] = t->config_generation;
	put16(r, VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_select);
	if (q < 0)
		return; /* §4.1.4.3: an absent queue reads queue_size 0 */
	tq = &t->q[q];
	put16(r, VIRTIO_PCI_COMMON_Q_SIZE, tq->size);
	put16(r, VIRTIO_PCI_COMMON_Q_MSIX, vp->q[q].msix_vector);
	put16(r, VIRTIO_PCI_COMMON_Q_ENABLE, tq->enabled);
	put16(r, VIRTIO_PCI_COMMON_Q_NOFF, (uint16_t)q);
	put32(r, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)tq->desc);
	put32(r, VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(tq->desc >> 32));
	put32(r, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)tq->driver);
	put32(r, VIRTIO_PCI_COMMON_Q_AVAILHI, (uint32_t)(tq->driver >> 32));
	put32(r, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)tq->device);
	put32(r, VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)(tq->device >> 32));
}

static void vp_set_half(uint64_t *reg, bool hi, uint32_t v)
{
	if (hi)
		*reg = (*reg & 0xffffffffULL) | (uint64_t)v << 32;
	else
		*reg = (*reg & ~0xffffffffULL) | v;
}

/* The ring address a field writes, if the selected queue is writable. */
static uint64_t *vp_ring_reg(struct virtio_pci *vp, uint32_t field)
{
	int q = vp_cur_queue(vp);
	struct virtio_tq *tq;

	if (q < 0 || !virtio_transport_queue_writable(&vp->t, (unsigned)q))
		return NULL;
	tq = &vp->t.q[q];
	switch (field) {
	case VIRTIO_PCI_COMMON_Q_DESCLO: case VIRTIO_PCI_COMMON_Q_DESCHI:
		return &tq->desc;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: case VIRTIO_PCI_COMMON_Q_AVAILHI:
		return &tq->driver;
	default:
		return &tq->device;
	}
}

/* Apply one 32-bit-or-smaller field whose bytes the driver wrote. */
static void vp_common_apply(struct virtio_pci *vp, uint32_t field, uint32_t v)
{
	struct virtio_transport *t = &vp->t;
	int q = vp_cur_queue(vp);
	bool qw = q >= 0 && virtio_transport_queue_writable(t, (unsigned)q);
	uint64_t *ring;

	switch (field) {
	case VIRTIO_PCI_COMMON_DFSELECT: vp->dfselect = v; break;
	case VIRTIO_PCI_COMMON_GFSELECT: vp->gfselect = v; break;
	case VIRTIO_PCI_COMMON_GF:
		virtio_transport_set_driver_features(t, vp->gfselect, v);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		vp->config_vector = vp_vector(vp, (uint16_t)v);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		virtio_transport_set_status(t, (uint8_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT: vp->queue_select = (uint16_t)v; break;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (qw)
			t->q[q].size = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (q >= 0) {
			vp->q[q].msix_vector = vp_vector(vp, (uint16_t)v);
			vp_call_rebind(vp, &vp->q[q]);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		/* Writing 0 is meaningless without VIRTIO_F_RING_RESET. */
		if (qw && (v & 1))
			virtio_transport_queue_enable(t, (unsigned)q);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO: case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILLO: case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDLO: case VIRTIO_PCI_COMMON_Q_USEDHI:
		ring = vp_ring_reg(vp, field);
		if (ring)
			vp_set_half(ring, field % 8 != 0, v);
		break;
	}
}

/* Writable fields in address order: {offset, size}. 64-bit fields are
 * two 32-bit halves, so an 8-byte write applies both (§4.1.3.1). */
static const struct { uint8_t off, size; } vp_common_fields[] = {
	{ VIRTIO_PCI_COMMON_DFSELECT, 4 }, { VIRTIO_PCI_COMMON_GFSELECT, 4 },
	{ VIRTIO_PCI_COMMON_GF, 4 }, { VIRTIO_PCI_COMMON_MSIX, 2 },
	{ VIRTIO_PCI_COMMON_STATUS, 1 }, { VIRTIO_PCI_COMMON_Q_SELECT, 2 },
	{ VIRTIO_PCI_COMMON_Q_SIZE, 2 }, { VIRTIO_PCI_COMMON_Q_MSIX, 2 },
	{ VIRTIO_PCI_COMMON_Q_ENABLE, 2 }, { VIRTIO_PCI_COMMON_Q_DESCLO, 4 },
	{ VIRTIO_PCI_COMMON_Q_DESCHI, 4 }, { VIRTIO_PCI_COMMON_Q_AVAILLO, 4 },
	{ VIRTIO_PCI_COMMON_Q_AVAILHI, 4 }, { VIRTIO_PCI_COMMON_Q_USEDLO, 4 },
	{ VIRTIO_PCI_COMMON_Q_USEDHI, 4 },
};

void vp_common_read(struct virtio_pci *vp, uint64_t off, void *data,
		    uint32_t len)
{
	uint8_t r[VP_COMMON_REGS];

	if (off >= VP_COMMON_REGS || len > VP_COMMON_REGS - off)
		return;
	vp_common_snapshot(vp, r);
	memcpy(data, r + off, len);
}

void vp_common_write(struct virtio_pci *vp, uint64_t off, const void *data,
		     uint32_t len)
{
	uint8_t r[VP_COMMON_REGS];

	if (off >= VP_COMMON_REGS || len > VP_COMMON_REGS - off)
		return;
	vp_common_snapshot(vp, r);
	memcpy(r + off, data, len);
	for (unsigned i = 0; i < ARRAY_SIZE(vp_common_fields); i++) {
		uint32_t f = vp_common_fields[i].off, sz = vp_common_fields[i].size;
		uint32_t v = 0;

		if (!ranges_overlap(off, len, f, sz))
			continue;
		memcpy(&v, r + f, sz);
		vp_common_apply(vp, f, v);
	}
}
