// SPDX-License-Identifier: MIT
/* AML writer; see aml.h. Opcodes and encodings: ACPI 6.4 §20.2, §6.4. */
#include "core/boot/aml.h"

#include <errno.h>
#include <string.h>

/* §20.2.x opcodes and prefixes used here. */
#define AML_ZERO_OP          0x00
#define AML_ONE_OP           0x01
#define AML_NAME_OP          0x08
#define AML_BYTE_PREFIX      0x0a
#define AML_WORD_PREFIX      0x0b
#define AML_DWORD_PREFIX     0x0c
#define AML_STRING_PREFIX    0x0d
#define AML_QWORD_PREFIX     0x0e
#define AML_SCOPE_OP         0x10
#define AML_BUFFER_OP        0x11
#define AML_PACKAGE_OP       0x12
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX    0x5b
#define AML_DEVICE_OP        0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR        0x5c
#define AML_PARENT_PREFIX    0x5e
#define AML_ONES_OP          0xff

/* §6.4.2 small and §6.4.3 large resource descriptor tags. */
#define RES_IRQ_NOFLAGS      0x22 /* type 0x04, length 2 */
#define RES_IO               0x47 /* type 0x08, length 7 */
#define RES_END_TAG          0x79 /* type 0x0f, length 1 */
#define RES_DWORD_ADDR       0x87
#define RES_WORD_ADDR        0x88
#define RES_QWORD_ADDR       0x8a
#define RES_TYPE_MEM         0
#define RES_TYPE_IO          1
#define RES_TYPE_BUS         2
/* General flags (§6.4.3.5.1): producer, positive decode, min+max fixed. */
#define RES_GEN_BRIDGE_WINDOW 0x0c
#define RES_IO_ENTIRE_RANGE  0x03 /* _RNG */
#define RES_MEM_RW           0x01 /* _RW; _MEM = non-cacheable */

void aml_init(struct aml_buf *b, uint8_t *storage, size_t cap)
{
	b->data = storage;
	b->len = 0;
	b->cap = cap;
	b->err = 0;
}

