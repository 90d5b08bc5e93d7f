// SPDX-License-Identifier: MIT
/*
 * `iovmm vfio`: list IOMMU groups and hand devices to vfio-pci and back.
 * The work is in vfio/host.c; this file parses arguments and prints.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tools/vfio_cmd.h"
#include "vfio/host.h"

#define VFIO_CMD_OK 0
#define VFIO_CMD_FAIL 1
#define VFIO_CMD_USAGE 2

static const char vfio_cmd_usage[] =
	"usage: iovmm vfio list [--json]\n"
	"       iovmm vfio bind BDF [--group]\n"
	"       iovmm vfio unbind BDF [--group]\n"
	"\n"
	"  list     IOMMU groups, their PCI devices (address, vendor:device and\n"
	"           names from pci.ids, class, driver, SR-IOV role) and whether\n"
	"           each group is viable for VFIO: every device bound to\n"
	"           vfio-pci (or pci-stub, or pcieport for a bridge) or to no\n"
	"           driver\n"
	"  bind     hand BDF to vfio-pci (driver_override, unbind, drivers_probe);\n"
	"           the original driver is remembered under /run/iovmm/vfio\n"
	"  unbind   give BDF back to the driver it had before `bind`\n"
	"  --group  act on every device of BDF's IOMMU group\n"
	"  --json   machine-readable list\n"
	"\n"
	"BDF: 0000:01:00.1, 01:00.1 (domain 0) or /sys/bus/pci/devices/0000:01:00.1.\n"
	"bind and unbind need root. Environment: IOVMM_SYSFS_ROOT (default /sys),\n"
	"IOVMM_RUN_DIR (default /run/iovmm), IOVMM_DEV_VFIO (default /dev/vfio).\n";

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void sriov_text(const struct vfio_host_dev *d, char *buf, size_t len)
{
	switch (d->role) {
	case VFIO_HOST_SRIOV_PF:
		snprintf(buf, len, "PF %u/%u VFs", d->numvfs, d->totalvfs);
		break;
	case VFIO_HOST_SRIOV_VF:
		snprintf(buf, len, "VF of %s", d->physfn);
		break;
	default:
		snprintf(buf, len, "-");
		break;
	}
}

/* "Class: Vendor Device", lspci style, for whatever the database knows. */
static void dev_description(struct vfio_host_names *names,
			    const struct vfio_host_dev *d, char *buf,
			    size_t len)
{
	char cls[160] = "", ven[128] = "", dev[160] = "";

	if (names) {
		vfio_host_names_class(names, d->class_code, cls, sizeof(cls));
		vfio_host_names_vendor(names, d->vendor, ven, sizeof(ven));
		vfio_host_names_device(names, d->vendor, d->device, dev,
				       sizeof(dev));
	}
	snprintf(buf, len, "%s%s%s%s%s", cls, cls[0] ? ": " : "",
		 ven[0] ? ven : "unknown vendor", " ",
		 dev[0] ? dev : "unknown device");
}

static void list_table(const struct vfio_host_list *l,
		       struct vfio_host_names *names)
{
	char sriov[48], desc[512];

	printf("%-5s %-6s %-12s %-9s %-6s %-12s %-18s %s\n", "GROUP",
	       "VIABLE", "BDF", "ID", "CLASS", "DRIVER", "SR-IOV",
	       "DESCRIPTION");
	for (size_t i = 0; i < l->ngroups; i++) {
		const struct vfio_host_group *g = &l->groups[i];

		for (size_t j = 0; j < g->ndevs; j++) {
			const struct vfio_host_dev *d = &g->devs[j];

			sriov_text(d, sriov, sizeof(sriov));
			dev_description(names, d, desc, sizeof(desc));
			printf("%-5d %-6s %-12s %04x:%04x %06x %-12s %-18s %s\n",
			       g->id, g->viable ? "yes" : "no", d->bdf,
			       d->vendor, d->device, d->class_code,
			       d->driver[0] ? d->driver : "-", sriov, desc);
		}
	}
	for (size_t i = 0; i < l->ngroups; i++) {
		const struct vfio_host_group *g = &l->groups[i];

		if (!g->viable)
			printf("group %d is not viable: %s is bound to %s\n",
			       g->id, g->devs[g->blocker].bdf,
			       g->devs[g->blocker].driver);
	}
}

