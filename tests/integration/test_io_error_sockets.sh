#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# io-error on socket writes with probability 10%: during the fault phase some
# responses are lost (error rate between 3% and 30%); before and after it,
# none are.
#
# The load asks for "Connection: close": every request gets a connection of
# its own. On a reused keep-alive connection that dies before any byte of the
# answer arrived, libcurl quietly resends the request on a new connection,
# which hides most failed writes and measures the client's retry policy
# instead of the fault: with keep-alive this run measured 3% errors, with
# "Connection: close" 13%.
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
it_require_notify

port=$(it_free_port)
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-io-error-sockets
target:
  command: [$FG_VICTIMS/fg-svc, -addr, "127.0.0.1:$port", -file, $it_tmp/data]
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http:
    url: "http://127.0.0.1:$port/healthz"
    headers: { Connection: close }
    rate: 100/s
    connections: 16
    timeout: 2s
phases: { baseline: 2s, fault: 3s, recovery: 2s }
faults:
  - { kind: io-error, syscalls: [write], fds: sockets, errno: EIO, probability: 10% }
YAML

it_run "$it_tmp/pb.yaml" "$it_tmp/out"
it_expect_rc 0
it_get b '.phases.baseline.errors.rate'
it_get f '.phases.fault.errors.rate'
it_get r '.phases.recovery.errors.rate'
it_get n '.phases.fault.requests'
it_get injected '.faults[0].counters.errors_injected'
m="errors.rate baseline=$b fault=$f recovery=$r (fault requests=$n)"
it_check "fault errors.rate between 3% and 30%" "$f >= 0.03 && $f <= 0.30" "$m"
it_check "baseline errors.rate < 1%" "$b < 0.01" "$m"
it_check "recovery errors.rate < 1%" "$r < 0.01" "$m"
it_check "errors_injected > 0" "$injected > 0" "errors_injected=$injected"
it_finish
