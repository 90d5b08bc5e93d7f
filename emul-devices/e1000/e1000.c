// SPDX-License-Identifier: MIT
/*
 * e1000 (82540EM) device: PCI function, BAR handlers, interrupt output,
 * reset and lifetime. Registers live in regs.c, the EEPROM and PHY in
 * eeprom.c, the data paths in tx.c and rx.c.
 *
 * Threads: vCPU threads access the registers (BAR0/BAR1) and run TX inside
 * the TDT write; the I/O thread runs RX from the back end. One mutex (lock)
 * serialises them. Config space runs under pdev.lock, which is taken before
 * lock; the MMIO path takes lock only, so the INTx Disable and MSI Enable
 * bits it needs are cached here on every config write.
 *
 * Interrupts (SDM 13.4.17-21): the device condition is ICR & IMS != 0.
 * With MSI enabled, a 0 -> 1 change of that condition sends the message;
 * otherwise INTA# follows the condition (level), unless INTx Disable is set.
 * Reading ICR clears it, which deasserts. Interrupt moderation (ITR, RDTR,
 * RADV, TIDV, TADV) is not modelled: causes are signalled at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/pci/msi.h"
#include "core/util.h"
#include "emul-devices/e1000/e1000-internal.h"

#define E1000_VENDOR     0x8086
#define E1000_DEVICE     0x100e   /* 82540EM */
#define E1000_IOADDR     0
#define E1000_IODATA     4

static const uint8_t e1000_default_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

void e1000_stat_inc(struct e1000 *e, uint32_t off, uint32_t n)
{
	uint32_t v = e1000_reg(e, off);

	/* Statistics saturate rather than wrap (SDM 13.7). */
	e1000_set_reg(e, off, v + n < v ? UINT32_MAX : v + n);
}

void e1000_stat_add64(struct e1000 *e, uint32_t lo_off, uint64_t n)
{
	uint64_t v = (uint64_t)e1000_reg(e, lo_off + 4) << 32 |
		     e1000_reg(e, lo_off);

	v = v + n < v ? UINT64_MAX : v + n;
	e1000_set_reg(e, lo_off, (uint32_t)v);
	e1000_set_reg(e, lo_off + 4, (uint32_t)(v >> 32));
}

static void e1000_drive_intx(struct e1000 *e)
{
	bool want = e->irq_level && !e->msi_on && !e->intx_disabled;

	if (want == e->intx_asserted)
		return;
	e->intx_asserted = want;
	pci_dev_set_intx(&e->pdev, want);
}

void e1000_update_irq(struct e1000 *e)
{
	bool level = (e1000_reg(e, E1000_ICR) & e1000_reg(e, E1000_IMS)) != 0;

	if (e->msi_on && level && !e->irq_level)
		pci_msi_notify(&e->pdev, 0);
	e->irq_level = level;
	e1000_drive_intx(e);
}

void e1000_set_ics(struct e1000 *e, uint32_t causes)
{
	e1000_set_reg(e, E1000_ICR, e1000_reg(e, E1000_ICR) |
		      (causes & E1000_ICR_ALL));
	e1000_update_irq(e);
}

/* The EEPROM's MAC is loaded into receive address 0 (SDM 5.6.1). */
static void e1000_load_mac(struct e1000 *e)
{
	const uint16_t *w = e->eeprom;

	e1000_set_reg(e, E1000_RA, w[0] | (uint32_t)w[1] << 16);
	e1000_set_reg(e, E1000_RA + 4, w[2] | E1000_RAH_AV);
}

/* CTRL.RST or a PCI reset: registers to defaults, TX state dropped. */
void e1000_device_reset(struct e1000 *e)
{
	e1000_regs_reset(e);
	e1000_load_mac(e);
	e1000_phy_reset(e);
	memset(&e->mw, 0, sizeof(e->mw));
	e->mw.out_bits = -1;
	e1000_tx_reset(e);
	e1000_update_irq(e);
}

