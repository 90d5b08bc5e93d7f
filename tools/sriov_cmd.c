// SPDX-License-Identifier: MIT
/*
 * `iovmm sriov`: SR-IOV physical and virtual functions for operators.
 * The work is in sriov/; this file parses arguments and prints tables or
 * JSON.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "sriov/sriov.h"
#include "tools/sriov_cmd.h"

#define SRIOV_CMD_OK 0
#define SRIOV_CMD_FAIL 1
#define SRIOV_CMD_USAGE 2

static const char sriov_cmd_usage[] =
	"usage: iovmm sriov list [--json]\n"
	"       iovmm sriov show PF [--json]\n"
	"       iovmm sriov create PF --vfs N [--autoprobe]\n"
	"       iovmm sriov destroy PF\n"
	"       iovmm sriov set PF VF key=value...\n"
	"       iovmm sriov token PF [--generate | --set UUID | --apply |\n"
	"                              --check VF]\n"
	"       iovmm sriov repair\n"
	"\n"
	"  list     every SR-IOV PF and its VFs: BDF, driver, IOMMU group,\n"
	"           network interface, MAC, and who uses it (free, leased by an\n"
	"           iovmm pid, stale lease, in use through VFIO, host driver)\n"
	"  show     one PF in detail: the SR-IOV capability (TotalVFs, VF\n"
	"           offset/stride, VF device ID, page sizes) checked against\n"
	"           sysfs, and each VF's settings as the PF driver reports them\n"
	"  create   enable N VFs; sriov_drivers_autoprobe is turned off first\n"
	"           so no host driver takes them (--autoprobe keeps it on)\n"
	"  destroy  disable every VF; refused while a VF is assigned to a guest\n"
	"  set      per-VF settings through the PF's driver (rtnetlink):\n"
	"             mac=52:54:00:12:34:56   vlan=0-4094[,qos=0-7]\n"
	"             vlan-proto=802.1Q|802.1ad   spoofchk=on|off\n"
	"             trust=on|off   max-rate=Mbps   min-rate=Mbps (0 = none)\n"
	"             link=auto|enable|disable\n"
	"  token    the VFIO VF token of a PF bound to vfio-pci: print it\n"
	"           (--generate makes one), --set stores the PF driver's,\n"
	"           --apply programs it into an idle vfio-pci PF, --check VF\n"
	"           opens VF through VFIO with and without it\n"
	"  repair   undo what crashed iovmm processes left on leased VFs\n"
	"\n"
	"PF: a PCI address (0000:3b:00.0, 3b:00.0) or the PF's network interface.\n"
	"VF: its index (0, 1, ...) or its PCI address. Guests take VFs from a PF\n"
	"with iovmm run --device vfio-pci,pf=PF[,mac=..][,vlan=..][,trust=on].\n"
	"Changes need root. Environment: IOVMM_SYSFS_ROOT (default /sys),\n"
	"IOVMM_RUN_DIR (default /run/iovmm; leases in sriov/leases).\n";

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static const char *use_name(enum sriov_vf_use use)
{
	switch (use) {
	case SRIOV_VF_FREE: return "free";
	case SRIOV_VF_LEASED: return "leased";
	case SRIOV_VF_STALE: return "stale";
	case SRIOV_VF_IN_USE: return "in-use";
	case SRIOV_VF_HOST: return "host";
	}
	return "?";
}

static void use_text(const struct sriov_vf *vf, char *buf, size_t len)
{
	if (vf->use == SRIOV_VF_LEASED)
		snprintf(buf, len, "leased (iovmm pid %ld)", (long)vf->lease_pid);
	else if (vf->use == SRIOV_VF_STALE)
		snprintf(buf, len, "stale lease (pid %ld died)",
			 (long)vf->lease_pid);
	else if (vf->use == SRIOV_VF_IN_USE)
		snprintf(buf, len, "in use (VFIO group open)");
	else if (vf->use == SRIOV_VF_HOST)
		snprintf(buf, len, "host driver");
	else
		snprintf(buf, len, "free");
}

/* The VF's MAC: its own netdev's, else the PF driver's admin MAC. */
static void vf_mac(const struct sriov_vf *vf, char out[SRIOV_MAC_STR_SIZE])
{
	if (vf->mac[0])
		snprintf(out, SRIOV_MAC_STR_SIZE, "%s", vf->mac);
	else if (vf->cfg.valid)
		mac_format(vf->cfg.mac, out);
	else
		out[0] = '\0';
}

