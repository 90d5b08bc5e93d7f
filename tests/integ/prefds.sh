#!/bin/sh
# SPDX-License-Identifier: MIT
# Pre-opened descriptors (docs/security.md): a management layer opens
# /dev/kvm and attaches a tap (prefds.py), then runs iovmm with
# --kvm-fd N --net virtio|e1000,backend=tap,fd=M; the guest kit's
# net-loopback runs over that tap to a reflector in a network namespace.
#   1. as root (e1000);
#   2. as nobody from the start (virtio-net): iovmm never has a privilege,
#      and the same user cannot open /dev/kvm or attach the (root-owned)
#      tap itself (checked: the descriptors are what makes it work);
#   3. bad descriptors are refused with a clear message and status 2.
# (--user after pre-opened descriptors is the same drop sandbox-seccomp
# and the nobody-* tests check.)
#   prefds.sh IOVMM KIT
set -u
. "$(dirname "$0")/wait.sh"
iovmm=$1 kit=$2
# In sanitizer builds: LeakSanitizer cannot ptrace a process that changed
# its uid (--user makes it non-dumpable), and these tests are not about leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
here=$(dirname "$0")
count=200
[ -r /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: iproute2 missing"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }

ns=iovmm-fds-$$
tap=fds$$
tmp=$(mktemp -d)
chmod 755 "$tmp"
reflector=$here/../../scripts/tap-reflector.sh
cleanup() {
	"$reflector" down "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ip netns add "$ns" || fail "cannot create a network namespace"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
# Owned by root: another user may not attach it (an ownerless persistent
# tap is open to anyone who can open /dev/net/tun).
ip -n "$ns" tuntap add dev "$tap" mode tap vnet_hdr user 0 || exit 1
ip -n "$ns" link set "$tap" up || exit 1
# The kernel sends every frame back (scripts/tap-reflector.sh).
"$reflector" attach "$ns" "$tap" || fail "reflector did not start"

# run NAME MODEL [prefds.py options] -- [iovmm options]: net-loopback over
# the pre-opened tap must pass.
run() {
	_name=$1 _model=$2
	shift 2
	_pre=""
	while [ "$1" != "--" ]; do _pre="$_pre $1"; shift; done
	shift
	# shellcheck disable=SC2086
	ip netns exec "$ns" timeout "$(integ_scale 60)" python3 "$here/prefds.py" \
		--tap "$tap" $_pre -- "$iovmm" run --kernel "$kit" --mem 128M \
		--kvm-fd '{kvm}' --net "$_model,backend=tap,fd={tap}" "$@" \
		--cmdline "test=net-loopback nic=$_model count=$count size=128 batch=8 dst=bcast" \
		</dev/null >"$tmp/$_name.log" 2>&1
	_st=$?
	grep -v '^kit:' "$tmp/$_name.log"
	[ "$_st" -eq 1 ] && grep -q "^RESULT test=net-loopback status=pass" "$tmp/$_name.log" ||
		fail "$_name: net-loopback over the pre-opened tap did not pass (status $_st)"
	echo "ok: $_name"
}

run root e1000 --
run nobody virtio --user nobody --

# Without the descriptors the same user gets nowhere: /dev/kvm and the tap
# are what the management layer lent it.
as_nobody() {
	out=$(ip netns exec "$ns" setpriv --reuid nobody --regid nogroup \
		--clear-groups "$iovmm" run --kernel "$kit" --mem 64M "$@" </dev/null 2>&1)
	st=$?
	echo "$out"
	[ "$st" -eq 2 ] || fail "nobody without descriptors: status $st (want 2)"
}
as_nobody --net "virtio,backend=tap:$tap"
# (refused at TUNSETIFF, or already at /dev/net/tun where it is 0600 as
# in the lab's L1)
echo "$out" | grep -q "tap $tap: .*permission denied" || fail "nobody attached the tap"
as_nobody
echo "$out" | grep -q "/dev/kvm: permission denied" || fail "nobody opened /dev/kvm"

# Bad descriptors: clear refusals (the parse-time ones, a bare tap without
# fd= and the like, are tools-cli's).
expect_refused() {
	_want=$1
	shift
	out=$("$iovmm" run --kernel "$kit" --mem 64M "$@" </dev/null 2>&1)
	st=$?
	echo "$out"
	[ "$st" -eq 2 ] || fail "$*: status $st (want 2)"
	echo "$out" | grep -q -- "$_want" || fail "$*: want '$_want'"
}
expect_refused "--kvm-fd 0: not an open /dev/kvm" --kvm-fd 0
expect_refused "tap fd=0: not an attached tap device" --net virtio,backend=tap,fd=0
echo OK