static void aml_fail(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (n > b->cap - b->len) {
		aml_fail(b, -ENOSPC);
		return;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

static void aml_le(struct aml_buf *b, uint64_t v, unsigned n)
{
	uint8_t tmp[8];

	for (unsigned i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(b, tmp, n);
}

static int aml_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

/* One NameSeg (§20.2.2): a lead char, then up to 3 more, '_'-padded. */
static void aml_name_seg(struct aml_buf *b, const char *s, size_t n)
{
	char seg[4] = { '_', '_', '_', '_' };

	if (n == 0 || n > 4 || !aml_lead_char(s[0])) {
		aml_fail(b, -EINVAL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!aml_lead_char(s[i]) && !(s[i] >= '0' && s[i] <= '9')) {
			aml_fail(b, -EINVAL);
			return;
		}
		seg[i] = s[i];
	}
	aml_bytes(b, seg, 4);
}

void aml_name(struct aml_buf *b, const char *path)
{
	size_t nseg = 0;
	const char *p;

	if (*path == '\\') {
		aml_byte(b, AML_ROOT_CHAR);
		path++;
	} else {
		while (*path == '^') {
			aml_byte(b, AML_PARENT_PREFIX);
			path++;
		}
	}
	if (*path == '\0') {
		aml_byte(b, AML_ZERO_OP); /* NullName */
		return;
	}
	for (p = path, nseg = 1; *p; p++)
		nseg += *p == '.';
	if (nseg > 255) {
		aml_fail(b, -EINVAL);
		return;
	}
	if (nseg == 2) {
		aml_byte(b, AML_DUAL_NAME_PREFIX);
	} else if (nseg > 2) {
		aml_byte(b, AML_MULTI_NAME_PREFIX);
		aml_byte(b, (uint8_t)nseg);
	}
	while (*path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		aml_name_seg(b, path, n);
		path += n + (dot != NULL);
		if (dot && *path == '\0')
			aml_fail(b, -EINVAL); /* trailing dot */
	}
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	if (v == 0) {
		aml_byte(b, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(b, AML_ONE_OP);
	} else if (v == UINT64_MAX) {
		aml_byte(b, AML_ONES_OP);
	} else if (v <= UINT8_MAX) {
		aml_byte(b, AML_BYTE_PREFIX);
		aml_le(b, v, 1);
	} else if (v <= UINT16_MAX) {
		aml_byte(b, AML_WORD_PREFIX);
		aml_le(b, v, 2);
	} else if (v <= UINT32_MAX) {
		aml_byte(b, AML_DWORD_PREFIX);
		aml_le(b, v, 4);
	} else {
		aml_byte(b, AML_QWORD_PREFIX);
		aml_le(b, v, 8);
	}
}

static int aml_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * EISA ID compression (ACPI 6.4 §19.6.35 EISAID): three letters of 5 bits
 * each (letter - 0x40) packed big-endian into 15 bits, then the 4 hex digits
 * as two bytes; the resulting byte sequence is stored as a DWordConst.
 */
void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint8_t out[5];
	int h[4];

	if (strlen(id) != 7) {
		aml_fail(b, -EINVAL);
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			aml_fail(b, -EINVAL);
			return;
		}
	}
	for (int i = 0; i < 4; i++) {
		h[i] = aml_hex(id[3 + i]);
		if (h[i] < 0) {
			aml_fail(b, -EINVAL);
			return;
		}
	}
	out[0] = AML_DWORD_PREFIX;
	out[1] = (uint8_t)(((id[0] - 0x40) << 2) | ((id[1] - 0x40) >> 3));
	out[2] = (uint8_t)((((id[1] - 0x40) & 7) << 5) | (id[2] - 0x40));
	out[3] = (uint8_t)((h[0] << 4) | h[1]);
	out[4] = (uint8_t)((h[2] << 4) | h[3]);
	aml_bytes(b, out, sizeof(out));
}

void aml_string(struct aml_buf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			aml_fail(b, -EINVAL); /* §20.2.3: AsciiCharList */
			return;
		}
	}
	aml_byte(b, AML_STRING_PREFIX);
	aml_bytes(b, s, strlen(s) + 1);
}

/*
 * Insert the PkgLength (§20.2.4) for everything written since handle. The
 * length counts its own bytes: one byte holds up to 63; otherwise the lead
 * byte carries the byte count in bits 7:6 and the low nibble, followed by
 * 1-3 bytes of the remaining bits (max 2^28 - 1).
 */
void aml_pkg_end(struct aml_buf *b, size_t handle)
{
	uint8_t enc[4];
	size_t n, k, total;

	if (b->err)
		return;
	if (handle > b->len) {
		aml_fail(b, -EINVAL);
		return;
	}
	n = b->len - handle;
	if (n + 1 <= 0x3f) {
		k = 1;
		enc[0] = (uint8_t)(n + 1);
	} else {
		for (k = 2; k <= 4; k++) {
			if (n + k < (1ULL << (4 + 8 * (k - 1))))
				break;
		}
		if (k > 4) {
			aml_fail(b, -EINVAL);
			return;
		}
		total = n + k;
		enc[0] = (uint8_t)(((k - 1) << 6) | (total & 0xf));
		for (size_t i = 1; i < k; i++)
			enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	if (k > b->cap - b->len) {
		aml_fail(b, -ENOSPC);
		return;
	}
	memmove(b->data + handle + k, b->data + handle, n);
	memcpy(b->data + handle, enc, k);
	b->len += k;
}

void aml_buffer(struct aml_buf *b, const void *bytes, size_t n)
{
	size_t h;

	aml_byte(b, AML_BUFFER_OP);
	h = b->len;
	aml_integer(b, n);
	aml_bytes(b, bytes, n);
	aml_pkg_end(b, h);
}

void aml_name_decl(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_NAME_OP);
	aml_name(b, name);
}

