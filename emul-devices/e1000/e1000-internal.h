/* SPDX-License-Identifier: MIT */
/*
 * Private to emul-devices/e1000/: register offsets and bits (8254x SDM
 * section 13), the device structure and the functions the files share.
 */
#ifndef IOVMM_E1000_INTERNAL_H
#define IOVMM_E1000_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "emul-devices/e1000/e1000.h"
#include "emul-devices/net/backend.h"

#define E1000_MMIO_SIZE     (128u * 1024)
#define E1000_IO_SIZE       8u
#define E1000_NREGS         (E1000_MMIO_SIZE / 4)

/* Register offsets (SDM table 13-2). */
#define E1000_CTRL      0x00000
#define E1000_STATUS    0x00008
#define E1000_EECD      0x00010
#define E1000_EERD      0x00014
#define E1000_CTRL_EXT  0x00018
#define E1000_FLA       0x0001c
#define E1000_MDIC      0x00020
#define E1000_FCAL      0x00028
#define E1000_FCAH      0x0002c
#define E1000_FCT       0x00030
#define E1000_VET       0x00038
#define E1000_ICR       0x000c0
#define E1000_ITR       0x000c4
#define E1000_ICS       0x000c8
#define E1000_IMS       0x000d0
#define E1000_IMC       0x000d8
#define E1000_RCTL      0x00100
#define E1000_FCTTV     0x00170
#define E1000_TXCW      0x00178
#define E1000_RXCW      0x00180
#define E1000_TCTL      0x00400
#define E1000_TIPG      0x00410
#define E1000_LEDCTL    0x00e00
#define E1000_PBA       0x01000
#define E1000_FCRTL     0x02160
#define E1000_FCRTH     0x02168
#define E1000_RDBAL     0x02800
#define E1000_RDBAH     0x02804
#define E1000_RDLEN     0x02808
#define E1000_RDH       0x02810
#define E1000_RDT       0x02818
#define E1000_RDTR      0x02820
#define E1000_RXDCTL    0x02828
#define E1000_RADV      0x0282c
#define E1000_RSRPD     0x02c00
#define E1000_TXDMAC    0x03000
#define E1000_TDBAL     0x03800
#define E1000_TDBAH     0x03804
#define E1000_TDLEN     0x03808
#define E1000_TDH       0x03810
#define E1000_TDT       0x03818
#define E1000_TIDV      0x03820
#define E1000_TXDCTL    0x03828
#define E1000_TADV      0x0382c
#define E1000_TSPMT     0x03830
#define E1000_STATS     0x04000   /* 0x4000-0x40fc: statistics */
#define E1000_RXCSUM    0x05000
#define E1000_MTA       0x05200   /* 128 dwords */
#define E1000_RA        0x05400   /* 16 x (RAL, RAH) */
#define E1000_VFTA      0x05600   /* 128 dwords */
#define E1000_WUC       0x05800
#define E1000_WUFC      0x05808
#define E1000_WUS       0x05810
#define E1000_MANC      0x05820
#define E1000_IPAV      0x05838
#define E1000_IP4AT     0x05840
#define E1000_IP6AT     0x05880
#define E1000_WUPL      0x05900
#define E1000_WUPM      0x05a00
#define E1000_FFLT      0x05f00
#define E1000_FFMT      0x09000
#define E1000_FFVT      0x09800

/* Statistics used by the data paths (SDM 13.7). */
#define E1000_MPC       0x04010
#define E1000_RNBC      0x040a0
#define E1000_ROC       0x040ac
#define E1000_GPRC      0x04074
#define E1000_BPRC      0x04078
#define E1000_MPRC      0x0407c
#define E1000_GPTC      0x04080
#define E1000_GORCL     0x04088
#define E1000_GORCH     0x0408c
#define E1000_GOTCL     0x04090
#define E1000_GOTCH     0x04094
#define E1000_TORL      0x040c0
#define E1000_TORH      0x040c4
#define E1000_TOTL      0x040c8
#define E1000_TOTH      0x040cc
#define E1000_TPR       0x040d0
#define E1000_TPT       0x040d4
#define E1000_MPTC      0x040f0
#define E1000_BPTC      0x040f4
#define E1000_TSCTC     0x040f8
#define E1000_TSCTFC    0x040fc

#define E1000_CTRL_FD       0x00000001u
#define E1000_CTRL_SLU      0x00000040u
#define E1000_CTRL_SPD_1000 0x00000200u
#define E1000_CTRL_RST      0x04000000u
#define E1000_CTRL_PHY_RST  0x80000000u

