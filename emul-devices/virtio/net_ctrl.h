/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net control queue (virtio 1.2 §5.1.6.5), walked the same way
 * by virtio-net served in iovmm (emul-devices/virtio/net.c) and by
 * vhost-user-net (vhost-user/net.c), whose control queue iovmm serves while
 * the back end serves the data queues. The device decides what a command
 * means; this copies it out of the chain, checks the framing and writes
 * the ack.
 */
#ifndef IOVMM_VIRTIO_NET_CTRL_H
#define IOVMM_VIRTIO_NET_CTRL_H

#include <stddef.h>
#include <stdint.h>

#include "emul-devices/virtio/virtio.h"

/* Acks and the one command class iovmm's devices implement (§5.1.6.5.5). */
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0

#define VIRTIO_NET_CTRL_CMD_MAX 64 /* bytes of a command looked at */
#define VIRTIO_NET_CTRL_BUDGET 64  /* commands per virtio_net_ctrl_run() */

/*
 * One command: cmd[0] is the class, cmd[1] the command, then up to
 * VIRTIO_NET_CTRL_CMD_MAX - 2 bytes of its data (len counts them all,
 * len >= 2). Returns VIRTIO_NET_OK or VIRTIO_NET_ERR.
 */
typedef uint8_t (*virtio_net_ctrl_fn)(void *opaque, const uint8_t *cmd,
				      size_t len);

/*
 * Answer up to VIRTIO_NET_CTRL_BUDGET commands waiting on queue q, using e
 * as scratch; notify the driver if any was answered and add their number
 * to *handled. Call with dev->lock held, the queue live.
 *   0        the queue is empty
 *   -EAGAIN  the budget ran out and more may wait: call again after
 *            yielding (so a guest flooding commands cannot pin a thread)
 *   -EINVAL  a command without class, command and ack byte, or a
 *            malformed chain: the device has been failed (NEEDS_RESET)
 */
int virtio_net_ctrl_run(struct virtio_dev *dev, unsigned q,
			struct virtq_elem *e, virtio_net_ctrl_fn fn,
			void *opaque, uint64_t *handled);

#endif
