#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run-queue delay is measured and can fail a run, with no fault backend
# involved: during the fault phase the test itself pins every thread of a
# CPU-bound Go service (fg-svc /cpu, GOMAXPROCS=2) to CPU 0 with taskset and
# runs CPU hogs there too, a real run-queue delay. sched_delay.p99 during the fault must
# reach 3x the baseline's, and the gate on it must fail the run (exit 1).
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
command -v jq >/dev/null || it_skip "jq is not installed"
command -v taskset >/dev/null || it_skip "taskset is not installed"
[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
[ "$(nproc)" -ge 2 ] || it_skip "needs 2 CPUs (the hog and the target share CPU 0)"

port=$(it_free_port)
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-sched-delay-taskset
target:
  command: [$FG_VICTIMS/fg-svc, -addr, "127.0.0.1:$port", -cpu-work, "1500000"]
  env: { GOMAXPROCS: "2" }
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http: { url: "http://127.0.0.1:$port/cpu", rate: 100/s, connections: 16, timeout: 2s }
phases: { baseline: 3s, fault: 4s, recovery: 2s }
gates:
  - sched_delay.p99 during fault < 3x baseline
YAML

"$FAULTGATE" run "$it_tmp/pb.yaml" --report-dir "$it_tmp/out" --no-progress \
	>"$it_tmp/out.console" 2>&1 &
runner=$!
it_track "$runner"
# Readiness takes a moment; the hog starts well inside the fault phase
# (baseline 3 s) and ends before the recovery.
for _ in $(seq 100); do
	grep -q 'phase baseline' "$it_tmp/out.console" && break
	sleep 0.05
done
sleep 3.5
svc=$(pgrep -f "fg-svc -addr 127.0.0.1:$port" | head -1)
[ -n "$svc" ] || it_fatal "the target is not running"
taskset -a -p -c 0 "$svc" >/dev/null
# Three hogs: the scheduler's slices are short (EEVDF), so the delay per
# scheduling grows with the number of runnable tasks, not with their greed.
hogs=()
for _ in 1 2 3; do
	taskset -c 0 sh -c 'while :; do :; done' &
	hogs+=($!)
	it_track "$!"
done
sleep 3
kill "${hogs[@]}"
taskset -a -p -c 0-1 "$svc" >/dev/null 2>&1
wait "$runner"
it_rc=$?
it_console=$it_tmp/out.console
it_report=$it_tmp/out/report.json
[ -s "$it_report" ] || it_fatal "no report.json (exit $it_rc)"
it_expect_rc 1
it_get b '.phases.baseline.vitals.sched_delay_p99_ms'
it_get f '.phases.fault.vitals.sched_delay_p99_ms'
it_get gate '.gates[0].pass | if . then 1 else 0 end'
m="baseline p99=${b}ms fault p99=${f}ms"
it_check "sched_delay.p99 during fault >= 3x baseline" "$f >= 3 * $b" "$m"
it_check "the sched_delay gate failed" "$gate == 0" "pass=$gate"
it_finish