static void json_dev(const struct vfio_host_dev *d,
		     struct vfio_host_names *names)
{
	char ven[128] = "", dev[160] = "", cls[160] = "";

	if (names) {
		vfio_host_names_vendor(names, d->vendor, ven, sizeof(ven));
		vfio_host_names_device(names, d->vendor, d->device, dev,
				       sizeof(dev));
		vfio_host_names_class(names, d->class_code, cls, sizeof(cls));
	}
	printf("{\"bdf\":\"%s\",\"vendor\":\"%04x\",\"device\":\"%04x\","
	       "\"class\":\"%06x\",\"vendor_name\":", d->bdf, d->vendor,
	       d->device, d->class_code);
	json_str(stdout, ven);
	printf(",\"device_name\":");
	json_str(stdout, dev);
	printf(",\"class_name\":");
	json_str(stdout, cls);
	printf(",\"driver\":");
	json_str(stdout, d->driver);
	printf(",\"driver_override\":");
	json_str(stdout, d->override);
	printf(",\"bridge\":%s,\"sriov\":", d->bridge ? "true" : "false");
	if (d->role == VFIO_HOST_SRIOV_PF)
		printf("{\"role\":\"pf\",\"totalvfs\":%u,\"numvfs\":%u}",
		       d->totalvfs, d->numvfs);
	else if (d->role == VFIO_HOST_SRIOV_VF)
		printf("{\"role\":\"vf\",\"physfn\":\"%s\"}", d->physfn);
	else
		printf("null");
	printf("}");
}

static void list_json(const struct vfio_host_list *l,
		      struct vfio_host_names *names)
{
	printf("{\"groups\":[");
	for (size_t i = 0; i < l->ngroups; i++) {
		const struct vfio_host_group *g = &l->groups[i];

		printf("%s{\"group\":%d,\"viable\":%s,\"blocker\":", i ? "," : "",
		       g->id, g->viable ? "true" : "false");
		if (g->viable)
			printf("null");
		else
			json_str(stdout, g->devs[g->blocker].bdf);
		printf(",\"devices\":[");
		for (size_t j = 0; j < g->ndevs; j++) {
			printf("%s", j ? "," : "");
			json_dev(&g->devs[j], names);
		}
		printf("]}");
	}
	printf("]}\n");
}

static int cmd_list(const struct vfio_host_env *env, int argc, char **argv)
{
	struct vfio_host_names *names = NULL;
	struct vfio_host_list l;
	bool json = false;
	char err[512] = "";
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else {
			fprintf(stderr, "iovmm vfio list: unknown argument '%s'\n%s",
				argv[i], vfio_cmd_usage);
			return VFIO_CMD_USAGE;
		}
	}
	ret = vfio_host_list_groups(env, &l, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "iovmm vfio list: %s\n", err);
		return VFIO_CMD_FAIL;
	}
	/* Without a names database the list is still useful: ids only. */
	if (vfio_host_names_create(NULL, &names))
		names = NULL;
	if (json)
		list_json(&l, names);
	else
		list_table(&l, names);
	vfio_host_names_destroy(names);
	vfio_host_list_free(&l);
	return VFIO_CMD_OK;
}

/* BDF [--group] in either order. */
static int parse_target(int argc, char **argv, const char **bdf,
			unsigned int *flags)
{
	*bdf = NULL;
	*flags = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--group"))
			*flags |= VFIO_HOST_GROUP;
		else if (argv[i][0] == '-' || *bdf)
			return -EINVAL;
		else
			*bdf = argv[i];
	}
	return *bdf ? 0 : -EINVAL;
}

