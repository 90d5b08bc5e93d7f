// SPDX-License-Identifier: MIT
/*
 * edu (1234:11e8 rev 0x10), behaving like QEMU's educational device
 * (docs/specs/edu.rst), so the guest kit's interrupt and DMA tests run the
 * same under iovmm and QEMU.
 *
 * Differences by design: the factorial and the DMA run synchronously in the
 * MMIO write (QEMU uses a thread and a 100 ms timer); the status bits keep
 * their meaning, so a driver that polls them works unchanged. DMA goes
 * through gmem: a transfer outside guest RAM or outside the 4 KiB buffer is
 * refused and counted (QEMU only logs), never performed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/pci/msi.h"
#include "core/util.h"
#include "emul-devices/testdevs.h"

#define EDU_BAR_SIZE          (1 * MiB)
#define EDU_ID                0x010000edu
#define EDU_REG_ID            0x00
#define EDU_REG_LIVENESS      0x04
#define EDU_REG_FACT          0x08
#define EDU_REG_STATUS        0x20
#define  EDU_STATUS_COMPUTING 0x01
#define  EDU_STATUS_IRQFACT   0x80
#define EDU_REG_IRQ_STATUS    0x24
#define EDU_REG_IRQ_RAISE     0x60
#define EDU_REG_IRQ_ACK       0x64
#define EDU_REG_DMA_SRC       0x80
#define EDU_REG_DMA_DST       0x88
#define EDU_REG_DMA_CNT       0x90
#define EDU_REG_DMA_CMD       0x98
#define  EDU_DMA_RUN          0x1
#define  EDU_DMA_TO_PCI       0x2 /* direction: 0 RAM -> buffer, 1 buffer -> RAM */
#define  EDU_DMA_IRQ          0x4
#define EDU_IRQ_FACT          0x00000001
#define EDU_IRQ_DMA           0x00000100
#define EDU_DMA_START         0x40000
#define EDU_DMA_SIZE          4096
/* QEMU's default dma_mask: device addresses are clamped to 28 bits. */
#define EDU_DMA_MASK          ((1ULL << 28) - 1)

struct edu {
	struct pci_dev pdev;
	struct irq *irq;          /* borrowed, may be NULL */
	struct gmem *mem;         /* borrowed */
	struct pci_msi *msi;
	pthread_mutex_t lock;     /* guards everything below */
	bool intx_level;
	uint32_t addr4;
	uint32_t fact;
	uint32_t status;
	uint32_t irq_status;
	uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
	uint64_t dma_errors;
	uint8_t dma_buf[EDU_DMA_SIZE];
};

static const char *const who = "edu";

