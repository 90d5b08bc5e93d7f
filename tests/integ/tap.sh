#!/bin/sh
# The tap back end end to end: in a network namespace this test creates, a
# persistent tap device with a reflector on its host side; the guest kit's
# net-loopback runs over `--net MODEL,backend=tap:NAME` and must get every
# frame back intact.   tap.sh IOVMM KIT MODEL
set -u
. "$(dirname "$0")/wait.sh"
iovmm=$1 kit=$2 model=$3
count=300
[ -r /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: iproute2 missing"; exit 77; }

ns=iovmm-tap-$$
tap=kit$$
tmp=$(mktemp -d)
cleanup() {
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns" || { echo "FAIL: cannot create a network namespace"; exit 1; }
# A link coming up sends IPv6 neighbour/MLD frames of its own; the guest would
# receive them as foreign frames. The namespace carries only the test's.
ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$ns" tuntap add dev "$tap" mode tap vnet_hdr || exit 1
ip -n "$ns" link set "$tap" up || exit 1

ip netns exec "$ns" python3 "$(dirname "$0")/tap-reflect.py" "$tap" \
	--timeout "$(integ_scale 90)" --ready "$tmp/ready" >"$tmp/reflect.log" 2>&1 &
rpid=$!
integ_wait_file -e "$tmp/ready" 5 || { echo "FAIL: reflector did not start"; cat "$tmp/reflect.log"; exit 1; }

out=$(ip netns exec "$ns" timeout "$(integ_scale 60)" "$iovmm" run --kernel "$kit" --mem 256M \
	--net "$model,backend=tap:$tap" \
	--cmdline "test=net-loopback nic=${model} count=$count size=128 batch=8 dst=bcast" \
	</dev/null 2>&1)
st=$?
# The kit may send probe frames besides the counted ones: reflect until
# iovmm is done, then stop the reflector.
kill -INT "$rpid" 2>/dev/null
wait "$rpid"
rpid=
echo "$out"
[ "$st" -eq 1 ] && echo "$out" | grep -q "^RESULT test=net-loopback status=pass" ||
	{ echo "FAIL: net-loopback over tap did not pass (status $st)"; exit 1; }
echo "OK"
