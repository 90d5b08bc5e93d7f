// SPDX-License-Identifier: MIT
/*
 * VF pools over the fake host: acquire binds a free VF to vfio-pci and
 * applies settings, release undoes both; concurrent allocators (threads
 * and processes) never share a VF; a lease left behind by a process that
 * died is repaired (settings restored, VF unbound) by the next user.
 */
#include <check.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sriov/sriov_internal.h"
#include "tests/unit/sriov/fake_host.h"

static char err[512];

static bool lease_exists(const char *vf)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/leases/%s", fh.run, vf);
	return stat(path, &st) == 0;
}

static void lease_text(const char *vf, char *buf, size_t len)
{
	char path[600];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/leases/%s", fh.run, vf);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

START_TEST(test_acquire_release)
{
	struct sriov_lease *a, *b, *c;
	char vf[SRIOV_BDF_SIZE], drv[32], rec[1024], want[64];

	fake_sysfs_enable_vfs(&fh.fs, FH_NVME_PF, 2, false);
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NVME_PF, NULL, &a, vf,
					    sizeof(vf), err, sizeof(err)), 0);
	ck_assert_str_eq(vf, "0000:01:00.1");
	ck_assert_str_eq(sriov_lease_vf(a), vf);
	ck_assert_str_eq(sriov_lease_pf(a), FH_NVME_PF);
	fake_sysfs_driver(&fh.fs, vf, drv, sizeof(drv));
	ck_assert_str_eq(drv, "vfio-pci");
	lease_text(vf, rec, sizeof(rec));
	snprintf(want, sizeof(want), "pid=%ld\n", (long)getpid());
	ck_assert_ptr_nonnull(strstr(rec, want));
	ck_assert_ptr_nonnull(strstr(rec, "pf=0000:01:00.0\nvf=0000:01:00.1\n"
				     "index=0\nbound=1\n"));
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, "01:00.0", NULL, &b, vf,
					    sizeof(vf), err, sizeof(err)), 0);
	ck_assert_str_eq(vf, "0000:01:00.2");
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NVME_PF, NULL, &c, vf,
					    sizeof(vf), err, sizeof(err)),
			 -EBUSY);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "(pid %ld, %ld)", (long)getpid(),
		 (long)getpid());
	ck_assert_ptr_nonnull(strstr(err, "no free VF on 0000:01:00.0: 2 VFs, "
				     "2 leased by running iovmm"));
	ck_assert_ptr_nonnull(strstr(err, want));
	/* destroy refuses while a guest holds one. */
	ck_assert_int_eq(sriov_destroy(&fh.env, FH_NVME_PF, err, sizeof(err)),
			 -EBUSY);
	ck_assert_ptr_nonnull(strstr(err, "is assigned to a running guest"));

	sriov_pool_release(a);
	fake_sysfs_driver(&fh.fs, "0000:01:00.1", drv, sizeof(drv));
	ck_assert_str_eq(drv, ""); /* as it was: no driver */
	ck_assert(!lease_exists("0000:01:00.1"));
	ck_assert(lease_exists("0000:01:00.2"));
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NVME_PF, NULL, &a, vf,
					    sizeof(vf), err, sizeof(err)), 0);
	ck_assert_str_eq(vf, "0000:01:00.1");
	sriov_pool_release(a);
	sriov_pool_release(b);
	sriov_pool_release(NULL);
	ck_assert(!lease_exists("0000:01:00.2"));
	ck_assert_int_eq(sriov_destroy(&fh.env, FH_NVME_PF, err, sizeof(err)),
			 0);
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NVME_PF, NULL, &a, vf,
					    sizeof(vf), err, sizeof(err)),
			 -ENODEV);
	ck_assert_str_eq(err, "0000:01:00.0 has no VFs: create them first "
			 "(iovmm sriov create 0000:01:00.0 --vfs N)");
}
END_TEST

