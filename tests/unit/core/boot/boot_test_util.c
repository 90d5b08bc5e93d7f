// SPDX-License-Identifier: MIT
#include "boot_test_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/layout.h"

struct gmem *tb_gmem(uint64_t size)
{
	struct gmem_opts o = {
		.size = size,
		.low_max = LAYOUT_LOW_RAM_MAX,
		.high_base = LAYOUT_RAM_HIGH_START,
	};
	struct gmem *mem = NULL;

	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	return mem;
}

char *tb_write_file(const void *buf, size_t len)
{
	char *path = strdup("/tmp/iovmm-boot-test-XXXXXX");
	int fd;

	ck_assert_ptr_nonnull(path);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
	return path;
}

void tb_unlink(char *path)
{
	if (path)
		unlink(path);
	free(path);
}

uint16_t tb_le16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}

uint32_t tb_le32(const uint8_t *p, size_t off)
{
	return tb_le16(p, off) | (uint32_t)tb_le16(p, off + 2) << 16;
}

uint64_t tb_le64(const uint8_t *p, size_t off)
{
	return tb_le32(p, off) | (uint64_t)tb_le32(p, off + 4) << 32;
}

uint8_t tb_sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s += p[i];
	return s;
}
