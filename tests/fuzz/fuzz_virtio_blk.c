// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for virtio-blk (emul-devices/virtio/blk.c) behind the
 * real virtio PCI transport: a hostile guest brings the function up with
 * features, queue size and ring addresses of its choosing (fz_virtio.h),
 * writes request chains into a 64 KiB guest RAM (headers of any type,
 * sector and length; data and status anywhere, split across descriptors,
 * indirect tables, packed rings) and kicks. The disk is a 16 KiB memfd.
 *
 * Input: FZ_VIRTIO_SETUP set-up bytes, a flags byte (bit 0 read-only disk,
 * bit 1 offer RING_PACKED), le16 script length, the script (fz.h, windows
 * as fz_virtio.h), then the initial guest RAM from GPA 0. Own operations:
 * fz_virtio_op's (3 kick queue u8, 4 reset and set up again).
 * At the end: the disk has not grown or shrunk (no request may write
 * outside the capacity), and the capacity the device reports is the disk's.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emul-devices/virtio/blk.h"
#include "fz_virtio.h"

#define FUZZ_DISK (16 * 1024)

struct fz_blk {
	struct fz_virtio v;
	struct virtio_blk *b;
	int disk_fd;
};

static void check_blk(void *opaque)
{
	struct fz_blk *t = opaque;
	struct stat st;

	CHECK(fstat(t->disk_fd, &st) == 0 && st.st_size == FUZZ_DISK);
	CHECK(virtio_blk_capacity(t->b) == FUZZ_DISK / 512);
}

/* One disk for the process, emptied for every input. */
static int disk(char path[64])
{
	static int fd = -1;

	if (fd < 0)
		fd = memfd_create("fuzz-virtio-blk", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) || ftruncate(fd, FUZZ_DISK))
		return -1;
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_blk_config cfg = { .name = "fuzz-blk", .serial = "fuzz" };
	struct fz_in setup, script, ram;
	struct fz_blk t = { 0 };
	struct fz_vm vm = { 0 };
	struct pci_dev_ctx ctx;
	char path[64], err[160];
	uint8_t flags;

	if (!fz_split(data, size, FZ_VIRTIO_SETUP + 1, &setup, &script, &ram))
		return 0;
	flags = setup.p[FZ_VIRTIO_SETUP];
	t.disk_fd = disk(path);
	if (t.disk_fd < 0)
		return 0;
	cfg.path = path;
	cfg.readonly = flags & 1;
	cfg.packed = flags & 2;
	if (!fz_vm_open(&vm, FZ_VIRTIO_RAM, ram.p, ram.n, true))
		return 0;
	ctx = (struct pci_dev_ctx){ .mem = vm.mem, .io = vm.io, .bus = vm.bus,
				    .cancel_fd = -1 };
	if (virtio_blk_create(&ctx, &cfg, &t.b, err, sizeof(err)))
		goto out;
	if (pci_host_add(vm.host, virtio_blk_pci(t.b)) ||
	    !fz_virtio_probe(&t.v, &vm, virtio_blk_pci(t.b)))
		goto out_dev;
	fz_virtio_setup(&t.v, setup.p);
	fz_script(&vm, &script, fz_virtio_op, &t, NULL);
	check_blk(&t);
out_dev:
	fz_vm_close_host(&vm);
	virtio_blk_destroy(t.b);
out:
	fz_vm_close(&vm);
	return 0;
}
