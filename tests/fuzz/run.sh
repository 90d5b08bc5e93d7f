#!/bin/sh
# Build and run the virtqueue fuzzer: tests/fuzz/run.sh [RUNS] (default 1M).
# Exit status non-zero on a finding (the crash input is left in OUT_DIR).
# OUT_DIR (default /tmp/iovmm-fuzz) keeps the binary and the corpus, so
# successive runs build on earlier coverage.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
runs=${1:-1000000}
out=${OUT_DIR:-/tmp/iovmm-fuzz}

"$here/build.sh" "$out" >/dev/null || exit $?
corpus="$out/corpus-virtqueue"
mkdir -p "$corpus"
python3 "$here/seeds.py" "$corpus"
start=$(date +%s)
set +e
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
ASAN_OPTIONS=detect_leaks=1 \
"$out/fuzz_virtqueue" -runs="$runs" -max_len=8192 -print_final_stats=1 \
	-artifact_prefix="$out/" "$corpus" 2>"$out/fuzz_virtqueue.log"
rc=$?
set -e
end=$(date +%s)
tail -n 25 "$out/fuzz_virtqueue.log" | grep -E "stat::|Done|ERROR|SUMMARY|crash-" || true
echo "fuzz_virtqueue: $runs runs in $((end - start)) s, exit $rc"
exit $rc
