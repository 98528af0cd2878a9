#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Both the runner and the launcher (the keeper) are SIGKILLed mid-fault.
# Nothing is then left to answer the target's filter or stop it, so the
# target must not outlive them: it gets SIGTERM from the kernel (parent
# death signal) and no process of the run is left.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
it_require_notify
rwcheck=$FG_VICTIMS/rwcheck
[ -x "$rwcheck" ] || it_fatal "$rwcheck is not built"

marker=$it_tmp
mkdir "$it_tmp/rw"
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-double-kill
target:
  command: [$rwcheck, $it_tmp/rw, $it_tmp/status]
  ready: { after: 200ms }
load:
  command: { argv: [/bin/true], every: 500ms, timeout: 1s }
phases: { baseline: 1s, fault: 8s, recovery: 1s }
faults:
  - { kind: slow-io, syscalls: [read], fds: files, delay: 50ms }
YAML

"$FAULTGATE" run "$it_tmp/pb.yaml" --report-dir "$it_tmp/out" --no-progress \
	>"$it_tmp/console" 2>&1 &
fg_pid=$!
it_track "$fg_pid"

target=
for _ in $(seq 100); do
	target=$(pgrep -f -- "^$rwcheck $marker" | head -1)
	[ -n "$target" ] && break
	sleep 0.1
done
[ -n "$target" ] || it_fatal "rwcheck did not start: $(cat "$it_tmp/console")"
it_track "$target"
launcher=$(ps -o ppid= -p "$target" | tr -d ' ')
[ -n "$launcher" ] && [ "$launcher" != "$fg_pid" ] ||
	it_fatal "cannot find the launcher of $target (parent '$launcher')"
sleep 2	# inside the fault window

kill -KILL "$fg_pid" "$launcher"
wait "$fg_pid" 2>/dev/null
for _ in $(seq 50); do
	pgrep -f -- "$marker" >/dev/null || break
	sleep 0.1
done
left=$(pgrep -af -- "$marker")
if [ -n "$left" ]; then
	it_check_fail "no process of the run left after killing runner and launcher" "$left"
else
	echo "$it_name: ok: the target ended with its launcher; nothing left"
fi
it_finish
