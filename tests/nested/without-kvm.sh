#!/bin/bash
# Run a command as on a host without /dev/kvm, on a host that has one:
#
#   without-kvm.sh CMD ARGS...        e.g. tests/nested/without-kvm.sh make check
#
# CMD runs in a private mount namespace whose /dev is a tmpfs holding every
# entry of the real /dev except kvm: device nodes and directories bind-
# mounted from the real ones (so /dev/pts, /dev/shm, /dev/hugepages,
# /dev/net/tun, /dev/vhost-net, /dev/null... behave as before), symbolic
# links copied. Nothing else changes: same root, same processes, same
# network. That is an honest no-KVM host for iovmm (docs/testing.md, "The
# nested run"): its unit tests, `make check`, `iovmm demo`, all see what
# they would see on a cloud VM without nested virtualization. Needs root.
# Exit: CMD's status; 2 usage or no root; 1 the namespace could not be set up.
set -uo pipefail

if [ $# -eq 0 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
	sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
fi
[ "$(id -u)" = 0 ] || { echo "without-kvm: needs root (a mount namespace)" >&2; exit 2; }

# Re-run this script inside a new mount namespace (private propagation:
# nothing done there reaches the host's mounts).
if [ "${IOVMM_WITHOUT_KVM_NS:-}" != 1 ]; then
	exec unshare --mount --propagation private \
		env IOVMM_WITHOUT_KVM_NS=1 "$0" "$@"
fi

fail() { echo "without-kvm: $*" >&2; exit 1; }

real=$(mktemp -d "${TMPDIR:-/tmp}/without-kvm.XXXXXX") || fail "mktemp"
mount --rbind /dev "$real" || fail "cannot bind /dev"
mount -t tmpfs -o mode=0755,nosuid tmpfs /dev || fail "cannot mount a tmpfs on /dev"
for e in "$real"/* "$real"/.[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	name=${e##*/}
	[ "$name" = kvm ] && continue
	if [ -L "$e" ]; then
		cp -a "$e" /dev/
	elif [ -d "$e" ]; then
		mkdir "/dev/$name" && mount --rbind "$e" "/dev/$name" ||
			fail "cannot bind /dev/$name"
	else
		touch "/dev/$name" && mount --bind "$e" "/dev/$name" ||
			fail "cannot bind /dev/$name"
	fi
done
umount -l "$real"
rmdir "$real"
[ -e /dev/kvm ] && fail "/dev/kvm is still there"
unset IOVMM_WITHOUT_KVM_NS
exec "$@"
