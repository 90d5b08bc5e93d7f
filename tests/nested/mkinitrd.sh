#!/bin/bash
# Build the initrd of the nested L1 (tests/nested/run.sh): small, because
# everything else comes from the host's own root over virtio-9p.
#   mkinitrd.sh BUILD_DIR OUT.cpio
# Contents (an uncompressed newc cpio, like the lab's):
#   /init                     tests/nested/init.sh
#   /bin/busybox              static busybox (applet links made at boot)
#   /lib/modules/VER/...      the modules /init loads, in the order of
#                             /nested/modules.order: virtio PCI, 9p,
#                             virtio-serial (CMD's output), KVM (nested
#                             SVM), and what the integ tests need (tun,
#                             vhost_net, veth; sch_ingress, cls_u32 and
#                             act_mirred for scripts/tap-reflector.sh)
#   /nested/bin/kvm-hold      BUILD_DIR/tests/lab/kvm-hold, when built
# Env: IOVMM_CACHE (see tests/lab/fetch.sh).
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: mkinitrd.sh BUILD_DIR OUT.cpio" >&2; exit 2; }
build=$(cd "$1" && pwd)
out=$2
here=$(cd "$(dirname "$0")" && pwd)
lab=$here/../lab

modules="virtio_pci 9pnet_virtio 9p virtio_console kvm kvm_amd kvm_intel
tun vhost_net veth sch_ingress cls_u32 act_mirred"

eval "$("$lab/fetch.sh")"

work=$(mktemp -d "${out}.d.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,tmp,run,host,job,nested/bin,lib/modules}

cp "$LAB_BUSYBOX" "$work/bin/busybox"
install -m 0755 "$here/init.sh" "$work/init"
# Static, so it runs from the initrd whatever the host's libc.
if [ -x "$build/tests/lab/kvm-hold" ]; then
	install -m 0755 "$build/tests/lab/kvm-hold" "$work/nested/bin/"
else
	echo "mkinitrd: $build/tests/lab/kvm-hold not built: L1 may lock up" \
		"(docs/lab.md, \"L1 hangs\")" >&2
fi

# The module order is slow to compute (objcopy per module): cached per
# kernel and module list, next to the initrd.
order_cache=$out.modules-$LAB_KVER-$(echo "$modules" | md5sum | cut -c1-8)
if [ ! -s "$order_cache" ]; then
	# shellcheck disable=SC2086 # a list of names
	"$lab/modorder.sh" "$LAB_MODULES" $modules >"$order_cache.tmp"
	mv "$order_cache.tmp" "$order_cache"
fi
: >"$work/nested/modules.order"
while read -r m; do
	rel=$LAB_KVER/${m#"$LAB_MODULES"/}
	mkdir -p "$work/lib/modules/$(dirname "$rel")"
	case $m in
	*.xz) rel=${rel%.xz}; xz -dc "$m" >"$work/lib/modules/$rel" ;;
	*.zst) rel=${rel%.zst}; zstd -qdc "$m" >"$work/lib/modules/$rel" ;;
	*) cp "$m" "$work/lib/modules/$rel" ;;
	esac
	echo "$rel" >>"$work/nested/modules.order"
done <"$order_cache"

(cd "$work" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitrd: $out: $(( $(stat -c %s "$out") / 1024 )) KiB," \
	"$(wc -l <"$work/nested/modules.order") modules, kernel $LAB_KVER"
