/* SPDX-License-Identifier: MIT */
/*
 * NIC selection for the network tests: the table of drivers behind
 * struct kit_nic, and the command-line keys every network test shares.
 */
#include "guest/nic.h"

static struct kit_vnet kit_vnet_dev;
static struct kit_e1000 kit_e1000_dev;

static int open_virtio(const struct kit_nic_cfg *cfg, struct kit_nic **out,
		       const char **reason)
{
	if (kit_vnet_open(&kit_vnet_dev, cfg, reason) < 0)
		return -1;
	*out = &kit_vnet_dev.nic;
	return 0;
}

static int open_e1000(const struct kit_nic_cfg *cfg, struct kit_nic **out,
		      const char **reason)
{
	if (kit_e1000_open(&kit_e1000_dev, cfg, reason) < 0)
		return -1;
	*out = &kit_e1000_dev.nic;
	return 0;
}

static const struct {
	const char *name;
	int (*open)(const struct kit_nic_cfg *cfg, struct kit_nic **out,
		    const char **reason);
} kit_nics[] = {
	{ "virtio", open_virtio },
	{ "e1000", open_e1000 },
};

int kit_nic_open(const char *kind, size_t kind_len,
		 const struct kit_nic_cfg *cfg, struct kit_nic **out,
		 const char **reason)
{
	for (size_t i = 0; i < KIT_ARRAY_SIZE(kit_nics); i++)
		if (kit_strlen(kit_nics[i].name) == kind_len &&
		    !memcmp(kit_nics[i].name, kind, kind_len))
			return kit_nics[i].open(cfg, out, reason);
	*reason = "bad-nic";
	return -1;
}

static bool cmdline_bool(const char *key, bool def, bool *bad)
{
	uint64_t v = kit_cmdline_u64(key, def, bad);

	if (v > 1)
		*bad = true;
	return v == 1;
}

int kit_nic_parse(struct kit_nic_cfg *cfg, const char **kind,
		  size_t *kind_len)
{
	static const char *const rings[] = { "split", "packed", NULL };
	bool bad = false;
	uint64_t qsize, rx_buf, tx_sg;

	memset(cfg, 0, sizeof(*cfg));
	*kind = kit_cmdline_get("nic", kind_len);
	if (!*kind) {
		*kind = "virtio";
		*kind_len = 6;
	}
	cfg->packed = kit_cmdline_choice("ring", rings, 0, &bad) == 1;
	cfg->event_idx = cmdline_bool("event_idx", true, &bad);
	cfg->indirect = cmdline_bool("indirect", false, &bad);
	cfg->mrg_rxbuf = cmdline_bool("mrg_rxbuf", false, &bad);
	qsize = kit_cmdline_u64("qsize", 0, &bad);
	rx_buf = kit_cmdline_u64("rx_buf", KIT_NIC_BUF, &bad);
	tx_sg = kit_cmdline_u64("tx_sg", 1, &bad);
	if (bad || qsize > 32768 || rx_buf > KIT_NIC_BUF || tx_sg < 1 ||
	    tx_sg > 2)
		return -1;
	cfg->qsize = (uint16_t)qsize;
	cfg->rx_buf = (uint16_t)rx_buf;
	cfg->tx_sg = (uint8_t)tx_sg;
	return 0;
}