#define E1000_STATUS_FD     0x00000001u
#define E1000_STATUS_LU     0x00000002u
#define E1000_STATUS_SPEED_1000 0x00000080u
#define E1000_STATUS_ASDV_1000  0x00000200u

#define E1000_EECD_SK       0x00000001u
#define E1000_EECD_CS       0x00000002u
#define E1000_EECD_DI       0x00000004u
#define E1000_EECD_DO       0x00000008u
#define E1000_EECD_REQ      0x00000040u
#define E1000_EECD_GNT      0x00000080u
#define E1000_EECD_PRES     0x00000100u

#define E1000_EERD_START    0x00000001u
#define E1000_EERD_DONE     0x00000010u
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16

#define E1000_MDIC_DATA     0x0000ffffu
#define E1000_MDIC_REG_SHIFT 16
#define E1000_MDIC_PHY_SHIFT 21
#define E1000_MDIC_OP_WRITE 0x04000000u
#define E1000_MDIC_OP_READ  0x08000000u
#define E1000_MDIC_READY    0x10000000u
#define E1000_MDIC_INT_EN   0x20000000u
#define E1000_MDIC_ERROR    0x40000000u

/* Interrupt causes (ICR/ICS/IMS/IMC, SDM 13.4.17-21). */
#define E1000_ICR_TXDW      0x00000001u
#define E1000_ICR_TXQE      0x00000002u
#define E1000_ICR_LSC       0x00000004u
#define E1000_ICR_RXSEQ     0x00000008u
#define E1000_ICR_RXDMT0    0x00000010u
#define E1000_ICR_RXO       0x00000040u
#define E1000_ICR_RXT0      0x00000080u
#define E1000_ICR_MDAC      0x00000200u
#define E1000_ICR_RXCFG     0x00000400u
#define E1000_ICR_GPI       0x00006000u
#define E1000_ICR_TXD_LOW   0x00008000u
#define E1000_ICR_SRPD      0x00010000u
#define E1000_ICR_ALL       0x0001f6dfu

#define E1000_RCTL_EN       0x00000002u
#define E1000_RCTL_SBP      0x00000004u
#define E1000_RCTL_UPE      0x00000008u
#define E1000_RCTL_MPE      0x00000010u
#define E1000_RCTL_LPE      0x00000020u
#define E1000_RCTL_RDMTS_SHIFT 8
#define E1000_RCTL_MO_SHIFT 12
#define E1000_RCTL_BAM      0x00008000u
#define E1000_RCTL_BSIZE_SHIFT 16
#define E1000_RCTL_BSEX     0x02000000u
#define E1000_RCTL_SECRC    0x04000000u

#define E1000_TCTL_EN       0x00000002u
#define E1000_TCTL_PSP      0x00000008u

#define E1000_RAH_AV        0x80000000u

/* TX descriptors (SDM 3.3). */
#define E1000_TXD_CMD_EOP   0x01u
#define E1000_TXD_CMD_IFCS  0x02u
#define E1000_TXD_CMD_IC    0x04u    /* legacy: insert checksum */
#define E1000_TXD_CMD_TSE   0x04u    /* extended: TCP segmentation */
#define E1000_TXD_CMD_RS    0x08u
#define E1000_TXD_CMD_DEXT  0x20u
#define E1000_TXD_CMD_VLE   0x40u
#define E1000_TXD_CMD_IDE   0x80u
#define E1000_TXD_STA_DD    0x01u
#define E1000_TXD_DTYP_CTX  0x0u
#define E1000_TXD_DTYP_DATA 0x1u
#define E1000_TXD_POPTS_IXSM 0x01u
#define E1000_TXD_POPTS_TXSM 0x02u
#define E1000_TUCMD_TCP     0x01u
#define E1000_TUCMD_IP      0x02u    /* IPv4 (else IPv6) */

/* RX descriptor status and errors (SDM 3.2.3). */
#define E1000_RXD_STA_DD    0x01u
#define E1000_RXD_STA_EOP   0x02u
#define E1000_RXD_STA_IXSM  0x04u
#define E1000_RXD_ERR_RXE   0x80u

#define E1000_DESC_LEN      16u
#define E1000_TX_MAX_IOV    64u      /* buffers per packet we gather */
#define E1000_TX_MAX_WB     128u     /* RS descriptors awaiting their packet */
#define E1000_TX_BUF_LEN    (65536u + 256u)
#define E1000_EEPROM_WORDS  64u
#define E1000_PHY_REGS      32u

