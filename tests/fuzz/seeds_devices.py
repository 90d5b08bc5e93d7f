#!/usr/bin/env python3
"""Write well-formed seed inputs for the device fuzzers into a corpus dir.

    seeds_devices.py TARGET OUT_DIR

Deterministic: the same files every run. Each generator writes inputs in
the layout its fuzz_TARGET.c describes; the guest scripts use the op
encoding of fz.h (read 0, write 1, poke 2, target ops 3-7).
"""
import os
import struct
import sys

LENS = {1: 0, 2: 1, 4: 2, 8: 3}


def rd(win, off, ln=4):
    return bytes([0 | LENS[ln] << 3 | win << 5]) + struct.pack('<I', off)


def wr(win, off, val, ln=4):
    return (bytes([1 | LENS[ln] << 3 | win << 5]) + struct.pack('<I', off) +
            val.to_bytes(8, 'little')[:ln])


def poke(gpa, data):
    assert len(data) < 256
    return bytes([2]) + struct.pack('<HB', gpa, len(data)) + data


def op(kind, arg=0):
    return bytes([kind | arg << 3])


def scripted(hdr, script, rest=b''):
    return bytes(hdr) + struct.pack('<H', len(script)) + script + rest


def image(size):
    return bytearray(size)


def put(img, off, data):
    img[off:off + len(data)] = data


def ether_frame(dst, length, proto=0x0800):
    body = bytes((i * 7) & 0xff for i in range(length - 14))
    return dst + b'\x52\x54\x00\x99\x99\x99' + struct.pack('>H', proto) + body


def ipv4_tcp_frame(payload_len):
    ip_len = 20 + 20 + payload_len
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, ip_len, 1, 0x4000, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    tcp = struct.pack('>HHIIBBHHH', 1234, 80, 1, 0, 5 << 4, 0x18, 65535, 0, 0)
    pay = bytes(i & 0xff for i in range(payload_len))
    return (b'\x52\x54\x00\xaa\xbb\x01\x52\x54\x00\x99\x99\x99\x08\x00' +
            ip + tcp + pay)


# ---- e1000 ----------------------------------------------------------------
E1000 = dict(CTRL=0x0, STATUS=0x8, EECD=0x10, EERD=0x14, MDIC=0x20, ICR=0xc0,
             ICS=0xc8, IMS=0xd0, IMC=0xd8, RCTL=0x100, TCTL=0x400,
             RDBAL=0x2800, RDBAH=0x2804, RDLEN=0x2808, RDH=0x2810,
             RDT=0x2818, TDBAL=0x3800, TDBAH=0x3804, TDLEN=0x3808,
             TDH=0x3810, TDT=0x3818, RAL=0x5400, RAH=0x5404, MTA=0x5200)
TX_RING, RX_RING, TX_BUF, RX_BUF = 0x1000, 0x1800, 0x2000, 0x8000


def e1000_setup(ntx=8, nrx=8, rctl=0x8002):
    r = E1000
    s = b''
    s += wr(2, 0x04, 0x0007, 2)  # COMMAND: IO, MEM, MASTER
    s += wr(0, r['IMS'], 0x1f6df)
    s += wr(0, r['TDBAL'], TX_RING) + wr(0, r['TDBAH'], 0)
    s += wr(0, r['TDLEN'], ntx * 16) + wr(0, r['TDH'], 0) + wr(0, r['TDT'], 0)
    s += wr(0, r['TCTL'], 0x0a)
    s += wr(0, r['RDBAL'], RX_RING) + wr(0, r['RDBAH'], 0)
    s += wr(0, r['RDLEN'], nrx * 16) + wr(0, r['RDH'], 0)
    s += wr(0, r['RDT'], nrx - 1)
    s += wr(0, r['RAL'], 0xaa005452) + wr(0, r['RAH'], 0x800001bb)
    s += wr(0, r['RCTL'], rctl)
    return s


def e1000_ram(tx_descs, nrx=8, rx_buf=2048):
    img = image(0x10000)
    for i, d in enumerate(tx_descs):
        put(img, TX_RING + 16 * i, d)
    for i in range(nrx):
        put(img, RX_RING + 16 * i, struct.pack('<QQ', RX_BUF + i * rx_buf, 0))
    for i in range(0x600):
        img[TX_BUF + i] = (i * 13) & 0xff
    put(img, TX_BUF, ipv4_tcp_frame(1000))
    return bytes(img).rstrip(b'\0')


def legacy_tx(addr, length, cmd, cso=0, css=0):
    return struct.pack('<QHBBBBH', addr, length, cso, cmd, 0, css, 0)


def ctx_desc(ipcss, ipcso, ipcse, tucss, tucso, tucse, paylen, tucmd, hdrlen,
             mss):
    """Context descriptor (8254x SDM 3.3.6); tucmd gets DEXT."""
    return (struct.pack('<BBHBBH', ipcss, ipcso, ipcse, tucss, tucso, tucse) +
            struct.pack('<I', paylen & 0xfffff | (0x20 | tucmd) << 24) +
            struct.pack('<BBH', 0, hdrlen, mss))


