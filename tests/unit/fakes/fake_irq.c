// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/layout.h"
#include "core/util.h"
#include "fake_irq.h"

#define FAKE_MAX_ROUTES 2048
#define FAKE_MAX_IRQFDS 256
#define FAKE_MAX_IOEVENTFDS 256

struct fake_irqfd {
	uint32_t gsi;
	int efd;
	int resample_fd;
};

struct fake_irq {
	struct irq_backend be;
	pthread_mutex_t lock; /* guards everything below */
	int fail_next;
	unsigned commits;
	unsigned nr_routes;
	struct kvm_irq_routing_entry routes[FAKE_MAX_ROUTES];
	int lines[LAYOUT_GSI_IOAPIC_PINS];
	unsigned nr_irqfds;
	struct fake_irqfd irqfds[FAKE_MAX_IRQFDS];
	unsigned nr_ioevs;
	struct irq_ioeventfd ioevs[FAKE_MAX_IOEVENTFDS];
	unsigned nr_msis;
	struct fake_irq_msi msis[FAKE_IRQ_MAX_MSIS];
};

static struct fake_irq *to_fake(struct irq_backend *be)
{
	return container_of(be, struct fake_irq, be);
}

/* Called with f->lock held: the injected failure, once. */
static int take_failure(struct fake_irq *f)
{
	int err = f->fail_next;

	f->fail_next = 0;
	return err;
}

static void record_msi(struct fake_irq *f, uint64_t addr, uint32_t data,
		       uint32_t gsi)
{
	if (f->nr_msis < FAKE_IRQ_MAX_MSIS)
		f->msis[f->nr_msis++] =
			(struct fake_irq_msi){ .addr = addr, .data = data,
					       .gsi = gsi };
}

