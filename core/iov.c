// SPDX-License-Identifier: MIT
#include <stdint.h>
#include <string.h>

#include "core/iov.h"

/* Copy between iov (from byte off) and buf; to_iov picks the direction. */
static size_t iov_copy(const struct iovec *iov, unsigned cnt, size_t off,
		       uint8_t *buf, size_t len, int to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < cnt && done < len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len - done)
			l = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, buf + done, l);
		else
			memcpy(buf + done, (const uint8_t *)iov[i].iov_base + off, l);
		done += l;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t off,
		  void *buf, size_t len)
{
	return iov_copy(iov, cnt, off, buf, len, 0);
}

size_t iov_from_buf(const struct iovec *iov, unsigned cnt, size_t off,
		    const void *buf, size_t len)
{
	return iov_copy(iov, cnt, off, (uint8_t *)buf, len, 1);
}

void iov_pull(struct iovec **iov, unsigned *cnt, size_t n)
{
	while (*cnt && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}
