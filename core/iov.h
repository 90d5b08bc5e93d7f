/* SPDX-License-Identifier: MIT */
/* Copying between flat buffers and scatter-gather lists (struct iovec). */
#ifndef IOVMM_IOV_H
#define IOVMM_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Gather up to len bytes from iov starting at byte off; returns bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t off,
		  void *buf, size_t len);
/* Scatter up to len bytes into iov starting at byte off; returns bytes copied. */
size_t iov_from_buf(const struct iovec *iov, unsigned cnt, size_t off,
		    const void *buf, size_t len);
/* Drop the first n bytes of an iovec array in place (advances *iov, *cnt). */
void iov_pull(struct iovec **iov, unsigned *cnt, size_t n);

#endif
