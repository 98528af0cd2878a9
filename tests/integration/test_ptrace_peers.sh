#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# slow-io with peers through the ptrace backend, on a static Go fg-svc S the
# test starts itself and faultgate attaches to by pid; S calls an upstream U
# on /chain. The fault delays reads and writes on sockets whose peer is
# :U_PORT by 50 ms. The sockets belong to Go's threads, not to the leader,
# so this checks that a thread's descriptors are resolved through the
# process (a pidfd of a non-leader thread is refused by the kernel).
#   run 1, load on S /chain: the fault phase's median is at least 50 ms
#          above the baseline's, and nothing traces S after the run;
#   run 2, load on S /healthz (no upstream call): the fault phase's median
#          stays within 5 ms of the baseline's (every syscall of S pays the
#          ptrace stops during the window, but none matches the peer), and
#          no syscall was delayed.
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
# shellcheck source=lib-ptrace.sh
. "$(dirname "$0")/lib-ptrace.sh"
it_require_ptrace

it_upstream
"$FG_VICTIMS/fg-svc" -addr "127.0.0.1:$svc_port" -file "$it_tmp/data" \
	-upstream "http://127.0.0.1:$up_port/healthz" >"$it_tmp/svc.log" 2>&1 &
svc=$!
it_track $svc
it_wait_http "http://127.0.0.1:$svc_port/healthz" || it_fatal "service did not come up"

# playbook PATH: the same attached target and fault, load on PATH.
playbook() {
	cat <<YAML
version: 1
name: it-ptrace-peers-$1
target: { pid: $svc }
load:
  http: { url: "http://127.0.0.1:$svc_port/$1", rate: 30/s, connections: 16, timeout: 3s }
phases: { baseline: 2s, fault: 3s, recovery: 2s }
faults:
  - kind: slow-io
    backend: ptrace
    syscalls: [read, write]
    fds: sockets
    peers: [":$up_port"]
    delay: 50ms
YAML
}

playbook chain >"$it_tmp/chain.yaml"
it_run "$it_tmp/chain.yaml" "$it_tmp/out-chain"
it_expect_rc 0
it_get b '.phases.baseline.latency_ms.p50'
it_get f '.phases.fault.latency_ms.p50'
it_get delayed '.faults[0].counters.syscalls_delayed'
m="/chain: baseline p50=${b}ms fault p50=${f}ms syscalls_delayed=$delayed"
it_check "/chain fault p50 >= baseline p50 + 50ms" "$f >= $b + 50" "$m"
it_check "/chain: upstream syscalls delayed" "$delayed > 0" "$m"
t=$(awk '/^TracerPid:/ {print $2}' "/proc/$svc/status" 2>/dev/null)
it_check "TracerPid 0 after the run" "${t:--1} == 0" "TracerPid=$t"

playbook healthz >"$it_tmp/healthz.yaml"
it_run "$it_tmp/healthz.yaml" "$it_tmp/out-healthz"
it_expect_rc 0
it_get b '.phases.baseline.latency_ms.p50'
it_get f '.phases.fault.latency_ms.p50'
it_get delayed '.faults[0].counters.syscalls_delayed'
m="/healthz: baseline p50=${b}ms fault p50=${f}ms syscalls_delayed=$delayed"
it_check "/healthz fault p50 within 5ms of baseline" "($f - $b) <= 5 && ($b - $f) <= 5" "$m"
it_check "/healthz: nothing delayed (no socket to the upstream)" "$delayed == 0" "$m"
curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$svc_port/chain" ||
	it_check_fail "the service answers /chain after the runs" "no answer"
it_finish
