#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mem-leak by ptrace mmap injection (64MiB/s up to 256MiB, touched) on the
# static Go fg-svc and the C csvc, launched and attached: RSS rises by
# 256 MiB +-10% in the fault phase, is back within 10% of that at the end
# of the recovery, and every request is answered.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
# shellcheck source=lib-ptrace.sh
. "$(dirname "$0")/lib-ptrace.sh"
it_require_ptrace

check() {
	local mib=1048576
	it_get brss '.phases.baseline.vitals.rss_end_bytes'
	it_get frss '.phases.fault.vitals.rss_max_bytes'
	it_get rrss '.phases.recovery.vitals.rss_end_bytes'
	it_get mapped '.faults[0].counters.bytes_mapped'
	it_get released '.faults[0].counters.bytes_released'
	it_get errs '[.phases[].errors.count] | add'
	local m="baseline rss=$((brss / mib))MiB fault max=$((frss / mib))MiB recovery end=$((rrss / mib))MiB mapped=$((mapped / mib))MiB released=$((released / mib))MiB errors=$errs"
	it_check "$1: rss rose by 256MiB +-10%" \
		"($frss - $brss) >= 0.9 * 256 * $mib && ($frss - $brss) <= 1.1 * 256 * $mib" "$m"
	it_check "$1: rss released" "($rrss - $brss) <= 25.6 * $mib" "$m"
	it_check "$1: every mapped byte released" "$released == $mapped && $mapped > 0" "$m"
	it_check "$1: no request failed" "$errs == 0" "$m"
	pt_check_tracer "$1"
}

pt_fault=6
pt_all "{ kind: mem-leak, rate: 64MiB/s, limit: 256MiB, backend: ptrace }" check
