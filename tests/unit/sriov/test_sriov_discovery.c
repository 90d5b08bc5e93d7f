// SPDX-License-Identifier: MIT
/*
 * Discovery and lifecycle over the fake host: PF resolution (BDF, netdev,
 * errors), the SR-IOV capability read with libpci and checked against
 * sysfs, VF listing (driver, group, netdev, MAC, use), create/destroy with
 * every refusal, and the CLI's output and exit status.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sriov/sriov_internal.h"
#include "tests/unit/sriov/fake_host.h"
#include "tools/sriov_cmd.h"

static char err[512];

START_TEST(test_resolve)
{
	char bdf[SRIOV_BDF_SIZE];

	ck_assert_int_eq(sriov_pf_resolve(&fh.env, FH_NIC_PF, bdf, err,
					  sizeof(err)), 0);
	ck_assert_str_eq(bdf, FH_NIC_PF);
	ck_assert_int_eq(sriov_pf_resolve(&fh.env, "3B:00.0", bdf, err,
					  sizeof(err)), 0);
	ck_assert_str_eq(bdf, FH_NIC_PF);
	ck_assert_int_eq(sriov_pf_resolve(&fh.env, FH_NIC_NETDEV, bdf, err,
					  sizeof(err)), 0);
	ck_assert_str_eq(bdf, FH_NIC_PF);
	ck_assert_int_eq(sriov_pf_resolve(&fh.env, "/sys/bus/pci/devices/"
					  FH_NVME_PF, bdf, err, sizeof(err)), 0);
	ck_assert_str_eq(bdf, FH_NVME_PF);

	ck_assert_int_eq(sriov_pf_resolve(&fh.env, "eth9", bdf, err,
					  sizeof(err)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(err, "unknown PF 'eth9'"));
	ck_assert_int_eq(sriov_pf_resolve(&fh.env, "0000:77:00.0", bdf, err,
					  sizeof(err)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(err, "unknown PF 0000:77:00.0"));
	ck_assert_int_eq(sriov_pf_resolve(&fh.env, FH_AHCI, bdf, err,
					  sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not an SR-IOV device"));
	ck_assert_int_eq(sriov_pf_resolve(&fh.env, "", bdf, err, sizeof(err)),
			 -EINVAL);
	fake_sysfs_enable_vfs(&fh.fs, FH_NVME_PF, 1, false);
	ck_assert_int_eq(sriov_pf_resolve(&fh.env, "0000:01:00.1", bdf, err,
					  sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "0000:01:00.1 is a VF (of 0000:01:00.0), not a PF");
}
END_TEST

START_TEST(test_capability)
{
	struct sriov_cap cap;
	char vf[SRIOV_BDF_SIZE];

	ck_assert_int_eq(sriov_cap_read(&fh.env, FH_NIC_PF, &cap), 0);
	ck_assert(cap.present);
	ck_assert_uint_eq(cap.offset, 0x160);
	ck_assert_uint_eq(cap.total_vfs, 64);
	ck_assert_uint_eq(cap.initial_vfs, 64);
	ck_assert_uint_eq(cap.num_vfs, 0);
	ck_assert_uint_eq(cap.vf_offset, 128);
	ck_assert_uint_eq(cap.vf_stride, 2);
	ck_assert_uint_eq(cap.vf_device, 0x10ed);
	ck_assert_uint_eq(cap.supported_page_sizes, 0x553);
	ck_assert_uint_eq(cap.system_page_size, 1);
	ck_assert_uint_eq(cap.ctrl & 1, 0);
	/* §9.3.3.10: Routing IDs from offset and stride. */
	ck_assert_int_eq(sriov_vf_bdf(FH_NIC_PF, &cap, 0, vf), 0);
	ck_assert_str_eq(vf, "0000:3b:10.0");
	ck_assert_int_eq(sriov_vf_bdf(FH_NIC_PF, &cap, 3, vf), 0);
	ck_assert_str_eq(vf, "0000:3b:10.6");
	ck_assert_int_eq(sriov_vf_bdf(FH_NIC_PF, &cap, 4, vf), 0);
	ck_assert_str_eq(vf, "0000:3b:11.0");
	/* 64 VFs of stride 2 from 0x80 run onto the next bus. */
	ck_assert_int_eq(sriov_vf_bdf(FH_NIC_PF, &cap, 63, vf), 0);
	ck_assert_str_eq(vf, "0000:3b:1f.6");
	cap.vf_stride = 4;
	ck_assert_int_eq(sriov_vf_bdf(FH_NIC_PF, &cap, 32, vf), 0);
	ck_assert_str_eq(vf, "0000:3c:00.0");
	ck_assert_int_eq(sriov_vf_bdf("0000:ff:00.0", &cap, 40, vf), -ERANGE);

	ck_assert_int_eq(sriov_cap_read(&fh.env, FH_AHCI, &cap), -ENOENT);
	ck_assert(!cap.present);
	/* Conventional config space (256 bytes): no extended capabilities. */
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config",
			 fh.fs.sys, FH_NVME_PF);
		ck_assert_int_eq(truncate(path, 256), 0);
		ck_assert_int_eq(sriov_cap_read(&fh.env, FH_NVME_PF, &cap),
				 -ENOENT);
	}
}
END_TEST

