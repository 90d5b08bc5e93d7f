// SPDX-License-Identifier: MIT
/*
 * core/irq.c's policy (routing table, GSI allocation, rollback, argument
 * checks) on the recording back end, and the contract every back end keeps
 * (t_backend.h): run with --kvm, the same cases hold against KVM.
 */
#include <check.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/irq.h"
#include "core/layout.h"
#include "fake_irq.h"
#include "t_backend.h"

static struct irq *irq;
static struct fake_irq *fake; /* NULL on KVM */
static int vm_fd = -1;

static void setup(void)
{
	if (t_kvm) {
		/* One irqchip per VM: a fresh VM for every case. */
		vm_fd = t_kvm_vm();
		ck_assert_int_ge(vm_fd, 0);
		ck_assert_int_eq(irq_kvm_create(vm_fd, &irq), 0);
		fake = NULL;
		return;
	}
	ck_assert_int_eq(fake_irq_create(&irq, &fake), 0);
}

static void teardown(void)
{
	irq_destroy(irq);
	if (vm_fd >= 0)
		close(vm_fd);
}

/* ---- the contract: any back end ---- */

START_TEST(msi_routes)
{
	uint32_t a, b, c;

	ck_assert_int_eq(irq_msi_route_add(irq, 0xfee00000, 0x41, &a), 0);
	ck_assert_int_eq(irq_msi_route_add(irq, 0xfee01000, 0x42, &b), 0);
	ck_assert_uint_ge(a, LAYOUT_GSI_IOAPIC_PINS);
	ck_assert_uint_ne(a, b);
	ck_assert_int_eq(irq_msi_route_update(irq, a, 0xfee02000, 0x43), 0);
	ck_assert_int_eq(irq_msi_route_del(irq, a), 0);
	ck_assert_int_eq(irq_msi_route_del(irq, a), -ENOENT);
	ck_assert_int_eq(irq_msi_route_update(irq, a, 0xfee00000, 0), -ENOENT);
	/* A legacy GSI is not an MSI route. */
	ck_assert_int_eq(irq_msi_route_del(irq, 4), -ENOENT);
	/* The freed GSI is handed out again. */
	ck_assert_int_eq(irq_msi_route_add(irq, 0xfee00000, 0x44, &c), 0);
	ck_assert_uint_eq(c, a);
	if (fake) {
		uint64_t addr;
		uint32_t data;

		ck_assert(fake_irq_route(fake, b, &addr, &data));
		ck_assert_uint_eq(addr, 0xfee01000);
		ck_assert_uint_eq(data, 0x42);
		ck_assert(fake_irq_route(fake, c, &addr, &data));
		ck_assert_uint_eq(data, 0x44);
		ck_assert_uint_eq(fake_irq_msi_routes(fake), 2);
	}
}
END_TEST

START_TEST(irqfds)
{
	int efd = eventfd(0, EFD_CLOEXEC), rfd = eventfd(0, EFD_CLOEXEC);
	uint32_t gsi;

	ck_assert_int_eq(irq_msi_route_add(irq, 0xfee00000, 0x41, &gsi), 0);
	ck_assert_int_eq(irq_irqfd_attach(irq, gsi, efd, -1), 0);
	/* One eventfd backs one irqfd. */
	ck_assert_int_eq(irq_irqfd_attach(irq, gsi, efd, -1), -EBUSY);
	ck_assert_int_eq(irq_irqfd_detach(irq, gsi, efd), 0);
	ck_assert_int_eq(irq_irqfd_attach(irq, gsi, -1, -1), -EBADF);
	/* Level-triggered with a resample fd, on an IOAPIC pin. */
	ck_assert_int_eq(irq_irqfd_attach(irq, 10, efd, rfd), 0);
	ck_assert_int_eq(irq_irqfd_detach(irq, 10, efd), 0);
	ck_assert_int_eq(irq_line_set(irq, 10, 1), 0);
	ck_assert_int_eq(irq_line_set(irq, 10, 0), 0);
	ck_assert_int_eq(irq_line_set(irq, LAYOUT_GSI_IOAPIC_PINS, 1), -EINVAL);
	/* Not irq_msi_inject(): KVM reports an MSI no vCPU accepted as an
	 * error (the raw -1 of kvm_irq_delivery_to_apic()), and this VM has
	 * no vCPU. The kit's irq tests cover it in the integ tier. */
	close(efd);
	close(rfd);
}
END_TEST

