#!/bin/sh
# Install the Debian 12 packages iovmm needs to build, test and benchmark.
# Idempotent: asks apt only for what dpkg says is missing, and runs
# `apt-get update` only when something is.
set -eu

PKGS="meson ninja-build gcc clang lld pkg-config make check libpci-dev pci.ids
libdpdk-dev dpdk dpdk-dev libnl-route-3-dev libnl-3-dev qemu-system-x86
acpica-tools gnuplot-nox python3 busybox-static cpio valgrind
libjansson-dev
python3-jsonschema
python3-yaml
libseccomp-dev"

missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
