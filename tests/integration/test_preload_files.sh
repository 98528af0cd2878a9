#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The preload backend on a C service (tests/victims/cfile.c, the fortified
# build: read -> __read_chk, fread -> __fread_chk):
#  1. slow-io delays the read() path and the fread() path: fault p50 >=
#     baseline p50 + 20 ms for each;
#  2. io-error fails every /read of the fault phase, none before it (the
#     errno itself is checked by test_preload, against the victim's report);
#  3. three io-error faults with three 1 s windows on the same selectors:
#     each injects only inside its window, so about half of the 6 s fault
#     phase fails and baseline and recovery see no error.
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
command -v jq >/dev/null || it_skip "jq is not installed"
[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
[ -r "$it_build/lib/libfaultgate-preload.so" ] || it_fatal "the shim is not built"
victim=$FG_VICTIMS/cfile-fortify
printf 'some data for the victim\n%.0s' $(seq 50) >"$it_tmp/data"

# playbook NAME PATH PHASES FAULTS...: a playbook for the victim, load on PATH.
playbook() {
	local name=$1 path=$2 phases=$3 port f
	shift 3
	port=$(it_free_port)
	cat >"$it_tmp/$name.yaml" <<YAML
version: 1
name: it-preload-$name
target:
  command: [$victim, -serve, "127.0.0.1:$port", -file, $it_tmp/data]
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http: { url: "http://127.0.0.1:$port$path", rate: 40/s, connections: 8, timeout: 2s }
phases: $phases
faults:
YAML
	for f in "$@"; do
		echo "  - $f" >>"$it_tmp/$name.yaml"
	done
}

for path in /read /fread; do
	n=slow${path#/}
	playbook "$n" "$path" "{ baseline: 2s, fault: 3s, recovery: 2s }" \
		"{ kind: slow-io, backend: preload, syscalls: [read], fds: files, delay: 20ms }"
	it_run "$it_tmp/$n.yaml" "$it_tmp/$n"
	it_expect_rc 0
	it_get b '.phases.baseline.latency_ms.p50'
	it_get f '.phases.fault.latency_ms.p50'
	it_get r '.phases.recovery.latency_ms.p50'
	it_get delayed '.faults[0].counters.syscalls_delayed'
	m="$path: baseline p50=${b}ms fault p50=${f}ms recovery p50=${r}ms delayed=$delayed"
	it_check "$path: fault p50 >= baseline p50 + 20ms" "$f >= $b + 20" "$m"
	it_check "$path: recovery p50 < baseline p50 + 10ms" "$r < $b + 10" "$m"
	it_check "$path: syscalls_delayed > 0" "$delayed > 0" "$m"
	[ "$(jq -r '.faults[0].backend' "$it_report")" = preload ] ||
		it_check_fail "$path: backend is preload" "$(jq -c '.faults[0]' "$it_report")"
done

playbook err /read "{ baseline: 2s, fault: 2s, recovery: 2s }" \
	"{ kind: io-error, backend: preload, syscalls: [read], fds: files, errno: ENOSPC }"
it_run "$it_tmp/err.yaml" "$it_tmp/err"
it_get b '.phases.baseline.errors.rate'
it_get f '.phases.fault.errors.rate'
it_get r '.phases.recovery.errors.rate'
it_get injected '.faults[0].counters.errors_injected'
m="errors.rate baseline=$b fault=$f recovery=$r injected=$injected"
it_check "io-error: fault errors.rate >= 95%" "$f >= 0.95" "$m"
# A request that meets the window's end can fail and count in the recovery.
it_check "io-error: no errors before, at most 2 at the window's end" \
	"$b == 0 && $r <= 0.03" "$m"
it_check "io-error: errors_injected > 0" "$injected > 0" "$m"
# The errno itself, as the victim saw it: test_preload (preload_io_error_errno).

playbook flip /read "{ baseline: 2s, fault: 6s, recovery: 2s }" \
	"{ kind: io-error, backend: preload, syscalls: [read], fds: files, at: 0s, for: 1s }" \
	"{ kind: io-error, backend: preload, syscalls: [read], fds: files, at: 2s, for: 1s }" \
	"{ kind: io-error, backend: preload, syscalls: [read], fds: files, at: 4s, for: 1s }"
it_run "$it_tmp/flip.yaml" "$it_tmp/flip"
it_get b '.phases.baseline.errors.rate'
it_get f '.phases.fault.errors.rate'
it_get r '.phases.recovery.errors.rate'
m="errors.rate baseline=$b fault=$f recovery=$r"
it_check "3 windows: fault errors.rate between 35% and 65%" "$f >= 0.35 && $f <= 0.65" "$m"
it_check "3 windows: no errors before or after" "$b == 0 && $r <= 0.03" "$m"
for i in 0 1 2; do
	it_get k ".faults[$i].counters.errors_injected"
	it_check "window $((i + 1)): errors_injected > 0" "$k > 0" "errors_injected=$k"
done
it_finish
