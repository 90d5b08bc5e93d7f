#!/bin/sh
# meson-test.sh BUILD LOGBASE [MESON TEST ARGS...]: `meson test` as the
# nested runs use it inside L1 (scripts/check.sh, smoke-l1.sh): no rebuild
# (L1 runs what the host built), the failing tests' logs printed, the log
# files under their own name in BUILD/meson-logs (the host's meson run may
# be writing testlog.*), and meson's per-test timeouts stretched by
# IOVMM_TIME_SCALE like every wait of the integ scripts.
[ $# -ge 2 ] || { echo "usage: meson-test.sh BUILD LOGBASE [ARGS...]" >&2; exit 2; }
build=$1 logbase=$2
shift 2
exec meson test -C "$build" --no-rebuild --print-errorlogs --logbase "$logbase" \
	--timeout-multiplier "${IOVMM_TIME_SCALE:-1}" "$@"
