// SPDX-License-Identifier: MIT
/*
 * Per-VF settings over rtnetlink. A VF's MAC, VLAN, spoof checking, trust,
 * rates and link state are attributes of its PF's link: RTM_SETLINK on the
 * PF with IFLA_VFINFO_LIST > IFLA_VF_INFO > IFLA_VF_* (each struct starts
 * with the VF number), and RTM_GETLINK with IFLA_EXT_MASK = RTEXT_FILTER_VF
 * reports them (Linux net/core/rtnetlink.c: do_setvfinfo(),
 * rtnl_fill_vfinfo()). The kernel hands each attribute to the PF driver's
 * ndo_set_vf_* hook and returns -EOPNOTSUPP when the driver has none, so
 * one request per setting tells exactly which one a driver refuses.
 *
 * Messages are built and parsed with libnl-3's message and attribute API
 * (nlmsg_*, nla_*) so each attribute is exactly what the kernel's
 * ifla_vf_policy expects: libnl-route's rtnl_link_build_change_request()
 * sends RTM_NEWLINK and bundles every VF attribute in one request, which
 * would hide which setting a driver refused. The unit tests parse what we
 * build and cross-check our parser against libnl-route's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "core/log.h"
#include "core/util.h"
#include "sriov/sriov_internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* ---- settings: names, parsing, checks ---- */

static const char *const key_names[SRIOV_KEY_COUNT] = {
	[SRIOV_KEY_MAC] = "mac",
	[SRIOV_KEY_VLAN] = "vlan",
	[SRIOV_KEY_SPOOFCHK] = "spoofchk",
	[SRIOV_KEY_TRUST] = "trust",
	[SRIOV_KEY_RATE] = "rate",
	[SRIOV_KEY_LINK] = "link",
};

/* What a driver that lacks the hook does not support. */
static const char *const key_what[SRIOV_KEY_COUNT] = {
	[SRIOV_KEY_MAC] = "setting VF MAC addresses",
	[SRIOV_KEY_VLAN] = "VF VLANs",
	[SRIOV_KEY_SPOOFCHK] = "spoof checking",
	[SRIOV_KEY_TRUST] = "trust",
	[SRIOV_KEY_RATE] = "VF rate limits",
	[SRIOV_KEY_LINK] = "VF link state",
};

const char *sriov_key_name(enum sriov_key key)
{
	return (unsigned int)key < SRIOV_KEY_COUNT ? key_names[key] : "?";
}