START_TEST(test_pf_read_nic)
{
	struct sriov_pf *pf;

	fake_sysfs_enable_vfs(&fh.fs, FH_NIC_PF, 4, false);
	fake_sysfs_bind(&fh.fs, "0000:3b:10.2", "ixgbevf");
	fake_sysfs_bind(&fh.fs, "0000:3b:10.4", "vfio-pci");
	fh.fs.busy_group = 102; /* 3b:10.4's group, "open in a VM" */
	ck_assert_int_eq(sriov_pf_read(&fh.env, FH_NIC_NETDEV,
				       SRIOV_READ_NETLINK, &pf, err,
				       sizeof(err)), 0);
	ck_assert_str_eq(pf->bdf, FH_NIC_PF);
	ck_assert_uint_eq(pf->vendor, 0x8086);
	ck_assert_uint_eq(pf->device, 0x10fb);
	ck_assert_str_eq(pf->driver, "ixgbe");
	ck_assert_str_eq(pf->netdev, FH_NIC_NETDEV);
	ck_assert_int_eq(pf->ifindex, FH_NIC_IFINDEX);
	ck_assert_int_eq(pf->group, 30);
	ck_assert_uint_eq(pf->totalvfs, 63);
	ck_assert_uint_eq(pf->numvfs, 4);
	ck_assert_int_eq(pf->autoprobe, 0);
	ck_assert(pf->cap.present);
	ck_assert_uint_eq(pf->cap.num_vfs, 4);
	/* ixgbe lowers TotalVFs: the check says so, nothing else differs. */
	ck_assert_str_eq(pf->notes, "sriov_totalvfs is 63 but the "
			 "capability's TotalVFs is 64 (the driver limits it)");
	ck_assert_uint_eq(pf->nvfs, 4);
	ck_assert_str_eq(pf->vfs[0].bdf, "0000:3b:10.0");
	ck_assert_str_eq(pf->vfs[3].bdf, "0000:3b:10.6");
	ck_assert_uint_eq(pf->vfs[0].device, 0x10ed);
	ck_assert_int_eq(pf->vfs[0].group, 100);
	ck_assert_str_eq(pf->vfs[0].driver, "");
	ck_assert_int_eq(pf->vfs[0].use, SRIOV_VF_FREE);
	ck_assert_str_eq(pf->vfs[1].driver, "ixgbevf");
	ck_assert_str_eq(pf->vfs[1].netdev, "enp59s16f2");
	ck_assert_str_eq(pf->vfs[1].mac, "02:00:00:3b:10:02");
	ck_assert_int_eq(pf->vfs[1].use, SRIOV_VF_HOST);
	ck_assert_int_eq(pf->vfs[2].use, SRIOV_VF_IN_USE);
	ck_assert_int_eq(pf->vfs[3].use, SRIOV_VF_FREE);
	/* The driver's view over netlink. */
	ck_assert(pf->vfs[0].cfg.valid);
	ck_assert_int_eq(pf->vfs[0].cfg.spoofchk, 1);
	ck_assert_int_eq(pf->vfs[0].cfg.trust, 0);
	ck_assert_int_eq(pf->vfs[0].cfg.link_state, 0);
	sriov_pf_free(pf);

	/* A lease held by a live process, and one left by a dead one. */
	{
		char path[600];
		int fd;

		ck_assert_int_eq(sriov_lease_lock(&fh.env, "0000:3b:10.0", &fd,
						  NULL), 0);
		snprintf(path, sizeof(path), "pid=%ld\nvf=0000:3b:10.0\n",
			 (long)getpid());
		ck_assert_int_eq(sriov_lease_write(fd, path), 0);
		snprintf(path, sizeof(path), "%s/leases/0000:3b:10.6", fh.run);
		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		fputs("pid=999999999\n", f); /* beyond pid_max: dead */
		fclose(f);
		ck_assert_int_eq(sriov_pf_read(&fh.env, FH_NIC_PF, 0, &pf, err,
					       sizeof(err)), 0);
		ck_assert_int_eq(pf->vfs[0].use, SRIOV_VF_LEASED);
		ck_assert_int_eq(pf->vfs[0].lease_pid, getpid());
		ck_assert_int_eq(pf->vfs[3].use, SRIOV_VF_STALE);
		ck_assert(!pf->vfs[0].cfg.valid); /* not asked for */
		sriov_pf_free(pf);
		sriov_lease_unlock(&fh.env, "0000:3b:10.0", fd);
	}
}
END_TEST