def data_desc(addr, length, dcmd, popts):
    """Data descriptor (SDM 3.3.7): DTYP 1, dcmd gets DEXT."""
    return (struct.pack('<QI', addr, length & 0xfffff | 1 << 20 |
                        (0x20 | dcmd) << 24) + struct.pack('<BBH', 0, popts, 0))


def e1000_seeds():
    r = E1000
    out = {}
    frame_len = len(ipv4_tcp_frame(1000))
    # Legacy TX: two packets, the second in two buffers; then RX frames.
    tx = [legacy_tx(TX_BUF, 60, 0x0b), legacy_tx(TX_BUF, 100, 0x0a),
          legacy_tx(TX_BUF + 100, 200, 0x0b)]
    s = e1000_setup() + wr(0, r['TDT'], 3) + rd(0, r['ICR']) + rd(0, r['TDH'])
    s += op(3) + struct.pack('<H', 64) + ether_frame(b'\xff' * 6, 64)
    s += op(3) + struct.pack('<H', 1500) + ether_frame(
        b'\x52\x54\x00\xaa\xbb\x01', 1500)
    s += rd(0, r['RDH']) + rd(0, r['ICR'])
    out['legacy-tx-rx'] = scripted([0], s, e1000_ram(tx))
    # Legacy checksum insertion (IC) and a TSO context + data descriptors.
    tx = [legacy_tx(TX_BUF, frame_len, 0x0f, cso=14 + 10, css=14),
          ctx_desc(14, 24, 33, 34, 50, 0, frame_len - 54, 0x07, 54, 500),
          data_desc(TX_BUF, frame_len, 0x0f, 0x03)]
    s = e1000_setup() + wr(0, r['TDT'], 3) + rd(0, r['TDH'])
    out['tx-offloads'] = scripted([0], s, e1000_ram(tx))
    # Ring wrap, TDT beyond the ring, bad buffer address.
    tx = [legacy_tx(0xfff0, 64, 0x0b), legacy_tx(0x123456789, 64, 0x0b)]
    s = e1000_setup(ntx=8) + wr(0, r['TDT'], 1) + wr(0, r['TDT'], 0)
    s += wr(0, r['TDT'], 7) + rd(0, r['ICR'])
    out['tx-hostile'] = scripted([0], s, e1000_ram(tx))
    # EEPROM through EERD and Microwire bit-banging, PHY through MDIC.
    s = b''
    for a in range(4):
        s += wr(0, r['EERD'], a << 8 | 1) + rd(0, r['EERD'])
    s += wr(0, r['EECD'], 0x40) + rd(0, r['EECD'])
    for bit in [1, 1, 0, 0, 0, 0, 0, 0, 0]:  # READ opcode 110, address 0
        di = 4 if bit else 0
        s += wr(0, r['EECD'], 0x42 | di) + wr(0, r['EECD'], 0x43 | di)
    for _ in range(16):
        s += wr(0, r['EECD'], 0x42) + wr(0, r['EECD'], 0x43) + rd(0, r['EECD'])
    s += wr(0, r['MDIC'], 0x08000000 | 1 << 21 | 2 << 16) + rd(0, r['MDIC'])
    s += wr(0, r['MDIC'], 0x04000000 | 1 << 21 | 0 << 16 | 0x8000)
    s += wr(1, 0, r['STATUS']) + rd(1, 4) + wr(1, 0, r['ICS']) + wr(1, 4, 4)
    s += wr(0, r['CTRL'], 0x04000000) + op(4) + rd(0, r['STATUS'])
    out['eeprom-phy-io'] = scripted([0], s, e1000_ram([]))
    # RX with small buffers (BSIZE 256: frames span descriptors), SECRC,
    # long packets, MSI programmed through config space.
    s = wr(2, 0x50 + 4, 0xfee00000) + wr(2, 0x50 + 8, 0x41, 2)
    s += e1000_setup(rctl=0x8002 | 3 << 16 | 0x04000000 | 0x20 | 0x18)
    s += op(3) + struct.pack('<H', 1514) + ether_frame(b'\xff' * 6, 1514)
    s += op(3) + struct.pack('<H', 9000) + ether_frame(b'\x01' * 6, 9000)
    s += op(3) + struct.pack('<H', 10) + b'\x00' * 10
    s += wr(0, r['RDT'], 3) + wr(0, r['RDLEN'], 0x10000)
    s += op(3) + struct.pack('<H', 100) + ether_frame(b'\xff' * 6, 100)
    out['rx-small-bufs'] = scripted([0], s, e1000_ram([], rx_buf=256))
    return out


