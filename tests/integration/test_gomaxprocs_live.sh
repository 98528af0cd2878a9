#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Live GOMAXPROCS calls (debugCallV2) on running Go 1.19 services in four
# shapes (static, stripped, PIE, cgo), busy (two goroutines computing and
# allocating, plus a steady request stream): 40 consecutive changes
# alternating 1 and 2 must all succeed, the previous value returned by each
# call must be the one set before, the service's own /procs
# (runtime.GOMAXPROCS(0)) must read the new value every time, and every
# request sent meanwhile must be answered. Idle (a 100 ms ticker only, no
# thread in user code): the same 40 changes, each entered through a
# temporary breakpoint on a parked goroutine's return site. Churn (one OS
# thread ended and another started every 5 ms): the same 40 changes while
# threads come and go under the tracer, and no tracer is left behind.
# With GODEBUG=asyncpreemptoff=1, two goroutines looping without preemption
# points make a call refused with nothing changed; one is served.
# Signals (idle, and a SIGUSR1 every 20 ms): the same 40 changes, and every
# signal sent meanwhile reaches the service.
# shellcheck source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
gocall=$FG_VICTIMS/fg-gocall
[ -x "$gocall" ] || it_fatal "$gocall is not built"
tracer=$(awk '/TracerPid/ { print $2 }' /proc/self/status)
[ "$tracer" = 0 ] || it_skip "this test runs under a tracer (pid $tracer)"
N=${FG_GOMAXPROCS_CHANGES:-40}
it_report=/dev/null

# one SHAPE MODE: N changes against a fresh service
one() {
	local bin=$FG_VICTIMS/$1 mode=$2 port pid out v prev=2 side ok=0 fails=0 sent trig t
	port=$(it_free_port)
	case $mode in
	busy) "$bin" -addr "127.0.0.1:$port" -busy 2 >"$it_tmp/$1-$2.log" 2>&1 & ;;
	idle) "$bin" -addr "127.0.0.1:$port" -tick 100ms >"$it_tmp/$1-$2.log" 2>&1 & ;;
	churn) "$bin" -addr "127.0.0.1:$port" -churn 5ms >"$it_tmp/$1-$2.log" 2>&1 & ;;
	signals) "$bin" -addr "127.0.0.1:$port" -tick 100ms -sigusr1 >"$it_tmp/$1-$2.log" 2>&1 & ;;
	esac
	pid=$!
	it_track $pid
	it_wait_http "http://127.0.0.1:$port/healthz" || it_fatal "$1 did not come up"
	side=
	if [ "$mode" = signals ]; then
		# a SIGUSR1 every 20 ms while the calls go on: each one passes
		# through the tracer during a call and must still arrive
		touch "$it_tmp/run-$1"
		(
			n=0
			while [ -e "$it_tmp/run-$1" ] && kill -USR1 "$pid" 2>/dev/null; do
				n=$((n + 1))
				sleep 0.02
			done
			echo "$n" >"$it_tmp/side-$1"
		) &
		side=$!
	fi
	if [ "$mode" = busy ]; then
		# a request stream that must be answered throughout
		touch "$it_tmp/run-$1"
		(
			n=0 bad=0
			while [ -e "$it_tmp/run-$1" ]; do
				curl -fs --max-time 5 -o /dev/null "http://127.0.0.1:$port/healthz" ||
					bad=$((bad + 1))
				n=$((n + 1))
			done
			echo "$n $bad" >"$it_tmp/side-$1"
		) &
		side=$!
	fi
	for i in $(seq "$N"); do
		v=$((i % 2 == 1 ? 1 : 2))
		out=$("$gocall" "$pid" "$v" 3000)
		echo "$out" >>"$it_tmp/calls-$1-$2"
		case $out in
		"prev=$prev "*) ;;
		*)
			fails=$((fails + 1))
			echo "$it_name: $1 $mode call $i ($v): $out" >&2
			;;
		esac
		got=$(curl -fs --max-time 5 "http://127.0.0.1:$port/procs")
		t=$(awk '/^TracerPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ "${t:-0}" = 0 ] || { fails=$((fails + 1)) && echo "$it_name: $1 $mode call $i: still traced by $t" >&2; }
		if [ "$got" = "$v" ]; then
			ok=$((ok + 1))
		else
			echo "$it_name: $1 $mode call $i: /procs says '$got', want $v" >&2
		fi
		prev=$v
	done
	if [ -n "$side" ]; then
		rm -f "$it_tmp/run-$1"
		wait "$side"
		read -r sent bad <"$it_tmp/side-$1"
	fi
	if [ "$mode" = busy ]; then
		it_check "$1 $mode: every request answered" "$bad == 0 && $sent > 0" \
			"$sent sent, $bad failed"
	fi
	if [ "$mode" = signals ]; then
		for _ in $(seq 20); do
			[ "$(grep -c '^sigusr1 ' "$it_tmp/$1-$2.log")" -ge "$sent" ] && break
			sleep 0.1
		done
		got=$(grep -c '^sigusr1 ' "$it_tmp/$1-$2.log")
		it_check "$1 $mode: every SIGUSR1 sent during the calls arrived" \
			"$got == $sent && $sent > 0" "$sent sent, $got received"
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		# How it died (a Go runtime prints the fatal signal): keep it in
		# the test's output, the temp dir goes away.
		wait "$pid" 2>/dev/null
		st=$?
		it_check_fail "$1 $mode: service alive" \
			"it exited with status $st; its last lines: $(tail -n 5 "$it_tmp/$1-$2.log" | tr '\n' '|')"
	fi
	ms=$(sed -n 's/.* ms=\([0-9.]*\) .*/\1/p' "$it_tmp/calls-$1-$2" | sort -n |
		awk '{ a[NR] = $1 } END { printf "median %.1f ms, max %.1f ms", a[int((NR+1)/2)], a[NR] }')
	it_check "$1 $mode: $N calls succeed and /procs matches" "$fails == 0 && $ok == $N" \
		"$fails failed, $ok of $N read back; $ms"
	if [ "$mode" = idle ]; then
		# the path under test: nothing runs user code, so the calls
		# must have gone through the temporary breakpoint
		trig=$(grep -c ' trigger=1 ' "$it_tmp/calls-$1-$2")
		it_check "$1 idle: calls entered through the temporary breakpoint" \
			"$trig * 2 >= $N" "$trig of $N"
	fi
	kill "$pid"
}

