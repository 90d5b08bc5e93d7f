#!/bin/bash
# Build the lab's L1 initrd (an uncompressed newc cpio: TCG decompresses
# slowly, and the kernel loads a plain cpio fastest).
#   mkinitrd.sh BUILD_DIR OUT.cpio
# Contents:
#   /init                  tests/lab/init.sh
#   /bin/busybox           static busybox (applet links made at boot)
#   /lib/modules/VER/...   the modules /init loads, in the order listed in
#                          /lab/modules.order (paths relative to /lib/modules)
#   /lab/lib.sh            the scenario library
#   /lab/scenarios/*.sh    every scenario
#   /lab/bin/iovmm         BUILD_DIR/tools/iovmm, its shared libraries at the
#                          paths ldd gives (and the dynamic loader)
#   /lab/bin/*             every executable meson built in BUILD_DIR/tests/lab
#                          (static helpers such as nvme-admin; a dynamic one
#                          brings its libraries like iovmm)
#   /lab/kit.elf           the guest kit
#   /lab/vmlinuz           the lab kernel itself, for Linux L2 guests
#   /usr/share/misc/pci.ids  when installed (names for `iovmm vfio list`)
#   only with LAB_INITRD_EXTRA=bench (the benchmarks, which compare with
#   QEMU inside L1):
#   /usr/bin/qemu-system-x86_64, its libraries, its microvm firmware
#   /lab/bin/*             the helpers in BUILD_DIR/tests/lab/bench (kvm-stats)
#   only with LAB_INITRD_EXTRA=vmlinux:
#   /lab/vmlinux           the lab kernel as an uncompressed ELF with its PVH
#                          note (fetch.sh extracts it; what L1 itself boots)
# Env: IOVMM_CACHE (see fetch.sh); LAB_MODULES_EXTRA="name ..." adds modules;
# LAB_INITRD_EXTRA="bench" adds optional parts (run.sh sets it from the
# scenarios' "# lab-initrd:" headers).
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: mkinitrd.sh BUILD_DIR OUT.cpio" >&2; exit 2; }
build=$(cd "$1" && pwd)
out=$2
here=$(cd "$(dirname "$0")" && pwd)

# Modules /init loads: VFIO (type1, PCI), the host drivers of the NVMe PF,
# the e1000e and the e1000 (SR-IOV setup, rebind after teardown, a group
# made non-viable by a bound host driver), KVM.
# kvm-intel is listed so an L1 with VMX would work too; /init skips it
# without the CPU flag.
modules="vfio vfio_iommu_type1 vfio_pci nvme e1000e e1000 kvm kvm_amd kvm_intel
${LAB_MODULES_EXTRA:-}"

eval "$("$here/fetch.sh")"

iovmm=$build/tools/iovmm
kit=$build/guest/kit.elf
for f in "$iovmm" "$kit"; do
	[ -r "$f" ] || { echo "mkinitrd: $f missing (build first)" >&2; exit 1; }
done