static void group_text(int group, char *buf, size_t len)
{
	if (group < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%d", group);
}

static void table_vfs(const struct sriov_pf *pf)
{
	char mac[SRIOV_MAC_STR_SIZE], use[64], grp[16];

	if (!pf->nvfs) {
		printf("  (no VFs: iovmm sriov create %s --vfs N)\n", pf->bdf);
		return;
	}
	printf("  %-3s %-12s %-10s %-5s %-10s %-17s %s\n", "VF", "BDF",
	       "DRIVER", "GROUP", "NETDEV", "MAC", "USE");
	for (size_t i = 0; i < pf->nvfs; i++) {
		const struct sriov_vf *vf = &pf->vfs[i];

		vf_mac(vf, mac);
		use_text(vf, use, sizeof(use));
		group_text(vf->group, grp, sizeof(grp));
		printf("  %-3u %-12s %-10s %-5s %-10s %-17s %s\n", vf->index,
		       vf->bdf, dash(vf->driver), grp, dash(vf->netdev),
		       dash(mac), use);
	}
}

static void table_pf_line(const struct sriov_pf *pf)
{
	char grp[16];

	group_text(pf->group, grp, sizeof(grp));
	printf("PF %s %04x:%04x driver=%s netdev=%s group=%s VFs=%u/%u "
	       "autoprobe=%s\n", pf->bdf, pf->vendor, pf->device,
	       dash(pf->driver), dash(pf->netdev), grp, pf->numvfs,
	       pf->totalvfs, pf->autoprobe < 0 ? "?" :
	       pf->autoprobe ? "on" : "off");
}

static void json_vf(const struct sriov_vf *vf)
{
	char mac[SRIOV_MAC_STR_SIZE];

	vf_mac(vf, mac);
	printf("{\"index\":%u,\"bdf\":\"%s\",\"device\":\"%04x\",\"driver\":",
	       vf->index, vf->bdf, vf->device);
	json_str(vf->driver);
	printf(",\"group\":%d,\"netdev\":", vf->group);
	json_str(vf->netdev);
	printf(",\"mac\":");
	json_str(mac);
	printf(",\"use\":\"%s\",\"lease_pid\":%ld", use_name(vf->use),
	       (long)vf->lease_pid);
	if (vf->cfg.valid) {
		const struct sriov_vf_config *c = &vf->cfg;
		char admin[SRIOV_MAC_STR_SIZE];

		mac_format(c->mac, admin);
		printf(",\"config\":{\"mac\":\"%s\",\"vlan\":%u,\"qos\":%u,"
		       "\"vlan_proto\":\"%s\",\"spoofchk\":%d,\"trust\":%d,"
		       "\"min_rate\":%u,\"max_rate\":%u,\"link\":\"%s\"}",
		       admin, c->vlan, c->qos,
		       c->vlan_proto == ETH_P_8021AD ? "802.1ad" : "802.1Q",
		       c->spoofchk, c->trust, c->min_rate, c->max_rate,
		       c->link_state < 0 ? "?" :
					   sriov_link_state_name(c->link_state));
	}
	printf("}");
}

static void json_pf(const struct sriov_pf *pf, bool detail)
{
	const struct sriov_cap *c = &pf->cap;

	printf("{\"bdf\":\"%s\",\"vendor\":\"%04x\",\"device\":\"%04x\","
	       "\"driver\":", pf->bdf, pf->vendor, pf->device);
	json_str(pf->driver);
	printf(",\"netdev\":");
	json_str(pf->netdev);
	printf(",\"ifindex\":%d,\"group\":%d,\"totalvfs\":%u,\"numvfs\":%u,"
	       "\"autoprobe\":%d", pf->ifindex, pf->group, pf->totalvfs,
	       pf->numvfs, pf->autoprobe);
	if (detail && c->present)
		printf(",\"capability\":{\"offset\":%u,\"initial_vfs\":%u,"
		       "\"total_vfs\":%u,\"num_vfs\":%u,\"vf_offset\":%u,"
		       "\"vf_stride\":%u,\"vf_device\":\"%04x\","
		       "\"supported_page_sizes\":%u,\"system_page_size\":%u,"
		       "\"ctrl\":%u}", c->offset, c->initial_vfs, c->total_vfs,
		       c->num_vfs, c->vf_offset, c->vf_stride, c->vf_device,
		       c->supported_page_sizes, c->system_page_size, c->ctrl);
	else if (detail)
		printf(",\"capability\":null");
	printf(",\"notes\":");
	json_str(pf->notes);
	printf(",\"vfs\":[");
	for (size_t i = 0; i < pf->nvfs; i++) {
		printf("%s", i ? "," : "");
		json_vf(&pf->vfs[i]);
	}
	printf("]}");
}

static int cmd_list(const struct sriov_env *env, int argc, char **argv)
{
	char (*bdfs)[SRIOV_BDF_SIZE] = NULL, err[512] = "";
	bool json = false;
	size_t n;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json")) {
			fprintf(stderr, "iovmm sriov list: unknown argument "
				"'%s'\n%s", argv[i], sriov_cmd_usage);
			return SRIOV_CMD_USAGE;
		}
		json = true;
	}
	ret = sriov_pf_list(env, &bdfs, &n, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "iovmm sriov list: %s\n", err);
		return SRIOV_CMD_FAIL;
	}
	if (json)
		printf("{\"pfs\":[");
	else if (!n)
		printf("no SR-IOV capable PCI devices\n");
	for (size_t i = 0; i < n; i++) {
		struct sriov_pf *pf;

		if (sriov_pf_read(env, bdfs[i], SRIOV_READ_NETLINK, &pf, err,
				  sizeof(err))) {
			fprintf(stderr, "iovmm sriov list: %s\n", err);
			continue;
		}
		if (json) {
			printf("%s", i ? "," : "");
			json_pf(pf, false);
		} else {
			table_pf_line(pf);
			table_vfs(pf);
		}
		sriov_pf_free(pf);
	}
	if (json)
		printf("]}\n");
	free(bdfs);
	return SRIOV_CMD_OK;
}