START_TEST(test_acquire_settings)
{
	struct sriov_vf_settings s = { 0 };
	struct sriov_lease *l;
	char vf[SRIOV_BDF_SIZE], rec[1024];

	fake_sysfs_enable_vfs(&fh.fs, FH_NIC_PF, 3, false);
	fh.vfs[0].mac[0] = 0x02; /* an admin MAC set before */
	fh.vfs[0].mac[5] = 0x01;
	ck_assert_int_eq(sriov_settings_parse_list(&s, "mac=52:54:00:12:34:56,"
		"vlan=100,qos=2,trust=on,spoofchk=off", err, sizeof(err)), 0);
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NIC_NETDEV, &s, &l, vf,
					    sizeof(vf), err, sizeof(err)), 0);
	ck_assert_str_eq(vf, "0000:3b:10.0");
	ck_assert_uint_eq(fh.vfs[0].mac[0], 0x52);
	ck_assert_uint_eq(fh.vfs[0].vlan, 100);
	ck_assert_uint_eq(fh.vfs[0].qos, 2);
	ck_assert_uint_eq(fh.vfs[0].trust, 1);
	ck_assert_uint_eq(fh.vfs[0].spoofchk, 0);
	/* What to put back is on disk before anything changed. */
	lease_text(vf, rec, sizeof(rec));
	ck_assert_ptr_nonnull(strstr(rec, "undo=mac=02:00:00:00:00:01 vlan=0 "
				     "qos=0 vlan-proto=802.1Q spoofchk=on "
				     "trust=off\n"));
	sriov_pool_release(l);
	ck_assert_uint_eq(fh.vfs[0].mac[0], 0x02);
	ck_assert_uint_eq(fh.vfs[0].mac[5], 0x01);
	ck_assert_uint_eq(fh.vfs[0].vlan, 0);
	ck_assert_uint_eq(fh.vfs[0].trust, 0);
	ck_assert_uint_eq(fh.vfs[0].spoofchk, 1);

	/* A VF a host driver owns is never taken. */
	fake_sysfs_bind(&fh.fs, "0000:3b:10.0", "ixgbevf");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NIC_PF, &s, &l, vf,
					    sizeof(vf), err, sizeof(err)), 0);
	ck_assert_str_eq(vf, "0000:3b:10.2");
	sriov_pool_release(l);

	/* The driver refuses a setting: nothing stays changed or held. */
	fh.refuse = FH_NO_TRUST;
	sriov_settings_parse_list(&s, "mac=52:54:00:00:00:09 trust=on", err,
				  sizeof(err));
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NIC_PF, &s, &l, vf,
					    sizeof(vf), err, sizeof(err)),
			 -EOPNOTSUPP);
	ck_assert_str_eq(err, "PF driver ixgbe does not support trust");
	ck_assert_uint_eq(fh.vfs[1].mac[5], 0); /* MAC put back */
	ck_assert(!lease_exists("0000:3b:10.2"));
	{
		char drv[32];

		fake_sysfs_driver(&fh.fs, "0000:3b:10.2", drv, sizeof(drv));
		ck_assert_str_eq(drv, "");
	}
	/* A PF without a network interface takes no settings. */
	fake_sysfs_enable_vfs(&fh.fs, FH_NVME_PF, 1, false);
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NVME_PF, &s, &l, vf,
					    sizeof(vf), err, sizeof(err)),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(err, "has no network interface"));
	/* Bad settings are refused before anything is touched. */
	memset(&s, 0, sizeof(s));
	s.has_qos = true;
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NIC_PF, &s, &l, vf,
					    sizeof(vf), err, sizeof(err)),
			 -EINVAL);
}
END_TEST

START_TEST(test_skip_in_use)
{
	struct sriov_lease *l;
	char vf[SRIOV_BDF_SIZE];

	fake_sysfs_enable_vfs(&fh.fs, FH_NVME_PF, 2, false);
	/* VF 0 is in a VM through host= (vfio-pci, group open). */
	fake_sysfs_bind(&fh.fs, "0000:01:00.1", "vfio-pci");
	fh.fs.busy_group = 200;
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NVME_PF, NULL, &l, vf,
					    sizeof(vf), err, sizeof(err)), 0);
	ck_assert_str_eq(vf, "0000:01:00.2");
	ck_assert(!lease_exists("0000:01:00.1"));
	sriov_pool_release(l);
	/* On vfio-pci and idle: taken as it is. */
	fh.fs.busy_group = -1;
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NVME_PF, NULL, &l, vf,
					    sizeof(vf), err, sizeof(err)), 0);
	ck_assert_str_eq(vf, "0000:01:00.1");
	sriov_pool_release(l);
	{
		char drv[32];

		/* It was on vfio-pci before the lease: it stays there. */
		fake_sysfs_driver(&fh.fs, "0000:01:00.1", drv, sizeof(drv));
		ck_assert_str_eq(drv, "vfio-pci");
	}
}
END_TEST

#define NTHREADS 12
#define NVFS 4

static pthread_barrier_t barrier;

struct taker {
	struct sriov_lease *lease;
	char vf[SRIOV_BDF_SIZE];
	char err[256];
	int ret;
};

static void *take(void *arg)
{
	struct taker *t = arg;

	pthread_barrier_wait(&barrier);
	t->ret = sriov_pool_acquire(&fh.env, FH_NIC_PF, NULL, &t->lease, t->vf,
				    sizeof(t->vf), t->err, sizeof(t->err));
	return NULL;
}

