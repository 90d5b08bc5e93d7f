// SPDX-License-Identifier: MIT
/*
 * The virtio PCI transport's external queues (emul-devices/virtio/pci.c,
 * for vhost-user) on a real PCI host and bus, with the recording interrupt
 * back end (fake_irq) standing in for KVM:
 *   - an external queue's kick eventfd is the KVM ioeventfd and nobody in
 *     iovmm reads it (no queue_notify); an internal queue still works;
 *   - its call eventfd is a KVM irqfd exactly while its MSI-X vector can
 *     deliver, and falls back to the I/O thread (pending bit of a masked
 *     vector, ISR with no vector) otherwise, following every change of
 *     queue_msix_vector, table entry, per-vector mask, function mask,
 *     MSI-X enable and reset.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/irq.h"
#include "core/pci/host.h"
#include "core/util.h"
#include "fake_irq.h"
#include "guest_pci.h"

#define NQ 3 /* 0, 1 external; 2 served in iovmm */

struct bus *gp_bus;
unsigned gp_slot = 1;

static struct irq *irq;
static struct fake_irq *fake;
static struct pci_host *host;
static struct gmem *mem;
static struct ioloop *io;

struct tdev {
	struct virtio_dev vdev;
	struct virtio_pci *vp;
	unsigned notifies[NQ];
};
static struct tdev td;

static void td_queue_notify(struct virtio_dev *d, unsigned q)
{
	__atomic_add_fetch(&td.notifies[q], 1, __ATOMIC_SEQ_CST);
}

static const struct virtio_dev_ops td_ops = {
	.queue_notify = td_queue_notify,
};

static void setup(void)
{
	struct gmem_opts o = { .size = 16 * MiB, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };

	ck_assert_int_eq(fake_irq_create(&irq, &fake), 0);
	ck_assert_int_eq(bus_create(&gp_bus), 0);
	ck_assert_int_eq(pci_host_create(gp_bus, irq, 0, 0, &host), 0);
	ck_assert_int_eq(gmem_create(&o, &mem), 0);
	ck_assert_int_eq(ioloop_create(&io), 0);
	ck_assert_int_eq(ioloop_start(io), 0);
	memset(&td, 0, sizeof(td));
	td.vdev = (struct virtio_dev){
		.ops = &td_ops, .name = "virtio-ext", .device_id = 1,
		.pci_class = 0x0200, .nr_queues = NQ, .queue_max_size = 64,
		.mem = mem, .external_queues = 0x3,
	};
	ck_assert_int_eq(virtio_pci_create(&td.vdev, irq, io, &td.vp), 0);
	ck_assert_int_eq(pci_host_add(host, virtio_pci_dev(td.vp)), 0);
	ck_assert_uint_eq(gp_cfg_rd(PCI_VENDOR_ID, 2), 0x1af4);
}

static void teardown(void)
{
	ioloop_stop(io);
	pci_host_destroy(host);
	virtio_pci_destroy(td.vp);
	ioloop_destroy(io);
	gmem_destroy(mem);
	bus_destroy(gp_bus);
	irq_destroy(irq);
}

static struct virtio_queue_info qinfo(unsigned q)
{
	struct virtio_queue_info qi;

	pthread_mutex_lock(&td.vdev.lock);
	ck_assert_int_eq(virtio_dev_queue_info(&td.vdev, q, &qi), 0);
	pthread_mutex_unlock(&td.vdev.lock);
	return qi;
}

/* Bring the device to DRIVER_OK with every queue on vector q + 1. */
static void bring_up(void)
{
	ck_assert(gp_negotiate(1ULL << VIRTIO_F_VERSION_1) &
		  VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < NQ; q++)
		gp_queue(q, 64, 0x10000 + q * 0x4000, 0x11000 + q * 0x4000,
			 0x12000 + q * 0x4000, (uint16_t)(q + 1));
	gp_driver_ok();
	ck_assert(gp_status() & VIRTIO_STATUS_DRIVER_OK);
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, 8) == 8)
		;
}