START_TEST(ioeventfds)
{
	int efd = eventfd(0, EFD_CLOEXEC), efd2 = eventfd(0, EFD_CLOEXEC);
	struct irq_ioeventfd a = { .space = BUS_MMIO, .addr = 0xd0000000,
				   .len = 2, .efd = efd };
	struct irq_ioeventfd m1 = { .space = BUS_PIO, .addr = 0x510, .len = 1,
				    .datamatch = true, .data = 1, .efd = efd };
	struct irq_ioeventfd m2 = m1;

	ck_assert_int_eq(irq_ioeventfd_add(irq, &a), 0);
	ck_assert_int_eq(irq_ioeventfd_add(irq, &a), -EEXIST);
	/* Another width at the same address is another registration. */
	a.len = 4;
	ck_assert_int_eq(irq_ioeventfd_add(irq, &a), 0);
	ck_assert_int_eq(irq_ioeventfd_del(irq, &a), 0);
	ck_assert_int_eq(irq_ioeventfd_del(irq, &a), -ENOENT);
	a.len = 2;
	ck_assert_int_eq(irq_ioeventfd_del(irq, &a), 0);
	/* Datamatch: different values coexist; a wildcard collides. */
	m2.data = 2;
	m2.efd = efd2;
	ck_assert_int_eq(irq_ioeventfd_add(irq, &m1), 0);
	ck_assert_int_eq(irq_ioeventfd_add(irq, &m2), 0);
	m2.datamatch = false;
	ck_assert_int_eq(irq_ioeventfd_add(irq, &m2), -EEXIST);
	m2.datamatch = true;
	ck_assert_int_eq(irq_ioeventfd_del(irq, &m2), 0);
	ck_assert_int_eq(irq_ioeventfd_del(irq, &m1), 0);
	/* What KVM never accepts. */
	a.len = 3;
	ck_assert_int_eq(irq_ioeventfd_add(irq, &a), -EINVAL);
	a.len = 0;
	a.space = BUS_PIO;
	ck_assert_int_eq(irq_ioeventfd_add(irq, &a), -EOPNOTSUPP);
	a.space = BUS_MMIO;
	a.efd = -1;
	a.len = 4;
	ck_assert_int_eq(irq_ioeventfd_add(irq, &a), -EBADF);
	close(efd);
	close(efd2);
}
END_TEST

/* ---- policy, observed through the fake ---- */

START_TEST(default_routes)
{
	/* PIC pins 0-15 and IOAPIC pins 0-23 but the cascade (GSI 2). */
	ck_assert_uint_eq(fake_irq_commits(fake), 1);
	ck_assert_uint_eq(fake_irq_msi_routes(fake), 0);
}
END_TEST

START_TEST(rollback_when_refused)
{
	uint32_t a, b;
	uint64_t addr;
	uint32_t data;

	ck_assert_int_eq(irq_msi_route_add(irq, 0xfee00000, 0x41, &a), 0);
	/* A refused add takes no GSI. */
	fake_irq_fail_next(fake, -ENOMEM);
	ck_assert_int_eq(irq_msi_route_add(irq, 0xfee00000, 0x42, &b), -ENOMEM);
	ck_assert_int_eq(irq_msi_route_add(irq, 0xfee00000, 0x42, &b), 0);
	ck_assert_uint_eq(b, a + 1);
	/* A refused update keeps the old message. */
	fake_irq_fail_next(fake, -EINVAL);
	ck_assert_int_eq(irq_msi_route_update(irq, a, 0xfee01000, 0x51), -EINVAL);
	ck_assert_int_eq(irq_msi_route_update(irq, b, 0xfee00000, 0x52), 0);
	ck_assert(fake_irq_route(fake, a, &addr, &data));
	ck_assert_uint_eq(data, 0x41);
	/* A refused delete keeps the route, and its GSI stays taken. */
	fake_irq_fail_next(fake, -EIO);
	ck_assert_int_eq(irq_msi_route_del(irq, a), -EIO);
	ck_assert_int_eq(irq_msi_route_update(irq, b, 0xfee00000, 0x53), 0);
	ck_assert(fake_irq_route(fake, a, &addr, &data));
	ck_assert_uint_eq(data, 0x41);
	ck_assert(fake_irq_route(fake, b, &addr, &data));
	ck_assert_uint_eq(data, 0x53);
	ck_assert_int_eq(irq_msi_route_del(irq, a), 0);
	ck_assert(!fake_irq_route(fake, a, &addr, &data));
	ck_assert_uint_eq(fake_irq_msi_routes(fake), 1);
}
END_TEST

