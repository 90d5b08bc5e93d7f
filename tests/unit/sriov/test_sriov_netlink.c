// SPDX-License-Identifier: MIT
/*
 * Per-VF settings over rtnetlink: every request sriov/ builds is parsed
 * back with libnl (nlmsg_parse, nla_parse_nested) and checked attribute by
 * attribute; the RTM_GETLINK answer parser is fed kernel-shaped and
 * hostile messages and cross-checked against libnl-route's own SR-IOV
 * parser; driver refusals become the promised sentences; and one request
 * goes to the real kernel (the loopback device of a private network
 * namespace, which has no VF hooks: "does not support").
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sriov/sriov_internal.h"
#include "tests/unit/sriov/fake_host.h"

static char err[512];

/* Parse a SETLINK request down to its IFLA_VF_INFO attributes. Exactly one
 * VFINFO_LIST holding exactly one VF_INFO holding exactly one attribute,
 * whose type is returned. */
static int setlink_attr(struct nl_msg *msg, int ifindex,
			struct nlattr *vf[IFLA_VF_MAX + 1])
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1], *info;
	const struct ifinfomsg *ifi;
	int rem, n = 0, type = -1;

	ck_assert_int_eq(h->nlmsg_type, RTM_SETLINK);
	ck_assert_int_eq(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	ck_assert_int_ge(h->nlmsg_len, NLMSG_HDRLEN + sizeof(*ifi));
	ifi = nlmsg_data(h);
	ck_assert_int_eq(ifi->ifi_family, AF_UNSPEC);
	ck_assert_int_eq(ifi->ifi_index, ifindex);
	ck_assert_int_eq(ifi->ifi_change, 0);
	ck_assert_int_eq(nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	for (int t = 0; t <= IFLA_MAX; t++)
		if (t != IFLA_VFINFO_LIST)
			ck_assert_msg(!tb[t], "stray attribute %d", t);
	ck_assert_ptr_nonnull(tb[IFLA_VFINFO_LIST]);
	nla_for_each_nested(info, tb[IFLA_VFINFO_LIST], rem) {
		ck_assert_int_eq(nla_type(info), IFLA_VF_INFO);
		n++;
	}
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(rem, 0);
	info = nla_data(tb[IFLA_VFINFO_LIST]);
	ck_assert_int_eq(nla_parse_nested(vf, IFLA_VF_MAX, info, NULL), 0);
	n = 0;
	for (int t = 0; t <= IFLA_VF_MAX; t++) {
		if (vf[t]) {
			type = t;
			n++;
		}
	}
	ck_assert_int_eq(n, 1);
	return type;
}

static struct sriov_vf_settings all_settings(void)
{
	struct sriov_vf_settings s = {
		.set = SRIOV_SET(SRIOV_KEY_MAC) | SRIOV_SET(SRIOV_KEY_VLAN) |
		       SRIOV_SET(SRIOV_KEY_SPOOFCHK) |
		       SRIOV_SET(SRIOV_KEY_TRUST) | SRIOV_SET(SRIOV_KEY_RATE) |
		       SRIOV_SET(SRIOV_KEY_LINK),
		.mac = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef },
		.vlan = 1234,
		.qos = 5,
		.vlan_proto = ETH_P_8021AD,
		.spoofchk = false,
		.trust = true,
		.has_min_rate = true,
		.has_max_rate = true,
		.min_rate = 100,
		.max_rate = 2500,
		.link_state = IFLA_VF_LINK_STATE_DISABLE,
	};
	return s;
}

