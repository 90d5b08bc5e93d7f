// SPDX-License-Identifier: MIT
/* null: TX is counted and dropped, nothing is ever received. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "emul-devices/net/backend-impl.h"

static int null_send(struct net_backend *be, const struct iovec *iov,
		     int iovcnt, size_t len)
{
	net_stat_add(&be->tx_frames, 1);
	net_stat_add(&be->tx_bytes, len);
	return 0;
}

static void null_destroy(struct net_backend *be)
{
	free(be);
}

static const struct net_backend_ops null_ops = {
	.send = null_send,
	.kick = NULL, /* nothing to deliver, nothing to resume */
	.destroy = null_destroy,
};

int net_null_create(struct ioloop *io, struct net_backend **out, char *err,
		    size_t errlen)
{
	struct net_backend *be = calloc(1, sizeof(*be));

	if (!be) {
		snprintf(err, errlen, "null: out of memory");
		return -ENOMEM;
	}
	net_backend_init(be, &null_ops, io, "null");
	*out = be;
	return 0;
}
