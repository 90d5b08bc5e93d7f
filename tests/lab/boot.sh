# shellcheck shell=bash disable=SC2154 # the caller sets what is listed below
# Boot-watch of a TCG L1 (sourced by bash: tests/lab/run.sh and
# tests/nested/run.sh). One QEMU boot, its console (COM1) and heartbeat
# (COM2) in files, graded by the L1 /init protocol of tests/lab/init.sh:
#   LAB-INIT ...    /init started (before it only the boot limit counts)
#   LAB-ALIVE ...   heartbeat on COM2, every 2 s
#   LAB-DONE ...    finished; /init powers off next
#
# The caller sets:
#   qemu, qemu_args[]   the QEMU binary and its arguments (no -serial)
#   labdir              where attemptN.{log,hb,cmd,qemu} go
#   timeout_s, idle_s, boot_limit_s, verbose
#   keep_logs           where keep() saves a failed attempt
# and may set:
#   keep_prefix         name prefix of kept logs (default lab)
#   keep_note           what the attempt ran, for the kept log's header
#                       (default "scenarios=<scenarios[*]>")
#   boot_console_fd     where --verbose streams the console (default 1)
#   boot_stream_out, boot_stream_err
#                       files (e.g. QEMU chardev files) whose new bytes go
#                       to stdout / stderr while L1 runs (default none)

# Milliseconds since the epoch (bash 5's EPOCHREALTIME, no forks).
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }

qpid=""
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null
		sleep 1
		kill -KILL "$qpid" 2>/dev/null
	fi
}

# stream_new FILE SHOWN: print FILE's bytes after offset SHOWN; sets
# stream_size to the offset shown up to.
stream_new() {
	local size
	size=$(stat -c %s "$1" 2>/dev/null || echo 0)
	if [ "$size" -gt "$2" ]; then
		tail -c +$(($2 + 1)) "$1" | head -c $((size - $2))
	fi
	stream_size=$(( size > $2 ? size : $2 ))
}

# boot N: one L1 boot; console (COM1) to $log, heartbeat (COM2) to $hb.
# Sets outcome (done|hang|timeout|lockup|exit), boot_ms (QEMU start to
# LAB-INIT) and wall_ms.
boot() {
	local n=$1 t0 now size last_size=0 last_change shown=0
	local hb_size hb_last=0 hb_change="" out_shown=0 err_shown=0
	local stream_size
	log=$labdir/attempt$n.log
	hb=$labdir/attempt$n.hb
	: >"$log"
	: >"$hb"
	{ echo "$qemu ${qemu_args[*]} -serial file:$log -serial file:$hb"; } \
		>"$labdir/attempt$n.cmd"
	"$qemu" "${qemu_args[@]}" -serial "file:$log" -serial "file:$hb" \
		</dev/null >"$labdir/attempt$n.qemu" 2>&1 &
	qpid=$!
	t0=$(now_ms)
	last_change=$t0
	boot_ms=""
	outcome=""
	while :; do
		sleep 0.2
		now=$(now_ms)
		if [ -n "${boot_stream_out:-}" ]; then
			stream_new "$boot_stream_out" $out_shown
			out_shown=$stream_size
		fi
		if [ -n "${boot_stream_err:-}" ]; then
			stream_new "$boot_stream_err" $err_shown >&2
			err_shown=$stream_size
		fi
		hb_size=$(stat -c %s "$hb" 2>/dev/null || echo 0)
		if [ "$hb_size" != "$hb_last" ]; then
			hb_last=$hb_size
			hb_change=$now
		fi
		size=$(stat -c %s "$log" 2>/dev/null || echo 0)
		if [ "$size" != "$last_size" ]; then
			last_size=$size
			last_change=$now
			if [ $verbose = 1 ]; then
				tail -c +$((shown + 1)) "$log" | head -c $((size - shown)) |
					tr -d '\r' >&"${boot_console_fd:-1}"
				shown=$size
			fi
			[ -z "$boot_ms" ] && grep -aq '^LAB-INIT' "$log" &&
				boot_ms=$((now - t0))
		fi
		if ! kill -0 "$qpid" 2>/dev/null; then
			wait "$qpid"
			outcome="exit"
			break
		fi
		if grep -aq '^LAB-DONE' "$log"; then
			# /init powers off next; give QEMU a moment to exit cleanly.
			local grace=$((now + 10000))
			while kill -0 "$qpid" 2>/dev/null && [ "$(now_ms)" -lt $grace ]; do
				sleep 0.1
			done
			outcome="done"
			break
		fi
		if [ $((now - t0)) -ge $((timeout_s * 1000)) ]; then
			outcome=timeout
			break
		fi
		# Firmware and the kernel's decompressor print nothing: until
		# /init runs, only the boot limit applies. Then the heartbeat
		# counts, not the console: a hung L1 may still print (soft
		# lockup reports every few seconds). An L1 without the second
		# port (no heartbeat at all) falls back to console silence.
		if [ -n "$boot_ms" ] &&
			[ $((now - ${hb_change:-$last_change})) -ge $((idle_s * 1000)) ]; then
			outcome=hang
			break
		fi
		if [ -z "$boot_ms" ] && [ $((now - t0)) -ge $((boot_limit_s * 1000)) ]; then
			outcome=hang
			break
		fi
	done
	cleanup
	wait "$qpid" 2>/dev/null
	qpid=""
	# What L1 wrote before QEMU ended and was not shown yet.
	if [ -n "${boot_stream_out:-}" ]; then
		stream_new "$boot_stream_out" $out_shown
	fi
	if [ -n "${boot_stream_err:-}" ]; then
		stream_new "$boot_stream_err" $err_shown >&2
	fi
	wall_ms=$(( $(now_ms) - t0 ))
	if grep -aq '^LAB-DONE' "$log"; then
		outcome="done"
	elif grep -aq 'BUG: soft lockup\|Kernel panic' "$log"; then
		outcome=lockup
	fi
	tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"
}

# keep ATTEMPT: save the attempt's console, QEMU output and command line.
keep() {
	local dest
	mkdir -p "$keep_logs"
	dest=$keep_logs/${keep_prefix:-lab}-$(date +%Y%m%d-%H%M%S)-$$-attempt$1.log
	{
		echo "# ${keep_prefix:-lab} attempt $1: outcome=$outcome wall_ms=$wall_ms" \
			"${keep_note:-scenarios=${scenarios[*]}}"
		echo "# qemu: $(cat "$labdir/attempt$1.cmd")"
		echo "# qemu output:"
		sed 's/^/#   /' "$labdir/attempt$1.qemu"
		echo "# last heartbeat: $(tr -d '\r' <"$labdir/attempt$1.hb" | tail -n 1)"
		cat "$labdir/attempt$1.log"
	} >"$dest"
	kept+=("$dest")
}
