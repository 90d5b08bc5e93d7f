#!/bin/sh
# Build and run one fuzzer: tests/fuzz/run.sh [RUNS] [TARGET] [SECONDS]
#   RUNS     executions (default 1M)
#   TARGET   virtqueue (default) | vhost_user | nvme | e1000 | virtio_blk |
#            virtio_net | pci | msix | vfio | legacy | boot | sysfs | api
#            (api links meson's libraries: IOVMM_BUILD, default ./build)
#   SECONDS  optional cap on the time (libFuzzer -max_total_time): the short
#            pass of `meson test` stops at RUNS or SECONDS, whichever first,
#            and starts from the seeds alone each time (a bounded start-up)
# The corpus starts from the target's seeds (written by its committed,
# deterministic seeds script) and, without SECONDS, grows in OUT_DIR
# (default /tmp/iovmm-fuzz), so successive runs build on earlier coverage. The last
# line is the result: "fuzz_TARGET: runs N time S s findings K exit RC".
# Exit status non-zero on a finding; the input that triggered it is kept
# as OUT_DIR/TARGET-crash-* (or -leak-, -timeout-, -oom-); reproduce with
#   OUT_DIR/fuzz_TARGET OUT_DIR/TARGET-crash-...
set -eu
here=$(cd "$(dirname "$0")" && pwd)
runs=${1:-1000000}
target=${2:-virtqueue}
secs=${3:-0}
out=${OUT_DIR:-/tmp/iovmm-fuzz}

case "$target" in
virtqueue) seeds="$here/seeds.py"; max_len=8192 ;;
vhost_user) seeds="$here/seeds_vhost_user.py"; max_len=4096 ;;
nvme) seeds="$here/seeds_nvme.py"; max_len=16384 ;;
e1000|boot) seeds="$here/seeds_devices.py $target"; max_len=32768 ;;
virtio_blk|virtio_net) seeds="$here/seeds_devices.py $target"; max_len=32768 ;;
pci|msix|vfio|legacy|sysfs) seeds="$here/seeds_devices.py $target"; max_len=8192 ;;
api) seeds="$here/seeds_api.py"; max_len=4096; build="$here/build_api.sh" ;;
*) echo "run.sh: unknown target $target" >&2; exit 2 ;;
esac
mkdir -p "$out"
build=${build:-$here/build.sh}
# One build for every target: concurrent runs (meson's parallel short
# pass) wait for the first one, then find everything up to date.
if command -v flock >/dev/null 2>&1; then
	flock "$out/.build.lock" "$build" "$out" >/dev/null || exit $?
else
	"$build" "$out" >/dev/null || exit $?
fi
corpus="$out/corpus-$target"
if [ "$secs" != 0 ]; then
	corpus="$out/short-corpus-$target"
	rm -rf "$corpus"
fi
mkdir -p "$corpus"
# shellcheck disable=SC2086 # "$seeds" is a script and its argument
python3 $seeds "$corpus"
before=$(ls "$out" | grep -c "^$target-" || true)
start=$(date +%s)
set +e
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
ASAN_OPTIONS=detect_leaks=1 \
"$out/fuzz_$target" -runs="$runs" -max_len=$max_len -print_final_stats=1 \
	-max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 \
	-artifact_prefix="$out/$target-" "$corpus" 2>"$out/fuzz_$target.log"
rc=$?
set -e
end=$(date +%s)
grep -E "ERROR|SUMMARY|Test unit written" "$out/fuzz_$target.log" || true
done=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz_$target.log")
after=$(ls "$out" | grep -c "^$target-" || true)
echo "fuzz_$target: runs ${done:-0} time $((end - start)) s" \
	"findings $((after - before)) exit $rc"
exit $rc
