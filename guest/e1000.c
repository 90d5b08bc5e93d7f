/* SPDX-License-Identifier: MIT */
/*
 * e1000 (Intel 82540EM, 8086:100e) driver, poll mode, from the PCI/PCI-X
 * Family of Gigabit Ethernet Controllers Software Developer's Manual
 * (8254x SDM): reset (§14.5), MAC from the EEPROM through EERD (§13.4.4),
 * legacy TX descriptors (§3.3.3) and RX descriptors (§3.2.3), no
 * interrupts (IMC all). Every register access is an MMIO exit, so the
 * tail registers are written once per batch: TDT in tx_flush, RDT in
 * rx_flush. Completion is seen through the DD bits the device writes back
 * (RS on every TX descriptor), never by reading TDH/RDH.
 */
#include "guest/nic.h"

#define E1000_VENDOR 0x8086
#define E1000_DEVICE 0x100e
#define E1000_MIN_BAR 0x6000

#define E1000_EERD 0x0014
#define E1000_ICR 0x00c0
#define E1000_IMC 0x00d8
#define E1000_RCTL 0x0100
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_MTA 0x5200
#define E1000_RAL0 0x5400
#define E1000_RAH0 0x5404

#define CTRL_ASDE (1u << 5)
#define CTRL_SLU (1u << 6)
#define CTRL_RST (1u << 26)
/* 82540EM EERD layout (§13.4.4): START bit 0, DONE bit 4, address 15:8. */
#define EERD_START 1u
#define EERD_DONE (1u << 4)
#define EERD_ADDR_SHIFT 8
#define RCTL_EN (1u << 1)
#define RCTL_BAM (1u << 15)
#define RCTL_SECRC (1u << 26) /* strip the FCS: frames come back as sent */
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define TCTL_CT (0x0fu << 4)
#define TCTL_COLD (0x40u << 12) /* full duplex (§13.4.33) */
#define TIPG_82540 0x0060200au /* §13.4.34 recommended copper values */
#define RAH_AV (1u << 31)

#define TXD_CMD_EOP 0x01
#define TXD_CMD_IFCS 0x02
#define TXD_CMD_RS 0x08
#define TXD_STA_DD 0x01
#define RXD_STA_DD 0x01
#define RXD_STA_EOP 0x02

#define E1000_DEFAULT_RING 256
#define E1000_MAX_RING 4096
#define E1000_RESET_MS 100
#define E1000_EERD_MS 100

static struct kit_e1000 *to_e1000(struct kit_nic *n)
{
	return (struct kit_e1000 *)n; /* nic is the first member */
}

uint32_t kit_e1000_read(const struct kit_e1000 *e, unsigned int reg)
{
	return kit_mmio_read32(e->regs + reg);
}

void kit_e1000_write(const struct kit_e1000 *e, unsigned int reg, uint32_t v)
{
	kit_mmio_write32(e->regs + reg, v);
}

static uint8_t *e1000_tx_buf(struct kit_nic *n)
{
	struct kit_e1000 *e = to_e1000(n);
	uint16_t next = (uint16_t)((e->tx_tail + 1) % e->ntx);

	/* TDT == TDH means empty, so one descriptor always stays unused. */
	if (next == e->tx_clean)
		return NULL;
	return e->txbufs + (uint64_t)e->tx_tail * KIT_NIC_BUF;
}

static void e1000_tx_post(struct kit_nic *n, uint32_t len)
{
	struct kit_e1000 *e = to_e1000(n);
	volatile struct kit_e1000_txd *d = &e->txr[e->tx_tail];

	if (len > KIT_NIC_MAX_FRAME)
		return;
	d->addr = (uint64_t)(uintptr_t)e->txbufs +
		  (uint64_t)e->tx_tail * KIT_NIC_BUF;
	d->length = (uint16_t)len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
	e->tx_tail = (uint16_t)((e->tx_tail + 1) % e->ntx);
	e->tx_pending = true;
}

static void e1000_tx_flush(struct kit_nic *n)
{
	struct kit_e1000 *e = to_e1000(n);

	if (!e->tx_pending)
		return;
	/* Descriptors are in memory before the doorbell (MMIO is ordered
	 * after earlier stores on x86). */
	kit_wmb();
	kit_e1000_write(e, KIT_E1000_TDT, e->tx_tail);
	e->tx_pending = false;
	n->doorbells++;
}

static unsigned int e1000_tx_reclaim(struct kit_nic *n)
{
	struct kit_e1000 *e = to_e1000(n);
	unsigned int done = 0;

	while (e->tx_clean != e->tx_tail &&
	       (e->txr[e->tx_clean].status & TXD_STA_DD)) {
		e->txr[e->tx_clean].status = 0;
		e->tx_clean = (uint16_t)((e->tx_clean + 1) % e->ntx);
		done++;
	}
	return done;
}