/* BAR0: 32-bit registers; other widths are split or merged. */
static void e1000_mmio_access(struct e1000 *e, uint64_t off, void *data,
			      uint32_t len, bool write)
{
	uint8_t *p = data;

	while (len) {
		uint32_t dw = off & ~3u, sub = off & 3u;
		uint32_t n = 4 - sub < len ? 4 - sub : len;
		uint32_t v;

		if (write && n == 4) {
			memcpy(&v, p, 4);
			e1000_mmio_write(e, dw, v);
		} else if (write) {
			/* Merge into the stored value without read effects. */
			v = e1000_reg(e, dw);
			memcpy((uint8_t *)&v + sub, p, n);
			e1000_mmio_write(e, dw, v);
		} else {
			v = e1000_mmio_read(e, dw);
			memcpy(p, (uint8_t *)&v + sub, n);
		}
		p += n;
		off += n;
		len -= n;
	}
}

static int e1000_bar_access(struct pci_dev *dev, unsigned bar, uint64_t off,
			    void *data, uint32_t len, bool write)
{
	struct e1000 *e = container_of(dev, struct e1000, pdev);

	if (len == 0 || len > 8)
		return 0;
	pthread_mutex_lock(&e->lock);
	if (bar == 0 && off + len <= E1000_MMIO_SIZE) {
		e1000_mmio_access(e, off, data, len, write);
	} else if (bar == 1 && off == E1000_IOADDR && len == 4) {
		/* SDM 13.2.1: IOADDR selects a register for IODATA. */
		if (write)
			memcpy(&e->ioaddr, data, 4);
		else
			memcpy(data, &e->ioaddr, 4);
	} else if (bar == 1 && off == E1000_IODATA && len == 4) {
		uint32_t a = e->ioaddr & (E1000_MMIO_SIZE - 1) & ~3u;

		e1000_mmio_access(e, a, data, 4, write);
	} else if (!write) {
		memset(data, 0xff, len);
	}
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static int e1000_bar_read(struct pci_dev *dev, unsigned bar, uint64_t off,
			  void *data, uint32_t len)
{
	return e1000_bar_access(dev, bar, off, data, len, false);
}

static int e1000_bar_write(struct pci_dev *dev, unsigned bar, uint64_t off,
			   const void *data, uint32_t len)
{
	return e1000_bar_access(dev, bar, off, (void *)data, len, true);
}

static uint32_t e1000_cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len)
{
	struct e1000 *e = container_of(dev, struct e1000, pdev);

	if (off < PCI_STATUS + 2 && off + len > PCI_STATUS) {
		/* STATUS.Interrupt reports INTx state (PCI 3.0 sec 6.2.3). */
		uint32_t st = pci_cfg_read(&dev->cfg, PCI_STATUS, 2);
		bool pending;

		pthread_mutex_lock(&e->lock);
		pending = e->irq_level && !e->msi_on;
		pthread_mutex_unlock(&e->lock);
		st = pending ? st | PCI_STATUS_INTERRUPT :
			       st & ~PCI_STATUS_INTERRUPT;
		pci_cfg_set(&dev->cfg, PCI_STATUS, st, 2);
	}
	return pci_dev_cfg_read(dev, off, len);
}

static void e1000_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t val,
			    uint32_t len)
{
	struct e1000 *e = container_of(dev, struct e1000, pdev);
	uint32_t cmd;
	bool msi;

	pci_dev_cfg_write(dev, off, val, len);
	cmd = pci_cfg_read(&dev->cfg, PCI_COMMAND, 2);
	msi = pci_msi_enabled(dev);
	pthread_mutex_lock(&e->lock);
	e->intx_disabled = cmd & PCI_COMMAND_INTX_DISABLE;
	if (msi != e->msi_on) {
		/* A condition already pending fires on the new mechanism. */
		e->msi_on = msi;
		e->irq_level = false;
	}
	e1000_update_irq(e);
	pthread_mutex_unlock(&e->lock);
}

static void e1000_pci_reset(struct pci_dev *dev)
{
	struct e1000 *e = container_of(dev, struct e1000, pdev);

	pthread_mutex_lock(&e->lock);
	e->msi_on = false;
	e->intx_disabled = false;
	e->ioaddr = 0;
	e1000_device_reset(e);
	pthread_mutex_unlock(&e->lock);
}