static void page_sizes(uint32_t mask, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int b = 0; b < 32 && used < len; b++) {
		unsigned long long kib = 4ULL << b;

		if (!(mask & (1u << b)))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%llu%s",
					 used ? "," : "",
					 kib >= 1024 ? kib / 1024 : kib,
					 kib >= 1024 ? "M" : "K");
	}
}

static void show_cap(const struct sriov_pf *pf)
{
	const struct sriov_cap *c = &pf->cap;
	char sup[128], sys[32];

	if (!c->present) {
		printf("capability: not read\n");
		return;
	}
	page_sizes(c->supported_page_sizes, sup, sizeof(sup));
	page_sizes(c->system_page_size, sys, sizeof(sys));
	printf("capability: SR-IOV at 0x%03x: TotalVFs %u, InitialVFs %u, "
	       "NumVFs %u, VF Enable %s, ARI %s\n", c->offset, c->total_vfs,
	       c->initial_vfs, c->num_vfs, c->ctrl & 1 ? "on" : "off",
	       c->ctrl & 0x10 ? "on" : "off");
	printf("            VF offset %u, stride %u, VF device ID %04x, page "
	       "sizes %s (system %s)\n", c->vf_offset, c->vf_stride,
	       c->vf_device, sup[0] ? sup : "-", sys[0] ? sys : "-");
}

static void show_settings(const struct sriov_pf *pf)
{
	char mac[SRIOV_MAC_STR_SIZE], vlan[40], rate[40];

	printf("  %-3s %-17s %-22s %-8s %-5s %-16s %s\n", "VF", "ADMIN-MAC",
	       "VLAN", "SPOOFCHK", "TRUST", "RATE(min/max)", "LINK");
	for (size_t i = 0; i < pf->nvfs; i++) {
		const struct sriov_vf_config *c = &pf->vfs[i].cfg;

		if (!c->valid)
			continue;
		mac_format(c->mac, mac);
		if (c->vlan || c->qos)
			snprintf(vlan, sizeof(vlan), "%u qos %u %s", c->vlan,
				 c->qos, c->vlan_proto == ETH_P_8021AD ?
				 "802.1ad" : "802.1Q");
		else
			snprintf(vlan, sizeof(vlan), "-");
		snprintf(rate, sizeof(rate), "%u/%u", c->min_rate, c->max_rate);
		printf("  %-3u %-17s %-22s %-8s %-5s %-16s %s\n",
		       pf->vfs[i].index, mac, vlan,
		       c->spoofchk < 0 ? "?" : c->spoofchk ? "on" : "off",
		       c->trust < 0 ? "?" : c->trust ? "on" : "off", rate,
		       c->link_state < 0 ? "?" :
					   sriov_link_state_name(c->link_state));
	}
}

