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

# min2 A B: the smaller of two figures, ignoring n/a.
min2() {
	case $1 in n/a) echo "$2"; return ;; esac
	case $2 in n/a) echo "$1"; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? a : b }'
}

# (a)-(d): cost per syscall. The cheap cases differ by tens of ns, less than
# the drift of a shared VM over a minute, so they run interleaved, ROUNDS
# times, and each keeps its best figure.
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

goal() {	# goal VALUE LIMIT
	case $1 in
	n/a) echo n/a ;;
	*) awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l) ? "met" : "missed" }' ;;
	esac
}

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

# (e): delay precision.
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
if [ -s "$tmp/err" ]; then
	echo >&2
	echo "bench: messages from the runs:" >&2
	sort -u "$tmp/err" | head -20 >&2
fi
exit 0
