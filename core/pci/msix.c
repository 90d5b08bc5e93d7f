// SPDX-License-Identifier: MIT
/*
 * MSI-X (PCI 3.0 §6.8.2); msix.h describes who signals a vector. Routes
 * are per vector: made when first needed (the vector fires, or it goes
 * live with an eventfd signalled outside iovmm), updated in place when the
 * entry changes, and deleted only when MSI-X goes off. Every eventfd of a
 * vector - its own and the sources bound to it - is an irqfd of that one
 * route, as QEMU shares a vector's virq among the queues that use it.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pci/msix.h"
#include "core/util.h"

/* One table entry as the guest sees it (§6.8.2.3-6.8.2.6). */
struct msix_entry {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;
};

struct msix_vec {
	int efd;          /* the vector's eventfd; -1 until first use; owned */
	bool attached;    /* efd is an irqfd of gsi */
	bool routed;      /* gsi routes to (r_addr, r_data) */
	uint32_t gsi;
	uint64_t r_addr;
	uint32_t r_data;
};

struct msix_src {
	int efd;          /* borrowed; -1: no source */
	unsigned vector;  /* >= nvec: none */
	bool attached;    /* efd is an irqfd of gsi */
	uint32_t gsi;
};

struct pci_msix {
	struct pci_dev *dev;      /* borrowed; dev->msix points back */
	struct irq *irq;          /* borrowed, may be NULL */
	const struct pci_msix_hooks *hooks; /* borrowed, may be NULL */
	uint32_t cap;
	unsigned nvec, nsrc;
	unsigned table_bar, pba_bar;
	uint32_t table_off, pba_off;
	bool external;
	pthread_mutex_t lock;     /* guards everything below */
	bool enabled;
	bool func_masked;
	struct msix_entry *table; /* nvec entries */
	uint64_t *pba;            /* bits latched by notify; (nvec + 63) / 64 */
	struct msix_vec *vec;     /* nvec */
	struct msix_src *src;     /* nsrc */
	uint64_t delivered;
};

static const char *const who = "pci-msix";