static int cmd_show(const struct sriov_env *env, int argc, char **argv)
{
	const char *arg = NULL;
	struct sriov_pf *pf;
	bool json = false;
	char err[512] = "";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] != '-' && !arg)
			arg = argv[i];
		else
			goto usage;
	}
	if (!arg)
		goto usage;
	if (sriov_pf_read(env, arg, SRIOV_READ_NETLINK, &pf, err,
			  sizeof(err))) {
		fprintf(stderr, "iovmm sriov show: %s\n", err);
		return SRIOV_CMD_FAIL;
	}
	if (json) {
		json_pf(pf, true);
		putchar('\n');
	} else {
		table_pf_line(pf);
		show_cap(pf);
		if (pf->notes[0])
			printf("note: %s\n", pf->notes);
		table_vfs(pf);
		if (pf->ifindex > 0 && pf->nvfs)
			show_settings(pf);
	}
	sriov_pf_free(pf);
	return SRIOV_CMD_OK;
usage:
	fprintf(stderr, "iovmm sriov show: expected PF [--json]\n%s",
		sriov_cmd_usage);
	return SRIOV_CMD_USAGE;
}

static int parse_count(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int cmd_create(const struct sriov_env *env, int argc, char **argv)
{
	const char *arg = NULL;
	unsigned int n = 0, flags = 0, before;
	bool have_n = false;
	struct sriov_pf *pf;
	char err[512] = "", token[SRIOV_TOKEN_SIZE];
	uint64_t t0, ms;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--vfs") && i + 1 < argc) {
			if (parse_count(argv[++i], &n)) {
				fprintf(stderr, "iovmm sriov create: --vfs '%s': "
					"expected a number\n", argv[i]);
				return SRIOV_CMD_USAGE;
			}
			have_n = true;
		} else if (!strcmp(argv[i], "--autoprobe")) {
			flags |= SRIOV_CREATE_AUTOPROBE;
		} else if (argv[i][0] != '-' && !arg) {
			arg = argv[i];
		} else {
			arg = NULL;
			break;
		}
	}
	if (!arg || !have_n) {
		fprintf(stderr, "iovmm sriov create: expected PF --vfs N\n%s",
			sriov_cmd_usage);
		return SRIOV_CMD_USAGE;
	}
	if (sriov_pf_read(env, arg, 0, &pf, err, sizeof(err))) {
		fprintf(stderr, "iovmm sriov create: %s\n", err);
		return SRIOV_CMD_FAIL;
	}
	before = pf->numvfs;
	sriov_pf_free(pf);
	t0 = now_ms();
	if (sriov_create(env, arg, n, flags, err, sizeof(err))) {
		fprintf(stderr, "iovmm sriov create: %s\n", err);
		return SRIOV_CMD_FAIL;
	}
	ms = now_ms() - t0;
	if (sriov_pf_read(env, arg, 0, &pf, err, sizeof(err))) {
		fprintf(stderr, "iovmm sriov create: %s\n", err);
		return SRIOV_CMD_FAIL;
	}
	if (before == n)
		printf("%s: already has %u VF%s (autoprobe %s)\n", pf->bdf,
		       pf->numvfs, pf->numvfs == 1 ? "" : "s",
		       pf->autoprobe > 0 ? "on" : "off");
	else
		printf("%s: %u VF%s enabled in %llu ms (autoprobe %s)\n",
		       pf->bdf, pf->numvfs, pf->numvfs == 1 ? "" : "s",
		       (unsigned long long)ms, pf->autoprobe > 0 ? "on" : "off");
	table_vfs(pf);
	if (!strcmp(pf->driver, "vfio-pci") &&
	    !sriov_token_get(env, pf->bdf, true, token, NULL, 0))
		printf("the PF is bound to vfio-pci: its VFs open with VF token "
		       "%s (give it to the PF's driver, or iovmm sriov token %s "
		       "--apply)\n", token, pf->bdf);
	sriov_pf_free(pf);
	return SRIOV_CMD_OK;
}

static int cmd_destroy(const struct sriov_env *env, int argc, char **argv)
{
	char err[512] = "";
	uint64_t t0;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "iovmm sriov destroy: expected PF\n%s",
			sriov_cmd_usage);
		return SRIOV_CMD_USAGE;
	}
	t0 = now_ms();
	if (sriov_destroy(env, argv[1], err, sizeof(err))) {
		fprintf(stderr, "iovmm sriov destroy: %s\n", err);
		return SRIOV_CMD_FAIL;
	}
	printf("%s: VFs disabled in %llu ms\n", argv[1],
	       (unsigned long long)(now_ms() - t0));
	return SRIOV_CMD_OK;
}

