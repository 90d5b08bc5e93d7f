#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Layers point one way: every #include "dir/..." of a source file must name
its own layer or one below it (docs/architecture.md).

    check.py [ROOT]        check the tree (default: the repository)
    check.py --self-test   plant a violation in a copy and expect a failure

Exit 0 clean, 1 with one line per violation, 2 on usage errors.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Layer -> the top-level folders its files may include (itself included).
# core is the VM engine; devices, IOMMU policy and VFIO sit on it; the
# machine layer assembles them; tools drive the machine.
ALLOWED = {
    "core": {"core"},
    "emul-devices": {"core", "emul-devices"},
    "iommu": {"core", "iommu"},
    "vfio": {"core", "iommu", "vfio"},
    "sriov": {"core", "iommu", "vfio", "sriov"},
    "vhost-user": {"core", "emul-devices", "vhost-user"},
    "machine": {"core", "emul-devices", "iommu", "vfio", "sriov",
                "vhost-user", "machine"},
    # The control API drives a machine; only tools/ sits on it.
    "api": {"core", "emul-devices", "iommu", "vfio", "sriov",
            "vhost-user", "machine", "api"},
    "tools": {"core", "emul-devices", "iommu", "vfio", "sriov",
              "vhost-user", "machine", "api", "tools"},
    # The guest kit is freestanding: nothing of the VMM.
    "guest": {"guest"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def check(root):
    bad = []
    for layer, allowed in sorted(ALLOWED.items()):
        top = os.path.join(root, layer)
        for dirpath, _, files in os.walk(top):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or "/" not in m.group(1):
                            continue
                        target = m.group(1).split("/", 1)[0]
                        if target in ALLOWED and target not in allowed:
                            bad.append(f"{rel}:{lineno}: {layer} includes "
                                       f"{m.group(1)} (layer {target} is "
                                       f"above it)")
    return bad


def self_test(root):
    """A copy of the layer folders with core including machine/ must fail."""
    with tempfile.TemporaryDirectory() as tmp:
        for layer in ALLOWED:
            src = os.path.join(root, layer)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(tmp, layer),
                                ignore=shutil.ignore_patterns("*.o", "*.a"))
        if check(tmp):
            print("self-test: the copy fails before anything is planted")
            return 1
        planted = os.path.join(tmp, "core", "planted.c")
        with open(planted, "w") as f:
            f.write('#include "machine/machine.h"\n')
        out = subprocess.run([sys.executable, __file__, tmp],
                             capture_output=True, text=True)
        if out.returncode != 1 or "core/planted.c:1" not in out.stdout:
            print("self-test: a planted violation was not reported:",
                  out.returncode, out.stdout)
            return 1
        print("self-test: planted violation reported:", out.stdout.strip())
    return 0


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    if len(argv) > 1 and argv[1] == "--self-test":
        return self_test(root)
    if len(argv) > 1:
        root = argv[1]
    if not os.path.isdir(os.path.join(root, "core")):
        print(f"check.py: {root} has no core/", file=sys.stderr)
        return 2
    bad = check(root)
    for line in bad:
        print(line)
    if not bad:
        print(f"layering: clean ({', '.join(sorted(ALLOWED))})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
