#!/usr/bin/env python3
"""Send every frame that arrives on a network interface straight back.

Used by tap.sh: on the host side of iovmm's tap device, each frame the
guest transmits is received here and written back into the tap, so the
guest kit's net-loopback test sees its own frames return. Runs until
SIGINT, --count frames or --timeout seconds, then prints how many frames
it reflected.
"""
import argparse
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ifname")
    ap.add_argument("--count", type=int, default=0, help="0: no limit")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--ready", help="file to create once listening")
    args = ap.parse_args()

    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((args.ifname, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    if args.ready:
        open(args.ready, "w").close()
    deadline = time.monotonic() + args.timeout
    reflected = 0
    while not stop and (not args.count or reflected < args.count) \
            and time.monotonic() < deadline:
        try:
            ready, _, _ = select.select([s], [], [], 0.2)
        except InterruptedError:
            continue
        if not ready:
            continue
        frame, addr = s.recvfrom(65536)
        if addr[2] == PACKET_OUTGOING:  # our own transmission, seen again
            continue
        s.send(frame)
        reflected += 1
    print(f"reflected {reflected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
