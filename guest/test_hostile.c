/* SPDX-License-Identifier: MIT */
/*
 * Hostile-guest tests: feed a device a malformed ring, check the VMM copes,
 * reset the device and prove it works again with one good loopback frame.
 *
 * virtio-hostile kind=K [ring=split|packed]: build the malformed buffer,
 * kick, wait (timeout_ms, default 2000) for DEVICE_NEEDS_RESET (virtio 1.2
 * §2.1.2: the device "has experienced an error from which it can't
 * re-cover"), then reset (status 0) and re-initialise. Pass: needs_reset=1
 * and the round trip after the reset works. require_needs_reset=0 drops
 * the first condition for devices that tolerate a kind (QEMU reads
 * non-RAM addresses through a bounce buffer and treats a nested indirect
 * descriptor as a plain buffer); needs_reset= still reports what happened.
 *
 * e1000-hostile kind=K: program nonsense (ring length, tail beyond the
 * ring, buffers outside RAM), check that the device still answers register
 * reads, then CTRL.RST, re-initialise and do one round trip. The 82540EM
 * has no error state to report, so "the VMM stayed up and the device works
 * after a reset" is the pass condition.
 */
#include "guest/nic.h"

/* Far above any test VM's RAM and below every BAR window. */
#define HOSTILE_OOB_ADDR (1ULL << 40)
#define HOSTILE_DEFAULT_TIMEOUT_MS 2000
#define HOSTILE_ROUNDTRIP_MS 3000
#define HOSTILE_FRAME 128

struct vhostile {
	const char *name;
	bool split, packed;     /* ring layouts the kind applies to */
	bool needs_indirect;
	/* Packed rings: the spec gives the device no duty to refuse it, so
	 * NEEDS_RESET is reported but not required (recovery still is). */
	bool packed_optional;
	void (*build)(struct kit_vnet *vn);
};

static uint64_t tx_slot(const struct kit_vnet *vn, unsigned int i)
{
	return (uint64_t)(uintptr_t)vn->txbufs + (uint64_t)i * KIT_NIC_BUF;
}

/* A buffer that would be fine on its own: header + minimum frame. */
static struct kit_vring_desc good_desc(const struct kit_vnet *vn,
				       unsigned int i, uint16_t flags,
				       uint16_t next)
{
	return (struct kit_vring_desc){ tx_slot(vn, i),
					KIT_VNET_HDR_LEN + KIT_NIC_MIN_FRAME,
					flags, next };
}

static void post_one(struct kit_vnet *vn, struct kit_vring_desc d)
{
	struct kit_vq *q = &vn->txq;

	if (q->packed) {
		struct kit_vring_pdesc p = { d.addr, d.len, 0, d.flags };

		kit_vq_raw_packed(q, &p, 1);
	} else {
		kit_vq_raw_split(q, &d, 0, 1, 0);
	}
}

/* Split: 0 -> 1 -> 0. Packed: every descriptor of the ring chained, so
 * the chain wraps onto its own head (longer than the ring, §2.8.17). */
static void build_loop(struct kit_vnet *vn)
{
	struct kit_vq *q = &vn->txq;

	if (!q->packed) {
		struct kit_vring_desc d[2] = {
			good_desc(vn, 0, KIT_VRING_DESC_F_NEXT, 1),
			good_desc(vn, 1, KIT_VRING_DESC_F_NEXT, 0),
		};

		kit_vq_raw_split(q, d, 0, 2, 0);
		return;
	}
	struct kit_vring_pdesc *p = kit_alloc(sizeof(*p) * q->size, 64);

	if (!p)
		return;
	for (uint16_t i = 0; i < q->size; i++)
		p[i] = (struct kit_vring_pdesc){ tx_slot(vn, i % 2), 16, 0,
						 KIT_VRING_DESC_F_NEXT };
	kit_vq_raw_packed(q, p, q->size);
}

static void build_oob(struct kit_vnet *vn)
{
	struct kit_vring_desc d = good_desc(vn, 0, 0, 0);

	d.addr = HOSTILE_OOB_ADDR;
	post_one(vn, d);
}