/* Report each device's driver after the change, and the group's state. */
static void report(const struct vfio_host_env *env,
		   const struct vfio_host_group *before)
{
	char err[512] = "";

	for (size_t i = 0; i < before->ndevs; i++) {
		const struct vfio_host_dev *b = &before->devs[i];
		struct vfio_host_dev now;

		if (vfio_host_dev_read(env, b->bdf, &now, NULL, 0))
			continue;
		if (!strcmp(b->driver, now.driver))
			printf("%s: %s (unchanged)\n", now.bdf,
			       now.driver[0] ? now.driver : "no driver");
		else
			printf("%s: %s -> %s\n", now.bdf,
			       b->driver[0] ? b->driver : "no driver",
			       now.driver[0] ? now.driver : "no driver");
	}
	if (before->id < 0)
		return;
	if (vfio_host_group_check(env, before->id, err, sizeof(err)))
		printf("note: %s\n", err);
	else if (!strcmp(env->dev_vfio, "/dev/vfio"))
		printf("group %d is viable: /dev/vfio/%d\n", before->id,
		       before->id);
	else
		printf("group %d is viable\n", before->id);
}

/* The devices the command will touch, read before it runs. */
static int snapshot(const struct vfio_host_env *env, const char *arg,
		    unsigned int flags, struct vfio_host_group *g, char *err,
		    size_t errlen)
{
	char bdf[VFIO_HOST_BDF_SIZE];
	struct vfio_host_dev d;
	int ret;

	memset(g, 0, sizeof(*g));
	g->id = -1;
	ret = vfio_host_parse_bdf(arg, bdf, err, errlen);
	if (!ret)
		ret = vfio_host_dev_read(env, bdf, &d, err, errlen);
	if (ret)
		return ret;
	if ((flags & VFIO_HOST_GROUP) && d.group >= 0)
		return vfio_host_group_read(env, d.group, g, err, errlen);
	g->devs = malloc(sizeof(d));
	if (!g->devs)
		return -ENOMEM;
	g->devs[0] = d;
	g->ndevs = 1;
	g->id = d.group;
	return 0;
}

static int cmd_bind(const struct vfio_host_env *env, int argc, char **argv)
{
	bool bind = !strcmp(argv[0], "bind");
	struct vfio_host_group before;
	unsigned int flags;
	const char *arg;
	char err[512] = "";
	int ret;

	if (parse_target(argc, argv, &arg, &flags)) {
		fprintf(stderr, "iovmm vfio %s: expected BDF [--group]\n%s",
			argv[0], vfio_cmd_usage);
		return VFIO_CMD_USAGE;
	}
	ret = snapshot(env, arg, flags, &before, err, sizeof(err));
	if (!ret)
		ret = bind ? vfio_host_bind(env, arg, flags, err, sizeof(err))
			   : vfio_host_unbind(env, arg, flags, err,
					      sizeof(err));
	if (ret) {
		fprintf(stderr, "iovmm vfio %s: %s\n", argv[0],
			err[0] ? err : strerror(-ret));
		vfio_host_group_free(&before);
		return VFIO_CMD_FAIL;
	}
	report(env, &before);
	vfio_host_group_free(&before);
	return VFIO_CMD_OK;
}

int vfio_cmd_main(int argc, char **argv)
{
	struct vfio_host_env env;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(vfio_cmd_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? VFIO_CMD_USAGE : VFIO_CMD_OK;
	}
	vfio_host_env_default(&env);
	if (!strcmp(argv[1], "list"))
		return cmd_list(&env, argc - 1, argv + 1);
	if (!strcmp(argv[1], "bind") || !strcmp(argv[1], "unbind"))
		return cmd_bind(&env, argc - 1, argv + 1);
	fprintf(stderr, "iovmm vfio: unknown command '%s'\n%s", argv[1],
		vfio_cmd_usage);
	return VFIO_CMD_USAGE;
}
