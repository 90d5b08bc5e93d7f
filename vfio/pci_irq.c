// SPDX-License-Identifier: MIT
/*
 * Interrupts of an assigned function: MSI-X, MSI and INTx, each an eventfd
 * the host kernel signals (VFIO_DEVICE_SET_IRQS) and KVM injects (irqfd),
 * so no interrupt passes through iovmm.
 *
 * MSI-X (PCI 3.0 sec 6.8.2) and MSI (sec 6.8.1): the guest's capability
 * registers and MSI-X table are emulated; the host owns the real ones (with
 * interrupt remapping they hold remappable-format entries). Each vector the
 * guest uses has an eventfd handed to VFIO and a GSI routed to the guest's
 * (address, data); guest writes to address/data update the route.
 *
 * Masking: a masked vector's irqfd is detached from its GSI, so the host's
 * signals accumulate in the eventfd counter instead of reaching the guest.
 * That counter is the pending bit: the PBA (and MSI Pending) read it with a
 * zero-timeout poll(). Unmasking re-attaches the irqfd, and KVM delivers a
 * message that was counted meanwhile (kvm_irqfd_assign() checks for an
 * already-signalled eventfd), which is the deferred delivery sec 6.8.2.9
 * asks for. The host keeps the real vector unmasked throughout.
 *
 * MSI-X vectors are handed to VFIO as the guest unmasks them: at enable,
 * up to the highest unmasked vector, and more later. Kernels that cannot
 * add vectors to an enabled index (VFIO_IRQ_INFO_NORESIZE, Linux < 6.5)
 * need MSI-X disabled and re-enabled for that, as QEMU does; a message the
 * device raises in that instant is lost. Drivers unmask their vectors while
 * setting up queues, before I/O, where this does not matter.
 *
 * INTx: the trigger eventfd is an irqfd of the pin's GSI with a resample
 * eventfd that VFIO uses as its unmask eventfd: VFIO masks the host line
 * when it fires, the guest's EOI resamples the level and unmasks it.
 * INTx is off while MSI or MSI-X is on (VFIO allows one index at a time).
 */
#include <errno.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pci/msi.h"
#include "core/pci/msix.h"
#include "core/util.h"
#include "vfio/pci_internal.h"

static const char *const who = "vfio-pci";

