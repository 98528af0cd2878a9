#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A gomaxprocs fault that did nothing must not pass a release gate.
# 1. A completely idle attached service (no goroutine ever wakes): the live
#    change cannot be made; verdict error, exit 2, the fault not injected
#    and its window null, GOMAXPROCS untouched.
# 2. A change made, then strace attaches before the window's end: the value
#    cannot be put back; verdict error, exit 2, the reason names
#    `faultgate recover`, which puts it back once strace is gone.
# shellcheck source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
command -v jq >/dev/null || it_skip "jq is not installed"
command -v strace >/dev/null || it_skip "strace is not installed"
[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
tracer=$(awk '/TracerPid/ { print $2 }' /proc/self/status)
[ "$tracer" = 0 ] || it_skip "this test runs under a tracer (pid $tracer)"

# playbook NAME: attach to $svc, gomaxprocs 1 for the whole fault phase
playbook() {
	cat >"$it_tmp/$1.yaml" <<YAML
version: 1
name: it-gomaxprocs-$1
target: { pid: $svc }
phases: { baseline: 1s, fault: 2s, recovery: 1s }
faults:
  - { kind: gomaxprocs, value: 1 }
YAML
}

it_gosvc idle
playbook idle
it_run "$it_tmp/idle.yaml" "$it_tmp/out-idle"
it_expect_rc 2
verdict=$(jq -r .verdict "$it_report")
injected=$(jq -r '.faults[0].injected' "$it_report")
start=$(jq -r '.faults[0].window_s.start' "$it_report")
now=$(curl -fs --max-time 2 "http://127.0.0.1:$port/procs")
it_check "idle service: verdict error, the fault not injected, no window, GOMAXPROCS 2" \
	"\"$verdict\" == \"error\" && \"$injected\" == \"false\" && \"$start\" == \"null\" && ${now:-0} == 2" \
	"verdict=$verdict injected=$injected window start=$start /procs=$now"
kill "$svc"

it_gosvc busy -busy 2
playbook busy
"$FAULTGATE" run "$it_tmp/busy.yaml" --report-dir "$it_tmp/out-busy" --no-progress \
	>"$it_tmp/busy.console" 2>&1 &
fg=$!
it_track $fg
# the change is made at 1 s; strace holds the service from 1.5 s for 12 s
sleep 1.5
timeout 12 strace -f -p "$svc" -o /dev/null 2>/dev/null &
st=$!
rc=0
wait "$fg" || rc=$?
it_report=$it_tmp/out-busy/report.json
verdict=$(jq -r .verdict "$it_report")
reason=$(jq -r .verdict_reason "$it_report")
it_check "value not put back: exit 2, verdict error" "$rc == 2 && \"$verdict\" == \"error\"" \
	"exit $rc, verdict $verdict"
it_check "the reason names faultgate recover" "$(grep -c 'faultgate recover' <<<"$reason") == 1" \
	"$reason"
kill "$st" 2>/dev/null
wait "$st" 2>/dev/null
"$FAULTGATE" recover --journal "$it_tmp/out-busy/journal" >"$it_tmp/recover.out" 2>&1
now=$(curl -fs --max-time 2 "http://127.0.0.1:$port/procs")
it_check "faultgate recover puts GOMAXPROCS 2 back once strace is gone" "${now:-0} == 2" \
	"/procs=$now; $(tr '\n' '|' <"$it_tmp/recover.out")"
it_finish