START_TEST(test_threads)
{
	struct taker t[NTHREADS];
	pthread_t th[NTHREADS];
	int ok = 0, busy = 0;

	memset(t, 0, sizeof(t));
	fake_sysfs_enable_vfs(&fh.fs, FH_NIC_PF, NVFS, false);
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, take, &t[i]), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&barrier);
	for (int i = 0; i < NTHREADS; i++) {
		if (t[i].ret == -EBUSY) {
			busy++;
			continue;
		}
		ck_assert_msg(t[i].ret == 0, "thread %d: %s", i, t[i].err);
		ok++;
		for (int j = 0; j < i; j++)
			ck_assert_msg(t[j].ret || strcmp(t[i].vf, t[j].vf),
				      "threads %d and %d both got %s", i, j,
				      t[i].vf);
	}
	ck_assert_int_eq(ok, NVFS);
	ck_assert_int_eq(busy, NTHREADS - NVFS);
	for (int i = 0; i < NTHREADS; i++)
		sriov_pool_release(t[i].lease);
	for (int i = 0; i < NVFS; i++) {
		char vf[32], drv[32];

		snprintf(vf, sizeof(vf), "0000:3b:10.%d", 2 * i);
		ck_assert(!lease_exists(vf));
		fake_sysfs_driver(&fh.fs, vf, drv, sizeof(drv));
		ck_assert_str_eq(drv, "");
	}
}
END_TEST

#define NPROCS 8

/* A child process: take a VF, say which, hold it until the parent closes
 * `hold`, release, exit. */
static void child_take(int report, int hold, bool release)
{
	struct sriov_lease *l;
	char vf[SRIOV_BDF_SIZE], line[64], e[256], c;
	int ret;

	ret = sriov_pool_acquire(&fh.env, FH_NIC_PF, NULL, &l, vf, sizeof(vf),
				 e, sizeof(e));
	snprintf(line, sizeof(line), "%-31s", ret == 0 ? vf :
		 ret == -EBUSY ? "busy" : "error");
	if (write(report, line, 31) != 31)
		_exit(3);
	if (read(hold, &c, 1) < 0)
		_exit(4);
	if (release)
		sriov_pool_release(l);
	_exit(ret == 0 || ret == -EBUSY ? 0 : 2);
}

START_TEST(test_processes)
{
	int report[2], hold[2], ok = 0, busy = 0, status;
	char got[NPROCS][32];
	pid_t pids[NPROCS];

	fake_sysfs_enable_vfs(&fh.fs, FH_NIC_PF, NVFS, false);
	ck_assert_int_eq(pipe(report), 0);
	ck_assert_int_eq(pipe(hold), 0);
	for (int i = 0; i < NPROCS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			close(report[0]);
			close(hold[1]);
			child_take(report[1], hold[0], true);
		}
	}
	close(report[1]);
	close(hold[0]);
	for (int i = 0; i < NPROCS; i++) {
		ck_assert_int_eq(read(report[0], got[i], 31), 31);
		got[i][31] = '\0';
		got[i][strcspn(got[i], " ")] = '\0';
		if (!strcmp(got[i], "busy")) {
			busy++;
			continue;
		}
		ck_assert_msg(strncmp(got[i], "0000:3b:10.", 11) == 0,
			      "child got '%s'", got[i]);
		ok++;
		for (int j = 0; j < i; j++)
			ck_assert_msg(strcmp(got[i], got[j]),
				      "two processes got %s", got[i]);
	}
	ck_assert_int_eq(ok, NVFS);
	ck_assert_int_eq(busy, NPROCS - NVFS);
	close(hold[1]); /* everyone lets go */
	for (int i = 0; i < NPROCS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(report[0]);
	for (int i = 0; i < NVFS; i++) {
		char vf[32];

		snprintf(vf, sizeof(vf), "0000:3b:10.%d", 2 * i);
		ck_assert(!lease_exists(vf));
	}
}
END_TEST