static void e1000_rx_done(struct kit_nic *n)
{
	struct kit_e1000 *e = to_e1000(n);

	e->rxr[e->rx_next].status = 0;
	e->rx_next = (uint16_t)((e->rx_next + 1) % e->nrx);
	e->rx_pending = true;
}

static const uint8_t *e1000_rx(struct kit_nic *n, uint32_t *len)
{
	struct kit_e1000 *e = to_e1000(n);
	volatile struct kit_e1000_rxd *d;

	for (;;) {
		d = &e->rxr[e->rx_next];
		if (!(d->status & RXD_STA_DD))
			return NULL;
		kit_rmb();
		/* 2 KiB buffers hold any 1514-byte frame: a frame without EOP,
		 * with errors or oversized is the device's fault. */
		if ((d->status & RXD_STA_EOP) && !d->errors &&
		    d->length <= KIT_NIC_BUF)
			break;
		n->rx_errors++;
		e1000_rx_done(n);
	}
	*len = d->length;
	return e->rxbufs + (uint64_t)e->rx_next * KIT_NIC_BUF;
}

static void e1000_rx_flush(struct kit_nic *n)
{
	struct kit_e1000 *e = to_e1000(n);

	if (!e->rx_pending)
		return;
	kit_wmb();
	/* The descriptor before rx_next is the one software holds back:
	 * the device owns RDH..RDT-1 (§3.2.6). */
	kit_e1000_write(e, KIT_E1000_RDT,
			(uint32_t)((e->rx_next + e->nrx - 1) % e->nrx));
	e->rx_pending = false;
	n->doorbells++;
}

int kit_e1000_reset(struct kit_e1000 *e)
{
	uint64_t t0, limit = kit_ms_to_cycles(E1000_RESET_MS);

	kit_e1000_write(e, E1000_IMC, UINT32_MAX);
	kit_e1000_write(e, KIT_E1000_CTRL,
			kit_e1000_read(e, KIT_E1000_CTRL) | CTRL_RST);
	/* §14.5: wait at least 1 us before polling for the self-clearing
	 * RST bit. */
	kit_delay_us(10);
	t0 = kit_rdtsc();
	while (kit_e1000_read(e, KIT_E1000_CTRL) & CTRL_RST) {
		if (kit_rdtsc() - t0 > limit)
			return -1;
		kit_pause();
	}
	kit_e1000_write(e, E1000_IMC, UINT32_MAX);
	(void)kit_e1000_read(e, E1000_ICR);
	return 0;
}

static void e1000_close(struct kit_nic *n)
{
	struct kit_e1000 *e = to_e1000(n);

	kit_e1000_write(e, E1000_RCTL, 0);
	kit_e1000_write(e, E1000_TCTL, 0);
	kit_e1000_reset(e);
}

static const struct kit_nic_ops e1000_ops = {
	.tx_buf = e1000_tx_buf,
	.tx_post = e1000_tx_post,
	.tx_flush = e1000_tx_flush,
	.tx_reclaim = e1000_tx_reclaim,
	.rx = e1000_rx,
	.rx_done = e1000_rx_done,
	.rx_flush = e1000_rx_flush,
	.close = e1000_close,
};

static int e1000_eeprom_read(struct kit_e1000 *e, uint8_t addr, uint16_t *out)
{
	uint64_t t0 = kit_rdtsc(), limit = kit_ms_to_cycles(E1000_EERD_MS);
	uint32_t v;

	kit_e1000_write(e, E1000_EERD,
			((uint32_t)addr << EERD_ADDR_SHIFT) | EERD_START);
	while (!((v = kit_e1000_read(e, E1000_EERD)) & EERD_DONE)) {
		if (kit_rdtsc() - t0 > limit)
			return -1;
		kit_pause();
	}
	*out = (uint16_t)(v >> 16);
	return 0;
}

static int e1000_read_mac(struct kit_e1000 *e)
{
	/* EEPROM words 0-2 hold the MAC, low byte first (§5.6.1). */
	for (uint8_t w = 0; w < 3; w++) {
		uint16_t v;

		if (e1000_eeprom_read(e, w, &v) < 0)
			return -1;
		e->nic.mac[2 * w] = (uint8_t)v;
		e->nic.mac[2 * w + 1] = (uint8_t)(v >> 8);
	}
	return 0;
}