START_TEST(test_build_each_key)
{
	struct sriov_vf_settings s = all_settings();
	struct nlattr *vf[IFLA_VF_MAX + 1];
	struct nl_msg *msg;

	ck_assert_int_eq(sriov_nl_build_set(42, 7, SRIOV_KEY_MAC, &s, &msg), 0);
	ck_assert_int_eq(setlink_attr(msg, 42, vf), IFLA_VF_MAC);
	{
		const struct ifla_vf_mac *m = nla_data(vf[IFLA_VF_MAC]);
		static const uint8_t zero[26];

		ck_assert_int_eq(nla_len(vf[IFLA_VF_MAC]), sizeof(*m));
		ck_assert_uint_eq(m->vf, 7);
		ck_assert_mem_eq(m->mac, s.mac, 6);
		ck_assert_mem_eq(m->mac + 6, zero, sizeof(zero));
	}
	nlmsg_free(msg);

	ck_assert_int_eq(sriov_nl_build_set(42, 7, SRIOV_KEY_VLAN, &s, &msg), 0);
	ck_assert_int_eq(setlink_attr(msg, 42, vf), IFLA_VF_VLAN_LIST);
	{
		struct nlattr *e;
		const struct ifla_vf_vlan_info *vi;
		int rem, n = 0;

		nla_for_each_nested(e, vf[IFLA_VF_VLAN_LIST], rem) {
			ck_assert_int_eq(nla_type(e), IFLA_VF_VLAN_INFO);
			ck_assert_int_eq(nla_len(e), sizeof(*vi));
			vi = nla_data(e);
			ck_assert_uint_eq(vi->vf, 7);
			ck_assert_uint_eq(vi->vlan, 1234);
			ck_assert_uint_eq(vi->qos, 5);
			/* Network byte order, as the kernel compares it. */
			ck_assert_uint_eq(vi->vlan_proto, htons(ETH_P_8021AD));
			n++;
		}
		ck_assert_int_eq(n, 1);
	}
	nlmsg_free(msg);

	ck_assert_int_eq(sriov_nl_build_set(42, 7, SRIOV_KEY_SPOOFCHK, &s,
					    &msg), 0);
	ck_assert_int_eq(setlink_attr(msg, 42, vf), IFLA_VF_SPOOFCHK);
	{
		const struct ifla_vf_spoofchk *v = nla_data(vf[IFLA_VF_SPOOFCHK]);

		ck_assert_int_eq(nla_len(vf[IFLA_VF_SPOOFCHK]), sizeof(*v));
		ck_assert_uint_eq(v->vf, 7);
		ck_assert_uint_eq(v->setting, 0);
	}
	nlmsg_free(msg);

	ck_assert_int_eq(sriov_nl_build_set(42, 7, SRIOV_KEY_TRUST, &s, &msg),
			 0);
	ck_assert_int_eq(setlink_attr(msg, 42, vf), IFLA_VF_TRUST);
	{
		const struct ifla_vf_trust *v = nla_data(vf[IFLA_VF_TRUST]);

		ck_assert_int_eq(nla_len(vf[IFLA_VF_TRUST]), sizeof(*v));
		ck_assert_uint_eq(v->vf, 7);
		ck_assert_uint_eq(v->setting, 1);
	}
	nlmsg_free(msg);

	ck_assert_int_eq(sriov_nl_build_set(42, 7, SRIOV_KEY_RATE, &s, &msg),
			 0);
	ck_assert_int_eq(setlink_attr(msg, 42, vf), IFLA_VF_RATE);
	{
		const struct ifla_vf_rate *v = nla_data(vf[IFLA_VF_RATE]);

		ck_assert_int_eq(nla_len(vf[IFLA_VF_RATE]), sizeof(*v));
		ck_assert_uint_eq(v->vf, 7);
		ck_assert_uint_eq(v->min_tx_rate, 100);
		ck_assert_uint_eq(v->max_tx_rate, 2500);
	}
	nlmsg_free(msg);

	ck_assert_int_eq(sriov_nl_build_set(42, 7, SRIOV_KEY_LINK, &s, &msg),
			 0);
	ck_assert_int_eq(setlink_attr(msg, 42, vf), IFLA_VF_LINK_STATE);
	{
		const struct ifla_vf_link_state *v =
			nla_data(vf[IFLA_VF_LINK_STATE]);

		ck_assert_int_eq(nla_len(vf[IFLA_VF_LINK_STATE]), sizeof(*v));
		ck_assert_uint_eq(v->vf, 7);
		ck_assert_uint_eq(v->link_state, IFLA_VF_LINK_STATE_DISABLE);
	}
	nlmsg_free(msg);

	/* A key the settings do not carry is refused, not sent empty. */
	s.set = SRIOV_SET(SRIOV_KEY_MAC);
	ck_assert_int_eq(sriov_nl_build_set(42, 7, SRIOV_KEY_TRUST, &s, &msg),
			 -EINVAL);
	ck_assert_ptr_null(msg);
	ck_assert_int_eq(sriov_nl_build_set(42, 7, SRIOV_KEY_COUNT, &s, &msg),
			 -EINVAL);
}
END_TEST