/* Signal a call eventfd, as the back end does; an irqfd leaves it to the
 * interrupt controller, else the I/O thread consumes it a little later. */
static void call(unsigned q)
{
	ck_assert_int_eq(write(qinfo(q).call_fd, &(uint64_t){ 1 }, 8), 8);
}

/* The interrupt controller took the call: one MSI with this data, and
 * nothing left in the eventfd. */
static void call_delivered(unsigned q, uint32_t data)
{
	ck_assert_uint_eq(fake_irq_poll(fake), 1);
	ck_assert_uint_eq(fake_irq_msi_get(fake, fake_irq_msi_count(fake) - 1).data,
			  data);
	ck_assert(!readable(qinfo(q).call_fd, 0));
}

/* Is q's call eventfd an irqfd? Asked of the interrupt controller; the
 * transport's own view must agree. */
static bool wired(unsigned q)
{
	uint32_t gsi;
	bool irqfd = fake_irq_irqfd_gsi(fake, qinfo(q).call_fd, &gsi) == 0;

	ck_assert(irqfd == qinfo(q).call_irqfd);
	return irqfd;
}

static bool wait_pending(unsigned v, bool want, int ms)
{
	for (int t = 0; t <= ms; t += 5) {
		if (gp_msix_pending(v) == want)
			return true;
		usleep(5000);
	}
	return false;
}

static bool wait_isr(int ms)
{
	for (int t = 0; t <= ms; t += 5) {
		if (gp_isr() & 1)
			return true;
		usleep(5000);
	}
	return false;
}

/* Would a fresh ioeventfd at (addr, any length) collide with ours? */
static bool ioev_taken(uint64_t addr)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct irq_ioeventfd ev = { .space = BUS_MMIO, .addr = addr,
				    .efd = efd };
	int ret = irq_ioeventfd_add(irq, &ev);

	if (ret == 0)
		irq_ioeventfd_del(irq, &ev);
	close(efd);
	return ret == -EEXIST;
}

START_TEST(kicks_go_to_the_eventfd)
{
	struct virtio_queue_info qi;

	qi = qinfo(2);
	ck_assert_int_ge(qi.kick_fd, 0);
	ck_assert_int_eq(qi.call_fd, -1); /* internal queue: no call fd */
	bring_up();
	qi = qinfo(0);
	ck_assert(qi.enabled);
	ck_assert_uint_eq(qi.size, 64);
	ck_assert_uint_eq(qi.desc, 0x10000);
	ck_assert_uint_eq(qi.driver, 0x11000);
	ck_assert_uint_eq(qi.device, 0x12000);
	ck_assert_uint_eq(qi.msix_vector, 1);
	/* The KVM ioeventfd of the notify slot is registered... */
	ck_assert(ioev_taken(gp_notify_addr(0)));
	/* ...and DRIVER_OK's activation kick plus a trapped kick land in the
	 * eventfd, which stays unread: the I/O thread does not poll it. */
	gp_kick(0);
	usleep(50 * 1000);
	ck_assert(readable(qi.kick_fd, 0));
	drain(qi.kick_fd);
	ck_assert_uint_eq(__atomic_load_n(&td.notifies[0], __ATOMIC_SEQ_CST), 0);
	ck_assert_uint_eq(__atomic_load_n(&td.notifies[1], __ATOMIC_SEQ_CST), 0);
	/* The internal queue is still served by the I/O thread. */
	for (int t = 0; t < 200 && !__atomic_load_n(&td.notifies[2], __ATOMIC_SEQ_CST); t++)
		usleep(5000);
	ck_assert_uint_ge(__atomic_load_n(&td.notifies[2], __ATOMIC_SEQ_CST), 1);
}
END_TEST

