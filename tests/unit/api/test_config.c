// SPDX-License-Identifier: MIT
/* api/config.c: Cloud Hypervisor's VmConfig onto machine_config and back. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.h"
#include "core/util.h"
#include "machine/devtypes.h"

#define K "\"payload\":{\"kernel\":\"/k\"}"

/* Refused configs: the error must name the field. */
static const struct {
	const char *json;
	const char *err; /* a substring of the reason */
} refused[] = {
	{ "", "not valid JSON" },
	{ "{", "not valid JSON" },
	{ "[]", "VmConfig must be an object" },
	{ "{\"payload\":{\"kernel\":\"/k\"},\"payload\":{}}", "not valid JSON" },
	{ "{}", "payload is required" },
	{ "{\"payload\":{}}", "payload.kernel is required" },
	{ "{\"payload\":{\"kernel\":\"/k\",\"firmware\":\"/f\"}}", "payload.firmware is not supported" },
	{ "{" K ",\"rng\":{\"src\":\"/dev/urandom\"}}", "VmConfig.rng is not supported" },
	{ "{" K ",\"iommu\":true}", "VmConfig.iommu: iovmm supports only false" },
	{ "{" K ",\"cpus\":{\"boot_vcpus\":0,\"max_vcpus\":0}}", "cpus.boot_vcpus" },
	{ "{" K ",\"cpus\":{\"boot_vcpus\":65,\"max_vcpus\":65}}", "cpus.boot_vcpus" },
	{ "{" K ",\"cpus\":{\"boot_vcpus\":2,\"max_vcpus\":4}}", "cpus.max_vcpus" },
	{ "{" K ",\"cpus\":{\"boot_vcpus\":\"2\"}}", "cpus.boot_vcpus must be a non-negative integer" },
	{ "{" K ",\"cpus\":{\"boot_vcpus\":1,\"topology\":{}}}", "cpus.topology is not supported" },
	{ "{" K ",\"memory\":{}}", "memory.size is required" },
	{ "{" K ",\"memory\":{\"size\":1048576}}", "memory.size" },
	{ "{" K ",\"memory\":{\"size\":268435457}}", "memory.size" },
	{ "{" K ",\"memory\":{\"size\":268435456,\"shared\":false}}", "memory.shared" },
	{ "{" K ",\"memory\":{\"size\":268435456,\"hugepage_size\":1073741824}}", "memory.hugepage_size" },
	{ "{" K ",\"memory\":{\"size\":268435456,\"zones\":[]}}", "memory.zones is not supported" },
	{ "{" K ",\"serial\":{\"mode\":\"Pty\"}}", "serial.mode Pty" },
	{ "{" K ",\"serial\":{\"mode\":\"File\"}}", "without file" },
	{ "{" K ",\"serial\":{\"mode\":\"Tty\",\"socket\":\"/s\"}}", "serial.socket is not supported" },
	{ "{" K ",\"console\":{\"mode\":\"Tty\"}}", "virtio-console" },
	{ "{" K ",\"disks\":[{}]}", "disks[0].path is required" },
	{ "{" K ",\"disks\":{\"path\":\"/d\"}}", "VmConfig.disks must be an array" },
	{ "{" K ",\"disks\":[{\"path\":\"/d\",\"direct\":true}]}", "disks[0].direct" },
	{ "{" K ",\"disks\":[{\"path\":\"/d,x\"}]}", "comma" },
	{ "{" K ",\"disks\":[{\"path\":\"/d\"},{\"path\":\"/e\",\"rate_limiter_config\":{}}]}", "disks[1].rate_limiter_config is not supported" },
	{ "{" K ",\"net\":[{}]}", "net[0]: iovmm needs tap" },
	{ "{" K ",\"net\":[{\"tap\":\"t0\",\"ip\":\"1.2.3.4\"}]}", "net[0].ip is not supported" },
	{ "{" K ",\"net\":[{\"tap\":\"t0\",\"num_queues\":3}]}", "net[0].num_queues" },
	{ "{" K ",\"net\":[{\"tap\":\"t0\",\"mac\":\"zz\"}]}", "net[0]:" },
	{ "{" K ",\"net\":[{\"vhost_user\":true}]}", "net[0].vhost_socket is required" },
	{ "{" K ",\"net\":[{\"vhost_user\":true,\"vhost_socket\":\"/s\",\"vhost_mode\":\"Both\"}]}", "vhost_mode" },
	{ "{" K ",\"net\":[{\"tap\":\"t\",\"vhost_socket\":\"/s\"}]}", "need vhost_user" },
	{ "{" K ",\"devices\":[{}]}", "devices[0].path is required" },
	{ "{" K ",\"devices\":[{\"path\":\"/sys/bus/pci/devices/nonsense\"}]}", "devices[0].path:" },
	{ "{" K ",\"iovmm\":{\"net\":[\"bogus\"]}}", "iovmm.net[0]:" },
	{ "{" K ",\"iovmm\":{\"net\":[1]}}", "iovmm.net[0] must be a string" },
	{ "{" K ",\"iovmm\":{\"cpu\":[]}}", "iovmm.cpu is not supported" },
};

START_TEST(test_refused)
{
	struct api_vm_config cfg;
	char err[256] = "";
	int ret = api_config_parse(refused[_i].json, strlen(refused[_i].json),
				   &cfg, err, sizeof(err));

	ck_assert_int_eq(ret, -EINVAL);
	ck_assert_msg(strstr(err, refused[_i].err), "case %d: '%s' lacks '%s'",
		      _i, err, refused[_i].err);
	api_config_free(&cfg);
}
END_TEST

