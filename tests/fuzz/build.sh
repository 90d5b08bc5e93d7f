#!/bin/sh
# Build the libFuzzer targets with clang (ASan + UBSan), outside meson:
# they link only the parsers under test, not libiovmm.
#   tests/fuzz/build.sh [OUT_DIR]     (default: /tmp/iovmm-fuzz)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-${OUT_DIR:-/tmp/iovmm-fuzz}}
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "build.sh: $cc not found" >&2
	exit 77
fi
mkdir -p "$out"
fuzz_cc() {
	"$cc" -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined \
		-Wall -Wextra -Wno-unused-parameter -I"$root" "$@"
}
fuzz_cc -o "$out/fuzz_virtqueue" \
	"$here/fuzz_virtqueue.c" \
	"$root/emul-devices/virtio/virtqueue.c" \
	"$root/core/gmem.c"
echo "$out/fuzz_virtqueue"
fuzz_cc -o "$out/fuzz_vhost_user" \
	"$here/fuzz_vhost_user.c" \
	"$root/vhost-user/proto.c"
echo "$out/fuzz_vhost_user"
nvme="$root/emul-devices/nvme"
fuzz_cc -o "$out/fuzz_nvme" \
	"$here/fuzz_nvme.c" \
	"$nvme/admin.c" "$nvme/ctrl.c" "$nvme/identify.c" "$nvme/io.c" \
	"$nvme/prp.c" "$nvme/queue.c" "$nvme/regs.c" \
	"$root/core/gmem.c" "$root/core/iov.c" "$root/core/log.c"
echo "$out/fuzz_nvme"
