#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The runner is SIGKILLed while a 2 s delay holds one of the target's reads.
# The launcher, now the keeper, must answer that read and every later one
# (no ENOSYS, no hang), then stop the target gracefully, and leave no
# process of the run behind.
#
# The target is rwcheck: every 20 ms it writes a line to a file in DIR, reads
# it back and checks every result; on SIGTERM it writes STATUS_FILE, "ok N"
# or "fail: ...", and exits 0 only if every call succeeded.
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
it_require_notify
rwcheck=$FG_VICTIMS/rwcheck
[ -x "$rwcheck" ] || it_fatal "$rwcheck is not built"

# Every process of this run carries $it_tmp in its command line: faultgate
# and its launcher (a fork of it) through the playbook's path, rwcheck
# through its arguments.
marker=$it_tmp
mkdir "$it_tmp/rw"
status=$it_tmp/status
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-keeper-kill
target:
  command: [$rwcheck, $it_tmp/rw, $status]
  ready: { after: 200ms }
  stop_grace: 3s
load:
  command: { argv: [/bin/true], every: 500ms, timeout: 1s }
phases: { baseline: 1s, fault: 8s, recovery: 1s }
faults:
  - { kind: slow-io, syscalls: [read], fds: files, delay: 2s }
YAML

"$FAULTGATE" run "$it_tmp/pb.yaml" --report-dir "$it_tmp/out" --no-progress \
	>"$it_tmp/console" 2>&1 &
fg_pid=$!
it_track "$fg_pid"

# The target's pid: the rwcheck process among the run's processes.
target=
for _ in $(seq 100); do
	target=$(pgrep -f -- "^$rwcheck $marker" | head -1)
	[ -n "$target" ] && break
	sleep 0.1
done
[ -n "$target" ] || it_fatal "rwcheck did not start: $(cat "$it_tmp/console")"
it_track "$target"

# Wait until a read has been held by the supervisor for about a second: the
# target sleeps in the seccomp notification wait for 10 polls in a row
# (answers outside the window take microseconds, so this is the 2 s delay,
# about half of it gone).
held=0
for _ in $(seq 150); do
	w=$(cat "/proc/$target/wchan" 2>/dev/null)
	if [[ $w == seccomp_do_user_notification* ]]; then
		held=$((held + 1))
		[ $held -ge 10 ] && break
	else
		held=0
	fi
	sleep 0.1
done
[ $held -ge 10 ] || it_fatal "no delayed read seen in 15 s (wchan '$w'); console:
$(cat "$it_tmp/console")"

t_kill=$(date +%s%N)
kill -KILL "$fg_pid"
wait "$fg_pid" 2>/dev/null
echo "$it_name: SIGKILLed faultgate $fg_pid while rwcheck $target was held in a read"

# The keeper answers the held read, then SIGTERM, stop_grace 3 s, SIGKILL.
for _ in $(seq 100); do
	[ -s "$status" ] && ! pgrep -f -- "$marker" >/dev/null && break
	sleep 0.1
done
t_done=$(( ($(date +%s%N) - t_kill) / 1000000 ))

if [ ! -s "$status" ]; then
	it_check_fail "the target got its graceful stop" "no status file after ${t_done} ms"
else
	st=$(cat "$status")
	case $st in
	ok*) echo "$it_name: ok: every read and write succeeded ($st)" ;;
	*) it_check_fail "every read and write of the target succeeded" "$st" ;;
	esac
fi
left=$(pgrep -af -- "$marker")
if [ -n "$left" ]; then
	it_check_fail "no process of the run left" "$left"
else
	echo "$it_name: ok: no process of the run left (${t_done} ms after the kill)"
fi
if [ "$it_failed" -ne 0 ]; then
	sed 's/^/  console: /' "$it_tmp/console" >&2
	exit 1
fi
echo "$it_name: PASS"
exit 0
