// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the virtio-net control queue (emul-devices/virtio/
 * net_ctrl.c, and the commands net.c answers through it) behind the real
 * virtio PCI transport: a hostile guest negotiates CTRL_VQ and MQ (or
 * not), lays out control commands of any class, command and length, with
 * or without the ack byte, split over descriptors, in a 64 KiB guest RAM,
 * and kicks; the TX queues send to the null back end, so the same rings
 * also reach the transmit path.
 *
 * Input: FZ_VIRTIO_SETUP set-up bytes, a flags byte (bits 0-1: queue
 * pairs - 1, bit 2 offer RING_PACKED), le16 script length, the script
 * (fz.h, windows as fz_virtio.h), then the initial guest RAM from GPA 0.
 * Own operations: fz_virtio_op's (3 kick queue u8, 4 reset and set up
 * again).
 * After every operation: the number of control commands answered never
 * goes down (a device reset does not rewind what was answered).
 */
#include "emul-devices/virtio/net.h"
#include "fz_virtio.h"

struct fz_net {
	struct fz_virtio v;
	struct virtio_net *n;
	uint64_t cmds;
};

static void check_net(void *opaque)
{
	struct fz_net *t = opaque;
	struct virtio_net_stats st;

	virtio_net_stats(t->n, &st);
	CHECK(st.ctrl_cmds >= t->cmds);
	t->cmds = st.ctrl_cmds;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_config cfg = { .backend = "null", .has_mac = true,
					 .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
					 .name = "fuzz-net" };
	struct fz_in setup, script, ram;
	struct fz_net t = { 0 };
	struct fz_vm vm = { 0 };
	struct pci_dev_ctx ctx;
	char err[160];
	uint8_t flags;

	if (!fz_split(data, size, FZ_VIRTIO_SETUP + 1, &setup, &script, &ram))
		return 0;
	flags = setup.p[FZ_VIRTIO_SETUP];
	cfg.queues = 1 + (flags & 3);
	cfg.packed = flags & 4;
	if (!fz_vm_open(&vm, FZ_VIRTIO_RAM, ram.p, ram.n, true))
		return 0;
	ctx = (struct pci_dev_ctx){ .mem = vm.mem, .io = vm.io, .bus = vm.bus,
				    .cancel_fd = -1 };
	if (virtio_net_create(&ctx, &cfg, &t.n, err, sizeof(err)))
		goto out;
	if (pci_host_add(vm.host, virtio_net_pci(t.n)) ||
	    !fz_virtio_probe(&t.v, &vm, virtio_net_pci(t.n)))
		goto out_dev;
	fz_virtio_setup(&t.v, setup.p);
	fz_script(&vm, &script, fz_virtio_op, &t, check_net);
out_dev:
	fz_vm_close_host(&vm);
	virtio_net_destroy(t.n);
out:
	fz_vm_close(&vm);
	return 0;
}
