// SPDX-License-Identifier: MIT
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "machine/dev_opts.h"
#include "machine/devtypes.h"
#include "tools/cli.h"

static int parse(struct cli_run *r, char *err, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = "run";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return cli_parse_run(argc, argv, r, err, 256);
}

#define PARSE(r, err, ...) parse(r, err, (const char *const[]){ __VA_ARGS__, NULL })

START_TEST(test_sizes)
{
	uint64_t v;

	ck_assert_int_eq(cli_parse_size("512M", &v), 0);
	ck_assert_uint_eq(v, 512 * MiB);
	ck_assert_int_eq(cli_parse_size("2G", &v), 0);
	ck_assert_uint_eq(v, 2 * GiB);
	ck_assert_int_eq(cli_parse_size("2gib", &v), 0);
	ck_assert_uint_eq(v, 2 * GiB);
	ck_assert_int_eq(cli_parse_size("256", &v), 0); /* bare = MiB */
	ck_assert_uint_eq(v, 256 * MiB);
	ck_assert_int_eq(cli_parse_size("4096B", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(cli_parse_size("12X", &v), -EINVAL);
	ck_assert_int_eq(cli_parse_size("-1G", &v), -EINVAL);
	ck_assert_int_eq(cli_parse_size("", &v), -EINVAL);
	ck_assert_int_eq(cli_parse_size("M", &v), -EINVAL);
	ck_assert_int_eq(cli_parse_size("1 G", &v), -EINVAL);
	ck_assert_int_eq(cli_parse_size("99999999999999999999", &v), -ERANGE);
	ck_assert_int_eq(cli_parse_size("17179869184T", &v), -ERANGE);
}
END_TEST

START_TEST(test_run_ok)
{
	struct cli_run r;
	char err[256];

	ck_assert_int_eq(PARSE(&r, err, "--kernel", "/bin/sh", "--mem", "2G",
			       "--cpus", "4", "--cmdline", "test=mmio count=5",
			       "--serial", "file:/tmp/x", "--device", "pci-testdev",
			       "--device", "edu", "--stats"), 0);
	ck_assert_str_eq(r.machine.vm.kernel, "/bin/sh");
	ck_assert_uint_eq(r.machine.vm.mem_size, 2 * GiB);
	ck_assert_uint_eq(r.machine.vm.ncpus, 4);
	ck_assert_str_eq(r.machine.vm.cmdline, "test=mmio count=5");
	ck_assert_int_eq(r.machine.serial, LEGACY_SERIAL_FILE);
	ck_assert_str_eq(r.machine.serial_path, "/tmp/x");
	ck_assert_uint_eq(r.machine.nr_devices, 2);
	ck_assert_str_eq(r.machine.devices[0].type->name, "pci-testdev");
	ck_assert_str_eq(r.machine.devices[1].type->name, "edu");
	ck_assert(r.stats);
	cli_run_free(&r);
	/* Defaults. */
	ck_assert_int_eq(PARSE(&r, err, "--kernel", "/bin/sh"), 0);
	ck_assert_uint_eq(r.machine.vm.mem_size, 512 * MiB);
	ck_assert_uint_eq(r.machine.vm.ncpus, 1);
	ck_assert_int_eq(r.machine.serial, LEGACY_SERIAL_STDIO);
	ck_assert_int_eq(PARSE(&r, err, "--help"), 0);
	ck_assert(r.help);
}
END_TEST

START_TEST(test_net_and_disk)
{
	const struct machine_net_opts *n;
	const struct machine_disk_opts *b;
	struct cli_run r;
	char err[256] = "";

	ck_assert_msg(PARSE(&r, err, "--kernel", "/bin/sh",
			    "--net", "virtio,backend=tap:tap0,mac=52:54:00:aa:bb:cc,queues=4,ring=packed",
			    "--net", "e1000,backend=loopback",
			    "--disk", "virtio,path=/bin/sh,readonly",
			    "--net", "virtio,backend=null") == 0, "%s", err);
	ck_assert_uint_eq(r.machine.nr_devices, 4);
	ck_assert_str_eq(r.machine.devices[0].type->name, "virtio-net");
	n = r.machine.devices[0].opts;
	ck_assert_str_eq(n->backend, "tap:tap0");
	ck_assert(n->has_mac);
	ck_assert_uint_eq(n->mac[0], 0x52);
	ck_assert_uint_eq(n->mac[5], 0xcc);
	ck_assert_uint_eq(n->queues, 4);
	ck_assert(n->packed);
	ck_assert_str_eq(r.machine.devices[1].type->name, "e1000");
	n = r.machine.devices[1].opts;
	ck_assert_str_eq(n->backend, "loopback");
	ck_assert(!n->has_mac);
	ck_assert_uint_eq(n->queues, 1);
	ck_assert_str_eq(r.machine.devices[2].type->name, "virtio-blk");
	b = r.machine.devices[2].opts;
	ck_assert_str_eq(b->path, "/bin/sh");
	ck_assert(b->readonly);
	n = r.machine.devices[3].opts;
	ck_assert(!n->packed);
	cli_run_free(&r);
}
END_TEST

/* What a type checks on the host before any VM: a disk's file. */
START_TEST(test_disk_checked_before_the_vm)
{
	static const struct {
		const char *disk, *msg;
	} cases[] = {
		{ "virtio,path=/nonexistent", "disk /nonexistent: No such file" },
		{ "virtio,path=/tmp", "Is a directory" },
		{ "virtio,path=/dev/null,readonly", "not a file or block device" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct machine_device_cfg *d;
		struct cli_run r;
		char err[256] = "";

		ck_assert_int_eq(PARSE(&r, err, "--kernel", "/bin/sh", "--disk",
				       cases[i].disk), 0);
		d = &r.machine.devices[0];
		ck_assert_int_ne(d->type->check(d->opts, err, sizeof(err)), 0);
		ck_assert_msg(strstr(err, cases[i].msg), "'%s' lacks '%s'", err,
			      cases[i].msg);
		cli_run_free(&r);
	}
}
END_TEST

START_TEST(test_mac)
{
	char err[256];
	uint8_t m[6];

	ck_assert_int_eq(machine_opt_mac("52:54:00:12:34:56", m, err, sizeof(err)), 0);
	ck_assert_uint_eq(m[5], 0x56);
	static const char *const bad[] = {
		"01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00",
		"52:54:00:12:34", "52:54:00:12:34:567", "52-54-00-12-34-56",
		"zz:54:00:12:34:56", "52:54:00:12:34:5g",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(machine_opt_mac(bad[i], m, err, sizeof(err)),
				 -EINVAL);
		ck_assert_msg(strstr(err, i < 3 ? "not a unicast" : "invalid MAC"),
			      "%s: %s", bad[i], err);
	}
}
END_TEST

struct bad_case {
	const char *args[8];
	const char *msg;
};

/* Each case must be refused with its message. */
static void check_bad_cases(const struct bad_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cli_run r;
		char err[256] = "";

		ck_assert_msg(parse(&r, err, cases[i].args) == -EINVAL,
			      "case %zu accepted", i);
		ck_assert_msg(strstr(err, cases[i].msg), "case %zu: '%s' lacks '%s'",
			      i, err, cases[i].msg);
		cli_run_free(&r);
	}
}

START_TEST(test_run_errors)
{
	static const struct bad_case cases[] = {
		{ { NULL }, "--kernel FILE is required" },
		{ { "--kernel", "/nonexistent/k" }, "No such file" },
		{ { "--kernel", "/tmp" }, "not a regular file" },
		{ { "--kernel", "/bin/sh", "--initrd", "/nonexistent" }, "initrd" },
		{ { "--kernel", "/bin/sh", "--mem", "12X" }, "expected a size" },
		{ { "--kernel", "/bin/sh", "--mem", "1M" }, "too small" },
		{ { "--kernel", "/bin/sh", "--mem", "5T" }, "too large" },
		{ { "--kernel", "/bin/sh", "--mem", "17M" }, "multiple of 2M" },
		{ { "--kernel", "/bin/sh", "--cpus", "0" }, "expected a number" },
		{ { "--kernel", "/bin/sh", "--cpus", "65" }, "too many CPUs" },
		{ { "--kernel", "/bin/sh", "--cpus", "2x" }, "expected a number" },
		{ { "--kernel", "/bin/sh", "--serial", "tcp:1" }, "expected stdio" },
		{ { "--kernel", "/bin/sh", "--serial", "file:" }, "expected stdio" },
		{ { "--kernel", "/bin/sh", "--device", ",x" }, "missing device type" },
		{ { "--kernel", "/bin/sh", "--device", "edu,x=1" }, "takes no options" },
		{ { "--kernel", "/bin/sh", "--device", "nosuch" }, "unknown device 'nosuch'" },
		{ { "--kernel", "/bin/sh", "--net", "rtl8139,backend=null" }, "unknown NIC model" },
		{ { "--kernel", "/bin/sh", "--net", "virtio" }, "backend= is required" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=udp" }, "unknown back end" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=tap:" }, "invalid tap interface name" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=tap:waytoolongname123" }, "invalid tap" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=null,mac=01:02:03:04:05:06" }, "not a unicast" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=null,mac=nonsense" }, "invalid MAC" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=null,queues=9" }, "expected 1 to 8" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=null,ring=ring" }, "expected split or packed" },
		{ { "--kernel", "/bin/sh", "--net", "e1000,backend=null,queues=2" }, "conflicts with --net e1000" },
		{ { "--kernel", "/bin/sh", "--net", "e1000,backend=null,ring=packed" }, "conflicts with --net e1000" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=null,backend=loopback" }, "given twice" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=null,speed=10" }, "unknown option 'speed'" },
		{ { "--kernel", "/bin/sh", "--disk", "virtio" }, "path= is required" },
		{ { "--kernel", "/bin/sh", "--disk", "scsi,path=/bin/sh" }, "unknown disk model" },
		{ { "--kernel", "/bin/sh", "--disk", "virtio,path=/bin/sh,readonly=maybe" }, "expected on or off" },
		{ { "--kernel", "/bin/sh", "--disk", "virtio,path=/bin/sh,cache=none" }, "unknown option 'cache'" },
		{ { "--kernel", "/bin/sh", "--bogus" }, "unknown option" },
		{ { "--kernel" }, "missing argument" },
		{ { "--kernel", "/bin/sh", "extra" }, "unexpected argument" },
	};

	check_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

