// SPDX-License-Identifier: MIT
/*
 * The fake SR-IOV host (see fake_host.h): its layout on the shared fake
 * sysfs, and a fake PF network driver for rtnetlink.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tests/unit/sriov/fake_host.h"

struct fake_host fh;

/* ---- the PF network driver ---- */

static void nl_log(int ifindex, uint32_t vf, int attr, int result)
{
	if (fh.nlog < FH_LOG_MAX)
		fh.log[fh.nlog++] = (struct fh_req){ ifindex, vf, attr, result };
}

int fh_count(int attr, int vf)
{
	int n = 0;

	pthread_mutex_lock(&fh.lock);
	for (int i = 0; i < fh.nlog; i++)
		n += fh.log[i].attr == attr && fh.log[i].result == 0 &&
		     (vf < 0 || fh.log[i].vf == (uint32_t)vf);
	pthread_mutex_unlock(&fh.lock);
	return n;
}

static unsigned int nic_numvfs(void)
{
	char buf[16];

	fake_sysfs_attr(&fh.fs, FH_NIC_PF, "sriov_numvfs", buf, sizeof(buf));
	return (unsigned int)strtoul(buf, NULL, 10);
}

/* One IFLA_VF_* attribute, as ixgbe's ndo_set_vf_* would take it. */
static int nic_set(int type, struct nlattr *a, uint32_t *vfp)
{
	const uint32_t *vf = nla_data(a);
	struct fh_vf_state *s;

	if (type == IFLA_VF_VLAN_LIST) {
		struct nlattr *e = nla_data(a);
		const struct ifla_vf_vlan_info *vi;

		ck_assert_int_eq(nla_type(e), IFLA_VF_VLAN_INFO);
		ck_assert_int_eq(nla_len(e), sizeof(*vi));
		vi = nla_data(e);
		*vfp = vi->vf;
		if (vi->vf >= nic_numvfs())
			return -EINVAL;
		if (ntohs(vi->vlan_proto) == ETH_P_8021AD &&
		    (fh.refuse & FH_NO_QINQ))
			return -EPROTONOSUPPORT;
		if (vi->vlan > 4095 || vi->qos > 7)
			return -EINVAL;
		s = &fh.vfs[vi->vf];
		s->vlan = (uint16_t)vi->vlan;
		s->qos = (uint8_t)vi->qos;
		s->proto = ntohs(vi->vlan_proto);
		return 0;
	}
	*vfp = *vf;
	if (*vf >= nic_numvfs())
		return -EINVAL;
	s = &fh.vfs[*vf];
	switch (type) {
	case IFLA_VF_MAC:
		memcpy(s->mac, ((const struct ifla_vf_mac *)vf)->mac, 6);
		return 0;
	case IFLA_VF_SPOOFCHK:
		if (fh.refuse & FH_NO_SPOOFCHK)
			return -EOPNOTSUPP;
		s->spoofchk = ((const struct ifla_vf_spoofchk *)vf)->setting;
		return 0;
	case IFLA_VF_TRUST:
		if (fh.refuse & FH_NO_TRUST)
			return -EOPNOTSUPP;
		s->trust = ((const struct ifla_vf_trust *)vf)->setting;
		return 0;
	case IFLA_VF_RATE: {
		const struct ifla_vf_rate *r = (const void *)vf;

		if (r->min_tx_rate && (fh.refuse & FH_NO_MIN_RATE))
			return -EINVAL;
		s->min_rate = r->min_tx_rate;
		s->max_rate = r->max_tx_rate;
		return 0;
	}
	case IFLA_VF_LINK_STATE:
		s->link = ((const struct ifla_vf_link_state *)vf)->link_state;
		return 0;
	}
	ck_abort_msg("unexpected IFLA_VF attribute %d", type);
	return -EINVAL;
}

