// SPDX-License-Identifier: MIT
/*
 * pci-testdev (1b36:0005), behaving like QEMU's (docs/specs/pci-testdev.rst):
 * the guest kit measures exit costs with it, under iovmm and QEMU alike.
 *
 * Six tests: {mmio, portio} x {no-eventfd, wildcard-eventfd,
 * datamatch-eventfd}. Test i's header is {u8 test, u8 width, u8 pad[2],
 * u32 offset, u8 data, u8 pad[3], u32 count, char name[]}; its target
 * offset is BAR size / 2 + i (2048 + T for MMIO, 128 + 3 + T for I/O), width
 * 1, data 0xFA except for the wildcard test. Accesses are handled byte by
 * byte, as QEMU's implementation (max access size 1) splits them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "emul-devices/testdevs.h"

#define TD_NR_TYPES     2  /* 0 mmio (BAR0), 1 portio (BAR1) */
#define TD_NR_TESTS     3
#define TD_MMIO_SIZE    4096
#define TD_PIO_SIZE     256
#define TD_DATAMATCH    0xfa
#define TD_NOMATCH      0xce
#define TD_HDR_SIZE     16
#define TD_HDR_OFFSET   4
#define TD_HDR_DATA     8
#define TD_HDR_COUNT    12
#define TD_BUF_MAX      (TD_HDR_SIZE + 32)

struct td_test {
	uint8_t buf[TD_BUF_MAX]; /* header + name */
	uint32_t bufsize;        /* header + name + NUL */
	uint32_t offset;         /* target offset in the BAR */
	bool has_notifier;
	bool match_data;
	uint32_t ev_len;         /* ioeventfd width; 0 = any (MMIO only) */
	int efd;                 /* -1 for no-eventfd */
};

struct pci_testdev {
	struct pci_dev pdev;
	struct irq *irq;                    /* borrowed, may be NULL */
	pthread_mutex_t lock;               /* guards everything below */
	int current;                        /* test index, -1 = none */
	struct td_test tests[TD_NR_TYPES * TD_NR_TESTS];
	uint64_t bar_addr[TD_NR_TYPES];     /* bus address or PCI_BAR_UNMAPPED */
	bool ioev_on;                       /* ioev registered with KVM */
	struct irq_ioeventfd ioev;
	uint64_t hits;
};

static const char *const td_test_names[TD_NR_TESTS] = {
	"no-eventfd", "wildcard-eventfd", "datamatch-eventfd",
};
static const char *const td_type_names[TD_NR_TYPES] = { "mmio", "portio" };

static const char *const who = "pci-testdev";

static void td_drain(struct pci_testdev *td, struct td_test *t)
{
	uint64_t v;

	if (t->efd >= 0 && read(t->efd, &v, sizeof(v)) == sizeof(v))
		td->hits += v;
}

static void td_ioev_unregister(struct pci_testdev *td)
{
	if (td->ioev_on)
		irq_ioeventfd_del(td->irq, &td->ioev);
	td->ioev_on = false;
}

/* Register the current test's ioeventfd at the BAR's current address. */
static void td_ioev_register(struct pci_testdev *td)
{
	int type = td->current / TD_NR_TESTS;
	struct td_test *t = &td->tests[td->current];
	int ret;

	if (!td->irq || !t->has_notifier || td->bar_addr[type] == PCI_BAR_UNMAPPED)
		return;
	td->ioev = (struct irq_ioeventfd){
		.space = type == 0 ? BUS_MMIO : BUS_PIO,
		.addr = td->bar_addr[type] + t->offset,
		.len = t->ev_len,
		.datamatch = t->match_data,
		.data = TD_DATAMATCH,
		.efd = t->efd,
	};
	ret = irq_ioeventfd_add(td->irq, &td->ioev);
	if (ret == -EOPNOTSUPP && td->ioev.len == 0) {
		/* No any-length MMIO ioeventfds in this KVM: match bytes. */
		t->ev_len = td->ioev.len = 1;
		ret = irq_ioeventfd_add(td->irq, &td->ioev);
	}
	if (ret)
		log_ratelimited(LOG_WARN, who, "ioeventfd at 0x%llx: %s",
				(unsigned long long)td->ioev.addr,
				strerror(-ret));
	td->ioev_on = ret == 0;
}

