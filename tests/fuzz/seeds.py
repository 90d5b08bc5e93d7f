#!/usr/bin/env python3
"""Write well-formed seed inputs for fuzz_virtqueue into a corpus dir.

Input layout (see fuzz_virtqueue.c): mode, desc/driver/device GPAs (le16),
script length (le16), script, RAM image from GPA 0.
"""
import os
import struct
import sys

NEXT, WRITE, INDIRECT = 1, 2, 4
AVAIL, USED = 1 << 7, 1 << 15
# script ops (low 3 bits): 0 pop, 3 unpop, 4 push, 5 notify, 6 kicks, 7 poke
SCRIPT = bytes([0, 4, 0, 3, 0, 4 | 0xf8, 5, 6 | 8, 0, 4, 5, 6, 0, 5])


def image(size=0x800):
    return bytearray(size)


def put(img, off, data):
    img[off:off + len(data)] = data


def split_seed(event_idx, indirect):
    size_sel = 3  # 8 entries
    mode = size_sel << 3 | (2 if event_idx else 0) | (4 if indirect else 0)
    img = image()
    d = lambda a, l, f, n: struct.pack('<QIHH', a, l, f, n)
    put(img, 0x000, d(0x400, 64, NEXT, 1) + d(0x500, 128, WRITE, 0))
    put(img, 0x020, d(0x300, 32, INDIRECT, 0))
    put(img, 0x300, d(0x600, 16, NEXT, 1) + d(0x700, 16, WRITE, 0))
    put(img, 0x100, struct.pack('<HHHH', 0, 2, 0, 2))  # avail: idx 2, [0, 2]
    hdr = struct.pack('<BHHHH', mode, 0x000, 0x100, 0x200, len(SCRIPT))
    return hdr + SCRIPT + bytes(img)


def packed_seed(event_idx, indirect):
    mode = 1 << 3 | 1 | (2 if event_idx else 0) | (4 if indirect else 0)  # 9
    img = image()
    d = lambda a, l, i, f: struct.pack('<QIHH', a, l, i, f)
    put(img, 0x000, d(0x400, 64, 0, NEXT | AVAIL) + d(0x500, 128, 0, WRITE | AVAIL))
    put(img, 0x020, d(0x300, 32, 1, INDIRECT | AVAIL))
    put(img, 0x300, d(0x600, 16, 0, 0) + d(0x700, 16, 0, WRITE))
    hdr = struct.pack('<BHHHH', mode, 0x000, 0x100, 0x104, len(SCRIPT))
    return hdr + SCRIPT + bytes(img)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for ev in (False, True):
        for ind in (False, True):
            for name, fn in (('split', split_seed), ('packed', packed_seed)):
                path = os.path.join(out, 'seed-%s-ev%d-ind%d' % (name, ev, ind))
                with open(path, 'wb') as f:
                    f.write(fn(ev, ind))


if __name__ == '__main__':
    main()
