#!/bin/sh
# Guest RAM from 2 MiB hugepages: boots when the pool can supply it, and is
# refused up front (status 2, a clear message) when it cannot - never a
# SIGBUS later. Reserves pages for the test and restores the pool after.
#   hugepages.sh IOVMM KIT
set -u
iovmm=$1 kit=$2
pool=/proc/sys/vm/nr_hugepages
[ -r /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable"; exit 77; }
[ -w "$pool" ] || { echo "SKIP: cannot reserve hugepages (not root)"; exit 77; }
grep -q '^Hugepagesize: *2048 kB' /proc/meminfo ||
	{ echo "SKIP: 2 MiB hugepages not available"; exit 77; }
old=$(cat "$pool")
free_now=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
trap 'echo "$old" >"$pool"' EXIT
echo $((old + 64)) >"$pool"
free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
[ "$free" -ge 64 ] || { echo "SKIP: kernel gave only $free free hugepages"; exit 77; }

out=$("$iovmm" run --kernel "$kit" --mem 64M --hugepages --cmdline test=hello </dev/null 2>&1)
st=$?
echo "$out"
[ "$st" -eq 1 ] && echo "$out" | grep -q "RESULT test=hello status=pass" ||
	{ echo "FAIL: hugepage-backed guest did not pass (status $st)"; exit 1; }

too_big=$(( (free + free_now + 64) * 2 ))M
out=$("$iovmm" run --kernel "$kit" --mem "$too_big" --hugepages </dev/null 2>&1)
st=$?
echo "$out"
[ "$st" -eq 2 ] && echo "$out" | grep -q "hugepages" ||
	{ echo "FAIL: an oversized hugepage request was not refused cleanly (status $st)"; exit 1; }
echo "OK"
