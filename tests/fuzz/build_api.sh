#!/bin/sh
# Build fuzz_api (tests/fuzz/fuzz_api.c) with clang, ASan + UBSan: the API's
# parser and dispatcher and the VmConfig mapping are compiled here with
# coverage; the device table they call (machine_config_add and the
# device types' option parsers) comes from meson's static libraries.
#   tests/fuzz/build_api.sh OUT_DIR [BUILD_DIR]   (BUILD_DIR: ./build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-${OUT_DIR:-/tmp/iovmm-fuzz}}
build=${2:-${IOVMM_BUILD:-$root/build}}
cc=${CLANG:-clang}

command -v "$cc" >/dev/null 2>&1 || { echo "build_api.sh: $cc not found" >&2; exit 77; }
[ -f "$build/machine/libiovmm-machine.a" ] ||
	{ echo "build_api.sh: no meson build in $build (ninja -C build first)" >&2; exit 2; }
mkdir -p "$out"
libs=""
for l in machine/libiovmm-machine vhost-user/libiovmm-vhost-user \
	sriov/libiovmm-sriov vfio/libiovmm-vfio iommu/libiovmm-iommu \
	emul-devices/libiovmm-devices core/libiovmm-core; do
	libs="$libs $build/$l.a"
done
# shellcheck disable=SC2046,SC2086
"$cc" -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-I"$root" -DIOVMM_VERSION='"fuzz"' \
	$(pkg-config --cflags jansson) \
	-o "$out/fuzz_api" "$here/fuzz_api.c" \
	"$root/api/http.c" "$root/api/config.c" "$root/api/server.c" \
	-Wl,--start-group $libs -Wl,--end-group \
	$(pkg-config --libs jansson libpci libnl-route-3.0 libseccomp) -lpthread
echo "$out/fuzz_api"
