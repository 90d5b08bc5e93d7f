#!/bin/sh
# `make fuzz`: every fuzzer for a fixed number of executions, then a
# summary table (executions, seconds, findings per target).
#   FUZZ_RUNS     executions per target (default 10000000)
#   FUZZ_TARGETS  space-separated subset (default: every target)
#   FUZZ_JOBS     targets run at once (default 1; each is one process)
#   OUT_DIR       binaries, corpora, logs, crash inputs (default /tmp/iovmm-fuzz)
# Exit status 1 when any target had a finding or failed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
runs=${FUZZ_RUNS:-10000000}
jobs=${FUZZ_JOBS:-1}
out=${OUT_DIR:-/tmp/iovmm-fuzz}
export OUT_DIR="$out"
# Quick ones first, so a run cut short has finished the most targets.
targets=${FUZZ_TARGETS:-"virtqueue boot legacy msix pci e1000 nvme vfio virtio_blk virtio_net sysfs api vhost_user"}

mkdir -p "$out/results"
"$here/build.sh" "$out" >/dev/null
start=$(date +%s)
echo "fuzz: $runs executions per target, $jobs at a time, in $out"
# shellcheck disable=SC2016 # expanded by the inner shell
printf '%s\n' $targets | xargs -P "$jobs" -I{} sh -c '
	"$1/run.sh" "$2" "$3" >"$4/results/$3.txt" 2>&1
	tail -n 1 "$4/results/$3.txt"' sh "$here" "$runs" {} "$out" || true
end=$(date +%s)
echo
printf '%-12s %12s %10s %9s %s\n' target executions seconds findings exit
status=0
for t in $targets; do
	line=$(tail -n 1 "$out/results/$t.txt" 2>/dev/null || true)
	set -- $line
	if [ "${1:-}" = "fuzz_$t:" ]; then
		printf '%-12s %12s %10s %9s %s\n' "$t" "$3" "$5" "$8" "${10}"
		[ "$8" = 0 ] && [ "${10}" = 0 ] || status=1
	else
		printf '%-12s %12s %10s %9s %s\n' "$t" - - - "no result"
		status=1
	fi
done
echo "fuzz: total $((end - start)) s"
exit $status
