#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# slow-io on file reads of a static Go service (fg-svc /work, seccomp): the
# Ms blocked in delayed reads make the runtime start threads, so threads.max
# during the fault exceeds the baseline's; report.html shades the fault
# window, and both the latency rise and the first thread above the baseline
# lie inside it.
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
it_require_notify

port=$(it_free_port)
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-slow-io-threads
target:
  command: [$FG_VICTIMS/fg-svc, -addr, "127.0.0.1:$port", -file, $it_tmp/data]
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http: { url: "http://127.0.0.1:$port/work", rate: 100/s, connections: 64, timeout: 2s }
phases: { baseline: 3s, fault: 4s, recovery: 2s }
faults:
  - { kind: slow-io, syscalls: [read], fds: files, delay: 50ms }
gates:
  - threads.max during fault > baseline
YAML

it_run "$it_tmp/pb.yaml" "$it_tmp/out"
it_expect_rc 0
it_get tb '.phases.baseline.vitals.threads_max'
it_get tf '.phases.fault.vitals.threads_max'
it_get ws '.faults[0].window_s.start'
it_get we '.faults[0].window_s.end'
it_get lb '.phases.baseline.latency_ms.p50'
it_check "threads.max during fault > baseline" "$tf > $tb" "baseline=$tb fault=$tf"
# The first sample above the baseline's maximum, and the seconds whose p50
# rose by the delay: inside the window (a second may straddle its edges).
it_get t_first "[.samples[] | select(.[2] > $tb) | .[0]] | first // -1"
it_check "the thread rise starts inside the fault window" \
	"$t_first >= $ws && $t_first <= $we" "first=${t_first}s window=${ws}-${we}s"
it_get n_in "[.timeline[] | select(.p50_ms != null and .p50_ms > $lb + 40)
	| select(.t_s + 1 > $ws and .t_s < $we)] | length"
it_get n_out "[.timeline[] | select(.p50_ms != null and .p50_ms > $lb + 40)
	| select(.t_s + 1 <= $ws or .t_s >= $we + 1)] | length"
it_check "the latency rise lies inside the fault window" "$n_in >= 2 && $n_out == 0" \
	"seconds up inside=$n_in outside=$n_out"
html=$it_tmp/out/report.html
for id in chart-latency chart-threads; do
	n=$(sed -n "/<svg id=\"$id\"/,/<\/svg>/p" "$html" | grep -c 'class="win"')
	it_check "$id shades the fault window" "$n == 1" "shaded rects=$n"
done
grep -q 'fault 1: slow-io' "$html" && echo "$it_name: ok: the window is labelled" ||
	it_check_fail "the window is labelled" "no 'fault 1: slow-io' in report.html"
it_finish
