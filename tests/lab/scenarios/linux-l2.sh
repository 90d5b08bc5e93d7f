#!/bin/sh
# lab-timeout: 420
# Issue 5, scenario 6: a real Linux guest. The lab's own Debian kernel
# (bzImage, /lab/vmlinuz) boots under iovmm inside L1 with the NVMe VF
# assigned; its initramfs (built here from L1's busybox and the nvme
# modules with their dependencies) loads nvme, whose probe must bring the
# VF's controller up and find the namespace; /init then reads one block of
# it. L1 wrote a fresh random marker into that block through the PF (the
# namespace is shared in the NVMe subsystem), so the marker coming back
# proves the read really reached the device and DMAed into guest RAM
# through L1's IOMMU. This is the first time iovmm's bzImage boot path,
# ACPI/MCFG tables, PCI and passthrough face drivers nobody here wrote.
# Linux under nested SVM emulated by TCG is slow: minutes, `make lab` only.
. /lab/lib.sh

mem_mib=512
# The marker's block: far from the LBAs the kit's NVMe tests write.
marker_off_mib=40

lab_need_vf || lab_fail "$LAB_ERR"
lab_bind_vfio "$LAB_VF" || lab_fail "$LAB_ERR"
[ -r "$LAB_VMLINUZ" ] || lab_fail no-lab-kernel

# ---- the marker, written through the PF's block device.
lab_nvme_ctrl "$LAB_PF" || lab_fail "$LAB_ERR"
ns=$(ls -d "/sys/class/nvme/$LAB_CTRL"/nvme*n1 2>/dev/null | head -n 1)
ns=${ns##*/}
# With native multipath the controller's path is nvmeXcYn1 and the block
# device is the subsystem head nvmeXn1.
head=$(echo "$ns" | sed 's/c[0-9]*n/n/')
[ -b "/dev/$head" ] || lab_fail "no-pf-namespace-$ns"
marker="IOVMM-L2-MARKER-$(cat /proc/sys/kernel/random/uuid)"
printf '%s\n' "$marker" | dd of="/dev/$head" bs=512 conv=sync,fsync \
	seek=$((marker_off_mib * 2048)) 2>/dev/null || lab_fail marker-write-failed
lab_log "marker $marker at $marker_off_mib MiB of /dev/$head"

# ---- the L2 initramfs.
# l2_modules: nvme and what it depends on, dependencies first, as paths
# under /lib/modules/VER (from each module's .modinfo depends=).
l2_modules() {
	local want="nvme" done="" m dep path changed=1
	while [ $changed = 1 ]; do
		changed=0
		for m in $want; do
			path=$(grep -E "/$m\.ko\$|/$(echo "$m" | tr _ -)\.ko\$" \
				/lab/modules.order | head -n 1)
			[ -n "$path" ] || { echo "missing:$m"; return 1; }
			for dep in $(strings -a "/lib/modules/$path" |
				sed -n 's/^depends=//p' | tr , ' '); do
				case " $want " in *" $dep "*) ;; *)
					want="$want $dep"
					changed=1 ;;
				esac
			done
		done
	done
	# /lab/modules.order is already in dependency order.
	while read -r path; do
		m=${path##*/}
		m=${m%.ko}
		for w in $want; do
			[ "$m" = "$w" ] || [ "$m" = "$(echo "$w" | tr _ -)" ] &&
				echo "$path"
		done
	done </lab/modules.order
	return 0
}

root=$LAB_TMP/l2root
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/mod"
cp /bin/busybox "$root/bin/busybox"
mods=$(l2_modules) || lab_fail "l2-modules-$mods"
for m in $mods; do
	cp "/lib/modules/$m" "$root/mod/"
	echo "${m##*/}" >>"$root/mod/order"
done
lab_log "L2 modules: $(tr '\n' ' ' <"$root/mod/order")"
cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
echo "L2-INIT uptime=\$(cut -d' ' -f1 /proc/uptime) kernel=\$(uname -r)"
for d in /sys/bus/pci/devices/*; do
	echo "L2-PCI \${d##*/} \$(cat \$d/vendor):\$(cat \$d/device) class=\$(cat \$d/class)"
done
for m in \$(cat /mod/order); do
	insmod /mod/\$m || echo "L2-INSMOD-FAILED \$m"
done
i=0
while [ ! -b /dev/nvme0n1 ] && [ \$i -lt 600 ]; do
	sleep 0.1
	i=\$((i + 1))
done
dmesg | grep -E 'nvme|DMAR|PCI: |ACPI: (MCFG|PCI)' | sed 's/^/L2-DMESG /'
if [ -b /dev/nvme0n1 ]; then
	echo "L2-NVME ns=nvme0n1 sectors=\$(cat /sys/block/nvme0n1/size) model=\$(cat /sys/class/nvme/nvme0/model | tr ' ' _)"
	echo "L2-BLOCK \$(dd if=/dev/nvme0n1 bs=512 skip=$((marker_off_mib * 2048)) count=1 2>/dev/null | head -n 1)"