START_TEST(test_full)
{
	static const char j[] = "{"
		"\"cpus\":{\"boot_vcpus\":2,\"max_vcpus\":2,\"kvm_hyperv\":false},"
		"\"memory\":{\"size\":1073741824,\"hugepages\":true,\"shared\":true,"
		"\"hugepage_size\":2097152},"
		"\"payload\":{\"kernel\":\"/k\",\"cmdline\":\"console=ttyS0\","
		"\"initramfs\":\"/i\"},"
		"\"serial\":{\"mode\":\"File\",\"file\":\"/tmp/s\"},"
		"\"console\":{\"mode\":\"Off\"},"
		"\"disks\":[{\"path\":\"/d.img\",\"readonly\":true,\"id\":\"disk0\"}],"
		"\"net\":[{\"tap\":\"tap0\",\"mac\":\"52:54:00:00:00:01\",\"num_queues\":4},"
		"{\"vhost_user\":true,\"vhost_socket\":\"/v.sock\",\"vhost_mode\":\"Server\"}],"
		"\"devices\":[{\"path\":\"/sys/bus/pci/devices/0000:01:00.1/\",\"id\":\"vf\"}],"
		"\"iovmm\":{\"device\":[\"edu\"]},"
		"\"iommu\":false}";
	static const char *const specs[] = {
		"virtio,path=/d.img,readonly",
		"virtio,backend=tap:tap0,queues=2,mac=52:54:00:00:00:01",
		"vhost-user,socket=/v.sock,server",
		"vfio-pci,host=0000:01:00.1",
		"edu",
	};
	struct api_vm_config cfg;
	char err[256] = "";

	ck_assert_msg(!api_config_parse(j, strlen(j), &cfg, err, sizeof(err)),
		      "%s", err);
	ck_assert_uint_eq(cfg.mc.vm.ncpus, 2);
	ck_assert_uint_eq(cfg.mc.vm.mem_size, 1ULL << 30);
	ck_assert(cfg.mc.vm.hugepages);
	ck_assert_str_eq(cfg.mc.vm.kernel, "/k");
	ck_assert_str_eq(cfg.mc.vm.cmdline, "console=ttyS0");
	ck_assert_str_eq(cfg.mc.vm.initrd, "/i");
	ck_assert_int_eq(cfg.mc.serial, LEGACY_SERIAL_FILE);
	ck_assert_str_eq(cfg.mc.serial_path, "/tmp/s");
	ck_assert_uint_eq(cfg.mc.nr_devices, ARRAY_SIZE(specs));
	for (unsigned i = 0; i < ARRAY_SIZE(specs); i++)
		ck_assert_str_eq(cfg.mc.devices[i].spec, specs[i]);
	ck_assert_ptr_eq(cfg.mc.devices[4].type, &machine_edu);
	api_config_free(&cfg);
}
END_TEST

/* What the request leaves out is iovmm's default, and vm.info says so. */
START_TEST(test_defaults)
{
	static const char j[] = "{" K "}";
	struct api_vm_config cfg;
	char err[256] = "";
	json_t *cpus;

	ck_assert(!api_config_parse(j, strlen(j), &cfg, err, sizeof(err)));
	ck_assert_uint_eq(cfg.mc.vm.ncpus, 1);
	ck_assert_uint_eq(cfg.mc.vm.mem_size, 512ULL << 20);
	ck_assert_int_eq(cfg.mc.serial, LEGACY_SERIAL_STDIO);
	cpus = json_object_get(cfg.json, "cpus");
	ck_assert_int_eq(json_integer_value(json_object_get(cpus, "boot_vcpus")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(
		json_object_get(cfg.json, "memory"), "size")), 512 << 20);
	ck_assert_str_eq(json_string_value(json_object_get(
		json_object_get(cfg.json, "serial"), "mode")), "Tty");
	api_config_free(&cfg);
}
END_TEST

/* A command line's machine as a VmConfig parses back to the same machine. */
START_TEST(test_from_machine)
{
	struct machine_config mc;
	struct api_vm_config back;
	char err[256] = "", *text;
	json_t *j;

	machine_config_init(&mc);
	mc.vm.ncpus = 3;
	mc.vm.mem_size = 256ULL << 20;
	mc.vm.kernel = "/kit.elf";
	mc.vm.cmdline = "test=hello";
	mc.serial = LEGACY_SERIAL_NONE;
	ck_assert(!machine_config_add(&mc, MACHINE_FRONT_NET,
				      "virtio,backend=loopback", err, sizeof(err)));
	ck_assert(!machine_config_add(&mc, MACHINE_FRONT_DEVICE, "edu", err,
				      sizeof(err)));
	j = api_config_from_machine(&mc);
	ck_assert_ptr_nonnull(j);
	text = json_dumps(j, JSON_COMPACT);
	ck_assert_msg(!api_config_parse(text, strlen(text), &back, err, sizeof(err)),
		      "%s: %s", text, err);
	ck_assert_uint_eq(back.mc.vm.ncpus, 3);
	ck_assert_uint_eq(back.mc.vm.mem_size, 256ULL << 20);
	ck_assert_str_eq(back.mc.vm.kernel, "/kit.elf");
	ck_assert_str_eq(back.mc.vm.cmdline, "test=hello");
	ck_assert_int_eq(back.mc.serial, LEGACY_SERIAL_NONE);
	ck_assert_uint_eq(back.mc.nr_devices, 2);
	ck_assert_str_eq(back.mc.devices[0].spec, "edu");
	ck_assert_str_eq(back.mc.devices[1].spec, "virtio,backend=loopback");
	api_config_free(&back);
	free(text);
	json_decref(j);
	machine_config_free(&mc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("api-config");
	TCase *tc = tcase_create("config");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_refused, 0, ARRAY_SIZE(refused));
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_from_machine);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
