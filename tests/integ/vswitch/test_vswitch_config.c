// SPDX-License-Identifier: MIT
/* iovmm-vswitch's argument parser and socket checks (config.c): no DPDK. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vhost-user/dpdk/config.h"

static struct vsw_config cfg;
static char err[512];

/* parse("--port", "x", NULL): argv[0] is a dummy program name. */
static int parse(const char *first, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "iovmm-vswitch";
	va_start(ap, first);
	for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return vsw_config_parse(argc, argv, &cfg, err, sizeof(err));
}

START_TEST(test_defaults_and_ports)
{
	ck_assert_int_eq(parse("--port", "vhost:/tmp/a.sock", "--port",
			       "vhost:/tmp/b.sock,client,queues=4", "--port",
			       "eth:net_tap0,iface=t0", "--port", "eth:0000:03:00.1",
			       "--port", "eth:03:00.0,x=1", NULL), 0);
	ck_assert_uint_eq(cfg.nports, 5);
	ck_assert_int_eq(cfg.mode, VSW_MODE_L2);
	ck_assert_uint_eq(cfg.age_s, 300);
	ck_assert_uint_eq(cfg.mac_entries, 4096);
	ck_assert(cfg.stats_period == 0);
	ck_assert(!cfg.hugepages);
	ck_assert_int_eq(cfg.ports[0].kind, VSW_PORT_VHOST);
	ck_assert_str_eq(cfg.ports[0].path, "/tmp/a.sock");
	ck_assert(cfg.ports[0].server);
	ck_assert_uint_eq(cfg.ports[0].queues, 1);
	ck_assert(!cfg.ports[1].server);
	ck_assert_uint_eq(cfg.ports[1].queues, 4);
	ck_assert_int_eq(cfg.ports[2].kind, VSW_PORT_ETH);
	ck_assert_str_eq(cfg.ports[2].path, "net_tap0,iface=t0");
	ck_assert(!cfg.ports[2].is_pci);
	ck_assert(cfg.ports[3].is_pci);
	ck_assert(cfg.ports[4].is_pci);
	for (unsigned i = 0; i < cfg.nports; i++)
		ck_assert_int_eq(cfg.peer[i], -1);
}
END_TEST

START_TEST(test_options)
{
	ck_assert_int_eq(parse("--port", "vhost:/tmp/a.sock", "--stats-period",
			       "0.5", "--age", "0", "--mac-entries", "100",
			       "--mbufs", "20000", "--hugepages", NULL), 0);
	ck_assert(cfg.stats_period == 0.5);
	ck_assert_uint_eq(cfg.age_s, 0);
	ck_assert_uint_eq(cfg.mac_entries, 100);
	ck_assert_uint_eq(cfg.mbufs, 20000);
	ck_assert(cfg.hugepages);
}
END_TEST

START_TEST(test_xconnect)
{
	ck_assert_int_eq(parse("--mode", "xconnect", "--port", "vhost:/a",
			       "--port", "vhost:/b", "--port", "vhost:/c", "--port",
			       "vhost:/d", NULL), 0);
	ck_assert_int_eq(cfg.mode, VSW_MODE_XCONNECT);
	ck_assert_int_eq(cfg.peer[0], 1);
	ck_assert_int_eq(cfg.peer[1], 0);
	ck_assert_int_eq(cfg.peer[2], 3);
	ck_assert_int_eq(cfg.peer[3], 2);

	ck_assert_int_eq(parse("--mode", "xconnect", "--xconnect", "0:2,1:1",
			       "--port", "vhost:/a", "--port", "vhost:/b", "--port",
			       "vhost:/c", NULL), 0);
	ck_assert_int_eq(cfg.peer[0], 2);
	ck_assert_int_eq(cfg.peer[2], 0);
	ck_assert_int_eq(cfg.peer[1], 1);

	/* One port alone loops back to itself. */
	ck_assert_int_eq(parse("--mode", "xconnect", "--port", "vhost:/a", NULL), 0);
	ck_assert_int_eq(cfg.peer[0], 0);

	ck_assert_int_eq(parse("--mode", "loopback", "--port", "vhost:/a",
			       "--port", "eth:net_ring0", NULL), 0);
	ck_assert_int_eq(cfg.mode, VSW_MODE_XCONNECT);
	ck_assert_int_eq(cfg.peer[0], 0);
	ck_assert_int_eq(cfg.peer[1], 1);
}
END_TEST

