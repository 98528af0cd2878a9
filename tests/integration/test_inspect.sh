#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# faultgate inspect: on fg-gosvc under load (static and stripped builds) the
# table has every row and --json parses with GOMAXPROCS equal to what the
# service itself reports, a goroutine count at least its own whose states
# add up to it, the syscalls idle threads wait in, and context switches
# summed over the threads; on a C
# process the non-Go rows are there and it says the process is not Go. The
# target is not stopped or changed: its TracerPid stays 0.
# shellcheck source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
command -v jq >/dev/null || it_skip "jq is not installed"
[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
it_report=/dev/null

for shape in fg-gosvc fg-gosvc-strip; do
	port=$(it_free_port)
	GOMAXPROCS=2 "$FG_VICTIMS/$shape" -addr "127.0.0.1:$port" -busy 1 \
		>"$it_tmp/$shape.log" 2>&1 &
	pid=$!
	it_track $pid
	it_wait_http "http://127.0.0.1:$port/healthz" || it_fatal "$shape did not come up"
	(for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/cpu"; done) &
	loader=$!
	"$FAULTGATE" inspect "$pid" >"$it_tmp/$shape.txt" || it_check_fail "$shape: inspect" "exit $?"
	missing=
	for row in process go gomaxprocs goroutines threads rss ctxsw TID; do
		grep -q "^ *$row " "$it_tmp/$shape.txt" || missing="$missing $row"
	done
	grep -q "unknown" "$it_tmp/$shape.txt" && missing="$missing (a value is unknown)"
	it_check "$shape: every row printed" "$(wc -c <<<"$missing") <= 1" "missing:${missing:- none}"
	"$FAULTGATE" inspect "$pid" --json >"$it_tmp/$shape.json"
	g=$(jq -r '.go.gomaxprocs' "$it_tmp/$shape.json")
	n=$(jq -r '.go.goroutines' "$it_tmp/$shape.json")
	t=$(jq -r '.thread_list | length' "$it_tmp/$shape.json")
	own=$(curl -fs "http://127.0.0.1:$port/goroutines")
	it_check "$shape: --json parses, GOMAXPROCS 2, goroutines >= the service's own" \
		"$g == 2 && $n >= $own && $t >= 1" "gomaxprocs=$g goroutines=$n (own $own) threads=$t"
	st=$(jq -r '.go.goroutine_states | .running + .runnable + .syscall + .waiting' \
		"$it_tmp/$shape.json")
	it_check "$shape: goroutines by state add up to the count" "$st == $n" \
		"states sum $st, goroutines $n"
	sc=$(jq -r '[.thread_list[].syscall | select(. == "futex" or . == "epoll_pwait"
		or . == "nanosleep")] | length' "$it_tmp/$shape.json")
	cs=$(jq -r '[.thread_list[].ctx_voluntary] | add == '"$(jq .ctx_voluntary "$it_tmp/$shape.json")" \
		"$it_tmp/$shape.json")
	it_check "$shape: threads parked in futex/epoll/nanosleep are named" "$sc >= 1" \
		"$sc threads; $(grep -c futex "$it_tmp/$shape.txt") futex rows in the table"
	it_check "$shape: context switches are the sum over the threads" "$cs == true" "$cs"
	tp=$(awk '/TracerPid/ { print $2 }' "/proc/$pid/status")
	it_check "$shape: not traced afterwards" "$tp == 0" "TracerPid=$tp"
	wait "$loader"
	kill "$pid"
done

sleep 30 &
c=$!
it_track $c
"$FAULTGATE" inspect "$c" >"$it_tmp/c.txt"
it_check "C process: says it is not Go, prints the other rows" \
	"$(grep -c 'not a Go program' "$it_tmp/c.txt") == 1 && $(grep -c '^threads ' "$it_tmp/c.txt") == 1" \
	"$(head -3 "$it_tmp/c.txt" | tr '\n' '|')"
j=$("$FAULTGATE" inspect "$c" --json | jq -r '.is_go, .go, .threads' | tr '\n' ' ')
it_check "C process: --json has is_go false" "$(grep -c '^false null 1' <<<"$j") == 1" "$j"
"$FAULTGATE" inspect 999999999 >/dev/null 2>&1
it_check "a missing pid exits 2" "$? == 2" "exit code"
it_finish