static void td_stop(struct pci_testdev *td)
{
	if (td->current < 0)
		return;
	td_ioev_unregister(td);
	td->current = -1;
}

static void td_start(struct pci_testdev *td, int i)
{
	struct td_test *t = &td->tests[i];

	memset(&t->buf[TD_HDR_COUNT], 0, 4);
	td_drain(td, t); /* stale signals of an earlier run */
	td->current = i;
	td_ioev_register(td);
}

/*
 * A write that reaches the VMM although the test has an eventfd (KVM
 * refused the ioeventfd, or a test drives the bus directly) is signalled
 * here, as QEMU's memory core does without KVM.
 */
static bool td_soft_ioevent(struct td_test *t, uint64_t off, uint64_t val,
			    uint32_t len)
{
	uint64_t one = 1;

	if (!t->has_notifier || off != t->offset)
		return false;
	if (t->ev_len && t->ev_len != len)
		return false;
	if (t->match_data && val != TD_DATAMATCH)
		return false;
	return write(t->efd, &one, sizeof(one)) == sizeof(one);
}

static void td_write_byte(struct pci_testdev *td, int type, uint64_t off,
			  uint8_t val)
{
	struct td_test *t;
	uint32_t count;

	if (off == 0) { /* test selection */
		td_stop(td);
		if (val < TD_NR_TESTS)
			td_start(td, type * TD_NR_TESTS + val);
		return;
	}
	if (td->current < 0)
		return;
	t = &td->tests[td->current];
	if (off != t->offset || (t->match_data && val != TD_DATAMATCH))
		return;
	memcpy(&count, &t->buf[TD_HDR_COUNT], 4);
	count++;
	memcpy(&t->buf[TD_HDR_COUNT], &count, 4);
}

static int td_bar_write(struct pci_dev *dev, unsigned bar, uint64_t off,
			const void *data, uint32_t len)
{
	struct pci_testdev *td = container_of(dev, struct pci_testdev, pdev);
	const uint8_t *b = data;
	uint64_t val = 0;

	if (bar >= TD_NR_TYPES)
		return -EINVAL;
	memcpy(&val, data, len > 8 ? 8 : len);
	pthread_mutex_lock(&td->lock);
	if (td->current < 0 || td->current / TD_NR_TESTS != (int)bar ||
	    !td_soft_ioevent(&td->tests[td->current], off, val, len)) {
		for (uint32_t i = 0; i < len; i++)
			td_write_byte(td, (int)bar, off + i, b[i]);
	}
	pthread_mutex_unlock(&td->lock);
	return 0;
}

static int td_bar_read(struct pci_dev *dev, unsigned bar, uint64_t off,
		       void *data, uint32_t len)
{
	struct pci_testdev *td = container_of(dev, struct pci_testdev, pdev);
	uint8_t *out = data;
	struct td_test *t;

	memset(data, 0, len);
	if (bar >= TD_NR_TYPES)
		return -EINVAL;
	pthread_mutex_lock(&td->lock);
	if (td->current >= 0) {
		t = &td->tests[td->current];
		/* QEMU answers a byte only while a+1 < bufsize (NUL reads 0). */
		for (uint32_t i = 0; i < len; i++)
			if (off + i + 1 < t->bufsize)
				out[i] = t->buf[off + i];
		td_drain(td, t);
	}
	pthread_mutex_unlock(&td->lock);
	return 0;
}

static void td_bar_moved(struct pci_dev *dev, unsigned bar, uint64_t old_addr,
			 uint64_t new_addr)
{
	struct pci_testdev *td = container_of(dev, struct pci_testdev, pdev);

	if (bar >= TD_NR_TYPES)
		return;
	pthread_mutex_lock(&td->lock);
	td->bar_addr[bar] = new_addr;
	/* The ioeventfd follows the BAR (QEMU re-adds it with the region). */
	if (td->current >= 0 && td->current / TD_NR_TESTS == (int)bar) {
		td_ioev_unregister(td);
		td_ioev_register(td);
	}
	pthread_mutex_unlock(&td->lock);
}

static void td_reset(struct pci_dev *dev)
{
	struct pci_testdev *td = container_of(dev, struct pci_testdev, pdev);

	pthread_mutex_lock(&td->lock);
	td_stop(td);
	pthread_mutex_unlock(&td->lock);
}

