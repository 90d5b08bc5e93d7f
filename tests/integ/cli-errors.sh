#!/bin/sh
# Every CLI error `iovmm run` promises: a clear message on stderr and exit
# status 2, never a crash.   cli-errors.sh IOVMM KIT
set -u
iovmm=$1 kit=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
failures=0 passed=0

# expect STATUS SUBSTRING -- COMMAND...
expect() {
	want=$1 msg=$2
	shift 3
	out=$("$@" </dev/null 2>&1)
	got=$?
	if [ "$got" -ne "$want" ] || ! printf '%s' "$out" | grep -qF -- "$msg"; then
		echo "FAIL: $*"
		echo "      wanted status $want and '$msg'; got $got: $out"
		failures=$((failures + 1))
	else
		echo "ok:   $* -> $got: $(printf '%s' "$out" | head -n 1)"
		passed=$((passed + 1))
	fi
}

printf 'hello, not a kernel\n' >"$tmp/text"
cp "$kit" "$tmp/kit.elf" && chmod 644 "$tmp/kit.elf"
printf '\177ELF' >"$tmp/truncated.elf"

expect 2 "usage: iovmm"            -- "$iovmm"
expect 2 "unknown command 'bogus'" -- "$iovmm" bogus
expect 0 "usage: iovmm run"        -- "$iovmm" run --help
expect 2 "--kernel FILE is required" -- "$iovmm" run
expect 2 "No such file or directory" -- "$iovmm" run --kernel "$tmp/missing"
expect 2 "not a regular file"      -- "$iovmm" run --kernel "$tmp"
expect 2 "initrd"                  -- "$iovmm" run --kernel "$kit" --initrd "$tmp/missing"
expect 2 "not"                     -- "$iovmm" run --kernel "$tmp/text"
expect 2 "ELF"                     -- "$iovmm" run --kernel /bin/true
expect 2 "$tmp/truncated.elf"      -- "$iovmm" run --kernel "$tmp/truncated.elf"
# The control API's command line (docs/api.md).
printf 'not a socket\n' >"$tmp/notsock"
expect 2 "--api-socket PATH is required" -- "$iovmm" serve
expect 2 "unexpected argument 'x'" -- "$iovmm" serve --api-socket "$tmp/s" x
expect 2 "exists and is not a socket" -- "$iovmm" serve --api-socket "$tmp/notsock"
expect 2 "No such file or directory" -- "$iovmm" serve --api-socket "$tmp/missing/s"
expect 2 "--stats with --api-socket" -- "$iovmm" run --kernel "$kit" --stats --api-socket "$tmp/s"
expect 2 "not" -- "$iovmm" run --kernel "$tmp/text" --api-socket "$tmp/s"
expect 2 "usage: iovmm api"        -- "$iovmm" api
expect 2 "cannot connect"          -- "$iovmm" api "$tmp/missing.sock" vmm.ping
expect 2 "PCIDEVICE_NONE is not set" -- "$iovmm" run --kernel "$kit" --device vfio-pci,host=env:PCIDEVICE_NONE
expect 2 "expected a size"         -- "$iovmm" run --kernel "$kit" --mem 12X
expect 2 "too small"               -- "$iovmm" run --kernel "$kit" --mem 0
expect 2 "too large"               -- "$iovmm" run --kernel "$kit" --mem 2048T
expect 2 "too many CPUs"           -- "$iovmm" run --kernel "$kit" --cpus 65
expect 2 "expected a number"       -- "$iovmm" run --kernel "$kit" --cpus none
expect 2 "expected stdio"          -- "$iovmm" run --kernel "$kit" --serial tcp::4444
expect 2 "serial output"           -- "$iovmm" run --kernel "$kit" --serial "file:$tmp/no/such/dir"
expect 2 "unknown device 'nosuch'" -- "$iovmm" run --kernel "$kit" --device nosuch
expect 2 "takes no options"        -- "$iovmm" run --kernel "$kit" --device edu,x=1
expect 2 "unknown option"          -- "$iovmm" run --kernel "$kit" --frobnicate
expect 2 "unknown NIC model"       -- "$iovmm" run --kernel "$kit" --net rtl8139,backend=null
expect 2 "unknown back end"        -- "$iovmm" run --kernel "$kit" --net virtio,backend=vde
expect 2 "invalid MAC address"     -- "$iovmm" run --kernel "$kit" --net virtio,backend=null,mac=52:54:00:zz:00:01
expect 2 "not a unicast"           -- "$iovmm" run --kernel "$kit" --net e1000,backend=null,mac=ff:ff:ff:ff:ff:ff
expect 2 "conflicts with --net e1000" -- "$iovmm" run --kernel "$kit" --net e1000,backend=null,queues=2
expect 2 "backend= is required"    -- "$iovmm" run --kernel "$kit" --net virtio
# Kernel vhost-net: a tap, one queue pair, split rings; vhostfd= an open fd.
expect 2 "vhost=on needs backend=tap:NAME" -- "$iovmm" run --kernel "$kit" --net virtio,backend=loopback,vhost=on
expect 2 "split rings only"        -- "$iovmm" run --kernel "$kit" --net virtio,backend=tap:t0,vhost=on,ring=packed
expect 2 "one queue pair"          -- "$iovmm" run --kernel "$kit" --net virtio,backend=tap:t0,vhost,queues=2
expect 2 "vhost=maybe: expected on or off" -- "$iovmm" run --kernel "$kit" --net virtio,backend=tap:t0,vhost=maybe
expect 2 "vhostfd=x: expected a file descriptor" -- "$iovmm" run --kernel "$kit" --net virtio,backend=tap:t0,vhostfd=x
expect 2 "conflicts with vhost=off" -- "$iovmm" run --kernel "$kit" --net virtio,backend=tap:t0,vhost=off,vhostfd=3
expect 2 "0-2 are standard"         -- "$iovmm" run --kernel "$kit" --net virtio,backend=tap:t0,vhostfd=0
expect 2 "vhostfd=77: not an open file descriptor" -- "$iovmm" run --kernel "$kit" --net virtio,backend=tap:t0,vhostfd=77
expect 2 "vhost= conflicts with --net e1000" -- "$iovmm" run --kernel "$kit" --net e1000,backend=tap:t0,vhost=on
expect 2 "disk $tmp/missing.img: No such file" -- "$iovmm" run --kernel "$kit" --disk "virtio,path=$tmp/missing.img"
expect 2 "path= is required"       -- "$iovmm" run --kernel "$kit" --disk virtio,readonly
expect 2 "host=BDF or pf=PF is required" -- "$iovmm" run --kernel "$kit" --device vfio-pci
# SR-IOV pools (docs/sriov.md): refused before anything is leased or bound.
expect 2 "host= and pf= exclude each other" -- "$iovmm" run --kernel "$kit" --device vfio-pci,pf=01:00.0,host=01:00.1
expect 2 "invalid MAC '52:54:00:zz:00:01'" -- "$iovmm" run --kernel "$kit" --device vfio-pci,pf=01:00.0,mac=52:54:00:zz:00:01
expect 2 "invalid VLAN '4095'"     -- "$iovmm" run --kernel "$kit" --device vfio-pci,pf=01:00.0,vlan=4095
expect 2 "qos= needs vlan="        -- "$iovmm" run --kernel "$kit" --device vfio-pci,pf=01:00.0,qos=3
expect 2 "need pf="                -- "$iovmm" run --kernel "$kit" --device vfio-pci,host=01:00.1,trust=on
expect 2 "unknown PF 'nosuch0'"    -- "$iovmm" run --kernel "$kit" --device vfio-pci,pf=nosuch0
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/sriov_totalvfs" ] && continue
	d=${d##*/}
	expect 2 "$d is not an SR-IOV device" -- "$iovmm" run --kernel "$kit" --device "vfio-pci,pf=$d"
	break
done
expect 2 "unknown command 'bogus'" -- "$iovmm" sriov bogus
expect 1 "unknown PF 'nosuch0'"    -- "$iovmm" sriov create nosuch0 --vfs 1
expect 2 "expected a BAR number"   -- "$iovmm" run --kernel "$kit" --device vfio-pci,host=01:00.0,no-mmap=7
expect 2 "no PCI device 0000:99:1f.7" -- "$iovmm" run --kernel "$kit" --device vfio-pci,host=0000:99:1f.7
expect 1 "no PCI device 0000:99:1f.7" -- "$iovmm" vfio bind 0000:99:1f.7
# Without VFIO on the host (these development machines have none; the lab
# covers the other refusals: not bound to vfio-pci, non-viable group, PF with
# VFs enabled).
if [ ! -e /dev/vfio/vfio ]; then
	first=$(ls /sys/bus/pci/devices | head -n 1)
	[ -n "$first" ] && expect 2 "VFIO is not available" -- \
		"$iovmm" run --kernel "$kit" --device "vfio-pci,host=$first"
fi
expect 2 "missing argument"        -- "$iovmm" run --kernel

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	# As an unprivileged user: an unreadable kernel, then /dev/kvm itself.
	printf 'x' >"$tmp/secret" && chmod 600 "$tmp/secret"
	asnobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	expect 2 "Permission denied"  -- $asnobody "$iovmm" run --kernel "$tmp/secret"
	if [ "$(stat -c %a /dev/kvm)" != 666 ]; then
		expect 2 "/dev/kvm: permission denied" -- $asnobody "$iovmm" run --kernel "$tmp/kit.elf"
	fi
	if [ -c /dev/vhost-net ] && [ "$(stat -c %a /dev/vhost-net)" != 666 ]; then
		expect 2 "/dev/vhost-net: permission denied" -- $asnobody "$iovmm" run \
			--kernel "$tmp/kit.elf" --net virtio,backend=tap:t0,vhost=on
	fi
	# A tap device iovmm may not create: root without CAP_NET_ADMIN.
	if [ -c /dev/net/tun ] && setpriv --bounding-set=-net_admin --inh-caps=-net_admin true 2>/dev/null; then
		expect 2 "permission denied" -- setpriv --bounding-set=-net_admin --inh-caps=-net_admin \
			"$iovmm" run --kernel "$tmp/kit.elf" --net virtio,backend=tap:iovmmnope0
	fi
	# No /dev/kvm at all: an empty /dev in a private mount namespace.
	# The user's own mistakes are still reported first: iovmm checks the
	# kernel, the serial file and the devices before it opens /dev/kvm.
	if unshare -m true 2>/dev/null; then
		nokvm='mount -t tmpfs none /dev && exec "$0" run --kernel "$@"'
		expect 2 "/dev/kvm does not exist" -- unshare -m sh -c "$nokvm" \
			"$iovmm" "$tmp/kit.elf"
		expect 2 "ELF" -- unshare -m sh -c "$nokvm" "$iovmm" /bin/true
		expect 2 "$tmp/truncated.elf" -- unshare -m sh -c "$nokvm" \
			"$iovmm" "$tmp/truncated.elf"
		expect 2 "serial output" -- unshare -m sh -c "$nokvm" "$iovmm" \
			"$tmp/kit.elf" --serial "file:$tmp/no/such/dir"
		expect 2 "no PCI device 0000:99:1f.7" -- unshare -m sh -c "$nokvm" \
			"$iovmm" "$tmp/kit.elf" --device vfio-pci,host=0000:99:1f.7
		expect 2 "unknown PF 'nosuch0'" -- unshare -m sh -c "$nokvm" \
			"$iovmm" "$tmp/kit.elf" --device vfio-pci,pf=nosuch0
		expect 2 "/dev/vhost-net: no such device" -- unshare -m sh -c "$nokvm" \
			"$iovmm" "$tmp/kit.elf" --net virtio,backend=tap:t0,vhost=on
	fi
else
	echo "note: not root; permission and missing-/dev/kvm cases not run"
fi

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