work=$(mktemp -d "${out}.d.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,tmp,run,lab/bin,lab/scenarios}
mkdir -p "$work/lib/modules"

cp "$LAB_BUSYBOX" "$work/bin/busybox"
install -m 0755 "$here/init.sh" "$work/init"
install -m 0644 "$here/lib.sh" "$work/lab/lib.sh"
install -m 0755 "$here"/scenarios/*.sh "$work/lab/scenarios/"
cp "$kit" "$work/lab/kit.elf"
cp "$LAB_KERNEL" "$work/lab/vmlinuz"
if [ -r /usr/share/misc/pci.ids ]; then
	mkdir -p "$work/usr/share/misc"
	cp /usr/share/misc/pci.ids "$work/usr/share/misc/"
fi

# add_libs FILE: when FILE is dynamic, every library ldd resolves for it
# plus the loader, at their own paths.
add_libs() {
	local f=$1 lib
	ldd "$f" >/dev/null 2>&1 || return 0	# static
	for lib in $(ldd "$f" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		mkdir -p "$work$(dirname "$lib")"
		[ -e "$work$lib" ] || cp -L "$lib" "$work$lib"
	done
}

# add_exe FILE: copy an executable to /lab/bin, with its libraries.
add_exe() {
	install -m 0755 "$1" "$work/lab/bin/"
	add_libs "$1"
}

# add_qemu: Debian's QEMU (the host's binary: same package, same version as
# the peer `iovmm bench` runs), at its own path because it finds its
# firmware in ../share/qemu; the firmware `-M microvm` with a PVH -kernel
# opens: qboot (its default bios-microvm.bin) with the PVH option ROM, and
# SeaBIOS's microvm build (package seabios, a dependency of
# qemu-system-x86), which the lab benchmarks pass with -bios because qboot
# never reaches the kernel once a vfio-pci device is present (docs/
# benchmarks.md, "Lab: passthrough"). About 50 MB with the libraries, so
# only for the scenarios that ask.
add_qemu() {
	local q=/usr/bin/qemu-system-x86_64 f
	[ -x "$q" ] || { echo "mkinitrd: $q missing (qemu-system-x86)" >&2; exit 1; }
	mkdir -p "$work/usr/bin" "$work/usr/share/qemu" "$work/usr/share/seabios"
	install -m 0755 "$q" "$work$q"
	add_libs "$q"
	for f in qemu/bios-microvm.bin qemu/pvh.bin seabios/bios-microvm.bin; do
		cp -L "/usr/share/$f" "$work/usr/share/$f"
	done
}

add_exe "$iovmm"
if [ -d "$build/tests/lab" ]; then
	for f in "$build"/tests/lab/*; do
		[ -f "$f" ] && [ -x "$f" ] && add_exe "$f"
	done
fi

for extra in ${LAB_INITRD_EXTRA:-}; do
	case $extra in
	bench)
		add_qemu
		for f in "$build"/tests/lab/bench/*; do
			[ -f "$f" ] && [ -x "$f" ] && add_exe "$f"
		done
		;;
	vmlinux)
		case $LAB_L1_KERNEL in
		*/vmlinux-*) cp "$LAB_L1_KERNEL" "$work/lab/vmlinux" ;;
		*) echo "mkinitrd: no PVH vmlinux of the lab kernel (fetch.sh could not extract it)" >&2
		   exit 1 ;;
		esac
		;;
	*) echo "mkinitrd: unknown LAB_INITRD_EXTRA part '$extra'" >&2; exit 2 ;;
	esac
done

# Module order is slow to compute (objcopy per module); cache it per kernel
# and module list.
order_cache=$out.modules-$LAB_KVER-$(echo "$modules" | md5sum | cut -c1-8)
if [ ! -s "$order_cache" ]; then
	# shellcheck disable=SC2086 # a list of names
	"$here/modorder.sh" "$LAB_MODULES" $modules >"$order_cache.tmp"
	mv "$order_cache.tmp" "$order_cache"
fi
: >"$work/lab/modules.order"
while read -r m; do
	rel=$LAB_KVER/${m#"$LAB_MODULES"/}
	mkdir -p "$work/lib/modules/$(dirname "$rel")"
	case $m in
	*.xz) rel=${rel%.xz}; xz -dc "$m" >"$work/lib/modules/$rel" ;;
	*.zst) rel=${rel%.zst}; zstd -qdc "$m" >"$work/lib/modules/$rel" ;;
	*) cp "$m" "$work/lib/modules/$rel" ;;
	esac
	echo "$rel" >>"$work/lab/modules.order"
done <"$order_cache"

(cd "$work" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitrd: $out: $(( $(stat -c %s "$out") / 1024 )) KiB," \
	"$(wc -l <"$work/lab/modules.order") modules, kernel $LAB_KVER"
