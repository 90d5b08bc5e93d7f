#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Charts for the JSON that `iovmm bench exits|net|vhost|io` write.

    tools/bench-chart.py [--out-dir DIR] [--png] bench-exits.json ...

One SVG (or PNG) per chart (DIR/<input name>.svg, default next to the
input; bench vhost has two, the second is <name>-2.svg; bench io three:
throughput, storage IOPS, latency p50 with its p99; bench exits of an
--insn-only run, where every time is null, the instructions per exit): grouped
bars of the medians, with a whisker from the fastest to the slowest run, so
the spread this shared host adds is visible next to every ratio. The
benchmark kind comes from the file's "benchmark" key. gnuplot (Debian
gnuplot-nox) draws; a failed run (null or -1 in the JSON) is left out of its
series, a series with no valid run at all out of the chart, and a chart with
nothing to draw is not written (said on stderr). Exit status: 0, 1 when a
file cannot be read or drawn, 2 for usage.
"""
import argparse
import json
import math
import os
import subprocess
import sys


def valid(values):
    """The runs that measured something (null and -1 mark failures)."""
    return [v for v in values or [] if v is not None and v >= 0 and math.isfinite(v)]


def stat(values):
    """(median, min, max) of the valid runs, or None."""
    v = sorted(valid(values))
    if not v:
        return None
    mid = len(v) // 2
    med = v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2
    return med, v[0], v[-1]


class Chart:
    """A grouped bar chart: groups along x, one bar per series in each."""

    def __init__(self, title, ylabel, series, log=False):
        self.title, self.ylabel, self.series, self.log = title, ylabel, series, log
        self.groups = []  # (label, [stat or None per series])

    def add(self, label, stats):
        self.groups.append((label, stats))

    def empty(self):
        return not any(st for _, stats in self.groups for st in stats)

    def script(self, out, png=False):
        n = len(self.series)
        width = 0.8 / n
        lines = [
            "set terminal %s size %d,480 font 'sans,10'" %
            ("pngcairo" if png else "svg dynamic",
             max(640, 110 * len(self.groups) * n // 2 + 200)),
            "set output '%s'" % out.replace("'", "''"),
            "set title '%s'" % self.title,
            "set ylabel '%s'" % self.ylabel,
            "set style fill solid 0.8 border -1",
            "set boxwidth %.3f" % (width * 0.9),
            "set key outside top center horizontal",
            "set grid ytics",
            "set xtics rotate by -20 nomirror",
            "set xrange [-0.6:%f]" % (len(self.groups) - 0.4),
            "set yrange [%s:*]" % ("*" if self.log else "0"),
        ]
        if self.log:
            lines.append("set logscale y")
        plots, data = [], []
        for s, name in enumerate(self.series):
            # gnuplot refuses a plot whose every data block is empty.
            if not any(stats[s] for _, stats in self.groups):
                continue
            block = "$s%d" % s
            data.append("%s << EOD" % block)
            for g, (label, stats) in enumerate(self.groups):
                st = stats[s]
                if st:
                    data.append('%f %g %g %g "%s"' % (
                        g - 0.4 + width * (s + 0.5), st[0], st[1], st[2], label))
            data.append("EOD")
            plots.append("%s using 1:2 with boxes lc %d title '%s'" %
                         (block, s + 1, name))
            plots.append("%s using 1:2:3:4 with yerrorbars lc rgb 'black' pt 0 notitle"
                         % block)
        tics = ", ".join('"%s" %d' % (label, g) for g, (label, _) in enumerate(self.groups))
        lines.append("set xtics (%s)" % tics)
        return "\n".join(data + lines + ["plot " + ", ".join(plots)]) + "\n"


def exits_charts(d):
    c = Chart("iovmm bench exits: ns per operation (median, whisker: min-max of %d runs)"
              % d.get("runs", 0), "ns/op", ["iovmm", "raw KVM", "QEMU"])
    for t in d["tests"]:
        ns = t["ns_per_op"]
        c.add(t["label"], [stat(ns.get(k, {}).get("runs")) for k in ("iovmm", "raw", "qemu")])
    if not c.empty():
        return [c]
    # --insn-only: no times at all; the instructions per exit instead.
    keys = ("iovmm", "raw", "iovmm_handlers", "iovmm_path")
    c = Chart("iovmm bench exits: userspace instructions per exit (median, min-max of %d runs)"
              % d.get("runs", 0), "instructions/exit",
              ["iovmm", "raw KVM loop", "iovmm handlers", "iovmm path"])
    for t in d["tests"]:
        insn = t.get("insn_per_exit") or {}
        if insn:
            c.add(t["label"], [stat((insn.get(k) or {}).get("runs")) for k in keys])
    return [c]


def io_charts(d):
    """Throughput of the network rows, IOPS of the storage rows, latency of all."""
    runs = d.get("runs", 0)
    net = Chart("iovmm bench io: network, 64 B frames/s (median, min-max of %d runs; log)"
                % runs, "frames/s", ["iovmm", "QEMU"], log=True)
    blk = Chart("iovmm bench io: storage, 4 KiB reads/s at one in flight (median, min-max)",
                "IOPS", ["iovmm", "QEMU"])
    lat = Chart("iovmm bench io: latency, one in flight, p50 and p99 (us, log)",
                "us", ["iovmm p50", "QEMU p50", "iovmm p99", "QEMU p99"], log=True)

    def series(r, vmm, fig):
        return stat(((r.get(vmm) or {}).get(fig) or {}).get("runs"))

    for r in d["rows"]:
        if r.get("why"):
            continue
        label = r["label"] + (" [%s]" % r["where"] if r.get("where", "host") != "host" else "")
        (net if r["kind"] == "net" else blk).add(
            label, [series(r, "iovmm", "throughput"), series(r, "qemu", "throughput")])
        lat.add(label, [series(r, "iovmm", "lat_p50_us"), series(r, "qemu", "lat_p50_us"),
                        series(r, "iovmm", "lat_p99_us"), series(r, "qemu", "lat_p99_us")])
    return [net, blk, lat]


def net_charts(d):
    c = Chart("iovmm bench net: guest kit net-loopback, frames/s (log scale)",
              "frames/s", ["iovmm", "QEMU"], log=True)
    for r in d["rows"]:
        c.add("%s %d B" % (r["nic"], r["size"]),
              [stat(r.get(k, {}).get("pps")) for k in ("iovmm", "qemu")])
    return [c]


def vhost_charts(d):
    be = Chart("iovmm bench vhost: back ends under the same front end, frames/s",
               "frames/s", ["iovmm-vswitch", "testpmd vhost"])
    for r in d["backends"]:
        be.add("%s %d B" % (r["frontend"], r["size"]),
               [stat(r.get(k, {}).get("pps")) for k in ("iovmm-vswitch", "testpmd-vhost")])
    fe = Chart("iovmm bench vhost: front ends on the same back end, frames/s",
               "frames/s", ["iovmm", "QEMU"])
    for r in d["frontends"]:
        fe.add("%s %d B" % (r["backend"], r["size"]),
               [stat(r.get(k, {}).get("pps")) for k in ("iovmm", "qemu")])
    return [be, fe]


KINDS = {"exits": exits_charts, "net": net_charts, "vhost": vhost_charts,
         "io": io_charts}


def draw(path, out_dir, png):
    with open(path) as f:
        d = json.load(f)
    kind = d.get("benchmark")
    if kind not in KINDS:
        raise ValueError("%s: not the JSON of iovmm bench exits, net, vhost or io" % path)
    base = os.path.splitext(os.path.basename(path))[0]
    outs = []
    for i, chart in enumerate(KINDS[kind](d)):
        out = os.path.join(out_dir or os.path.dirname(path) or ".",
                           base + ("-%d" % (i + 1) if i else "") +
                           (".png" if png else ".svg"))
        if chart.empty():
            print("bench-chart: %s: nothing measured for '%s', not drawn" %
                  (path, chart.title), file=sys.stderr)
            continue
        subprocess.run(["gnuplot"], input=chart.script(out, png), text=True, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        outs.append(out)
    return outs


def main():
    ap = argparse.ArgumentParser(description="SVG charts of iovmm bench JSON files")
    ap.add_argument("--out-dir", help="where the SVGs go (default: next to each input)")
    ap.add_argument("--png", action="store_true", help="PNG instead of SVG")
    ap.add_argument("json", nargs="+")
    args = ap.parse_args()
    status = 0
    for path in args.json:
        try:
            for out in draw(path, args.out_dir, args.png):
                print("chart: %s" % out)
        except (OSError, ValueError, KeyError, TypeError) as e:
            print("bench-chart: %s: %s" % (path, e), file=sys.stderr)
            status = 1
        except subprocess.CalledProcessError as e:
            print("bench-chart: %s: gnuplot failed: %s" % (path, e.stderr.strip()),
                  file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
