#!/usr/bin/env python3
"""Open what a management layer opens for iovmm and hand it over by number.

Opens /dev/kvm and attaches the tap device --tap (IFF_TAP | IFF_NO_PI |
IFF_VNET_HDR), optionally becomes --user (no supplementary groups), then
executes the command with both descriptors inherited; "{kvm}" and "{tap}"
in the command are replaced by their numbers. Used by prefds.sh.
"""
import argparse
import fcntl
import os
import pwd
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tap", required=True)
    ap.add_argument("--user", help="run the command as this user")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd

    kvm = os.open("/dev/kvm", os.O_RDWR)
    tap = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH", args.tap.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)
    fcntl.ioctl(tap, TUNSETIFF, ifr)
    for fd in (kvm, tap):
        os.set_inheritable(fd, True)
    if args.user:
        pw = pwd.getpwnam(args.user)
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    cmd = [c.replace("{kvm}", str(kvm)).replace("{tap}", str(tap)) for c in cmd]
    sys.stdout.flush()
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main()
