/* SPDX-License-Identifier: MIT */
/*
 * A small e1000 driver for the unit tests: a real gmem, the device on a
 * real PCI host and bus, a real I/O loop with a loopback (or null) back end.
 * Registers are accessed through the bus like a vCPU would; rings and
 * buffers live in guest RAM and are written the way a driver writes them.
 */
#ifndef E1000_TEST_UTIL_H
#define E1000_TEST_UTIL_H

#include <check.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/gmem.h"
#include "core/ioloop.h"
#include "core/layout.h"
#include "core/pci/host.h"
#include "core/util.h"
#include "emul-devices/e1000/e1000-internal.h"
#include "emul-devices/e1000/e1000.h"

#define T_RAM        (64 * MiB)
#define T_TX_RING    0x100000ull   /* 1 MiB */
#define T_RX_RING    0x200000ull
#define T_TX_BUFS    0x400000ull   /* 4 KiB per buffer */
#define T_RX_BUFS    0x1000000ull  /* 16 KiB per buffer */
#define T_TX_BUF_SZ  4096u
#define T_RX_BUF_SZ  16384u

struct tdev {
	struct gmem *mem;
	struct bus *bus;
	struct pci_host *host;
	struct ioloop *io;
	struct e1000 *e;
	uint64_t bar0, bar1;
	uint32_t tx_n, rx_n;   /* ring sizes */
	uint32_t tx_tail, rx_next, rx_tail;
};

static const uint8_t t_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01 };