/* Each bad command line is refused with -EINVAL and a reason naming it. */
START_TEST(test_errors)
{
	static const struct {
		const char *args[10];
		const char *reason;
	} bad[] = {
		{ { NULL }, "no --port" },
		{ { "--port", "tap0", NULL }, "expected vhost:PATH" },
		{ { "--port", "vhost:", NULL }, "no socket path" },
		{ { "--port", "vhost:,server", NULL }, "no socket path" },
		{ { "--port", "eth:", NULL }, "no device" },
		{ { "--port", "vhost:/a,queues=9", NULL }, "queues must be" },
		{ { "--port", "vhost:/a,queues=x", NULL }, "queues must be" },
		{ { "--port", "vhost:/a,sever", NULL }, "unknown vhost option" },
		{ { "--port", "vhost:/a", "--port", "vhost:/a", NULL }, "given twice" },
		{ { "--port", "vhost:/a", "--mode", "hub", NULL }, "expected l2" },
		{ { "--port", "vhost:/a", "--xconnect", "0:0", NULL }, "needs --mode xconnect" },
		{ { "--mode", "xconnect", "--port", "vhost:/a", "--port", "vhost:/b",
		    "--xconnect", "0:1,1:0", NULL }, "already paired" },
		{ { "--mode", "xconnect", "--port", "vhost:/a", "--port", "vhost:/b",
		    "--xconnect", "0:0", NULL }, "in no pair" },
		{ { "--mode", "xconnect", "--port", "vhost:/a", "--xconnect", "0-1",
		    NULL }, "expected A:B" },
		{ { "--mode", "xconnect", "--port", "vhost:/a", "--xconnect", "0:-1",
		    NULL }, "expected A:B" },
		{ { "--mode", "xconnect", "--port", "vhost:/a", "--xconnect", "0:5",
		    NULL }, "only 1 ports" },
		{ { "--mode", "loopback", "--port", "vhost:/a", "--xconnect", "0:0",
		    NULL }, "makes no sense" },
		{ { "--port", "vhost:/a", "--stats-period", "x", NULL }, "stats-period" },
		{ { "--port", "vhost:/a", "--stats-period", "nan", NULL }, "stats-period" },
		{ { "--port", "vhost:/a", "--age", "-1", NULL }, "--age" },
		{ { "--port", "vhost:/a", "--mac-entries", "1", NULL }, "--mac-entries" },
		{ { "--port", "vhost:/a", "--mbufs", "99999999", NULL }, "--mbufs" },
		{ { "--port", "vhost:/a", "--bogus", NULL }, "unknown option" },
		{ { "--port", "vhost:/a", "stray", NULL }, "unexpected argument" },
		{ { "--port", NULL }, "missing value" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const *a = bad[i].args;
		int ret = parse(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
				a[8], a[9], NULL);

		ck_assert_msg(ret == -EINVAL, "case %zu: %d", i, ret);
		ck_assert_msg(strstr(err, bad[i].reason), "case %zu: '%s' lacks '%s'",
			      i, err, bad[i].reason);
	}
}
END_TEST

START_TEST(test_long_path_and_many_ports)
{
	char spec[200], path[120];
	char *argv[2 * VSW_MAX_PORTS + 4];
	static char specs[VSW_MAX_PORTS + 1][32];
	int argc = 0;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(spec, sizeof(spec), "vhost:%s", path);
	ck_assert_int_eq(parse("--port", spec, NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));

	argv[argc++] = "iovmm-vswitch";
	for (int i = 0; i <= VSW_MAX_PORTS; i++) {
		snprintf(specs[i], sizeof(specs[i]), "vhost:/p%d", i);
		argv[argc++] = "--port";
		argv[argc++] = specs[i];
	}
	argv[argc] = NULL;
	ck_assert_int_eq(vsw_config_parse(argc, argv, &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "at most"));
	ck_assert_int_eq(vsw_config_parse(argc - 2, argv, &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nports, VSW_MAX_PORTS);
}
END_TEST

static void make_socket(const char *path, int listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening) {
		ck_assert_int_eq(listen(fd, 1), 0);
		return;	/* kept open for the test's lifetime */
	}
	close(fd);	/* the file stays: a stale socket */
}

START_TEST(test_socket_check)
{
	char dir[] = "/tmp/vsw-cfg-XXXXXX";
	struct vsw_port_cfg p = { .kind = VSW_PORT_VHOST, .server = true };
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	strcpy(p.spec, "test-port");

	snprintf(p.path, sizeof(p.path), "%s/none/x.sock", dir);
	ck_assert_int_eq(vsw_socket_check(&p, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "does not exist"));

	snprintf(p.path, sizeof(p.path), "%s/new.sock", dir);
	ck_assert_int_eq(vsw_socket_check(&p, err, sizeof(err)), 0);

	snprintf(p.path, sizeof(p.path), "%s/file", dir);
	fclose(fopen(p.path, "w"));
	ck_assert_int_eq(vsw_socket_check(&p, err, sizeof(err)), -EEXIST);
	ck_assert_int_eq(stat(p.path, &st), 0);	/* not removed */
	unlink(p.path);

	snprintf(p.path, sizeof(p.path), "%s/stale.sock", dir);
	make_socket(p.path, 0);
	p.server = false;	/* a client leaves it alone */
	ck_assert_int_eq(vsw_socket_check(&p, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(p.path, &st), 0);
	p.server = true;	/* a server removes a stale one */
	ck_assert_int_eq(vsw_socket_check(&p, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(p.path, &st), -1);

	snprintf(p.path, sizeof(p.path), "%s/busy.sock", dir);
	make_socket(p.path, 1);
	ck_assert_int_eq(vsw_socket_check(&p, err, sizeof(err)), -EADDRINUSE);
	ck_assert_ptr_nonnull(strstr(err, "listening"));
	ck_assert_int_eq(stat(p.path, &st), 0);
	unlink(p.path);
	rmdir(dir);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("vswitch-config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_defaults_and_ports);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_xconnect);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_long_path_and_many_ports);
	tcase_add_test(tc, test_socket_check);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	/* --help prints to stdout; keep the output of each case separate. */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
