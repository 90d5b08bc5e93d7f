// SPDX-License-Identifier: MIT
/* MSI capability emulation (PCI 3.0 sec 6.8.1) on top of irqfd routes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pci/msi.h"
#include "core/util.h"

#define MSI_MAX_VECTORS 32

struct pci_msi {
	struct pci_dev *dev;   /* borrowed; dev->msi points back */
	struct irq *irq;       /* borrowed, may be NULL */
	uint32_t cap;          /* capability offset in config space */
	uint32_t cap_len;
	unsigned max_vectors;
	bool maskable;
	pthread_mutex_t lock;  /* guards everything below */
	bool enabled;
	unsigned nvec;         /* vectors enabled by MME */
	uint64_t addr;
	uint16_t data;
	uint32_t mask;
	uint32_t pending;
	int efd[MSI_MAX_VECTORS];
	uint32_t gsi[MSI_MAX_VECTORS];
	bool routed[MSI_MAX_VECTORS];
	uint64_t delivered;
};

static const char *const who = "pci-msi";

static uint32_t msi_vec_data(const struct pci_msi *m, unsigned v)
{
	/* sec 6.8.1.6: the low log2(nvec) data bits carry the vector. */
	return (m->data & ~(uint32_t)(m->nvec - 1)) | v;
}

static void msi_teardown(struct pci_msi *m)
{
	for (unsigned v = 0; v < MSI_MAX_VECTORS; v++) {
		if (m->routed[v]) {
			irq_irqfd_detach(m->irq, m->gsi[v], m->efd[v]);
			irq_msi_route_del(m->irq, m->gsi[v]);
			m->routed[v] = false;
		}
		if (m->efd[v] >= 0) {
			close(m->efd[v]);
			m->efd[v] = -1;
		}
	}
	m->enabled = false;
}

static int msi_setup(struct pci_msi *m)
{
	int ret;

	for (unsigned v = 0; v < m->nvec; v++) {
		m->efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->efd[v] < 0) {
			ret = -errno;
			goto err;
		}
		if (!m->irq)
			continue;
		ret = irq_msi_route_add(m->irq, m->addr, msi_vec_data(m, v),
					&m->gsi[v]);
		if (ret)
			goto err;
		ret = irq_irqfd_attach(m->irq, m->gsi[v], m->efd[v], -1);
		if (ret) {
			irq_msi_route_del(m->irq, m->gsi[v]);
			goto err;
		}
		m->routed[v] = true;
	}
	m->enabled = true;
	return 0;

err:
	msi_teardown(m);
	return ret;
}

static void msi_fire(struct pci_msi *m, unsigned v)
{
	uint64_t one = 1;

	if (write(m->efd[v], &one, sizeof(one)) == sizeof(one))
		m->delivered++;
}

int pci_msi_create(struct pci_dev *dev, struct irq *irq, unsigned nr_vectors,
		   bool per_vector_mask, struct pci_msi **out)
{
	struct pci_msi *m;
	uint16_t ctrl;
	int ret;

	if (!IS_POW2(nr_vectors) || nr_vectors > MSI_MAX_VECTORS || dev->msi)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->dev = dev;
	m->irq = irq;
	m->max_vectors = nr_vectors;
	m->maskable = per_vector_mask;
	m->nvec = 1;
	for (unsigned v = 0; v < MSI_MAX_VECTORS; v++)
		m->efd[v] = -1;
	/* 64-bit layouts: 14 bytes (16 here), 24 with the mask/pending pair. */
	m->cap_len = per_vector_mask ? 24 : 16;
	ret = pci_cfg_add_cap(&dev->cfg, PCI_CAP_ID_MSI, m->cap_len, &m->cap);
	if (ret) {
		free(m);
		return ret;
	}
	ctrl = PCI_MSI_FLAGS_64BIT | (uint16_t)(__builtin_ctz(nr_vectors) << 1) |
	       (per_vector_mask ? PCI_MSI_FLAGS_MASKBIT : 0);
	pci_cfg_declare(&dev->cfg, m->cap + PCI_MSI_FLAGS, 2, ctrl,
			PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, 0);
	pci_cfg_declare(&dev->cfg, m->cap + PCI_MSI_ADDRESS_LO, 4, 0,
			0xfffffffc, 0);
	pci_cfg_declare(&dev->cfg, m->cap + PCI_MSI_ADDRESS_HI, 4, 0,
			0xffffffff, 0);
	pci_cfg_declare(&dev->cfg, m->cap + PCI_MSI_DATA_64, 2, 0, 0xffff, 0);
	if (per_vector_mask)
		pci_cfg_declare(&dev->cfg, m->cap + PCI_MSI_MASK_64, 4, 0,
				nr_vectors == 32 ? UINT32_MAX :
						   (1u << nr_vectors) - 1, 0);
	pthread_mutex_init(&m->lock, NULL);
	dev->msi = m;
	*out = m;
	return 0;
}