/* Split only: an avail entry naming a descriptor past the table. */
static void build_bad_index(struct kit_vnet *vn)
{
	struct kit_vring_desc d = good_desc(vn, 0, 0, 0);

	kit_vq_raw_split(&vn->txq, &d, 0, 1, (uint16_t)(vn->txq.size + 3));
}

/* Entry i of an indirect table, in the ring's layout (§2.8.19 for packed). */
static void table_entry(const struct kit_vq *q, struct kit_vring_desc *t,
			unsigned int i, struct kit_vring_desc d)
{
	if (q->packed)
		*(struct kit_vring_pdesc *)&t[i] =
			(struct kit_vring_pdesc){ d.addr, d.len, 0, d.flags };
	else
		t[i] = d;
}

/* An indirect table whose entry is itself an indirect descriptor
 * (§2.7.5.3.1: "MUST NOT set ... INDIRECT within an indirect descriptor"). */
static void build_indirect_nested(struct kit_vnet *vn)
{
	struct kit_vring_desc *outer = vn->txq.itables;
	struct kit_vring_desc *inner = outer + KIT_VQ_MAX_SG;

	table_entry(&vn->txq, inner, 0, good_desc(vn, 0, 0, 0));
	table_entry(&vn->txq, outer, 0,
		    (struct kit_vring_desc){ (uint64_t)(uintptr_t)inner, 16,
					     KIT_VRING_DESC_F_INDIRECT, 0 });
	post_one(vn, (struct kit_vring_desc){ (uint64_t)(uintptr_t)outer, 16,
					      KIT_VRING_DESC_F_INDIRECT, 0 });
}

/* An indirect table length that is not a whole number of descriptors. */
static void build_indirect_len(struct kit_vnet *vn)
{
	struct kit_vring_desc *t = vn->txq.itables;

	table_entry(&vn->txq, t, 0, good_desc(vn, 0, 0, 0));
	post_one(vn, (struct kit_vring_desc){ (uint64_t)(uintptr_t)t, 20,
					      KIT_VRING_DESC_F_INDIRECT, 0 });
}

/* A TX buffer with nothing for the device to read: no header (§5.1.6.2). */
static void build_tx_writeonly(struct kit_vnet *vn)
{
	post_one(vn, good_desc(vn, 0, KIT_VRING_DESC_F_WRITE, 0));
}

/*
 * An RX buffer the device may not write: clear WRITE on the first posted
 * RX descriptor, then send a good frame so the device has to use it.
 */
static void build_rx_readonly(struct kit_vnet *vn)
{
	struct kit_nic *n = &vn->nic;
	uint8_t *f;

	if (vn->rxq.packed)
		vn->rxq.pdesc[0].flags &= (uint16_t)~KIT_VRING_DESC_F_WRITE;
	else
		vn->rxq.desc[0].flags &= (uint16_t)~KIT_VRING_DESC_F_WRITE;
	f = n->ops->tx_buf(n);
	if (!f)
		return;
	memset(f, 0xff, 6);
	memcpy(f + 6, n->mac, 6);
	memset(f + 12, 0, KIT_NIC_MIN_FRAME - 12);
	n->ops->tx_post(n, KIT_NIC_MIN_FRAME);
}

/*
 * indirect-nested on a packed ring: §2.8.19 only says the driver MUST NOT
 * set flags other than WRITE inside an indirect table; a device may treat
 * the entry as a plain buffer (iovmm and QEMU both do).
 */
static const struct vhostile vhostile_kinds[] = {
	{ "loop", true, true, false, false, build_loop },
	{ "oob", true, true, false, false, build_oob },
	{ "bad-index", true, false, false, false, build_bad_index },
	{ "indirect-nested", true, true, true, true, build_indirect_nested },
	{ "indirect-len", true, true, true, false, build_indirect_len },
	{ "tx-writeonly", true, true, false, false, build_tx_writeonly },
	{ "rx-readonly", true, true, false, false, build_rx_readonly },
};