static int efd_new(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

static bool efd_pending(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int vset(struct vfio_pci *v, unsigned index, uint32_t action,
		unsigned start, unsigned count, const int *fds)
{
	return v->vdev->ops->irq_set(v->vdev, index, action, start, count, fds);
}

/* -EPERM from VFIO's MSI setup means the host cannot remap interrupts. */
static const char *irq_hint(int err)
{
	return err == -EPERM ? " (host has no interrupt remapping; set vfio_iommu_type1.allow_unsafe_interrupts=1 to override)" : "";
}

static uint32_t get_le(const uint8_t *p, uint32_t len)
{
	uint32_t x = 0;

	for (uint32_t i = 0; i < len; i++)
		x |= (uint32_t)p[i] << (8 * i);
	return x;
}

/* ---- INTx (irq_lock held) ---- */

static void intx_off(struct vfio_pci *v)
{
	struct vfio_pci_intx *x = &v->intx;

	if (!x->active)
		return;
	if (v->ctx.irq)
		irq_irqfd_detach(v->ctx.irq, x->gsi, x->trigger);
	vset(v, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	close_fd(&x->trigger);
	close_fd(&x->resample);
	x->active = false;
}

static int intx_on(struct vfio_pci *v)
{
	struct vfio_pci_intx *x = &v->intx;
	int ret;

	if (!x->wired || x->active || v->msi.enabled || v->msix.enabled)
		return 0;
	x->trigger = efd_new();
	x->resample = efd_new();
	if (x->trigger < 0 || x->resample < 0) {
		ret = x->trigger < 0 ? x->trigger : x->resample;
		goto err;
	}
	ret = vset(v, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0,
		   1, &x->trigger);
	if (ret)
		goto err;
	ret = vset(v, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
		   &x->resample);
	if (!ret && v->ctx.irq)
		ret = irq_irqfd_attach(v->ctx.irq, x->gsi, x->trigger, x->resample);
	if (ret) {
		vset(v, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
		     NULL);
		goto err;
	}
	x->active = true;
	return 0;
err:
	close_fd(&x->trigger);
	close_fd(&x->resample);
	log_warn(who, "%s: INTx: %s", v->bdf, strerror(-ret));
	return ret;
}

int vfio_pci_intx_wire(struct vfio_pci *v, uint32_t gsi)
{
	int ret;

	pthread_mutex_lock(&v->irq_lock);
	if (!v->intx.present) {
		pthread_mutex_unlock(&v->irq_lock);
		return -ENOTSUP;
	}
	intx_off(v);
	v->intx.gsi = gsi;
	v->intx.wired = true;
	ret = intx_on(v);
	pthread_mutex_unlock(&v->irq_lock);
	return ret;
}

/* ---- MSI ---- */

int vfio_pci_msi_init(struct vfio_pci *v, uint32_t cap, char *err,
		      size_t errlen)
{
	struct vfio_pci_msi *m = &v->msi;
	uint16_t ctrl = (uint16_t)get_le(&v->real_cfg[cap + PCI_MSI_FLAGS], 2);
	struct pci_cfg *c = &v->pdev.cfg;
	struct vfio_irq info;
	unsigned mmc = (ctrl & PCI_MSI_FLAGS_QMASK) >> 1;
	uint32_t d;

	if (v->vdev->ops->irq_info(v->vdev, VFIO_PCI_MSI_IRQ_INDEX, &info) ||
	    !info.count)
		return -ENOTSUP;
	m->max_vec = 1u << (mmc > 5 ? 5 : mmc);
	while (m->max_vec > info.count)
		m->max_vec >>= 1;
	m->is64 = ctrl & PCI_MSI_FLAGS_64BIT;
	m->maskable = ctrl & PCI_MSI_FLAGS_MASKBIT;
	m->cap = cap;
	m->data_off = m->is64 ? 12 : 8;
	m->len = m->data_off + 2 + (m->maskable ? 10 : 0);
	m->nvec = 1;
	for (unsigned i = 0; i < VFIO_MSI_MAX_VECTORS; i++)
		m->efd[i] = -1;
	/* MMC says what VFIO can give us; enable and MME are the guest's. */
	pci_cfg_declare(c, cap + PCI_MSI_FLAGS, 2,
			(ctrl & (PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT)) |
				(uint16_t)(__builtin_ctz(m->max_vec) << 1),
			PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, 0);
	pci_cfg_declare(c, cap + PCI_MSI_ADDRESS_LO, 4, 0, 0xfffffffc, 0);
	if (m->is64)
		pci_cfg_declare(c, cap + PCI_MSI_ADDRESS_HI, 4, 0, 0xffffffff, 0);
	d = cap + m->data_off;
	pci_cfg_declare(c, d, 2, 0, 0xffff, 0);
	if (m->maskable) {
		pci_cfg_declare(c, d + 2, 2, 0, 0, 0);
		pci_cfg_declare(c, d + 4, 4, 0,
				m->max_vec == 32 ? UINT32_MAX :
						   (1u << m->max_vec) - 1, 0);
		pci_cfg_declare(c, d + 8, 4, 0, 0, 0); /* pending: computed */
	}
	m->present = true;
	return 0;
}

static uint32_t msi_vec_data(const struct vfio_pci_msi *m, unsigned i)
{
	/* sec 6.8.1.6: the low log2(nvec) data bits carry the vector. */
	return (m->data & ~(uint32_t)(m->nvec - 1)) | i;
}

static void msi_off(struct vfio_pci *v, bool restart_intx)
{
	struct vfio_pci_msi *m = &v->msi;

	if (m->enabled)
		vset(v, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
		     NULL);
	for (unsigned i = 0; i < VFIO_MSI_MAX_VECTORS; i++) {
		if (m->attached[i])
			irq_irqfd_detach(v->ctx.irq, m->gsi[i], m->efd[i]);
		if (m->routed[i])
			irq_msi_route_del(v->ctx.irq, m->gsi[i]);
		m->attached[i] = m->routed[i] = false;
		close_fd(&m->efd[i]);
	}
	m->enabled = false;
	if (restart_intx)
		intx_on(v);
}

static int msi_on(struct vfio_pci *v, unsigned nvec)
{
	struct vfio_pci_msi *m = &v->msi;
	int ret;

	intx_off(v);
	m->nvec = nvec;
	for (unsigned i = 0; i < nvec; i++) {
		m->efd[i] = efd_new();
		if (m->efd[i] < 0) {
			ret = m->efd[i];
			goto err;
		}
		if (!v->ctx.irq)
			continue;
		ret = irq_msi_route_add(v->ctx.irq, m->addr, msi_vec_data(m, i),
					&m->gsi[i]);
		if (ret)
			goto err;
		m->routed[i] = true;
	}
	ret = vset(v, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0,
		   nvec, m->efd);
	if (ret)
		goto err;
	m->enabled = true;
	return 0;
err:
	msi_off(v, true);
	log_ratelimited(LOG_WARN, who, "%s: enabling MSI (%u vectors): %s%s",
			v->bdf, nvec, strerror(-ret), irq_hint(ret));
	return ret;
}

static void msi_vec_sync(struct vfio_pci *v, unsigned i)
{
	struct vfio_pci_msi *m = &v->msi;
	bool want = m->enabled && !(m->mask & (1u << i));
	int ret;

	if (!m->routed[i] || want == m->attached[i])
		return;
	if (want) {
		ret = irq_irqfd_attach(v->ctx.irq, m->gsi[i], m->efd[i], -1);
		if (ret)
			log_ratelimited(LOG_WARN, who, "%s: MSI vector %u: %s",
					v->bdf, i, strerror(-ret));
		else
			m->attached[i] = true;
	} else {
		irq_irqfd_detach(v->ctx.irq, m->gsi[i], m->efd[i]);
		m->attached[i] = false;
	}
}

void vfio_pci_msi_cfg_read(struct vfio_pci *v, uint32_t off, uint32_t len)
{
	struct vfio_pci_msi *m = &v->msi;
	uint32_t reg = m->cap + m->data_off + 8, pending = 0;

	if (!m->maskable || !ranges_overlap(off, len, reg, 4))
		return;
	pthread_mutex_lock(&v->irq_lock);
	for (unsigned i = 0; m->enabled && i < m->nvec; i++)
		if (!m->attached[i] && efd_pending(m->efd[i]))
			pending |= 1u << i;
	pthread_mutex_unlock(&v->irq_lock);
	pci_cfg_set(&v->pdev.cfg, reg, pending, 4);
}

void vfio_pci_msi_cfg_written(struct vfio_pci *v, uint32_t off, uint32_t len)
{
	struct vfio_pci_msi *m = &v->msi;
	const struct pci_cfg *c = &v->pdev.cfg;
	uint16_t ctrl = (uint16_t)pci_cfg_read(c, m->cap + PCI_MSI_FLAGS, 2);
	bool enable = ctrl & PCI_MSI_FLAGS_ENABLE;
	/* MME above MMC is undefined (sec 6.8.1.3): clamp it. */
	unsigned nvec = 1u << ((ctrl & PCI_MSI_FLAGS_QSIZE) >> 4);
	uint64_t addr = pci_cfg_read(c, m->cap + PCI_MSI_ADDRESS_LO, 4);
	uint16_t data = (uint16_t)pci_cfg_read(c, m->cap + m->data_off, 2);

	if (nvec > m->max_vec)
		nvec = m->max_vec;
	if (m->is64)
		addr |= (uint64_t)pci_cfg_read(c, m->cap + PCI_MSI_ADDRESS_HI, 4) << 32;
	pthread_mutex_lock(&v->irq_lock);
	m->mask = m->maskable ? pci_cfg_read(c, m->cap + m->data_off + 4, 4) : 0;
	if (m->enabled && (!enable || nvec != m->nvec))
		msi_off(v, !enable);
	if (enable && !m->enabled) {
		m->addr = addr;
		m->data = data;
		msi_on(v, nvec);
	} else if (m->enabled && (addr != m->addr || data != m->data)) {
		m->addr = addr;
		m->data = data;
		for (unsigned i = 0; i < m->nvec && v->ctx.irq; i++)
			irq_msi_route_update(v->ctx.irq, m->gsi[i], addr,
					     msi_vec_data(m, i));
	}
	m->addr = addr;
	m->data = data;
	for (unsigned i = 0; m->enabled && i < m->nvec; i++)
		msi_vec_sync(v, i);
	pthread_mutex_unlock(&v->irq_lock);
}

/* ---- MSI-X ---- */

static uint64_t msix_table_size(const struct vfio_pci_msix *m)
{
	return (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE;
}

static uint64_t msix_pba_size(const struct vfio_pci_msix *m)
{
	return ((uint64_t)m->nvec + 63) / 64 * 8;
}

static bool bar_holds(const struct vfio_pci *v, unsigned bar, uint64_t off,
		      uint64_t size)
{
	const struct pci_bar *b = &v->pdev.cfg.bars[bar];

	return bar < PCI_NR_BARS &&
	       (b->kind == PCI_BAR_MEM32 || b->kind == PCI_BAR_MEM64) &&
	       off < b->size && size <= b->size - off;
}

int vfio_pci_msix_init(struct vfio_pci *v, uint32_t cap, char *err,
		       size_t errlen)
{
	struct vfio_pci_msix *m = &v->msix;
	const uint8_t *r = v->real_cfg;
	uint16_t ctrl = (uint16_t)get_le(&r[cap + PCI_MSIX_FLAGS], 2);
	uint32_t table = get_le(&r[cap + PCI_MSIX_TABLE], 4);
	uint32_t pba = get_le(&r[cap + PCI_MSIX_PBA], 4);
	struct vfio_irq info;

	if (v->vdev->ops->irq_info(v->vdev, VFIO_PCI_MSIX_IRQ_INDEX, &info) ||
	    !info.count)
		return -ENOTSUP;
	m->nvec = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1u;
	if (m->nvec > info.count)
		m->nvec = info.count;
	m->bar = table & 7;
	m->table_off = table & ~7u;
	m->pba_bar = pba & 7;
	m->pba_off = pba & ~7u;
	m->noresize = info.flags & VFIO_IRQ_INFO_NORESIZE;
	if (m->bar >= PCI_NR_BARS || m->pba_bar >= PCI_NR_BARS ||
	    !bar_holds(v, m->bar, m->table_off, msix_table_size(m)) ||
	    !bar_holds(v, m->pba_bar, m->pba_off, msix_pba_size(m)) ||
	    (m->bar == m->pba_bar &&
	     ranges_overlap(m->table_off, msix_table_size(m), m->pba_off,
			    msix_pba_size(m))))
		return -EINVAL;
	m->vec = calloc(m->nvec, sizeof(*m->vec));
	if (!m->vec)
		return -ENOMEM;
	for (unsigned i = 0; i < m->nvec; i++) {
		m->vec[i].efd = -1;
		m->vec[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT; /* sec 6.8.2.9 reset */
	}
	m->cap = cap;
	pci_cfg_declare(&v->pdev.cfg, cap + PCI_MSIX_FLAGS, 2, m->nvec - 1,
			PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
	pci_cfg_declare(&v->pdev.cfg, cap + PCI_MSIX_TABLE, 4, table, 0, 0);
	pci_cfg_declare(&v->pdev.cfg, cap + PCI_MSIX_PBA, 4, pba, 0, 0);
	m->present = true;
	return 0;
}

/* Hand vectors [0, need) to VFIO (irq_lock held). */
static int msix_hw_grow(struct vfio_pci *v, unsigned need)
{
	struct vfio_pci_msix *m = &v->msix;
	int fds[PCI_MSIX_MAX_VECTORS];
	int ret;

	if (need > m->nvec)
		need = m->nvec;
	if (need <= m->hw_count)
		return 0;
	for (unsigned i = 0; i < need; i++) {
		if (m->vec[i].efd < 0) {
			m->vec[i].efd = efd_new();
			if (m->vec[i].efd < 0)
				return m->vec[i].efd;
		}
		fds[i] = m->vec[i].efd;
	}
	if (m->hw_count && !m->noresize) {
		ret = vset(v, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER,
			   m->hw_count, need - m->hw_count, fds + m->hw_count);
	} else {
		if (m->hw_count) /* NORESIZE: off, then on with more */
			vset(v, VFIO_PCI_MSIX_IRQ_INDEX,
			     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
		m->hw_count = 0;
		ret = vset(v, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER,
			   0, need, fds);
	}
	if (!ret)
		m->hw_count = need;
	return ret;
}

static bool msix_vec_masked(const struct vfio_pci_msix *m, unsigned i)
{
	return m->func_masked || (m->vec[i].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static int msix_vec_route(struct vfio_pci *v, struct vfio_msix_vec *e)
{
	uint64_t addr = e->addr_lo | (uint64_t)e->addr_hi << 32;
	int ret = 0;

	if (!e->routed) {
		ret = irq_msi_route_add(v->ctx.irq, addr, e->data, &e->gsi);
		e->routed = !ret;
	} else if (e->r_addr != addr || e->r_data != e->data) {
		ret = irq_msi_route_update(v->ctx.irq, e->gsi, addr, e->data);
	}
	if (!ret) {
		e->r_addr = addr;
		e->r_data = e->data;
	}
	return ret;
}

/* Bring vector i's route and irqfd in line with the guest's view. */
static void msix_vec_sync(struct vfio_pci *v, unsigned i)
{
	struct vfio_pci_msix *m = &v->msix;
	struct vfio_msix_vec *e = &m->vec[i];
	bool want = m->enabled && !msix_vec_masked(m, i);
	int ret = 0;

	if (want) {
		if (i >= m->hw_count)
			ret = msix_hw_grow(v, i + 1);
		if (!ret && v->ctx.irq)
			ret = msix_vec_route(v, e);
		if (!ret && v->ctx.irq && !e->attached) {
			ret = irq_irqfd_attach(v->ctx.irq, e->gsi, e->efd, -1);
			e->attached = !ret;
		}
		if (ret)
			log_ratelimited(LOG_WARN, who, "%s: MSI-X vector %u: %s%s",
					v->bdf, i, strerror(-ret), irq_hint(ret));
	} else if (e->attached) {
		irq_irqfd_detach(v->ctx.irq, e->gsi, e->efd);
		e->attached = false;
	}
}

static void msix_off(struct vfio_pci *v, bool restart_intx)
{
	struct vfio_pci_msix *m = &v->msix;

	if (m->hw_count)
		vset(v, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
		     NULL);
	m->hw_count = 0;
	for (unsigned i = 0; i < m->nvec; i++) {
		struct vfio_msix_vec *e = &m->vec[i];

		if (e->attached)
			irq_irqfd_detach(v->ctx.irq, e->gsi, e->efd);
		if (e->routed)
			irq_msi_route_del(v->ctx.irq, e->gsi);
		e->attached = e->routed = false;
		close_fd(&e->efd);
	}
	m->enabled = false;
	if (restart_intx)
		intx_on(v);
}

static void msix_on(struct vfio_pci *v)
{
	struct vfio_pci_msix *m = &v->msix;
	unsigned need = 1;
	int ret;

	intx_off(v);
	for (unsigned i = 0; i < m->nvec; i++)
		if (!(m->vec[i].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT))
			need = i + 1;
	m->enabled = true;
	ret = msix_hw_grow(v, need);
	if (ret)
		log_ratelimited(LOG_WARN, who, "%s: enabling MSI-X (%u vectors): %s%s",
				v->bdf, need, strerror(-ret), irq_hint(ret));
}

void vfio_pci_msix_cfg_written(struct vfio_pci *v, uint32_t off, uint32_t len)
{
	struct vfio_pci_msix *m = &v->msix;
	uint16_t ctrl = (uint16_t)pci_cfg_read(&v->pdev.cfg,
					       m->cap + PCI_MSIX_FLAGS, 2);
	bool enable = ctrl & PCI_MSIX_FLAGS_ENABLE;

	pthread_mutex_lock(&v->irq_lock);
	if (m->enabled && !enable)
		msix_off(v, true);
	m->func_masked = ctrl & PCI_MSIX_FLAGS_MASKALL;
	if (!m->enabled && enable)
		msix_on(v);
	for (unsigned i = 0; m->enabled && i < m->nvec; i++)
		msix_vec_sync(v, i);
	pthread_mutex_unlock(&v->irq_lock);
}

/* sec 6.8.2: the table and PBA take aligned dword or qword accesses. */
static bool msix_access_ok(uint64_t off, uint32_t len)
{
	return (len == 4 || len == 8) && IS_ALIGNED(off, len);
}

static void msix_entry_image(const struct vfio_msix_vec *e, uint32_t img[4])
{
	img[0] = e->addr_lo;
	img[1] = e->addr_hi;
	img[2] = e->data;
	img[3] = e->ctrl;
}

static uint64_t msix_pba_word(struct vfio_pci *v, unsigned w)
{
	struct vfio_pci_msix *m = &v->msix;
	uint64_t bits = 0;

	for (unsigned i = w * 64; i < m->nvec && i < (w + 1) * 64; i++) {
		const struct vfio_msix_vec *e = &m->vec[i];

		if (m->enabled && !e->attached && efd_pending(e->efd))
			bits |= 1ULL << (i % 64);
	}
	return bits;
}

bool vfio_pci_msix_bar_read(struct vfio_pci *v, unsigned bar, uint64_t off,
			    void *data, uint32_t len)
{
	struct vfio_pci_msix *m = &v->msix;
	uint64_t rel;

	if (!m->present)
		return false;
	if (bar == m->bar &&
	    ranges_overlap(off, len, m->table_off, msix_table_size(m))) {
		uint32_t img[4];

		memset(data, 0, len);
		if (!msix_access_ok(off, len) || off < m->table_off ||
		    off + len > m->table_off + msix_table_size(m))
			return true;
		rel = off - m->table_off;
		pthread_mutex_lock(&v->irq_lock);
		msix_entry_image(&m->vec[rel / PCI_MSIX_ENTRY_SIZE], img);
		pthread_mutex_unlock(&v->irq_lock);
		memcpy(data, (uint8_t *)img + rel % PCI_MSIX_ENTRY_SIZE, len);
		return true;
	}
	if (bar == m->pba_bar &&
	    ranges_overlap(off, len, m->pba_off, msix_pba_size(m))) {
		uint64_t word;

		memset(data, 0, len);
		if (!msix_access_ok(off, len) || off < m->pba_off ||
		    off + len > m->pba_off + msix_pba_size(m))
			return true;
		rel = off - m->pba_off;
		pthread_mutex_lock(&v->irq_lock);
		word = msix_pba_word(v, (unsigned)(rel / 8));
		pthread_mutex_unlock(&v->irq_lock);
		memcpy(data, (uint8_t *)&word + rel % 8, len);
		return true;
	}
	return false;
}

bool vfio_pci_msix_bar_write(struct vfio_pci *v, unsigned bar, uint64_t off,
			     const void *data, uint32_t len)
{
	struct vfio_pci_msix *m = &v->msix;
	struct vfio_msix_vec *e;
	uint32_t img[4];
	uint64_t rel;
	unsigned i;

	if (!m->present)
		return false;
	if (bar == m->pba_bar &&
	    ranges_overlap(off, len, m->pba_off, msix_pba_size(m)))
		return true; /* the PBA is read-only */
	if (bar != m->bar ||
	    !ranges_overlap(off, len, m->table_off, msix_table_size(m)))
		return false;
	if (!msix_access_ok(off, len) || off < m->table_off ||
	    off + len > m->table_off + msix_table_size(m))
		return true;
	rel = off - m->table_off;
	i = (unsigned)(rel / PCI_MSIX_ENTRY_SIZE);
	pthread_mutex_lock(&v->irq_lock);
	e = &m->vec[i];
	msix_entry_image(e, img);
	memcpy((uint8_t *)img + rel % PCI_MSIX_ENTRY_SIZE, data, len);
	e->addr_lo = img[0] & ~3u; /* dword-aligned address, sec 6.8.2.4 */
	e->addr_hi = img[1];
	e->data = img[2];
	/* Reserved vector-control bits are read-only zero. */
	e->ctrl = img[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT;
	msix_vec_sync(v, i);
	pthread_mutex_unlock(&v->irq_lock);
	return true;
}

/* ---- reset, teardown, introspection ---- */

void vfio_pci_irq_reset(struct vfio_pci *v, bool keep_intx)
{
	pthread_mutex_lock(&v->irq_lock);
	if (v->msi.present) {
		msi_off(v, false);
		v->msi.addr = v->msi.data = 0;
		v->msi.mask = 0;
		v->msi.nvec = 1;
	}
	if (v->msix.present) {
		msix_off(v, false);
		v->msix.func_masked = false;
		for (unsigned i = 0; i < v->msix.nvec; i++) {
			struct vfio_msix_vec *e = &v->msix.vec[i];

			e->addr_lo = e->addr_hi = e->data = 0;
			e->ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
		}
	}
	if (keep_intx)
		intx_on(v);
	else
		intx_off(v);
	pthread_mutex_unlock(&v->irq_lock);
}

void vfio_pci_irq_fini(struct vfio_pci *v)
{
	vfio_pci_irq_reset(v, false);
	free(v->msix.vec);
	v->msix.vec = NULL;
	v->msix.present = false;
}

int vfio_pci_msix_vector_gsi(struct vfio_pci *v, unsigned vec, uint32_t *gsi,
			     int *efd, bool *attached)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&v->irq_lock);
	if (!v->msix.present || vec >= v->msix.nvec) {
		ret = -EINVAL;
	} else if (v->msix.vec[vec].routed || v->msix.vec[vec].efd >= 0) {
		*gsi = v->msix.vec[vec].gsi;
		*efd = v->msix.vec[vec].efd;
		*attached = v->msix.vec[vec].attached;
		ret = v->msix.vec[vec].routed ? 0 : -ENOENT;
	}
	pthread_mutex_unlock(&v->irq_lock);
	return ret;
}

unsigned vfio_pci_msix_hw_count(struct vfio_pci *v)
{
	unsigned n;

	pthread_mutex_lock(&v->irq_lock);
	n = v->msix.hw_count;
	pthread_mutex_unlock(&v->irq_lock);
	return n;
}