size_t aml_scope_begin(struct aml_buf *b, const char *path)
{
	size_t h;

	aml_byte(b, AML_SCOPE_OP);
	h = b->len;
	aml_name(b, path);
	return h;
}

size_t aml_package_begin(struct aml_buf *b, uint8_t nelems)
{
	size_t h;

	aml_byte(b, AML_PACKAGE_OP);
	h = b->len;
	aml_byte(b, nelems);
	return h;
}

size_t aml_device_begin(struct aml_buf *b, const char *name)
{
	size_t h;

	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_DEVICE_OP);
	h = b->len;
	aml_name(b, name);
	return h;
}

/* §6.4.2.5 I/O Port Descriptor, 16-bit decode. */
void aml_res_io(struct aml_buf *b, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len)
{
	aml_byte(b, RES_IO);
	aml_byte(b, 0x01);
	aml_le(b, min, 2);
	aml_le(b, max, 2);
	aml_byte(b, align);
	aml_byte(b, len);
}

/* §6.4.2.1 IRQ Descriptor without the optional information byte. */
void aml_res_irq_noflags(struct aml_buf *b, uint16_t mask)
{
	aml_byte(b, RES_IRQ_NOFLAGS);
	aml_le(b, mask, 2);
}

/* §6.4.3.5.3 Word Address Space Descriptor (bridge window). */
static void aml_res_word(struct aml_buf *b, uint8_t type, uint8_t tflags,
			 uint16_t min, uint16_t max)
{
	uint32_t len = (uint32_t)max - min + 1;

	if (max < min || len > UINT16_MAX) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_WORD_ADDR);
	aml_le(b, 13, 2);
	aml_byte(b, type);
	aml_byte(b, RES_GEN_BRIDGE_WINDOW);
	aml_byte(b, tflags);
	aml_le(b, 0, 2);   /* granularity */
	aml_le(b, min, 2);
	aml_le(b, max, 2);
	aml_le(b, 0, 2);   /* translation offset */
	aml_le(b, len, 2);
}

void aml_res_word_bus(struct aml_buf *b, uint16_t min, uint16_t max)
{
	aml_res_word(b, RES_TYPE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml_buf *b, uint16_t min, uint16_t max)
{
	aml_res_word(b, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, min, max);
}

/* §6.4.3.5.2 DWord Address Space Descriptor, memory, read/write. */
void aml_res_dword_mem(struct aml_buf *b, uint32_t min, uint32_t max)
{
	uint64_t len = (uint64_t)max - min + 1;

	if (max < min || len > UINT32_MAX) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_DWORD_ADDR);
	aml_le(b, 23, 2);
	aml_byte(b, RES_TYPE_MEM);
	aml_byte(b, RES_GEN_BRIDGE_WINDOW);
	aml_byte(b, RES_MEM_RW);
	aml_le(b, 0, 4);
	aml_le(b, min, 4);
	aml_le(b, max, 4);
	aml_le(b, 0, 4);
	aml_le(b, len, 4);
}

/* §6.4.3.5.1 QWord Address Space Descriptor, memory, read/write. */
void aml_res_qword_mem(struct aml_buf *b, uint64_t min, uint64_t max)
{
	if (max < min || (min == 0 && max == UINT64_MAX)) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_QWORD_ADDR);
	aml_le(b, 43, 2);
	aml_byte(b, RES_TYPE_MEM);
	aml_byte(b, RES_GEN_BRIDGE_WINDOW);
	aml_byte(b, RES_MEM_RW);
	aml_le(b, 0, 8);
	aml_le(b, min, 8);
	aml_le(b, max, 8);
	aml_le(b, 0, 8);
	aml_le(b, max - min + 1, 8);
}

/* §6.4.2.9 End Tag; checksum 0 means "ignore" (treated as valid). */
void aml_res_end(struct aml_buf *b)
{
	aml_byte(b, RES_END_TAG);
	aml_byte(b, 0);
}
