/* SPDX-License-Identifier: MIT */
/*
 * The virtio modern PCI transport, driver side (virtio 1.2 §4.1): find the
 * structures through vendor-specific capabilities (§4.1.4), negotiate
 * features (§3.1.1), program queues through the common configuration
 * (§4.1.4.3). Every value read from the device is checked before use (a
 * capability pointing outside its BAR is ignored).
 */
#include "guest/virtio.h"

#define PCI_CAP_VENDOR 0x09
#define PCI_COMMAND 0x04
#define PCI_CMD_INTX_DISABLE 0x400

/* struct virtio_pci_cap (§4.1.4) field offsets and cfg_type values. */
#define VCAP_CFG_TYPE 3
#define VCAP_BAR 4
#define VCAP_OFFSET 8
#define VCAP_LENGTH 12
#define VCAP_NOTIFY_MULT 16
#define VCAP_COMMON 1
#define VCAP_NOTIFY 2
#define VCAP_ISR 3
#define VCAP_DEVICE 4

/* struct virtio_pci_common_cfg (§4.1.4.3). */
#define VCOM_DFSELECT 0x00
#define VCOM_DF 0x04
#define VCOM_GFSELECT 0x08
#define VCOM_GF 0x0c
#define VCOM_MSIX 0x10
#define VCOM_NUMQ 0x12
#define VCOM_STATUS 0x14
#define VCOM_CFGGEN 0x15
#define VCOM_Q_SELECT 0x16
#define VCOM_Q_SIZE 0x18
#define VCOM_Q_MSIX 0x1a
#define VCOM_Q_ENABLE 0x1c
#define VCOM_Q_NOFF 0x1e
#define VCOM_Q_DESC 0x20
#define VCOM_Q_DRIVER 0x28
#define VCOM_Q_DEVICE 0x30
#define VIRTIO_MSI_NO_VECTOR 0xffff

#define VIRTIO_DEFAULT_QSIZE 256
#define VIRTIO_RESET_MS 1000

/* Address of [off, off+len) in the cap's BAR, or 0 if it does not fit. */
static uint64_t cap_region(const struct kit_pci_dev *d, unsigned int cap,
			   uint32_t *len_out)
{
	uint8_t bar = (uint8_t)kit_pci_cfg_read(d, cap + VCAP_BAR, 1);
	uint32_t off = kit_pci_cfg_read(d, cap + VCAP_OFFSET, 4);
	uint32_t len = kit_pci_cfg_read(d, cap + VCAP_LENGTH, 4);
	const struct kit_pci_bar *b;

	if (bar > 5)
		return 0;
	b = &d->bar[bar];
	if (!b->base || b->io || len == 0 || off > b->size ||
	    len > b->size - off)
		return 0;
	*len_out = len;
	return b->base + off;
}

/* §4.1.4: walk the vendor capabilities; the first usable one of each type
 * wins. The walk is bounded like kit_pci_find_cap's. */
static int virtio_map_caps(struct kit_virtio *v)
{
	const struct kit_pci_dev *d = v->pci;
	unsigned int ptr;
	uint32_t len;

	if (!(kit_pci_cfg_read(d, 0x06, 2) & 0x10))
		return -1;
	ptr = kit_pci_cfg_read(d, 0x34, 1) & 0xfc;
	for (int n = 0; n < 48 && ptr >= 0x40; n++) {
		uint32_t hdr = kit_pci_cfg_read(d, ptr, 4);
		uint8_t type = (uint8_t)(hdr >> 24);
		uint64_t a;

		if ((hdr & 0xff) != PCI_CAP_VENDOR || ((hdr >> 16) & 0xff) < 16)
			goto next;
		a = cap_region(d, ptr, &len);
		if (!a)
			goto next;
		if (type == VCAP_COMMON && !v->common && len >= 0x38) {
			v->common = a;
		} else if (type == VCAP_NOTIFY && !v->notify_base) {
			v->notify_base = a;
			v->notify_mult = kit_pci_cfg_read(d, ptr +
							  VCAP_NOTIFY_MULT, 4);
			v->notify_len = len;
		} else if (type == VCAP_ISR && !v->isr) {
			v->isr = a;
		} else if (type == VCAP_DEVICE && !v->device) {
			v->device = a;
			v->device_len = len;
		}
next:
		ptr = (hdr >> 8) & 0xfc;
	}
	return v->common && v->notify_base ? 0 : -1;
}