/* --seccomp, --user, --chroot, --kvm-fd, --net ...,backend=tap,fd=N. */
START_TEST(test_sandbox_options)
{
	const struct machine_net_opts *n;
	struct cli_run r;
	char err[256], fdstr[16], net[64];
	int fd = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(fd, 0);
	snprintf(fdstr, sizeof(fdstr), "%d", fd);
	snprintf(net, sizeof(net), "virtio,backend=tap,fd=%d", fd);
	ck_assert_int_eq(PARSE(&r, err, "--kernel", "/bin/sh"), 0);
	/* The default (log in sanitizer builds: tools/meson.build). */
	ck_assert(r.sandbox.mode == SANDBOX_ON || r.sandbox.mode == SANDBOX_LOG);
	ck_assert(!r.sandbox.has_user && !r.sandbox.chroot_dir);
	ck_assert(!r.machine.vm.has_kvm_fd);
	cli_run_free(&r);
	ck_assert_int_eq(PARSE(&r, err, "--kernel", "/bin/sh", "--seccomp", "log",
			       "--user", "65534:65533", "--chroot", "/tmp",
			       "--kvm-fd", fdstr, "--net", net), 0);
	ck_assert_int_eq(r.sandbox.mode, SANDBOX_LOG);
	ck_assert(r.sandbox.has_user);
	ck_assert_uint_eq(r.sandbox.uid, 65534);
	ck_assert_uint_eq(r.sandbox.gid, 65533);
	ck_assert_str_eq(r.sandbox.chroot_dir, "/tmp");
	ck_assert(r.machine.vm.has_kvm_fd);
	ck_assert_int_eq(r.machine.vm.kvm_fd, fd);
	n = r.machine.devices[0].opts;
	snprintf(net, sizeof(net), "tap-fd:%d", fd);
	ck_assert_str_eq(n->backend, net);
	cli_run_free(&r);
	ck_assert_int_eq(PARSE(&r, err, "--kernel", "/bin/sh", "--seccomp=off",
			       "--user", "root"), 0);
	ck_assert_int_eq(r.sandbox.mode, SANDBOX_OFF);
	ck_assert_uint_eq(r.sandbox.uid, 0);
	ck_assert_uint_eq(r.sandbox.gid, 0);
	cli_run_free(&r);
	close(fd);
}
END_TEST

