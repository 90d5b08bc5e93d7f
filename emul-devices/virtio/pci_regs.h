/* SPDX-License-Identifier: MIT */
/*
 * The virtio PCI register layout (virtio 1.2 §4.1.4), with Linux's names
 * (include/uapi/linux/virtio_pci.h, same values): the vendor capabilities
 * that locate the structures, and the common configuration structure. One
 * copy for the transport and for the tests' drivers; the guest kit under
 * guest/ is freestanding and keeps its own.
 */
#ifndef IOVMM_VIRTIO_PCI_REGS_H
#define IOVMM_VIRTIO_PCI_REGS_H

/* struct virtio_pci_cap (§4.1.4): field offsets in the capability. */
#define VIRTIO_PCI_CAP_VNDR         0
#define VIRTIO_PCI_CAP_NEXT         1
#define VIRTIO_PCI_CAP_LEN          2
#define VIRTIO_PCI_CAP_CFG_TYPE     3
#define VIRTIO_PCI_CAP_BAR          4
#define VIRTIO_PCI_CAP_OFFSET       8
#define VIRTIO_PCI_CAP_LENGTH       12
#define VIRTIO_PCI_NOTIFY_CAP_MULT  16 /* virtio_pci_notify_cap (§4.1.4.4) */
#define VIRTIO_PCI_CFG_CAP_DATA     16 /* virtio_pci_cfg_cap (§4.1.4.9) */

/* cfg_type values. */
#define VIRTIO_PCI_CAP_COMMON_CFG   1
#define VIRTIO_PCI_CAP_NOTIFY_CFG   2
#define VIRTIO_PCI_CAP_ISR_CFG      3
#define VIRTIO_PCI_CAP_DEVICE_CFG   4
#define VIRTIO_PCI_CAP_PCI_CFG      5

/* struct virtio_pci_common_cfg (§4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT      0
#define VIRTIO_PCI_COMMON_DF            4
#define VIRTIO_PCI_COMMON_GFSELECT      8
#define VIRTIO_PCI_COMMON_GF            12
#define VIRTIO_PCI_COMMON_MSIX          16
#define VIRTIO_PCI_COMMON_NUMQ          18
#define VIRTIO_PCI_COMMON_STATUS        20
#define VIRTIO_PCI_COMMON_CFGGENERATION 21
#define VIRTIO_PCI_COMMON_Q_SELECT      22
#define VIRTIO_PCI_COMMON_Q_SIZE        24
#define VIRTIO_PCI_COMMON_Q_MSIX        26
#define VIRTIO_PCI_COMMON_Q_ENABLE      28
#define VIRTIO_PCI_COMMON_Q_NOFF        30
#define VIRTIO_PCI_COMMON_Q_DESCLO      32
#define VIRTIO_PCI_COMMON_Q_DESCHI      36
#define VIRTIO_PCI_COMMON_Q_AVAILLO     40
#define VIRTIO_PCI_COMMON_Q_AVAILHI     44
#define VIRTIO_PCI_COMMON_Q_USEDLO      48
#define VIRTIO_PCI_COMMON_Q_USEDHI      52

#endif