START_TEST(test_build_get)
{
	struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;
	struct nlmsghdr *h;
	struct nl_msg *msg;

	ck_assert_int_eq(sriov_nl_build_get(9, &msg), 0);
	h = nlmsg_hdr(msg);
	ck_assert_int_eq(h->nlmsg_type, RTM_GETLINK);
	ck_assert_int_eq(h->nlmsg_flags, NLM_F_REQUEST);
	ifi = nlmsg_data(h);
	ck_assert_int_eq(ifi->ifi_index, 9);
	ck_assert_int_eq(nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	ck_assert_ptr_nonnull(tb[IFLA_EXT_MASK]);
	ck_assert_int_eq(nla_len(tb[IFLA_EXT_MASK]), 4);
	ck_assert_uint_eq(nla_get_u32(tb[IFLA_EXT_MASK]),
			  RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);
	for (int t = 0; t <= IFLA_MAX; t++)
		if (t != IFLA_EXT_MASK)
			ck_assert(!tb[t]);
	nlmsg_free(msg);
}
END_TEST

/* An RTM_NEWLINK answer the way rtnl_fill_vfinfo() writes one. */
static void put_vf(struct nl_msg *m, uint32_t i, const uint8_t mac[6],
		   uint32_t vlan, uint32_t qos, uint16_t proto, uint32_t sc,
		   uint32_t trust, uint32_t min, uint32_t max, uint32_t link)
{
	struct ifla_vf_mac vm = { .vf = i };
	struct ifla_vf_vlan vv = { i, vlan, qos };
	struct ifla_vf_vlan_info vi = { i, vlan, qos, htons(proto) };
	struct ifla_vf_tx_rate tx = { i, max };
	struct ifla_vf_rate r = { i, min, max };
	struct ifla_vf_spoofchk s = { i, sc };
	struct ifla_vf_link_state l = { i, link };
	struct ifla_vf_rss_query_en rss = { i, 0 };
	struct ifla_vf_trust t = { i, trust };
	struct nlattr *info = nla_nest_start(m, IFLA_VF_INFO), *vl;

	memcpy(vm.mac, mac, 6);
	nla_put(m, IFLA_VF_MAC, sizeof(vm), &vm);
	nla_put(m, IFLA_VF_VLAN, sizeof(vv), &vv);
	vl = nla_nest_start(m, IFLA_VF_VLAN_LIST);
	nla_put(m, IFLA_VF_VLAN_INFO, sizeof(vi), &vi);
	nla_nest_end(m, vl);
	nla_put(m, IFLA_VF_TX_RATE, sizeof(tx), &tx);
	nla_put(m, IFLA_VF_RATE, sizeof(r), &r);
	nla_put(m, IFLA_VF_SPOOFCHK, sizeof(s), &s);
	nla_put(m, IFLA_VF_LINK_STATE, sizeof(l), &l);
	nla_put(m, IFLA_VF_RSS_QUERY_EN, sizeof(rss), &rss);
	nla_put(m, IFLA_VF_TRUST, sizeof(t), &t);
	nla_nest_end(m, info);
}

static const uint8_t mac0[6] = { 0x52, 0x54, 0, 0, 0, 1 };
static const uint8_t mac1[6] = { 0x52, 0x54, 0, 0, 0, 2 };
static const uint8_t mac2[6] = { 0, 0, 0, 0, 0, 0 };

static struct nl_msg *reply_3vfs(void)
{
	struct ifinfomsg ifi = { .ifi_index = 7, .ifi_type = 1 };
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct nlattr *list;

	nlmsg_set_proto(m, NETLINK_ROUTE);
	nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	nla_put_string(m, IFLA_IFNAME, "enp59s0f0");
	nla_put_u32(m, IFLA_MTU, 1500);
	nla_put_u32(m, IFLA_NUM_VF, 3);
	list = nla_nest_start(m, IFLA_VFINFO_LIST);
	put_vf(m, 0, mac0, 100, 3, ETH_P_8021Q, 1, 0, 0, 1000,
	       IFLA_VF_LINK_STATE_AUTO);
	put_vf(m, 1, mac1, 200, 0, ETH_P_8021AD, 0, 1, 50, 0,
	       IFLA_VF_LINK_STATE_ENABLE);
	/* A driver that does not report spoofchk/trust: (u32)-1. */
	put_vf(m, 2, mac2, 0, 0, ETH_P_8021Q, (uint32_t)-1, (uint32_t)-1, 0, 0,
	       IFLA_VF_LINK_STATE_DISABLE);
	nla_nest_end(m, list);
	return m;
}

struct route_link {
	struct rtnl_link *link;
};

static void route_cb(struct nl_object *obj, void *arg)
{
	struct route_link *r = arg;

	nl_object_get(obj);
	r->link = (struct rtnl_link *)obj;
}

START_TEST(test_parse_reply)
{
	struct sriov_vf_config cfg[8];
	struct nl_msg *m = reply_3vfs();
	struct route_link r = { NULL };
	unsigned int nvfs;

	ck_assert_int_eq(sriov_nl_parse_vfs(nlmsg_hdr(m), cfg, 8, &nvfs), 0);
	ck_assert_uint_eq(nvfs, 3);
	ck_assert(cfg[0].valid && cfg[1].valid && cfg[2].valid);
	ck_assert(!cfg[3].valid);
	ck_assert_mem_eq(cfg[0].mac, mac0, 6);
	ck_assert_uint_eq(cfg[0].vlan, 100);
	ck_assert_uint_eq(cfg[0].qos, 3);
	ck_assert_uint_eq(cfg[0].vlan_proto, ETH_P_8021Q);
	ck_assert_int_eq(cfg[0].spoofchk, 1);
	ck_assert_int_eq(cfg[0].trust, 0);
	ck_assert_uint_eq(cfg[0].max_rate, 1000);
	ck_assert_int_eq(cfg[0].link_state, IFLA_VF_LINK_STATE_AUTO);
	ck_assert_uint_eq(cfg[1].vlan_proto, ETH_P_8021AD);
	ck_assert_uint_eq(cfg[1].min_rate, 50);
	ck_assert_int_eq(cfg[1].trust, 1);
	ck_assert_int_eq(cfg[1].link_state, IFLA_VF_LINK_STATE_ENABLE);
	ck_assert_int_eq(cfg[2].spoofchk, -1);
	ck_assert_int_eq(cfg[2].trust, -1);
	ck_assert_int_eq(cfg[2].link_state, IFLA_VF_LINK_STATE_DISABLE);

	/* libnl-route reads the same message the same way. */
	ck_assert_int_ge(nl_msg_parse(m, route_cb, &r), 0);
	ck_assert_ptr_nonnull(r.link);
	ck_assert_uint_eq(rtnl_link_get_num_vf(r.link, &nvfs), 0);
	ck_assert_uint_eq(nvfs, 3);
	for (uint32_t i = 0; i < 3; i++) {
		struct rtnl_link_vf *vf = rtnl_link_vf_get(r.link, i);
		struct nl_addr *addr;
		nl_vf_vlans_t *vlans;
		struct nl_vf_rate rate;
		uint32_t v;

		ck_assert_ptr_nonnull(vf);
		ck_assert_int_eq(rtnl_link_vf_get_addr(vf, &addr), 0);
		ck_assert_mem_eq(nl_addr_get_binary_addr(addr), cfg[i].mac, 6);
		ck_assert_int_eq(rtnl_link_vf_get_vlans(vf, &vlans), 0);
		ck_assert_uint_eq(vlans->vlans[0].vf_vlan, cfg[i].vlan);
		ck_assert_uint_eq(vlans->vlans[0].vf_vlan_qos, cfg[i].qos);
		ck_assert_uint_eq(vlans->vlans[0].vf_vlan_proto,
				  cfg[i].vlan_proto);
		rtnl_link_vf_vlan_put(vlans);
		/* libnl-route calls an all-zero rate "missing". */
		if (cfg[i].min_rate || cfg[i].max_rate) {
			ck_assert_int_eq(rtnl_link_vf_get_rate(vf, &rate), 0);
			ck_assert_uint_eq(rate.min_tx_rate, cfg[i].min_rate);
			ck_assert_uint_eq(rate.max_tx_rate, cfg[i].max_rate);
		} else {
			ck_assert_int_lt(rtnl_link_vf_get_rate(vf, &rate), 0);
		}
		ck_assert_int_eq(rtnl_link_vf_get_linkstate(vf, &v), 0);
		ck_assert_uint_eq(v, (uint32_t)cfg[i].link_state);
		/* Both treat (u32)-1 as "not reported". */
		if (cfg[i].spoofchk >= 0) {
			ck_assert_int_eq(rtnl_link_vf_get_spoofchk(vf, &v), 0);
			ck_assert_uint_eq(v, (uint32_t)cfg[i].spoofchk);
		} else {
			ck_assert_int_lt(rtnl_link_vf_get_spoofchk(vf, &v), 0);
		}
		if (cfg[i].trust >= 0) {
			ck_assert_int_eq(rtnl_link_vf_get_trust(vf, &v), 0);
			ck_assert_uint_eq(v, (uint32_t)cfg[i].trust);
		} else {
			ck_assert_int_lt(rtnl_link_vf_get_trust(vf, &v), 0);
		}
		rtnl_link_vf_put(vf);
	}
	rtnl_link_put(r.link);
	nlmsg_free(m);
}
END_TEST

START_TEST(test_parse_hostile)
{
	struct ifinfomsg ifi = { .ifi_index = 7 };
	struct sriov_vf_config cfg[4];
	struct nlattr *list, *info;
	unsigned int nvfs;
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);

	nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	nla_put_u16(m, IFLA_NUM_VF, 3); /* too short for a u32: ignored */
	list = nla_nest_start(m, IFLA_VFINFO_LIST);
	/* A short MAC struct: the whole VF entry is skipped. */
	info = nla_nest_start(m, IFLA_VF_INFO);
	nla_put(m, IFLA_VF_MAC, 8, "\0\0\0\0abcd");
	nla_nest_end(m, info);
	/* A VF number beyond what the caller keeps. */
	{
		struct ifla_vf_mac vm = { .vf = 4 };

		info = nla_nest_start(m, IFLA_VF_INFO);
		nla_put(m, IFLA_VF_MAC, sizeof(vm), &vm);
		nla_nest_end(m, info);
	}
	/* VF 1 with a trust attribute that names VF 3: ignored; a VLAN
	 * list entry cut short: ignored. */
	{
		struct ifla_vf_mac vm = { .vf = 1, .mac = { 2, 0, 0, 0, 0, 9 } };
		struct ifla_vf_trust t = { 3, 1 };
		struct ifla_vf_spoofchk sc = { 1, 7 }; /* not 0/1/-1 */
		struct nlattr *vl;

		info = nla_nest_start(m, IFLA_VF_INFO);
		nla_put(m, IFLA_VF_MAC, sizeof(vm), &vm);
		nla_put(m, IFLA_VF_TRUST, sizeof(t), &t);
		nla_put(m, IFLA_VF_SPOOFCHK, sizeof(sc), &sc);
		vl = nla_nest_start(m, IFLA_VF_VLAN_LIST);
		nla_put(m, IFLA_VF_VLAN_INFO, 6, "abcdef");
		nla_nest_end(m, vl);
		nla_nest_end(m, info);
	}
	/* Something that is not an IFLA_VF_INFO. */
	nla_put_u32(m, 9, 1);
	nla_nest_end(m, list);
	ck_assert_int_eq(sriov_nl_parse_vfs(nlmsg_hdr(m), cfg, 4, &nvfs), 0);
	ck_assert_uint_eq(nvfs, 0);
	ck_assert(!cfg[0].valid && !cfg[2].valid && !cfg[3].valid);
	ck_assert(cfg[1].valid);
	ck_assert_uint_eq(cfg[1].mac[5], 9);
	ck_assert_int_eq(cfg[1].trust, -1);
	ck_assert_int_eq(cfg[1].spoofchk, -1);
	ck_assert_uint_eq(cfg[1].vlan, 0);

	/* Not an RTM_NEWLINK; a message cut inside its attributes. */
	nlmsg_hdr(m)->nlmsg_type = RTM_DELLINK;
	ck_assert_int_eq(sriov_nl_parse_vfs(nlmsg_hdr(m), cfg, 4, &nvfs),
			 -EBADMSG);
	nlmsg_hdr(m)->nlmsg_type = RTM_NEWLINK;
	nlmsg_hdr(m)->nlmsg_len = NLMSG_HDRLEN + 4;
	ck_assert_int_eq(sriov_nl_parse_vfs(nlmsg_hdr(m), cfg, 4, &nvfs),
			 -EBADMSG);
	nlmsg_free(m);
}
END_TEST