static void td_destroy(struct pci_dev *dev)
{
	pci_testdev_destroy(container_of(dev, struct pci_testdev, pdev));
}

static const struct pci_dev_ops td_ops = {
	.bar_read = td_bar_read,
	.bar_write = td_bar_write,
	.bar_moved = td_bar_moved,
	.reset = td_reset,
	.destroy = td_destroy,
};

static int td_init_test(struct td_test *t, unsigned i)
{
	unsigned type = i / TD_NR_TESTS, test = i % TD_NR_TESTS;
	uint32_t size = type == 0 ? TD_MMIO_SIZE : TD_PIO_SIZE;
	char name[32];
	int n;

	n = snprintf(name, sizeof(name), "%s-%s", td_type_names[type],
		     td_test_names[test]);
	if (n < 0 || TD_HDR_SIZE + (size_t)n + 1 > sizeof(t->buf))
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->efd = -1;
	t->bufsize = TD_HDR_SIZE + (uint32_t)n + 1;
	t->offset = size / 2 + i;
	t->match_data = test != 1;
	t->has_notifier = test != 0;
	t->ev_len = (type == 0 && test == 1) ? 0 : 1;
	t->buf[0] = (uint8_t)i;
	t->buf[1] = 1; /* width */
	memcpy(&t->buf[TD_HDR_OFFSET], &t->offset, 4);
	t->buf[TD_HDR_DATA] = t->match_data ? TD_DATAMATCH : TD_NOMATCH;
	memcpy(&t->buf[TD_HDR_SIZE], name, (size_t)n + 1);
	if (t->has_notifier) {
		t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->efd < 0)
			return -errno;
	}
	return 0;
}

int pci_testdev_create(const struct pci_dev_ctx *ctx, struct pci_testdev **out)
{
	static const struct pci_id id = {
		.vendor = 0x1b36, .device = 0x0005,
		.subsys_vendor = 0x1af4, .subsys = 0x1100,
		.class_code = 0x00ff00, /* "other" */
	};
	struct pci_testdev *td;
	int ret;

	td = calloc(1, sizeof(*td));
	if (!td)
		return -ENOMEM;
	for (unsigned i = 0; i < ARRAY_SIZE(td->tests); i++)
		td->tests[i].efd = -1;
	ret = pci_dev_init(&td->pdev, &td_ops, "pci-testdev", &id);
	if (ret)
		goto err_free;
	pthread_mutex_init(&td->lock, NULL);
	td->irq = ctx->irq;
	td->current = -1;
	td->bar_addr[0] = td->bar_addr[1] = PCI_BAR_UNMAPPED;
	ret = pci_cfg_add_bar(&td->pdev.cfg, 0, PCI_BAR_MEM32, TD_MMIO_SIZE,
			      false);
	if (!ret)
		ret = pci_cfg_add_bar(&td->pdev.cfg, 1, PCI_BAR_IO, TD_PIO_SIZE,
				      false);
	for (unsigned i = 0; !ret && i < ARRAY_SIZE(td->tests); i++)
		ret = td_init_test(&td->tests[i], i);
	if (ret)
		goto err_destroy;
	*out = td;
	return 0;

err_destroy:
	pci_testdev_destroy(td);
	return ret;
err_free:
	free(td);
	return ret;
}

void pci_testdev_destroy(struct pci_testdev *td)
{
	if (!td)
		return;
	pthread_mutex_lock(&td->lock);
	td_stop(td);
	pthread_mutex_unlock(&td->lock);
	for (unsigned i = 0; i < ARRAY_SIZE(td->tests); i++)
		if (td->tests[i].efd >= 0)
			close(td->tests[i].efd);
	pthread_mutex_destroy(&td->lock);
	pci_dev_fini(&td->pdev);
	free(td);
}

struct pci_dev *pci_testdev_pci(struct pci_testdev *td)
{
	return &td->pdev;
}

uint64_t pci_testdev_ioeventfd_hits(struct pci_testdev *td)
{
	uint64_t hits;

	pthread_mutex_lock(&td->lock);
	for (unsigned i = 0; i < ARRAY_SIZE(td->tests); i++)
		td_drain(td, &td->tests[i]);
	hits = td->hits;
	pthread_mutex_unlock(&td->lock);
	return hits;
}
