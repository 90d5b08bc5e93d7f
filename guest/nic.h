/* SPDX-License-Identifier: MIT */
/*
 * The kit's NIC drivers behind one small interface, so the network tests
 * run unchanged on virtio-net (virtio_net.c) and e1000 (e1000.c). Poll
 * mode, zero-copy: the test writes a frame straight into a TX buffer and
 * reads received frames in place. Doorbells (virtio notifications, e1000
 * TDT/RDT writes) are MMIO exits, so they are batched: tx_post/rx_done only
 * queue work, tx_flush/rx_flush ring the doorbell once for the batch.
 */
#ifndef IOVMM_GUEST_NIC_H
#define IOVMM_GUEST_NIC_H

#include "guest/virtio.h"

#define KIT_NIC_MAX_FRAME 1514 /* without FCS */
#define KIT_NIC_MIN_FRAME 60
#define KIT_NIC_BUF 2048
#define KIT_VNET_HDR_LEN 12 /* struct virtio_net_hdr_v1 (§5.1.6) */

struct kit_nic_cfg {
	bool packed;      /* virtio: VIRTIO_F_RING_PACKED (required) */
	bool event_idx;   /* virtio: VIRTIO_F_EVENT_IDX if offered */
	bool indirect;    /* virtio: TX through indirect tables (required) */
	bool mrg_rxbuf;   /* virtio: VIRTIO_NET_F_MRG_RXBUF (required) */
	uint16_t qsize;   /* ring entries; 0: driver default */
	uint16_t rx_buf;  /* virtio RX buffer bytes, header included */
	uint8_t tx_sg;    /* virtio: descriptors per TX frame (1 or 2) */
};

struct kit_nic;

struct kit_nic_ops {
	/* Buffer for the next TX frame, or NULL while the ring is full. */
	uint8_t *(*tx_buf)(struct kit_nic *n);
	/* Queue the frame written into the last tx_buf() (len bytes). */
	void (*tx_post)(struct kit_nic *n, uint32_t len);
	/* Doorbell for every frame queued since the last flush. */
	void (*tx_flush)(struct kit_nic *n);
	/* Collect completed transmissions; returns how many. */
	unsigned int (*tx_reclaim)(struct kit_nic *n);
	/* Next received frame (valid until rx_done), or NULL. */
	const uint8_t *(*rx)(struct kit_nic *n, uint32_t *len);
	/* Give the last frame's buffer(s) back to the device. */
	void (*rx_done)(struct kit_nic *n);
	/* Doorbell for the buffers given back since the last flush. */
	void (*rx_flush)(struct kit_nic *n);
	/* Reset the device (stops all DMA into our memory). */
	void (*close)(struct kit_nic *n);
};

struct kit_nic {
	const struct kit_nic_ops *ops;
	const char *name;
	uint8_t mac[6];
	uint16_t tx_slots;   /* frames the TX ring holds */
	uint16_t rx_slots;   /* RX buffers posted */
	uint64_t doorbells;  /* MMIO doorbell writes (TX + RX) */
	uint64_t rx_errors;  /* malformed completions, dropped by the driver */
};

/* "virtio" or "e1000": open the first such NIC. -1 with *reason. */
int kit_nic_open(const char *kind, size_t kind_len,
		 const struct kit_nic_cfg *cfg, struct kit_nic **out,
		 const char **reason);

/*
 * The keys every network test shares: nic=virtio|e1000 (default virtio),
 * ring=split|packed, event_idx=0|1 (default 1), indirect=0|1,
 * mrg_rxbuf=0|1, qsize=N, rx_buf=N, tx_sg=1|2. -1 on a malformed value.
 */
int kit_nic_parse(struct kit_nic_cfg *cfg, const char **kind,
		  size_t *kind_len);

/* ---- test_net.c helpers shared with the hostile tests ---- */
/*
 * Send one test frame of `size` bytes and wait (bounded) for it to come
 * back intact. With skip_foreign, frames that are not test frames (junk a
 * hostile test made the device send) are ignored instead of failing.
 * 0, or -1 with *reason ("tx-full", "lost", "corrupted").
 */
int kit_net_roundtrip(struct kit_nic *n, uint32_t size, uint64_t timeout_ms,
		      bool skip_foreign, const char **reason);

/* ---- virtio_net.c (1af4:1041, or 1af4:1000 with modern caps) ---- */
#define KIT_VNET_RX_MAX_BUFS 32 /* buffers one merged frame may span */

struct kit_vnet {
	struct kit_nic nic;
	struct kit_virtio v;
	struct kit_vq rxq;  /* queue 0 */
	struct kit_vq txq;  /* queue 1 */
	struct kit_nic_cfg cfg;
	bool mrg;
	uint8_t *txbufs;    /* KIT_NIC_BUF per slot: header + frame */
	uint16_t *tx_free;
	uint16_t tx_top;
	int tx_cur;         /* slot handed out by tx_buf, -1 if none */
	uint8_t *rxbufs;
	uint8_t *rx_scratch; /* reassembly of a frame spanning buffers */
	uint8_t *rx_cur[KIT_VNET_RX_MAX_BUFS];
	unsigned int rx_ncur;
};

int kit_vnet_open(struct kit_vnet *vn, const struct kit_nic_cfg *cfg,
		  const char **reason);

/* ---- e1000.c (8086:100e, 82540EM) ---- */
/* Legacy descriptors (8254x SDM §3.3.3, §3.2.3). */
struct kit_e1000_txd {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};

struct kit_e1000_rxd {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

struct kit_e1000 {
	struct kit_nic nic;
	struct kit_pci_dev *pci;
	uint64_t regs;
	volatile struct kit_e1000_txd *txr;
	volatile struct kit_e1000_rxd *rxr;
	uint16_t ntx, nrx;
	uint16_t tx_tail;    /* next descriptor to fill */
	uint16_t tx_clean;   /* oldest descriptor not yet completed */
	bool tx_pending;     /* filled since the last TDT write */
	uint16_t rx_next;    /* next descriptor to check */
	bool rx_pending;     /* released since the last RDT write */
	uint8_t *txbufs, *rxbufs;
};

int kit_e1000_open(struct kit_e1000 *e, const struct kit_nic_cfg *cfg,
		   const char **reason);
uint32_t kit_e1000_read(const struct kit_e1000 *e, unsigned int reg);
void kit_e1000_write(const struct kit_e1000 *e, unsigned int reg, uint32_t v);
/* CTRL.RST and wait (bounded) for it to clear; masks every interrupt. */
int kit_e1000_reset(struct kit_e1000 *e);

/* e1000 registers the hostile test programs directly (8254x SDM §13). */
#define KIT_E1000_CTRL 0x0000
#define KIT_E1000_STATUS 0x0008
#define KIT_E1000_TDBAL 0x3800
#define KIT_E1000_TDBAH 0x3804
#define KIT_E1000_TDLEN 0x3808
#define KIT_E1000_TDH 0x3810
#define KIT_E1000_TDT 0x3818
#define KIT_E1000_RDT 0x2818

#endif