static int fake_set_routing(struct irq_backend *be,
			    const struct kvm_irq_routing *table)
{
	struct fake_irq *f = to_fake(be);
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = take_failure(f);
	if (!ret && table->nr > FAKE_MAX_ROUTES)
		ret = -EINVAL;
	if (!ret) {
		memcpy(f->routes, table->entries,
		       table->nr * sizeof(table->entries[0]));
		f->nr_routes = table->nr;
		f->commits++;
	}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int fake_set_line(struct irq_backend *be, uint32_t gsi, int level)
{
	struct fake_irq *f = to_fake(be);
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = take_failure(f);
	if (!ret)
		f->lines[gsi] = level;
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int fake_signal_msi(struct irq_backend *be, uint64_t addr, uint32_t data)
{
	struct fake_irq *f = to_fake(be);
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = take_failure(f);
	if (!ret)
		record_msi(f, addr, data, UINT32_MAX);
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int fake_irqfd_attach(struct irq_backend *be, uint32_t gsi, int efd,
			     int resample_fd)
{
	struct fake_irq *f = to_fake(be);
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = take_failure(f);
	/* KVM refuses an eventfd that already backs an irqfd. */
	for (unsigned i = 0; !ret && i < f->nr_irqfds; i++)
		if (f->irqfds[i].efd == efd)
			ret = -EBUSY;
	if (!ret && f->nr_irqfds == FAKE_MAX_IRQFDS)
		ret = -ENOSPC;
	if (!ret)
		f->irqfds[f->nr_irqfds++] = (struct fake_irqfd){
			.gsi = gsi, .efd = efd, .resample_fd = resample_fd };
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int fake_irqfd_detach(struct irq_backend *be, uint32_t gsi, int efd)
{
	struct fake_irq *f = to_fake(be);
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = take_failure(f);
	if (!ret) {
		ret = -ENOENT;
		for (unsigned i = 0; i < f->nr_irqfds; i++) {
			if (f->irqfds[i].efd == efd && f->irqfds[i].gsi == gsi) {
				f->irqfds[i] = f->irqfds[--f->nr_irqfds];
				ret = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

/*
 * KVM's ioeventfd_check_collision(): same space and address, and either
 * side of any length, or the same length with either side matching any
 * value or both the same value.
 */
static bool ioev_collide(const struct irq_ioeventfd *a,
			 const struct irq_ioeventfd *b)
{
	return a->space == b->space && a->addr == b->addr &&
	       (!a->len || !b->len ||
		(a->len == b->len &&
		 (!a->datamatch || !b->datamatch || a->data == b->data)));
}

static bool ioev_equal(const struct irq_ioeventfd *a,
		       const struct irq_ioeventfd *b)
{
	return a->space == b->space && a->addr == b->addr && a->len == b->len &&
	       a->datamatch == b->datamatch &&
	       (!a->datamatch || a->data == b->data) && a->efd == b->efd;
}

static int fake_ioeventfd_add(struct irq_backend *be,
			      const struct irq_ioeventfd *ioev)
{
	struct fake_irq *f = to_fake(be);
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = take_failure(f);
	for (unsigned i = 0; !ret && i < f->nr_ioevs; i++)
		if (ioev_collide(&f->ioevs[i], ioev))
			ret = -EEXIST;
	if (!ret && f->nr_ioevs == FAKE_MAX_IOEVENTFDS)
		ret = -ENOSPC;
	if (!ret)
		f->ioevs[f->nr_ioevs++] = *ioev;
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int fake_ioeventfd_del(struct irq_backend *be,
			      const struct irq_ioeventfd *ioev)
{
	struct fake_irq *f = to_fake(be);
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = take_failure(f);
	if (!ret) {
		ret = -ENOENT;
		for (unsigned i = 0; i < f->nr_ioevs; i++) {
			if (ioev_equal(&f->ioevs[i], ioev)) {
				f->ioevs[i] = f->ioevs[--f->nr_ioevs];
				ret = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static void fake_destroy(struct irq_backend *be)
{
	struct fake_irq *f = to_fake(be);

	pthread_mutex_destroy(&f->lock);
	free(f);
}

static const struct irq_ops fake_irq_ops = {
	.set_routing = fake_set_routing,
	.set_line = fake_set_line,
	.signal_msi = fake_signal_msi,
	.irqfd_attach = fake_irqfd_attach,
	.irqfd_detach = fake_irqfd_detach,
	.ioeventfd_add = fake_ioeventfd_add,
	.ioeventfd_del = fake_ioeventfd_del,
	.destroy = fake_destroy,
};

int fake_irq_create(struct irq **irq, struct fake_irq **fake)
{
	struct fake_irq *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->be.ops = &fake_irq_ops;
	f->be.any_length_ioeventfd = true;
	pthread_mutex_init(&f->lock, NULL);
	*fake = f;
	return irq_create(&f->be, true, irq);
}

void fake_irq_fail_next(struct fake_irq *f, int err)
{
	pthread_mutex_lock(&f->lock);
	f->fail_next = err;
	pthread_mutex_unlock(&f->lock);
}

unsigned fake_irq_commits(struct fake_irq *f)
{
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = f->commits;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* Called with f->lock held. */
static const struct kvm_irq_routing_entry *find_route(struct fake_irq *f,
						      uint32_t gsi, uint32_t type)
{
	for (unsigned i = 0; i < f->nr_routes; i++)
		if (f->routes[i].gsi == gsi && f->routes[i].type == type)
			return &f->routes[i];
	return NULL;
}

bool fake_irq_route(struct fake_irq *f, uint32_t gsi, uint64_t *addr,
		    uint32_t *data)
{
	const struct kvm_irq_routing_entry *e;

	pthread_mutex_lock(&f->lock);
	e = find_route(f, gsi, KVM_IRQ_ROUTING_MSI);
	if (e) {
		*addr = e->u.msi.address_lo | (uint64_t)e->u.msi.address_hi << 32;
		*data = e->u.msi.data;
	}
	pthread_mutex_unlock(&f->lock);
	return e != NULL;
}

unsigned fake_irq_msi_routes(struct fake_irq *f)
{
	unsigned n = 0;

	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nr_routes; i++)
		n += f->routes[i].type == KVM_IRQ_ROUTING_MSI;
	pthread_mutex_unlock(&f->lock);
	return n;
}

int fake_irq_line(struct fake_irq *f, uint32_t gsi)
{
	int level;

	if (gsi >= LAYOUT_GSI_IOAPIC_PINS)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	level = f->lines[gsi];
	pthread_mutex_unlock(&f->lock);
	return level;
}

/* Called with f->lock held. */
static struct fake_irqfd *find_irqfd(struct fake_irq *f, int efd)
{
	for (unsigned i = 0; i < f->nr_irqfds; i++)
		if (f->irqfds[i].efd == efd)
			return &f->irqfds[i];
	return NULL;
}

int fake_irq_irqfd_gsi(struct fake_irq *f, int efd, uint32_t *gsi)
{
	struct fake_irqfd *x;

	pthread_mutex_lock(&f->lock);
	x = find_irqfd(f, efd);
	if (x)
		*gsi = x->gsi;
	pthread_mutex_unlock(&f->lock);
	return x ? 0 : -ENOENT;
}

int fake_irq_irqfd_resample(struct fake_irq *f, int efd)
{
	struct fake_irqfd *x;
	int fd;

	pthread_mutex_lock(&f->lock);
	x = find_irqfd(f, efd);
	fd = x ? x->resample_fd : -ENOENT;
	pthread_mutex_unlock(&f->lock);
	return fd;
}

unsigned fake_irq_irqfds(struct fake_irq *f)
{
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = f->nr_irqfds;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/*
 * Called with f->lock held. An irqfd whose GSI has an MSI route sends that
 * message; one on a legacy pin raises the line (an edge irqfd pulses it,
 * KVM's irqfd_inject(): assert then deassert).
 */
static void deliver(struct fake_irq *f, const struct fake_irqfd *x)
{
	const struct kvm_irq_routing_entry *e =
		find_route(f, x->gsi, KVM_IRQ_ROUTING_MSI);

	if (e) {
		record_msi(f, e->u.msi.address_lo |
				      (uint64_t)e->u.msi.address_hi << 32,
			   e->u.msi.data, x->gsi);
		return;
	}
	if (x->gsi < LAYOUT_GSI_IOAPIC_PINS)
		f->lines[x->gsi] = x->resample_fd >= 0 ? 1 : 0;
}

/* Non-blocking whatever the owner's flags: peek with poll(). */
static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

unsigned fake_irq_poll(struct fake_irq *f)
{
	unsigned delivered = 0;
	uint64_t n;

	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nr_irqfds; i++) {
		const struct fake_irqfd *x = &f->irqfds[i];

		if (!fd_readable(x->efd))
			continue;
		if (read(x->efd, &n, sizeof(n)) != sizeof(n))
			continue;
		deliver(f, x);
		delivered++;
	}
	pthread_mutex_unlock(&f->lock);
	return delivered;
}

unsigned fake_irq_msi_count(struct fake_irq *f)
{
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = f->nr_msis;
	pthread_mutex_unlock(&f->lock);
	return n;
}

struct fake_irq_msi fake_irq_msi_get(struct fake_irq *f, unsigned i)
{
	struct fake_irq_msi m = { .gsi = UINT32_MAX };

	pthread_mutex_lock(&f->lock);
	if (i < f->nr_msis)
		m = f->msis[i];
	pthread_mutex_unlock(&f->lock);
	return m;
}

unsigned fake_irq_ioeventfds(struct fake_irq *f)
{
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = f->nr_ioevs;
	pthread_mutex_unlock(&f->lock);
	return n;
}

bool fake_irq_ioeventfd_find(struct fake_irq *f, enum bus_space space,
			     uint64_t addr, struct irq_ioeventfd *out)
{
	bool found = false;

	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nr_ioevs && !found; i++) {
		if (f->ioevs[i].space == space && f->ioevs[i].addr == addr) {
			if (out)
				*out = f->ioevs[i];
			found = true;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return found;
}

bool fake_irq_kick(struct fake_irq *f, enum bus_space space, uint64_t addr,
		   uint32_t len, uint64_t data)
{
	uint64_t one = 1;
	int efd = -1;

	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nr_ioevs; i++) {
		const struct irq_ioeventfd *e = &f->ioevs[i];

		if (e->space != space || e->addr != addr ||
		    (e->len && e->len != len))
			continue;
		if (e->datamatch && e->data != data)
			continue;
		efd = e->efd;
		break;
	}
	pthread_mutex_unlock(&f->lock);
	if (efd < 0)
		return false;
	return write(efd, &one, sizeof(one)) == sizeof(one);
}
