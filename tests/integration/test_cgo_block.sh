#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cgo-block on a cgo Go service whose /lookup resolves "localhost" through
# the C library (GODEBUG=netdns=cgo): a 200 ms delay in getaddrinfo raises
# the fault phase's median by at least 200 ms, every blocked lookup holds an
# OS thread so threads.max rises above the baseline's, and a gate on
# threads.max fails the run (exit 1).
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
command -v jq >/dev/null || it_skip "jq is not installed"
[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
[ -x "$FG_VICTIMS/fg-cgosvc" ] || it_skip "fg-cgosvc was not built (no cgo toolchain?)"
shim=$(dirname "$FAULTGATE")/../lib/libfaultgate-preload.so
[ -r "$shim" ] || it_skip "the preload shim is not built ($shim)"

port=$(it_free_port)
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-cgo-block
target:
  command: [$FG_VICTIMS/fg-cgosvc, -addr, "127.0.0.1:$port"]
  env: { GODEBUG: netdns=cgo }
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http: { url: "http://127.0.0.1:$port/lookup", rate: 40/s, connections: 64, timeout: 3s }
phases: { baseline: 3s, fault: 4s, recovery: 2s }
faults:
  - { kind: cgo-block, delay: 200ms }
gates:
  - errors.rate < 1%
  - threads.max during fault < baseline + 1
YAML

it_run "$it_tmp/pb.yaml" "$it_tmp/out"
it_expect_rc 1
it_get b '.phases.baseline.latency_ms.p50'
it_get f '.phases.fault.latency_ms.p50'
it_get tb '.phases.baseline.vitals.threads_max'
it_get tf '.phases.fault.vitals.threads_max'
it_get seen '.faults[0].counters.syscalls_seen'
it_get delayed '.faults[0].counters.syscalls_delayed'
backend=$(jq -r '.faults[0].backend' "$it_report")
gate=$(jq -c '[.gates[] | select(.expr | startswith("threads.max"))][0] | {pass, value}' \
	"$it_report")
errgate=$(jq -r '[.gates[] | select(.expr | startswith("errors.rate"))][0].pass' "$it_report")
m="baseline p50=${b}ms fault p50=${f}ms"
it_check "backend is preload" "\"$backend\" == \"preload\"" "backend=$backend"
it_check "fault p50 >= baseline p50 + 200ms" "$f >= $b + 200" "$m"
it_check "threads.max during fault > baseline" "$tf > $tb" "baseline=$tb fault=$tf"
gate_pass=$(jq -r .pass <<<"$gate")
it_check "the threads.max gate failed" "\"$gate_pass\" == \"false\"" "$gate"
it_check "the errors gate passed" "\"$errgate\" == \"true\"" "errors gate pass=$errgate"
it_check "getaddrinfo calls delayed" "$delayed > 0 && $delayed <= $seen" \
	"seen=$seen delayed=$delayed"
it_finish