static int e1000_alloc(struct kit_e1000 *e, uint16_t n)
{
	e->ntx = e->nrx = n;
	e->txr = kit_alloc(sizeof(struct kit_e1000_txd) * n, 4096);
	e->rxr = kit_alloc(sizeof(struct kit_e1000_rxd) * n, 4096);
	e->txbufs = kit_alloc((uint64_t)n * KIT_NIC_BUF, 4096);
	e->rxbufs = kit_alloc((uint64_t)n * KIT_NIC_BUF, 4096);
	return e->txr && e->rxr && e->txbufs && e->rxbufs ? 0 : -1;
}

/* §14.5-14.6: program the rings, filters and enables after a reset. */
static void e1000_program(struct kit_e1000 *e)
{
	const uint8_t *m = e->nic.mac;
	uint64_t tx = (uint64_t)(uintptr_t)e->txr;
	uint64_t rx = (uint64_t)(uintptr_t)e->rxr;

	kit_e1000_write(e, E1000_RCTL, 0);
	kit_e1000_write(e, E1000_TCTL, 0);
	kit_e1000_write(e, KIT_E1000_CTRL,
			kit_e1000_read(e, KIT_E1000_CTRL) | CTRL_SLU |
			CTRL_ASDE);
	kit_e1000_write(e, E1000_RAL0, (uint32_t)m[0] | (uint32_t)m[1] << 8 |
				       (uint32_t)m[2] << 16 |
				       (uint32_t)m[3] << 24);
	kit_e1000_write(e, E1000_RAH0,
			(uint32_t)m[4] | (uint32_t)m[5] << 8 | RAH_AV);
	for (unsigned int i = 0; i < 128; i++)
		kit_e1000_write(e, E1000_MTA + 4 * i, 0);
	for (uint16_t i = 0; i < e->nrx; i++)
		e->rxr[i].addr = (uint64_t)(uintptr_t)e->rxbufs +
				 (uint64_t)i * KIT_NIC_BUF;
	kit_e1000_write(e, KIT_E1000_TDBAL, (uint32_t)tx);
	kit_e1000_write(e, KIT_E1000_TDBAH, (uint32_t)(tx >> 32));
	kit_e1000_write(e, KIT_E1000_TDLEN,
			e->ntx * (uint32_t)sizeof(struct kit_e1000_txd));
	kit_e1000_write(e, KIT_E1000_TDH, 0);
	kit_e1000_write(e, KIT_E1000_TDT, 0);
	kit_e1000_write(e, E1000_RDBAL, (uint32_t)rx);
	kit_e1000_write(e, E1000_RDBAH, (uint32_t)(rx >> 32));
	kit_e1000_write(e, E1000_RDLEN,
			e->nrx * (uint32_t)sizeof(struct kit_e1000_rxd));
	kit_e1000_write(e, E1000_RDH, 0);
	kit_e1000_write(e, KIT_E1000_RDT, e->nrx - 1u);
	kit_e1000_write(e, E1000_TIPG, TIPG_82540);
	kit_e1000_write(e, E1000_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT |
				       TCTL_COLD);
	/* BSIZE 00 = 2048-byte buffers. */
	kit_e1000_write(e, E1000_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
}

int kit_e1000_open(struct kit_e1000 *e, const struct kit_nic_cfg *cfg,
		   const char **reason)
{
	uint16_t n = cfg->qsize ? cfg->qsize : E1000_DEFAULT_RING;

	memset(e, 0, sizeof(*e));
	e->nic.ops = &e1000_ops;
	e->nic.name = "e1000";
	/* Rings are multiples of 128 bytes: 8 descriptors (§3.2.6). */
	if (n % 8 || n < 8 || n > E1000_MAX_RING || cfg->packed ||
	    cfg->indirect || cfg->mrg_rxbuf) {
		*reason = "bad-param";
		return -1;
	}
	e->pci = kit_pci_find(E1000_VENDOR, E1000_DEVICE);
	if (!e->pci) {
		*reason = "no-device";
		return -1;
	}
	e->regs = e->pci->bar[0].base;
	if (!e->regs || e->pci->bar[0].io ||
	    e->pci->bar[0].size < E1000_MIN_BAR) {
		*reason = "bad-bar";
		return -1;
	}
	/* Poll mode: no INTx (PCI command bit 10). */
	kit_pci_cfg_write(e->pci, 0x04, 2,
			  kit_pci_cfg_read(e->pci, 0x04, 2) | 0x400);
	if (kit_e1000_reset(e) < 0) {
		*reason = "reset-timeout";
		return -1;
	}
	if (e1000_read_mac(e) < 0) {
		*reason = "eeprom-timeout";
		return -1;
	}
	if (e1000_alloc(e, n) < 0) {
		*reason = "no-memory";
		return -1;
	}
	e->nic.tx_slots = (uint16_t)(n - 1);
	e->nic.rx_slots = (uint16_t)(n - 1);
	e1000_program(e);
	return 0;
}