/* RTM_SETLINK: exactly one IFLA_VF_INFO with exactly one attribute. */
static int nic_setlink(struct nlmsghdr *h)
{
	struct nlattr *tb[IFLA_MAX + 1], *vfi[IFLA_VF_MAX + 1], *info;
	const struct ifinfomsg *ifi = nlmsg_data(h);
	uint32_t vf = 0;
	int rem, type = -1, n = 0, ret;

	ck_assert_int_eq(nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	ck_assert_ptr_nonnull(tb[IFLA_VFINFO_LIST]);
	if (ifi->ifi_index != FH_NIC_IFINDEX)
		return -ENODEV;
	nla_for_each_nested(info, tb[IFLA_VFINFO_LIST], rem) {
		ck_assert_int_eq(nla_type(info), IFLA_VF_INFO);
		n++;
	}
	ck_assert_int_eq(n, 1);
	info = nla_data(tb[IFLA_VFINFO_LIST]);
	ck_assert_int_eq(nla_parse_nested(vfi, IFLA_VF_MAX, info, NULL), 0);
	n = 0;
	for (int t = 1; t <= IFLA_VF_MAX; t++) {
		if (vfi[t]) {
			type = t;
			n++;
		}
	}
	ck_assert_int_eq(n, 1);
	ret = fh.nl_errno ? -fh.nl_errno : nic_set(type, vfi[type], &vf);
	nl_log(ifi->ifi_index, vf, type, ret);
	return ret;
}

/* RTM_NEWLINK the way rtnl_fill_vfinfo() writes it. */
static struct nl_msg *nic_getlink(struct nlmsghdr *h)
{
	struct ifinfomsg ifi = { .ifi_index = FH_NIC_IFINDEX };
	unsigned int n = nic_numvfs();
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct nlattr *list;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	nla_put_string(m, IFLA_IFNAME, FH_NIC_NETDEV);
	nla_put_u32(m, IFLA_NUM_VF, n);
	list = nla_nest_start(m, IFLA_VFINFO_LIST);
	for (uint32_t i = 0; i < n; i++) {
		const struct fh_vf_state *s = &fh.vfs[i];
		struct ifla_vf_mac mac = { .vf = i };
		struct ifla_vf_vlan vlan = { i, s->vlan, s->qos };
		struct ifla_vf_vlan_info vi = { i, s->vlan, s->qos,
						htons(s->proto) };
		struct ifla_vf_tx_rate tx = { i, s->max_rate };
		struct ifla_vf_rate rate = { i, s->min_rate, s->max_rate };
		struct ifla_vf_spoofchk sc = { i, s->spoofchk };
		struct ifla_vf_link_state ls = { i, s->link };
		struct ifla_vf_trust tr = { i, (fh.refuse & FH_NO_TRUST) ?
						       (uint32_t)-1 : s->trust };
		struct nlattr *info = nla_nest_start(m, IFLA_VF_INFO), *vl;

		memcpy(mac.mac, s->mac, 6);
		nla_put(m, IFLA_VF_MAC, sizeof(mac), &mac);
		nla_put(m, IFLA_VF_VLAN, sizeof(vlan), &vlan);
		vl = nla_nest_start(m, IFLA_VF_VLAN_LIST);
		nla_put(m, IFLA_VF_VLAN_INFO, sizeof(vi), &vi);
		nla_nest_end(m, vl);
		nla_put(m, IFLA_VF_TX_RATE, sizeof(tx), &tx);
		nla_put(m, IFLA_VF_RATE, sizeof(rate), &rate);
		nla_put(m, IFLA_VF_SPOOFCHK, sizeof(sc), &sc);
		nla_put(m, IFLA_VF_LINK_STATE, sizeof(ls), &ls);
		nla_put(m, IFLA_VF_TRUST, sizeof(tr), &tr);
		nla_nest_end(m, info);
	}
	nla_nest_end(m, list);
	return m;
}

static int fake_transact(const struct sriov_env *env, struct nl_msg *req,
			 struct nl_msg **reply, char *ack, size_t len)
{
	struct nlmsghdr *h = nlmsg_hdr(req);
	int ret = 0;

	if (ack && len)
		ack[0] = '\0';
	pthread_mutex_lock(&fh.lock);
	if (h->nlmsg_type == RTM_GETLINK) {
		const struct ifinfomsg *ifi = nlmsg_data(h);

		ck_assert_ptr_nonnull(reply);
		if (fh.nl_errno)
			ret = -fh.nl_errno;
		else if (ifi->ifi_index != FH_NIC_IFINDEX)
			ret = -ENODEV;
		else
			*reply = nic_getlink(h);
		nl_log(ifi->ifi_index, 0, -1, ret);
	} else {
		ck_assert_int_eq(h->nlmsg_type, RTM_SETLINK);
		ck_assert(h->nlmsg_flags & NLM_F_ACK);
		ret = nic_setlink(h);
		if (ret == -EINVAL && ack && len)
			snprintf(ack, len, "fake driver: value out of range");
	}
	pthread_mutex_unlock(&fh.lock);
	return ret;
}

static const struct sriov_nl_ops fake_nl_ops = {
	.transact = fake_transact,
};

/* ---- setup ---- */

static const struct fake_sysfs_sriov nic_sriov = {
	.cap_total = 64, .sysfs_total = 63, .offset = 128, .stride = 2,
	.vf_device = 0x10ed, .vf_driver = "ixgbevf", .vf_group = 100,
};

static const struct fake_sysfs_sriov nvme_sriov = {
	.cap_total = 2, .sysfs_total = 2, .offset = 1, .stride = 1,
	.vf_device = 0x0010, .vf_driver = "nvme", .vf_group = 200,
};

static const struct fake_sysfs_dev fh_devs[] = {
	{ .bdf = "0000:00:01.0", .vendor = 0x8086, .device = 0x000c,
	  .class_code = 0x060400, .driver = "pcieport", .group = 1 },
	{ .bdf = "0000:00:03.0", .vendor = 0x8086, .device = 0x000c,
	  .class_code = 0x060400, .driver = "pcieport", .group = 2 },
	{ .bdf = FH_AHCI, .vendor = 0x8086, .device = 0x2922,
	  .class_code = 0x010601, .driver = "ahci", .group = 5 },
	{ .bdf = FH_NIC_PF, .parent = "0000:00:03.0", .vendor = 0x8086,
	  .device = 0x10fb, .class_code = 0x020000, .driver = "ixgbe",
	  .group = 30, .sriov = &nic_sriov },
	{ .bdf = FH_NVME_PF, .parent = "0000:00:01.0", .vendor = 0x1b36,
	  .device = 0x0010, .class_code = 0x010802, .driver = "nvme",
	  .group = 3, .sriov = &nvme_sriov },
};

/* ixgbevf makes a network interface for its VF. */
static void fh_on_bind(struct fake_sysfs *fs, const char *bdf,
		       const char *drv)
{
	char name[32], mac[32];
	unsigned int dev, fn;

	if (strcmp(drv, "ixgbevf"))
		return;
	ck_assert_int_eq(sscanf(bdf + 8, "%x.%x", &dev, &fn), 2);
	snprintf(name, sizeof(name), "enp59s%uf%u", dev, fn);
	snprintf(mac, sizeof(mac), "02:00:00:3b:%02x:%02x", dev, fn);
	fake_sysfs_add_netdev(fs, bdf, name, 100 + (int)(dev << 3 | fn), mac);
}

void fh_setup(void)
{
	memset(&fh, 0, sizeof(fh));
	pthread_mutex_init(&fh.lock, NULL);
	fake_sysfs_create(&fh.fs, "iovmm-sriov");
	fh.fs.on_bind = fh_on_bind;
	fake_sysfs_add_driver(&fh.fs, "ixgbevf");
	fake_sysfs_add_driver(&fh.fs, "vfio-pci");
	for (size_t i = 0; i < ARRAY_SIZE(fh_devs); i++)
		fake_sysfs_add(&fh.fs, &fh_devs[i]);
	fake_sysfs_add_netdev(&fh.fs, FH_NIC_PF, FH_NIC_NETDEV,
			      FH_NIC_IFINDEX, "90:e2:ba:00:00:01");
	snprintf(fh.run, sizeof(fh.run), "%s/sriov", fh.fs.run);
	fh.env.host = fh.fs.env;
	fh.env.run_dir = fh.run;
	fh.env.nl = &fake_nl_ops;
	for (int i = 0; i < FH_MAX_VFS; i++) {
		fh.vfs[i].proto = ETH_P_8021Q;
		fh.vfs[i].spoofchk = 1;
	}
}

void fh_teardown(void)
{
	fake_sysfs_destroy(&fh.fs);
	pthread_mutex_destroy(&fh.lock);
}
