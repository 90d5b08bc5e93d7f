#!/usr/bin/env python3
"""Write well-formed seed inputs for fuzz_vhost_user into a corpus dir.

Input layout (see fuzz_vhost_user.c): mode byte, max_vrings byte, then
chunks [ctl][len le16][bytes], ctl bits 0-3 = fds attached.
"""
import os
import struct
import sys

V1, REPLY, NEED_REPLY = 1, 4, 8


def msg(req, payload=b'', flags=V1):
    return struct.pack('<III', req, flags, len(payload)) + payload


def chunk(data, nfds=0, ctl=0):
    return bytes([nfds | ctl]) + struct.pack('<H', len(data)) + data


def u64(v):
    return struct.pack('<Q', v)


def state(i, n):
    return struct.pack('<II', i, n)


def region(gpa, size):
    return struct.pack('<QQQQ', gpa, size, 0x7f0000000000 + gpa, gpa)


# A QEMU-like front-end session, as the back end sees it (mode 0).
SESSION = [
    (msg(1), 0),                                        # GET_FEATURES
    (msg(15), 0),                                       # GET_PROTOCOL_FEATURES
    (msg(16, u64(0x1ffff)), 0),                         # SET_PROTOCOL_FEATURES
    (msg(17), 0),                                       # GET_QUEUE_NUM
    (msg(3), 0),                                        # SET_OWNER
    (msg(2, u64(1 << 32 | 1 << 30), V1 | NEED_REPLY), 0),  # SET_FEATURES
    (msg(5, struct.pack('<II', 2, 0) + region(0, 0xc0000000) +
         region(1 << 32, 1 << 30), V1 | NEED_REPLY), 2),   # SET_MEM_TABLE
    (msg(8, state(0, 256)), 0),                         # SET_VRING_NUM
    (msg(10, state(0, 0)), 0),                          # SET_VRING_BASE
    (msg(9, struct.pack('<IIQQQQ', 0, 0, 0x10000, 0x12000, 0x11000, 0)),
     0),                                                # SET_VRING_ADDR
    (msg(12, u64(0)), 1),                               # SET_VRING_KICK
    (msg(13, u64(0)), 1),                               # SET_VRING_CALL
    (msg(13, u64(1 << 8 | 1)), 0),                      # CALL, NOFD
    (msg(18, state(0, 1)), 0),                          # SET_VRING_ENABLE
    (msg(31, struct.pack('<QQHHI', 0, 0, 2, 256, 0)), 0),  # GET_INFLIGHT_FD
    (msg(32, struct.pack('<QQHHI', 4096, 0, 2, 256, 0)), 1),
    (msg(24, struct.pack('<III', 0, 6, 0) + bytes(6)), 0),  # GET_CONFIG
    (msg(37, u64(0) + region(1 << 33, 1 << 20)), 1),    # ADD_MEM_REG
    (msg(38, u64(0) + region(1 << 33, 1 << 20)), 1),    # REM_MEM_REG
    (msg(39, u64(0xf)), 0),                             # SET_STATUS
    (msg(40), 0),                                       # GET_STATUS
    (msg(11, state(0, 0)), 0),                          # GET_VRING_BASE
    (msg(34), 0),                                       # RESET_DEVICE
]

BACKEND = [
    (msg(1, bytes(32)), 0),
    (msg(2, flags=V1 | NEED_REPLY), 0),
    (msg(3, struct.pack('<QQQ', 1, 4096, 0)), 1),
    (msg(3, struct.pack('<QQQ', 1 | 1 << 8, 0, 0)), 0),
    (msg(4, state(1, 0)), 0),
    (msg(5, state(1, 0)), 0),
]

# Replies for mode 2 (GET_FEATURES, GET_VRING_BASE+ACK, GET_CONFIG,
# GET_INFLIGHT_FD), each followed by the SET_VRING_NUM ACK.
ACK = msg(8, u64(0), V1 | REPLY)
REPLIES = [
    (0, msg(1, u64(~0 & (1 << 64) - 1), V1 | REPLY), 0),
    (1, msg(11, state(0, 7), V1 | REPLY), 0),
    (2, msg(24, struct.pack('<III', 0, 6, 0) + b'abcdef', V1 | REPLY), 0),
    (3, msg(31, struct.pack('<QQHHI', 4096, 0, 1, 256, 0), V1 | REPLY), 1),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {}
    # every state mode: fully set up (0xfc), fresh (mode 3), half-way
    for name, mode in (('session-ready', 0 | 0x3f << 2),
                       ('session-fresh', 3),
                       ('session-owner', 0 | 0x0d << 2)):
        seeds[name] = bytes([mode, 0]) + b''.join(
            chunk(m, n) for m, n in SESSION)
    seeds['session-split'] = bytes([3, 4]) + b''.join(
        chunk(m, n, 0x10 | (0x20 if i & 1 else 0))
        for i, (m, n) in enumerate(SESSION))
    seeds['backend-chan'] = bytes([1 | 0x3f << 2, 0]) + b''.join(
        chunk(m, n) for m, n in BACKEND)
    seeds['front-replies'] = bytes([2 | 0x3f << 2, 0]) + b''.join(
        chunk(m, n, sel << 6) + chunk(ACK) for sel, m, n in REPLIES)
    seeds['ctrunc'] = bytes([0, 0]) + chunk(msg(5, struct.pack('<II', 0, 0)),
                                            12)
    for name, data in seeds.items():
        with open(os.path.join(out, 'seed-' + name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