START_TEST(test_sandbox_errors)
{
	static const struct bad_case cases[] = {
		{ { "--kernel", "/bin/sh", "--seccomp", "strict" }, "expected on, log or off" },
		{ { "--kernel", "/bin/sh", "--user", "no-such-user-x" }, "no such user" },
		{ { "--kernel", "/bin/sh", "--user", "root:no-such-group-x" }, "no such group" },
		{ { "--kernel", "/bin/sh", "--user", ":5" }, "expected UID[:GID]" },
		{ { "--kernel", "/bin/sh", "--user", "root:" }, "expected UID[:GID]" },
		{ { "--kernel", "/bin/sh", "--user", "4000000" }, "give UID:GID" },
		{ { "--kernel", "/bin/sh", "--chroot", "/nonexistent" }, "not a directory" },
		{ { "--kernel", "/bin/sh", "--chroot", "/bin/sh" }, "not a directory" },
		{ { "--kernel", "/bin/sh", "--kvm-fd", "x" }, "not an open file descriptor" },
		{ { "--kernel", "/bin/sh", "--kvm-fd", "999" }, "not an open file descriptor" },
		{ { "--kernel", "/bin/sh", "--kvm-fd", "-1" }, "not an open file descriptor" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=tap" }, "needs fd=N" },
		{ { "--kernel", "/bin/sh", "--net", "e1000,backend=null,fd=3" }, "fd= needs backend=tap" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=tap:t0,fd=3" }, "fd= needs backend=tap" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=tap,fd=-2" }, "expected a file descriptor" },
		{ { "--kernel", "/bin/sh", "--net", "virtio,backend=tap,fd=3x" }, "expected a file descriptor" },
	};

	check_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("run");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_run_ok);
	tcase_add_test(tc, test_run_errors);
	tcase_add_test(tc, test_net_and_disk);
	tcase_add_test(tc, test_disk_checked_before_the_vm);
	tcase_add_test(tc, test_mac);
	tcase_add_test(tc, test_sandbox_options);
	tcase_add_test(tc, test_sandbox_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