# ---- PCI config space and MSI-X (fz_pcidev.h shapes) ----------------------
def pcidev_shape(bars, msi=0, nvec=0, tbar=0, pbar=0, toff=0, poff=0,
                 ecaps=0):
    return (bytes(bars) + bytes([msi]) + struct.pack('<H', nvec) +
            bytes([tbar | pbar << 3]) + struct.pack('<HH', toff // 8,
                                                    poff // 8) +
            bytes([ecaps]))


def bar(kind, size_sel, prefetch=False):
    return kind | (4 if prefetch else 0) | size_sel << 3


def cfg_walk():
    s = rd(0, 0x00) + rd(0, 0x06, 2) + rd(0, 0x34, 1)
    for off in range(0x40, 0x100, 4):
        s += rd(0, off)
    for off in range(0x100, 0x180, 4):
        s += rd(0, off)
    return s


def bar_sizing(n):
    s = b''
    for b in range(n):
        o = 0x10 + 4 * b
        s += rd(0, o) + wr(0, o, 0xffffffff) + rd(0, o)
    return s


def pci_seeds():
    out = {}
    # BAR0 I/O 256, BAR1 mem32 4 KiB, BAR2-3 mem64 1 MiB prefetchable,
    # BAR4 mem32 64 KiB; MSI 4 vectors with masking; MSI-X 16 in BAR4.
    shape = pcidev_shape([bar(1, 6), bar(2, 8), bar(3, 16, True), 0,
                          bar(2, 12), 0], msi=1 | 2 << 1 | 0x10 | 1 << 5,
                         nvec=15, tbar=4, pbar=4, toff=0, poff=0x800,
                         ecaps=2 | 3 << 2)
    s = cfg_walk() + bar_sizing(6)
    s += wr(0, 0x04, 0, 2)                     # decoding off
    s += wr(0, 0x10, 0xc000) + wr(0, 0x14, 0xe0000000)
    s += wr(0, 0x18, 0xe0100000) + wr(0, 0x1c, 0x1)
    s += wr(0, 0x20, 0xe0000000)               # collides with BAR1
    s += wr(0, 0x04, 0x0407, 2)                # decoding on, INTx off
    s += rd(0, 0x10) + rd(0, 0x20) + wr(0, 0x14, 0)   # BAR1 to 0
    # MSI at 0x40: address, data, enable with 4 vectors, unmask.
    s += wr(0, 0x44, 0xfee00000) + wr(0, 0x48, 0) + wr(0, 0x4c, 0x4041, 2)
    s += wr(0, 0x42, 0x0021, 2) + wr(0, 0x50, 0x0) + op(4) + b'\x01'
    s += op(6) + wr(0, 0x50, 0xf) + op(4) + b'\x02' + rd(0, 0x54)
    s += wr(0, 0x50, 0x0) + op(6) + op(3) + cfg_walk()
    out['bars-msi'] = scripted(shape, s)
    # Only a 64-bit BAR pair and an I/O BAR: moves onto each other,
    # all-ones, above 4 GiB, over the edu device's BARs.
    shape = pcidev_shape([bar(3, 10), 0, bar(1, 2), 0, 0, 0], ecaps=1)
    s = bar_sizing(6) + wr(0, 0x10, 0xfebf0000) + wr(0, 0x14, 0)
    s += wr(0, 0x10, 0xffffffff) + wr(0, 0x14, 0xffffffff)
    s += wr(0, 0x10, 0) + wr(0, 0x14, 0x10) + wr(0, 0x18, 0xcf8)
    s += wr(1, 0, 0x80000810) + rd(1, 4) + wr(1, 0, 0x80000818)
    s += wr(1, 4, 0xffffffff) + rd(1, 4) + op(3)
    out['bar-moves'] = scripted(shape, s)
    return out


def msix_layout(nvec, tbar, pbar, toff, poff, external=False, bar2=False,
                sources=0):
    return (struct.pack('<H', nvec) +
            bytes([tbar | pbar << 3 | (0x40 if external else 0) |
                   (0x80 if bar2 else 0)]) +
            struct.pack('<HH', toff // 8, poff // 8) + bytes([sources]))


def msix_program(nvec, cap=0x40):
    s = wr(0, 0x04, 0x6, 2) + rd(0, cap) + rd(0, cap + 4) + rd(0, cap + 8)
    s += wr(0, cap + 2, 0xc000, 2)             # enable + function mask
    for v in range(nvec):
        e = 16 * v
        s += wr(1, e, 0xfee00000 | v << 12, 8) + wr(1, e + 8, 0x40 + v)
        s += wr(1, e + 12, 0)
    s += wr(0, cap + 2, 0x8000, 2)             # function mask off
    return s


def msix_seeds():
    out = {}
    s = msix_program(4) + op(3) + b'\x00\x00' + op(3) + b'\x03\x00'
    s += op(6) + b'\x00\x00' + wr(1, 12, 1) + op(3) + b'\x00\x00'
    s += rd(1, 0x800, 8) + wr(1, 12, 0) + op(6) + b'\x00\x00'
    s += op(4) + b'\x00\x01\x00' + op(5) + b'\x00' + op(6) + b'\x01\x00'
    s += wr(1, 4, 0, 4) + wr(1, 2, 0xffff, 2) + rd(1, 0x804, 4)
    s += op(7) + rd(0, 0x42, 2)
    out['internal'] = scripted(msix_layout(3, 0, 0, 0, 0x800, sources=2), s)
    s = msix_program(2) + op(4) + b'\x00\x00\x00' + op(5) + b'\x00'
    s += op(6) + b'\x00\x00' + wr(1, 12, 1) + op(5) + b'\x00'
    s += wr(1, 12, 0) + op(6) + b'\x00\x00' + wr(0, 0x42, 0, 2) + op(5) + b'\x00'
    out['external'] = scripted(
        msix_layout(1, 0, 2, 0x1000, 0, external=True, bar2=True,
                    sources=1), s)
    s = msix_program(8) + wr(0, 0x42, 0x4000 | 0x8000, 2) + op(3) + b'\x07\x00'
    s += rd(2, 0, 8) + wr(0, 0x42, 0x8000, 2) + op(6) + b'\x07\x00'
    out['table-bar2'] = scripted(
        msix_layout(2047, 2, 0, 0, 0x8000, bar2=True, sources=8), s)
    return out


# ---- legacy ports --------------------------------------------------------
COM1, CMOS, KBC, DBG, COM2 = 0, 1, 2, 3, 4


def uart_init(w):
    s = wr(w, 3, 0x80, 1) + wr(w, 0, 1, 1) + wr(w, 1, 0, 1)  # DLAB, 115200
    s += wr(w, 3, 0x03, 1) + wr(w, 2, 0xc7, 1) + wr(w, 4, 0x0b, 1)
    s += wr(w, 1, 0x0f, 1) + rd(w, 2, 1) + rd(w, 5, 1) + rd(w, 6, 1)
    return s


def legacy_seeds():
    out = {}
    s = uart_init(COM1)
    for c in b'hello, fuzz\r\n':
        s += rd(COM1, 5, 1) + wr(COM1, 0, c, 1)
    s += rd(COM1, 2, 1) + wr(COM1, 7, 0x5a, 1) + rd(COM1, 7, 1)
    s += wr(COM1, 4, 0x10, 1) + wr(COM1, 0, 0x41, 1) + rd(COM1, 0, 1)
    s += rd(COM1, 6, 1) + wr(COM1, 4, 0x0b, 1)
    s += uart_init(COM2) + op(3) + bytes([5]) + b'typed'
    for _ in range(6):
        s += rd(COM2, 2, 1) + rd(COM2, 5, 1) + rd(COM2, 0, 1)
    s += op(3) + bytes([200]) + bytes(range(200)) + rd(COM2, 5, 1)
    out['uarts'] = scripted([0], s)
    s = b''
    for reg in list(range(0, 0x0e)) + [0x32, 0x34, 0x35, 0x5b, 0x7f, 0x80]:
        s += wr(CMOS, 0, reg, 1) + rd(CMOS, 1, 1)
    s += wr(CMOS, 0, 0x0b, 1) + wr(CMOS, 1, 0x06, 1)      # binary, 24h
    s += wr(CMOS, 0, 0x04, 1) + rd(CMOS, 1, 1)
    s += wr(CMOS, 0, 0x40, 1) + wr(CMOS, 1, 0xab, 1) + rd(CMOS, 1, 1)
    s += wr(CMOS, 0, 0x8f, 1) + rd(CMOS, 1, 1) + rd(CMOS, 0, 2)
    s += wr(CMOS, 0, 0x0a0e, 2)
    out['cmos'] = scripted([0], s)
    s = rd(KBC, 4, 1) + wr(KBC, 4, 0x20, 1) + rd(KBC, 4, 1) + rd(KBC, 0, 1)
    s += wr(KBC, 4, 0x60, 1) + wr(KBC, 0, 0x47, 1) + wr(KBC, 4, 0xaa, 1)
    s += rd(KBC, 0, 1) + wr(KBC, 4, 0xad, 1) + wr(KBC, 0, 0xff, 1)
    s += rd(KBC, 4, 1) + rd(KBC, 0, 1) + wr(KBC, 4, 0xd1, 1)
    s += wr(KBC, 0, 0xdf, 1) + rd(KBC, 1, 4) + wr(KBC, 4, 0xfe, 1)
    s += wr(DBG, 0, 0, 1) + wr(DBG, 0, 0x21, 4) + rd(DBG, 0, 2)
    out['i8042-debug-exit'] = scripted([0], s)
    return out


# ---- virtio (fz_virtio.h set-up) -----------------------------------------
VQ_NEXT, VQ_WRITE, VQ_INDIRECT = 1, 2, 4
VQ_AVAIL, VQ_USED = 1 << 7, 1 << 15
DESC, AVAIL, USED = 0x0000, 0x0400, 0x0800


def virtio_setup(qsize_sel=4, qmask=0x1, packed=False, feat_lo=0xffffffff):
    hi = 0x01 | (0x04 if packed else 0)
    return (struct.pack('<IBBB', feat_lo, hi, qsize_sel, qmask) +
            struct.pack('<HHH', DESC, AVAIL, USED))


def split_ring(img, q, chains, indirect_at=None):
    """Chains of (gpa, len, write) segments made available on queue q."""
    base = 0x1000 * q
    d = 0
    heads = []
    for chain in chains:
        heads.append(d)
        for i, (gpa, ln, w) in enumerate(chain):
            flags = (VQ_WRITE if w else 0) | (VQ_NEXT if i + 1 < len(chain)
                                              else 0)
            if gpa == 'indirect':
                flags, gpa = VQ_INDIRECT, indirect_at
            put(img, base + DESC + 16 * d,
                struct.pack('<QIHH', gpa, ln, flags, d + 1))
            d += 1
    put(img, base + AVAIL, struct.pack('<HH', 0, len(heads)))
    for i, h in enumerate(heads):
        put(img, base + AVAIL + 4 + 2 * i, struct.pack('<H', h))


def packed_ring(img, q, chains):
    base = 0x1000 * q
    d = 0
    for bid, chain in enumerate(chains):
        for i, (gpa, ln, w) in enumerate(chain):
            flags = VQ_AVAIL | (VQ_WRITE if w else 0) | (
                VQ_NEXT if i + 1 < len(chain) else 0)
            put(img, base + DESC + 16 * d,
                struct.pack('<QIHH', gpa, ln, bid, flags))
            d += 1


def indirect_table(img, at, chain):
    for i, (gpa, ln, w) in enumerate(chain):
        flags = (VQ_WRITE if w else 0) | (VQ_NEXT if i + 1 < len(chain) else 0)
        put(img, at + 16 * i, struct.pack('<QIHH', gpa, ln, flags, i + 1))


def kick(q):
    return op(3) + bytes([q])


def blk_req(img, hdr_at, rtype, sector, data_at=None, data_len=0,
            data_write=True, status_at=None, payload=b''):
    put(img, hdr_at, struct.pack('<IIQ', rtype, 0, sector))
    chain = [(hdr_at, 16, False)]
    if data_at is not None:
        if payload:
            put(img, data_at, payload)
        chain.append((data_at, data_len, data_write))
    chain.append((status_at if status_at else hdr_at + 0x20, 1, True))
    return chain


def blk_seeds():
    out = {}
    img = image(0x10000)
    pattern = bytes((i * 5) & 0xff for i in range(1024))
    chains = [
        blk_req(img, 0x1000, 1, 0, 0x2000, 1024, False, payload=pattern),
        blk_req(img, 0x1040, 0, 0, 0x2800, 1024, True),
        blk_req(img, 0x1080, 4, 0),
        blk_req(img, 0x10c0, 8, 0, 0x3000, 20, True),
        blk_req(img, 0x1100, 11, 0, 0x3100, 16, False,
                payload=struct.pack('<QII', 4, 8, 0)),
        blk_req(img, 0x1140, 0, 31, 0x3400, 1024, True),   # past the end
        blk_req(img, 0x1180, 99, 0),                       # unsupported
    ]
    split_ring(img, 0, chains)
    s = kick(0) + rd(2, 0, 1) + rd(3, 0, 8) + rd(3, 20, 4)
    out['split-requests'] = (bytes(virtio_setup()) + bytes([0]) +
                             struct.pack('<H', len(s)) + s +
                             bytes(img).rstrip(b'\0'))
    img = image(0x10000)
    indirect_table(img, 0x0c00, blk_req(img, 0x1000, 0, 1, 0x2000, 512, True))
    split_ring(img, 0, [[('indirect', 48, False)],
                        blk_req(img, 0x1040, 1, 2, 0x2400, 512, False,
                                payload=pattern[:512])], indirect_at=0x0c00)
    s = kick(0) + kick(0) + rd(0, 20, 1)
    out['indirect'] = (bytes(virtio_setup()) + bytes([0]) +
                       struct.pack('<H', len(s)) + s +
                       bytes(img).rstrip(b'\0'))
    img = image(0x10000)
    packed_ring(img, 0, [blk_req(img, 0x1000, 1, 3, 0x2000, 512, False,
                                 payload=pattern[:512]),
                         blk_req(img, 0x1040, 0, 3, 0x2800, 512, True)])
    s = kick(0) + rd(2, 0, 1)
    out['packed'] = (bytes(virtio_setup(packed=True)) + bytes([2]) +
                     struct.pack('<H', len(s)) + s + bytes(img).rstrip(b'\0'))
    img = image(0x10000)
    split_ring(img, 0, [blk_req(img, 0x1000, 1, 0, 0x2000, 512, False)])
    s = kick(0) + op(4) + virtio_setup(qsize_sel=1) + kick(0)
    s += poke(AVAIL + 2, struct.pack('<H', 9)) + kick(0) + wr(0, 20, 0, 1)
    out['readonly-reset'] = (bytes(virtio_setup()) + bytes([1]) +
                             struct.pack('<H', len(s)) + s +
                             bytes(img).rstrip(b'\0'))
    return out


def net_seeds():
    out = {}
    ctrl_q = 4  # 2 pairs with MQ: rx0 tx0 rx1 tx1 ctrl
    img = image(0x10000)
    cmds = [
        (struct.pack('<BBH', 4, 0, 2), 1),    # MQ VQ_PAIRS_SET 2
        (struct.pack('<BBH', 4, 0, 9), 1),    # too many pairs
        (struct.pack('<BB', 0, 0) + b'\x01', 1),  # RX PROMISC
        (struct.pack('<BBH', 4, 0, 1), 0),    # no ack byte
    ]
    chains = []
    for i, (cmd, ack) in enumerate(cmds):
        at = 0x5000 + 0x40 * i
        put(img, at, cmd)
        chain = [(at, 2, False), (at + 2, len(cmd) - 2, False)]
        if ack:
            chain.append((at + 0x20, 1, True))
        chains.append(chain)
    split_ring(img, ctrl_q, chains)
    frame = bytes(12) + ether_frame(b'\xff' * 6, 60)
    put(img, 0x5800, frame)
    split_ring(img, 1, [[(0x5800, 12, False), (0x580c, 60, False)]])
    s = kick(1) + kick(ctrl_q) + rd(3, 0, 8) + rd(3, 8, 2) + rd(2, 0, 1)
    setup = virtio_setup(qsize_sel=4, qmask=0x1f)
    out['mq-ctrl'] = (bytes(setup) + bytes([1]) + struct.pack('<H', len(s)) +
                      s + bytes(img).rstrip(b'\0'))
    # Two pairs offered, MQ not taken: the control queue is 2 (§5.1.2).
    img = image(0x10000)
    put(img, 0x5000, struct.pack('<BBH', 4, 0, 1))
    split_ring(img, 2, [[(0x5000, 4, False), (0x5020, 1, True)],
                        [(0x5000, 1, False), (0x5020, 1, True)]])
    s = kick(2) + poke(0x2000 + AVAIL + 2, struct.pack('<H', 3)) + kick(2)
    setup = virtio_setup(qsize_sel=2, qmask=0x7, feat_lo=0xffffffff & ~(1 << 22))
    out['ctrl-no-mq'] = (bytes(setup) + bytes([1]) +
                         struct.pack('<H', len(s)) + s +
                         bytes(img).rstrip(b'\0'))
    # Packed control queue.
    img = image(0x10000)
    put(img, 0x5000, struct.pack('<BBH', 4, 0, 2))
    packed_ring(img, 4, [[(0x5000, 4, False), (0x5020, 1, True)]])
    s = kick(4) + kick(4)
    setup = virtio_setup(qsize_sel=3, qmask=0x1f, packed=True)
    out['ctrl-packed'] = (bytes(setup) + bytes([1 | 4]) +
                          struct.pack('<H', len(s)) + s +
                          bytes(img).rstrip(b'\0'))
    return out


# ---- kernel loaders -------------------------------------------------------
def pvh_note(entry, size=4):
    name = b'Xen\0'
    desc = entry.to_bytes(size, 'little')
    return struct.pack('<III', len(name), len(desc), 18) + name + desc


def elf64_pvh(entry=0x100000, paddr=0x100000, code=b'\xf4' * 64, bss=0x1000):
    note = pvh_note(entry)
    ehsize, phsize = 64, 56
    phoff = ehsize
    data_off = phoff + 2 * phsize
    note_off = data_off + len(code)
    eh = (b'\x7fELF' + bytes([2, 1, 1, 0]) + bytes(8) +
          struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, entry, phoff, 0, 0, ehsize,
                      phsize, 2, 64, 0, 0))
    load = struct.pack('<IIQQQQQQ', 1, 7, data_off, paddr, paddr, len(code),
                       len(code) + bss, 0x1000)
    pnote = struct.pack('<IIQQQQQQ', 4, 4, note_off, 0, 0, len(note),
                        len(note), 4)
    return eh + load + pnote + code + note


def elf32_pvh(entry=0x200000):
    note = pvh_note(entry)
    code = b'\xf4' * 32
    ehsize, phsize = 52, 32
    data_off = ehsize + 2 * phsize
    eh = (b'\x7fELF' + bytes([1, 1, 1, 0]) + bytes(8) +
          struct.pack('<HHIIIIIHHHHHH', 2, 3, 1, entry, ehsize, 0, 0, ehsize,
                      phsize, 2, 40, 0, 0))
    load = struct.pack('<IIIIIIII', 1, data_off, entry, entry, len(code),
                       len(code), 7, 0x1000)
    pnote = struct.pack('<IIIIIIII', 4, data_off + len(code), 0, 0, len(note),
                        len(note), 4, 4)
    return eh + load + pnote + code + note


def bzimage(setup_sects=4, kernel_len=0x2000, version=0x020f, pref=0x1000000,
            reloc=1, init_size=0x10000):
    setup = bytearray(((setup_sects or 4) + 1) * 512)
    setup[0x1f1] = setup_sects
    struct.pack_into('<I', setup, 0x1f4, kernel_len // 16)
    struct.pack_into('<H', setup, 0x1fe, 0xaa55)
    setup[0x200] = 0xeb
    setup[0x201] = 0x6a
    setup[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', setup, 0x206, version)
    setup[0x211] = 0x01                                  # LOADED_HIGH
    struct.pack_into('<I', setup, 0x22c, 0x7fffffff)     # initrd_addr_max
    struct.pack_into('<I', setup, 0x230, 0x200000)       # kernel_alignment
    setup[0x234] = reloc
    struct.pack_into('<H', setup, 0x236, 0x1 | 0x2)      # XLF_KERNEL_64
    struct.pack_into('<I', setup, 0x238, 2047)           # cmdline_size
    struct.pack_into('<Q', setup, 0x258, pref)
    struct.pack_into('<I', setup, 0x260, init_size)
    kernel = bytes((i * 3) & 0xff for i in range(kernel_len))
    return bytes(setup) + kernel


def boot_input(kernel, cmdline=b'', initrd=b'', rsdp=False):
    flags = (1 if initrd else 0) | (2 if cmdline else 0) | (4 if rsdp else 0)
    return (bytes([flags]) + struct.pack('<H', len(cmdline)) + cmdline +
            struct.pack('<H', len(initrd)) + initrd + kernel)


def boot_seeds():
    initrd = bytes(range(256)) * 8
    return {
        'pvh64': boot_input(elf64_pvh(), b'test=hello console=ttyS0', initrd),
        'pvh64-bss-high': boot_input(elf64_pvh(0x400000, 0x400000,
                                               bss=0x100000), rsdp=True),
        'pvh32': boot_input(elf32_pvh(), b'x'),
        'bzimage': boot_input(bzimage(), b'console=ttyS0 root=/dev/vda',
                              initrd, rsdp=True),
        'bzimage-fixed': boot_input(bzimage(setup_sects=0, reloc=0,
                                            pref=0x100000)),
        'bzimage-old': boot_input(bzimage(version=0x0209)),
    }


# ---- VFIO config virtualization (fake_vfio.h devices) --------------------
def vfio_input(dev, opts, script, overlay=b''):
    return bytes([dev, opts]) + struct.pack('<H', len(script)) + script + \
        overlay


def vfio_overlay(patches):
    """XOR bytes that turn the captured config into the patched one."""
    out = bytearray(max(off for off, _ in patches) + 1)
    for off, x in patches:
        out[off] ^= x
    return bytes(out)


def vfio_seeds():
    out = {}
    walk = cfg_walk() + rd(0, 0x100) + rd(0, 0x30)
    # NVMe VF (MSI-X at 0x40, PCIe 0x80, PM 0x60): size and move BAR0,
    # program MSI-X through its table, INTx and FLR.
    s = walk + bar_sizing(6) + wr(0, 0x10, 0xfe000000) + wr(0, 0x04, 0x6, 2)
    s += wr(0, 0x42, 0xc000, 2) + wr(1, 0x2000, 0xfee00000, 8)
    s += wr(1, 0x2008, 0x31) + wr(1, 0x200c, 0) + wr(0, 0x42, 0x8000, 2)
    s += op(4) + b'\x02\x00' + op(5) + rd(1, 0x3000, 8) + wr(1, 0x200c, 1)
    s += op(4) + b'\x02\x00' + op(5) + rd(1, 0x3000, 8) + op(3) + walk
    s += wr(0, 0x3c, 0xff, 1) + wr(0, 0x04, 0x0, 2) + op(4) + b'\x00\x00'
    s += op(6)
    out['nvme-vf'] = vfio_input(0, 0, s)
    # e1000e, ROM on, BAR1 trapped: MSI at 0xd0, MSI-X 0xa0 (BAR3).
    s = walk + bar_sizing(6) + rd(0, 0x30) + wr(0, 0x30, 0xfffff800)
    s += rd(0, 0x30) + wr(0, 0x30, 0xfe200001) + wr(0, 0x04, 0x7, 2)
    s += wr(0, 0xd4, 0xfee00000) + wr(0, 0xdc, 0x41, 2) + wr(0, 0xd2, 1, 2)
    s += op(4) + b'\x01\x00' + op(5) + wr(0, 0xd2, 0, 2)
    s += wr(0, 0xa2, 0x8000, 2) + op(4) + b'\x02\x04' + op(5)
    s += rd(2, 0x100) + wr(2, 0x100, 0x12345678) + rd(4, 0) + wr(3, 0, 1, 4)
    out['e1000e'] = vfio_input(1, 0x2 | 1 << 3, s)
    # Hostile device: capability loop, MSI-X table outside its BAR, BAR0
    # claiming I/O, the extended list pointing at itself.
    out['nvme-vf-hostile'] = vfio_input(0, 1, walk + bar_sizing(6), vfio_overlay(
        [(0x61, 0x40), (0x45, 0x40), (0x10, 0x05), (0x102, 0x01)]))
    out['e1000e-vendor-caps'] = vfio_input(1, 0x2, walk, vfio_overlay(
        [(0xc8, 0x08), (0x34, 0x08)]))
    return out


# ---- sysfs and pci.ids (fuzz_sysfs.c file table) -------------------------
SYSFS_ATTRS = ['vendor', 'device', 'class', 'config', 'sriov_totalvfs',
               'sriov_numvfs', 'sriov_drivers_autoprobe', 'driver_override',
               'driver', 'iommu_group', 'physfn', 'virtfn0', 'ifindex',
               'address']
SYSFS_BDFS = ['nic-pf', 'nvme-pf', 'ahci', 'nic-vf', 'nvme-vf']


def sysfs_file(bdf, attr):
    return SYSFS_BDFS.index(bdf) * len(SYSFS_ATTRS) + SYSFS_ATTRS.index(attr)


def sysfs_edit(bdf, attr, data):
    if data is None:
        return bytes([sysfs_file(bdf, attr)]) + struct.pack('<H', 0xffff)
    return bytes([sysfs_file(bdf, attr)]) + struct.pack('<H', len(data)) + data


def sysfs_input(flags, group, string, edits=b'', ids=None):
    out = bytes([flags, group, len(string)]) + string + edits
    if ids is not None:
        out += bytes([0xff]) + struct.pack('<H', 0) + \
            struct.pack('<H', len(ids)) + ids + struct.pack('<HH', 0x8086, 0x10fb) + \
            (0x020000).to_bytes(3, 'little')
    return out


PCI_IDS = b"""# pci.ids excerpt for the fuzzer
8086  Intel Corporation
\t10fb  82599ES 10-Gigabit SFI/SFP+ Network Connection
\t\t8086 0003  Ethernet Server Adapter X520-2
\t10ed  82599 Ethernet Controller Virtual Function
1b36  Red Hat, Inc.
\t0010  QEMU NVM Express Controller
C 02  Network controller
\t00  Ethernet controller
C 01  Mass storage controller
\t08  Non-Volatile memory controller
\t\t02  NVM Express
"""


def sysfs_seeds():
    sriov_cfg = bytearray(4096)
    struct.pack_into('<HHHH', sriov_cfg, 0, 0x8086, 0x10fb, 0x0406, 0x0010)
    sriov_cfg[0x34] = 0x40
    struct.pack_into('<BBH', sriov_cfg, 0x40, 0x10, 0, 0x0002)  # PCIe
    struct.pack_into('<I', sriov_cfg, 0x100, 0x16010001)        # AER
    struct.pack_into('<IIHHHHHHHHIHHI', sriov_cfg, 0x160,
                     0x00010010, 0, 0x19, 0, 64, 63, 4, 0, 128, 2, 0,
                     0x10ed, 0, 0x553)
    out = {}
    for reader in range(6):
        f = reader << 2
        out['as-is-%d' % reader] = sysfs_input(f, 100 + reader,
                                                b'0000:3b:00.0')
        out['attrs-%d' % reader] = sysfs_input(f, 1 + reader, b'3b:10.0',
                                                b''.join([
            sysfs_edit('nic-pf', 'sriov_numvfs', b'99\n'),
            sysfs_edit('nic-pf', 'sriov_totalvfs', b'-1\n'),
            sysfs_edit('nic-pf', 'vendor', b'0x80861\n'),
            sysfs_edit('nic-vf', 'class', b'zz\n'),
            sysfs_edit('nvme-pf', 'driver_override', b'vfio-pci\n'),
            sysfs_edit('ahci', 'iommu_group', b'../../../kernel/iommu_groups/'),
            sysfs_edit('nic-vf', 'physfn', b'../0000:01:00.0'),
            sysfs_edit('nvme-vf', 'driver', None),
        ]))
    out['names'] = sysfs_input(2 | 5 << 2, 200, b'enp59s0f0', b'', PCI_IDS)
    out['config'] = sysfs_input(4 << 2, 0, b'/sys/bus/pci/devices/0000:01:00.1',
                                sysfs_edit('nic-pf', 'config',
                                           bytes(sriov_cfg)))
    out['config-loop'] = sysfs_input(4 << 2, 1, b'x', sysfs_edit(
        'nvme-pf', 'config', bytes(sriov_cfg[:0x100]) +
        struct.pack('<I', 0x10010010)))
    return out


GENERATORS = {
    'sysfs': sysfs_seeds,
    'vfio': vfio_seeds,
    'boot': boot_seeds,
    'virtio_blk': blk_seeds,
    'virtio_net': net_seeds,
    'legacy': legacy_seeds,
    'e1000': e1000_seeds,
    'pci': pci_seeds,
    'msix': msix_seeds,
}


def main():
    target, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(GENERATORS[target]().items()):
        with open(os.path.join(out, 'seed-%s-%s' % (target, name)), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
