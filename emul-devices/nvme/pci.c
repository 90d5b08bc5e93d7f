// SPDX-License-Identifier: MIT
/*
 * The NVMe controller's PCI function (NVMe over PCIe Transport
 * Specification 1.0: PCI header, MLBAR/MUBAR, MSI-X): config space, BAR0
 * routing between the controller's register window and the MSI-X
 * table/PBA (core/pci/msix.c), INTA#, reset and lifetime. The controller
 * knows nothing of PCI: it gets BAR0 accesses below 0x2000 and answers
 * with msix_notify/intx_set (ctrl.h).
 *
 * Locking: pdev.lock (config space) -> the controller's lock -> irq_lock
 * (INTx state here) and the MSI-X lock. BAR handlers run without
 * pdev.lock, so the controller's interrupt mode (MSI-X on or off) and
 * COMMAND.INTX_DISABLE are pushed down on every config write.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/pci/host.h"
#include "core/pci/msix.h"
#include "core/pci/pci.h"
#include "core/util.h"
#include "emul-devices/nvme/nvme.h"

#define NVME_PCI_VENDOR     0x1b36  /* as QEMU's nvme: see nvme.h */
#define NVME_PCI_DEVICE     0x0010
#define NVME_PCI_SUBVENDOR  0x1af4
#define NVME_PCI_SUBSYS     0x1100
#define NVME_PCI_REVISION   0x02
#define NVME_PCI_CLASS      0x010802 /* mass storage, NVM, NVM Express */
#define NVME_BAR0_SIZE      0x4000u
#define NVME_MSIX_TABLE     0x2000u
#define NVME_MSIX_PBA       0x3000u
#define NVME_SECTOR         512u

struct nvme {
	struct pci_dev pdev;
	struct nvme_ctrl *ctrl;     /* owned */
	struct pci_msix *msix;      /* owned */
	struct irq *irq;            /* borrowed, may be NULL */
	int fd;                     /* the image; owned */
	uint64_t nlb;
	bool readonly;
	char name[32];
	uint32_t msix_cap;

	/* irq_lock guards the INTx state below. */
	pthread_mutex_t irq_lock;
	bool intx_level;            /* what the controller asks for */
	bool intx_disabled;         /* COMMAND.INTX_DISABLE */
	bool intx_asserted;         /* what the pin drives */
};

/* ---- interrupts (controller lock held) ---- */

static void nvme_drive_intx(struct nvme *n)
{
	bool want = n->intx_level && !n->intx_disabled;

	if (want == n->intx_asserted)
		return;
	n->intx_asserted = want;
	pci_dev_set_intx(&n->pdev, want);
}

static void nvme_msix_notify(void *opaque, unsigned vector)
{
	struct nvme *n = opaque;

	/* A masked vector latches its PBA bit (PCI 3.0 sec 6.8.2.9). */
	pci_msix_notify(&n->pdev, vector);
}

static void nvme_intx_set(void *opaque, bool level)
{
	struct nvme *n = opaque;

	pthread_mutex_lock(&n->irq_lock);
	n->intx_level = level;
	nvme_drive_intx(n);
	pthread_mutex_unlock(&n->irq_lock);
}

static const struct nvme_ctrl_ops nvme_ctrl_ops = {
	.msix_notify = nvme_msix_notify,
	.intx_set = nvme_intx_set,
};

/* ---- BAR0 ---- */

static int nvme_bar_read(struct pci_dev *dev, unsigned bar, uint64_t off,
			 void *data, uint32_t len)
{
	struct nvme *n = container_of(dev, struct nvme, pdev);

	if (bar == 0 && pci_msix_bar_read(n->msix, bar, off, data, len))
		return 0;
	if (bar == 0 && off < NVME_CTRL_MMIO_SIZE &&
	    len <= NVME_CTRL_MMIO_SIZE - off)
		nvme_ctrl_mmio_read(n->ctrl, (uint32_t)off, data, len);
	else
		memset(data, 0, len);
	return 0;
}