static int cmd_set(const struct sriov_env *env, int argc, char **argv)
{
	struct sriov_vf_settings s = { 0 };
	char err[512] = "", text[256];

	if (argc < 4) {
		fprintf(stderr, "iovmm sriov set: expected PF VF key=value...\n"
			"%s", sriov_cmd_usage);
		return SRIOV_CMD_USAGE;
	}
	for (int i = 3; i < argc; i++) {
		if (sriov_settings_parse_list(&s, argv[i], err, sizeof(err))) {
			fprintf(stderr, "iovmm sriov set: %s\n", err);
			return SRIOV_CMD_USAGE;
		}
	}
	if (sriov_vf_set(env, argv[1], argv[2], &s, err, sizeof(err))) {
		fprintf(stderr, "iovmm sriov set: %s\n", err);
		return SRIOV_CMD_FAIL;
	}
	sriov_settings_format(&s, text, sizeof(text));
	printf("%s VF %s: %s\n", argv[1], argv[2], text);
	return SRIOV_CMD_OK;
}

static int token_check(const struct sriov_env *env, const char *pf,
		       const char *vf, const char *token)
{
	char err[512] = "";
	int without, with;

	without = sriov_vfio_open_check(env, vf, NULL, err, sizeof(err));
	printf("open %s without a VF token: %s\n", vf,
	       without ? strerror(-without) : "accepted");
	with = sriov_vfio_open_check(env, vf, token, err, sizeof(err));
	printf("open %s with the VF token of %s: %s\n", vf, pf,
	       with ? err : "accepted");
	return with ? SRIOV_CMD_FAIL : SRIOV_CMD_OK;
}

static int cmd_token(const struct sriov_env *env, int argc, char **argv)
{
	const char *pf = NULL, *set = NULL, *check = NULL;
	bool generate = false, apply = false;
	char err[512] = "", token[SRIOV_TOKEN_SIZE];
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--generate"))
			generate = true;
		else if (!strcmp(argv[i], "--apply"))
			apply = true;
		else if (!strcmp(argv[i], "--set") && i + 1 < argc)
			set = argv[++i];
		else if (!strcmp(argv[i], "--check") && i + 1 < argc)
			check = argv[++i];
		else if (argv[i][0] != '-' && !pf)
			pf = argv[i];
		else
			goto usage;
	}
	if (!pf || (set && generate))
		goto usage;
	ret = set ? sriov_token_set(env, pf, set, err, sizeof(err)) : 0;
	if (!ret)
		ret = sriov_token_get(env, pf, generate || apply, token, err,
				      sizeof(err));
	if (!ret && apply)
		ret = sriov_token_apply(env, pf, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "iovmm sriov token: %s\n", err);
		return SRIOV_CMD_FAIL;
	}
	printf("%s\n", token);
	if (apply)
		printf("programmed into %s through VFIO\n", pf);
	return check ? token_check(env, pf, check, token) : SRIOV_CMD_OK;
usage:
	fprintf(stderr, "iovmm sriov token: expected PF [--generate | --set "
		"UUID | --apply | --check VF]\n%s", sriov_cmd_usage);
	return SRIOV_CMD_USAGE;
}

static int cmd_repair(const struct sriov_env *env, int argc, char **argv)
{
	char err[512] = "";
	int n = sriov_pool_repair(env, err, sizeof(err));

	if (n < 0) {
		fprintf(stderr, "iovmm sriov repair: %s\n",
			err[0] ? err : strerror(-n));
		return SRIOV_CMD_FAIL;
	}
	printf("%d stale lease%s repaired\n", n, n == 1 ? "" : "s");
	return SRIOV_CMD_OK;
}

static const struct {
	const char *name;
	int (*fn)(const struct sriov_env *env, int argc, char **argv);
} sriov_cmds[] = {
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "create", cmd_create },
	{ "destroy", cmd_destroy },
	{ "set", cmd_set },
	{ "token", cmd_token },
	{ "repair", cmd_repair },
};

int sriov_cmd_run(const struct sriov_env *env, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(sriov_cmd_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? SRIOV_CMD_USAGE : SRIOV_CMD_OK;
	}
	for (size_t i = 0; i < sizeof(sriov_cmds) / sizeof(sriov_cmds[0]); i++)
		if (!strcmp(argv[1], sriov_cmds[i].name))
			return sriov_cmds[i].fn(env, argc - 1, argv + 1);
	fprintf(stderr, "iovmm sriov: unknown command '%s'\n%s", argv[1],
		sriov_cmd_usage);
	return SRIOV_CMD_USAGE;
}

int sriov_cmd_main(int argc, char **argv)
{
	struct sriov_env env;

	sriov_env_default(&env);
	return sriov_cmd_run(&env, argc, argv);
}