static void edu_set_intx(struct edu *e, bool level)
{
	/*
	 * PCI 3.0 sec 6.2.2/6.2.3: INTx Disable masks the pin, STATUS
	 * bit 3 reports the device's interrupt state regardless.
	 */
	uint32_t st = pci_cfg_read(&e->pdev.cfg, PCI_STATUS, 2);

	st = level ? st | PCI_STATUS_INTERRUPT : st & ~PCI_STATUS_INTERRUPT;
	pci_cfg_set(&e->pdev.cfg, PCI_STATUS, st, 2);
	if (pci_cfg_read(&e->pdev.cfg, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE)
		level = false;
	if (level == e->intx_level)
		return;
	e->intx_level = level;
	pci_dev_set_intx(&e->pdev, level);
}

/*
 * INTx state lives in config space (STATUS, INTx Disable), so raise/lower
 * run with dev->lock and then e->lock held (the lock order of pci.h).
 */
static void edu_raise(struct edu *e, uint32_t val)
{
	e->irq_status |= val;
	if (!e->irq_status)
		return;
	if (pci_msi_enabled(&e->pdev))
		pci_msi_notify(&e->pdev, 0);
	else
		edu_set_intx(e, true);
}

static void edu_lower(struct edu *e, uint32_t val)
{
	e->irq_status &= ~val;
	if (!e->irq_status && !pci_msi_enabled(&e->pdev))
		edu_set_intx(e, false);
}

static void edu_fact(struct edu *e, uint32_t n)
{
	uint32_t r = 1;

	/* Computed at once; COMPUTING is never observed set by the guest. */
	e->status |= EDU_STATUS_COMPUTING;
	while (n > 0)
		r *= n--;
	e->fact = r;
	e->status &= ~EDU_STATUS_COMPUTING;
	if (e->status & EDU_STATUS_IRQFACT)
		edu_raise(e, EDU_IRQ_FACT);
}

/* The transfer must stay inside the buffer; the RAM side goes to gmem. */
static int edu_dma(struct edu *e)
{
	bool to_ram = e->dma_cmd & EDU_DMA_TO_PCI;
	uint64_t buf_addr = to_ram ? e->dma_src : e->dma_dst;
	uint64_t ram = (to_ram ? e->dma_dst : e->dma_src) & EDU_DMA_MASK;
	uint64_t cnt = e->dma_cnt;

	if (cnt > EDU_DMA_SIZE || buf_addr < EDU_DMA_START ||
	    buf_addr - EDU_DMA_START > EDU_DMA_SIZE - cnt)
		return -ERANGE;
	if (cnt == 0)
		return 0;
	buf_addr -= EDU_DMA_START;
	if (to_ram)
		return gmem_write(e->mem, ram, &e->dma_buf[buf_addr], cnt);
	return gmem_read(e->mem, ram, &e->dma_buf[buf_addr], cnt);
}

static void edu_dma_start(struct edu *e, uint64_t cmd)
{
	int ret;

	e->dma_cmd = cmd;
	ret = edu_dma(e);
	if (ret) {
		e->dma_errors++;
		log_ratelimited(LOG_WARN, who,
				"DMA src 0x%llx dst 0x%llx cnt 0x%llx refused: %s",
				(unsigned long long)e->dma_src,
				(unsigned long long)e->dma_dst,
				(unsigned long long)e->dma_cnt, strerror(-ret));
	}
	/* Completed (or refused): RUN clears, the IRQ fires if asked. */
	e->dma_cmd &= ~EDU_DMA_RUN;
	if (e->dma_cmd & EDU_DMA_IRQ)
		edu_raise(e, EDU_IRQ_DMA);
}

static int edu_bar_read(struct pci_dev *dev, unsigned bar, uint64_t off,
			void *data, uint32_t len)
{
	struct edu *e = container_of(dev, struct edu, pdev);
	uint64_t v = UINT64_MAX;

	/* edu.rst: 4-byte accesses below 0x80, 4 or 8 above. */
	if (bar != 0 || (off < 0x80 ? len != 4 : len != 4 && len != 8)) {
		memset(data, 0xff, len);
		return 0;
	}
	pthread_mutex_lock(&e->lock);
	switch (off) {
	case EDU_REG_ID: v = EDU_ID; break;
	case EDU_REG_LIVENESS: v = e->addr4; break;
	case EDU_REG_FACT: v = e->fact; break;
	case EDU_REG_STATUS: v = e->status; break;
	case EDU_REG_IRQ_STATUS: v = e->irq_status; break;
	case EDU_REG_DMA_SRC: v = e->dma_src; break;
	case EDU_REG_DMA_DST: v = e->dma_dst; break;
	case EDU_REG_DMA_CNT: v = e->dma_cnt; break;
	case EDU_REG_DMA_CMD: v = e->dma_cmd; break;
	}
	pthread_mutex_unlock(&e->lock);
	memcpy(data, &v, len);
	return 0;
}

static void edu_write_reg(struct edu *e, uint64_t off, uint64_t v)
{
	switch (off) {
	case EDU_REG_LIVENESS: e->addr4 = ~(uint32_t)v; break;
	case EDU_REG_FACT:
		if (!(e->status & EDU_STATUS_COMPUTING))
			edu_fact(e, (uint32_t)v);
		break;
	case EDU_REG_STATUS:
		/* Only IRQFACT is writable; COMPUTING is the device's. */
		e->status = (e->status & ~EDU_STATUS_IRQFACT) |
			    ((uint32_t)v & EDU_STATUS_IRQFACT);
		break;
	case EDU_REG_IRQ_RAISE: edu_raise(e, (uint32_t)v); break;
	case EDU_REG_IRQ_ACK: edu_lower(e, (uint32_t)v); break;
	/* The DMA registers are frozen while a transfer runs (never, here). */
	case EDU_REG_DMA_SRC: e->dma_src = v; break;
	case EDU_REG_DMA_DST: e->dma_dst = v; break;
	case EDU_REG_DMA_CNT: e->dma_cnt = v; break;
	case EDU_REG_DMA_CMD:
		if (v & EDU_DMA_RUN)
			edu_dma_start(e, v);
		break;
	}
}

static int edu_bar_write(struct pci_dev *dev, unsigned bar, uint64_t off,
			 const void *data, uint32_t len)
{
	struct edu *e = container_of(dev, struct edu, pdev);
	uint64_t v = 0;

	if (bar != 0 || (off < 0x80 ? len != 4 : len != 4 && len != 8))
		return 0;
	memcpy(&v, data, len);
	/* dev->lock first: INTx state (STATUS, INTx Disable) is config space. */
	pthread_mutex_lock(&dev->lock);
	pthread_mutex_lock(&e->lock);
	edu_write_reg(e, off, v);
	pthread_mutex_unlock(&e->lock);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static void edu_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t val,
			  uint32_t len)
{
	struct edu *e = container_of(dev, struct edu, pdev);

	pci_dev_cfg_write(dev, off, val, len);
	/* INTx Disable may have changed: re-evaluate the pin (dev->lock held). */
	pthread_mutex_lock(&e->lock);
	edu_set_intx(e, e->irq_status && !pci_msi_enabled(dev));
	pthread_mutex_unlock(&e->lock);
}

static void edu_reset(struct pci_dev *dev)
{
	struct edu *e = container_of(dev, struct edu, pdev);

	pthread_mutex_lock(&e->lock);
	e->addr4 = e->fact = e->status = e->irq_status = 0;
	e->dma_src = e->dma_dst = e->dma_cnt = e->dma_cmd = 0;
	edu_set_intx(e, false);
	pthread_mutex_unlock(&e->lock);
}

static void edu_pci_destroy(struct pci_dev *dev)
{
	edu_destroy(container_of(dev, struct edu, pdev));
}

static const struct pci_dev_ops edu_ops = {
	.cfg_write = edu_cfg_write,
	.bar_read = edu_bar_read,
	.bar_write = edu_bar_write,
	.reset = edu_reset,
	.destroy = edu_pci_destroy,
};

int edu_create(const struct pci_dev_ctx *ctx, struct edu **out)
{
	static const struct pci_id id = {
		.vendor = 0x1234, .device = 0x11e8, .revision = 0x10,
		.subsys_vendor = 0x1af4, .subsys = 0x1100,
		.class_code = 0x00ff00, .int_pin = 1,
	};
	struct edu *e;
	int ret;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	ret = pci_dev_init(&e->pdev, &edu_ops, "edu", &id);
	if (ret)
		goto err_free;
	pthread_mutex_init(&e->lock, NULL);
	e->irq = ctx->irq;
	e->mem = ctx->mem;
	ret = pci_cfg_add_bar(&e->pdev.cfg, 0, PCI_BAR_MEM32, EDU_BAR_SIZE, false);
	if (ret)
		goto err_fini;
	/* QEMU: msi_init(pdev, 0, 1 vector, 64-bit, no per-vector mask). */
	ret = pci_msi_create(&e->pdev, ctx->irq, 1, false, &e->msi);
	if (ret)
		goto err_fini;
	*out = e;
	return 0;

err_fini:
	pthread_mutex_destroy(&e->lock);
	pci_dev_fini(&e->pdev);
err_free:
	free(e);
	return ret;
}

void edu_destroy(struct edu *e)
{
	if (!e)
		return;
	if (e->intx_level)
		pci_dev_set_intx(&e->pdev, false);
	pci_msi_destroy(e->msi);
	pthread_mutex_destroy(&e->lock);
	pci_dev_fini(&e->pdev);
	free(e);
}

struct pci_dev *edu_pci(struct edu *e)
{
	return &e->pdev;
}

uint64_t edu_dma_errors(struct edu *e)
{
	uint64_t n;

	pthread_mutex_lock(&e->lock);
	n = e->dma_errors;
	pthread_mutex_unlock(&e->lock);
	return n;
}
