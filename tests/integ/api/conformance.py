#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The API against Cloud Hypervisor's OpenAPI schemas, and its refusals.

    conformance.py IOVMM KIT

Every implemented endpoint's request and response bodies are validated
against the schemas of CH's OpenAPI document (ch-openapi-subset.yaml, next
to this file) with python3-jsonschema: VmmPingResponse, VmConfig (what we
send, and vm.info's config), VmInfo in every state, VmCounters. Configs that
are valid CH but not supported by iovmm must get 400 naming the field;
malformed HTTP, oversized bodies, unknown paths and wrong verbs get their
4xx/5xx, and the server keeps answering after each. Exit 0, 1 on a
failure, 77 without /dev/kvm.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SCALE = max(1, int(os.environ.get("IOVMM_TIME_SCALE", "1") or 1))


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


class Api:
    def __init__(self, path):
        self.path = path

    def raw(self, data, half_close=True):
        """Send bytes, return (status, headers dict, body bytes)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30 * SCALE)
        s.connect(self.path)
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/1.1 ") else 0
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        return status, headers, body

    def req(self, method, verb, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        head = (f"{method} /api/v1/{verb} HTTP/1.1\r\nHost: localhost\r\n"
                f"Connection: close\r\nContent-Length: {len(data)}\r\n")
        if data:
            head += "Content-Type: application/json\r\n"
        status, headers, raw = self.raw(head.encode() + b"\r\n" + data)
        parsed = json.loads(raw) if raw else None
        return status, headers, parsed


class Schemas:
    def __init__(self):
        with open(os.path.join(HERE, "ch-openapi-subset.yaml")) as f:
            self.doc = yaml.safe_load(f)

    def validate(self, name, obj):
        schema = {"$ref": f"#/components/schemas/{name}",
                  "components": self.doc["components"]}
        try:
            jsonschema.Draft4Validator(schema).validate(obj)
        except jsonschema.ValidationError as e:
            raise Fail(f"{name}: {e.message} in {json.dumps(obj)[:300]}")


def expect(api, method, verb, status, body=None, schema=None, S=None):
    got, headers, parsed = api.req(method, verb, body)
    check(got == status, f"{method} {verb}: {got}, wanted {status}: {parsed}")
    if schema:
        S.validate(schema, parsed)
    if status >= 400:
        check(isinstance(parsed, dict) and "error" in parsed,
              f"{verb}: an error without a sentence: {parsed}")
    return parsed, headers


def lifecycle(api, S, kit, tmp):
    img = os.path.join(tmp, "disk.img")
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    config = {
        "cpus": {"boot_vcpus": 1, "max_vcpus": 1},
        "memory": {"size": 256 << 20, "shared": True},
        "payload": {"kernel": kit,
                    "cmdline": "test=mmio count=100000000"},
        "serial": {"mode": "File", "file": os.path.join(tmp, "kit.out")},
        "console": {"mode": "Off"},
        "disks": [{"path": img, "readonly": True, "id": "disk0"}],
        "iovmm": {"device": ["pci-testdev"]},
    }
    S.validate("VmConfig", config)          # what we send is CH's
    expect(api, "GET", "vm.info", 404)
    expect(api, "PUT", "vm.create", 204, config)
    expect(api, "PUT", "vm.create", 409, config)
    info, _ = expect(api, "GET", "vm.info", 200, schema="VmInfo", S=S)
    check(info["state"] == "Created", f"state {info['state']}")
    S.validate("VmConfig", info["config"])
    expect(api, "PUT", "vm.pause", 405)
    expect(api, "GET", "vm.counters", 405)
    expect(api, "PUT", "vm.boot", 204)
    expect(api, "PUT", "vm.boot", 405)
    info, _ = expect(api, "GET", "vm.info", 200, schema="VmInfo", S=S)
    check(info["state"] == "Running", f"state {info['state']}")
    check(len(info["device_tree"]) == 2, f"device_tree {info['device_tree']}")
    counters, _ = expect(api, "GET", "vm.counters", 200, schema="VmCounters", S=S)
    expect(api, "PUT", "vm.resume", 405)
    expect(api, "PUT", "vm.pause", 204)
    expect(api, "PUT", "vm.pause", 405)
    info, _ = expect(api, "GET", "vm.info", 200, schema="VmInfo", S=S)
    check(info["state"] == "Paused", f"state {info['state']}")
    expect(api, "PUT", "vm.resume", 204)
    expect(api, "PUT", "vm.reboot", 204)
    counters, _ = expect(api, "GET", "vm.counters", 200, schema="VmCounters", S=S)
    check(counters["vm"]["reboots"] == 1, f"counters {counters}")
    stats, _ = expect(api, "GET", "iovmm.io-stats", 200)
    check(stats["state"] == "Running" and len(stats["devices"]) == 2,
          f"io-stats {stats}")
    ev, _ = expect(api, "GET", "iovmm.events?after=0&timeout=0", 200)
    types = [e["type"] for e in ev["events"]]
    check(types == ["vm-booted", "vm-paused", "vm-resumed", "vm-rebooted"],
          f"events {types}")
    last = ev["last"]
    # Long-poll: a shutdown in another connection ends the wait.
    t0 = time.monotonic()
    poll = subprocess.Popen([sys.executable, "-c", f"""
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect({api.path!r})
s.sendall(b"GET /api/v1/iovmm.events?after={last}&timeout=20 HTTP/1.1\\r\\nConnection: close\\r\\n\\r\\n")
b = b""
while True:
    c = s.recv(65536)
    if not c: break
    b += c
sys.stdout.write(b.decode())
"""], stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    expect(api, "PUT", "vm.shutdown", 204)
    out, _ = poll.communicate(timeout=30 * SCALE)
    check('"type":"guest-exit"' in out and time.monotonic() - t0 < 15 * SCALE,
          f"long-poll: {out}")
    info, _ = expect(api, "GET", "vm.info", 200, schema="VmInfo", S=S)
    check(info["state"] == "Shutdown", f"state {info['state']}")
    expect(api, "PUT", "vm.shutdown", 405)
    expect(api, "PUT", "vm.delete", 204)
    expect(api, "GET", "vm.info", 404)


# Valid for Cloud Hypervisor, not supported by iovmm: 400 naming the field.
UNSUPPORTED = [
    ({"rng": {"src": "/dev/urandom"}}, "VmConfig.rng"),
    ({"cpus": {"boot_vcpus": 1, "max_vcpus": 4}}, "cpus.max_vcpus"),
    ({"cpus": {"boot_vcpus": 1, "max_vcpus": 1, "topology": {}}}, "cpus.topology"),
    ({"memory": {"size": 268435456, "zones": []}}, "memory.zones"),
    ({"memory": {"size": 268435456, "thp": True}}, "memory.thp"),
    ({"net": [{"tap": "t0", "ip": "10.0.0.1"}]}, "net[0].ip"),
    ({"net": [{"tap": "t0", "queue_size": 512}]}, "net[0].queue_size"),
    ({"disks": [{"path": "/x", "direct": True}]}, "disks[0].direct"),
    ({"disks": [{"path": "/x", "serial": "s"}]}, "disks[0].serial"),
    ({"serial": {"mode": "Pty"}}, "serial.mode"),
    ({"console": {"mode": "Tty"}}, "console"),
    ({"devices": [{"path": "/sys/bus/pci/devices/0000:01:00.0",
                   "iommu": True}]}, "devices[0].iommu"),
    ({"iommu": True}, "VmConfig.iommu"),
]


def refusals(api, S, kit):
    for extra, field in UNSUPPORTED:
        config = {"payload": {"kernel": kit}}
        config.update(extra)
        S.validate("VmConfig", config)
        err, _ = expect(api, "PUT", "vm.create", 400, config)
        check(field in err["error"], f"{field} not named: {err}")
    # Not a VmConfig at all.
    for bad in ([], "x", {"payload": 1}, {"payload": {"kernel": kit},
                                             "cpus": {"boot_vcpus": "1"}}):
        expect(api, "PUT", "vm.create", 400, bad)
    status, _, _ = api.raw(b"PUT /api/v1/vm.create HTTP/1.1\r\n"
                           b"Content-Length: 5\r\n\r\n{\"a\":")
    check(status == 400, f"truncated JSON: {status}")
    for verb in ("vm.add-device", "vm.add-net", "vm.add-disk", "vm.remove-device"):
        expect(api, "PUT", verb, 501, {"path": "/x"})
    expect(api, "PUT", "vm.power-button", 501)


BAD_HTTP = [
    (b"GET /api/v1/vmm.ping HTTP/2.0\r\n\r\n", 505),
    (b"BREW /api/v1/vmm.ping HTTP/1.1\r\n\r\n", 501),
    (b"GET /api/v1/vmm.ping HTTP/1.1\nHost: x\n\n", 400),
    (b"GET api/v1/vmm.ping HTTP/1.1\r\n\r\n", 400),
    (b"\x00\x01\x02garbage\r\n\r\n", 400),
    (b"GET /api/v1/vmm.ping HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400),
    (b"PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 70000\r\n\r\n", 413),
    (b"PUT /api/v1/vm.create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
    (b"GET /api/v1/vmm.ping HTTP/1.1\r\n" + b"X: y\r\n" * 100 + b"\r\n", 431),
    (b"GET /api/v1/vmm.ping HTTP/1.1\r\n" + b"X: " + b"y" * 9000 + b"\r\n\r\n", 431),
    (b"GET /" + b"a" * 300 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET /api/v1/vm.nope HTTP/1.1\r\n\r\n", 404),
    (b"GET /nope HTTP/1.1\r\n\r\n", 404),
    (b"GET /api/v1/vm.create HTTP/1.1\r\n\r\n", 405),
    (b"PUT /api/v1/vm.info HTTP/1.1\r\n\r\n", 405),
    (b"DELETE /api/v1/vm.boot HTTP/1.1\r\n\r\n", 405),
    (b"PUT /api/v1/vm.pause HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 400),
    (b"PUT /api/v1/vm.create HTTP/1.1\r\n\r\n", 400),
    (b"GET /api/v1/iovmm.events?after=x HTTP/1.1\r\n\r\n", 400),
    (b"GET /api/v1/iovmm.events?timeout=9999 HTTP/1.1\r\n\r\n", 400),
]


def bad_http(api, S):
    for data, want in BAD_HTTP:
        status, headers, _ = api.raw(data)
        check(status == want, f"{data[:60]!r}: {status}, wanted {want}")
        if want == 405:
            check(headers.get("allow") in ("GET", "PUT"), f"no Allow: {headers}")
        expect(api, "GET", "vmm.ping", 200, schema="VmmPingResponse", S=S)
    # A client that goes away mid-request, and keep-alive with two requests.
    s = socket.socket(socket.AF_UNIX)
    s.connect(api.path)
    s.sendall(b"PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
    s.close()
    status, _, body = api.raw(b"GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n"
                              b"GET /api/v1/vmm.ping HTTP/1.1\r\n"
                              b"Connection: close\r\n\r\n")
    check(status == 200 and body.count(b"HTTP/1.1 200") == 1,
          f"keep-alive: {status} {body!r}")
    # Expect: 100-continue, as curl sends for larger bodies.
    status, _, body = api.raw(b"GET /api/v1/vmm.ping HTTP/1.1\r\n"
                              b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
    check(status == 200, f"Expect: {status}")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    iovmm, kit = sys.argv[1], os.path.abspath(sys.argv[2])
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is not usable")
        return 77
    S = Schemas()
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "api.sock")
        log = open(os.path.join(tmp, "serve.log"), "w+")
        proc = subprocess.Popen([iovmm, "serve", "--api-socket", sock],
                                stdout=log, stderr=subprocess.STDOUT)
        api = Api(sock)
        try:
            for _ in range(100 * SCALE):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            ping, _ = expect(api, "GET", "vmm.ping", 200,
                             schema="VmmPingResponse", S=S)
            check(ping["pid"] == proc.pid, f"ping pid {ping}")
            bad_http(api, S)
            refusals(api, S, kit)
            lifecycle(api, S, kit, tmp)
            expect(api, "PUT", "vmm.shutdown", 204)
            check(proc.wait(timeout=30 * SCALE) == 0, "serve's exit status")
        except (Fail, OSError, ValueError, subprocess.TimeoutExpired) as e:
            proc.kill()
            proc.wait()
            log.seek(0)
            print(f"FAIL: {e}\n--- serve log\n{log.read()}")
            return 1
    print(f"OK: {len(BAD_HTTP)} malformed requests, {len(UNSUPPORTED)} "
          "unsupported fields, every body valid against CH's schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
