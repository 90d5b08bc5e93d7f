#!/bin/sh
# The tap back end end to end: in a network namespace this test creates, a
# persistent tap device whose frames the kernel reflects straight back
# (scripts/tap-reflector.sh: tc ingress, mirred egress redirect to the same
# tap; no process on the data path); the guest kit's net-loopback runs over
# `--net MODEL,backend=tap:NAME[,EXTRA]` and must get every frame back
# intact, and the reflector must have sent back at least as many.
#   tap.sh IOVMM KIT MODEL [EXTRA]
set -u
. "$(dirname "$0")/wait.sh"
iovmm=$1 kit=$2 model=$3 extra=${4:+,$4}
reflector=$(dirname "$0")/../../scripts/tap-reflector.sh
count=300
[ -r /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: iproute2 missing"; exit 77; }
command -v tc >/dev/null || { echo "SKIP: tc (iproute2) missing"; exit 77; }

ns=iovmm-tap-$$
tap=kit$$
trap '"$reflector" down "$ns" 2>/dev/null' EXIT
"$reflector" up "$ns" "$tap" || { echo "FAIL: no tap reflector"; exit 1; }

out=$(ip netns exec "$ns" timeout "$(integ_scale 60)" "$iovmm" run --kernel "$kit" --mem 256M \
	--net "$model,backend=tap:$tap$extra" \
	--cmdline "test=net-loopback nic=${model} count=$count size=128 batch=8 dst=bcast" \
	</dev/null 2>&1)
st=$?
echo "$out"
stats=$("$reflector" stats "$ns" "$tap") || { echo "FAIL: no reflector counters"; exit 1; }
echo "reflector: $stats"
[ "$st" -eq 1 ] && echo "$out" | grep -q "^RESULT test=net-loopback status=pass" ||
	{ echo "FAIL: net-loopback over tap did not pass (status $st)"; exit 1; }
refl=$(echo "$stats" | sed -n 's/.*reflected=\([0-9]*\).*/\1/p')
[ "${refl:-0}" -ge "$count" ] ||
	{ echo "FAIL: the kernel reflected ${refl:-0} frames, fewer than $count"; exit 1; }
echo "OK"
