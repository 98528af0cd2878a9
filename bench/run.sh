#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The seccomp backend's costs beside strace's fault injection, on the same
# workload (tests/victims/syscall_loop.c). Prints markdown tables; `make
# bench` runs it. Takes about 1.5 minutes on 2 vCPUs.
# Usage: bench/run.sh [BUILD_DIR]
#
#   (a) 1-byte reads of /dev/zero, no filter
#   (b) the same under faultgate's filter trapping read, no fault window
#       active: the supervisor answers CONTINUE at once (trapped cost);
#       once as the runner runs, once with everything pinned to CPU 0
#   (c) the same under a filter that traps only write (untrapped cost)
#   (d) strace on the same loop: -e inject=read:delay_enter=0 (every read
#       stops twice and is answered at once), and --seccomp-bpf -e trace=write
#       (strace's own filter, reads untrapped)
#   (e) delay precision: 1-byte preads of a file, each timed by the loop,
#       with a requested delay of 1, 10 and 50 ms, faultgate against strace
#       (-e inject=pread64:delay_enter=, with and without --seccomp-bpf)
#   (f) idle cost of the LD_PRELOAD shim beside libfiu's fiu-run
#   (g) the sampler's CPU overhead on the target
#   (h) one live GOMAXPROCS change in a busy and an idle Go service
#       (tests/victims/fg-gocall; GOCALL_N calls)
#   (i) ptrace: inject + detach, and freeze stop latency
#   (j) ptrace slow-io window on a running process, beside strace -p
#
# BENCH_ONLY=LETTERS runs only those sections (a to d go together), e.g.
# BENCH_ONLY=h bench/run.sh build
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in
/*) ;;
*) build=$root/$build ;;
esac
loop=$build/victims/syscall_loop
bn=$build/bench/bench_notify
ZERO_N=${ZERO_N:-1000000}	# reads per repetition, untrapped cases
TRAP_N=${TRAP_N:-100000}	# reads per repetition, trapped by faultgate
STRACE_N=${STRACE_N:-20000}	# reads per repetition, stopped by strace
REPS=${REPS:-7}
ROUNDS=${ROUNDS:-3}	# interleaved rounds of the untrapped cases

if [ ! -x "$loop" ]; then
	echo "bench: $loop is missing; run 'make' first" >&2
	exit 2
fi
have_bn=1
if [ ! -x "$bn" ]; then
	echo "bench: $bn is missing: faultgate rows are n/a" >&2
	have_bn=0
fi
have_strace=1
command -v strace >/dev/null || have_strace=0

tmp=$(mktemp -d /tmp/fg-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf x >"$tmp/one"

# field KEY: the value of KEY=VALUE in the loop's result line on stdin.
field() {
	awk -v k="$1" '$1 == "zero" || $1 == "file" {
		for (i = 2; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == k) { print kv[2]; exit }
		}
	}'
}

# ns_per_read CMD...: best ns per read over REPS repetitions, or n/a.
ns_per_read() {
	local out
	out=$("$@" 2>>"$tmp/err") || { echo n/a; return; }
	v=$(field best_ns <<<"$out")
	echo "${v:-n/a}"
}

# delay_run REQ_MS N CMD...: "p50_ms p99_ms" of N timed preads.
delay_run() {
	local out p50 p99
	shift
	out=$("$@" 2>>"$tmp/err") || { echo "n/a n/a"; return; }
	p50=$(field p50_us <<<"$out")
	p99=$(field p99_us <<<"$out")
	awk -v a="$p50" -v b="$p99" 'BEGIN {
		if (a == "" || b == "") print "n/a n/a"; else printf "%.3f %.3f\n", a / 1e3, b / 1e3 }'
}

# calc EXPR: awk arithmetic, n/a if any operand is n/a.
calc() {
	case $* in
	*n/a*) echo n/a ;;
	*) awk "BEGIN { printf \"%.${2:-0}f\", ($1) }" ;;
	esac
}

echo "bench: $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
	"$(date -u +%Y-%m-%dT%H:%MZ)" >&2

# want LETTERS: whether a section runs; BENCH_ONLY=h runs (h) alone.
want() {
	[ -z "${BENCH_ONLY:-}" ] || [[ $1 == *["$BENCH_ONLY"]* ]]
}

# goal VALUE LIMIT: met or missed
goal() {
	case $1 in
	n/a) echo n/a ;;
	*) awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l) ? "met" : "missed" }' ;;
	esac
}

# min2 A B: the smaller of two figures, ignoring n/a.
min2() {
	case $1 in n/a) echo "$2"; return ;; esac
	case $2 in n/a) echo "$1"; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? a : b }'
}

# (a)-(d): cost per syscall. The cheap cases differ by tens of ns, less than
# the drift of a shared VM over a minute, so they run interleaved, ROUNDS
# times, and each keeps its best figure.
if want abcd; then
	a=n/a b=n/a c=n/a sb=n/a sc=n/a
	for _ in $(seq "$ROUNDS"); do
		a=$(min2 "$a" "$(ns_per_read "$loop" -r "$REPS" zero "$ZERO_N")")
		if [ $have_bn -eq 1 ]; then
			c=$(min2 "$c" "$(ns_per_read "$bn" -t write -- "$loop" -r "$REPS" zero "$ZERO_N")")
		fi
		if [ $have_strace -eq 1 ]; then
			sc=$(min2 "$sc" "$(ns_per_read strace -f -o /dev/null --seccomp-bpf -e trace=write \
				"$loop" -r "$REPS" zero "$ZERO_N")")
		fi
	done
	bp=n/a
	if [ $have_bn -eq 1 ]; then
		b=$(ns_per_read "$bn" -t read -- "$loop" -r "$REPS" zero "$TRAP_N")
		# The same with the supervisor and the loop on one CPU: the wake-up
		# needs no inter-processor interrupt.
		if command -v taskset >/dev/null; then
			bp=$(ns_per_read taskset -c 0 "$bn" -t read -- "$loop" -r "$REPS" zero "$TRAP_N")
		fi
	fi
	if [ $have_strace -eq 1 ]; then
		sb=$(ns_per_read strace -f -o /dev/null -e trace=read -e inject=read:delay_enter=0 \
			"$loop" -r 3 zero "$STRACE_N")
	fi
	xbp=$(calc "$bp - $a")
	xb=$(calc "$b - $a") xc=$(calc "$c > $a ? $c - $a : 0")
	xsb=$(calc "$sb - $a") xsc=$(calc "$sc > $a ? $sc - $a : 0")

	echo
	echo "### Cost per 1-byte read of /dev/zero (ns, best of $REPS repetitions x $ROUNDS rounds)"
	echo
	echo "| Case | faultgate ns/read | extra | goal | strace ns/read | strace extra | faultgate/strace |"
	echo "|---|---|---|---|---|---|---|"
	echo "| (a) no filter | $a | | | $a | | |"
	echo "| (b) read trapped, answered at once | $b | $xb | <= 3000 ns: $(goal "$xb" 3000)" \
		"| $sb | $xsb | $(calc "$xb / $xsb" 3) |"
	echo "| (b) same, supervisor and loop pinned to one CPU | $bp | $xbp |" \
		"<= 3000 ns: $(goal "$xbp" 3000) | | | |"
	echo "| (c) untrapped read under the filter | $c | $xc | <= 60 ns: $(goal "$xc" 60)" \
		"| $sc | $xsc | $(calc "$xsc > 0 ? $xc / $xsc : 0" 2) |"
fi

# (e): delay precision.
if want e; then
	echo
	echo "### Delay precision: requested vs achieved per 1-byte pread, in ms"
	echo
	echo "| Requested | tool | n | p50 | p99 | error p50 | error p99 | error p99 / strace's |" \
		"goal: error p99 <= 0.5 ms |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for ms in 1 10 50; do
		case $ms in	# about 1, 3 and 5 s of delays per tool
		1) n=1000 ;;
		10) n=300 ;;
		*) n=100 ;;
		esac
		us=$((ms * 1000))
		fg="n/a n/a" st="n/a n/a" sts="n/a n/a"
		if [ $have_bn -eq 1 ]; then
			fg=$(delay_run "$ms" "$bn" -t read -f files -d "$us" -a -- \
				"$loop" file "$tmp/one" "$n")
		fi
		if [ $have_strace -eq 1 ]; then
			st=$(delay_run "$ms" strace -f -o /dev/null -e trace=pread64 \
				-e inject=pread64:delay_enter="$us" "$loop" file "$tmp/one" "$n")
			sts=$(delay_run "$ms" strace -f -o /dev/null --seccomp-bpf -e trace=pread64 \
				-e inject=pread64:delay_enter="$us" "$loop" file "$tmp/one" "$n")
		fi
		read -r _ st99 <<<"$st"
		st_e99=$(calc "$st99 - $ms" 3)
		for row in "faultgate|$fg" "strace|$st" "strace --seccomp-bpf|$sts"; do
			tool=${row%%|*}
			read -r p50 p99 <<<"${row#*|}"
			e50=$(calc "$p50 - $ms" 3)
			e99=$(calc "$p99 - $ms" 3)
			ratio='' g=''
			if [ "$tool" = faultgate ]; then
				ratio=$(calc "$e99 / $st_e99" 2)
				g=$(goal "$e99" 0.5)
			fi
			echo "| $ms ms | $tool | $n | $p50 | $p99 | $e50 | $e99 | $ratio | $g |"
		done
	done
fi
# (f): idle cost of the preload shim: loaded, nothing armed (a control
# block with no armed slot), against no shim and libfiu's fiu-run -x with no
# failpoint enabled. fwrite of 1 byte into a buffered stream makes no
# syscall, so the wrapper's cost is not lost in the kernel's; 1-byte reads
# of /dev/zero show the same on a syscall. Interleaved rounds, best figure.
if want f; then
	bp_bin=$build/bench/bench_preload
	shim=$build/lib/libfaultgate-preload.so
	PRE_N=${PRE_N:-20000000}
	if [ -x "$bp_bin" ] && [ -r "$shim" ]; then
		blk=$tmp/ctl-block	# magic/version/size of injector/control.h, nothing armed
		"$bp_bin" -mkblock "$blk" 2>>"$tmp/err" || blk=""
		have_fiu=1
		command -v fiu-run >/dev/null || have_fiu=0
		fw_field() { awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "=");
			if (kv[1] == "best_ns") print kv[2] } }'; }
		fw() { local o; o=$("$@" 2>>"$tmp/err") || { echo n/a; return; }
			v=$(fw_field <<<"$o"); echo "${v:-n/a}"; }
		pw0=n/a pw1=n/a pw2=n/a pr0=n/a pr1=n/a pr2=n/a
		for _ in $(seq "$ROUNDS"); do
			pw0=$(min2 "$pw0" "$(fw "$bp_bin" -r "$REPS" "$PRE_N")")
			pw1=$(min2 "$pw1" "$(fw env LD_PRELOAD="$shim" FAULTGATE_CONTROL="$blk" \
				"$bp_bin" -r "$REPS" "$PRE_N")")
			pr0=$(min2 "$pr0" "$(ns_per_read "$loop" -r "$REPS" zero "$ZERO_N")")
			pr1=$(min2 "$pr1" "$(ns_per_read env LD_PRELOAD="$shim" FAULTGATE_CONTROL="$blk" \
				"$loop" -r "$REPS" zero "$ZERO_N")")
			if [ $have_fiu -eq 1 ]; then
				pw2=$(min2 "$pw2" "$(fw fiu-run -x "$bp_bin" -r "$REPS" "$PRE_N")")
				pr2=$(min2 "$pr2" "$(ns_per_read fiu-run -x "$loop" -r "$REPS" zero \
					"$ZERO_N")")
			fi
		done
		xw1=$(calc "$pw1 - $pw0" 2) xw2=$(calc "$pw2 - $pw0" 2)
		xr1=$(calc "$pr1 - $pr0" 2) xr2=$(calc "$pr2 - $pr0" 2)
		echo
		echo "### Preload shim idle cost per wrapped call (ns, best of $REPS x $ROUNDS rounds)"
		echo
		echo "| Call | no shim | faultgate shim, nothing armed | extra | goal | fiu-run -x, no failpoint" \
			"| extra | faultgate extra / fiu extra |"
		echo "|---|---|---|---|---|---|---|---|"
		echo "| fwrite 1 byte, buffered (no syscall) | $pw0 | $pw1 | $xw1 |" \
			"<= 1 ns: $(goal "$(calc "$xw1 < 0 ? 0 : $xw1" 2)" 1) | $pw2 | $xw2 |" \
			"$(calc "$xw2 > 0 ? ($xw1 < 0 ? 0 : $xw1) / $xw2 : 0" 3) |"
		echo "| read 1 byte of /dev/zero | $pr0 | $pr1 | $xr1 |" \
			"<= 1 ns: $(goal "$(calc "$xr1 < 0 ? 0 : $xr1" 2)" 1) | $pr2 | $xr2 |" \
			"$(calc "$xr2 > 0 ? ($xr1 < 0 ? 0 : $xr1) / $xr2 : 0" 3) |"
	else
		echo "bench: $bp_bin or $shim is missing: preload rows skipped" >&2
	fi
fi
# (g) Sampling overhead on the target: CPU time (utime + stime from
# /proc/PID/stat) of an idle Go service with about 20 threads over SAMPLE_S
# seconds, alone and under `faultgate run` sampling every 100 ms and 10 ms
# (no load, no fault), and the runner's own CPU over the same span.
if want g; then
	svc=$build/victims/fg-svc
	fg=$build/bin/faultgate
	SAMPLE_S=${SAMPLE_S:-10}
	tck=$(getconf CLK_TCK)
	# cpu_ms PID: utime + stime in ms.
	cpu_ms() {
		awk -v t="$tck" '{ sub(/.*\) /, ""); print ($12 + $13) * 1000 / t }' "/proc/$1/stat"
	}
	# warm PORT: 24 parallel /cpu requests so GOMAXPROCS=24 starts its threads.
	warm() {
		local c=()
		for _ in $(seq 24); do
			curl -s -o /dev/null "http://127.0.0.1:$1/cpu" &
			c+=($!)
		done
		wait "${c[@]}"
	}
	# measure PORT PID [RUNNER]: "target_ms runner_ms threads" over SAMPLE_S.
	measure() {
		local a b ra=0 rb=0 th
		a=$(cpu_ms "$2")
		[ -n "${3:-}" ] && ra=$(cpu_ms "$3")
		sleep "$SAMPLE_S"
		b=$(cpu_ms "$2")
		[ -n "${3:-}" ] && rb=$(cpu_ms "$3")
		th=$(awk '/^Threads:/ { print $2 }' "/proc/$2/status")
		echo "$(calc "$b - $a" 1) $(calc "$rb - $ra" 1) $th"
	}
	if [ -x "$svc" ] && [ -x "$fg" ]; then
		port=$((30000 + RANDOM % 20000))
		GOMAXPROCS=24 "$svc" -addr "127.0.0.1:$port" -file "$tmp/one" -cpu-work 3000000 \
			>/dev/null 2>&1 &
		pid=$!
		sleep 0.5
		warm "$port"
		read -r alone_t _ alone_th < <(measure "$port" "$pid")
		kill "$pid"
		wait "$pid" 2>/dev/null
		rows=()
		for iv in 100ms 10ms; do
			port=$((30000 + RANDOM % 20000))
			cat >"$tmp/sample.yaml" <<YAML
version: 1
name: bench-sampler
target:
  command: [$svc, -addr, "127.0.0.1:$port", -file, $tmp/one, -cpu-work, "3000000"]
  env: { GOMAXPROCS: "24" }
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
phases: { baseline: $((SAMPLE_S + 3))s, fault: 1s, recovery: 1s }
YAML
			"$fg" run "$tmp/sample.yaml" --report-dir "$tmp/sample-out" --no-progress -q \
				--sample-interval "$iv" 2>>"$tmp/err" &
			runner=$!
			pid=""
			for _ in $(seq 100); do
				pid=$(pgrep -f "fg-svc -addr 127.0.0.1:$port" | head -1)
				[ -n "$pid" ] && curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break
				sleep 0.1
			done
			warm "$port"
			rows+=("$iv $(measure "$port" "$pid" "$runner")")
			wait "$runner"
		done
		echo
		echo "### Sampling overhead on the target (CPU ms over ${SAMPLE_S} s, idle Go service)"
		echo
		echo "| Sampler | threads | target CPU ms | target CPU % | extra vs alone (% of a CPU) | goal | runner CPU % |"
		echo "|---|---|---|---|---|---|---|"
		echo "| none (target alone) | $alone_th | $alone_t | $(calc "$alone_t / ($SAMPLE_S * 10)" 3) | - | - | - |"
		for row in "${rows[@]}"; do
			read -r iv t r th <<<"$row"
			extra=$(calc "($t - $alone_t) / ($SAMPLE_S * 10)" 3)
			g=-
			[ "$iv" = 100ms ] && g="< 1%: $(goal "$extra" 1)"
			echo "| every $iv | $th | $t | $(calc "$t / ($SAMPLE_S * 10)" 3) | $extra | $g |" \
				"$(calc "$r / ($SAMPLE_S * 10)" 2) |"
		done
	else
		echo "bench: $svc or $fg is missing: sampling rows skipped" >&2
	fi
fi
# (h) one live GOMAXPROCS change (debugCallV2) in a running Go service, as
# fg-gocall times it (attach to detach): busy = two goroutines computing and
# allocating plus a request stream, idle = only a 100 ms ticker (the call
# goes through a temporary breakpoint on a parked goroutine's return site).
if want h; then
	gocall=$build/victims/fg-gocall
	gosvc=$build/victims/fg-gosvc
	GOCALL_N=${GOCALL_N:-20}
	# gocall_times PID: GOCALL_N calls alternating 1 and 2; "p50 p90 max fails"
	gocall_times() {
		local out fails=0
		: >"$tmp/gocall"
		for i in $(seq "$GOCALL_N"); do
			out=$("$gocall" "$1" $((i % 2 + 1)) 3000 2>>"$tmp/err")
			case $out in
			prev=*) sed -n 's/.* ms=\([0-9.]*\) .*/\1/p' <<<"$out" >>"$tmp/gocall" ;;
			*) fails=$((fails + 1)) ;;
			esac
		done
		sort -n "$tmp/gocall" | awk -v f="$fails" '{ a[NR] = $1 } END {
			if (!NR) { print "n/a n/a n/a " f; exit }
			printf "%.1f %.1f %.1f %d\n", a[int((NR + 1) / 2)], a[int(NR * 0.9 + 0.5)], a[NR], f }'
	}
	if [ -x "$gocall" ] && [ -x "$gosvc" ]; then
		echo
		echo "### Live GOMAXPROCS change: time of one call, attach to detach (ms, $GOCALL_N calls)"
		echo
		echo "| Service | p50 | p90 | max | failed | goal |"
		echo "|---|---|---|---|---|---|"
		for mode in busy idle; do
			port=$((30000 + RANDOM % 20000))
			if [ "$mode" = busy ]; then
				"$gosvc" -addr "127.0.0.1:$port" -busy 2 >/dev/null 2>&1 &
			else
				"$gosvc" -addr "127.0.0.1:$port" -tick 100ms >/dev/null 2>&1 &
			fi
			pid=$!
			sleep 0.5
			side=
			if [ "$mode" = busy ]; then
				(while :; do curl -s -o /dev/null "http://127.0.0.1:$port/cpu"; done) &
				side=$!
			fi
			read -r p50 p90 max fails < <(gocall_times "$pid")
			[ -n "$side" ] && { kill "$side"; wait "$side" 2>/dev/null; }
			kill "$pid"
			wait "$pid" 2>/dev/null
			if [ "$mode" = busy ]; then
				echo "| busy (2 churning goroutines + requests) | $p50 | $p90 | $max | $fails |" \
					"p50 <= 50 ms: $(goal "$p50" 50) |"
			else
				echo "| idle (100 ms ticker only) | $p50 | $p90 | $max | $fails |" \
					"max <= 1000 ms: $(goal "$max" 1000) |"
			fi
		done
	else
		echo "bench: $gocall or $gosvc is missing: GOMAXPROCS rows skipped" >&2
	fi
