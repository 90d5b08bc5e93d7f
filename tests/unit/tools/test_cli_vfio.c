// SPDX-License-Identifier: MIT
/*
 * `iovmm run --device vfio-pci,...`: host= (one given function) and pf=
 * (a VF from an SR-IOV pool, with VF settings). Parsing only: the pool
 * itself is tested in tests/unit/sriov/, the assignment in the lab.
 */
#include <check.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "machine/dev_opts.h"
#include "machine/devtypes.h"
#include "tools/cli.h"

static int parse_dev(struct cli_run *r, char *err, size_t errlen,
		     const char *dev1, const char *dev2)
{
	char *argv[8];
	int argc = 0;

	argv[argc++] = "run";
	argv[argc++] = "--kernel";
	argv[argc++] = "/bin/sh";
	argv[argc++] = "--device";
	argv[argc++] = (char *)dev1;
	if (dev2) {
		argv[argc++] = "--device";
		argv[argc++] = (char *)dev2;
	}
	argv[argc] = NULL;
	return cli_parse_run(argc, argv, r, err, errlen);
}

START_TEST(test_host)
{
	const struct machine_vfio_opts *v;
	struct cli_run r;
	char err[256] = "";

	ck_assert_msg(parse_dev(&r, err, sizeof(err),
				"vfio-pci,host=0000:01:00.1,no-mmap=0,no-mmap=2,rom=off",
				NULL) == 0, "%s", err);
	ck_assert_uint_eq(r.machine.nr_devices, 1);
	ck_assert_str_eq(r.machine.devices[0].type->name, "vfio-pci");
	v = r.machine.devices[0].opts;
	ck_assert_str_eq(v->host, "0000:01:00.1");
	ck_assert_str_eq(v->pf, "");
	ck_assert_uint_eq(v->no_mmap_bars, 0x5);
	ck_assert(v->rom_off);
	ck_assert_uint_eq(v->vf_settings.set, 0);
	cli_run_free(&r);
}
END_TEST

/* host=env:NAME[:N]: the Kubernetes SR-IOV device plugin's variables. */
START_TEST(test_host_env)
{
	static const struct {
		const char *dev, *host; /* host NULL: refused, with this text */
		const char *msg;
	} cases[] = {
		{ "vfio-pci,host=env:PCIDEVICE_ONE", "0000:3b:02.1" },
		{ "vfio-pci,host=env:PCIDEVICE_ONE:0", "0000:3b:02.1" },
		{ "vfio-pci,host=env:PCIDEVICE_TWO:1,rom=off", "0000:3b:02.3" },
		{ "vfio-pci,host=env:PCIDEVICE_TWO", NULL, "holds 2 addresses; say which" },
		{ "vfio-pci,host=env:PCIDEVICE_TWO:2", NULL, "holds 2 addresses" },
		{ "vfio-pci,host=env:PCIDEVICE_TWO:x", NULL, "must be a number" },
		{ "vfio-pci,host=env:PCIDEVICE_UNSET", NULL, "PCIDEVICE_UNSET is not set" },
		{ "vfio-pci,host=env:PCIDEVICE_BAD", NULL, "host=env:PCIDEVICE_BAD:" },
		{ "vfio-pci,host=env:", NULL, "expected env:NAME" },
		{ "vfio-pci,host=env:A-B", NULL, "expected env:NAME" },
		{ "vfio-pci,host=env:PCIDEVICE_ONE,pf=eth0", NULL, "exclude each other" },
	};

	setenv("PCIDEVICE_ONE", "0000:3b:02.1", 1);
	setenv("PCIDEVICE_TWO", "0000:3b:02.2,0000:3b:02.3", 1);
	setenv("PCIDEVICE_BAD", "not-a-bdf", 1);
	unsetenv("PCIDEVICE_UNSET");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cli_run r;
		char err[256] = "";
		int ret = parse_dev(&r, err, sizeof(err), cases[i].dev, NULL);

		if (cases[i].host) {
			ck_assert_msg(ret == 0, "case %zu: %s", i, err);
			ck_assert_str_eq(((const struct machine_vfio_opts *)
					  r.machine.devices[0].opts)->host,
					 cases[i].host);
		} else {
			ck_assert_msg(ret == -EINVAL && strstr(err, cases[i].msg),
				      "case %zu (%s): %d '%s' lacks '%s'", i,
				      cases[i].dev, ret, err, cases[i].msg);
		}
		cli_run_free(&r);
	}
}
END_TEST