START_TEST(call_follows_the_vector)
{
	bring_up();
	/* MSI-X off: the I/O thread takes calls (raising nothing). */
	ck_assert(!wired(0));
	for (unsigned v = 0; v <= NQ; v++)
		gp_msix_entry(v, 0x40 + v, false);
	ck_assert(!wired(0));
	gp_msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	/* Enabled, vector 1 unmasked: an irqfd, KVM takes the signal. */
	ck_assert(wired(0));
	ck_assert(wired(1));
	call(0);
	call_delivered(0, 0x41);
	ck_assert(!gp_msix_pending(1));

	/* Vector masked: polled, and the interrupt waits in the PBA. */
	gp_msix_mask(1, true);
	ck_assert(!wired(0));
	ck_assert(wired(1)); /* its own vector is untouched */
	call(0);
	ck_assert(wait_pending(1, true, 2000));
	/* Unmasked: the pending message goes out, irqfd again. */
	gp_msix_mask(1, false);
	ck_assert(wait_pending(1, false, 2000));
	ck_assert(wired(0));

	/* Function mask covers every vector. */
	gp_msix_ctrl(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	ck_assert(!wired(0));
	ck_assert(!wired(1));
	gp_msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	ck_assert(wired(0));
}
END_TEST

START_TEST(call_vector_changes)
{
	bring_up();
	for (unsigned v = 0; v <= NQ; v++)
		gp_msix_entry(v, 0x40 + v, false);
	gp_msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	ck_assert(wired(0));
	/* NO_VECTOR: polled; a call latches the ISR queue bit. */
	gp_common_wr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	gp_common_wr(VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
	ck_assert(!wired(0));
	(void)gp_isr(); /* read-to-clear */
	call(0);
	ck_assert(wait_isr(2000));
	/* Back on a vector whose entry is then rewritten: still routed. */
	gp_common_wr(VIRTIO_PCI_COMMON_Q_MSIX, 3, 2);
	ck_assert(wired(0));
	gp_msix_entry(3, 0x55, false);
	ck_assert(wired(0));
	call(0);
	call_delivered(0, 0x55);
	/* An entry written masked from the start. */
	gp_msix_entry(3, 0x56, true);
	ck_assert(!wired(0));
	/* MSI-X disabled: polled. */
	gp_msix_entry(3, 0x56, false);
	ck_assert(wired(0));
	gp_msix_ctrl(0);
	ck_assert(!wired(0));
}
END_TEST

START_TEST(reset_unwires)
{
	bring_up();
	for (unsigned v = 0; v <= NQ; v++)
		gp_msix_entry(v, 0x40 + v, false);
	gp_msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	ck_assert(wired(0));
	int call_fd = qinfo(0).call_fd, kick_fd = qinfo(0).kick_fd;

	/* Device reset: vectors go back to NO_VECTOR, irqfds away. */
	gp_common_wr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	ck_assert(!wired(0));
	ck_assert(!qinfo(0).enabled);
	/* The eventfds stay the same across resets (a back end keeps them). */
	ck_assert_int_eq(qinfo(0).call_fd, call_fd);
	ck_assert_int_eq(qinfo(0).kick_fd, kick_fd);
	bring_up();
	ck_assert(wired(0));
	/* Function-level reset through the host: MSI-X off, unwired. */
	pci_host_reset_dev(host, virtio_pci_dev(td.vp));
	ck_assert(!wired(0));
	ck_assert(!wired(1));
}
END_TEST

START_TEST(bad_external_mask)
{
	struct virtio_dev d = td.vdev;
	struct virtio_pci *vp;

	d.external_queues = 1ULL << NQ; /* a queue that does not exist */
	ck_assert_int_eq(virtio_pci_create(&d, irq, io, &vp), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vhu-transport");
	TCase *tc = tcase_create("external-queues");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, kicks_go_to_the_eventfd);
	tcase_add_test(tc, call_follows_the_vector);
	tcase_add_test(tc, call_vector_changes);
	tcase_add_test(tc, reset_unwires);
	tcase_add_test(tc, bad_external_mask);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
