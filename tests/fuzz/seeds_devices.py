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
    s += wr(0, r['RAL'], 0x00aa5452) + wr(0, r['RAH'], 0x800001bb)
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
    s = e1000_setup(ntx=2) + wr(0, r['TDT'], 1) + wr(0, r['TDT'], 0)
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


GENERATORS = {
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