START_TEST(test_settings_parse)
{
	struct sriov_vf_settings s = { 0 }, back = { 0 };
	char text[256];

	ck_assert_int_eq(sriov_settings_parse_list(&s, "mac=52:54:00:AB:cd:01 "
		"vlan=100,qos=7,vlan-proto=802.1AD spoofchk=off trust=on "
		"min-rate=10 max-rate=4000 link=disable", err, sizeof(err)), 0);
	ck_assert_uint_eq(s.set, (1u << SRIOV_KEY_COUNT) - 1);
	ck_assert_uint_eq(s.mac[3], 0xab);
	ck_assert_uint_eq(s.vlan, 100);
	ck_assert_uint_eq(s.qos, 7);
	ck_assert_uint_eq(s.vlan_proto, ETH_P_8021AD);
	ck_assert(!s.spoofchk && s.trust);
	ck_assert_uint_eq(s.min_rate, 10);
	ck_assert_uint_eq(s.max_rate, 4000);
	ck_assert_int_eq(s.link_state, IFLA_VF_LINK_STATE_DISABLE);
	sriov_settings_format(&s, text, sizeof(text));
	ck_assert_str_eq(text, "mac=52:54:00:ab:cd:01 vlan=100 qos=7 "
			 "vlan-proto=802.1ad spoofchk=off trust=on min-rate=10 "
			 "max-rate=4000 link=disable");
	ck_assert_int_eq(sriov_settings_parse_list(&back, text, err,
						   sizeof(err)), 0);
	ck_assert_mem_eq(&back, &s, sizeof(s));

	/* One key at a time: -ENOENT (silently) for what is not ours. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sriov_settings_parse(&s, "pf", "x", err, sizeof(err)),
			 -ENOENT);
	ck_assert_int_eq(sriov_settings_parse(&s, "vlan", "0", err,
					      sizeof(err)), 0);
	ck_assert_uint_eq(s.vlan_proto, ETH_P_8021Q);
	ck_assert_int_eq(sriov_settings_parse(&s, "link", "auto", err,
					      sizeof(err)), 0);
	ck_assert_int_eq(s.link_state, IFLA_VF_LINK_STATE_AUTO);

	{
		static const char *const bad[][2] = {
			{ "mac", "52:54:00:12:34" }, { "mac", "52:54:00:12:34:5g" },
			{ "mac", "52-54-00-12-34-56" }, { "mac", "ff:ff:ff:ff:ff:ff" },
			{ "mac", "52:54:00:12:34:56:" }, { "mac", " 2:54:00:12:34:56" },
			{ "vlan", "4095" }, { "vlan", "-1" }, { "vlan", "" },
			{ "vlan", "10x" }, { "qos", "8" }, { "vlan-proto", "802.1x" },
			{ "spoofchk", "yes" }, { "trust", "1" },
			{ "max-rate", "4294967296" }, { "min-rate", "-5" },
			{ "link", "up" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memset(&s, 0, sizeof(s));
			err[0] = '\0';
			ck_assert_msg(sriov_settings_parse(&s, bad[i][0], bad[i][1],
							   err, sizeof(err)) ==
				      -EINVAL, "%s=%s accepted", bad[i][0],
				      bad[i][1]);
			ck_assert_msg(err[0], "no message for %s", bad[i][0]);
		}
	}
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sriov_settings_parse_list(&s, "vlan-proto=802.1ad",
						   err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "vlan-proto= needs vlan= (e.g. vlan=100,qos=3)");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sriov_settings_parse_list(&s, "min-rate=500,max-rate=100",
						   err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "min-rate 500 is above max-rate 100");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sriov_settings_parse_list(&s, "min-rate=500,max-rate=0",
						   err, sizeof(err)), 0);
	ck_assert_int_eq(sriov_settings_parse_list(&s, "trust", err,
						   sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "'trust': expected key=value");
}
END_TEST

START_TEST(test_undo)
{
	struct sriov_vf_settings s = all_settings(), u;
	struct sriov_vf_config cur = {
		.valid = true, .mac = { 2, 0, 0, 0, 0, 1 }, .vlan = 0,
		.vlan_proto = 0, .qos = 0, .spoofchk = 1, .trust = -1,
		.min_rate = 0, .max_rate = 0, .link_state = 0,
	};

	sriov_settings_undo(&s, &cur, &u);
	/* trust is not reported: nothing to put back. */
	ck_assert_uint_eq(u.set, s.set & ~SRIOV_SET(SRIOV_KEY_TRUST));
	ck_assert_mem_eq(u.mac, cur.mac, 6);
	ck_assert_uint_eq(u.vlan, 0);
	ck_assert_uint_eq(u.vlan_proto, ETH_P_8021Q);
	ck_assert(u.spoofchk);
	ck_assert(u.has_min_rate && u.has_max_rate);
	ck_assert_int_eq(u.link_state, IFLA_VF_LINK_STATE_AUTO);
	s.set = SRIOV_SET(SRIOV_KEY_MAC);
	sriov_settings_undo(&s, &cur, &u);
	ck_assert_uint_eq(u.set, SRIOV_SET(SRIOV_KEY_MAC));
	cur.valid = false;
	sriov_settings_undo(&s, &cur, &u);
	ck_assert_uint_eq(u.set, 0);
}
END_TEST

