// SPDX-License-Identifier: MIT
/*
 * Interrupts of an assigned function: MSI-X, MSI and INTx, each an eventfd
 * the host kernel signals (VFIO_DEVICE_SET_IRQS) and KVM injects (irqfd),
 * so no interrupt passes through iovmm.
 *
 * MSI-X (PCI 3.0 §6.8.2) and MSI (§6.8.1): the guest's capability
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
 * already-signalled eventfd), which is the deferred delivery §6.8.2.9
 * asks for. The host keeps the real vector unmasked throughout.
 *
 * The MSI-X table, PBA, routes and irqfds are core/pci/msix.c's, the model
 * every MSI-X user shares, with every vector signalled outside iovmm
 * (cfg.external); this file only drives the host through its hooks, as
 * Cloud Hypervisor's VFIO device reuses its MsixConfig. MSI-X vectors are
 * handed to VFIO as the guest unmasks them: at enable, up to the highest
 * unmasked vector, and more later. Kernels that cannot add vectors to an
 * enabled index (VFIO_IRQ_INFO_NORESIZE, Linux < 6.5) need MSI-X disabled
 * and re-enabled for that, as QEMU does; a message the device raises in
 * that instant is lost. Drivers unmask their vectors while setting up
 * queues, before I/O, where this does not matter.
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
	/* §6.8.1.6: the low log2(nvec) data bits carry the vector. */
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
	/* MME above MMC is undefined (§6.8.1.3): clamp it. */
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

/* ---- MSI-X: the table model of core/pci/msix.c, driving the host ---- */

/*
 * Hand vectors [0, need) to VFIO: the model's eventfds, which the host
 * signals (MSI-X lock and irq_lock held).
 */
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
		fds[i] = pci_msix_hook_eventfd(m->model, i);
		if (fds[i] < 0)
			return fds[i];
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

/*
 * The guest turned MSI-X on: INTx off (VFIO allows one index at a time),
 * and the host's MSI-X on with the vectors up to the highest unmasked one
 * (at least one). Off: the host's MSI-X off; INTx comes back in
 * vfio_pci_msix_cfg_written().
 */
static void msix_enable(struct pci_dev *dev, bool on, unsigned span)
{
	struct vfio_pci *v = container_of(dev, struct vfio_pci, pdev);
	struct vfio_pci_msix *m = &v->msix;
	unsigned need = span ? span : 1;
	int ret;

	pthread_mutex_lock(&v->irq_lock);
	if (on) {
		intx_off(v);
		m->enabled = true;
		ret = msix_hw_grow(v, need);
		if (ret)
			log_ratelimited(LOG_WARN, who,
					"%s: enabling MSI-X (%u vectors): %s%s",
					v->bdf, need, strerror(-ret), irq_hint(ret));
	} else {
		if (m->hw_count)
			vset(v, VFIO_PCI_MSIX_IRQ_INDEX,
			     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
		m->hw_count = 0;
		m->enabled = false;
	}
	pthread_mutex_unlock(&v->irq_lock);
}

/* The guest unmasked vec: the host must be signalling it. */
static int msix_vector_live(struct pci_dev *dev, unsigned vec)
{
	struct vfio_pci *v = container_of(dev, struct vfio_pci, pdev);
	int ret = 0;

	pthread_mutex_lock(&v->irq_lock);
	if (vec >= v->msix.hw_count)
		ret = msix_hw_grow(v, vec + 1);
	pthread_mutex_unlock(&v->irq_lock);
	if (ret)
		log_ratelimited(LOG_WARN, who, "%s: MSI-X vector %u: %s%s",
				v->bdf, vec, strerror(-ret), irq_hint(ret));
	return ret;
}

static const struct pci_msix_hooks msix_hooks = {
	.enable = msix_enable,
	.vector_live = msix_vector_live,
};

int vfio_pci_msix_init(struct vfio_pci *v, uint32_t cap, char *err,
		       size_t errlen)
{
	struct vfio_pci_msix *m = &v->msix;
	const uint8_t *r = v->real_cfg;
	uint16_t ctrl = (uint16_t)get_le(&r[cap + PCI_MSIX_FLAGS], 2);
	uint32_t table = get_le(&r[cap + PCI_MSIX_TABLE], 4);
	uint32_t pba = get_le(&r[cap + PCI_MSIX_PBA], 4);
	struct pci_msix_config c;
	struct vfio_irq info;
	int ret;

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
	/* The host kernel signals every vector: cfg.external. */
	c = (struct pci_msix_config){
		.nr_vectors = m->nvec,
		.table_bar = m->bar, .table_off = m->table_off,
		.pba_bar = m->pba_bar, .pba_off = m->pba_off,
		.cap = cap,
		.external = true,
		.hooks = &msix_hooks,
	};
	/* -EINVAL (table or PBA outside its BAR...): the cap is hidden. */
	ret = pci_msix_create_cfg(&v->pdev, v->ctx.irq, &c, &m->model);
	if (ret)
		return ret;
	m->cap = cap;
	m->present = true;
	return 0;
}

void vfio_pci_msix_cfg_written(struct vfio_pci *v, uint32_t off, uint32_t len)
{
	bool was;

	pthread_mutex_lock(&v->irq_lock);
	was = v->msix.enabled;
	pthread_mutex_unlock(&v->irq_lock);
	pci_msix_cfg_written(v->msix.model, &v->pdev.cfg, off, len);
	pthread_mutex_lock(&v->irq_lock);
	if (was && !v->msix.enabled)
		intx_on(v);
	pthread_mutex_unlock(&v->irq_lock);
}

bool vfio_pci_msix_bar_read(struct vfio_pci *v, unsigned bar, uint64_t off,
			    void *data, uint32_t len)
{
	return v->msix.present &&
	       pci_msix_bar_read(v->msix.model, bar, off, data, len);
}

bool vfio_pci_msix_bar_write(struct vfio_pci *v, unsigned bar, uint64_t off,
			     const void *data, uint32_t len)
{
	return v->msix.present &&
	       pci_msix_bar_write(v->msix.model, bar, off, data, len);
}

/* ---- reset, teardown, introspection ---- */

void vfio_pci_irq_reset(struct vfio_pci *v, bool keep_intx)
{
	/* MSI-X first, without irq_lock: the model's hooks take it. */
	if (v->msix.present)
		pci_msix_reset(v->msix.model);
	pthread_mutex_lock(&v->irq_lock);
	if (v->msi.present) {
		msi_off(v, false);
		v->msi.addr = v->msi.data = 0;
		v->msi.mask = 0;
		v->msi.nvec = 1;
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
	pci_msix_destroy(v->msix.model);
	v->msix.model = NULL;
	v->msix.present = false;
}

unsigned vfio_pci_msix_hw_count(struct vfio_pci *v)
{
	unsigned n;

	pthread_mutex_lock(&v->irq_lock);
	n = v->msix.hw_count;
	pthread_mutex_unlock(&v->irq_lock);
	return n;
}