int kit_virtio_find(uint16_t modern_id, uint16_t trans_id,
		    struct kit_virtio *v, const char **reason)
{
	struct kit_pci_dev *d = kit_pci_find(KIT_VIRTIO_VENDOR, modern_id);

	memset(v, 0, sizeof(*v));
	if (!d)
		d = kit_pci_find(KIT_VIRTIO_VENDOR, trans_id);
	if (!d) {
		*reason = "no-device";
		return -1;
	}
	v->pci = d;
	/* Transitional functions qualify only with the modern structures. */
	if (virtio_map_caps(v) < 0) {
		*reason = "no-caps";
		return -1;
	}
	/* Poll mode: no INTx either (MSI-X stays disabled). */
	kit_pci_cfg_write(d, PCI_COMMAND, 2,
			  kit_pci_cfg_read(d, PCI_COMMAND, 2) |
			  PCI_CMD_INTX_DISABLE);
	v->num_queues = kit_mmio_read16(v->common + VCOM_NUMQ);
	return 0;
}

uint8_t kit_virtio_status(const struct kit_virtio *v)
{
	return kit_mmio_read8(v->common + VCOM_STATUS);
}

static void virtio_set_status(struct kit_virtio *v, uint8_t s)
{
	kit_mmio_write8(v->common + VCOM_STATUS, s);
}

bool kit_virtio_wait_status(const struct kit_virtio *v, uint8_t bits,
			    uint64_t ms)
{
	uint64_t t0 = kit_rdtsc(), limit = kit_ms_to_cycles(ms);

	do {
		if ((kit_virtio_status(v) & bits) == bits)
			return true;
		kit_pause();
	} while (kit_rdtsc() - t0 < limit);
	return false;
}

/* §4.1.4.3.2: after writing 0 the driver waits until it reads back 0. */
int kit_virtio_reset(struct kit_virtio *v)
{
	uint64_t t0 = kit_rdtsc(), limit = kit_ms_to_cycles(VIRTIO_RESET_MS);

	virtio_set_status(v, 0);
	while (kit_virtio_status(v) != 0) {
		if (kit_rdtsc() - t0 > limit)
			return -1;
		kit_pause();
	}
	return 0;
}

static uint64_t virtio_read_features(struct kit_virtio *v)
{
	uint64_t f;

	kit_mmio_write32(v->common + VCOM_DFSELECT, 0);
	f = kit_mmio_read32(v->common + VCOM_DF);
	kit_mmio_write32(v->common + VCOM_DFSELECT, 1);
	f |= (uint64_t)kit_mmio_read32(v->common + VCOM_DF) << 32;
	return f;
}

int kit_virtio_negotiate(struct kit_virtio *v, uint64_t required,
			 uint64_t optional, const char **reason)
{
	uint8_t s;

	if (kit_virtio_reset(v) < 0) {
		*reason = "reset-timeout";
		return -1;
	}
	/* §3.1.1 steps 2-6. */
	virtio_set_status(v, KIT_VIRTIO_S_ACK);
	virtio_set_status(v, KIT_VIRTIO_S_ACK | KIT_VIRTIO_S_DRIVER);
	v->offered = virtio_read_features(v);
	required |= KIT_BIT(KIT_VIRTIO_F_VERSION_1);
	if ((v->offered & required) != required) {
		*reason = (required & ~v->offered) &
				  KIT_BIT(KIT_VIRTIO_F_RING_PACKED)
			  ? "no-packed"
			  : "missing-feature";
		virtio_set_status(v, KIT_VIRTIO_S_FAILED);
		return -1;
	}
	v->features = required | (optional & v->offered);
	kit_mmio_write32(v->common + VCOM_GFSELECT, 0);
	kit_mmio_write32(v->common + VCOM_GF, (uint32_t)v->features);
	kit_mmio_write32(v->common + VCOM_GFSELECT, 1);
	kit_mmio_write32(v->common + VCOM_GF, (uint32_t)(v->features >> 32));
	s = KIT_VIRTIO_S_ACK | KIT_VIRTIO_S_DRIVER | KIT_VIRTIO_S_FEATURES_OK;
	virtio_set_status(v, s);
	if (!(kit_virtio_status(v) & KIT_VIRTIO_S_FEATURES_OK)) {
		*reason = "features-refused";
		virtio_set_status(v, KIT_VIRTIO_S_FAILED);
		return -1;
	}
	kit_mmio_write16(v->common + VCOM_MSIX, VIRTIO_MSI_NO_VECTOR);
	return 0;
}