START_TEST(test_pf_read_nvme)
{
	struct sriov_pf *pf;
	const struct sriov_vf *vf;

	fake_sysfs_enable_vfs(&fh.fs, FH_NVME_PF, 2, false);
	ck_assert_int_eq(sriov_pf_read(&fh.env, FH_NVME_PF, SRIOV_READ_NETLINK,
				       &pf, err, sizeof(err)), 0);
	ck_assert_str_eq(pf->driver, "nvme");
	ck_assert_str_eq(pf->netdev, "");
	ck_assert_int_eq(pf->ifindex, 0);
	ck_assert_uint_eq(pf->totalvfs, 2);
	ck_assert_str_eq(pf->notes, ""); /* capability and sysfs agree */
	ck_assert_uint_eq(pf->nvfs, 2);
	ck_assert_str_eq(pf->vfs[0].bdf, "0000:01:00.1");
	ck_assert_str_eq(pf->vfs[1].bdf, "0000:01:00.2");
	ck_assert_int_eq(pf->vfs[1].group, 201);
	ck_assert(!pf->vfs[0].cfg.valid); /* no netdev: nothing asked */
	ck_assert_int_eq(fh_count(-1, -1), 0);
	vf = sriov_pf_find_vf(pf, "1", err, sizeof(err));
	ck_assert_ptr_nonnull(vf);
	ck_assert_str_eq(vf->bdf, "0000:01:00.2");
	vf = sriov_pf_find_vf(pf, "01:00.1", err, sizeof(err));
	ck_assert_ptr_nonnull(vf);
	ck_assert_uint_eq(vf->index, 0);
	ck_assert_ptr_null(sriov_pf_find_vf(pf, "2", err, sizeof(err)));
	ck_assert_str_eq(err, "PF 0000:01:00.0 has no VF 2 (it has 2 VFs)");
	ck_assert_ptr_null(sriov_pf_find_vf(pf, "0000:3b:10.0", err,
					    sizeof(err)));
	ck_assert_str_eq(err, "0000:3b:10.0 is not a VF of 0000:01:00.0");
	sriov_pf_free(pf);

	/* The capability disagreeing with sysfs is reported. */
	{
		char path[600];
		int fd;
		uint16_t bogus = 7;

		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config",
			 fh.fs.sys, FH_NVME_PF);
		fd = open(path, O_WRONLY);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(pwrite(fd, &bogus, 2, 0x160 + 0x14), 2);
		close(fd);
	}
	ck_assert_int_eq(sriov_pf_read(&fh.env, FH_NVME_PF, 0, &pf, err,
				       sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(pf->notes, "virtfn0 is 0000:01:00.1 but "
				     "offset/stride place VF 0 at 0000:01:00.7"));
	sriov_pf_free(pf);
}
END_TEST

