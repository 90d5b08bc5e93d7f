#!/bin/bash
# The lab's passthrough benchmarks (`make lab-bench`, docs/benchmarks.md
# "Lab: passthrough"): boots L1 once with the benchmark scenarios, then
# prints their figures as one table with ratios and writes them as JSON.
#
#   bench.sh [--build DIR] [--runs N] [--json FILE] [run.sh options...]
#     --build DIR   iovmm build directory (default $IOVMM_BUILD, else
#                   <repo>/build)
#     --runs N      repeat each measurement N times inside the boot and
#                   report medians (default 5, at most 5; L1 kernel
#                   command line lab.benchruns=N)
#     --json FILE   default BUILD/lab-bench.json
#     --from LOG    no lab run: print the table of a saved run (run.sh's
#                   output; each run keeps it in BUILD/lab-bench.log);
#                   the JSON then has the medians only
# The JSON has every scenario's result keys (medians, min-max ranges) and,
# in "runs_raw", every run's numbers (from L1's console log).
#   Other options go to run.sh (--timeout, --verbose, --keep-logs...).
#
# Scenarios: vfio-dma-bench (guest RAM DMA-map time, 4 KiB vs 2 MiB pages)
# and vfio-nvme-bench (exits per NVMe command, first guest line and
# per-command latency: iovmm vs QEMU assigning the same VF, and QEMU's
# emulated NVMe). Exit status: run.sh's (0 every run passed, 1 a run
# failed, 77 no lab here); figures never fail it.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${IOVMM_BUILD:-$repo/build}
runs=5
json=""
from=""
pass=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--json) json=$2; shift 2 ;;
	--from) from=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2 ;;
	*) pass+=("$1"); shift ;;
	esac
done
[[ $runs =~ ^[1-5]$ ]] || { echo "bench.sh: --runs takes 1 to 5" >&2; exit 2; }
json=${json:-$build/lab-bench.json}
scenarios=(vfio-dma-bench vfio-nvme-bench)

if [ -n "$from" ]; then
	out=$from
	rc=0
else
	out=$build/lab-bench.log
	"$here/run.sh" --build "$build" --append "lab.benchruns=$runs" \
		"${pass[@]}" "${scenarios[@]}" | tee "$out"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 77 ] && exit 77
fi

# The details column of run.sh's table rows, one "SCENARIO k=v..." line each.
rows=$(sed -n 's/^lab: \(vfio-[a-z-]*bench\) *pass *[0-9]* *\(.*\)$/\1 \2/p' "$out")
[ -n "$rows" ] || { echo "lab-bench: no benchmark passed (status $rc)"; exit "${rc/#0/1}"; }

