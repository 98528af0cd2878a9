#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# slow-io with peers: only the sockets to the upstream's port are slowed.
# U is an fg-svc the test starts itself; S is launched by faultgate with
# -upstream pointing at U. With the same fault (reads and writes on sockets
# whose peer is :U_PORT, 50 ms):
#   run 1, load on S /chain (one upstream call per request): the fault
#          phase's median is at least 50 ms above the baseline's;
#   run 2, load on S /healthz (no upstream call) while a side loop keeps
#          calling S /chain, so the fault is busy delaying S's upstream
#          sockets: the fault phase's median of /healthz stays within 2 ms
#          of the baseline's, since the load's own connections to S do not
#          match the peer.
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
it_require_notify

it_upstream

# playbook PATH RATE: the same target and fault, load on PATH.
playbook() {
	cat <<YAML
version: 1
name: it-peers-$1
target:
  command: [$FG_VICTIMS/fg-svc, -addr, "127.0.0.1:$svc_port", -file, $it_tmp/svc.data,
            -upstream, "http://127.0.0.1:$up_port/healthz"]
  ready: { http: "http://127.0.0.1:$svc_port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http: { url: "http://127.0.0.1:$svc_port/$1", rate: $2, connections: 32, timeout: 3s }
phases: { baseline: 2s, fault: 3s, recovery: 2s }
faults:
  - kind: slow-io
    syscalls: [read, write]
    fds: sockets
    peers: [":$up_port"]
    delay: 50ms
YAML
}

playbook chain 30/s >"$it_tmp/chain.yaml"
it_run "$it_tmp/chain.yaml" "$it_tmp/out-chain"
it_expect_rc 0
it_get b '.phases.baseline.latency_ms.p50'
it_get f '.phases.fault.latency_ms.p50'
it_get e '.phases.fault.errors.rate'
it_get delayed '.faults[0].counters.syscalls_delayed'
m="/chain: baseline p50=${b}ms fault p50=${f}ms, fault errors.rate=$e"
it_check "/chain fault p50 >= baseline p50 + 50ms" "$f >= $b + 50" "$m"
it_check "/chain fault errors.rate < 1%" "$e < 0.01" "$m"
it_check "/chain syscalls_delayed > 0" "$delayed > 0" "syscalls_delayed=$delayed"

# The side loop: about 10 /chain calls a second for at most 20 s; it fails
# quietly until faultgate has started S.
timeout 20 bash -c "while :; do
	curl -s -o /dev/null --max-time 3 http://127.0.0.1:$svc_port/chain
	sleep 0.1
done" &
it_track $!
playbook healthz 50/s >"$it_tmp/healthz.yaml"
it_run "$it_tmp/healthz.yaml" "$it_tmp/out-healthz"
it_expect_rc 0
it_get b '.phases.baseline.latency_ms.p50'
it_get f '.phases.fault.latency_ms.p50'
it_get delayed '.faults[0].counters.syscalls_delayed'
m="/healthz: baseline p50=${b}ms fault p50=${f}ms syscalls_delayed=$delayed"
it_check "/healthz fault p50 within 2ms of baseline" "($f - $b) <= 2 && ($b - $f) <= 2" "$m"
it_check "/healthz: the side loop's upstream calls were delayed" "$delayed > 0" "$m"
it_finish
