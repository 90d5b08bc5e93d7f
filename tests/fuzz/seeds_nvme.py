#!/usr/bin/env python3
"""Write well-formed seed inputs for fuzz_nvme into a corpus dir.

Input layout (see fuzz_nvme.c): flags, script length (le16), script, RAM
image from GPA 0. Guest RAM is 64 KiB; with flag bit 0 the harness brings
the admin queues up at ASQ 0x1000 / ACQ 0x2000 (16 entries each). Layout
used here: Identify buffer 0x3000, I/O CQ 0x4000, I/O SQ 0x5000, PRP list
pages 0x6000 and 0x7000, data pages 0x8000-0xffff.
"""
import os
import struct
import sys

PAGE = 4096
IO_CQ, IO_SQ, LIST, LIST2, DATA = 0x4000, 0x5000, 0x6000, 0x7000, 0x8000


def sqe(opcode, nsid=0, prp1=0, prp2=0, cdw10=0, cdw11=0, cdw12=0, flags=0):
    return struct.pack('<BBHIIIQQQIIIIII', opcode, flags, 0, nsid, 0, 0, 0,
                       prp1, prp2, cdw10, cdw11, cdw12, 0, 0, 0)


def submit(qid, entry, fix=0):
    return bytes([3 | fix, qid]) + entry


def reg_write(off, val, size=4):
    sel = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    return struct.pack('<BHQ', 0 | sel << 3, off, val)


def reg_read(off, size=4):
    sel = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    return struct.pack('<BH', 1 | sel << 3, off)


def doorbell(qid, val, cq=False):
    return struct.pack('<BBI', 2 | (8 if cq else 0), qid, val)


def poke(gpa, data):
    assert len(data) <= 64
    return struct.pack('<BHB', 4, gpa, len(data)) + data


def consume(qid):
    return bytes([5, qid])


def prp(prp1, prp2, length):
    return struct.pack('<BQQI', 6, prp1, prp2, length)


def misc(sub, on=False):
    return bytes([7 | sub << 3 | (0x20 if on else 0)])


def seed(flags, script, image=b''):
    return struct.pack('<BH', flags, len(script)) + script + image


def io_setup(cq_entries=16, sq_entries=16, ien=True, iv=1):
    s = submit(0, sqe(0x09, cdw10=0x07, cdw11=0))            # 1+1 queues
    s += submit(0, sqe(0x05, prp1=IO_CQ, cdw10=(cq_entries - 1) << 16 | 1,
                       cdw11=iv << 16 | (2 if ien else 0) | 1))
    s += submit(0, sqe(0x01, prp1=IO_SQ, cdw10=(sq_entries - 1) << 16 | 1,
                       cdw11=1 << 16 | 1))
    return s + consume(0)


def list_pokes(base, pages):
    out = b''
    for i in range(0, len(pages), 8):
        out += poke(base + 8 * i, b''.join(struct.pack('<Q', p)
                                           for p in pages[i:i + 8]))
    return out


def seeds():
    yield 'identify', seed(1, submit(0, sqe(0x06, cdw10=1, prp1=0x3000)) +
                       submit(0, sqe(0x06, nsid=1, cdw10=0, prp1=0x3200,
                                     prp2=0x4000)) +
                       submit(0, sqe(0x06, cdw10=2, prp1=0x3000)) +
                       submit(0, sqe(0x02, cdw10=0x01 | 15 << 16,
                                     prp1=0x3000)) + consume(0))
    # Write 4 KiB (PRP1), 8 KiB (PRP1+PRP2), 16 KiB from an offset through
    # a PRP list, read them back, flush, write zeroes.
    rw = io_setup()
    rw += submit(1, sqe(0x01, nsid=1, prp1=DATA, cdw10=0, cdw12=7))
    rw += submit(1, sqe(0x01, nsid=1, prp1=DATA, prp2=DATA + 2 * PAGE,
                        cdw10=8, cdw12=15))
    rw += list_pokes(LIST, [DATA + PAGE * i for i in range(1, 5)])
    rw += submit(1, sqe(0x02, nsid=1, prp1=DATA + 512, prp2=LIST,
                        cdw10=0, cdw12=31))
    rw += submit(1, sqe(0x00, nsid=1))
    rw += submit(1, sqe(0x08, nsid=1, cdw10=16, cdw12=3))
    rw += consume(1)
    yield 'rw', seed(1, rw)
    yield 'rw-msix', seed(3, rw + misc(1, False) + rw[-2:])
    # A chained PRP list: two entries at the end of LIST, the rest in LIST2.
    ch = io_setup()
    ch += poke(LIST + PAGE - 16, struct.pack('<QQ', DATA + PAGE, LIST2))
    ch += list_pokes(LIST2, [DATA + PAGE * i for i in range(2, 8)])
    ch += submit(1, sqe(0x02, nsid=1, prp1=DATA + 1024, prp2=LIST + PAGE - 16,
                        cdw10=0, cdw12=55))
    ch += prp(DATA + 1024, LIST + PAGE - 16, 28 * 1024)
    ch += prp(DATA, LIST + PAGE - 8, 12 * 1024)
    ch += prp(DATA + 4, 0, 512) + prp(DATA + 3584, DATA + PAGE, 1024)
    ch += consume(1)
    yield 'prp-chain', seed(1, ch)
    # CQ full: a 2-entry CQ (1 slot) and 4 commands, then consume.
    full = io_setup(cq_entries=2, sq_entries=8, ien=False)
    for i in range(4):
        full += submit(1, sqe(0x02, nsid=1, prp1=DATA, cdw10=i))
    full += consume(1) + consume(1) + consume(1) + consume(1)
    yield 'cq-full', seed(1, full)
    # Hostile doorbells with and without an AER outstanding.
    ho = submit(0, sqe(0x0c)) + submit(0, sqe(0x0c)) + io_setup()
    ho += doorbell(1, 99) + consume(0) + doorbell(7, 0, cq=True)
    ho += submit(0, sqe(0x02, cdw10=0x01, prp1=0x3000)) + consume(0)
    ho += doorbell(1, 0xffff, cq=True) + doorbell(200, 1)
    ho += misc(0) + misc(2) + doorbell(0, 16)
    yield 'hostile-db', seed(1, ho)
    # Register-level: enable with bad values, shutdown, reset, re-enable.
    rg = reg_read(0, 8) + reg_write(0x24, 0x000f000f) + reg_write(0x28, 0x1000, 8)
    rg += reg_write(0x30, 0xfff000, 8) + reg_write(0x14, 0x460001)
    rg += reg_read(0x1c) + reg_write(0x14, 0) + reg_write(0x30, 0x2000, 8)
    rg += reg_write(0x14, 0x460001) + reg_write(0x14, 0x464001)
    rg += reg_write(0x0c, 1) + reg_write(0x10, 1) + reg_write(0x14, 0x460000)
    rg += misc(2) + submit(0, sqe(0x06, cdw10=1, prp1=0x3000)) + consume(0)
    yield 'registers', seed(0, rg)
    # Garbage queue creation and deletion around live queues.
    qa = io_setup() + io_setup()
    qa += submit(0, sqe(0x04, cdw10=1)) + submit(0, sqe(0x00, cdw10=1))
    qa += submit(0, sqe(0x04, cdw10=1)) + submit(0, sqe(0x05, prp1=0xf000,
                                                       cdw10=0xffff0002))
    qa += consume(0)
    yield 'queues', seed(1, qa, bytes(0x3000))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, 'seed-' + name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