static void e1000_pci_destroy(struct pci_dev *dev)
{
	e1000_destroy(container_of(dev, struct e1000, pdev));
}

static const struct pci_dev_ops e1000_pci_ops = {
	.cfg_read = e1000_cfg_read,
	.cfg_write = e1000_cfg_write,
	.bar_read = e1000_bar_read,
	.bar_write = e1000_bar_write,
	.reset = e1000_pci_reset,
	.destroy = e1000_pci_destroy,
};

static int e1000_init_pci(struct e1000 *e, struct irq *irq)
{
	static const struct pci_id id = {
		.vendor = E1000_VENDOR, .device = E1000_DEVICE,
		.subsys_vendor = E1000_VENDOR, .subsys = 0x001e,
		.revision = 0x03, .class_code = 0x020000, .int_pin = 1,
	};
	int ret = pci_dev_init(&e->pdev, &e1000_pci_ops, e->name, &id);

	if (ret)
		return ret;
	ret = pci_cfg_add_bar(&e->pdev.cfg, 0, PCI_BAR_MEM32, E1000_MMIO_SIZE,
			      false);
	if (!ret)
		ret = pci_cfg_add_bar(&e->pdev.cfg, 1, PCI_BAR_IO, E1000_IO_SIZE,
				      false);
	/* One vector, 64-bit address, no masking: what QEMU's e1000e offers. */
	if (!ret)
		ret = pci_msi_create(&e->pdev, irq, 1, false, &e->msi);
	return ret;
}

int e1000_create(const struct pci_dev_ctx *ctx, const struct e1000_config *cfg,
		 struct e1000 **out, char *err, size_t errlen)
{
	const uint8_t *mac = cfg->has_mac ? cfg->mac : e1000_default_mac;
	struct e1000 *e;
	int ret;

	*out = NULL;
	if (cfg->has_mac && (mac[0] & 1)) {
		snprintf(err, errlen, "e1000: MAC address is multicast");
		return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "e1000: out of memory");
		return -ENOMEM;
	}
	snprintf(e->name, sizeof(e->name), "%s", cfg->name ? cfg->name : "e1000");
	e->mem = ctx->mem;
	e->irq = ctx->irq;
	e->io = ctx->io;
	pthread_mutex_init(&e->lock, NULL);
	e->tx_buf = malloc(E1000_TX_BUF_LEN);
	e->seg_buf = malloc(E1000_TX_BUF_LEN);
	if (!e->tx_buf || !e->seg_buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", e->name);
		goto fail;
	}
	ret = e1000_init_pci(e, ctx->irq);
	if (ret) {
		snprintf(err, errlen, "%s: PCI function: %s", e->name,
			 strerror(-ret));
		goto fail;
	}
	e1000_eeprom_init(e, mac);
	e1000_device_reset(e);
	ret = net_backend_create(cfg->backend, ctx->io, &e->be, err, errlen);
	if (ret)
		goto fail;
	net_backend_set_rx(e->be, e1000_rx, e);
	*out = e;
	return 0;
fail:
	e1000_destroy(e);
	return ret;
}

void e1000_destroy(struct e1000 *e)
{
	if (!e)
		return;
	/* No rx callback can run once the back end is gone. */
	net_backend_destroy(e->be);
	if (e->intx_asserted)
		pci_dev_set_intx(&e->pdev, false);
	pci_msi_destroy(e->msi);
	if (e->pdev.ops)
		pci_dev_fini(&e->pdev);
	pthread_mutex_destroy(&e->lock);
	free(e->tx_buf);
	free(e->seg_buf);
	free(e);
}

struct pci_dev *e1000_pci(struct e1000 *e)
{
	return &e->pdev;
}

void e1000_get_stats(struct e1000 *e, struct e1000_stats *out)
{
	pthread_mutex_lock(&e->lock);
	out->tx_frames = e->tx_frames;
	out->rx_frames = e->rx_frames;
	out->tx_errors = e->tx_errors;
	out->rx_dropped = e->rx_dropped;
	out->irq_asserted = e->irq_level;
	pthread_mutex_unlock(&e->lock);
}