void pci_msi_destroy(struct pci_msi *msi)
{
	if (!msi)
		return;
	msi_teardown(msi);
	if (msi->dev->msi == msi)
		msi->dev->msi = NULL;
	pthread_mutex_destroy(&msi->lock);
	free(msi);
}

void pci_msi_cfg_sync(struct pci_msi *m, struct pci_cfg *cfg, uint32_t off,
		      uint32_t len)
{
	if (!m->maskable ||
	    !ranges_overlap(off, len, m->cap + PCI_MSI_PENDING_64, 4))
		return;
	pthread_mutex_lock(&m->lock);
	pci_cfg_set(cfg, m->cap + PCI_MSI_PENDING_64, m->pending, 4);
	pthread_mutex_unlock(&m->lock);
}

void pci_msi_cfg_written(struct pci_msi *m, struct pci_cfg *cfg, uint32_t off,
			 uint32_t len)
{
	uint16_t ctrl;
	bool enable;
	unsigned nvec;
	uint64_t addr;
	uint16_t data;
	uint32_t mask, unmasked;

	if (!ranges_overlap(off, len, m->cap, m->cap_len))
		return;
	ctrl = (uint16_t)pci_cfg_read(cfg, m->cap + PCI_MSI_FLAGS, 2);
	enable = ctrl & PCI_MSI_FLAGS_ENABLE;
	/* MME above MMC is undefined (sec 6.8.1.3): clamp it. */
	nvec = 1u << ((ctrl & PCI_MSI_FLAGS_QSIZE) >> 4);
	if (nvec > m->max_vectors)
		nvec = m->max_vectors;
	addr = pci_cfg_read(cfg, m->cap + PCI_MSI_ADDRESS_LO, 4) |
	       (uint64_t)pci_cfg_read(cfg, m->cap + PCI_MSI_ADDRESS_HI, 4) << 32;
	data = (uint16_t)pci_cfg_read(cfg, m->cap + PCI_MSI_DATA_64, 2);
	mask = m->maskable ? pci_cfg_read(cfg, m->cap + PCI_MSI_MASK_64, 4) : 0;

	pthread_mutex_lock(&m->lock);
	if (m->enabled && (!enable || nvec != m->nvec))
		msi_teardown(m);
	if (enable && !m->enabled) {
		m->nvec = nvec;
		m->addr = addr;
		m->data = data;
		int ret = msi_setup(m);
		if (ret)
			log_ratelimited(LOG_WARN, who, "%s: enabling MSI: %s",
					m->dev->name, strerror(-ret));
	} else if (m->enabled && (addr != m->addr || data != m->data)) {
		m->addr = addr;
		m->data = data;
		for (unsigned v = 0; v < m->nvec && m->irq; v++)
			irq_msi_route_update(m->irq, m->gsi[v], addr,
					     msi_vec_data(m, v));
	}
	m->addr = addr;
	m->data = data;
	unmasked = m->mask & ~mask;
	m->mask = mask;
	if (!enable)
		m->pending = 0;
	for (unsigned v = 0; m->enabled && v < m->nvec; v++) {
		if ((unmasked & m->pending) & (1u << v)) {
			m->pending &= ~(1u << v);
			msi_fire(m, v);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

int pci_msi_notify(struct pci_dev *dev, unsigned vector)
{
	struct pci_msi *m = dev->msi;
	int ret = 0;

	if (!m)
		return -EAGAIN;
	pthread_mutex_lock(&m->lock);
	if (!m->enabled || vector >= m->nvec)
		ret = -EAGAIN;
	else if (m->mask & (1u << vector))
		m->pending |= 1u << vector;
	else
		msi_fire(m, vector);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

bool pci_msi_enabled(struct pci_dev *dev)
{
	bool en = false;

	if (dev->msi) {
		pthread_mutex_lock(&dev->msi->lock);
		en = dev->msi->enabled;
		pthread_mutex_unlock(&dev->msi->lock);
	}
	return en;
}

uint64_t pci_msi_delivered(struct pci_dev *dev)
{
	uint64_t n = 0;

	if (dev->msi) {
		pthread_mutex_lock(&dev->msi->lock);
		n = dev->msi->delivered;
		pthread_mutex_unlock(&dev->msi->lock);
	}
	return n;
}

int pci_msi_vector_gsi(struct pci_dev *dev, unsigned vector, uint32_t *gsi)
{
	struct pci_msi *m = dev->msi;
	int ret = -ENOENT;

	if (!m || vector >= MSI_MAX_VECTORS)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (m->routed[vector]) {
		*gsi = m->gsi[vector];
		ret = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

int pci_msi_vector_fd(struct pci_dev *dev, unsigned vector)
{
	struct pci_msi *m = dev->msi;
	int fd;

	if (!m || vector >= MSI_MAX_VECTORS)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	fd = m->efd[vector];
	pthread_mutex_unlock(&m->lock);
	return fd >= 0 ? fd : -ENOENT;
}
