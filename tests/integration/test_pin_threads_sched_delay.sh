#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The acceptance run of issue 6: pin-threads cpus: [0] on a CPU-bound Go
# service (fg-svc /cpu, GOMAXPROCS=2) offered a little more than one CPU of
# work (the request's cost is measured first), which two Ps spread over both
# CPUs until the pin. Pinned, both Ps' threads stay runnable on one CPU, so
# each waits about a slice of the other per scheduling. sched_delay.p99
# during the fault must reach 3x the baseline's, and a gate on it fails the
# run.
# Skipped when this build has no pin-threads backend (faultgate check).
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
command -v jq >/dev/null || it_skip "jq is not installed"
[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
[ "$(nproc)" -ge 2 ] || it_skip "needs 2 CPUs to see pinning"

work=3000000
# The load must stay a little above one CPU whatever the machine's speed:
# below one CPU the pinned threads park between requests and the delay
# barely moves. Time one /cpu request (the median of 40 sequential ones,
# after a warm-up) and offer 1.12 CPUs of it.
port=$(it_free_port)
GOMAXPROCS=2 "$FG_VICTIMS/fg-svc" -addr "127.0.0.1:$port" -cpu-work "$work" \
	>"$it_tmp/cal.log" 2>&1 &
cal=$!
it_track "$cal"
it_wait_http "http://127.0.0.1:$port/healthz" || it_fatal "fg-svc did not start"
for i in $(seq 50); do
	curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/cpu"
done | tail -n 40 | sort -n >"$it_tmp/cal.times"
kill "$cal"
wait "$cal" 2>/dev/null
t=$(sed -n 20p "$it_tmp/cal.times")
rate=$(awk "BEGIN { r = int(1.12 / $t); print r < 20 ? 20 : r }")
echo "$it_name: one /cpu request takes ${t}s, offering ${rate}/s"

port=$(it_free_port)
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-pin-threads-sched-delay
target:
  command: [$FG_VICTIMS/fg-svc, -addr, "127.0.0.1:$port", -cpu-work, "$work"]
  env: { GOMAXPROCS: "2" }
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http: { url: "http://127.0.0.1:$port/cpu", rate: $rate/s, connections: 32, timeout: 2s }
phases: { baseline: 3s, fault: 4s, recovery: 2s }
faults:
  - { kind: pin-threads, cpus: [0] }
gates:
  - sched_delay.p99 during fault < 3x baseline
YAML

if ! "$FAULTGATE" check "$it_tmp/pb.yaml" >"$it_tmp/check.out" 2>&1 ||
	grep -qiE 'not (built|available)|cannot be served' "$it_tmp/check.out"; then
	it_skip "the pin-threads backend is not available in this build: $(grep -iE 'pin|not' "$it_tmp/check.out" | head -1)"
fi
# Pinning adds about one slice of the other thread (a few ms) per
# scheduling; when other work already puts the baseline's p99 near that, no
# 3x can be shown: such a run is tried again, up to three times.
for attempt in 1 2 3; do
	it_run "$it_tmp/pb.yaml" "$it_tmp/out$attempt"
	it_get b '.phases.baseline.vitals.sched_delay_p99_ms'
	it_get f '.phases.fault.vitals.sched_delay_p99_ms'
	awk "BEGIN { exit !($b <= 1.0 && $f >= 3 * $b) }" && break
	echo "$it_name: attempt $attempt: baseline p99=${b}ms fault p99=${f}ms, again"
done
if awk "BEGIN { exit !($b > 1.0) }"; then
	it_skip "the machine is too busy: baseline sched_delay.p99 was above 1ms" \
		"before any pinning in three runs (last ${b}ms)"
fi
it_expect_rc 1
it_get gate '.gates[0].pass | if . then 1 else 0 end'
it_get pinned '.faults[0].counters.threads_pinned'
m="baseline p99=${b}ms fault p99=${f}ms threads_pinned=$pinned"
it_check "threads were pinned" "$pinned > 0" "$m"
it_check "sched_delay.p99 during fault >= 3x baseline" "$f >= 3 * $b" "$m"
it_check "the sched_delay gate failed" "$gate == 0" "pass=$gate"
it_finish