static inline void t_open(struct tdev *t, const char *backend)
{
	struct gmem_opts o = { .size = T_RAM, .low_max = LAYOUT_LOW_RAM_MAX,
			       .high_base = LAYOUT_RAM_HIGH_START };
	struct e1000_config cfg = { .backend = backend, .has_mac = true,
				    .name = "e1000-test" };
	struct pci_dev_ctx ctx;
	char err[160] = "";

	memset(t, 0, sizeof(*t));
	memcpy(cfg.mac, t_mac, 6);
	ck_assert_int_eq(gmem_create(&o, &t->mem), 0);
	ck_assert_int_eq(bus_create(&t->bus), 0);
	ck_assert_int_eq(pci_host_create(t->bus, NULL, 0, 0, &t->host), 0);
	ck_assert_int_eq(ioloop_create(&t->io), 0);
	ctx = (struct pci_dev_ctx){ .mem = t->mem, .io = t->io, .bus = t->bus };
	ck_assert_msg(e1000_create(&ctx, &cfg, &t->e, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(pci_host_add(t->host, e1000_pci(t->e)), 0);
	t->bar0 = pci_dev_bar_mapped(e1000_pci(t->e), 0);
	t->bar1 = pci_dev_bar_mapped(e1000_pci(t->e), 1);
	ck_assert_uint_ne(t->bar0, PCI_BAR_UNMAPPED);
	ck_assert_uint_ne(t->bar1, PCI_BAR_UNMAPPED);
	ck_assert_int_eq(ioloop_start(t->io), 0);
}

static inline void t_close(struct tdev *t)
{
	ioloop_stop(t->io);
	pci_host_destroy(t->host);
	e1000_destroy(t->e);
	ioloop_destroy(t->io);
	bus_destroy(t->bus);
	gmem_destroy(t->mem);
}

static inline uint32_t rd(struct tdev *t, uint32_t off)
{
	uint32_t v = 0;

	bus_access(t->bus, BUS_MMIO, t->bar0 + off, &v, 4, false);
	return v;
}

static inline void wr(struct tdev *t, uint32_t off, uint32_t v)
{
	bus_access(t->bus, BUS_MMIO, t->bar0 + off, &v, 4, true);
}

static inline uint64_t t_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static inline void *gp(struct tdev *t, uint64_t gpa, size_t len)
{
	void *p = gmem_ptr(t->mem, gpa, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* Legacy TX ring of n descriptors, TCTL.EN|PSP. */
static inline void t_tx_setup(struct tdev *t, uint32_t n)
{
	memset(gp(t, T_TX_RING, n * 16), 0, n * 16);
	wr(t, E1000_TDBAL, (uint32_t)T_TX_RING);
	wr(t, E1000_TDBAH, 0);
	wr(t, E1000_TDLEN, n * 16);
	wr(t, E1000_TDH, 0);
	wr(t, E1000_TDT, 0);
	wr(t, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
	t->tx_n = n;
	t->tx_tail = 0;
}

/* RX ring of n descriptors with T_RX_BUF_SZ buffers; posts `post` of them. */
static inline void t_rx_setup(struct tdev *t, uint32_t n, uint32_t post,
			      uint32_t rctl)
{
	uint8_t *ring = gp(t, T_RX_RING, n * 16);

	memset(ring, 0, n * 16);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = T_RX_BUFS + (uint64_t)i * T_RX_BUF_SZ;

		memcpy(ring + i * 16, &a, 8);
	}
	wr(t, E1000_RDBAL, (uint32_t)T_RX_RING);
	wr(t, E1000_RDBAH, 0);
	wr(t, E1000_RDLEN, n * 16);
	wr(t, E1000_RDH, 0);
	wr(t, E1000_RDT, post);
	t->rx_n = n;
	t->rx_next = 0;
	t->rx_tail = post;
	wr(t, E1000_RCTL, rctl | E1000_RCTL_EN);
}

/* Queue one frame in a legacy descriptor (cmd EOP|IFCS|RS by default). */
static inline uint32_t t_tx_queue(struct tdev *t, const void *frame,
				  size_t len, uint8_t cmd)
{
	uint32_t i = t->tx_tail;
	uint64_t buf = T_TX_BUFS + (uint64_t)i * T_TX_BUF_SZ;
	uint8_t *d = gp(t, T_TX_RING + i * 16, 16);
	uint32_t lower = (uint32_t)len | (uint32_t)cmd << 24;

	ck_assert_uint_le(len, T_TX_BUF_SZ);
	memcpy(gp(t, buf, len), frame, len);
	memcpy(d, &buf, 8);
	memcpy(d + 8, &lower, 4);
	memset(d + 12, 0, 4);
	t->tx_tail = (i + 1) % t->tx_n;
	return i;
}

static inline void t_tx_kick(struct tdev *t)
{
	wr(t, E1000_TDT, t->tx_tail);
}

static inline uint8_t t_tx_status(struct tdev *t, uint32_t i)
{
	return *(uint8_t *)gp(t, T_TX_RING + i * 16 + 12, 1);
}

/*
 * Wait (bounded) for RX descriptor rx_next to be done; copies the frame
 * (all its descriptors up to EOP) into out. Returns its length, or -1 on
 * timeout. Gives the descriptors back to the device (RDT) when refill.
 */
static inline long t_rx_wait(struct tdev *t, uint8_t *out, size_t cap,
			     int timeout_ms, bool refill, unsigned *ndesc)
{
	uint64_t end = t_ms() + timeout_ms;
	size_t got = 0;
	unsigned nd = 0;

	for (;;) {
		volatile uint8_t *d = gp(t, T_RX_RING + t->rx_next * 16, 16);
		uint16_t len;
		uint64_t a;

		while (!(d[12] & E1000_RXD_STA_DD)) {
			if (t_ms() > end)
				return -1;
			usleep(100);
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		len = (uint16_t)(d[8] | d[9] << 8);
		memcpy(&a, (const void *)d, 8);
		ck_assert_uint_le(got + len, cap);
		if (len)
			memcpy(out + got, gp(t, a, len), len);
		got += len;
		nd++;
		bool eop = d[12] & E1000_RXD_STA_EOP;

		d[12] = 0;
		t->rx_next = (t->rx_next + 1) % t->rx_n;
		if (refill) {
			t->rx_tail = (t->rx_tail + 1) % t->rx_n;
			wr(t, E1000_RDT, t->rx_tail);
		}
		if (eop)
			break;
	}
	if (ndesc)
		*ndesc = nd;
	return (long)got;
}

/* A test frame to dst with seq and a pattern. */
static inline void t_frame(uint8_t *f, size_t len, const uint8_t *dst,
			   uint32_t seq)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x52\x54\x00\x99\x99\x99", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seq * 13 + i);
	if (len >= 18)
		memcpy(f + 14, &seq, 4);
}

#endif
