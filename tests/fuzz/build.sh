#!/bin/sh
# Build the libFuzzer targets with clang (ASan + UBSan), outside meson (the
# project's compiler is gcc; libFuzzer needs clang):
#   tests/fuzz/build.sh [OUT_DIR] [TARGET...]   (default: /tmp/iovmm-fuzz, all)
# The device code (core/, emul-devices/, iommu/, vfio/, sriov/,
# vhost-user/proto.c) and the test fakes (tests/unit/fakes) are compiled
# once with coverage instrumentation into OUT_DIR/libfz.a; each target
# (tests/fuzz/fuzz_TARGET.c) links what it uses from it. A generated ninja
# file tracks headers, so a rebuild only recompiles what changed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-${OUT_DIR:-/tmp/iovmm-fuzz}}
[ $# -gt 0 ] && shift
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "build.sh: $cc not found" >&2
	exit 77
fi
for tool in ninja pkg-config; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "build.sh: $tool not found" >&2
		exit 77
	fi
done
mkdir -p "$out"
pkgs="libpci libnl-3.0 libnl-route-3.0 libseccomp check"
ext_cflags=$(pkg-config --cflags $pkgs)
ext_libs=$(pkg-config --libs $pkgs)
# fuzz_api links meson's libraries: build_api.sh builds it.
targets=$(cd "$here" && ls fuzz_*.c | sed 's/\.c$//' | grep -v '^fuzz_api$')
[ $# -gt 0 ] && targets=$(for t in "$@"; do echo "fuzz_$t"; done)

# Everything the targets may link; no DPDK (vhost-user/dpdk), no machine/
# or tools/ (they sit above the devices and carry main()s and the CLI).
# The fakes of the unit tests are the targets' hosts (fake_irq,
# fake_memslot, fake_sysfs and the SR-IOV fake host on it).
lib_srcs=$(cd "$root" && find core emul-devices iommu vfio sriov \
	tests/unit/fakes -name '*.c' | sort
	echo vhost-user/proto.c tests/unit/sriov/fake_host.c)

ninja_file="$out/build.ninja.tmp"
{
	echo "cflags = -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer" \
		"-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		"-Wall -Wextra -Wno-unused-parameter" \
		"-Wno-missing-field-initializers -I$root" \
		"-I$root/tests/unit/fakes $ext_cflags"
	echo "rule cc"
	echo "  command = $cc \$cflags \$extra -MD -MF \$out.d -c \$in -o \$out"
	echo "  depfile = \$out.d"
	echo "  deps = gcc"
	echo "rule ar"
	echo "  command = rm -f \$out && ar rcs \$out \$in"
	echo "rule link"
	echo "  command = $cc -fsanitize=fuzzer,address,undefined \$in -o \$out $ext_libs -lpthread"
	objs=""
	for s in $lib_srcs; do
		o="obj/$(echo "$s" | sed 's/\.c$/.o/')"
		echo "build $o: cc $root/$s"
		echo "  extra = -fsanitize=fuzzer-no-link"
		objs="$objs $o"
	done
	echo "build libfz.a: ar$objs"
	for t in $targets; do
		echo "build obj/$t.o: cc $here/$t.c"
		echo "  extra = -fsanitize=fuzzer"
		echo "build $t: link obj/$t.o libfz.a"
	done
} >"$ninja_file"
if ! cmp -s "$ninja_file" "$out/build.ninja" 2>/dev/null; then
	mv "$ninja_file" "$out/build.ninja"
else
	rm -f "$ninja_file"
fi
ninja -C "$out" -j"${FUZZ_BUILD_JOBS:-2}" $targets >"$out/build.log" 2>&1 || {
	cat "$out/build.log" >&2
	exit 1
}
for t in $targets; do
	echo "$out/$t"
done