# spin_call N: a GOMAXPROCS=3 service with asyncpreemptoff=1 and N
# goroutines looping without preemption points is asked for 2; sets out
# (the call's answer) and got (its /procs afterwards)
spin_call() {
	local port pid
	port=$(it_free_port)
	GOMAXPROCS=3 GODEBUG=asyncpreemptoff=1 "$FG_VICTIMS/fg-gosvc" -addr "127.0.0.1:$port" \
		-spin "$1" -tick 50ms >"$it_tmp/spin$1.log" 2>&1 &
	pid=$!
	it_track $pid
	it_wait_http "http://127.0.0.1:$port/healthz" || it_fatal "spinning fg-gosvc did not come up"
	out=$("$gocall" "$pid" 2 2000)
	got=$(curl -fs --max-time 3 "http://127.0.0.1:$port/procs")
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
}

# refusals: they must change nothing
refusals() {
	local pid out got
	spin_call 2
	it_check "asyncpreemptoff=1 with 2 spinning goroutines: refused, nothing changed" \
		"$(grep -c 'nothing was changed' <<<"$out") == 1 && ${got:-0} == 3" \
		"$out; /procs=$got"
	# one such goroutine: the call is made on it (it parks during the call)
	spin_call 1
	it_check "asyncpreemptoff=1 with 1 spinning goroutine: served" \
		"$(grep -c '^prev=3 ' <<<"$out") == 1 && ${got:-0} == 2" "$out; /procs=$got"
	sleep 30 &
	pid=$!
	it_track $pid
	out=$("$gocall" "$pid" 1 1000)
	it_check "a C process is refused" "$(grep -c 'not a Go program' <<<"$out") == 1" "$out"
}
refusals

for shape in fg-gosvc fg-gosvc-strip fg-gosvc-pie fg-gosvc-cgo; do
	[ -x "$FG_VICTIMS/$shape" ] || it_fatal "$shape is not built"
	one "$shape" busy
	one "$shape" idle
done
one fg-gosvc churn
one fg-gosvc signals
it_finish
