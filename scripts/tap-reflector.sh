#!/bin/sh
# SPDX-License-Identifier: MIT
# An in-kernel tap reflector: every frame a VMM writes into the tap comes
# straight back out of it, with no process on the data path, so a network
# test or benchmark measures the VMM's device model and not a userspace loop
# (issue 12; the same back end for iovmm and QEMU).
#
#   tap-reflector.sh up NS TAP     create network namespace NS holding a
#                                  persistent tap TAP (IFF_VNET_HDR), IPv6
#                                  off, link up, and the reflector
#   tap-reflector.sh attach NS TAP the reflector alone, on a tap that already
#                                  exists in NS (one a DPDK net_tap port
#                                  created, say)
#   tap-reflector.sh stats NS TAP  print "reflected=PKTS bytes=BYTES
#                                  dropped=N" from the reflector's counters
#   tap-reflector.sh down NS       delete NS (and the tap in it)
#
# The VMM then runs in the namespace and opens the tap by name:
#   ip netns exec NS iovmm run ... --net virtio,backend=tap:TAP
#   ip netns exec NS qemu-system-x86_64 ... -netdev tap,id=n0,ifname=TAP,script=no,downscript=no
#
# How: a tc ingress qdisc on the tap with one u32 filter matching every
# frame (match u32 0 0) whose action is `mirred egress redirect` to the same
# tap. A frame the VMM writes enters the kernel as the tap's ingress, the
# action steals it and queues it on the tap's egress, which is the VMM's
# read side; the virtio-net header survives (tun turns it into skb offload
# state on write and back into a header on read). u32 and mirred rather than
# matchall/basic/flower because those are not built into every kernel we
# run on (this project's development hosts lack them; Debian's 6.1 has all
# as modules: sch_ingress, cls_u32, act_mirred; tests/nested loads them).
#
# IPv6 is off in the namespace: a link coming up sends neighbour discovery
# and MLD frames of its own, which the reflector would not see (they leave
# on egress) but the guest would receive as foreign frames.
#
# Needs root (or CAP_NET_ADMIN in the initial namespace), iproute2 and tc.
# Exit: 0 done, 1 failed (with a message on stderr), 2 usage.
set -u

usage() {
	echo "usage: tap-reflector.sh up NS TAP | attach NS TAP | stats NS TAP | down NS" >&2
	exit 2
}
fail() {
	echo "tap-reflector: $*" >&2
	exit 1
}

# The ingress qdisc (kept if the tap has one already: DPDK's net_tap
# installs its own) and the filter that sends every frame back.
reflect() {
	ns=$1 tap=$2
	if ! ip netns exec "$ns" tc qdisc show dev "$tap" ingress | grep -q .; then
		ip netns exec "$ns" tc qdisc add dev "$tap" ingress || return 1
	fi
	ip netns exec "$ns" tc filter add dev "$tap" parent ffff: \
		protocol all u32 match u32 0 0 \
		action mirred egress redirect dev "$tap"
}

up() {
	ns=$1 tap=$2
	ip netns add "$ns" || fail "cannot create network namespace $ns"
	# From here on a failure leaves nothing behind.
	if ! {
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
			ip -n "$ns" tuntap add dev "$tap" mode tap vnet_hdr &&
			ip -n "$ns" link set "$tap" up &&
			reflect "$ns" "$tap"
	}; then
		ip netns del "$ns" 2>/dev/null
		fail "cannot set up tap $tap with a tc reflector in $ns" \
			"(needs sch_ingress, cls_u32 and act_mirred)"
	fi
}

# The mirred action's own counters: frames it redirected ("Sent") and
# frames it could not ("dropped").
stats() {
	ns=$1 tap=$2
	out=$(ip netns exec "$ns" tc -s filter show dev "$tap" parent ffff:) ||
		fail "no reflector on $tap in $ns"
	echo "$out" | awk '
		/Sent [0-9]+ bytes [0-9]+ pkt/ {
			for (i = 1; i <= NF; i++) {
				if ($i == "Sent") bytes = $(i + 1)
				if ($i == "pkt") pkts = $(i - 1)
				if ($i == "(dropped") { d = $(i + 1); sub(",", "", d) }
			}
			found = 1
		}
		END {
			if (!found) exit 1
			printf "reflected=%s bytes=%s dropped=%s\n", pkts, bytes, d
		}' || fail "no counters in tc output for $tap"
}

[ $# -ge 2 ] || usage
case $1 in
up) [ $# -eq 3 ] || usage; up "$2" "$3" ;;
attach)
	[ $# -eq 3 ] || usage
	reflect "$2" "$3" || fail "cannot attach a tc reflector to $3 in $2" \
		"(needs sch_ingress, cls_u32 and act_mirred)"
	;;
stats) [ $# -eq 3 ] || usage; stats "$2" "$3" ;;
down) [ $# -eq 2 ] || usage; ip netns del "$2" || fail "cannot delete $2" ;;
*) usage ;;
esac