echo
console=""
[ -z "$from" ] && console=$build/lab-work/last-run.log
echo "$rows" | awk -v json="$json" -v console="$console" -v date="$(date -u +%FT%TZ)" '
function show(k, fmt) { return (k in v) ? sprintf(fmt, v[k]) : "n/a" }
function ratio(a, b) {
	if (!(a in v) || !(b in v) || v[b] + 0 <= 0) return "-"
	return sprintf("%.2fx", v[a] / v[b])
}
# median (min-max)
function spread(k) {
	if (!(k in v)) return "n/a"
	return sprintf("%.1f", v[k]) ((k "_range" in v) ? " (" v[k "_range"] ")" : "")
}
{
	for (i = 2; i <= NF; i++) {
		eq = index($i, "=")
		if (eq == 0) continue
		k = substr($i, 1, eq - 1)
		v[k] = substr($i, eq + 1)
		order[++n] = $1 "\t" k "\t" v[k]
	}
}
END {
	split(v["cmds"], c, ",")
	print "lab-bench: passthrough in the TCG lab (L1 emulated, L2 under nested KVM):"
	print "lab-bench: absolute numbers are the lab'"'"'s, compare the ratios"
	print ""
	printf "%-46s %12s %12s %8s\n", "DMA map of guest RAM, iovmm, ms per GiB",
		"4 KiB pages", "2 MiB pages", "4k/2m"
	printf "%-46s %12s %12s %8s\n", "  (" show("mib", "%d") " MiB guest, median of " \
		show("runs", "%d") " runs)", show("map_ms_per_gib_4k", "%d"),
		show("map_ms_per_gib_2m", "%d"), ratio("map_ms_per_gib_4k", "map_ms_per_gib_2m")
	print ""
	printf "exits per NVMe command: KVM'"'"'s per-VM counters, runs of %s and %s commands\n",
		c[1], c[2]
	printf "%-46s %10s %10s %10s %8s\n", "  (median of " show("runs", "%d") " runs)",
		"all exits", "MMIO->VMM", "port I/O", "/ iovmm"
	split("iovmm_vf qemu_vf qemu_nvme", cfg, " ")
	name["iovmm_vf"] = "  iovmm, VF assigned"
	name["qemu_vf"] = "  QEMU -device vfio-pci, same VF"
	name["qemu_nvme"] = "  QEMU -device nvme (emulated)"
	for (i = 1; i <= 3; i++) {
		k = cfg[i]
		printf "%-46s %10s %10s %10s %8s\n", name[k],
			show(k "_exits_per_cmd", "%.2f"), show(k "_mmio_exits_per_cmd", "%.2f"),
			show(k "_io_exits_per_cmd", "%.2f"),
			ratio(k "_exits_per_cmd", "iovmm_vf_exits_per_cmd")
	}
	printf "%-46s %10s %10s\n", "  iovmm, its own count of exits (--stats)", "",
		show("iovmm_vf_vmm_exits_per_cmd", "%.2f")
	print ""
	printf "time, median (min-max) of %s runs\n", show("runs", "%d")
	printf "  %-22s %24s %24s %24s %11s\n", "", "iovmm + VF", "QEMU + VF",
		"QEMU nvme", "QEMU/iovmm"
	printf "  %-22s %24s %24s %24s %11s\n", "first guest line, ms",
		spread("iovmm_vf_first_line_ms"), spread("qemu_vf_first_line_ms"),
		spread("qemu_nvme_first_line_ms"),
		ratio("qemu_vf_first_line_ms", "iovmm_vf_first_line_ms")
	printf "  %-22s %24s %24s %24s %11s\n", "us per NVMe command",
		spread("iovmm_vf_us_per_cmd"), spread("qemu_vf_us_per_cmd"),
		spread("qemu_nvme_us_per_cmd"),
		ratio("qemu_vf_us_per_cmd", "iovmm_vf_us_per_cmd")

	# JSON: every key of every benchmark scenario, numbers as numbers.
	printf "{\n  \"date\": \"%s\"", date > json
	last = ""
	for (i = 1; i <= n; i++) {
		split(order[i], sk, "\t")
		if (sk[1] != last) {
			printf "%s,\n  \"%s\": {", (last == "" ? "" : "\n  }"), sk[1] > json
			sep = "\n"
			last = sk[1]
		}
		val = sk[3]
		if (val !~ /^-?[0-9]+(\.[0-9]+)?$/) val = "\"" val "\""
		printf "%s    \"%s\": %s", sep, sk[2], val > json
		sep = ",\n"
	}
	if (last != "") printf "\n  }" > json
	# Every run'"'"'s numbers, from the scenarios'"'"' log lines on L1'"'"'s console:
	# "lab[vfio-nvme-bench]: CFG FIGURE: V V ..." (first_line_ms has the
	# two runs of each set) and "lab[vfio-dma-bench]: run N: map_us 4k V
	# 2m V".
	nr = 0
	while (console != "" && (getline line < console) > 0) {
		if (line ~ /^lab\[vfio-nvme-bench\]: [a-z_]+ [a-z_]+: [0-9. ]+$/) {
			split(line, w, " ")
			key = "vfio-nvme-bench." w[2] "_" substr(w[3], 1, length(w[3]) - 1)
			vals = ""
			for (j = 4; j <= length(w); j++)
				if (w[j] != "") vals = vals (vals == "" ? "" : ", ") w[j]
			raw[++nr] = "    \"" key "\": [" vals "]"
		} else if (line ~ /^lab\[vfio-dma-bench\]: run [0-9]+: map_us 4k [0-9]+ 2m [0-9]+$/) {
			split(line, w, " ")
			us4k = us4k (us4k == "" ? "" : ", ") w[6]
			us2m = us2m (us2m == "" ? "" : ", ") w[8]
		}
	}
	if (us4k != "") {
		raw[++nr] = "    \"vfio-dma-bench.map_us_4k\": [" us4k "]"
		raw[++nr] = "    \"vfio-dma-bench.map_us_2m\": [" us2m "]"
	}
	if (nr) {
		printf ",\n  \"runs_raw\": {\n" > json
		for (j = 1; j <= nr; j++)
			printf "%s%s", raw[j], (j < nr ? ",\n" : "\n  }") > json
	}
	printf "\n}\n" > json
	close(json)
	print ""
	print "lab-bench: figures in " json
}'
exit "$rc"
