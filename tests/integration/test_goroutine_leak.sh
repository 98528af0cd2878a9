#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Goroutine metrics from the sampler's runtime readout: fg-gosvc /leak at
# 100 req/s keeps one goroutine per request when started with -leak, so
# `goroutines.growth < 100` fails (about 500 by the end of the run); the
# same service without -leak passes the same gate.
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
command -v jq >/dev/null || it_skip "jq is not installed"
[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
[ -x "$FG_VICTIMS/fg-gosvc" ] || it_fatal "$FG_VICTIMS/fg-gosvc is not built"

port=$(it_free_port)

# playbook NAME EXTRA_ARG
playbook() {
	cat <<YAML
version: 1
name: it-goroutines-$1
target:
  command: [$FG_VICTIMS/fg-gosvc, -addr, "127.0.0.1:$port", $2]
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http: { url: "http://127.0.0.1:$port/leak", rate: 100/s, connections: 16, timeout: 3s }
phases: { baseline: 2s, fault: 3s, recovery: 2s }
gates:
  - goroutines.growth < 100
YAML
}

playbook leak -leak >"$it_tmp/leak.yaml"
it_run "$it_tmp/leak.yaml" "$it_tmp/out-leak"
it_expect_rc 1
it_get g '.phases.recovery.vitals.goroutines_growth'
it_get pass '.gates[0].pass | if . then 1 else 0 end'
it_check "leaking service fails goroutines.growth < 100" "$pass == 0 && $g >= 300" \
	"growth=$g"

playbook noleak -leak=false >"$it_tmp/noleak.yaml"
it_run "$it_tmp/noleak.yaml" "$it_tmp/out-noleak"
it_expect_rc 0
it_get g '.phases.recovery.vitals.goroutines_growth'
it_get m '.phases.fault.vitals.goroutines_max'
it_check "steady service passes goroutines.growth < 100" "$g < 100 && $m > 0" \
	"growth=$g max=$m"
it_finish