START_TEST(test_pf_plain)
{
	const struct machine_vfio_opts *v;
	struct cli_run r;
	char err[256] = "";

	/* A netdev name and a short BDF: resolved at VM start, not here. */
	ck_assert_msg(parse_dev(&r, err, sizeof(err), "vfio-pci,pf=enp59s0f0",
				"vfio-pci,pf=3b:00.0,rom=off") == 0, "%s", err);
	ck_assert_uint_eq(r.machine.nr_devices, 2);
	v = r.machine.devices[0].opts;
	ck_assert_str_eq(v->pf, "enp59s0f0");
	ck_assert_str_eq(v->host, "");
	ck_assert_uint_eq(v->vf_settings.set, 0);
	v = r.machine.devices[1].opts;
	ck_assert_str_eq(v->pf, "3b:00.0");
	ck_assert(v->rom_off);
	cli_run_free(&r);
}
END_TEST

START_TEST(test_pf_settings)
{
	const struct sriov_vf_settings *s;
	struct cli_run r;
	char err[256] = "";

	ck_assert_msg(parse_dev(&r, err, sizeof(err),
				"vfio-pci,pf=0000:3b:00.0,mac=52:54:00:12:34:01,"
				"vlan=100,qos=3,trust=on,spoofchk=off,max-rate=2000,"
				"min-rate=500,link=enable", NULL) == 0, "%s", err);
	s = &((const struct machine_vfio_opts *)r.machine.devices[0].opts)->vf_settings;
	ck_assert_uint_eq(s->set, SRIOV_SET(SRIOV_KEY_MAC) |
			  SRIOV_SET(SRIOV_KEY_VLAN) | SRIOV_SET(SRIOV_KEY_TRUST) |
			  SRIOV_SET(SRIOV_KEY_SPOOFCHK) | SRIOV_SET(SRIOV_KEY_RATE) |
			  SRIOV_SET(SRIOV_KEY_LINK));
	ck_assert_uint_eq(s->mac[0], 0x52);
	ck_assert_uint_eq(s->mac[5], 0x01);
	ck_assert_uint_eq(s->vlan, 100);
	ck_assert_uint_eq(s->qos, 3);
	ck_assert_uint_eq(s->vlan_proto, ETH_P_8021Q);
	ck_assert(s->trust);
	ck_assert(!s->spoofchk);
	ck_assert_uint_eq(s->max_rate, 2000);
	ck_assert_uint_eq(s->min_rate, 500);
	ck_assert_int_eq(s->link_state, IFLA_VF_LINK_STATE_ENABLE);
	cli_run_free(&r);

	/* QinQ, and order does not matter (qos before vlan). */
	ck_assert_msg(parse_dev(&r, err, sizeof(err),
				"vfio-pci,qos=7,vlan-proto=802.1ad,vlan=4094,pf=eth0",
				NULL) == 0, "%s", err);
	s = &((const struct machine_vfio_opts *)r.machine.devices[0].opts)->vf_settings;
	ck_assert_uint_eq(s->set, SRIOV_SET(SRIOV_KEY_VLAN));
	ck_assert_uint_eq(s->vlan, 4094);
	ck_assert_uint_eq(s->qos, 7);
	ck_assert_uint_eq(s->vlan_proto, ETH_P_8021AD);
	cli_run_free(&r);
}
END_TEST

struct bad_dev {
	const char *dev;
	const char *msg;
};