START_TEST(table_full)
{
	uint32_t gsi, n = 0;
	int ret;

	while ((ret = irq_msi_route_add(irq, 0xfee00000, n, &gsi)) == 0)
		n++;
	ck_assert_int_eq(ret, -ENOSPC);
	ck_assert_uint_eq(n, 1024 - LAYOUT_GSI_IOAPIC_PINS);
	ck_assert_int_eq(irq_msi_route_del(irq, 100), 0);
	ck_assert_int_eq(irq_msi_route_add(irq, 0xfee00000, 0, &gsi), 0);
	ck_assert_uint_eq(gsi, 100);
}
END_TEST

START_TEST(delivery_follows_the_route)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct fake_irq_msi m;
	uint32_t gsi;

	ck_assert_int_eq(irq_msi_route_add(irq, 0xfee00000, 0x41, &gsi), 0);
	ck_assert_int_eq(irq_irqfd_attach(irq, gsi, efd, -1), 0);
	ck_assert_uint_eq(fake_irq_poll(fake), 0);
	/* Two signals before the poll coalesce into one interrupt. */
	ck_assert_int_eq(write(efd, &(uint64_t){ 1 }, 8), 8);
	ck_assert_int_eq(write(efd, &(uint64_t){ 1 }, 8), 8);
	ck_assert_uint_eq(fake_irq_poll(fake), 1);
	ck_assert_int_eq(irq_msi_route_update(irq, gsi, 0xfee01000, 0x61), 0);
	ck_assert_int_eq(write(efd, &(uint64_t){ 1 }, 8), 8);
	ck_assert_uint_eq(fake_irq_poll(fake), 1);
	ck_assert_uint_eq(fake_irq_msi_count(fake), 2);
	m = fake_irq_msi_get(fake, 0);
	ck_assert_uint_eq(m.data, 0x41);
	m = fake_irq_msi_get(fake, 1);
	ck_assert_uint_eq(m.addr, 0xfee01000);
	ck_assert_uint_eq(m.data, 0x61);
	ck_assert_uint_eq(m.gsi, gsi);
	ck_assert_int_eq(irq_msi_inject(irq, 0xfee00000, 0x30), 0);
	m = fake_irq_msi_get(fake, 2);
	ck_assert_uint_eq(m.gsi, UINT32_MAX);
	close(efd);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("irq");
	TCase *contract = tcase_create("contract");
	TCase *policy = tcase_create("policy");
	SRunner *sr;
	int failed, ret = t_backend_select(argc, argv);

	if (ret)
		return ret;
	tcase_add_checked_fixture(contract, setup, teardown);
	tcase_add_test(contract, msi_routes);
	tcase_add_test(contract, irqfds);
	tcase_add_test(contract, ioeventfds);
	suite_add_tcase(s, contract);
	if (!t_kvm) {
		tcase_add_checked_fixture(policy, setup, teardown);
		tcase_add_test(policy, default_routes);
		tcase_add_test(policy, rollback_when_refused);
		tcase_add_test(policy, table_full);
		tcase_add_test(policy, delivery_follows_the_route);
		suite_add_tcase(s, policy);
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