static int nvme_bar_write(struct pci_dev *dev, unsigned bar, uint64_t off,
			  const void *data, uint32_t len)
{
	struct nvme *n = container_of(dev, struct nvme, pdev);

	if (bar == 0 && pci_msix_bar_write(n->msix, bar, off, data, len))
		return 0;
	if (bar == 0 && off < NVME_CTRL_MMIO_SIZE &&
	    len <= NVME_CTRL_MMIO_SIZE - off)
		nvme_ctrl_mmio_write(n->ctrl, (uint32_t)off, data, len);
	return 0;
}

/* ---- config space (pdev.lock held) ---- */

static uint32_t nvme_cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len)
{
	struct nvme *n = container_of(dev, struct nvme, pdev);

	if (off < PCI_STATUS + 2 && off + len > PCI_STATUS) {
		/* STATUS.Interrupt reports INTx state (PCI 3.0 sec 6.2.3). */
		uint32_t st = pci_cfg_read(&dev->cfg, PCI_STATUS, 2);
		bool pending;

		pthread_mutex_lock(&n->irq_lock);
		pending = n->intx_level;
		pthread_mutex_unlock(&n->irq_lock);
		st = pending ? st | PCI_STATUS_INTERRUPT :
			       st & ~PCI_STATUS_INTERRUPT;
		pci_cfg_set(&dev->cfg, PCI_STATUS, st, 2);
	}
	return pci_dev_cfg_read(dev, off, len);
}

/* Push the interrupt mode and INTX_DISABLE down after config changes. */
static void nvme_sync_irq_mode(struct nvme *n)
{
	const struct pci_cfg *cfg = &n->pdev.cfg;
	uint32_t cmd = pci_cfg_read(cfg, PCI_COMMAND, 2);
	uint32_t ctrl = pci_cfg_read(cfg, n->msix_cap + PCI_MSIX_FLAGS, 2);

	nvme_ctrl_set_msix(n->ctrl, ctrl & PCI_MSIX_FLAGS_ENABLE);
	pthread_mutex_lock(&n->irq_lock);
	n->intx_disabled = cmd & PCI_COMMAND_INTX_DISABLE;
	nvme_drive_intx(n);
	pthread_mutex_unlock(&n->irq_lock);
}

static void nvme_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t val,
			   uint32_t len)
{
	struct nvme *n = container_of(dev, struct nvme, pdev);

	pci_dev_cfg_write(dev, off, val, len);
	nvme_sync_irq_mode(n);
}

/* Function reset through the PCI host: the controller back to power-on. */
static void nvme_pci_reset(struct pci_dev *dev)
{
	struct nvme *n = container_of(dev, struct nvme, pdev);

	nvme_ctrl_reset(n->ctrl);
	nvme_sync_irq_mode(n);
}

static void nvme_pci_destroy(struct pci_dev *dev)
{
	nvme_destroy(container_of(dev, struct nvme, pdev));
}

static const struct pci_dev_ops nvme_pci_ops = {
	.cfg_read = nvme_cfg_read,
	.cfg_write = nvme_cfg_write,
	.bar_read = nvme_bar_read,
	.bar_write = nvme_bar_write,
	.reset = nvme_pci_reset,
	.destroy = nvme_pci_destroy,
};

/* ---- creation ---- */

static int nvme_open(struct nvme *n, const struct nvme_config *cfg, char *err,
		     size_t errlen)
{
	struct stat st;
	uint64_t size;
	int ret;

	n->fd = open(cfg->path, (cfg->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (n->fd < 0 || fstat(n->fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s: %s", n->name, cfg->path,
			 strerror(-ret));
		return ret;
	}
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(n->fd, BLKGETSIZE64, &size) < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s: BLKGETSIZE64: %s",
				 n->name, cfg->path, strerror(-ret));
			return ret;
		}
	} else {
		snprintf(err, errlen, "%s: %s: not a regular file or block device",
			 n->name, cfg->path);
		return -EINVAL;
	}
	if (size < NVME_SECTOR) {
		snprintf(err, errlen, "%s: %s: smaller than one 512-byte block",
			 n->name, cfg->path);
		return -EINVAL;
	}
	if (size % NVME_SECTOR)
		log_warn(n->name, "%s: size %llu is not a multiple of 512; the "
			 "last %llu bytes are not visible to the guest",
			 cfg->path, (unsigned long long)size,
			 (unsigned long long)(size % NVME_SECTOR));
	n->nlb = size / NVME_SECTOR;
	return 0;
}

