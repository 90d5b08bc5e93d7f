#!/bin/sh
# Fetch what the lab boots, from Debian packages only, into a cache:
#   - the kernel linux-image-amd64 points at (vmlinuz + .ko modules), through
#     scripts/fetch-kernel.sh;
#   - a static busybox: the installed busybox-static's /bin/busybox, else the
#     busybox-static package unpacked into the cache.
# qemu-system-x86 itself is a build dependency (scripts/deps.sh).
#
# Prints shell assignments for the caller to eval:
#   LAB_KERNEL=<vmlinuz>  LAB_L1_KERNEL=<what L1 boots: vmlinux or vmlinuz>
#   LAB_KVER=<version>  LAB_MODULES=<lib/modules/VER>
#   LAB_BUSYBOX=<static busybox>
# Exit status 0, or 1 with the reason on stderr (e.g. no network).
#   IOVMM_CACHE   cache directory (default /var/cache/iovmm)
set -eu
cache=${IOVMM_CACHE:-/var/cache/iovmm}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

fail() {
	echo "lab fetch: $*" >&2
	exit 1
}

# A busybox is usable only if it is static: L1's initrd has no libc for it.
is_static() {
	[ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1
}

kernel=$("$repo/scripts/fetch-kernel.sh") || fail "cannot fetch the kernel package"
[ -r "$kernel" ] || fail "no vmlinuz in $cache/kernel"
kver=${kernel##*/vmlinuz-}
modules=$cache/kernel/lib/modules/$kver
[ -d "$modules/kernel" ] || fail "$modules: no modules unpacked with the kernel"

busybox=""
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null |
	grep -q 'ok installed' && is_static /bin/busybox; then
	busybox=/bin/busybox
elif is_static "$cache/busybox/bin/busybox"; then
	busybox=$cache/busybox/bin/busybox
else
	tmp=$(mktemp -d)
	chmod 755 "$tmp"	# apt downloads as _apt
	trap 'rm -rf "$tmp"' EXIT
	if ! (cd "$tmp" && apt-get download -q busybox-static >&2); then
		apt-get update -qq >&2 || true
		(cd "$tmp" && apt-get download -q busybox-static >&2) ||
			fail "cannot download busybox-static (no network?)"
	fi
	rm -rf "$cache/busybox.new"
	mkdir -p "$cache/busybox.new"
	dpkg-deb -x "$tmp"/busybox-static_*.deb "$cache/busybox.new"
	rm -rf "$cache/busybox"
	mv "$cache/busybox.new" "$cache/busybox"
	busybox=$cache/busybox/bin/busybox
	is_static "$busybox" || fail "$busybox is not a static executable"
fi

# L1 boots fastest from the uncompressed kernel through its PVH entry: under
# TCG the bzImage's own XZ decompressor costs 4-10 s per boot. Extract it
# once (the payload is the first stream with a known magic) and keep it
# only if it is an ELF with the PVH entry note (Xen note type 18,
# XEN_ELFNOTE_PHYS32_ENTRY); otherwise boot the bzImage.
vmlinux=$cache/kernel/boot/vmlinux-$kver
extract_vmlinux() {
	for tool in "xz -dc --single-stream:\3757zXZ" "zstd -qdc:\050\265\057\375" \
		"gzip -dc:\037\213\010"; do
		# shellcheck disable=SC2059 # the format is the octal magic
		magic=$(printf "${tool#*:}")
		off=$(LC_ALL=C grep -abo "$magic" "$kernel" | head -n 1 | cut -d: -f1)
		[ -n "$off" ] || continue
		tail -c +$((off + 1)) "$kernel" | ${tool%%:*} >"$vmlinux.tmp" 2>/dev/null
		if [ "$(head -c 4 "$vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] &&
			readelf -n "$vmlinux.tmp" 2>/dev/null | grep -q '0x00000012'; then
			mv "$vmlinux.tmp" "$vmlinux"
			return 0
		fi
	done
	rm -f "$vmlinux.tmp"
	return 1
}
l1_kernel=$kernel
if [ -s "$vmlinux" ] || extract_vmlinux; then
	l1_kernel=$vmlinux
fi

echo "LAB_KERNEL=$kernel"
echo "LAB_L1_KERNEL=$l1_kernel"
echo "LAB_KVER=$kver"
echo "LAB_MODULES=$modules"
echo "LAB_BUSYBOX=$busybox"