static const struct vhostile *vhostile_find(void)
{
	size_t len;
	const char *k = kit_cmdline_get("kind", &len);

	for (size_t i = 0; k && i < KIT_ARRAY_SIZE(vhostile_kinds); i++)
		if (kit_strlen(vhostile_kinds[i].name) == len &&
		    !memcmp(vhostile_kinds[i].name, k, len))
			return &vhostile_kinds[i];
	return NULL;
}

/* Reset, re-initialise from scratch and do one good round trip. */
static int recover(struct kit_nic *(*reopen)(const struct kit_nic_cfg *,
					     const char **),
		   const struct kit_nic_cfg *cfg, struct kit_result *r)
{
	const char *reason;
	struct kit_nic *n = reopen(cfg, &reason);

	if (!n) {
		kit_res_add(r, "recovered=0 reopen=%s", reason);
		return -1;
	}
	if (kit_net_roundtrip(n, HOSTILE_FRAME, HOSTILE_ROUNDTRIP_MS, true,
			      &reason) < 0) {
		kit_res_add(r, "recovered=0 roundtrip=%s", reason);
		n->ops->close(n);
		return -1;
	}
	kit_res_add(r, "recovered=1");
	n->ops->close(n);
	return 0;
}

static struct kit_vnet hostile_vnet;

static struct kit_nic *reopen_vnet(const struct kit_nic_cfg *cfg,
				   const char **reason)
{
	/* kit_vnet_open resets the device first (status 0, §2.4). */
	if (kit_vnet_open(&hostile_vnet, cfg, reason) < 0)
		return NULL;
	return &hostile_vnet.nic;
}

int kit_test_virtio_hostile(struct kit_result *r)
{
	const struct vhostile *k = vhostile_find();
	struct kit_nic_cfg cfg;
	const char *kind, *reason;
	size_t kind_len;
	bool bad = kit_nic_parse(&cfg, &kind, &kind_len) < 0, seen;
	uint64_t ms = kit_cmdline_u64("timeout_ms", HOSTILE_DEFAULT_TIMEOUT_MS,
				      &bad);
	uint64_t require = kit_cmdline_u64("require_needs_reset", 1, &bad);

	if (bad || !k || kind_len != 6 || memcmp(kind, "virtio", 6) ||
	    ms == 0 || ms > 600000 || require > 1)
		return kit_fail(r, "bad-param");
	kit_res_add(r, "kind=%s ring=%s", k->name,
		    cfg.packed ? "packed" : "split");
	if (cfg.packed ? !k->packed : !k->split)
		return kit_fail(r, "kind-not-applicable");
	cfg.indirect = cfg.indirect || k->needs_indirect;
	if (kit_vnet_open(&hostile_vnet, &cfg, &reason) < 0)
		return kit_fail(r, reason);
	k->build(&hostile_vnet);
	kit_vq_kick(&hostile_vnet.txq, true);
	seen = kit_virtio_wait_status(&hostile_vnet.v,
				      KIT_VIRTIO_S_NEEDS_RESET, ms);
	kit_res_add(r, "needs_reset=%u status=0x%x", seen ? 1 : 0,
		    kit_virtio_status(&hostile_vnet.v));
	if (kit_virtio_reset(&hostile_vnet.v) < 0)
		return kit_fail(r, "reset-timeout");
	if (recover(reopen_vnet, &cfg, r) < 0)
		return kit_fail(r, "not-recovered");
	if (!seen && require && !(cfg.packed && k->packed_optional))
		return kit_fail(r, "no-needs-reset");
	return 0;
}

/* ---- e1000 ---- */

static struct kit_e1000 hostile_e1000;

static struct kit_nic *reopen_e1000(const struct kit_nic_cfg *cfg,
				    const char **reason)
{
	/* kit_e1000_open starts with CTRL.RST (8254x SDM §14.5). */
	if (kit_e1000_open(&hostile_e1000, cfg, reason) < 0)
		return NULL;
	return &hostile_e1000.nic;
}

/* The device model still answers: STATUS reads back, not all-ones. */
static bool e1000_alive(const struct kit_e1000 *e)
{
	return kit_e1000_read(e, KIT_E1000_STATUS) != UINT32_MAX;
}

