// SPDX-License-Identifier: MIT
#include <errno.h>

#include "core/iov.h"
#include "emul-devices/virtio/net_ctrl.h"

int virtio_net_ctrl_run(struct virtio_dev *dev, unsigned q,
			struct virtq_elem *e, virtio_net_ctrl_fn fn,
			void *opaque, uint64_t *handled)
{
	struct virtq *vq = &dev->vqs[q];
	uint8_t cmd[VIRTIO_NET_CTRL_CMD_MAX], ack;
	const char *why = "controlq: malformed descriptor chain";
	unsigned done;
	size_t len;
	int ret = 0;

	for (done = 0; done < VIRTIO_NET_CTRL_BUDGET; done++) {
		ret = virtq_pop(vq, e);
		if (ret)
			break;
		/* §5.1.6.5: class and command out, at least the ack byte in. */
		if (e->out_len < 2 || e->in_len < 1) {
			why = "controlq: command without header or ack byte";
			ret = -EINVAL;
			break;
		}
		len = iov_to_buf(e->iov, e->nr_out, 0, cmd, sizeof(cmd));
		ack = fn(opaque, cmd, len);
		iov_from_buf(e->iov + e->nr_out, e->nr_in, 0, &ack, 1);
		virtq_push(vq, e, 1);
	}
	*handled += done;
	if (done)
		virtio_dev_notify(dev, q);
	if (ret == -EINVAL) {
		virtio_dev_fail(dev, why);
		return -EINVAL;
	}
	/* Stopped by the budget (ret 0) rather than by an empty ring. */
	return ret == -EAGAIN ? 0 : -EAGAIN;
}
