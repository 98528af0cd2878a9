#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# freeze-thread through ptrace (pick: busiest, hold 500ms, every 2s) on the
# static Go fg-svc and the C csvc, launched and attached: the fault phase's
# slowest request waited at least 400 ms, the recovery p99 is within 1.5x
# the baseline's (plus 5 ms for sub-millisecond baselines), threads were
# frozen, and nothing traces the target afterwards.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
# shellcheck source=lib-ptrace.sh
. "$(dirname "$0")/lib-ptrace.sh"
it_require_ptrace

check() {
	it_get bp99 '.phases.baseline.latency_ms.p99'
	it_get fmax '.phases.fault.latency_ms.max'
	it_get rp99 '.phases.recovery.latency_ms.p99'
	it_get frozen '.faults[0].counters.threads_frozen'
	it_get lat '.faults[0].counters.stop_latency_max_ms'
	local m="baseline p99=${bp99}ms fault max=${fmax}ms recovery p99=${rp99}ms frozen=$frozen stop latency max=${lat}ms"
	it_check "$1: fault max >= 400ms" "$fmax >= 400" "$m"
	it_check "$1: recovery p99 <= 1.5x baseline" "$rp99 <= 1.5 * $bp99 + 5" "$m"
	it_check "$1: threads frozen >= 2" "$frozen >= 2" "$m"
	pt_check_tracer "$1"
}

pt_all "{ kind: freeze-thread, pick: busiest, hold: 500ms, every: 2s }" check