fi
# (i) ptrace helpers on a 50-thread process (bench/bench_ptrace.c): attach +
# inject mmap(4 MiB, MAP_POPULATE) + munmap + detach on an idle thread, and
# the stop latency of a freeze (seize + interrupt of a thread spinning in
# user code until it is stopped). p50 and max over 20 rounds.
if want i; then
	bp=$build/bench/bench_ptrace
	echo
	echo "### ptrace: inject and freeze costs"
	echo
	if [ -x "$bp" ]; then
		"$bp" 20
	else
		echo "bench: $bp is missing: ptrace rows skipped" >&2
	fi
fi

# (j) ptrace slow-io inside the window, on a process already running: the
# loop's 1-byte reads of /dev/zero are traced but not faulted (the fault
# names writes), which is what every syscall of the target pays while a
# ptrace slow-io window is open. Beside strace -p with an inject rule on
# writes: strace cannot use seccomp on a process it attaches to either.
if want j; then
	echo
	echo "### ptrace slow-io window on a running process, beside strace -p"
	echo
	loop=$build/victims/syscall_loop
	fg=$build/bin/faultgate
	if [ -x "$loop" ] && [ -x "$fg" ] && command -v strace >/dev/null; then
		pt_run() {	# pt_run LABEL CMD...: ns per read while CMD traces the loop
			local p t
			"$loop" -s 1500 -r 3 zero 100000 >"$tmp/pt.out" &
			p=$!
			sleep 0.3
			"$@" "$p" >>"$tmp/err" 2>&1 &
			t=$!
			wait "$p"
			kill -INT "$t" 2>/dev/null
			wait "$t" 2>/dev/null
			awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^best_ns=/) { sub(/best_ns=/, "", $i); print $i } }' \
				"$tmp/pt.out"
		}
		fg_inject() {
			(cd "$tmp" && timeout 60 "$fg" inject slow-io --pid "$1" syscalls=write \
				fds=sockets delay=10ms --for 30s)
		}
		st_inject() {
			timeout 60 strace -q -p "$1" -e trace=write \
				-e inject=write:delay_enter=10000 -o /dev/null
		}
		plain() { :; }
		base=$(pt_run plain)
		ours=$(pt_run fg_inject)
		theirs=$(pt_run st_inject)
		echo "| Case | ns per read | extra | ratio to strace |"
		echo "|---|---|---|---|"
		echo "| no tracer | $base | | |"
		awk -v b="$base" -v o="$ours" -v t="$theirs" 'BEGIN {
			printf "| faultgate slow-io window (ptrace), reads not faulted | %d | %d | %.2f |\n",
				o, o - b, ((t - b) > 0 ? (o - b) / (t - b) : 0)
			printf "| strace -p -e inject=write:delay_enter | %d | %d | |\n", t, t - b }'
	else
		echo "bench: syscall_loop, faultgate or strace missing: ptrace window rows skipped" >&2
	fi

	if [ -s "$tmp/err" ]; then
		echo >&2
		echo "bench: messages from the runs:" >&2
		sort -u "$tmp/err" | head -20 >&2
	fi
	exit 0
fi
