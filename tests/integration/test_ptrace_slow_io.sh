#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# slow-io through ptrace syscall stops (write on sockets, 10 ms) on the
# static Go fg-svc and the C csvc, launched and attached: the fault phase's
# p50 is at least 10 ms above the baseline's, nothing traces the target
# after the window, and the recovery p50 is within 2 ms of the baseline's
# (not slower by more than that; a noisy baseline may be slower).
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
# shellcheck source=lib-ptrace.sh
. "$(dirname "$0")/lib-ptrace.sh"
it_require_ptrace

check() {
	it_get b '.phases.baseline.latency_ms.p50'
	it_get f '.phases.fault.latency_ms.p50'
	it_get r '.phases.recovery.latency_ms.p50'
	it_get delayed '.faults[0].counters.syscalls_delayed'
	local m="baseline p50=${b}ms fault p50=${f}ms recovery p50=${r}ms delayed=$delayed"
	it_check "$1: fault p50 >= baseline p50 + 10ms" "$f >= $b + 10" "$m"
	it_check "$1: recovery p50 within 2ms of baseline" "$r <= $b + 2" "$m"
	it_check "$1: writes delayed" "$delayed > 0" "$m"
	pt_check_tracer "$1"
}

pt_all "{ kind: slow-io, syscalls: [write], fds: sockets, delay: 10ms, backend: ptrace }" check