static int nvme_init_pci(struct nvme *n, struct irq *irq)
{
	static const struct pci_id id = {
		.vendor = NVME_PCI_VENDOR, .device = NVME_PCI_DEVICE,
		.subsys_vendor = NVME_PCI_SUBVENDOR, .subsys = NVME_PCI_SUBSYS,
		.revision = NVME_PCI_REVISION, .class_code = NVME_PCI_CLASS,
		.int_pin = 1,
	};
	int ret = pci_dev_init(&n->pdev, &nvme_pci_ops, n->name, &id);

	if (ret)
		return ret;
	/* MLBAR/MUBAR: 64-bit memory, not prefetchable (PCIe transport). */
	ret = pci_cfg_add_bar(&n->pdev.cfg, 0, PCI_BAR_MEM64, NVME_BAR0_SIZE,
			      false);
	if (!ret)
		ret = pci_msix_create(&n->pdev, irq, NVME_CTRL_VECTORS, 0,
				      NVME_MSIX_TABLE, NVME_MSIX_PBA, &n->msix);
	if (!ret)
		n->msix_cap = pci_cfg_find_cap(&n->pdev.cfg, PCI_CAP_ID_MSIX);
	return ret;
}

static int nvme_init_ctrl(struct nvme *n, const struct nvme_config *cfg,
			  struct gmem *mem)
{
	const char *serial = cfg->serial, *slash;
	struct nvme_ctrl_params p = {
		.mem = mem, .fd = n->fd, .nlb = n->nlb,
		.readonly = cfg->readonly, .name = n->name,
		.vid = NVME_PCI_VENDOR, .ssvid = NVME_PCI_SUBVENDOR,
		.ops = &nvme_ctrl_ops, .opaque = n,
	};

	if (!serial) {
		slash = strrchr(cfg->path, '/');
		serial = slash ? slash + 1 : cfg->path;
	}
	p.serial = serial;
	return nvme_ctrl_create(&p, &n->ctrl);
}

int nvme_create(const struct pci_dev_ctx *ctx, const struct nvme_config *cfg,
		struct nvme **out, char *err, size_t errlen)
{
	struct nvme *n;
	int ret;

	*out = NULL;
	if (!cfg->path || !*cfg->path) {
		snprintf(err, errlen, "nvme: no image path given");
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "nvme: out of memory");
		return -ENOMEM;
	}
	n->fd = -1;
	n->irq = ctx->irq;
	n->readonly = cfg->readonly;
	snprintf(n->name, sizeof(n->name), "%s", cfg->name ? cfg->name : "nvme");
	pthread_mutex_init(&n->irq_lock, NULL);
	ret = nvme_open(n, cfg, err, errlen);
	if (ret)
		goto fail;
	ret = nvme_init_ctrl(n, cfg, ctx->mem);
	if (!ret)
		ret = nvme_init_pci(n, ctx->irq);
	if (ret) {
		snprintf(err, errlen, "%s: %s", n->name, strerror(-ret));
		goto fail;
	}
	*out = n;
	return 0;
fail:
	nvme_destroy(n);
	return ret;
}

void nvme_destroy(struct nvme *n)
{
	if (!n)
		return;
	if (n->intx_asserted)
		pci_dev_set_intx(&n->pdev, false);
	pci_msix_destroy(n->msix);
	if (n->pdev.ops)
		pci_dev_fini(&n->pdev);
	nvme_ctrl_destroy(n->ctrl);
	if (n->fd >= 0) {
		/* Whatever the guest wrote reaches the disk. */
		if (!n->readonly && fdatasync(n->fd) < 0)
			log_err(n->name, "fdatasync: %m");
		close(n->fd);
	}
	pthread_mutex_destroy(&n->irq_lock);
	free(n);
}

struct pci_dev *nvme_pci(struct nvme *n)
{
	return &n->pdev;
}

uint64_t nvme_capacity(const struct nvme *n)
{
	return n->nlb;
}

void nvme_get_stats(struct nvme *n, struct nvme_ctrl_stats *out)
{
	nvme_ctrl_get_stats(n->ctrl, out);
}
