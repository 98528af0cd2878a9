#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runner SIGKILL right after a live GOMAXPROCS change: the guardian replays
# the journal and puts the original value back. fg-gosvc runs with
# GOMAXPROCS=2; faultgate attaches, sets 1 at the fault window's start, and
# is killed as soon as the service's /procs says 1. Within 10 s /procs must
# say 2 again, and the service must still answer. Then the same with the
# runner killed while the call is still waiting for an idle service.
# shellcheck source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
command -v nm >/dev/null || it_skip "nm is not installed"
[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
syms=$(nm "$FAULTGATE")
grep -q ' T journal_guardian_start$' <<<"$syms" ||
	it_skip "the journal guardian is not in this build"
grep -q ' [TW] journal_gomaxprocs_restore$' <<<"$syms" ||
	it_skip "the journal's gomaxprocs restore hook is not linked in"
it_report=/dev/null

# run_bg NAME: faultgate runs $it_tmp/NAME.yaml in the background; sets fg
run_bg() {
	"$FAULTGATE" run "$it_tmp/$1.yaml" --report-dir "$it_tmp/out-$1" --no-progress \
		>"$it_tmp/console-$1" 2>&1 &
	fg=$!
	it_track $fg
}

it_gosvc svc -busy 1
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-gomaxprocs-guardian
target: { pid: $svc }
load:
  http: { url: "http://127.0.0.1:$port/healthz", rate: 20/s, connections: 4, timeout: 2s }
phases: { baseline: 1s, fault: 20s, recovery: 1s }
faults:
  - { kind: gomaxprocs, value: 1 }
YAML
run_bg pb
seen=
for _ in $(seq 100); do
	[ "$(curl -fs --max-time 1 "http://127.0.0.1:$port/procs")" = 1 ] && { seen=1; break; }
	sleep 0.1
done
[ -n "$seen" ] || it_fatal "GOMAXPROCS never became 1: $(cat "$it_tmp/console-pb")"
kill -KILL "$fg"
back=
for i in $(seq 100); do
	if [ "$(curl -fs --max-time 1 "http://127.0.0.1:$port/procs")" = 2 ]; then
		back=$i
		break
	fi
	sleep 0.1
done
it_check "the guardian restored GOMAXPROCS 2 after the runner's SIGKILL" "${back:-0} > 0" \
	"after $(awk -v i="${back:-100}" 'BEGIN { print i / 10 }') s"
curl -fs --max-time 2 -o /dev/null "http://127.0.0.1:$port/healthz" ||
	it_check_fail "the service answers after the restore" "no answer"

# Runner SIGKILL while the change is still in flight: an idle service
# (a goroutine wakes every 1.5 s) is entered through a temporary
# breakpoint, so the call waits for the wake-up; the runner dies meanwhile.
# The call's tracer finishes the change on its own; the guardian must wait
# for it, then put 2 back.
it_gosvc svc2 -tick 1500ms
cat >"$it_tmp/pb2.yaml" <<YAML
version: 1
name: it-gomaxprocs-guardian-in-flight
target: { pid: $svc }
phases: { baseline: 1s, fault: 5s, recovery: 1s }
faults:
  - { kind: gomaxprocs, value: 1 }
YAML
run_bg pb2
# the window opens at 1 s; the call then waits up to 1.5 s for the tick
sleep 1.3
kill -KILL "$fg"
sleep 3.5
got=$(curl -fs --max-time 2 "http://127.0.0.1:$port/procs")
it_check "runner killed during the call: GOMAXPROCS is 2 once the call and the guardian are done" \
	"${got:-0} == 2" "/procs=$got; $(grep -E 'guardian|runner' "$it_tmp/console-pb2" | tr '\n' '|')"
it_finish
