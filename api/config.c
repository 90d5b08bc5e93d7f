// SPDX-License-Identifier: MIT
/*
 * VmConfig <-> machine_config (api/config.h). Each CH object is a table of
 * the fields iovmm takes: name, JSON type, where the value goes in the
 * object's parse state. A walker checks every key of the object against
 * the table before anything is used; then the object's finish step checks
 * ranges and turns devices into command-line device strings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/config.h"
#include "core/log.h"
#include "core/util.h"
#include "vfio/host.h"

#define CFG_MIN_MEM (16ULL << 20)
#define CFG_MAX_MEM (1ULL << 40)
#define CFG_DEFAULT_MEM (512ULL << 20)
#define CFG_HUGEPAGE (2ULL << 20)
#define CFG_SPEC_LEN 512

enum cfg_kind {
	CFG_STR,     /* const char * into the JSON */
	CFG_INT,     /* json_int_t, -1 when absent (every int here is >= 0) */
	CFG_BOOL,    /* int: -1 absent, 0, 1 */
	CFG_JSON,    /* json_t * of the field's type (an object or array) */
	CFG_ONLY,    /* a boolean accepted only with the value `only` */
};

struct cfg_field {
	const char *name;
	enum cfg_kind kind;
	json_type type; /* CFG_JSON: JSON_OBJECT or JSON_ARRAY */
	size_t off;     /* into the object's parse state */
	int only;       /* CFG_ONLY: the one value iovmm's behaviour matches */
};