START_TEST(test_errors)
{
	static const struct bad_dev cases[] = {
		{ "vfio-pci", "host=BDF or pf=PF is required" },
		{ "vfio-pci,rom=off", "host=BDF or pf=PF is required" },
		{ "vfio-pci,host=01:00.1,pf=01:00.0", "host= and pf= exclude each other" },
		{ "vfio-pci,pf=01:00.0,host=01:00.1", "host= and pf= exclude each other" },
		{ "vfio-pci,pf=", "pf= missing or given twice" },
		{ "vfio-pci,pf", "pf= missing or given twice" },
		{ "vfio-pci,pf=a,pf=b", "pf= missing or given twice" },
		{ "vfio-pci,host=", "host= missing or given twice" },
		{ "vfio-pci,pf=eth0,mac=52:54:00:zz:00:01", "invalid MAC '52:54:00:zz:00:01'" },
		{ "vfio-pci,pf=eth0,mac=52:54:00:12:34", "invalid MAC" },
		{ "vfio-pci,pf=eth0,mac=01:00:5e:00:00:01", "multicast or broadcast" },
		{ "vfio-pci,pf=eth0,mac=", "invalid MAC" },
		{ "vfio-pci,pf=eth0,vlan=4095", "invalid VLAN '4095'" },
		{ "vfio-pci,pf=eth0,vlan=4096", "invalid VLAN '4096'" },
		{ "vfio-pci,pf=eth0,vlan=-1", "invalid VLAN" },
		{ "vfio-pci,pf=eth0,vlan=1x", "invalid VLAN" },
		{ "vfio-pci,pf=eth0,vlan=", "invalid VLAN" },
		{ "vfio-pci,pf=eth0,vlan=99999999999999999999", "invalid VLAN" },
		{ "vfio-pci,pf=eth0,vlan=10,qos=8", "invalid qos '8'" },
		{ "vfio-pci,pf=eth0,qos=3", "qos= needs vlan=" },
		{ "vfio-pci,pf=eth0,vlan-proto=802.1ad", "vlan-proto= needs vlan=" },
		{ "vfio-pci,pf=eth0,vlan=5,vlan-proto=802.3", "invalid vlan-proto" },
		{ "vfio-pci,pf=eth0,trust=yes", "invalid trust 'yes'" },
		{ "vfio-pci,pf=eth0,trust", "invalid trust ''" },
		{ "vfio-pci,pf=eth0,spoofchk=1", "invalid spoofchk '1'" },
		{ "vfio-pci,pf=eth0,link=up", "invalid link 'up'" },
		{ "vfio-pci,pf=eth0,max-rate=fast", "invalid max-rate" },
		{ "vfio-pci,pf=eth0,min-rate=600,max-rate=500", "min-rate 600 is above max-rate 500" },
		{ "vfio-pci,pf=eth0,mac=52:54:00:12:34:01,mac=52:54:00:12:34:02", "mac= given twice" },
		{ "vfio-pci,pf=eth0,vlan=1,vlan=2", "vlan= given twice" },
		{ "vfio-pci,pf=eth0,trust=on,trust=off", "trust= given twice" },
		{ "vfio-pci,host=01:00.1,mac=52:54:00:12:34:01", "need pf=" },
		{ "vfio-pci,host=01:00.1,trust=on", "need pf=" },
		{ "vfio-pci,pf=eth0,speed=10", "unknown option 'speed'" },
		{ "vfio-pci,pf=eth0,no-mmap=6", "expected a BAR number 0-5" },
		{ "vfio-pci,pf=eth0,rom=maybe", "expected on or off" },
		/* A key or value longer than the parser's buffers. */
		{ "vfio-pci,pf=eth0,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", "option too long" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cli_run r;
		char err[256] = "";

		ck_assert_msg(parse_dev(&r, err, sizeof(err), cases[i].dev,
					NULL) == -EINVAL,
			      "case %zu (%s) accepted", i, cases[i].dev);
		ck_assert_msg(strstr(err, cases[i].msg),
			      "case %zu (%s): '%s' lacks '%s'", i, cases[i].dev,
			      err, cases[i].msg);
		cli_run_free(&r);
	}
}
END_TEST

/* A pf= value at the size limit is kept whole; one past it is refused. */
START_TEST(test_long_values)
{
	char dev[MACHINE_VFIO_HOST_MAX + 32], err[256] = "";
	struct cli_run r;
	int n;

	n = snprintf(dev, sizeof(dev), "vfio-pci,pf=");
	memset(dev + n, 'p', MACHINE_VFIO_HOST_MAX - 1);
	dev[n + MACHINE_VFIO_HOST_MAX - 1] = '\0';
	ck_assert_msg(parse_dev(&r, err, sizeof(err), dev, NULL) == 0, "%s", err);
	ck_assert_uint_eq(strlen(((const struct machine_vfio_opts *)r.machine.devices[0].opts)->pf), MACHINE_VFIO_HOST_MAX - 1);
	cli_run_free(&r);
	strcat(dev, "p");
	ck_assert_int_eq(parse_dev(&r, err, sizeof(err), dev, NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "option too long"));
	cli_run_free(&r);
}
END_TEST

START_TEST(test_usage)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	/* `iovmm run --help` documents the pool (the table's usage/help). */
	ck_assert_ptr_nonnull(f);
	cli_print_run_usage(f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "--device vfio-pci,pf=PF"));
	ck_assert_ptr_nonnull(strstr(text, "trust=on|off"));
	ck_assert_ptr_nonnull(strstr(text, "Not with host="));
	ck_assert_ptr_nonnull(strstr(text, "--net vhost-user,socket=PATH"));
	ck_assert_ptr_nonnull(strstr(text, "--device edu"));
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli-vfio");
	TCase *tc = tcase_create("vfio-pci");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_host);
	tcase_add_test(tc, test_host_env);
	tcase_add_test(tc, test_pf_plain);
	tcase_add_test(tc, test_pf_settings);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_long_values);
	tcase_add_test(tc, test_usage);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