/*
 * Ring lengths and tails a driver must never program: an empty ring with a
 * tail, the largest ring (65528 descriptors) running off the end of RAM,
 * and a tail beyond a small ring. Each must cost the VMM bounded work.
 */
static void e1000_bad_tdlen(struct kit_e1000 *e)
{
	uint64_t top = 0;

	for (unsigned int i = 0; i < kit_plat.memmap_entries; i++) {
		const struct kit_hvm_memmap_entry *m = &kit_plat.memmap[i];

		if (m->type == 1 && m->addr + m->size > top &&
		    m->addr + m->size <= 0xc0000000ULL)
			top = m->addr + m->size;
	}
	kit_e1000_write(e, KIT_E1000_TDLEN, 0);
	kit_e1000_write(e, KIT_E1000_TDT, 5);
	kit_e1000_write(e, KIT_E1000_TDBAL, (uint32_t)(top - 4096));
	kit_e1000_write(e, KIT_E1000_TDBAH, 0);
	kit_e1000_write(e, KIT_E1000_TDLEN, 0xfff80);
	kit_e1000_write(e, KIT_E1000_TDH, 0);
	kit_e1000_write(e, KIT_E1000_TDT, 0xfff0);
	kit_e1000_write(e, KIT_E1000_TDLEN, 128);
	kit_e1000_write(e, KIT_E1000_TDT, 0xffff);
	kit_e1000_write(e, KIT_E1000_TDLEN, 100); /* not a multiple of 128 */
	kit_e1000_write(e, KIT_E1000_TDT, 3);
}

/* A TX buffer and an RX buffer outside guest RAM, then a good frame that
 * has to land in the bad RX buffer. */
static void e1000_oob_buffer(struct kit_e1000 *e)
{
	struct kit_nic *n = &e->nic;
	uint8_t *f = n->ops->tx_buf(n);
	volatile struct kit_e1000_txd *txd = &e->txr[e->tx_tail];

	if (!f)
		return;
	memset(f, 0, KIT_NIC_MAX_FRAME);
	n->ops->tx_post(n, KIT_NIC_MAX_FRAME);
	txd->addr = HOSTILE_OOB_ADDR;
	e->rxr[e->rx_next].addr = HOSTILE_OOB_ADDR;
	f = n->ops->tx_buf(n);
	if (f) {
		memset(f, 0xff, 6);
		memcpy(f + 6, n->mac, 6);
		memset(f + 12, 0, KIT_NIC_MIN_FRAME - 12);
		n->ops->tx_post(n, KIT_NIC_MIN_FRAME);
	}
	n->ops->tx_flush(n);
}

static const struct {
	const char *name;
	void (*build)(struct kit_e1000 *e);
} e1000_kinds[] = {
	{ "bad-tdlen", e1000_bad_tdlen },
	{ "oob-buffer", e1000_oob_buffer },
};

int kit_test_e1000_hostile(struct kit_result *r)
{
	struct kit_nic_cfg cfg = { .qsize = 0 };
	size_t len, i;
	const char *k = kit_cmdline_get("kind", &len), *reason;
	bool alive;

	for (i = 0; k && i < KIT_ARRAY_SIZE(e1000_kinds); i++)
		if (kit_strlen(e1000_kinds[i].name) == len &&
		    !memcmp(e1000_kinds[i].name, k, len))
			break;
	if (!k || i == KIT_ARRAY_SIZE(e1000_kinds))
		return kit_fail(r, "bad-param");
	kit_res_add(r, "kind=%s", e1000_kinds[i].name);
	if (kit_e1000_open(&hostile_e1000, &cfg, &reason) < 0)
		return kit_fail(r, reason);
	e1000_kinds[i].build(&hostile_e1000);
	/* Give an asynchronous device model time to chew on it. */
	kit_delay_us(100000);
	alive = e1000_alive(&hostile_e1000);
	kit_res_add(r, "alive=%u tdh=%u", alive ? 1 : 0,
		    kit_e1000_read(&hostile_e1000, KIT_E1000_TDH));
	if (!alive)
		return kit_fail(r, "device-dead");
	if (recover(reopen_e1000, &cfg, r) < 0)
		return kit_fail(r, "not-recovered");
	return 0;
}