struct cfg_ctx {
	struct machine_config *mc;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int cfg_error(struct cfg_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verrf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *cfg_type_name(enum cfg_kind kind, json_type type)
{
	switch (kind) {
	case CFG_STR: return "a string";
	case CFG_INT: return "a non-negative integer";
	case CFG_BOOL: case CFG_ONLY: return "true or false";
	default: return type == JSON_ARRAY ? "an array" : "an object";
	}
}

static bool cfg_type_ok(const struct cfg_field *f, json_t *v)
{
	switch (f->kind) {
	case CFG_STR: return json_is_string(v);
	case CFG_INT: return json_is_integer(v) && json_integer_value(v) >= 0;
	case CFG_BOOL: case CFG_ONLY: return json_is_boolean(v);
	default: return json_typeof(v) == f->type;
	}
}

/*
 * Check every key of obj (named `where` in messages) against the table and
 * store what it holds into st. Unknown keys and wrong types are refused.
 */
static int cfg_walk(struct cfg_ctx *c, const char *where, json_t *obj,
		    const struct cfg_field *fields, size_t n, void *st)
{
	const char *key;
	json_t *v;

	for (size_t i = 0; i < n; i++) {
		char *p = (char *)st + fields[i].off;

		if (fields[i].kind == CFG_INT)
			*(json_int_t *)p = -1;
		else if (fields[i].kind == CFG_BOOL)
			*(int *)p = -1;
	}
	if (!json_is_object(obj))
		return cfg_error(c, "%s must be an object", where);
	json_object_foreach(obj, key, v) {
		const struct cfg_field *f = NULL;
		char *p;

		for (size_t i = 0; i < n && !f; i++)
			if (!strcmp(fields[i].name, key))
				f = &fields[i];
		if (!f)
			return cfg_error(c, "%s.%s is not supported by iovmm",
					 where, key);
		if (!cfg_type_ok(f, v))
			return cfg_error(c, "%s.%s must be %s", where, key,
					 cfg_type_name(f->kind, f->type));
		p = (char *)st + f->off;
		switch (f->kind) {
		case CFG_STR: *(const char **)p = json_string_value(v); break;
		case CFG_INT: *(json_int_t *)p = json_integer_value(v); break;
		case CFG_BOOL: *(int *)p = json_is_true(v); break;
		case CFG_JSON: *(json_t **)p = v; break;
		case CFG_ONLY:
			if (json_is_true(v) != f->only)
				return cfg_error(c, "%s.%s: iovmm supports only %s",
						 where, key, f->only ? "true" : "false");
			break;
		}
	}
	return 0;
}

#define CFG_WALK(c, where, obj, table, st) \
	cfg_walk(c, where, obj, table, ARRAY_SIZE(table), st)

/* Device strings are "model,key=value,...": a value may not hold a comma. */
static int cfg_no_comma(struct cfg_ctx *c, const char *where, const char *s)
{
	if (s && strchr(s, ','))
		return cfg_error(c, "%s: iovmm cannot take a value with a comma ('%s')",
				 where, s);
	return 0;
}

static int cfg_add_device(struct cfg_ctx *c, const char *where,
			  enum machine_front front, const char *spec)
{
	char err[256];
	int ret = machine_config_add(c->mc, front, spec, err, sizeof(err));

	if (ret)
		return cfg_error(c, "%s: %s", where, err);
	return 0;
}

/* ---- cpus (CpusConfig) ---- */

struct cfg_cpus {
	json_int_t boot, max;
};

static const struct cfg_field cpus_fields[] = {
	{ "boot_vcpus", CFG_INT, 0, offsetof(struct cfg_cpus, boot) },
	{ "max_vcpus", CFG_INT, 0, offsetof(struct cfg_cpus, max) },
	{ "kvm_hyperv", CFG_ONLY, 0, 0, 0 },
};

static int cfg_cpus(struct cfg_ctx *c, json_t *obj)
{
	struct cfg_cpus st;
	int ret = CFG_WALK(c, "cpus", obj, cpus_fields, &st);

	if (ret)
		return ret;
	if (st.boot < 1 || st.boot > VM_MAX_CPUS)
		return cfg_error(c, "cpus.boot_vcpus must be from 1 to %d",
				 VM_MAX_CPUS);
	/* No CPU hot-plug: the VM has what it boots with. */
	if (st.max != -1 && st.max != st.boot)
		return cfg_error(c, "cpus.max_vcpus must equal boot_vcpus (iovmm has no CPU hot-plug)");
	c->mc->vm.ncpus = (unsigned)st.boot;
	return 0;
}

/* ---- memory (MemoryConfig) ---- */

struct cfg_mem {
	json_int_t size, hugepage_size;
	int hugepages, shared;
};

static const struct cfg_field mem_fields[] = {
	{ "size", CFG_INT, 0, offsetof(struct cfg_mem, size) },
	{ "hugepages", CFG_BOOL, 0, offsetof(struct cfg_mem, hugepages) },
	{ "hugepage_size", CFG_INT, 0, offsetof(struct cfg_mem, hugepage_size) },
	/* Guest RAM is always one shared memfd (vhost-user maps it). */
	{ "shared", CFG_ONLY, 0, 0, 1 },
	{ "mergeable", CFG_ONLY, 0, 0, 0 },
	{ "prefault", CFG_ONLY, 0, 0, 0 },
};

static int cfg_memory(struct cfg_ctx *c, json_t *obj)
{
	struct cfg_mem st;
	int ret = CFG_WALK(c, "memory", obj, mem_fields, &st);
	uint64_t size;

	if (ret)
		return ret;
	if (st.size == -1)
		return cfg_error(c, "memory.size is required");
	size = (uint64_t)st.size;
	if (size < CFG_MIN_MEM || size > CFG_MAX_MEM || size % CFG_HUGEPAGE)
		return cfg_error(c, "memory.size must be a multiple of 2 MiB from 16 MiB to 1 TiB (got %llu)",
				 (unsigned long long)size);
	if (st.hugepage_size != -1 && (uint64_t)st.hugepage_size != CFG_HUGEPAGE)
		return cfg_error(c, "memory.hugepage_size: iovmm supports only 2097152 (2 MiB)");
	c->mc->vm.mem_size = size;
	c->mc->vm.hugepages = st.hugepages == 1;
	return 0;
}

/* ---- payload (PayloadConfig) ---- */

struct cfg_payload {
	const char *kernel, *cmdline, *initramfs;
};

static const struct cfg_field payload_fields[] = {
	{ "kernel", CFG_STR, 0, offsetof(struct cfg_payload, kernel) },
	{ "cmdline", CFG_STR, 0, offsetof(struct cfg_payload, cmdline) },
	{ "initramfs", CFG_STR, 0, offsetof(struct cfg_payload, initramfs) },
};

static int cfg_payload(struct cfg_ctx *c, json_t *obj)
{
	struct cfg_payload st = { 0 };
	int ret = CFG_WALK(c, "payload", obj, payload_fields, &st);

	if (ret)
		return ret;
	if (!st.kernel || !st.kernel[0])
		return cfg_error(c, "payload.kernel is required (iovmm boots a PVH ELF or a bzImage, no firmware)");
	c->mc->vm.kernel = st.kernel;
	c->mc->vm.cmdline = st.cmdline;
	c->mc->vm.initrd = st.initramfs;
	return 0;
}

/* ---- serial (SerialConfig), console (ConsoleConfig) ---- */

struct cfg_serial {
	const char *mode, *file;
};

static const struct cfg_field serial_fields[] = {
	{ "mode", CFG_STR, 0, offsetof(struct cfg_serial, mode) },
	{ "file", CFG_STR, 0, offsetof(struct cfg_serial, file) },
};

static int cfg_serial(struct cfg_ctx *c, json_t *obj)
{
	struct cfg_serial st = { 0 };
	int ret = CFG_WALK(c, "serial", obj, serial_fields, &st);

	if (ret)
		return ret;
	if (!st.mode)
		return cfg_error(c, "serial.mode is required");
	if (st.file && strcmp(st.mode, "File"))
		return cfg_error(c, "serial.file goes with mode File");
	if (!strcmp(st.mode, "Tty")) {
		c->mc->serial = LEGACY_SERIAL_STDIO;
	} else if (!strcmp(st.mode, "Off") || !strcmp(st.mode, "Null")) {
		c->mc->serial = LEGACY_SERIAL_NONE;
	} else if (!strcmp(st.mode, "File") && st.file && st.file[0]) {
		c->mc->serial = LEGACY_SERIAL_FILE;
		c->mc->serial_path = st.file;
	} else {
		return cfg_error(c, "serial.mode %s%s: iovmm supports Tty (its stdout), File (with file), Off and Null",
				 st.mode, !strcmp(st.mode, "File") ? " without file" : "");
	}
	return 0;
}

static int cfg_console(struct cfg_ctx *c, json_t *obj)
{
	struct cfg_serial st = { 0 };
	int ret = CFG_WALK(c, "console", obj, serial_fields, &st);

	if (ret)
		return ret;
	/* iovmm has no virtio-console: COM1 (serial) is the console. */
	if (!st.mode || st.file ||
	    (strcmp(st.mode, "Off") && strcmp(st.mode, "Null")))
		return cfg_error(c, "console: iovmm has no virtio-console; only mode Off or Null (use serial)");
	return 0;
}

/* ---- disks (DiskConfig) ---- */

struct cfg_disk {
	const char *path, *id;
	int readonly;
	json_int_t num_queues;
};

static const struct cfg_field disk_fields[] = {
	{ "path", CFG_STR, 0, offsetof(struct cfg_disk, path) },
	{ "readonly", CFG_BOOL, 0, offsetof(struct cfg_disk, readonly) },
	{ "id", CFG_STR, 0, offsetof(struct cfg_disk, id) },
	{ "num_queues", CFG_INT, 0, offsetof(struct cfg_disk, num_queues) },
	{ "direct", CFG_ONLY, 0, 0, 0 },
	{ "iommu", CFG_ONLY, 0, 0, 0 },
	{ "vhost_user", CFG_ONLY, 0, 0, 0 },
};

static int cfg_disk(struct cfg_ctx *c, const char *where, json_t *obj)
{
	struct cfg_disk st = { 0 };
	char spec[CFG_SPEC_LEN];
	int ret = CFG_WALK(c, where, obj, disk_fields, &st);

	if (ret)
		return ret;
	if (!st.path || !st.path[0])
		return cfg_error(c, "%s.path is required", where);
	if (st.num_queues != -1 && st.num_queues != 1)
		return cfg_error(c, "%s.num_queues: iovmm's virtio-blk has one queue", where);
	if ((ret = cfg_no_comma(c, where, st.path)))
		return ret;
	snprintf(spec, sizeof(spec), "virtio,path=%s%s", st.path,
		 st.readonly == 1 ? ",readonly" : "");
	return cfg_add_device(c, where, MACHINE_FRONT_DISK, spec);
}

/* ---- net (NetConfig): a tap, or a vhost-user socket ---- */

struct cfg_net {
	const char *tap, *mac, *socket, *mode, *id;
	int vhost_user;
	json_int_t num_queues;
};

static const struct cfg_field net_fields[] = {
	{ "tap", CFG_STR, 0, offsetof(struct cfg_net, tap) },
	{ "mac", CFG_STR, 0, offsetof(struct cfg_net, mac) },
	{ "num_queues", CFG_INT, 0, offsetof(struct cfg_net, num_queues) },
	{ "vhost_user", CFG_BOOL, 0, offsetof(struct cfg_net, vhost_user) },
	{ "vhost_socket", CFG_STR, 0, offsetof(struct cfg_net, socket) },
	{ "vhost_mode", CFG_STR, 0, offsetof(struct cfg_net, mode) },
	{ "id", CFG_STR, 0, offsetof(struct cfg_net, id) },
	{ "iommu", CFG_ONLY, 0, 0, 0 },
};

static int cfg_net(struct cfg_ctx *c, const char *where, json_t *obj)
{
	struct cfg_net st = { 0 };
	char spec[CFG_SPEC_LEN], queues[32] = "", mac[48] = "";
	int ret = CFG_WALK(c, where, obj, net_fields, &st);

	if (ret)
		return ret;
	if ((ret = cfg_no_comma(c, where, st.tap)) ||
	    (ret = cfg_no_comma(c, where, st.socket)) ||
	    (ret = cfg_no_comma(c, where, st.mac)))
		return ret;
	/* CH counts queues (RX + TX); iovmm counts queue pairs. */
	if (st.num_queues != -1) {
		if (st.num_queues < 2 || st.num_queues % 2 || st.num_queues > 32)
			return cfg_error(c, "%s.num_queues must be even, from 2 to 32", where);
		snprintf(queues, sizeof(queues), ",queues=%lld",
			 (long long)st.num_queues / 2);
	}
	if (st.mac)
		snprintf(mac, sizeof(mac), ",mac=%s", st.mac);
	if (st.vhost_user == 1) {
		if (st.tap)
			return cfg_error(c, "%s: tap and vhost_user exclude each other", where);
		if (!st.socket || !st.socket[0])
			return cfg_error(c, "%s.vhost_socket is required with vhost_user", where);
		if (st.mode && strcmp(st.mode, "Client") && strcmp(st.mode, "Server"))
			return cfg_error(c, "%s.vhost_mode must be Client or Server", where);
		snprintf(spec, sizeof(spec), "vhost-user,socket=%s%s%s%s", st.socket,
			 st.mode && !strcmp(st.mode, "Server") ? ",server" : "",
			 queues, mac);
	} else {
		if (st.socket || st.mode)
			return cfg_error(c, "%s: vhost_socket and vhost_mode need vhost_user: true", where);
		if (!st.tap || !st.tap[0])
			return cfg_error(c, "%s: iovmm needs tap (an interface name) or vhost_user with vhost_socket", where);
		snprintf(spec, sizeof(spec), "virtio,backend=tap:%s%s%s", st.tap,
			 queues, mac);
	}
	return cfg_add_device(c, where, MACHINE_FRONT_NET, spec);
}

/* ---- devices (DeviceConfig): VFIO by sysfs path ---- */

struct cfg_dev {
	const char *path, *id;
};

static const struct cfg_field dev_fields[] = {
	{ "path", CFG_STR, 0, offsetof(struct cfg_dev, path) },
	{ "id", CFG_STR, 0, offsetof(struct cfg_dev, id) },
	{ "iommu", CFG_ONLY, 0, 0, 0 },
};

static int cfg_vfio(struct cfg_ctx *c, const char *where, json_t *obj)
{
	struct cfg_dev st = { 0 };
	char spec[CFG_SPEC_LEN], bdf[VFIO_HOST_BDF_SIZE], err[128];
	int ret = CFG_WALK(c, where, obj, dev_fields, &st);

	if (ret)
		return ret;
	if (!st.path || !st.path[0])
		return cfg_error(c, "%s.path is required (a sysfs path such as /sys/bus/pci/devices/0000:01:00.1)", where);
	/* The function's address is the sysfs path's last component. */
	if (vfio_host_parse_bdf(st.path, bdf, err, sizeof(err)))
		return cfg_error(c, "%s.path: %s", where, err);
	snprintf(spec, sizeof(spec), "vfio-pci,host=%s", bdf);
	return cfg_add_device(c, where, MACHINE_FRONT_DEVICE, spec);
}

/* ---- arrays of device objects, and the "iovmm" extension ---- */

static int cfg_array(struct cfg_ctx *c, const char *name, json_t *arr,
		     int (*one)(struct cfg_ctx *, const char *, json_t *))
{
	char where[48];
	size_t i;
	json_t *v;
	int ret;

	json_array_foreach(arr, i, v) {
		snprintf(where, sizeof(where), "%s[%zu]", name, i);
		ret = one(c, where, v);
		if (ret)
			return ret;
	}
	return 0;
}

struct cfg_ext {
	json_t *device, *net, *disk;
};

static const struct cfg_field ext_fields[] = {
	{ "device", CFG_JSON, JSON_ARRAY, offsetof(struct cfg_ext, device) },
	{ "net", CFG_JSON, JSON_ARRAY, offsetof(struct cfg_ext, net) },
	{ "disk", CFG_JSON, JSON_ARRAY, offsetof(struct cfg_ext, disk) },
};

/* {"device": ["edu"], "net": ["virtio,backend=loopback"], "disk": [...]} */
static int cfg_ext(struct cfg_ctx *c, json_t *obj)
{
	static const enum machine_front fronts[] = {
		MACHINE_FRONT_DEVICE, MACHINE_FRONT_NET, MACHINE_FRONT_DISK,
	};
	struct cfg_ext st = { 0 };
	json_t *lists[3];
	char where[48];
	size_t i;
	json_t *v;
	int ret = CFG_WALK(c, "iovmm", obj, ext_fields, &st);

	if (ret)
		return ret;
	lists[0] = st.device, lists[1] = st.net, lists[2] = st.disk;
	for (unsigned l = 0; l < 3; l++) {
		json_array_foreach(lists[l], i, v) {
			snprintf(where, sizeof(where), "iovmm.%s[%zu]",
				 ext_fields[l].name, i);
			if (!json_is_string(v))
				return cfg_error(c, "%s must be a string", where);
			ret = cfg_add_device(c, where, fronts[l],
					     json_string_value(v));
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* ---- VmConfig ---- */

struct cfg_vm {
	json_t *cpus, *memory, *payload, *disks, *net, *serial, *console;
	json_t *devices, *ext;
};

static const struct cfg_field vm_fields[] = {
	{ "cpus", CFG_JSON, JSON_OBJECT, offsetof(struct cfg_vm, cpus) },
	{ "memory", CFG_JSON, JSON_OBJECT, offsetof(struct cfg_vm, memory) },
	{ "payload", CFG_JSON, JSON_OBJECT, offsetof(struct cfg_vm, payload) },
	{ "disks", CFG_JSON, JSON_ARRAY, offsetof(struct cfg_vm, disks) },
	{ "net", CFG_JSON, JSON_ARRAY, offsetof(struct cfg_vm, net) },
	{ "serial", CFG_JSON, JSON_OBJECT, offsetof(struct cfg_vm, serial) },
	{ "console", CFG_JSON, JSON_OBJECT, offsetof(struct cfg_vm, console) },
	{ "devices", CFG_JSON, JSON_ARRAY, offsetof(struct cfg_vm, devices) },
	{ "iovmm", CFG_JSON, JSON_OBJECT, offsetof(struct cfg_vm, ext) },
	{ "iommu", CFG_ONLY, 0, 0, 0 },
	{ "watchdog", CFG_ONLY, 0, 0, 0 },
	{ "pvpanic", CFG_ONLY, 0, 0, 0 },
	{ "landlock_enable", CFG_ONLY, 0, 0, 0 },
};

static int cfg_vm(struct cfg_ctx *c, json_t *root)
{
	struct cfg_vm st = { 0 };
	int ret = CFG_WALK(c, "VmConfig", root, vm_fields, &st);

	if (ret)
		return ret;
	if (!st.payload)
		return cfg_error(c, "VmConfig.payload is required");
	if ((ret = cfg_payload(c, st.payload)) ||
	    (st.cpus && (ret = cfg_cpus(c, st.cpus))) ||
	    (st.memory && (ret = cfg_memory(c, st.memory))) ||
	    (st.serial && (ret = cfg_serial(c, st.serial))) ||
	    (st.console && (ret = cfg_console(c, st.console))) ||
	    (st.disks && (ret = cfg_array(c, "disks", st.disks, cfg_disk))) ||
	    (st.net && (ret = cfg_array(c, "net", st.net, cfg_net))) ||
	    (st.devices && (ret = cfg_array(c, "devices", st.devices, cfg_vfio))) ||
	    (st.ext && (ret = cfg_ext(c, st.ext))))
		return ret;
	return 0;
}

/* What vm.info reports for what the request left to defaults. */
static int cfg_fill_defaults(json_t *root, const struct machine_config *mc)
{
	int ret = 0;

	if (!json_object_get(root, "cpus"))
		ret |= json_object_set_new(root, "cpus",
			json_pack("{s:I,s:I}", "boot_vcpus", (json_int_t)mc->vm.ncpus,
				  "max_vcpus", (json_int_t)mc->vm.ncpus));
	if (!json_object_get(root, "memory"))
		ret |= json_object_set_new(root, "memory",
			json_pack("{s:I}", "size", (json_int_t)mc->vm.mem_size));
	if (!json_object_get(root, "serial"))
		ret |= json_object_set_new(root, "serial",
					   json_pack("{s:s}", "mode", "Tty"));
	return ret ? -ENOMEM : 0;
}

static void cfg_defaults(struct machine_config *mc)
{
	machine_config_init(mc);
	mc->vm.ncpus = 1;
	mc->vm.mem_size = CFG_DEFAULT_MEM;
}

int api_config_parse(const char *body, size_t len, struct api_vm_config *out,
		     char *err, size_t errlen)
{
	struct cfg_ctx c = { .mc = &out->mc, .err = err, .errlen = errlen };
	json_error_t jerr;
	int ret;

	cfg_defaults(&out->mc);
	out->json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!out->json)
		return cfg_error(&c, "VmConfig is not valid JSON: %s (line %d, column %d)",
				 jerr.text, jerr.line, jerr.column);
	ret = cfg_vm(&c, out->json);
	if (!ret && cfg_fill_defaults(out->json, &out->mc))
		ret = cfg_error(&c, "out of memory");
	return ret;
}

void api_config_free(struct api_vm_config *cfg)
{
	machine_config_free(&cfg->mc);
	json_decref(cfg->json);
	cfg->json = NULL;
}

static json_t *cfg_serial_json(const struct machine_config *mc)
{
	switch (mc->serial) {
	case LEGACY_SERIAL_FILE:
		return json_pack("{s:s,s:s}", "mode", "File", "file",
				 mc->serial_path);
	case LEGACY_SERIAL_NONE:
		return json_pack("{s:s}", "mode", "Off");
	default:
		return json_pack("{s:s}", "mode", "Tty");
	}
}

json_t *api_config_from_machine(const struct machine_config *mc)
{
	static const char *const fronts[] = {
		[MACHINE_FRONT_DEVICE] = "device",
		[MACHINE_FRONT_NET] = "net",
		[MACHINE_FRONT_DISK] = "disk",
	};
	json_t *root, *payload, *ext;
	int ret = 0;

	payload = json_pack("{s:s}", "kernel", mc->vm.kernel);
	if (payload && mc->vm.cmdline)
		ret |= json_object_set_new(payload, "cmdline",
					   json_string(mc->vm.cmdline));
	if (payload && mc->vm.initrd)
		ret |= json_object_set_new(payload, "initramfs",
					   json_string(mc->vm.initrd));
	ext = json_pack("{s:[],s:[],s:[]}", "device", "net", "disk");
	for (unsigned i = 0; ext && i < mc->nr_devices; i++)
		ret |= json_array_append_new(
			json_object_get(ext, fronts[mc->devices[i].front]),
			json_string(mc->devices[i].spec));
	root = json_pack("{s:{s:I,s:I},s:{s:I,s:b},s:o*,s:o*,s:o*}",
			 "cpus", "boot_vcpus", (json_int_t)mc->vm.ncpus,
			 "max_vcpus", (json_int_t)mc->vm.ncpus,
			 "memory", "size", (json_int_t)mc->vm.mem_size,
			 "hugepages", mc->vm.hugepages,
			 "payload", payload, "serial", cfg_serial_json(mc),
			 "iovmm", ext);
	if (!root || ret || !payload || !ext) {
		json_decref(root);
		return NULL;
	}
	return root;
}
