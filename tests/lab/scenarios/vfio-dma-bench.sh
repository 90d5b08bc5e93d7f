#!/bin/sh
# lab-timeout: 240
# Benchmark (make lab / lab-bench): time to DMA-map guest RAM in the host
# IOMMU at VM start, 4 KiB pages vs 2 MiB hugepages, per GiB. With 4 KiB
# pages type1 pins and maps each page run separately (and L1's emulated
# VT-d with caching mode takes an IOTLB flush per map); hugepages map in
# 2 MiB pieces. Numbers are for the TCG lab, not for hardware: compare the
# ratio.
. /lab/lib.sh

mib=256
lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
echo $(( mib / 2 + 8 )) >/proc/sys/vm/nr_hugepages

# map_us FLAGS...: set MAP_US to the DMA map time of one VM start
# (test=hello: the guest does no DMA).
map_us() {
	local out=$LAB_TMP/bench.out rc
	lab_iovmm "$out" 120 run --kernel "$LAB_KIT" --mem ${mib}M --stats \
		--device "vfio-pci,host=$LAB_VF" --cmdline "test=hello" "$@"
	rc=$?
	[ "$rc" -eq 1 ] || lab_err "iovmm-exit-$rc" || return 1
	MAP_US=$(lab_kv dma_map_us "$(grep '^iovmm-vfio:' "$out")")
	[ -n "$MAP_US" ] || lab_err no-map-time
}

# lab.benchruns=N (make lab-bench): N pairs, medians (default 1, at most 5).
runs=$(lab_benchruns 1)
r=1
while [ "$r" -le "$runs" ]; do
	map_us || lab_fail "4k-$LAB_ERR"
	echo "$MAP_US" >>"$LAB_TMP/us4k"
	map_us --hugepages || lab_fail "2m-$LAB_ERR"
	echo "$MAP_US" >>"$LAB_TMP/us2m"
	lab_log "run $r: map_us 4k $(tail -n 1 "$LAB_TMP/us4k") 2m $MAP_US"
	r=$((r + 1))
done
us4k=$(lab_median <"$LAB_TMP/us4k")
us2m=$(lab_median <"$LAB_TMP/us2m")
us4k=${us4k%.*}
us2m=${us2m%.*}
[ "$us2m" -gt 0 ] || us2m=1
per_gib_4k=$(( us4k * 1024 / mib / 1000 ))
per_gib_2m=$(( us2m * 1024 / mib / 1000 ))
lab_pass "mib=$mib" "runs=$runs" "map_ms_per_gib_4k=$per_gib_4k" \
	"map_ms_per_gib_2m=$per_gib_2m" \
	"ratio_x10=$(( us4k * 10 / us2m ))"
