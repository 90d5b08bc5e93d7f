#!/bin/sh
# Build and run a fuzzer: tests/fuzz/run.sh [RUNS] [TARGET]
#   RUNS    default 1M
#   TARGET  virtqueue (default) | vhost_user | nvme | api
# Exit status non-zero on a finding (the crash input is left in OUT_DIR).
# OUT_DIR (default /tmp/iovmm-fuzz) keeps the binaries and the corpora, so
# successive runs build on earlier coverage.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
runs=${1:-1000000}
target=${2:-virtqueue}
out=${OUT_DIR:-/tmp/iovmm-fuzz}

case "$target" in
virtqueue) seeds="$here/seeds.py"; max_len=8192 ;;
vhost_user) seeds="$here/seeds_vhost_user.py"; max_len=4096 ;;
nvme) seeds="$here/seeds_nvme.py"; max_len=16384 ;;
api) seeds="$here/seeds_api.py"; max_len=4096; build="$here/build_api.sh" ;;
*) echo "run.sh: unknown target $target" >&2; exit 2 ;;
esac
"${build:-$here/build.sh}" "$out" >/dev/null || exit $?
corpus="$out/corpus-$target"
mkdir -p "$corpus"
python3 "$seeds" "$corpus"
start=$(date +%s)
set +e
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
ASAN_OPTIONS=detect_leaks=1 \
"$out/fuzz_$target" -runs="$runs" -max_len=$max_len -print_final_stats=1 \
	-artifact_prefix="$out/" "$corpus" 2>"$out/fuzz_$target.log"
rc=$?
set -e
end=$(date +%s)
tail -n 25 "$out/fuzz_$target.log" | grep -E "stat::|Done|ERROR|SUMMARY|crash-" || true
echo "fuzz_$target: $runs runs in $((end - start)) s, exit $rc"
exit $rc
