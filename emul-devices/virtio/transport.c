// SPDX-License-Identifier: MIT
/*
 * The transport-independent virtio device (virtio 1.2 §2-§3): feature
 * negotiation, the device status state machine, reset and queue
 * configuration, and the device-facing calls of virtio.h, which end in the
 * transport's ops. See transport.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/event.h"
#include "core/log.h"
#include "core/util.h"
#include "emul-devices/virtio/pci.h"
#include "emul-devices/virtio/transport.h"

/*
 * Transport feature bits (§6) iovmm implements (virtqueue.c); the others
 * in 28..41 are withheld even if a device model offers them.
 */
#define VIRTIO_TRANSPORT_MASK (((1ULL << 42) - 1) & ~((1ULL << 28) - 1))
#define VIRTIO_TRANSPORT_OK   (1ULL << VIRTIO_F_INDIRECT_DESC |        \
			       1ULL << VIRTIO_F_EVENT_IDX |            \
			       1ULL << VIRTIO_F_VERSION_1 |            \
			       1ULL << VIRTIO_F_RING_PACKED)

static const char *vt_name(const struct virtio_transport *t)
{
	return t->dev->name ? t->dev->name : "virtio";
}

static int vt_check_dev(const struct virtio_dev *dev)
{
	if (!dev->ops || !dev->mem || dev->nr_queues == 0 ||
	    dev->nr_queues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	if (dev->nr_queues < 64 && dev->external_queues >> dev->nr_queues)
		return -EINVAL;
	/* The default queue size must be valid for split rings too. */
	if (!IS_POW2(dev->queue_max_size) ||
	    dev->queue_max_size > VIRTQ_MAX_SIZE)
		return -EINVAL;
	return 0;
}

/* State after reset (§2.4); tell: the transport resets its part too. */
static void vt_reset_state(struct virtio_transport *t, bool tell)
{
	struct virtio_dev *dev = t->dev;

	for (unsigned i = 0; i < dev->nr_queues; i++) {
		if (tell && t->ops->queue_reset)
			t->ops->queue_reset(t, i);
		virtq_reset(&dev->vqs[i]);
		t->q[i] = (struct virtio_tq){ .size = dev->queue_max_size };
	}
	if (tell && t->ops->reset)
		t->ops->reset(t);
	dev->features = 0;
	dev->status = 0;
	t->driver_features = 0;
	t->isr = 0;
}

int virtio_transport_init(struct virtio_transport *t,
			  const struct virtio_transport_ops *ops,
			  enum virtio_transport_kind kind, struct virtio_dev *dev)
{
	int ret = vt_check_dev(dev);

	if (ret)
		return ret;
	*t = (struct virtio_transport){
		.ops = ops,
		.kind = kind,
		.dev = dev,
		.offered = (dev->host_features & ~VIRTIO_TRANSPORT_MASK) |
			   (dev->host_features & VIRTIO_TRANSPORT_OK) |
			   1ULL << VIRTIO_F_VERSION_1,
	};
	ret = -pthread_mutex_init(&dev->lock, NULL);
	if (ret)
		return ret;
	memset(dev->vqs, 0, sizeof(dev->vqs));
	vt_reset_state(t, false);
	dev->transport = t;
	return 0;
}

void virtio_transport_fini(struct virtio_transport *t)
{
	pthread_mutex_destroy(&t->dev->lock);
	t->dev->transport = NULL;
}

/* ---- features (§2.2) and status (§2.1, §3.1.1) ---- */

uint32_t virtio_transport_features(const struct virtio_transport *t,
				   uint32_t sel)
{
	return sel < 2 ? (uint32_t)(t->offered >> (32 * sel)) : 0;
}

void virtio_transport_set_driver_features(struct virtio_transport *t,
					  uint32_t sel, uint32_t v)
{
	uint64_t *f = &t->driver_features;

	/* §3.1.1: features are fixed once FEATURES_OK is set. */
	if (sel >= 2 || (t->dev->status & VIRTIO_STATUS_FEATURES_OK))
		return;
	if (sel)
		*f = (*f & 0xffffffffULL) | (uint64_t)v << 32;
	else
		*f = (*f & ~0xffffffffULL) | v;
}

void virtio_transport_reset(struct virtio_transport *t)
{
	struct virtio_dev *dev = t->dev;

	/* The model first: it stops using the queues before they go. */
	if (dev->ops->reset)
		dev->ops->reset(dev);
	vt_reset_state(t, true);
}

/*
 * §3.1.1 step 5-6: FEATURES_OK sticks only when the driver accepted a
 * subset of the offer that includes VERSION_1 (a modern-only device,
 * §7.2.1), and the device model agrees.
 */
static bool vt_features_ok(struct virtio_transport *t)
{
	struct virtio_dev *dev = t->dev;
	uint64_t f = t->driver_features;

	if (f & ~t->offered || !(f & (1ULL << VIRTIO_F_VERSION_1)))
		return false;
	if (dev->ops->set_features && dev->ops->set_features(dev, f))
		return false;
	dev->features = f;
	return true;
}

void virtio_transport_set_status(struct virtio_transport *t, uint8_t val)
{
	struct virtio_dev *dev = t->dev;
	uint8_t old = dev->status, add;
	int ret;

	if (val == 0) {
		virtio_transport_reset(t);
		return;
	}
	/* Bits only accumulate until reset; NEEDS_RESET is the device's. */
	add = val & ~old & ~VIRTIO_STATUS_NEEDS_RESET;
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !vt_features_ok(t))
		add &= ~VIRTIO_STATUS_FEATURES_OK;
	if ((add & VIRTIO_STATUS_DRIVER_OK) &&
	    !((old | add) & VIRTIO_STATUS_FEATURES_OK)) {
		log_ratelimited(LOG_WARN, vt_name(t),
				"DRIVER_OK without FEATURES_OK ignored");
		add &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	dev->status = old | add;
	if (!(add & VIRTIO_STATUS_DRIVER_OK))
		return;
	if (dev->ops->activate && dev->ops->activate(dev)) {
		virtio_dev_fail(dev, "device activation failed");
		return;
	}
	/*
	 * One kick per enabled queue, through the I/O thread: buffers a
	 * driver made available (and kicked) before DRIVER_OK are not lost.
	 */
	for (unsigned i = 0; i < dev->nr_queues; i++) {
		if (!t->q[i].enabled)
			continue;
		ret = t->ops->kick(t, i);
		if (ret && ret != -EAGAIN)
			log_ratelimited(LOG_WARN, vt_name(t), "kick queue %u: %s",
					i, strerror(-ret));
	}
}

/* ---- queue configuration (§2.7, §4.1.5.1.3) ---- */

bool virtio_transport_queue_writable(const struct virtio_transport *t,
				     unsigned qidx)
{
	return qidx < t->dev->nr_queues && !t->q[qidx].enabled &&
	       !(t->dev->status & VIRTIO_STATUS_DRIVER_OK);
}

void virtio_transport_queue_enable(struct virtio_transport *t, unsigned qidx)
{
	struct virtio_dev *dev = t->dev;
	struct virtio_tq *q = &t->q[qidx];
	struct virtq_config cfg = {
		.size = q->size,
		.packed = dev->features & (1ULL << VIRTIO_F_RING_PACKED),
		.event_idx = dev->features & (1ULL << VIRTIO_F_EVENT_IDX),
		.indirect = dev->features & (1ULL << VIRTIO_F_INDIRECT_DESC),
		.desc_gpa = q->desc,
		.avail_gpa = q->driver,
		.used_gpa = q->device,
	};
	char why[64];

	if (!(dev->status & VIRTIO_STATUS_FEATURES_OK)) {
		log_ratelimited(LOG_WARN, vt_name(t),
				"queue %u enabled before FEATURES_OK", qidx);
		return;
	}
	if (q->size > dev->queue_max_size ||
	    virtq_init(&dev->vqs[qidx], dev->mem, &cfg)) {
		snprintf(why, sizeof(why), "queue %u: invalid size or rings",
			 qidx);
		virtio_dev_fail(dev, why);
		return;
	}
	q->enabled = true;
	if (t->ops->queue_enabled)
		t->ops->queue_enabled(t, qidx);
}

/* ---- interrupts ---- */

void virtio_transport_raise(struct virtio_transport *t, uint8_t isr,
			    unsigned qidx)
{
	t->isr |= isr;
	t->ops->interrupt(t, qidx);
}

uint8_t virtio_transport_isr_take(struct virtio_transport *t)
{
	uint8_t v = t->isr;

	t->isr = 0;
	return v;
}

/* ---- the device-facing API (virtio.h) ---- */

int virtio_dev_init(struct virtio_dev *dev,
		    const struct virtio_transport_ctx *ctx)
{
	struct virtio_pci *vp;

	switch (ctx->kind) {
	case VIRTIO_TRANSPORT_PCI:
		return virtio_pci_create(dev, ctx->irq, ctx->io, &vp);
	}
	return -EINVAL;
}

void virtio_dev_exit(struct virtio_dev *dev)
{
	if (dev && dev->transport)
		dev->transport->ops->destroy(dev->transport);
}

void virtio_dev_notify(struct virtio_dev *dev, unsigned qidx)
{
	if (!virtio_dev_queue_live(dev, qidx))
		return;
	if (virtq_should_notify(&dev->vqs[qidx]))
		virtio_transport_raise(dev->transport, VIRTIO_ISR_QUEUE, qidx);
}

void virtio_dev_config_changed(struct virtio_dev *dev)
{
	struct virtio_transport *t = dev->transport;

	t->config_generation++;
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_transport_raise(t, VIRTIO_ISR_CONFIG, VIRTIO_CONFIG_IRQ);
}

void virtio_dev_fail(struct virtio_dev *dev, const char *why)
{
	struct virtio_transport *t = dev->transport;

	if (dev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_ratelimited(LOG_WARN, vt_name(t), "device needs reset: %s", why);
	/* Once per failure: the bit stays set until the driver resets. */
	event_post("device-needs-reset", vt_name(t), "%s", why);
	dev->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* §2.1.2: with DRIVER_OK set, tell the driver through a config irq. */
	if (dev->status & VIRTIO_STATUS_DRIVER_OK) {
		t->config_generation++;
		virtio_transport_raise(t, VIRTIO_ISR_CONFIG, VIRTIO_CONFIG_IRQ);
	}
}

bool virtio_dev_queue_live(struct virtio_dev *dev, unsigned qidx)
{
	return qidx < dev->nr_queues &&
	       (dev->status & (VIRTIO_STATUS_DRIVER_OK |
			       VIRTIO_STATUS_NEEDS_RESET)) ==
		       VIRTIO_STATUS_DRIVER_OK &&
	       dev->transport->q[qidx].enabled;
}

int virtio_dev_queue_info(struct virtio_dev *dev, unsigned qidx,
			  struct virtio_queue_info *out)
{
	struct virtio_transport *t = dev->transport;
	const struct virtio_tq *q;

	if (!t || qidx >= dev->nr_queues)
		return -EINVAL;
	q = &t->q[qidx];
	*out = (struct virtio_queue_info){
		.size = q->size,
		.enabled = q->enabled,
		.msix_vector = VIRTIO_MSI_NO_VECTOR,
		.desc = q->desc,
		.driver = q->driver,
		.device = q->device,
		.kick_fd = -1,
		.call_fd = -1,
	};
	if (t->ops->queue_info)
		t->ops->queue_info(t, qidx, out);
	return 0;
}

int virtio_dev_queue_rekick(struct virtio_dev *dev, unsigned qidx)
{
	struct virtio_transport *t = dev->transport;
	int ret;

	if (!t || qidx >= dev->nr_queues || (dev->external_queues >> qidx & 1))
		return -EINVAL;
	/* -EAGAIN: the counter is saturated, a kick is pending anyway. */
	ret = t->ops->kick(t, qidx);
	return ret == -EAGAIN ? 0 : ret;
}
