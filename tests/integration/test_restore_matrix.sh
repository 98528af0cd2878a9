#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The restoration matrix on a running service (fg-svc, started here, not by
# faultgate): after a normal end, SIGINT, SIGTERM, a SIGKILL of the runner
# mid-leak and mid-freeze (the guardian's work), and a double crash of runner
# and guardian followed by `faultgate recover`, the service has no tracer,
# every thread's original affinity, its RSS back, and it answers. The target
# killed mid-fault gives a report with verdict fail and exit 1.
. "$(dirname "$0")/lib-runs.sh"
. "$(dirname "$0")/lib-attach.sh"

it_require_attach
it_start_svc
it_report=/dev/null

# What this build can do on a running process; the rest is skipped.
pin="  - { kind: pin-threads, cpus: [0] }"
leak="  - { kind: mem-leak, rate: 64MiB/s, limit: 64MiB }"
freeze="  - { kind: freeze-thread, pick: busiest, hold: 300ms, every: 600ms }"
faults=""
for f in "$pin" "$leak"; do
	if it_fault_built "$(echo "$f" | sed 's/^ *- { \(.*\) }$/\1/')"; then
		faults+="$f"$'\n'
	else
		echo "# $it_name: not in this build: $f"
	fi
done
have_freeze=0
it_fault_built "kind: freeze-thread, hold: 300ms" && have_freeze=1
[ -n "$faults" ] || it_skip "neither pin-threads nor mem-leak works on a running process here"

# run_bg NAME FAULTS: a run in the background; sets runner.
run_bg() {
	it_playbook "$it_tmp/$1.yaml" "$2"
	"$FAULTGATE" run "$it_tmp/$1.yaml" --report-dir "$it_tmp/$1" --no-progress \
		>"$it_tmp/$1.console" 2>&1 &
	runner=$!
}

# wait_runner: rc = the runner's exit code (a job of this shell, so no
# command substitution around the wait).
wait_runner() {
	rc=0
	wait "$runner" || rc=$?
}

# 1. normal end
it_snapshot
run_bg normal "$faults"
wait_runner
it_check "normal: exit 0" "$rc == 0" "exit $rc, $(tail -3 "$it_tmp/normal.console" | tr '\n' '|')"
it_restored normal

# 2-3. SIGINT and SIGTERM in the fault window
for sig in INT TERM; do
	it_snapshot
	run_bg "sig$sig" "$faults"
	sleep 2.5
	kill -"$sig" "$runner"
	wait_runner
	it_check "SIG$sig: exit 1 (aborted)" "$rc == 1" "exit $rc"
	it_check "SIG$sig: report says aborted" \
		"\"$(jq -r .verdict "$it_tmp/sig$sig/report.json")\" == \"aborted\"" \
		"$(jq -r .verdict "$it_tmp/sig$sig/report.json")"
	it_restored "SIG$sig"
done

# 4. runner SIGKILL mid-leak: the guardian reverts
it_snapshot
run_bg kill-leak "$faults"
sleep 2.5
guardian=$(it_guardian_of "$runner")
it_check "kill-leak: a guardian runs" "\"$guardian\" != \"\"" "children: $(pgrep -P "$runner" | tr '\n' ' ')"
kill -KILL "$runner"
wait "$runner" 2>/dev/null
it_restored kill-leak 50
for _ in $(seq 50); do
	kill -0 "$guardian" 2>/dev/null || break
	sleep 0.1
done
[ -n "$guardian" ] && ! kill -0 "$guardian" 2>/dev/null
it_check "kill-leak: the guardian ended after its work" "$? == 0" "guardian $guardian"

# 5. runner SIGKILL mid-freeze: the kernel releases the thread
if [ "$have_freeze" = 1 ]; then
	it_snapshot
	run_bg kill-freeze "$freeze"
	sleep 2.2
	kill -KILL "$runner"
	wait "$runner" 2>/dev/null
	it_restored kill-freeze 50
else
	echo "# $it_name: freeze-thread is not in this build; mid-freeze SIGKILL not run"
fi

# 6. double crash: runner and guardian killed together, then recover
it_snapshot
run_bg double "$faults"
sleep 2.5
guardian=$(it_guardian_of "$runner")
kill -KILL "$runner" $guardian
wait "$runner" 2>/dev/null
sleep 0.3
if echo "$faults" | grep -q pin-threads; then
	bad=$(it_masks "$svc_pid" | awk -v m="$snap_mask" '$2 != m' | wc -l)
	it_check "double: masks still pinned before recover" "$bad > 0" "$bad threads differ"
fi
"$FAULTGATE" recover >"$it_tmp/recover.out" 2>&1
rc=$?
it_check "recover: exit 0" "$rc == 0" "exit $rc: $(tr '\n' '|' <"$it_tmp/recover.out")"
grep -q "reverted [1-9]" "$it_tmp/recover.out" ||
	it_check_fail "recover reverts the changes" "$(cat "$it_tmp/recover.out")"
it_restored double-recover
"$FAULTGATE" recover >"$it_tmp/recover2.out" 2>&1
rc=$?
it_check "recover again: nothing left, exit 0" "$rc == 0" "exit $rc"
grep -q "nothing to recover" "$it_tmp/recover2.out" ||
	it_check_fail "recover again says there is nothing left" "$(cat "$it_tmp/recover2.out")"

# 7. the target killed mid-fault: report, verdict fail, exit 1
run_bg target-dies "$faults"
sleep 2.5
kill -KILL "$svc_pid"
wait_runner
it_report=$it_tmp/target-dies/report.json
it_check "target dies: exit 1" "$rc == 1" "exit $rc"
it_check "target dies: verdict fail" "\"$(jq -r .verdict "$it_report")\" == \"fail\"" \
	"$(jq -r .verdict "$it_report")"
it_check "target dies: target.alive false" \
	"\"$(jq -r .target.alive "$it_report")\" == \"false\"" "$(jq -c .target "$it_report")"
it_check "target dies: exit status SIGKILL" \
	"\"$(jq -r .target.exit_status "$it_report")\" == \"SIGKILL\"" \
	"$(jq -c .target.exit_status "$it_report")"
grep -q . "$it_tmp/target-dies/journal" && tail -1 "$it_tmp/target-dies/journal" | grep -qx close
it_check "target dies: the journal is closed" "$? == 0" "$(tail -2 "$it_tmp/target-dies/journal" | tr '\n' '|')"

it_finish