static uint64_t msix_table_size(unsigned nvec)
{
	return (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE;
}

static uint64_t msix_pba_size(unsigned nvec)
{
	return ((uint64_t)nvec + 63) / 64 * 8;
}

static int efd_new(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

/* A signal waits in fd (zero-timeout poll: the counter is not consumed). */
static bool efd_waiting(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void msix_warn(const struct pci_msix *m, const char *what, unsigned i,
		      int err)
{
	log_ratelimited(LOG_WARN, who, "%s: %s %u: %s", m->dev->name, what, i,
			strerror(-err));
}

static bool msix_masked(const struct pci_msix *m, unsigned v)
{
	return m->func_masked ||
	       (m->table[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* §6.8.2.9: the vector may send its message now. */
static bool msix_live(const struct pci_msix *m, unsigned v)
{
	return m->enabled && !msix_masked(m, v);
}

/* ---- routes and irqfds (lock held) ---- */

/* Make vector v's route, or bring it up to date with its entry. */
static int msix_route_sync(struct pci_msix *m, unsigned v)
{
	struct msix_vec *x = &m->vec[v];
	const struct msix_entry *e = &m->table[v];
	uint64_t addr = e->addr_lo | (uint64_t)e->addr_hi << 32;
	int ret;

	if (x->routed) {
		if (x->r_addr == addr && x->r_data == e->data)
			return 0;
		ret = irq_msi_route_update(m->irq, x->gsi, addr, e->data);
	} else {
		ret = irq_msi_route_add(m->irq, addr, e->data, &x->gsi);
		x->routed = !ret;
	}
	if (!ret) {
		x->r_addr = addr;
		x->r_data = e->data;
	}
	return ret;
}

/* Vector v's own eventfd as an irqfd of its up-to-date route. */
static int msix_vec_attach(struct pci_msix *m, unsigned v)
{
	struct msix_vec *x = &m->vec[v];
	int ret;

	if (x->efd < 0) {
		ret = efd_new();
		if (ret < 0)
			return ret;
		x->efd = ret;
	}
	if (!m->irq)
		return 0;
	ret = msix_route_sync(m, v);
	if (!ret && !x->attached) {
		ret = irq_irqfd_attach(m->irq, x->gsi, x->efd, -1);
		x->attached = !ret;
	}
	return ret;
}

static void msix_vec_detach(struct pci_msix *m, unsigned v)
{
	struct msix_vec *x = &m->vec[v];

	if (x->attached)
		irq_irqfd_detach(m->irq, x->gsi, x->efd);
	x->attached = false;
}

/* Vector v's irqfd and route go (MSI-X off, destroy). */
static void msix_vec_unroute(struct pci_msix *m, unsigned v)
{
	struct msix_vec *x = &m->vec[v];

	msix_vec_detach(m, v);
	if (x->routed)
		irq_msi_route_del(m->irq, x->gsi);
	x->routed = false;
}

static void msix_src_wired(struct pci_msix *m, unsigned i, bool irqfd)
{
	if (m->hooks && m->hooks->source_wired)
		m->hooks->source_wired(m->dev, i, irqfd);
}

static void msix_src_detach(struct pci_msix *m, unsigned i, bool tell)
{
	struct msix_src *s = &m->src[i];

	if (!s->attached)
		return;
	if (tell)
		msix_src_wired(m, i, false);
	irq_irqfd_detach(m->irq, s->gsi, s->efd);
	s->attached = false;
}

/* Source i is an irqfd of its vector's route exactly while that is live. */
static void msix_src_sync(struct pci_msix *m, unsigned i)
{
	struct msix_src *s = &m->src[i];
	bool want = m->irq && s->efd >= 0 && s->vector < m->nvec &&
		    msix_live(m, s->vector);
	bool was = s->attached;
	uint32_t gsi = 0;
	int ret;

	if (want) {
		ret = msix_route_sync(m, s->vector);
		if (ret)
			msix_warn(m, "route of source", i, ret);
		want = !ret;
		gsi = m->vec[s->vector].gsi;
	}
	if (was && want && s->gsi == gsi)
		return;
	/*
	 * Moving to another vector's route keeps the owner out of it: KVM
	 * allows an eventfd on one GSI at a time, and a signal that comes in
	 * between waits in the counter until the attach delivers it.
	 */
	msix_src_detach(m, i, !want);
	if (!want)
		return;
	ret = irq_irqfd_attach(m->irq, gsi, s->efd, -1);
	if (ret) {
		msix_warn(m, "irqfd of source", i, ret);
		if (was)
			msix_src_wired(m, i, false);
		return;
	}
	s->attached = true;
	s->gsi = gsi;
	if (!was)
		msix_src_wired(m, i, true);
}

/* cfg.external: vector v's eventfd is an irqfd exactly while v is live. */
static void msix_ext_sync(struct pci_msix *m, unsigned v)
{
	int ret;

	if (!msix_live(m, v)) {
		msix_vec_detach(m, v);
		return;
	}
	/* A hook that fails says why itself (VFIO knows the host's hints). */
	if (!m->vec[v].attached && m->hooks && m->hooks->vector_live &&
	    m->hooks->vector_live(m->dev, v))
		return;
	ret = msix_vec_attach(m, v);
	if (ret)
		msix_warn(m, "vector", v, ret);
}

/* Entry v, or the mask state of the function, changed. */
static void msix_vec_changed(struct pci_msix *m, unsigned v)
{
	if (m->external)
		msix_ext_sync(m, v);
	for (unsigned i = 0; i < m->nsrc; i++)
		if (m->src[i].vector == v)
			msix_src_sync(m, i);
}

static void msix_sync_all(struct pci_msix *m)
{
	for (unsigned v = 0; m->external && v < m->nvec; v++)
		msix_ext_sync(m, v);
	for (unsigned i = 0; i < m->nsrc; i++)
		msix_src_sync(m, i);
}

/* Vector v fires from iovmm: its eventfd, routed as its entry says now. */
static void msix_fire(struct pci_msix *m, unsigned v)
{
	uint64_t one = 1;
	int ret = m->external ? 0 : msix_vec_attach(m, v);

	if (ret) {
		msix_warn(m, "vector", v, ret);
		return;
	}
	if (m->vec[v].efd >= 0 &&
	    write(m->vec[v].efd, &one, sizeof(one)) == sizeof(one))
		m->delivered++;
}

/* §6.8.2.9: a pending, now unmasked vector sends its message. */
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

/* MSI-X goes off: every irqfd and route goes, pending messages too. */
static void msix_off(struct pci_msix *m)
{
	for (unsigned i = 0; i < m->nsrc; i++)
		msix_src_detach(m, i, true);
	for (unsigned v = 0; v < m->nvec; v++)
		msix_vec_unroute(m, v);
	m->enabled = false;
	memset(m->pba, 0, msix_pba_size(m->nvec));
	if (m->hooks && m->hooks->enable)
		m->hooks->enable(m->dev, false, 0);
	/* After the owner let go of them (VFIO: the host's trigger). */
	for (unsigned v = 0; v < m->nvec; v++) {
		if (m->vec[v].efd >= 0)
			close(m->vec[v].efd);
		m->vec[v].efd = -1;
	}
}

static void msix_on(struct pci_msix *m)
{
	unsigned span = 0;

	m->enabled = true;
	for (unsigned v = 0; v < m->nvec; v++)
		if (!(m->table[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT))
			span = v + 1;
	if (m->hooks && m->hooks->enable)
		m->hooks->enable(m->dev, true, span);
}

/* ---- lifetime ---- */

static bool msix_bar_holds(const struct pci_dev *dev, unsigned bar,
			   uint64_t off, uint64_t size)
{
	const struct pci_bar *b;

	if (bar >= PCI_NR_BARS)
		return false;
	b = &dev->cfg.bars[bar];
	return (b->kind == PCI_BAR_MEM32 || b->kind == PCI_BAR_MEM64) &&
	       off < b->size && size <= b->size - off;
}

static int msix_check(const struct pci_dev *dev,
		      const struct pci_msix_config *c)
{
	uint64_t tsize = msix_table_size(c->nr_vectors);
	uint64_t psize = msix_pba_size(c->nr_vectors);

	if (c->nr_vectors == 0 || c->nr_vectors > PCI_MSIX_MAX_VECTORS ||
	    dev->msix || (c->table_off | c->pba_off) & 7)
		return -EINVAL;
	if (c->cap && (c->cap < PCI_CAP_START ||
		       c->cap + PCI_MSIX_CAP_LEN > PCI_CFG_LEGACY_SIZE))
		return -EINVAL;
	if (!msix_bar_holds(dev, c->table_bar, c->table_off, tsize) ||
	    !msix_bar_holds(dev, c->pba_bar, c->pba_off, psize))
		return -EINVAL;
	if (c->table_bar == c->pba_bar &&
	    ranges_overlap(c->table_off, tsize, c->pba_off, psize))
		return -EINVAL;
	return 0;
}

static void msix_free(struct pci_msix *m)
{
	free(m->src);
	free(m->vec);
	free(m->pba);
	free(m->table);
	free(m);
}

int pci_msix_create_cfg(struct pci_dev *dev, struct irq *irq,
			const struct pci_msix_config *c, struct pci_msix **out)
{
	unsigned n = c->nr_vectors;
	struct pci_msix *m;
	int ret;

	ret = msix_check(dev, c);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->table = calloc(n, sizeof(*m->table));
	m->pba = calloc(msix_pba_size(n) / 8, sizeof(*m->pba));
	m->vec = calloc(n, sizeof(*m->vec));
	m->src = calloc(c->nr_sources ? c->nr_sources : 1, sizeof(*m->src));
	if (!m->table || !m->pba || !m->vec || !m->src) {
		msix_free(m);
		return -ENOMEM;
	}
	*m = (struct pci_msix){
		.dev = dev, .irq = irq, .hooks = c->hooks, .cap = c->cap,
		.nvec = n, .nsrc = c->nr_sources,
		.table_bar = c->table_bar, .pba_bar = c->pba_bar,
		.table_off = c->table_off, .pba_off = c->pba_off,
		.external = c->external,
		.table = m->table, .pba = m->pba, .vec = m->vec, .src = m->src,
	};
	for (unsigned v = 0; v < n; v++) {
		m->vec[v].efd = -1;
		m->table[v].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT; /* §6.8.2.9 */
	}
	for (unsigned i = 0; i < m->nsrc; i++)
		m->src[i] = (struct msix_src){ .efd = -1, .vector = UINT32_MAX };
	if (!m->cap) {
		ret = pci_cfg_add_cap(&dev->cfg, PCI_CAP_ID_MSIX,
				      PCI_MSIX_CAP_LEN, &m->cap);
		if (ret) {
			msix_free(m);
			return ret;
		}
	}
	/* Table Size, BIRs and offsets are read-only (§6.8.2.2-6.8.2.5). */
	pci_cfg_declare(&dev->cfg, m->cap + PCI_MSIX_FLAGS, 2, n - 1,
			PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
	pci_cfg_declare(&dev->cfg, m->cap + PCI_MSIX_TABLE, 4,
			c->table_off | c->table_bar, 0, 0);
	pci_cfg_declare(&dev->cfg, m->cap + PCI_MSIX_PBA, 4,
			c->pba_off | c->pba_bar, 0, 0);
	pthread_mutex_init(&m->lock, NULL);
	dev->msix = m;
	*out = m;
	return 0;
}

int pci_msix_create(struct pci_dev *dev, struct irq *irq, unsigned nr_vectors,
		    unsigned bar, uint32_t table_off, uint32_t pba_off,
		    struct pci_msix **out)
{
	const struct pci_msix_config c = {
		.nr_vectors = nr_vectors,
		.table_bar = bar, .table_off = table_off,
		.pba_bar = bar, .pba_off = pba_off,
	};

	return pci_msix_create_cfg(dev, irq, &c, out);
}

void pci_msix_destroy(struct pci_msix *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->nsrc; i++)
		msix_src_detach(m, i, false);
	for (unsigned v = 0; v < m->nvec; v++) {
		msix_vec_unroute(m, v);
		if (m->vec[v].efd >= 0)
			close(m->vec[v].efd);
	}
	if (m->dev->msix == m)
		m->dev->msix = NULL;
	pthread_mutex_destroy(&m->lock);
	msix_free(m);
}

void pci_msix_reset(struct pci_msix *m)
{
	pthread_mutex_lock(&m->lock);
	if (m->enabled)
		msix_off(m);
	m->func_masked = false;
	for (unsigned v = 0; v < m->nvec; v++)
		m->table[v] = (struct msix_entry){
			.ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT,
		};
	memset(m->pba, 0, msix_pba_size(m->nvec));
	pthread_mutex_unlock(&m->lock);
}

/* ---- config space: Message Control (§6.8.2.3) ---- */

void pci_msix_cfg_sync(struct pci_msix *m, struct pci_cfg *cfg, uint32_t off,
		       uint32_t len)
{
	/* Nothing device-owned in the capability: the PBA lives in a BAR. */
}

void pci_msix_cfg_written(struct pci_msix *m, struct pci_cfg *cfg,
			  uint32_t off, uint32_t len)
{
	uint16_t ctrl;
	bool on;

	if (!ranges_overlap(off, len, m->cap, PCI_MSIX_CAP_LEN))
		return;
	ctrl = (uint16_t)pci_cfg_read(cfg, m->cap + PCI_MSIX_FLAGS, 2);
	on = ctrl & PCI_MSIX_FLAGS_ENABLE;
	pthread_mutex_lock(&m->lock);
	if (m->enabled && !on)
		msix_off(m);
	m->func_masked = ctrl & PCI_MSIX_FLAGS_MASKALL;
	if (!m->enabled && on)
		msix_on(m);
	if (on)
		msix_sync_all(m);
	msix_flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

/* ---- signalling ---- */

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

int pci_msix_source_bind(struct pci_msix *m, unsigned src, int efd,
			 unsigned vector)
{
	struct msix_src *s;

	if (!m || src >= m->nsrc)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	s = &m->src[src];
	if (s->efd != efd)
		msix_src_detach(m, src, true);
	s->efd = efd;
	s->vector = vector < m->nvec ? vector : UINT32_MAX;
	msix_src_sync(m, src);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

bool pci_msix_source_irqfd(struct pci_msix *m, unsigned src)
{
	bool on = false;

	if (!m || src >= m->nsrc)
		return false;
	pthread_mutex_lock(&m->lock);
	on = m->src[src].attached;
	pthread_mutex_unlock(&m->lock);
	return on;
}

int pci_msix_hook_eventfd(struct pci_msix *m, unsigned v)
{
	struct msix_vec *x;
	int fd;

	if (v >= m->nvec)
		return -EINVAL;
	x = &m->vec[v];
	if (x->efd < 0) {
		fd = efd_new();
		if (fd < 0)
			return fd;
		x->efd = fd;
	}
	return x->efd;
}

/* ---- the BAR side: table and PBA ---- */

/* §6.8.2: table and PBA take aligned dword or qword accesses. */
static bool msix_access_ok(uint64_t off, uint32_t len, uint64_t start,
			   uint64_t size)
{
	return (len == 4 || len == 8) && IS_ALIGNED(off, len) &&
	       off >= start && off + len <= start + size;
}

/*
 * PBA word w: bits latched by notify, and the eventfds signalled outside
 * iovmm whose count waits while they are not irqfds.
 */
static uint64_t msix_pba_word(struct pci_msix *m, unsigned w)
{
	uint64_t bits = m->pba[w];
	unsigned lo = w * 64, hi = lo + 64 < m->nvec ? lo + 64 : m->nvec;

	if (!m->enabled)
		return bits;
	for (unsigned v = lo; m->external && v < hi; v++)
		if (!m->vec[v].attached && efd_waiting(m->vec[v].efd))
			bits |= 1ULL << (v % 64);
	for (unsigned i = 0; i < m->nsrc; i++) {
		const struct msix_src *s = &m->src[i];

		if (s->vector >= lo && s->vector < hi && !s->attached &&
		    efd_waiting(s->efd))
			bits |= 1ULL << (s->vector % 64);
	}
	return bits;
}

bool pci_msix_bar_read(struct pci_msix *m, unsigned bar, uint64_t off,
		       void *data, uint32_t len)
{
	uint64_t tsize = msix_table_size(m->nvec);
	uint64_t psize = msix_pba_size(m->nvec);
	uint64_t rel, word;

	if (bar == m->table_bar && ranges_overlap(off, len, m->table_off, tsize)) {
		memset(data, 0, len);
		if (!msix_access_ok(off, len, m->table_off, tsize))
			return true;
		pthread_mutex_lock(&m->lock);
		memcpy(data, (const uint8_t *)m->table + (off - m->table_off),
		       len);
		pthread_mutex_unlock(&m->lock);
		return true;
	}
	if (bar == m->pba_bar && ranges_overlap(off, len, m->pba_off, psize)) {
		memset(data, 0, len);
		if (!msix_access_ok(off, len, m->pba_off, psize))
			return true;
		rel = off - m->pba_off;
		pthread_mutex_lock(&m->lock);
		word = msix_pba_word(m, (unsigned)(rel / 8));
		pthread_mutex_unlock(&m->lock);
		memcpy(data, (const uint8_t *)&word + rel % 8, len);
		return true;
	}
	return false;
}

bool pci_msix_bar_write(struct pci_msix *m, unsigned bar, uint64_t off,
			const void *data, uint32_t len)
{
	uint64_t tsize = msix_table_size(m->nvec);
	uint64_t psize = msix_pba_size(m->nvec);
	struct msix_entry *e;
	uint64_t rel;

	if (bar == m->pba_bar && ranges_overlap(off, len, m->pba_off, psize))
		return true; /* the PBA is read-only */
	if (bar != m->table_bar || !ranges_overlap(off, len, m->table_off, tsize))
		return false;
	if (!msix_access_ok(off, len, m->table_off, tsize))
		return true;
	rel = off - m->table_off;
	e = &m->table[rel / PCI_MSIX_ENTRY_SIZE];
	pthread_mutex_lock(&m->lock);
	memcpy((uint8_t *)m->table + rel, data, len);
	/* §6.8.2.4: address bits 1:0 read as 0 (dword-aligned message). */
	e->addr_lo &= ~3u;
	/* Reserved vector-control bits are read-only zero (§6.8.2.6). */
	e->ctrl &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
	msix_vec_changed(m, (unsigned)(rel / PCI_MSIX_ENTRY_SIZE));
	msix_flush_pending(m);
	pthread_mutex_unlock(&m->lock);
	return true;
}

/* ---- introspection ---- */

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

bool pci_msix_vector_irqfd(struct pci_dev *dev, unsigned v)
{
	struct pci_msix *m = dev->msix;
	bool on;

	if (!m || v >= m->nvec)
		return false;
	pthread_mutex_lock(&m->lock);
	on = m->vec[v].attached;
	pthread_mutex_unlock(&m->lock);
	return on;
}
