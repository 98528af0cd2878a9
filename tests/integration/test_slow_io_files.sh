#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# slow-io on file reads of a static Go service: the fault phase's median rises
# by at least the delay, and the recovery's median is back at the baseline's.
# fg-svc /work reads a small file per request (os.ReadFile: two reads, the
# data and the EOF), so each request meets the 20 ms delay at least once.
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
it_require_notify

port=$(it_free_port)
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-slow-io-files
target:
  command: [$FG_VICTIMS/fg-svc, -addr, "127.0.0.1:$port", -file, $it_tmp/data]
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http: { url: "http://127.0.0.1:$port/work", rate: 50/s, connections: 16, timeout: 2s }
phases: { baseline: 2s, fault: 3s, recovery: 2s }
faults:
  - { kind: slow-io, syscalls: [read], fds: files, delay: 20ms }
gates:
  - errors.rate < 1%
YAML

it_run "$it_tmp/pb.yaml" "$it_tmp/out"
it_expect_rc 0
it_get b '.phases.baseline.latency_ms.p50'
it_get f '.phases.fault.latency_ms.p50'
it_get r '.phases.recovery.latency_ms.p50'
it_get delayed '.faults[0].counters.syscalls_delayed'
it_get added '.faults[0].counters.delay_added_ms'
m="baseline p50=${b}ms fault p50=${f}ms recovery p50=${r}ms"
it_check "fault p50 >= baseline p50 + 20ms" "$f >= $b + 20" "$m"
it_check "|recovery p50 - baseline p50| <= 2ms" "($r - $b) <= 2 && ($b - $r) <= 2" "$m"
it_check "syscalls_delayed > 0" "$delayed > 0" "syscalls_delayed=$delayed"
# Delays still running when the window closes are cut short, so the total
# may fall below 20 ms per delayed call, never above it.
it_check "0 < delay_added_ms <= 20ms x syscalls_delayed" \
	"$added > 0 && $added <= 20 * $delayed * 1.01 + 1" \
	"delay_added_ms=$added syscalls_delayed=$delayed"
it_finish
