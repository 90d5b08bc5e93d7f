/* SPDX-License-Identifier: MIT */
/* Helpers shared by the boot/ACPI unit tests. */
#ifndef IOVMM_TEST_BOOT_UTIL_H
#define IOVMM_TEST_BOOT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"

/* A real gmem (memfd) of size bytes laid out as core/layout.h says. */
struct gmem *tb_gmem(uint64_t size);
/* Write buf to a fresh temporary file; returns a malloc'd path. */
char *tb_write_file(const void *buf, size_t len);
/* Remove and free a path from tb_write_file(). */
void tb_unlink(char *path);

uint16_t tb_le16(const uint8_t *p, size_t off);
uint32_t tb_le32(const uint8_t *p, size_t off);
uint64_t tb_le64(const uint8_t *p, size_t off);
/* Sum of len bytes modulo 256 (ACPI checksums make it 0). */
uint8_t tb_sum(const uint8_t *p, size_t len);

#endif