/* A child takes VF 0 with settings and is SIGKILLed holding it. */
static pid_t crash_child(void)
{
	int report[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(report), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sriov_vf_settings s = { 0 };
		struct sriov_lease *l;
		char vf[SRIOV_BDF_SIZE], e[256];

		sriov_settings_parse_list(&s, "mac=52:54:00:66:66:66 vlan=42",
					  e, sizeof(e));
		if (sriov_pool_acquire(&fh.env, FH_NIC_PF, &s, &l, vf,
				       sizeof(vf), e, sizeof(e)))
			_exit(1);
		(void)!write(report[1], "x", 1);
		pause();
		_exit(0);
	}
	close(report[1]);
	ck_assert_int_eq(read(report[0], &c, 1), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	close(report[0]);
	return pid;
}

START_TEST(test_crash_repair)
{
	struct sriov_lease *l;
	struct sriov_pf *pf;
	char vf[SRIOV_BDF_SIZE], drv[32], rec[1024], want[32];
	pid_t dead;

	fake_sysfs_enable_vfs(&fh.fs, FH_NIC_PF, 2, false);
	dead = crash_child();
	/* Left behind: VF on vfio-pci, a record naming the dead owner. */
	fake_sysfs_driver(&fh.fs, "0000:3b:10.0", drv, sizeof(drv));
	ck_assert_str_eq(drv, "vfio-pci");
	ck_assert_int_eq(sriov_pf_read(&fh.env, FH_NIC_PF, 0, &pf, err,
				       sizeof(err)), 0);
	ck_assert_int_eq(pf->vfs[0].use, SRIOV_VF_STALE);
	ck_assert_int_eq(pf->vfs[0].lease_pid, dead);
	sriov_pf_free(pf);
	/* The child's NIC model is gone with it; ours still says VF 0 has
	 * no MAC. Make it look like the child's changes happened here. */
	fh.vfs[0].mac[0] = 0x52;
	fh.vfs[0].vlan = 42;
	/* The next user repairs it first, then takes it. */
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NIC_PF, NULL, &l, vf,
					    sizeof(vf), err, sizeof(err)), 0);
	ck_assert_str_eq(vf, "0000:3b:10.0");
	ck_assert_int_eq(fh_count(IFLA_VF_MAC, 0), 1);
	ck_assert_int_eq(fh_count(IFLA_VF_VLAN_LIST, 0), 1);
	ck_assert_uint_eq(fh.vfs[0].mac[0], 0);
	ck_assert_uint_eq(fh.vfs[0].vlan, 0);
	lease_text(vf, rec, sizeof(rec));
	snprintf(want, sizeof(want), "pid=%ld\n", (long)getpid());
	ck_assert_ptr_nonnull(strstr(rec, want));
	ck_assert_ptr_null(strstr(rec, "undo="));
	sriov_pool_release(l);
	fake_sysfs_driver(&fh.fs, "0000:3b:10.0", drv, sizeof(drv));
	ck_assert_str_eq(drv, "");

	/* `iovmm sriov repair`: the same without taking the VF. */
	crash_child();
	ck_assert_int_eq(sriov_pool_repair(&fh.env, err, sizeof(err)), 1);
	ck_assert(!lease_exists("0000:3b:10.0"));
	fake_sysfs_driver(&fh.fs, "0000:3b:10.0", drv, sizeof(drv));
	ck_assert_str_eq(drv, "");
	ck_assert_int_eq(fh_count(IFLA_VF_MAC, 0), 2);
	ck_assert_int_eq(sriov_pool_repair(&fh.env, err, sizeof(err)), 0);

	/* A record that is garbage is survived, and cleaned. */
	{
		char path[600];
		FILE *f;

		snprintf(path, sizeof(path), "%s/leases/0000:3b:10.2", fh.run);
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs("pid=-3\npf=../../etc\nindex=99999999\nundo=mac=zz "
		      "vlan=70000\nbound=1\n\x01\x02", f);
		fclose(f);
	}
	ck_assert_int_eq(sriov_pool_repair(&fh.env, err, sizeof(err)), 1);
	ck_assert(!lease_exists("0000:3b:10.2"));
}
END_TEST

/*
 * A stale lease on a VF the pick does not land on is repaired too: VF 0 is
 * free and taken, VF 1 (left on vfio-pci by a crashed holder) is handed
 * back at the same time.
 */
START_TEST(test_repair_whole_pf)
{
	struct sriov_lease *l;
	char vf[SRIOV_BDF_SIZE], drv[32];

	fake_sysfs_enable_vfs(&fh.fs, FH_NIC_PF, 2, false);
	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NIC_PF, NULL, &l, vf,
					    sizeof(vf), err, sizeof(err)), 0);
	ck_assert_str_eq(vf, "0000:3b:10.0");
	crash_child(); /* takes VF 1, the only free one, and dies */
	sriov_pool_release(l);
	ck_assert(lease_exists("0000:3b:10.2"));
	fake_sysfs_driver(&fh.fs, "0000:3b:10.2", drv, sizeof(drv));
	ck_assert_str_eq(drv, "vfio-pci");

	ck_assert_int_eq(sriov_pool_acquire(&fh.env, FH_NIC_PF, NULL, &l, vf,
					    sizeof(vf), err, sizeof(err)), 0);
	ck_assert_str_eq(vf, "0000:3b:10.0");
	ck_assert(!lease_exists("0000:3b:10.2"));
	fake_sysfs_driver(&fh.fs, "0000:3b:10.2", drv, sizeof(drv));
	ck_assert_str_eq(drv, "");
	sriov_pool_release(l);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sriov-pool");
	TCase *tc = tcase_create("all");

	tcase_add_checked_fixture(tc, fh_setup, fh_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_acquire_release);
	tcase_add_test(tc, test_acquire_settings);
	tcase_add_test(tc, test_skip_in_use);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_processes);
	tcase_add_test(tc, test_crash_repair);
	tcase_add_test(tc, test_repair_whole_pf);
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
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
