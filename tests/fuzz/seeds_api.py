#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed corpus for fuzz_api: well-formed API requests (every endpoint,
keep-alive, Expect), VmConfig bodies with every supported field, and a few
malformed requests near the parser's edges."""
import json
import os
import sys

CONFIG = {
    "cpus": {"boot_vcpus": 2, "max_vcpus": 2},
    "memory": {"size": 268435456, "hugepages": False, "shared": True},
    "payload": {"kernel": "/k.elf", "cmdline": "test=hello", "initramfs": "/i"},
    "serial": {"mode": "File", "file": "/tmp/s"},
    "console": {"mode": "Off"},
    "disks": [{"path": "/d.img", "readonly": True, "id": "d0"}],
    "net": [{"tap": "tap0", "mac": "52:54:00:12:34:56", "num_queues": 4},
            {"vhost_user": True, "vhost_socket": "/v.sock",
             "vhost_mode": "Server"}],
    "devices": [{"path": "/sys/bus/pci/devices/0000:01:00.1"}],
    "iovmm": {"device": ["edu", "pci-testdev"],
              "net": ["virtio,backend=loopback,ring=packed"],
              "disk": ["nvme,path=/n.img"]},
}


def request(method, verb, body=b"", extra=""):
    head = f"{method} /api/v1/{verb} HTTP/1.1\r\nHost: localhost\r\n{extra}"
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def main(out):
    os.makedirs(out, exist_ok=True)
    body = json.dumps(CONFIG).encode()
    seeds = [
        request("GET", "vmm.ping"),
        request("PUT", "vm.create", body),
        request("PUT", "vm.create", body, "Expect: 100-continue\r\n"),
        request("PUT", "vm.boot", extra="Connection: close\r\n"),
        request("GET", "iovmm.events?after=3&timeout=1"),
        request("GET", "vmm.ping") + request("GET", "vmm.ping"),
        request("PUT", "vm.create", b'{"payload":{"kernel":"/k"},"rng":{}}'),
        b"GET /api/v1/vmm.ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        b"PUT /api/v1/vm.create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET /api/v1/vmm.ping HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
        body,
    ]
    for i, s in enumerate(seeds):
        with open(os.path.join(out, f"seed-{i:02d}"), "wb") as f:
            f.write(s)


if __name__ == "__main__":
    main(sys.argv[1])
