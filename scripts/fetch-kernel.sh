#!/bin/sh
# Fetch the kernel Debian's linux-image-amd64 currently points at, unpacked
# (vmlinuz + modules), into a cache shared by the boot tests and the lab.
# Idempotent; prints the vmlinuz path. Needs only Debian's archive.
#   IOVMM_CACHE   cache directory (default /var/cache/iovmm)
set -eu
cache=${IOVMM_CACHE:-/var/cache/iovmm}
dest=$cache/kernel

existing=$(ls "$dest"/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
if [ -n "$existing" ]; then
	echo "$existing"
	exit 0
fi
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$pkg" ]; then
	apt-get update -qq >&2
	pkg=$(apt-cache depends linux-image-amd64 |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
[ -n "$pkg" ] || { echo "fetch-kernel: cannot resolve linux-image-amd64" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$pkg" >&2)
mkdir -p "$dest.new"
dpkg-deb -x "$tmp"/*.deb "$dest.new"
rm -rf "$dest" && mv "$dest.new" "$dest"
ls "$dest"/boot/vmlinuz-* | head -n 1
