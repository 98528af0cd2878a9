#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# taskstats: a target doing O_DIRECT writes (dd oflag=direct,dsync) shows
# block-I/O and CPU delay per thread in report.json; without CAP_NET_ADMIN
# the run still passes and the report says which figures are missing and
# why; kernel.task_delayacct is back to its old value after a normal run,
# after SIGINT, and after the runner is killed (its guardian restores it).
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
sysctl=/proc/sys/kernel/task_delayacct
state=/run/faultgate-delayacct
command -v jq >/dev/null || it_skip "jq is not installed"
command -v setpriv >/dev/null || it_skip "setpriv is not installed"
[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
[ "$(id -u)" -eq 0 ] || it_skip "needs root (CAP_NET_ADMIN and $sysctl)"
[ -w "$sysctl" ] || it_skip "$sysctl is not writable"
case $(stat -f -c %T "$it_tmp") in
tmpfs | ramfs) it_skip "$it_tmp is on tmpfs, which has no O_DIRECT" ;;
*) ;;
esac

playbook() {
	cat >"$it_tmp/pb-$1.yaml" <<YAML
version: 1
name: it-taskstats-$1
target:
  command: [dd, if=/dev/zero, "of=$it_tmp/io-$1", bs=4k, count=100000000, "oflag=direct,dsync"]
  ready: { after: 300ms }
  stop_grace: 2s
phases: { baseline: 2s, fault: 2s, recovery: 2s }
gates:
  - threads.max < 100
YAML
}

# expect_restored OLD WHAT: the sysctl is OLD again, unless another live run
# still holds it (the state file lists the runners holding the switch).
expect_restored() {
	local now holders
	now=$(cat "$sysctl")
	holders=$(cut -s -d' ' -f2- "$state" 2>/dev/null)
	if [ "$now" = "$1" ]; then
		echo "$it_name: ok: task_delayacct back to $1 $2"
	elif [ -n "$holders" ]; then
		echo "# $it_name: task_delayacct is $now $2: other runs hold it ($holders)"
	else
		it_check_fail "task_delayacct back to $1 $2" "now $now"
	fi
}

# wait_gone PATTERN: end what the run left behind writing our files.
reap_dd() {
	local p
	for p in $(pgrep -f "of=$it_tmp/io-$1"); do
		it_track "$p"
	done
}

old=$(cat "$sysctl")

# 1. With privilege: per-thread block-I/O and CPU delay.
playbook priv
it_run "$it_tmp/pb-priv.yaml" "$it_tmp/priv"
it_expect_rc 0
expect_restored "$old" "after a normal run"
it_get avail '.taskstats.available | if . then 1 else 0 end'
it_check "taskstats available" "$avail == 1" "available=$avail"
it_get blk '.phases.fault.vitals.blkio_delay_total_ms'
it_get cpu '.phases.fault.vitals.cpu_delay_total_ms'
it_check "blkio_delay.total during fault > 0" "$blk > 0" "blkio=${blk}ms cpu=${cpu}ms"
it_get tblk '[.taskstats.threads.fault[] | .blkio_delay_ms] | max'
it_get tcpu '[.taskstats.threads.fault[] | .cpu_delay_ms] | max'
it_check "a thread row has block-I/O delay" "$tblk > 0" "max blkio_delay_ms=$tblk cpu=$tcpu"
reap_dd priv

# 2. Without CAP_NET_ADMIN: the run works, the report says what is missing.
playbook nocap
it_console=$it_tmp/nocap.console
setpriv --inh-caps=-net_admin --bounding-set=-net_admin -- \
	"$FAULTGATE" run "$it_tmp/pb-nocap.yaml" --report-dir "$it_tmp/nocap" --no-progress \
	>"$it_console" 2>&1
it_rc=$?
it_report=$it_tmp/nocap/report.json
[ -s "$it_report" ] || it_fatal "no report.json without CAP_NET_ADMIN (exit $it_rc)"
it_expect_rc 0
expect_restored "$old" "after a run without CAP_NET_ADMIN"
why=$(jq -r '.phases.fault.vitals_missing.blkio_delay_total_ms // ""' "$it_report")
why2=$(jq -r '.taskstats.missing.cpu_delay_ms // ""' "$it_report")
case "$why|$why2" in
*CAP_NET_ADMIN*\|*CAP_NET_ADMIN*) echo "$it_name: ok: missing figures named: $why" ;;
*) it_check_fail "vitals_missing names CAP_NET_ADMIN" "'$why' '$why2'" ;;
esac
it_get sd '.phases.fault.vitals.runqueue_wait_rate'
echo "$it_name: ok: schedstat figures still measured (runqueue_wait_rate=$sd)"
reap_dd nocap

# 3. SIGINT in the fault phase: aborted, and the sysctl restored.
playbook int
"$FAULTGATE" run "$it_tmp/pb-int.yaml" --report-dir "$it_tmp/int" --no-progress \
	>"$it_tmp/int.console" 2>&1 &
runner=$!
it_track "$runner"
sleep 3
kill -INT "$runner"
wait "$runner"
it_rc=$?
it_console=$it_tmp/int.console
it_report=$it_tmp/int/report.json
it_expect_rc 1
v=$(jq -r .verdict "$it_report")
[ "$v" = aborted ] && echo "$it_name: ok: verdict aborted after SIGINT" ||
	it_check_fail "verdict aborted after SIGINT" "$v"
expect_restored "$old" "after SIGINT"
reap_dd int

# 4. SIGKILL: the guardian puts the old value back when the runner is gone.
playbook kill
"$FAULTGATE" run "$it_tmp/pb-kill.yaml" --report-dir "$it_tmp/kill" --no-progress \
	>"$it_tmp/kill.console" 2>&1 &
runner=$!
it_track "$runner"
sleep 3
[ "$(cat "$sysctl")" = 1 ] || it_check_fail "task_delayacct on during the run" "$(cat "$sysctl")"
kill -KILL "$runner"
wait "$runner" 2>/dev/null
for _ in $(seq 30); do
	[ "$(cat "$sysctl")" = "$old" ] && break
	sleep 0.1
done
expect_restored "$old" "after SIGKILL of the runner"
reap_dd kill
it_report=$it_tmp/priv/report.json
it_finish