START_TEST(test_pf_list)
{
	char (*bdfs)[SRIOV_BDF_SIZE];
	size_t n;

	ck_assert_int_eq(sriov_pf_list(&fh.env, &bdfs, &n, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(bdfs[0], FH_NVME_PF);
	ck_assert_str_eq(bdfs[1], FH_NIC_PF);
	free(bdfs);
}
END_TEST

START_TEST(test_create_destroy)
{
	char buf[64];
	struct sriov_pf *pf;

	/* Autoprobe goes off before the VFs appear: no host driver. */
	ck_assert_int_eq(sriov_create(&fh.env, FH_NIC_NETDEV, 3, 0, err,
				      sizeof(err)), 0);
	fake_sysfs_attr(&fh.fs, FH_NIC_PF, "sriov_drivers_autoprobe", buf,
			sizeof(buf));
	ck_assert_str_eq(buf, "0");
	fake_sysfs_attr(&fh.fs, FH_NIC_PF, "sriov_numvfs", buf, sizeof(buf));
	ck_assert_str_eq(buf, "3");
	fake_sysfs_driver(&fh.fs, "0000:3b:10.4", buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	/* Same count again: nothing to do. Another count: refused. */
	ck_assert_int_eq(sriov_create(&fh.env, FH_NIC_PF, 3, 0, err,
				      sizeof(err)), 0);
	ck_assert_int_eq(sriov_create(&fh.env, FH_NIC_PF, 2, 0, err,
				      sizeof(err)), -EBUSY);
	ck_assert_str_eq(err, "0000:3b:00.0 already has 3 VFs: the kernel "
			 "only changes the count through 0 (iovmm sriov "
			 "destroy 0000:3b:00.0 first)");
	ck_assert_int_eq(sriov_destroy(&fh.env, FH_NIC_PF, err, sizeof(err)),
			 0);
	fake_sysfs_attr(&fh.fs, FH_NIC_PF, "sriov_numvfs", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0");
	ck_assert_int_eq(sriov_pf_read(&fh.env, FH_NIC_PF, 0, &pf, err,
				       sizeof(err)), 0);
	ck_assert_uint_eq(pf->nvfs, 0);
	sriov_pf_free(pf);
	/* Destroying nothing is fine too. */
	ck_assert_int_eq(sriov_destroy(&fh.env, FH_NIC_PF, err, sizeof(err)),
			 0);

	/* --autoprobe: the host VF driver takes them. */
	ck_assert_int_eq(sriov_create(&fh.env, FH_NIC_PF, 1,
				      SRIOV_CREATE_AUTOPROBE, err,
				      sizeof(err)), 0);
	fake_sysfs_driver(&fh.fs, "0000:3b:10.0", buf, sizeof(buf));
	ck_assert_str_eq(buf, "ixgbevf");
}
END_TEST

START_TEST(test_create_errors)
{
	ck_assert_int_eq(sriov_create(&fh.env, FH_NIC_PF, 64, 0, err,
				      sizeof(err)), -ERANGE);
	ck_assert_str_eq(err, "0000:3b:00.0 supports at most 63 VFs "
			 "(sriov_totalvfs), not 64");
	ck_assert_int_eq(sriov_create(&fh.env, FH_NIC_PF, 0, 0, err,
				      sizeof(err)), -EINVAL);
	ck_assert_int_eq(sriov_create(&fh.env, FH_AHCI, 1, 0, err,
				      sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not an SR-IOV device"));
	ck_assert_int_eq(sriov_create(&fh.env, "nosuch0", 1, 0, err,
				      sizeof(err)), -ENODEV);
	/* A PF without a driver cannot enable VFs. */
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver",
			 fh.fs.sys, FH_NVME_PF);
		ck_assert_int_eq(unlink(path), 0);
	}
	ck_assert_int_eq(sriov_create(&fh.env, FH_NVME_PF, 1, 0, err,
				      sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "0000:01:00.0 has no driver: VFs are enabled by "
			 "the PF's driver, bind it first");
	fake_sysfs_bind(&fh.fs, FH_NVME_PF, "nvme");
	fh.fs.write_errno = EACCES;
	ck_assert_int_eq(sriov_create(&fh.env, FH_NVME_PF, 1, 0, err,
				      sizeof(err)), -EACCES);
	ck_assert_ptr_nonnull(strstr(err, "need root"));
	fh.fs.write_errno = 0;
}
END_TEST

START_TEST(test_destroy_refused)
{
	char buf[16];
	int fd;

	fake_sysfs_enable_vfs(&fh.fs, FH_NVME_PF, 2, false);
	/* A VF in a VM through host= (its VFIO group open). */
	fake_sysfs_bind(&fh.fs, "0000:01:00.2", "vfio-pci");
	fh.fs.busy_group = 201;
	ck_assert_int_eq(sriov_destroy(&fh.env, FH_NVME_PF, err, sizeof(err)),
			 -EBUSY);
	ck_assert_str_eq(err, "VF 0000:01:00.2 (vf 1) is in use: its VFIO group "
			 "201 is open (a VM assigned it with host=; stop it "
			 "first)");
	fh.fs.busy_group = -1;
	/* A VF leased by a running iovmm (another process holds the lock). */
	{
		int p[2];
		pid_t child;
		char c;

		ck_assert_int_eq(pipe(p), 0);
		child = fork();
		if (child == 0) {
			char rec[64];

			if (sriov_lease_lock(&fh.env, "0000:01:00.1", &fd, NULL))
				_exit(1);
			snprintf(rec, sizeof(rec), "pid=%ld\n", (long)getpid());
			sriov_lease_write(fd, rec);
			(void)!write(p[1], "x", 1);
			pause();
			_exit(0);
		}
		close(p[1]);
		ck_assert_int_eq(read(p[0], &c, 1), 1);
		ck_assert_int_eq(sriov_destroy(&fh.env, FH_NVME_PF, err,
					       sizeof(err)), -EBUSY);
		snprintf(buf, sizeof(buf), "pid %ld", (long)child);
		ck_assert_ptr_nonnull(strstr(err, "VF 0000:01:00.1 (vf 0) is "
					     "assigned to a running guest"));
		ck_assert_ptr_nonnull(strstr(err, buf));
		fake_sysfs_attr(&fh.fs, FH_NVME_PF, "sriov_numvfs", buf,
				sizeof(buf));
		ck_assert_str_eq(buf, "2");
		/* The refusal dropped no one else's lease. */
		{
			pid_t pid;

			ck_assert_int_eq(sriov_lease_peek(&fh.env,
							  "0000:01:00.1", &pid),
					 SRIOV_VF_LEASED);
		}
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		close(p[0]);
	}
	/* Its owner died: the lease is stale, destroy repairs and goes on. */
	ck_assert_int_eq(sriov_destroy(&fh.env, FH_NVME_PF, err, sizeof(err)),
			 0);
	fake_sysfs_attr(&fh.fs, FH_NVME_PF, "sriov_numvfs", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0");
}
END_TEST

/* Run the CLI with stdout and stderr captured into out. */
static int cli(char *out, size_t len, const char *const *args)
{
	char *argv[16], path[600];
	int argc = 0, ret, saved_out, saved_err, fd;
	ssize_t n;

	argv[argc++] = "sriov";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	snprintf(path, sizeof(path), "%s/cli.out", fh.fs.root);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fd, 1);
	dup2(fd, 2);
	ret = sriov_cmd_run(&fh.env, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return ret;
}

#define CLI(out, ...) cli(out, sizeof(out), (const char *const[]){ __VA_ARGS__, NULL })

START_TEST(test_cli)
{
	char out[8192];

	ck_assert_int_eq(CLI(out, "create", FH_NVME_PF, "--vfs", "2"), 0);
	ck_assert_ptr_nonnull(strstr(out, "0000:01:00.0: 2 VFs enabled in "));
	ck_assert_ptr_nonnull(strstr(out, "(autoprobe off)"));
	ck_assert_int_eq(CLI(out, "create", FH_NIC_NETDEV, "--vfs", "2"), 0);
	ck_assert_int_eq(CLI(out, "list"), 0);
	ck_assert_ptr_nonnull(strstr(out, "PF 0000:01:00.0 1b36:0010 driver=nvme "
				     "netdev=- group=3 VFs=2/2 autoprobe=off"));
	ck_assert_ptr_nonnull(strstr(out, "  1   0000:01:00.2 -          201   "));
	ck_assert_ptr_nonnull(strstr(out, "PF 0000:3b:00.0 8086:10fb driver=ixgbe "
				     "netdev=enp59s0f0 group=30 VFs=2/63"));
	/* Admin MACs from the PF driver. */
	ck_assert_ptr_nonnull(strstr(out, "00:00:00:00:00:00 free"));
	ck_assert_int_eq(CLI(out, "list", "--json"), 0);
	ck_assert_ptr_nonnull(strstr(out, "{\"pfs\":[{\"bdf\":\"0000:01:00.0\""));
	ck_assert_ptr_nonnull(strstr(out, "\"index\":1,\"bdf\":\"0000:01:00.2\","
				     "\"device\":\"0010\",\"driver\":\"\","
				     "\"group\":201"));
	ck_assert_int_eq(CLI(out, "set", FH_NIC_NETDEV, "1",
			     "mac=52:54:00:aa:bb:01", "vlan=100,qos=3",
			     "trust=on", "max-rate=1000"), 0);
	ck_assert_str_eq(out, "enp59s0f0 VF 1: mac=52:54:00:aa:bb:01 vlan=100 "
			 "qos=3 vlan-proto=802.1Q trust=on max-rate=1000\n");
	ck_assert_int_eq(CLI(out, "show", FH_NIC_PF), 0);
	ck_assert_ptr_nonnull(strstr(out, "capability: SR-IOV at 0x160: TotalVFs "
				     "64, InitialVFs 64, NumVFs 2, VF Enable on"));
	ck_assert_ptr_nonnull(strstr(out, "VF offset 128, stride 2, VF device ID "
				     "10ed, page sizes 4K,8K,64K,256K,1M,4M "
				     "(system 4K)"));
	ck_assert_ptr_nonnull(strstr(out, "note: sriov_totalvfs is 63"));
	ck_assert_ptr_nonnull(strstr(out, "  1   52:54:00:aa:bb:01 100 qos 3 "
				     "802.1Q       on       on    0/1000"));
	ck_assert_int_eq(CLI(out, "show", FH_NIC_PF, "--json"), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"config\":{\"mac\":\"52:54:00:aa:bb:01\","
				     "\"vlan\":100,\"qos\":3,\"vlan_proto\":"
				     "\"802.1Q\",\"spoofchk\":1,\"trust\":1,"
				     "\"min_rate\":0,\"max_rate\":1000,"
				     "\"link\":\"auto\"}"));

	/* Every error the issue lists, with its exit status. */
	ck_assert_int_eq(CLI(out, "create", FH_AHCI, "--vfs", "1"), 1);
	ck_assert_ptr_nonnull(strstr(out, "not an SR-IOV device"));
	ck_assert_int_eq(CLI(out, "create", FH_NVME_PF, "--vfs", "9"), 1);
	ck_assert_ptr_nonnull(strstr(out, "supports at most 2 VFs"));
	ck_assert_int_eq(CLI(out, "show", "eth7"), 1);
	ck_assert_ptr_nonnull(strstr(out, "unknown PF 'eth7'"));
	ck_assert_int_eq(CLI(out, "set", FH_NIC_PF, "0", "mac=01:00:5e:00:00:01"), 2);
	ck_assert_ptr_nonnull(strstr(out, "invalid MAC '01:00:5e:00:00:01'"));
	ck_assert_int_eq(CLI(out, "set", FH_NIC_PF, "0", "mac=52:54:00:zz:00:01"), 2);
	ck_assert_ptr_nonnull(strstr(out, "invalid MAC"));
	ck_assert_int_eq(CLI(out, "set", FH_NIC_PF, "0", "vlan=4095"), 2);
	ck_assert_ptr_nonnull(strstr(out, "invalid VLAN '4095': expected 0-4094"));
	ck_assert_int_eq(CLI(out, "set", FH_NIC_PF, "0", "qos=3"), 2);
	ck_assert_ptr_nonnull(strstr(out, "qos= needs vlan="));
	ck_assert_int_eq(CLI(out, "set", FH_NIC_PF, "0", "colour=blue"), 2);
	ck_assert_ptr_nonnull(strstr(out, "unknown VF setting 'colour'"));
	ck_assert_int_eq(CLI(out, "set", FH_NVME_PF, "0", "trust=on"), 1);
	ck_assert_ptr_nonnull(strstr(out, "has no network interface"));
	fh.refuse = FH_NO_TRUST;
	ck_assert_int_eq(CLI(out, "set", FH_NIC_PF, "0", "trust=on"), 1);
	ck_assert_str_eq(out, "iovmm sriov set: PF driver ixgbe does not support "
			 "trust\n");
	fh.fs.write_errno = EPERM;
	ck_assert_int_eq(CLI(out, "destroy", FH_NVME_PF), 1);
	ck_assert_ptr_nonnull(strstr(out, "need root"));
	fh.fs.write_errno = 0;
	fh.fs.busy_group = 200;
	fake_sysfs_bind(&fh.fs, "0000:01:00.1", "vfio-pci");
	ck_assert_int_eq(CLI(out, "destroy", FH_NVME_PF), 1);
	ck_assert_ptr_nonnull(strstr(out, "is in use"));
	fh.fs.busy_group = -1;
	ck_assert_int_eq(CLI(out, "destroy", FH_NVME_PF), 0);
	ck_assert_int_eq(CLI(out, "bogus"), 2);
	ck_assert_int_eq(CLI(out, "create", FH_NVME_PF), 2);
	ck_assert_int_eq(CLI(out, "create", FH_NVME_PF, "--vfs", "x"), 2);
	ck_assert_int_eq(CLI(out, "--help"), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: iovmm sriov list"));
	ck_assert_int_eq(CLI(out, "repair"), 0);
	ck_assert_str_eq(out, "0 stale leases repaired\n");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sriov-discovery");
	TCase *tc = tcase_create("all");

	tcase_add_checked_fixture(tc, fh_setup, fh_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_resolve);
	tcase_add_test(tc, test_capability);
	tcase_add_test(tc, test_pf_read_nic);
	tcase_add_test(tc, test_pf_read_nvme);
	tcase_add_test(tc, test_pf_list);
	tcase_add_test(tc, test_create_destroy);
	tcase_add_test(tc, test_create_errors);
	tcase_add_test(tc, test_destroy_refused);
	tcase_add_test(tc, test_cli);
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