/* The TX packet being assembled; survives across TDT writes. */
struct e1000_tx {
	/* Offload context from the last context descriptor (SDM 3.3.6). */
	uint8_t ipcss, ipcso, tucss, tucso, tucmd;
	uint16_t ipcse, tucse, mss;
	uint8_t hdr_len;
	uint32_t paylen;
	/* The packet so far. */
	struct iovec iov[E1000_TX_MAX_IOV];
	unsigned iovcnt;
	size_t len;
	bool overflow;          /* too many buffers or bytes: drop at EOP */
	bool bad;               /* a buffer was not guest RAM: drop at EOP */
	bool ext;               /* data descriptors (else legacy) */
	uint8_t popts, dcmd;    /* of the first data descriptor */
	uint8_t cso, css;       /* legacy IC */
	bool legacy_ic;
	bool vle;
	uint16_t vlan;
	/* Descriptors (gpa) whose DD is written when the packet has gone. */
	uint64_t wb[E1000_TX_MAX_WB];
	unsigned nwb;
};

struct e1000 {
	struct pci_dev pdev;
	char name[32];
	struct gmem *mem;           /* borrowed */
	struct irq *irq;            /* borrowed, may be NULL */
	struct ioloop *io;          /* borrowed */
	struct pci_msi *msi;        /* owned */
	struct net_backend *be;     /* owned */

	/* lock guards everything below. Order: pdev.lock, lock, msi lock. */
	pthread_mutex_t lock;
	uint32_t regs[E1000_NREGS];  /* the register file, by offset / 4 */
	uint32_t ioaddr;             /* IOADDR (BAR1 offset 0) */
	uint16_t eeprom[E1000_EEPROM_WORDS];
	uint16_t phy[E1000_PHY_REGS];
	/* Microwire state machine (SDM 5.3.1, EECD bit-banging). */
	struct {
		uint32_t bits;       /* shifted in since CS went high */
		unsigned nbits;
		uint16_t out;        /* data being shifted out on DO */
		int out_bits;        /* bits left to shift out; <0: none */
		bool reading;
		uint16_t addr;
		uint32_t last;       /* previous EECD value (for SK edges) */
	} mw;
	/* Interrupt output. */
	bool irq_level;              /* ICR & IMS != 0 as last signalled */
	bool intx_asserted;          /* what the pin currently drives */
	bool intx_disabled;          /* COMMAND.INTX_DISABLE, cached */
	bool msi_on;                 /* MSI enabled, cached on cfg writes */
	struct e1000_tx tx;
	uint8_t *tx_buf;             /* E1000_TX_BUF_LEN, linearised packets */
	uint8_t *seg_buf;            /* E1000_TX_BUF_LEN, TSO segments */
	uint64_t tx_frames, rx_frames, tx_errors, rx_dropped;
};

static inline uint32_t e1000_reg(const struct e1000 *e, uint32_t off)
{
	return e->regs[off >> 2];
}

static inline void e1000_set_reg(struct e1000 *e, uint32_t off, uint32_t v)
{
	e->regs[off >> 2] = v;
}

/* Add to a 32-bit statistic, saturating, or to a low/high pair. */
void e1000_stat_inc(struct e1000 *e, uint32_t off, uint32_t n);
void e1000_stat_add64(struct e1000 *e, uint32_t lo_off, uint64_t n);

/* regs.c: the register table and its dispatcher. lock held. */
uint32_t e1000_mmio_read(struct e1000 *e, uint32_t off);
void e1000_mmio_write(struct e1000 *e, uint32_t off, uint32_t val);
void e1000_regs_reset(struct e1000 *e);
const char *e1000_reg_name(uint32_t off);

/* e1000.c: interrupts. lock held. */
void e1000_set_ics(struct e1000 *e, uint32_t causes);
void e1000_update_irq(struct e1000 *e);
void e1000_device_reset(struct e1000 *e);

/* eeprom.c: EEPROM and PHY. lock held. */
void e1000_eeprom_init(struct e1000 *e, const uint8_t mac[6]);
void e1000_eecd_write(struct e1000 *e, uint32_t val);
uint32_t e1000_eecd_read(struct e1000 *e);
void e1000_eerd_write(struct e1000 *e, uint32_t val);
void e1000_phy_reset(struct e1000 *e);
void e1000_mdic_write(struct e1000 *e, uint32_t val);

/* tx.c, rx.c. lock held. */
void e1000_tx_process(struct e1000 *e);
void e1000_tx_reset(struct e1000 *e);
int e1000_rx(void *opaque, const struct iovec *iov, int iovcnt, size_t len);

#endif