static void write64(uint64_t addr, uint64_t val)
{
	/* §4.1.3.1: 64-bit fields may be written as two 32-bit halves. */
	kit_mmio_write32(addr, (uint32_t)val);
	kit_mmio_write32(addr + 4, (uint32_t)(val >> 32));
}

int kit_virtio_setup_vq(struct kit_virtio *v, struct kit_vq *vq,
			uint16_t index, uint16_t size, const char **reason)
{
	bool packed = v->features & KIT_BIT(KIT_VIRTIO_F_RING_PACKED);
	uint64_t desc, drv, dev, noff;
	uint16_t max;

	if (index >= v->num_queues) {
		*reason = "no-queue";
		return -1;
	}
	kit_mmio_write16(v->common + VCOM_Q_SELECT, index);
	max = kit_mmio_read16(v->common + VCOM_Q_SIZE);
	if (max == 0) {
		*reason = "no-queue";
		return -1;
	}
	if (size == 0)
		size = max < VIRTIO_DEFAULT_QSIZE ? max : VIRTIO_DEFAULT_QSIZE;
	if (size > max) {
		*reason = "qsize-too-big";
		return -1;
	}
	if (kit_vq_init(vq, index, size, packed,
			v->features & KIT_BIT(KIT_VIRTIO_F_EVENT_IDX),
			v->features & KIT_BIT(KIT_VIRTIO_F_INDIRECT_DESC)) < 0) {
		*reason = packed || !(size & (size - 1)) ? "no-memory"
							  : "bad-qsize";
		return -1;
	}
	noff = (uint64_t)kit_mmio_read16(v->common + VCOM_Q_NOFF) *
	       v->notify_mult;
	if (noff + 2 > v->notify_len) {
		*reason = "bad-notify-off";
		return -1;
	}
	vq->notify = v->notify_base + noff;
	kit_vq_areas(vq, &desc, &drv, &dev);
	kit_mmio_write16(v->common + VCOM_Q_SIZE, size);
	kit_mmio_write16(v->common + VCOM_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
	write64(v->common + VCOM_Q_DESC, desc);
	write64(v->common + VCOM_Q_DRIVER, drv);
	write64(v->common + VCOM_Q_DEVICE, dev);
	kit_mmio_write16(v->common + VCOM_Q_ENABLE, 1);
	return 0;
}

void kit_virtio_driver_ok(struct kit_virtio *v)
{
	virtio_set_status(v, KIT_VIRTIO_S_ACK | KIT_VIRTIO_S_DRIVER |
				     KIT_VIRTIO_S_FEATURES_OK |
				     KIT_VIRTIO_S_DRIVER_OK);
}

static uint64_t cfg_raw(const struct kit_virtio *v, unsigned int off,
			unsigned int width)
{
	uint64_t a = v->device + off;

	switch (width) {
	case 1:
		return kit_mmio_read8(a);
	case 2:
		return kit_mmio_read16(a);
	case 4:
		return kit_mmio_read32(a);
	default:
		return kit_mmio_read32(a) |
		       (uint64_t)kit_mmio_read32(a + 4) << 32;
	}
}

uint64_t kit_virtio_cfg_read(const struct kit_virtio *v, unsigned int off,
			     unsigned int width)
{
	uint64_t val = 0;
	uint8_t gen;

	if (!v->device || off + width > v->device_len)
		return 0;
	/* §4.1.4.3.1: retry while config_generation changes under us. */
	for (int tries = 0; tries < 100; tries++) {
		gen = kit_mmio_read8(v->common + VCOM_CFGGEN);
		val = cfg_raw(v, off, width);
		if (gen == kit_mmio_read8(v->common + VCOM_CFGGEN))
			break;
	}
	return val;
}