else
	echo "L2-NVME none"
fi
echo "L2-DONE uptime=\$(cut -d' ' -f1 /proc/uptime)"
reboot -f
EOF
chmod 0755 "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null) >"$LAB_TMP/l2.cpio" ||
	lab_fail initramfs-build-failed

# ---- boot it.
echo $((mem_mib / 2 + 8)) >/proc/sys/vm/nr_hugepages
out=$LAB_TMP/iovmm.out
lab_dmesg_mark
# Each console line is stamped with the milliseconds since iovmm started
# (time to the guest's first line and to /init); lab_iovmm cannot do that.
args="run --kernel $LAB_VMLINUZ --initrd $LAB_TMP/l2.cpio --mem ${mem_mib}M"
args="$args --hugepages --stats --device vfio-pci,host=$LAB_VF"
cmdline="console=ttyS0 loglevel=4 panic=-1 initcall_blacklist=cmos_init"
lab_log "iovmm $args --cmdline '$cmdline'"
t0=$(lab_ms)
# shellcheck disable=SC2086 # $args is a word list
{
	timeout -s KILL 360 iovmm $args --cmdline "$cmdline" </dev/null 2>&1
	echo "IOVMM-EXIT $?"
} | while IFS= read -r line; do
	echo "$(( $(lab_ms) - t0 )) $line"
done | tr -d '\r' >"$out.ts" &
# dump_iovmm: what each iovmm thread is doing (kernel stacks), for a VM
# that does not end after the guest finished.
dump_iovmm() {
	local pid t
	pid=$(pidof iovmm) || return 0
	lab_log "iovmm $pid still running $1 ms after L2-DONE; its threads:"
	for t in /proc/"$pid"/task/*; do
		echo "  thread ${t##*/} $(cat "$t/comm") state=$(sed -n 's/^State:[[:space:]]*//p' "$t/status") wchan=$(cat "$t/wchan" 2>/dev/null)"
		sed 's/^/    /' "$t/stack" 2>/dev/null
	done >&2
}
done_ms=""
while ! grep -q '^[0-9]* IOVMM-EXIT' "$out.ts"; do
	sleep 1
	now=$(lab_ms)
	if [ -z "$done_ms" ] && grep -q '^[0-9]* L2-DONE' "$out.ts"; then
		done_ms=$now
	fi
	if [ -n "$done_ms" ] && [ $((now - done_ms)) -gt 60000 ]; then
		dump_iovmm $((now - done_ms))
		kill -KILL "$(pidof iovmm)" 2>/dev/null
		done_ms=""
	fi
done
wait
wall_ms=$(( $(lab_ms) - t0 ))
sed 's/^/  | /' "$out.ts"
sed 's/^[0-9]* //' "$out.ts" >"$out"
rc=$(sed -n 's/^IOVMM-EXIT //p' "$out")
lab_log "iovmm exit status $rc after $wall_ms ms"
# stamp PATTERN: ms of the first line matching PATTERN.
stamp() {
	awk -v re="$1" '{ t = $1; sub(/^[0-9]+ /, "") } $0 ~ re { print t; exit }' "$out.ts"
}
first_ms=$(stamp '^[^i]|^i[^o]')
init_ms=$(stamp '^L2-INIT')
grep -q '^L2-INIT' "$out" || lab_fail "l2-no-init" "exit=$rc" "wall_ms=$wall_ms"
grep -q '^L2-INSMOD-FAILED' "$out" && lab_fail l2-insmod-failed
grep -q '^L2-NVME ns=' "$out" || lab_fail l2-nvme-no-namespace "exit=$rc"
got=$(sed -n 's/^L2-BLOCK //p' "$out")
[ "$got" = "$marker" ] || lab_fail l2-block-mismatch "got=$(echo "$got" | cut -c1-40 | tr ' ' _)"
grep -q '^L2-DONE' "$out" || lab_fail l2-no-done
# reboot -f: the kernel resets through the keyboard controller (the FADT
# is hardware-reduced, with no reset register), and iovmm exits 0.
[ "$rc" = 0 ] || lab_fail iovmm-exit-status "exit=$rc"
lab_dmesg_new | grep -q 'DMAR: \[DMA' && lab_fail unexpected-dmar-fault
stats=$(grep '^iovmm-stats:' "$out")
dma=$(grep '^iovmm-vfio:' "$out")
lab_pass "vf=$LAB_VF" "first_line_ms=$first_ms" "init_ms=$init_ms" \
	"wall_ms=$wall_ms" \
	"l2_uptime_s=$(sed -n 's/^L2-DONE uptime=//p' "$out")" \
	"exits=$(lab_kv exits "$stats")" \
	"dma_map_ms=$(( $(lab_kv dma_map_us "$dma") / 1000 ))" "marker=ok"