static int parse_u32(const char *val, unsigned long max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*val < '0' || *val > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_onoff(const char *val, bool *out)
{
	if (!strcmp(val, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(val, "off")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

/* The names iproute2 uses (ip link set ... vf N vlan V proto 802.1ad
 * state auto). */
static int parse_vlan_proto(const char *val, uint16_t *proto)
{
	if (!strcasecmp(val, "802.1Q")) {
		*proto = ETH_P_8021Q;
		return 0;
	}
	if (!strcasecmp(val, "802.1ad")) {
		*proto = ETH_P_8021AD;
		return 0;
	}
	return -EINVAL;
}

static const char *const link_names[] = {
	[IFLA_VF_LINK_STATE_AUTO] = "auto",
	[IFLA_VF_LINK_STATE_ENABLE] = "enable",
	[IFLA_VF_LINK_STATE_DISABLE] = "disable",
};

static int parse_link(const char *val, int *state)
{
	for (size_t i = 0; i < ARRAY_SIZE(link_names); i++) {
		if (!strcmp(val, link_names[i])) {
			*state = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sriov_link_state_name(int state)
{
	return state >= 0 && (size_t)state < ARRAY_SIZE(link_names) ?
		       link_names[state] : "?";
}

static int parse_mac(struct sriov_vf_settings *s, const char *val, char *err,
		     size_t errlen)
{
	if (mac_parse(val, s->mac)) {
		log_errf(err, errlen, "invalid MAC '%s': expected six hex "
			 "bytes such as 52:54:00:12:34:56", val);
		return -EINVAL;
	}
	/* I/G bit (IEEE 802 §8.2): a station address is never a group
	 * address; all zeros is the drivers' "no administrative MAC". */
	if (s->mac[0] & 1) {
		log_errf(err, errlen, "invalid MAC '%s': a multicast or "
			 "broadcast address cannot be a VF's address", val);
		return -EINVAL;
	}
	s->set |= SRIOV_SET(SRIOV_KEY_MAC);
	return 0;
}

static int parse_rate(struct sriov_vf_settings *s, bool max, const char *val,
		      char *err, size_t errlen)
{
	uint32_t v;

	if (parse_u32(val, UINT32_MAX, &v)) {
		log_errf(err, errlen, "invalid %s-rate '%s': expected Mbit/s "
			 "(0 = no limit)", max ? "max" : "min", val);
		return -EINVAL;
	}
	if (max) {
		s->max_rate = v;
		s->has_max_rate = true;
	} else {
		s->min_rate = v;
		s->has_min_rate = true;
	}
	s->set |= SRIOV_SET(SRIOV_KEY_RATE);
	return 0;
}

int sriov_settings_parse(struct sriov_vf_settings *s, const char *key,
			 const char *val, char *err, size_t errlen)
{
	uint32_t v;

	if (!strcmp(key, "mac"))
		return parse_mac(s, val, err, errlen);
	if (!strcmp(key, "vlan")) {
		/* 4095 is reserved (IEEE 802.1Q §9.6, Table 9-2). */
		if (parse_u32(val, 4094, &v)) {
			log_errf(err, errlen, "invalid VLAN '%s': expected "
				 "0-4094 (0 = untagged)", val);
			return -EINVAL;
		}
		s->vlan = (uint16_t)v;
		if (!s->vlan_proto)
			s->vlan_proto = ETH_P_8021Q;
		s->set |= SRIOV_SET(SRIOV_KEY_VLAN);
		return 0;
	}
	if (!strcmp(key, "qos")) {
		if (parse_u32(val, 7, &v)) {
			log_errf(err, errlen, "invalid qos '%s': expected an "
				 "802.1p priority 0-7", val);
			return -EINVAL;
		}
		s->qos = (uint8_t)v;
		s->has_qos = true;
		return 0;
	}
	if (!strcmp(key, "vlan-proto")) {
		if (parse_vlan_proto(val, &s->vlan_proto)) {
			log_errf(err, errlen, "invalid vlan-proto '%s': "
				 "expected 802.1Q or 802.1ad", val);
			return -EINVAL;
		}
		s->has_vlan_proto = true;
		return 0;
	}
	if (!strcmp(key, "spoofchk") || !strcmp(key, "trust")) {
		bool trust = key[0] == 't';

		if (parse_onoff(val, trust ? &s->trust : &s->spoofchk)) {
			log_errf(err, errlen, "invalid %s '%s': expected on "
				 "or off", key, val);
			return -EINVAL;
		}
		s->set |= SRIOV_SET(trust ? SRIOV_KEY_TRUST :
					    SRIOV_KEY_SPOOFCHK);
		return 0;
	}
	if (!strcmp(key, "max-rate") || !strcmp(key, "min-rate"))
		return parse_rate(s, key[1] == 'a', val, err, errlen);
	if (!strcmp(key, "link")) {
		if (parse_link(val, &s->link_state)) {
			log_errf(err, errlen, "invalid link '%s': expected "
				 "auto, enable or disable", val);
			return -EINVAL;
		}
		s->set |= SRIOV_SET(SRIOV_KEY_LINK);
		return 0;
	}
	return -ENOENT;
}

int sriov_settings_check(const struct sriov_vf_settings *s, char *err,
			 size_t errlen)
{
	bool vlan = s->set & SRIOV_SET(SRIOV_KEY_VLAN);

	if ((s->has_qos || s->has_vlan_proto) && !vlan) {
		log_errf(err, errlen, "%s needs vlan= (e.g. vlan=100,qos=3)",
			 s->has_qos ? "qos=" : "vlan-proto=");
		return -EINVAL;
	}
	if (s->has_min_rate && s->has_max_rate && s->max_rate &&
	    s->min_rate > s->max_rate) {
		log_errf(err, errlen, "min-rate %u is above max-rate %u",
			 s->min_rate, s->max_rate);
		return -EINVAL;
	}
	return 0;
}

int sriov_settings_parse_list(struct sriov_vf_settings *s, const char *list,
			      char *err, size_t errlen)
{
	char word[128], *eq;
	const char *p = list;
	int ret;

	while (*p) {
		size_t n = strcspn(p, " ,\t\n");

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(word)) {
			log_errf(err, errlen, "setting '%.20s...' too long", p);
			return -EINVAL;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		eq = strchr(word, '=');
		if (!eq) {
			log_errf(err, errlen, "'%s': expected key=value", word);
			return -EINVAL;
		}
		*eq = '\0';
		ret = sriov_settings_parse(s, word, eq + 1, err, errlen);
		if (ret == -ENOENT)
			log_errf(err, errlen, "unknown VF setting '%s' (mac, "
				 "vlan, qos, vlan-proto, spoofchk, trust, "
				 "max-rate, min-rate, link)", word);
		if (ret)
			return ret;
	}
	return sriov_settings_check(s, err, errlen);
}

void sriov_settings_format(const struct sriov_vf_settings *s, char *buf,
			   size_t len)
{
	char mac[SRIOV_MAC_STR_SIZE];
	size_t used = 0;

#define ADD(...)                                                           \
	do {                                                               \
		if (used < len)                                            \
			used += (size_t)snprintf(buf + used, len - used,  \
						 __VA_ARGS__);             \
	} while (0)
	if (len)
		buf[0] = '\0';
	if (s->set & SRIOV_SET(SRIOV_KEY_MAC)) {
		mac_format(s->mac, mac);
		ADD("%smac=%s", used ? " " : "", mac);
	}
	if (s->set & SRIOV_SET(SRIOV_KEY_VLAN)) {
		ADD("%svlan=%u qos=%u vlan-proto=%s", used ? " " : "",
		    s->vlan, s->qos, s->vlan_proto == ETH_P_8021AD ?
		    "802.1ad" : "802.1Q");
	}
	if (s->set & SRIOV_SET(SRIOV_KEY_SPOOFCHK))
		ADD("%sspoofchk=%s", used ? " " : "", s->spoofchk ? "on" : "off");
	if (s->set & SRIOV_SET(SRIOV_KEY_TRUST))
		ADD("%strust=%s", used ? " " : "", s->trust ? "on" : "off");
	if (s->set & SRIOV_SET(SRIOV_KEY_RATE)) {
		if (s->has_min_rate)
			ADD("%smin-rate=%u", used ? " " : "", s->min_rate);
		if (s->has_max_rate)
			ADD("%smax-rate=%u", used ? " " : "", s->max_rate);
	}
	if (s->set & SRIOV_SET(SRIOV_KEY_LINK))
		ADD("%slink=%s", used ? " " : "",
		    sriov_link_state_name(s->link_state));
#undef ADD
}

void sriov_settings_undo(const struct sriov_vf_settings *s,
			 const struct sriov_vf_config *cur,
			 struct sriov_vf_settings *undo)
{
	memset(undo, 0, sizeof(*undo));
	if (!cur->valid)
		return;
	if (s->set & SRIOV_SET(SRIOV_KEY_MAC)) {
		memcpy(undo->mac, cur->mac, 6);
		undo->set |= SRIOV_SET(SRIOV_KEY_MAC);
	}
	if (s->set & SRIOV_SET(SRIOV_KEY_VLAN)) {
		undo->vlan = cur->vlan;
		undo->qos = cur->qos;
		undo->vlan_proto = cur->vlan_proto ? cur->vlan_proto :
						     ETH_P_8021Q;
		undo->set |= SRIOV_SET(SRIOV_KEY_VLAN);
	}
	/* -1: the driver does not report it, so there is nothing to restore
	 * (and it most likely refused the change anyway). */
	if ((s->set & SRIOV_SET(SRIOV_KEY_SPOOFCHK)) && cur->spoofchk >= 0) {
		undo->spoofchk = cur->spoofchk;
		undo->set |= SRIOV_SET(SRIOV_KEY_SPOOFCHK);
	}
	if ((s->set & SRIOV_SET(SRIOV_KEY_TRUST)) && cur->trust >= 0) {
		undo->trust = cur->trust;
		undo->set |= SRIOV_SET(SRIOV_KEY_TRUST);
	}
	if (s->set & SRIOV_SET(SRIOV_KEY_RATE)) {
		undo->min_rate = cur->min_rate;
		undo->max_rate = cur->max_rate;
		undo->has_min_rate = undo->has_max_rate = true;
		undo->set |= SRIOV_SET(SRIOV_KEY_RATE);
	}
	if ((s->set & SRIOV_SET(SRIOV_KEY_LINK)) && cur->link_state >= 0) {
		undo->link_state = cur->link_state;
		undo->set |= SRIOV_SET(SRIOV_KEY_LINK);
	}
}

/* ---- building requests ---- */

static struct nl_msg *link_msg(int type, int flags, int ifindex)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (msg && nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* The attribute(s) of one key inside an open IFLA_VF_INFO nest. */
static int put_key(struct nl_msg *msg, uint32_t vf, enum sriov_key key,
		   const struct sriov_vf_settings *s)
{
	switch (key) {
	case SRIOV_KEY_MAC: {
		struct ifla_vf_mac m = { .vf = vf };

		memcpy(m.mac, s->mac, 6);
		return nla_put(msg, IFLA_VF_MAC, sizeof(m), &m);
	}
	case SRIOV_KEY_VLAN: {
		/* The list form carries the protocol (802.1ad for QinQ);
		 * the kernel takes one entry (MAX_VLAN_LIST_LEN). */
		struct ifla_vf_vlan_info vi = {
			.vf = vf,
			.vlan = s->vlan,
			.qos = s->qos,
			.vlan_proto = htons(s->vlan_proto ? s->vlan_proto :
						ETH_P_8021Q),
		};
		struct nlattr *list = nla_nest_start(msg, IFLA_VF_VLAN_LIST);

		if (!list || nla_put(msg, IFLA_VF_VLAN_INFO, sizeof(vi), &vi))
			return -NLE_NOMEM;
		return nla_nest_end(msg, list);
	}
	case SRIOV_KEY_SPOOFCHK: {
		struct ifla_vf_spoofchk v = { .vf = vf, .setting = s->spoofchk };

		return nla_put(msg, IFLA_VF_SPOOFCHK, sizeof(v), &v);
	}
	case SRIOV_KEY_TRUST: {
		struct ifla_vf_trust v = { .vf = vf, .setting = s->trust };

		return nla_put(msg, IFLA_VF_TRUST, sizeof(v), &v);
	}
	case SRIOV_KEY_RATE: {
		struct ifla_vf_rate v = {
			.vf = vf,
			.min_tx_rate = s->min_rate,
			.max_tx_rate = s->max_rate,
		};

		return nla_put(msg, IFLA_VF_RATE, sizeof(v), &v);
	}
	case SRIOV_KEY_LINK: {
		struct ifla_vf_link_state v = {
			.vf = vf,
			.link_state = (uint32_t)s->link_state,
		};

		return nla_put(msg, IFLA_VF_LINK_STATE, sizeof(v), &v);
	}
	default:
		return -NLE_INVAL;
	}
}

int sriov_nl_build_set(int ifindex, uint32_t vf, enum sriov_key key,
		       const struct sriov_vf_settings *s, struct nl_msg **out)
{
	struct nlattr *list, *info;
	struct nl_msg *msg;

	*out = NULL;
	if ((unsigned int)key >= SRIOV_KEY_COUNT || !(s->set & SRIOV_SET(key)))
		return -EINVAL;
	msg = link_msg(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
	if (!msg)
		return -ENOMEM;
	list = nla_nest_start(msg, IFLA_VFINFO_LIST);
	info = list ? nla_nest_start(msg, IFLA_VF_INFO) : NULL;
	if (!info || put_key(msg, vf, key, s) < 0 ||
	    nla_nest_end(msg, info) < 0 || nla_nest_end(msg, list) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	*out = msg;
	return 0;
}

int sriov_nl_build_get(int ifindex, struct nl_msg **out)
{
	struct nl_msg *msg = link_msg(RTM_GETLINK, NLM_F_REQUEST, ifindex);

	*out = NULL;
	if (!msg)
		return -ENOMEM;
	/* VF info is only dumped on request; skip the (large) statistics. */
	if (nla_put_u32(msg, IFLA_EXT_MASK,
			RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	*out = msg;
	return 0;
}

/* ---- parsing the answer ---- */

/* The attribute's payload when it is at least `size` bytes, else NULL. */
static const void *attr_data(struct nlattr *a, size_t size)
{
	return a && nla_len(a) >= (int)size ? nla_data(a) : NULL;
}

static void parse_vlan_list(struct nlattr *list, struct sriov_vf_config *c)
{
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, list, rem) {
		const struct ifla_vf_vlan_info *vi;

		if (nla_type(a) != IFLA_VF_VLAN_INFO)
			continue;
		vi = attr_data(a, sizeof(*vi));
		if (!vi)
			continue;
		c->vlan = (uint16_t)vi->vlan;
		c->qos = (uint8_t)vi->qos;
		c->vlan_proto = ntohs(vi->vlan_proto);
		return; /* one entry (MAX_VLAN_LIST_LEN) */
	}
}

/* One IFLA_VF_INFO nest into cfg[vf]; the VF number comes from the
 * mandatory IFLA_VF_MAC, and every struct must agree with it. */
static void parse_vf_info(struct nlattr *info, struct sriov_vf_config *cfg,
			  size_t max)
{
	struct nlattr *tb[IFLA_VF_MAX + 1];
	const struct ifla_vf_mac *mac;
	struct sriov_vf_config *c;

	if (nla_parse_nested(tb, IFLA_VF_MAX, info, NULL) < 0)
		return;
	mac = attr_data(tb[IFLA_VF_MAC], sizeof(*mac));
	if (!mac || mac->vf >= max)
		return;
	c = &cfg[mac->vf];
	memset(c, 0, sizeof(*c));
	c->valid = true;
	c->spoofchk = c->trust = c->link_state = -1;
	memcpy(c->mac, mac->mac, 6);
#define VF_ATTR(type, ptr)                                                   \
	((ptr = attr_data(tb[type], sizeof(*ptr))) != NULL &&                \
	 ptr->vf == mac->vf)
	{
		const struct ifla_vf_vlan *vlan;
		const struct ifla_vf_spoofchk *sc;
		const struct ifla_vf_trust *tr;
		const struct ifla_vf_rate *rate;
		const struct ifla_vf_link_state *ls;
		const struct ifla_vf_tx_rate *tx;

		if (VF_ATTR(IFLA_VF_VLAN, vlan)) {
			c->vlan = (uint16_t)vlan->vlan;
			c->qos = (uint8_t)vlan->qos;
			c->vlan_proto = ETH_P_8021Q;
		}
		if (tb[IFLA_VF_VLAN_LIST])
			parse_vlan_list(tb[IFLA_VF_VLAN_LIST], c);
		/* (u32)-1 is the kernel's "driver did not say". */
		if (VF_ATTR(IFLA_VF_SPOOFCHK, sc) && sc->setting <= 1)
			c->spoofchk = (int)sc->setting;
		if (VF_ATTR(IFLA_VF_TRUST, tr) && tr->setting <= 1)
			c->trust = (int)tr->setting;
		if (VF_ATTR(IFLA_VF_RATE, rate)) {
			c->min_rate = rate->min_tx_rate;
			c->max_rate = rate->max_tx_rate;
		} else if (VF_ATTR(IFLA_VF_TX_RATE, tx)) {
			c->max_rate = tx->rate;
		}
		if (VF_ATTR(IFLA_VF_LINK_STATE, ls) &&
		    ls->link_state <= IFLA_VF_LINK_STATE_DISABLE)
			c->link_state = (int)ls->link_state;
	}
#undef VF_ATTR
}

int sriov_nl_parse_vfs(const struct nlmsghdr *nlh, struct sriov_vf_config *cfg,
		       size_t max, unsigned int *nvfs)
{
	struct nlattr *tb[IFLA_MAX + 1], *a;
	int rem;

	*nvfs = 0;
	for (size_t i = 0; i < max; i++)
		cfg[i].valid = false;
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(struct ifinfomsg), tb,
			IFLA_MAX, NULL) < 0)
		return -EBADMSG;
	if (attr_data(tb[IFLA_NUM_VF], sizeof(uint32_t)))
		*nvfs = nla_get_u32(tb[IFLA_NUM_VF]);
	if (!tb[IFLA_VFINFO_LIST])
		return 0;
	nla_for_each_nested(a, tb[IFLA_VFINFO_LIST], rem) {
		if (nla_type(a) == IFLA_VF_INFO)
			parse_vf_info(a, cfg, max);
	}
	return 0;
}

/* ---- the kernel transport ---- */

struct nl_wait {
	bool done;
	int error;           /* -errno from an NLMSG_ERROR */
	struct nl_msg **reply;
	char *ack_msg;
	size_t ack_len;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nl_wait *w = arg;

	if (w->reply && !*w->reply) {
		*w->reply = nlmsg_convert(nlmsg_hdr(msg));
		if (!*w->reply)
			w->error = -ENOMEM;
	}
	w->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct nl_wait *w = arg;

	w->done = true;
	return NL_STOP;
}

/*
 * The extended ack's message (NETLINK_EXT_ACK, Linux 4.12+): TLVs after
 * the (capped, NETLINK_CAP_ACK) copy of our request header.
 */
static void ext_ack_msg(const struct nlmsgerr *e, char *buf, size_t len)
{
	const struct nlmsghdr *h =
		(const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	if (!buf || !len || !(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (off >= h->nlmsg_len ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)h + NLMSG_ALIGN(off)),
		      (int)(h->nlmsg_len - NLMSG_ALIGN(off)), NULL) < 0 ||
	    !tb[NLMSGERR_ATTR_MSG])
		return;
	snprintf(buf, len, "%.*s", nla_len(tb[NLMSGERR_ATTR_MSG]),
		 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	buf[strcspn(buf, "\n")] = '\0';
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nl_wait *w = arg;

	w->error = e->error < 0 ? e->error : -EPROTO;
	ext_ack_msg(e, w->ack_msg, w->ack_len);
	w->done = true;
	return NL_STOP;
}

static int kernel_transact(const struct sriov_env *env, struct nl_msg *req,
			   struct nl_msg **reply, char *ack_msg, size_t len)
{
	struct nl_wait w = { .reply = reply, .ack_msg = ack_msg,
			     .ack_len = len };
	struct timeval tv = { .tv_sec = 5 };
	struct nl_sock *sk;
	struct nl_cb *cb;
	int one = 1, fd, ret;

	if (reply)
		*reply = NULL;
	if (ack_msg && len)
		ack_msg[0] = '\0';
	sk = nl_socket_alloc();
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!sk || !cb) {
		ret = -ENOMEM;
		goto out;
	}
	if (nl_connect(sk, NETLINK_ROUTE) < 0) {
		ret = -errno ? -errno : -EIO;
		goto out;
	}
	fd = nl_socket_get_fd(sk);
	/* Best effort: older kernels simply send no ext ack. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	/* A kernel never leaves a request unanswered, but never hang. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl_socket_enable_msg_peek(sk); /* a PF with 256 VFs answers big */
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &w);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &w);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &w);
	if (nl_send_auto(sk, req) < 0) {
		ret = -EIO;
		goto out;
	}
	while (!w.done) {
		ret = nl_recvmsgs(sk, cb);
		if (ret < 0 && !w.done) {
			ret = ret == -NLE_AGAIN ? -ETIMEDOUT : -EIO;
			goto out;
		}
	}
	ret = w.error;
out:
	if (ret && reply && *reply) {
		nlmsg_free(*reply);
		*reply = NULL;
	}
	nl_cb_put(cb);
	nl_socket_free(sk);
	return ret;
}

const struct sriov_nl_ops sriov_nl_kernel_ops = {
	.transact = kernel_transact,
};

/* ---- query and apply ---- */

int sriov_nl_query(const struct sriov_env *env, int ifindex,
		   struct sriov_vf_config *cfg, size_t max, unsigned int *nvfs,
		   char *err, size_t errlen)
{
	struct nl_msg *req, *reply = NULL;
	char ack[256];
	int ret;

	ret = sriov_nl_build_get(ifindex, &req);
	if (ret)
		return ret;
	ret = env->nl->transact(env, req, &reply, ack, sizeof(ack));
	nlmsg_free(req);
	if (ret) {
		log_errf(err, errlen, "RTM_GETLINK on ifindex %d: %s%s%s",
			 ifindex, strerror(-ret), ack[0] ? ": " : "", ack);
		return ret;
	}
	ret = reply ? sriov_nl_parse_vfs(nlmsg_hdr(reply), cfg, max, nvfs)
		    : -EBADMSG;
	if (ret)
		log_errf(err, errlen, "RTM_GETLINK on ifindex %d: malformed "
			 "answer", ifindex);
	nlmsg_free(reply);
	return ret;
}

/* The driver's refusal, as one sentence naming the setting. */
static void apply_error(int ret, enum sriov_key key,
			const struct sriov_vf_settings *s, const char *driver,
			uint32_t vf, const char *ack, char *err, size_t errlen)
{
	const char *drv = driver && *driver ? driver : "(unknown)";
	struct sriov_vf_settings one;
	char what[96];

	one = *s;
	one.set = SRIOV_SET(key);
	one.has_min_rate = one.has_max_rate = true;
	sriov_settings_format(&one, what, sizeof(what));
	switch (ret) {
	case -EOPNOTSUPP:
		log_errf(err, errlen, "PF driver %s does not support %s",
			 drv, key_what[key]);
		break;
	case -EPROTONOSUPPORT:
		log_errf(err, errlen, "PF driver %s does not support "
			 "802.1ad (QinQ) VF VLANs", drv);
		break;
	case -EPERM:
	case -EACCES:
		log_errf(err, errlen, "changing VF settings needs root "
			 "(CAP_NET_ADMIN)");
		break;
	case -ENODEV:
		log_errf(err, errlen, "the PF's network interface is gone");
		break;
	default:
		log_errf(err, errlen, "PF driver %s rejected %s for VF %u: "
			 "%s%s%s", drv, what, vf, strerror(-ret),
			 ack[0] ? ": " : "", ack);
		break;
	}
}

/* A rate request carries both bounds: complete the one not given from
 * the VF's current values. */
static int rate_complete(const struct sriov_env *env, int ifindex,
			 uint32_t vf, struct sriov_vf_settings *s, char *err,
			 size_t errlen)
{
	struct sriov_vf_config *cfg;
	unsigned int nvfs;
	int ret;

	if (s->has_min_rate && s->has_max_rate)
		return 0;
	if (vf >= SRIOV_NL_MAX_VFS)
		return -ERANGE;
	cfg = calloc(SRIOV_NL_MAX_VFS, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	ret = sriov_nl_query(env, ifindex, cfg, SRIOV_NL_MAX_VFS, &nvfs, err,
			     errlen);
	if (!ret && cfg[vf].valid) {
		if (!s->has_min_rate)
			s->min_rate = cfg[vf].min_rate;
		if (!s->has_max_rate)
			s->max_rate = cfg[vf].max_rate;
	}
	free(cfg);
	return ret;
}

int sriov_nl_apply(const struct sriov_env *env, int ifindex,
		   const char *driver, uint32_t vf,
		   const struct sriov_vf_settings *in, char *err, size_t errlen)
{
	struct sriov_vf_settings s = *in;
	struct nl_msg *req;
	char ack[256];
	int ret;

	if (s.set & SRIOV_SET(SRIOV_KEY_RATE)) {
		ret = rate_complete(env, ifindex, vf, &s, err, errlen);
		if (ret)
			return ret;
	}
	for (unsigned int k = 0; k < SRIOV_KEY_COUNT; k++) {
		if (!(s.set & SRIOV_SET(k)))
			continue;
		ret = sriov_nl_build_set(ifindex, vf, k, &s, &req);
		if (ret) {
			log_errf(err, errlen, "out of memory");
			return ret;
		}
		ret = env->nl->transact(env, req, NULL, ack, sizeof(ack));
		nlmsg_free(req);
		if (ret) {
			apply_error(ret, k, &s, driver, vf, ack, err, errlen);
			return ret;
		}
	}
	return 0;
}
