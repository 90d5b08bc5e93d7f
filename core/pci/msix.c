// SPDX-License-Identifier: MIT
/*
 * MSI-X capability emulation (PCI 3.0 sec 6.8.2). GSI routes are made
 * lazily, the first time a vector fires unmasked, and kept (updated when the
 * entry changes) until MSI-X is disabled: virtio drivers program far more
 * vectors than they use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pci/msix.h"
#include "core/util.h"

struct msix_entry {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;
};

struct msix_vec {
	int efd;          /* -1 until first use */
	bool routed;
	uint32_t gsi;
	uint64_t r_addr;  /* what the route currently says */
	uint32_t r_data;
};

struct pci_msix {
	struct pci_dev *dev;      /* borrowed; dev->msix points back */
	struct irq *irq;          /* borrowed, may be NULL */
	uint32_t cap;
	unsigned nvec;
	unsigned bar;
	uint32_t table_off, pba_off;
	pthread_mutex_t lock;     /* guards everything below */
	bool enabled;
	bool func_masked;
	struct msix_entry *table; /* nvec entries */
	uint64_t *pba;            /* (nvec + 63) / 64 words */
	struct msix_vec *vec;     /* nvec */
	uint64_t delivered;
};

static const char *const who = "pci-msix";

static bool msix_masked(const struct pci_msix *m, unsigned v)
{
	return m->func_masked ||
	       (m->table[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static void msix_vec_release(struct pci_msix *m, unsigned v)
{
	struct msix_vec *x = &m->vec[v];

	if (x->routed) {
		irq_irqfd_detach(m->irq, x->gsi, x->efd);
		irq_msi_route_del(m->irq, x->gsi);
		x->routed = false;
	}
	if (x->efd >= 0) {
		close(x->efd);
		x->efd = -1;
	}
}

/* Make (or refresh) vector v's route from its table entry. */
static int msix_vec_prepare(struct pci_msix *m, unsigned v)
{
	struct msix_vec *x = &m->vec[v];
	const struct msix_entry *e = &m->table[v];
	uint64_t addr = e->addr_lo | (uint64_t)e->addr_hi << 32;
	int ret;

	if (x->efd < 0) {
		x->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (x->efd < 0)
			return -errno;
	}
	if (!m->irq)
		return 0;
	if (x->routed) {
		if (x->r_addr == addr && x->r_data == e->data)
			return 0;
		ret = irq_msi_route_update(m->irq, x->gsi, addr, e->data);
	} else {
		ret = irq_msi_route_add(m->irq, addr, e->data, &x->gsi);
		if (!ret) {
			ret = irq_irqfd_attach(m->irq, x->gsi, x->efd, -1);
			if (ret)
				irq_msi_route_del(m->irq, x->gsi);
			else
				x->routed = true;
		}
	}
	if (!ret) {
		x->r_addr = addr;
		x->r_data = e->data;
	}
	return ret;
}

static void msix_fire(struct pci_msix *m, unsigned v)
{
	uint64_t one = 1;
	int ret = msix_vec_prepare(m, v);

	if (ret) {
		log_ratelimited(LOG_WARN, who, "%s: vector %u: %s",
				m->dev->name, v, strerror(-ret));
		return;
	}
	if (write(m->vec[v].efd, &one, sizeof(one)) == sizeof(one))
		m->delivered++;
}

/* sec 6.8.2.9: a pending, now unmasked vector sends its message. */
static void msix_flush_pending(struct pci_msix *m)
{
	if (!m->enabled || m->func_masked)
		return;
	for (unsigned v = 0; v < m->nvec; v++) {
		uint64_t bit = 1ULL << (v % 64);

		if ((m->pba[v / 64] & bit) && !msix_masked(m, v)) {
			m->pba[v / 64] &= ~bit;
			msix_fire(m, v);
		}
	}
}

int pci_msix_create(struct pci_dev *dev, struct irq *irq, unsigned nr_vectors,
		    unsigned bar, uint32_t table_off, uint32_t pba_off,
		    struct pci_msix **out)
{
	uint64_t tsize = (uint64_t)nr_vectors * PCI_MSIX_ENTRY_SIZE;
	uint64_t psize = ((uint64_t)nr_vectors + 63) / 64 * 8;
	const struct pci_bar *b;
	struct pci_msix *m;
	int ret = -ENOMEM;

	if (nr_vectors == 0 || nr_vectors > PCI_MSIX_MAX_VECTORS ||
	    bar >= PCI_NR_BARS || dev->msix || (table_off | pba_off) & 7)
		return -EINVAL;
	b = &dev->cfg.bars[bar];
	if (b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64)
		return -EINVAL;
	if (table_off + tsize > b->size || pba_off + psize > b->size ||
	    ranges_overlap(table_off, tsize, pba_off, psize))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->table = calloc(nr_vectors, sizeof(*m->table));
	m->pba = calloc(psize / 8, sizeof(*m->pba));
	m->vec = calloc(nr_vectors, sizeof(*m->vec));
	if (!m->table || !m->pba || !m->vec)
		goto err;
	m->dev = dev;
	m->irq = irq;
	m->nvec = nr_vectors;
	m->bar = bar;
	m->table_off = table_off;
	m->pba_off = pba_off;
	for (unsigned v = 0; v < nr_vectors; v++) {
		m->vec[v].efd = -1;
		m->table[v].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT; /* reset state */
	}
	ret = pci_cfg_add_cap(&dev->cfg, PCI_CAP_ID_MSIX, 12, &m->cap);
	if (ret)
		goto err;
	pci_cfg_declare(&dev->cfg, m->cap + PCI_MSIX_FLAGS, 2, nr_vectors - 1,
			PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
	pci_cfg_declare(&dev->cfg, m->cap + PCI_MSIX_TABLE, 4, table_off | bar,
			0, 0);
	pci_cfg_declare(&dev->cfg, m->cap + PCI_MSIX_PBA, 4, pba_off | bar, 0, 0);
	pthread_mutex_init(&m->lock, NULL);
	dev->msix = m;
	*out = m;
	return 0;

err:
	free(m->vec);
	free(m->pba);
	free(m->table);
	free(m);
	return ret;
}

void pci_msix_destroy(struct pci_msix *m)
{
	if (!m)
		return;
	for (unsigned v = 0; v < m->nvec; v++)
		msix_vec_release(m, v);
	if (m->dev->msix == m)
		m->dev->msix = NULL;
	pthread_mutex_destroy(&m->lock);
	free(m->vec);
	free(m->pba);
	free(m->table);
	free(m);
}

void pci_msix_cfg_sync(struct pci_msix *m, struct pci_cfg *cfg, uint32_t off,
		       uint32_t len)
{
	/* Nothing device-owned in the capability: the PBA lives in the BAR. */
}

void pci_msix_cfg_written(struct pci_msix *m, struct pci_cfg *cfg,
			  uint32_t off, uint32_t len)
{
	uint16_t ctrl;

	if (!ranges_overlap(off, len, m->cap, 12))
		return;
	ctrl = (uint16_t)pci_cfg_read(cfg, m->cap + PCI_MSIX_FLAGS, 2);
	pthread_mutex_lock(&m->lock);
	m->func_masked = ctrl & PCI_MSIX_FLAGS_MASKALL;
	if (m->enabled && !(ctrl & PCI_MSIX_FLAGS_ENABLE)) {
		for (unsigned v = 0; v < m->nvec; v++)
			msix_vec_release(m, v);
		memset(m->pba, 0, (m->nvec + 63) / 64 * 8);
	}
	m->enabled = ctrl & PCI_MSIX_FLAGS_ENABLE;
	msix_flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

int pci_msix_notify(struct pci_dev *dev, unsigned v)
{
	struct pci_msix *m = dev->msix;
	int ret = 0;

	if (!m)
		return -EAGAIN;
	if (v >= m->nvec)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (!m->enabled)
		ret = -EAGAIN;
	else if (msix_masked(m, v))
		m->pba[v / 64] |= 1ULL << (v % 64);
	else
		msix_fire(m, v);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* sec 6.8.2: table and PBA take aligned dword or qword accesses. */
static bool msix_access_ok(uint64_t off, uint32_t len)
{
	return (len == 4 || len == 8) && IS_ALIGNED(off, len);
}

bool pci_msix_bar_read(struct pci_msix *m, unsigned bar, uint64_t off,
		       void *data, uint32_t len)
{
	uint64_t tsize = (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE;
	uint64_t psize = ((uint64_t)m->nvec + 63) / 64 * 8;
	const uint8_t *src;

	if (bar != m->bar)
		return false;
	if (ranges_overlap(off, len, m->table_off, tsize)) {
		memset(data, 0, len);
		if (!msix_access_ok(off, len) || off < m->table_off ||
		    off + len > m->table_off + tsize)
			return true;
		pthread_mutex_lock(&m->lock);
		src = (const uint8_t *)m->table + (off - m->table_off);
		memcpy(data, src, len);
		pthread_mutex_unlock(&m->lock);
		return true;
	}
	if (ranges_overlap(off, len, m->pba_off, psize)) {
		memset(data, 0, len);
		if (!msix_access_ok(off, len) || off < m->pba_off ||
		    off + len > m->pba_off + psize)
			return true;
		pthread_mutex_lock(&m->lock);
		src = (const uint8_t *)m->pba + (off - m->pba_off);
		memcpy(data, src, len);
		pthread_mutex_unlock(&m->lock);
		return true;
	}
	return false;
}

bool pci_msix_bar_write(struct pci_msix *m, unsigned bar, uint64_t off,
			const void *data, uint32_t len)
{
	uint64_t tsize = (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE;
	uint64_t psize = ((uint64_t)m->nvec + 63) / 64 * 8;
	uint8_t *dst;

	if (bar != m->bar)
		return false;
	if (ranges_overlap(off, len, m->pba_off, psize))
		return true; /* the PBA is read-only */
	if (!ranges_overlap(off, len, m->table_off, tsize))
		return false;
	if (!msix_access_ok(off, len) || off < m->table_off ||
	    off + len > m->table_off + tsize)
		return true;
	pthread_mutex_lock(&m->lock);
	dst = (uint8_t *)m->table + (off - m->table_off);
	memcpy(dst, data, len);
	/* Reserved vector-control bits are read-only zero. */
	m->table[(off - m->table_off) / PCI_MSIX_ENTRY_SIZE].ctrl &=
		PCI_MSIX_ENTRY_CTRL_MASKBIT;
	msix_flush_pending(m);
	pthread_mutex_unlock(&m->lock);
	return true;
}

uint64_t pci_msix_delivered(struct pci_dev *dev)
{
	uint64_t n = 0;

	if (dev->msix) {
		pthread_mutex_lock(&dev->msix->lock);
		n = dev->msix->delivered;
		pthread_mutex_unlock(&dev->msix->lock);
	}
	return n;
}

int pci_msix_vector_gsi(struct pci_dev *dev, unsigned v, uint32_t *gsi)
{
	struct pci_msix *m = dev->msix;
	int ret = -ENOENT;

	if (!m || v >= m->nvec)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	if (m->vec[v].routed) {
		*gsi = m->vec[v].gsi;
		ret = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

int pci_msix_vector_fd(struct pci_dev *dev, unsigned v)
{
	struct pci_msix *m = dev->msix;
	int fd;

	if (!m || v >= m->nvec)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	fd = m->vec[v].efd;
	pthread_mutex_unlock(&m->lock);
	return fd >= 0 ? fd : -ENOENT;
}