START_TEST(test_apply_errors)
{
	struct sriov_vf_settings s = { 0 };
	struct sriov_vf_config cfg[FH_MAX_VFS];
	unsigned int nvfs;

	fake_sysfs_enable_vfs(&fh.fs, FH_NIC_PF, 2, false);
	ck_assert_int_eq(sriov_settings_parse_list(&s, "mac=52:54:00:00:00:07 "
		"trust=on", err, sizeof(err)), 0);
	fh.refuse = FH_NO_TRUST;
	ck_assert_int_eq(sriov_vf_set(&fh.env, FH_NIC_PF, "1", &s, err,
				      sizeof(err)), -EOPNOTSUPP);
	ck_assert_str_eq(err, "PF driver ixgbe does not support trust");
	/* One request per setting, in order: the MAC went in first. */
	ck_assert_int_eq(fh_count(IFLA_VF_MAC, 1), 1);
	ck_assert_uint_eq(fh.vfs[1].mac[5], 7);

	memset(&s, 0, sizeof(s));
	fh.refuse = FH_NO_QINQ | FH_NO_MIN_RATE;
	sriov_settings_parse_list(&s, "vlan=5,vlan-proto=802.1ad", err,
				  sizeof(err));
	ck_assert_int_eq(sriov_vf_set(&fh.env, FH_NIC_PF, "0", &s, err,
				      sizeof(err)), -EPROTONOSUPPORT);
	ck_assert_str_eq(err, "PF driver ixgbe does not support 802.1ad "
			 "(QinQ) VF VLANs");
	memset(&s, 0, sizeof(s));
	sriov_settings_parse_list(&s, "min-rate=100", err, sizeof(err));
	ck_assert_int_eq(sriov_vf_set(&fh.env, FH_NIC_PF, "0", &s, err,
				      sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "PF driver ixgbe rejected min-rate=100 max-rate=0 "
			 "for VF 0: Invalid argument: fake driver: value out "
			 "of range");
	/* A rate request carries both bounds: the other from the VF now. */
	fh.refuse = 0;
	fh.vfs[0].min_rate = 20;
	memset(&s, 0, sizeof(s));
	sriov_settings_parse_list(&s, "max-rate=900", err, sizeof(err));
	ck_assert_int_eq(sriov_vf_set(&fh.env, FH_NIC_PF, "0", &s, err,
				      sizeof(err)), 0);
	ck_assert_uint_eq(fh.vfs[0].min_rate, 20);
	ck_assert_uint_eq(fh.vfs[0].max_rate, 900);
	fh.nl_errno = EPERM; /* the query for the other bound fails */
	ck_assert_int_eq(sriov_vf_set(&fh.env, FH_NIC_PF, "0", &s, err,
				      sizeof(err)), -EPERM);
	ck_assert_str_eq(err, "RTM_GETLINK on ifindex 7: Operation not "
			 "permitted");
	fh.nl_errno = 0;
	memset(&s, 0, sizeof(s));
	sriov_settings_parse_list(&s, "link=enable", err, sizeof(err));
	fh.nl_errno = EPERM;
	ck_assert_int_eq(sriov_vf_set(&fh.env, FH_NIC_PF, "0", &s, err,
				      sizeof(err)), -EPERM);
	ck_assert_str_eq(err, "changing VF settings needs root (CAP_NET_ADMIN)");
	fh.nl_errno = 0;
	ck_assert_int_eq(sriov_vf_set(&fh.env, FH_NIC_PF, "0", &s, err,
				      sizeof(err)), 0);
	ck_assert_int_eq(sriov_vf_set(&fh.env, FH_NIC_PF, "5", &s, err,
				      sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "PF 0000:3b:00.0 has no VF 5 (it has 2 VFs)");
	ck_assert_int_eq(sriov_nl_query(&fh.env, FH_NIC_IFINDEX, cfg,
					FH_MAX_VFS, &nvfs, err, sizeof(err)), 0);
	ck_assert_uint_eq(nvfs, 2);
	ck_assert_int_eq(cfg[0].link_state, IFLA_VF_LINK_STATE_ENABLE);
}
END_TEST

/* The real kernel: lo of a fresh network namespace has no VF hooks. */
START_TEST(test_kernel_lo)
{
	struct sriov_env env = { .nl = &sriov_nl_kernel_ops };
	struct sriov_vf_settings s = { 0 };
	struct sriov_vf_config cfg[4];
	unsigned int nvfs = 99;
	int ret;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "test_kernel_lo: skipped: unshare(CLONE_NEWNET): "
			"%s (needs root)\n", strerror(errno));
		return;
	}
	ck_assert_int_eq(sriov_nl_query(&env, 1, cfg, 4, &nvfs, err,
					sizeof(err)), 0);
	ck_assert_uint_eq(nvfs, 0);
	ck_assert(!cfg[0].valid);
	sriov_settings_parse_list(&s, "trust=on", err, sizeof(err));
	ret = sriov_nl_apply(&env, 1, "", 0, &s, err, sizeof(err));
	ck_assert_int_eq(ret, -EOPNOTSUPP);
	ck_assert_str_eq(err, "PF driver (unknown) does not support trust");
	memset(&s, 0, sizeof(s));
	sriov_settings_parse_list(&s, "mac=52:54:00:00:00:01", err, sizeof(err));
	ck_assert_int_eq(sriov_nl_apply(&env, 1, "lo", 0, &s, err, sizeof(err)),
			 -EOPNOTSUPP);
	ck_assert_str_eq(err, "PF driver lo does not support setting VF MAC "
			 "addresses");
	/* No such interface: the kernel's ENODEV. */
	ck_assert_int_eq(sriov_nl_query(&env, 4242, cfg, 4, &nvfs, err,
					sizeof(err)), -ENODEV);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sriov-netlink");
	TCase *tc = tcase_create("all");

	tcase_add_checked_fixture(tc, fh_setup, fh_teardown);
	tcase_add_test(tc, test_build_each_key);
	tcase_add_test(tc, test_build_get);
	tcase_add_test(tc, test_parse_reply);
	tcase_add_test(tc, test_parse_hostile);
	tcase_add_test(tc, test_settings_parse);
	tcase_add_test(tc, test_undo);
	tcase_add_test(tc, test_apply_errors);
	tcase_add_test(tc, test_kernel_lo);
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
