#!/bin/sh
# lab-timeout: 900
# lab-initrd: bench vmlinux
# Benchmark (make lab-bench; issue 13 item 4): Linux boot time, iovmm vs
# QEMU microvm, inside L1 under nested KVM. The same kernel booted the same
# way (the lab's Debian kernel as an uncompressed ELF, entered through its
# PVH note: no decompressor, no firmware on iovmm, QEMU's firmware and PVH
# option ROM on QEMU), the same initramfs (busybox; /init prints one line
# and reboots), the same command line, the same RAM, both VMMs pinned to L1
# CPU 1, no devices beyond each VMM's serial console and platform (both
# with a PCIe host bridge: iovmm always has one, QEMU's microvm pcie=on).
# What differs besides the VMM: the guest CPU model (iovmm passes KVM's
# supported CPUID; QEMU's default is qemu64).
# Figures per boot, from the VMM's exec: first guest console line
# (earlycon, so the first line is printed when the kernel starts, not
# replayed when the tty driver registers) and /init's first line. Each
# console line is stamped as it arrives (one write per line from iovmm's
# UART; QEMU's stdio serial writes as it goes).
#   iovmm: `iovmm run --kernel vmlinux --initrd` (PVH entry, no firmware).
#   QEMU:  `-M microvm` with SeaBIOS's microvm build (the firmware the
#          other lab benchmarks use) and QEMU's pvh.bin option ROM.
# lab.benchruns=N (run.sh --append) boots each N times (default 3, at most
# 5), alternating which VMM goes first; medians are reported. A figure
# never fails the scenario; a boot that does not reach /init does.
. /lab/lib.sh

mem_mib=256
vmm_cpu=1
runs=$(lab_benchruns 3)

lab_need_qemu || lab_fail "$LAB_ERR"
[ -r "$LAB_VMLINUX" ] || lab_fail no-pvh-vmlinux

root=$LAB_TMP/bootroot
mkdir -p "$root/bin" "$root/proc"
cp /bin/busybox "$root/bin/busybox"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "L2-INIT uptime=$(/bin/busybox cut -d' ' -f1 /proc/uptime)"
/bin/busybox reboot -f
EOF
chmod 0755 "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null) >"$LAB_TMP/boot.cpio" ||
	lab_fail initramfs-build-failed

# loglevel=6: notices (the banner, the command line) but not the info
# chatter, whose serial output would weigh on both VMMs' exits.
cmdline="console=ttyS0 earlycon=uart8250,io,0x3f8 loglevel=6 panic=-1 initcall_blacklist=cmos_init"
figs=$LAB_TMP/figs
mkdir -p "$figs"

# boot VMM RUN: one boot; appends to $figs/VMM_first_line_ms and _init_ms.
boot() {
	local vmm="$1" run="$2" out="$LAB_TMP/$1-$2.out" t0 first init
	if [ "$vmm" = iovmm ]; then
		set -- iovmm run --kernel "$LAB_VMLINUX" --initrd "$LAB_TMP/boot.cpio" \
			--mem "${mem_mib}M" --cmdline "$cmdline"
	else
		set -- "$LAB_QEMU" -accel kvm -cpu host -M microvm,pcie=on -m "${mem_mib}M" \
			-bios "$LAB_QEMU_MICROVM_BIOS" -nodefaults -no-user-config \
			-display none -serial stdio -no-reboot \
			-kernel "$LAB_VMLINUX" -initrd "$LAB_TMP/boot.cpio" -append "$cmdline"
	fi
	lab_log "boot $run: $*"
	t0=$(lab_ms)
	{
		timeout -s KILL 300 taskset -c "$vmm_cpu" "$@" </dev/null 2>&1
		echo "VMM-EXIT $?"
	} | while IFS= read -r line; do
		echo "$(( $(lab_ms) - t0 )) $line"
	done | tr -d '\r' >"$out"
	sed 's/^/  | /' "$out"
	grep -q '^[0-9]* L2-INIT' "$out" || lab_fail "$vmm-no-init" "run=$run"
	# The guest's first line: not the VMMs' own messages.
	first=$(awk '{ t = $1; sub(/^[0-9]+ /, "") }
		$0 != "" && $0 !~ /^(iovmm|qemu-system|VMM-EXIT|SeaBIOS|Booting from|enter handle)/ { print t; exit }' "$out")
	init=$(awk '{ t = $1; sub(/^[0-9]+ /, "") } /^L2-INIT/ { print t; exit }' "$out")
	lab_log "$vmm run $run: first_line_ms=$first init_ms=$init $(sed -n 's/^[0-9]* \(L2-INIT.*\)/\1/p' "$out")"
	echo "$first" >>"$figs/${vmm}_first_line_ms"
	echo "$init" >>"$figs/${vmm}_init_ms"
}

r=1
while [ $r -le "$runs" ]; do
	if [ $((r % 2)) = 1 ]; then
		boot iovmm $r
		boot qemu $r
	else
		boot qemu $r
		boot iovmm $r
	fi
	r=$((r + 1))
done

# fig NAME: median of the runs; range: min-max.
fig() { lab_median <"$figs/$1"; }
range() { echo "$(sort -n "$figs/$1" | head -n 1)-$(sort -n "$figs/$1" | tail -n 1)"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'; }
lab_pass "runs=$runs" \
	"iovmm_first_line_ms=$(fig iovmm_first_line_ms)" "qemu_first_line_ms=$(fig qemu_first_line_ms)" \
	"iovmm_init_ms=$(fig iovmm_init_ms)" "qemu_init_ms=$(fig qemu_init_ms)" \
	"iovmm_init_range=$(range iovmm_init_ms)" "qemu_init_range=$(range qemu_init_ms)" \
	"init_iovmm_over_qemu=$(ratio "$(fig iovmm_init_ms)" "$(fig qemu_init_ms)")" \
	"first_line_iovmm_over_qemu=$(ratio "$(fig iovmm_first_line_ms)" "$(fig qemu_first_line_ms)")"
