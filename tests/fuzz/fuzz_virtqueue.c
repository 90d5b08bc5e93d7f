// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the device-side virtqueue walker (virtqueue.c):
 * the input is a hostile guest. Layout of the input:
 *
 *   byte 0      mode: bit0 packed, bit1 EVENT_IDX, bit2 INDIRECT_DESC,
 *               bits 3-7 queue size selector
 *   bytes 1-6   desc / driver-area / device-area GPAs (16-bit LE each; RAM
 *               is 64 KiB, so these may be misaligned, overlap or run off
 *               the end of RAM)
 *   bytes 7-8   length of the "script" that follows
 *   script      one byte per device action (pop, unpop, push, notify
 *               decision, kick toggling, has_avail, or a guest write into
 *               ring memory between actions, like a racing driver)
 *   the rest    initial contents of guest RAM from GPA 0
 *
 * Every popped element is checked: iovecs inside RAM, counts and lengths
 * consistent, within VIRTQ_MAX_SG and VIRTQ_MAX_TOTAL. A violation traps
 * (this is a test program; libFuzzer reports the crash).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/gmem.h"
#include "core/layout.h"
#include "emul-devices/virtio/virtqueue.h"

#define FUZZ_RAM (64 * 1024)
#define FUZZ_MAX_OPS 512

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gmem *mem;
static struct virtq vq;
static struct virtq_elem elem;

static void check_elem(void)
{
	uint64_t out = 0, in = 0;

	CHECK(elem.nr_out + elem.nr_in <= VIRTQ_MAX_SG);
	for (uint32_t i = 0; i < elem.nr_out + elem.nr_in; i++) {
		const uint8_t *p = elem.iov[i].iov_base;
		size_t len = elem.iov[i].iov_len;

		CHECK(len > 0);
		CHECK(p >= mem->base && p + len <= mem->base + mem->size);
		if (i < elem.nr_out)
			out += len;
		else
			in += len;
	}
	CHECK(out == elem.out_len && in == elem.in_len);
	CHECK(out + in <= VIRTQ_MAX_TOTAL);
	CHECK(elem.ndescs >= 1 && elem.ndescs <= vq.cfg.size);
	if (!vq.cfg.packed)
		CHECK(elem.id < vq.cfg.size);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/*
 * The driver makes `n` more buffers available, reusing whatever the
 * descriptors hold: split bumps avail->idx (the ring entries stay as the
 * input left them); packed flips the next n slots' AVAIL/USED bits to the
 * driver's current wrap counter (tracked from the device's view), so the
 * device walks past the end of the ring and wraps.
 */
static void refill(unsigned n)
{
	if (!vq.cfg.packed) {
		vq.avail->idx = (uint16_t)(vq.avail->idx + n);
		return;
	}
	uint16_t slot = vq.next_avail;
	bool wrap = vq.avail_wrap;
	struct virtq_pdesc *ring = vq.desc;

	for (unsigned k = 0; k < n && k < vq.cfg.size; k++) {
		uint16_t f = ring[slot].flags &
			     ~(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);

		ring[slot].flags = f | (wrap ? VIRTQ_DESC_F_AVAIL
					     : VIRTQ_DESC_F_USED);
		if (++slot == vq.cfg.size) {
			slot = 0;
			wrap = !wrap;
		}
	}
}

/* Run the script; stop at the first malformed ring, like a device. */
static void run_script(const uint8_t *s, size_t n, const uint8_t *pool,
		       size_t pool_len)
{
	bool have_elem = false;
	uint8_t *ram = gmem_ptr(mem, 0, FUZZ_RAM);

	for (size_t i = 0; i < n && i < FUZZ_MAX_OPS; i++) {
		uint8_t op = s[i];
		int ret;

		switch (op & 7) {
		case 0: case 1: case 2:
			ret = virtq_pop(&vq, &elem);
			CHECK(ret == 0 || ret == -EAGAIN || ret == -EINVAL);
			if (ret == -EINVAL)
				return;
			have_elem = ret == 0;
			if (have_elem)
				check_elem();
			break;
		case 3:
			if (have_elem) {
				virtq_unpop(&vq, &elem);
				have_elem = false;
			}
			break;
		case 4:
			if (have_elem) {
				uint32_t w = elem.in_len ?
					(uint32_t)((op >> 3) * elem.in_len / 31) : 0;

				CHECK(virtq_push(&vq, &elem, w) == 0);
				have_elem = false;
			}
			break;
		case 5:
			virtq_should_notify(&vq);
			break;
		case 6:
			virtq_set_kicks(&vq, op & 8);
			virtq_has_avail(&vq);
			break;
		case 7:
			if (op & 8) {
				refill(1 + (op >> 4));
				break;
			}
			/* The guest rewrites a ring byte behind our back. */
			if (pool_len && i + 2 < n) {
				uint16_t at = le16(&s[i + 1]) % FUZZ_RAM;

				ram[at] = pool[(at ^ op) % pool_len];
				i += 2;
			}
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gmem_opts o = { .size = FUZZ_RAM, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct virtq_config cfg;
	size_t script_len;
	uint8_t mode;

	if (!mem && gmem_create(&o, &mem))
		return 0;
	if (size < 9)
		return 0;
	mode = data[0];
	cfg = (struct virtq_config){
		.packed = mode & 1,
		.event_idx = mode & 2,
		.indirect = mode & 4,
		.desc_gpa = le16(&data[1]),
		.avail_gpa = le16(&data[3]),
		.used_gpa = le16(&data[5]),
	};
	/* Split: powers of two 1..256; packed: any 0..280 (0 is invalid). */
	cfg.size = cfg.packed ? (uint16_t)(mode >> 3) * 9 + (mode >> 7)
			      : (uint16_t)((1u << ((mode >> 3) % 9)) & 0x1ff);
	script_len = le16(&data[7]);
	data += 9;
	size -= 9;
	if (script_len > size)
		script_len = size;
	memset(gmem_ptr(mem, 0, FUZZ_RAM), 0, FUZZ_RAM);
	memcpy(gmem_ptr(mem, 0, FUZZ_RAM), data + script_len,
	       size - script_len < FUZZ_RAM ? size - script_len : FUZZ_RAM);
	if (virtq_init(&vq, mem, &cfg))
		return 0;
	run_script(data, script_len, data + script_len, size - script_len);
	virtq_reset(&vq);
	return 0;
}
