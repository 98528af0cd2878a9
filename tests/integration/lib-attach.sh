# SPDX-License-Identifier: Apache-2.0
# Helpers of the attach tests: a service started outside faultgate, and the
# state a run must leave it in (no tracer, the original affinity masks, RSS
# back, answering). Sourced after lib-runs.sh.

# Journals of these tests are linked here, not in /run/faultgate, so that
# `faultgate recover` in one test never sees another's.
export FAULTGATE_RUN_DIR=$it_tmp/run

it_require_attach() {
	command -v jq >/dev/null || it_skip "jq is not installed"
	command -v taskset >/dev/null || it_skip "taskset is not installed"
	[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
	[ -x "$FG_VICTIMS/fg-svc" ] || it_fatal "$FG_VICTIMS/fg-svc is not built"
	[ "$(nproc)" -ge 2 ] || it_skip "needs 2 CPUs to see a pinned mask"
}

# it_fault_built "kind: K, key: value": whether this build serves the fault
# on a running process (faultgate check says "not in this version" if not).
it_fault_built() {
	local pb=$it_tmp/probe.yaml
	cat >"$pb" <<EOF
version: 1
name: probe
target: { pid: $svc_pid }
faults:
  - { $1 }
EOF
	"$FAULTGATE" check "$pb" >/dev/null 2>&1
}

# it_start_svc: fg-svc on a free port, started by the test (not faultgate);
# sets svc_pid, svc_port, svc_url.
it_start_svc() {
	svc_port=$(it_free_port)
	"$FG_VICTIMS/fg-svc" -addr "127.0.0.1:$svc_port" -file "$it_tmp/data" \
		>"$it_tmp/svc-$svc_port.log" 2>&1 &
	svc_pid=$!
	it_track "$svc_pid"
	echo hello >"$it_tmp/data"
	svc_url=http://127.0.0.1:$svc_port
	it_wait_http "$svc_url/healthz" || it_fatal "fg-svc did not start"
}

# it_masks PID: "tid mask" per thread.
it_masks() {
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s %s\n' "${t##*/}" "$(taskset -p "${t##*/}" 2>/dev/null | awk '{print $NF}')"
	done
}

# it_tracers PID: the TracerPid of every thread, one a line.
it_tracers() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^TracerPid:/ {print $2}' | sort -u
}

it_rss_kib() {
	awk '/^VmRSS:/ {print $2}' /proc/"$1"/status
}

# it_snapshot: remember the service's state before a case.
it_snapshot() {
	snap_mask=$(taskset -p "$svc_pid" | awk '{print $NF}')
	snap_rss=$(it_rss_kib "$svc_pid")
}

# it_restored CASE [TRIES]: the service is as it was (polls up to TRIES x
# 0.1 s for the guardian to finish): no tracer on any thread, every thread's
# mask the original one, RSS within 10% (or 4 MiB), and it answers.
it_restored() {
	local name=$1 tries=${2:-1} bad rss tracers
	for _ in $(seq "$tries"); do
		bad=$(it_masks "$svc_pid" | awk -v m="$snap_mask" '$2 != m' | head -3 | tr '\n' ' ')
		tracers=$(it_tracers "$svc_pid" | tr '\n' ' ')
		[ -z "$bad" ] && [ "$tracers" = "0 " ] && break
		sleep 0.1
	done
	it_check "$name: no tracer left" "\"$tracers\" == \"0 \"" "TracerPid $tracers"
	it_check "$name: every thread's affinity is the original $snap_mask" \
		"\"$bad\" == \"\"" "differing: $bad"
	rss=$(it_rss_kib "$svc_pid")
	it_check "$name: RSS back within 10%" \
		"$rss <= $snap_rss * 1.1 + 4096" "before ${snap_rss} KiB, after ${rss} KiB"
	if curl -fs -o /dev/null --max-time 2 "$svc_url/healthz"; then
		echo "$it_name: ok: $name: the service answers"
	else
		it_check_fail "$name: the service answers" "no answer from $svc_url/healthz"
	fi
}

# it_playbook FILE FAULTS_YAML [PHASES]: an attach playbook on the service.
it_playbook() {
	cat >"$1" <<EOF
version: 1
name: restore
target: { pid: $svc_pid }
load:
  http: { url: "$svc_url/healthz", rate: 20/s, timeout: 1s }
phases: ${3:-{ baseline: 1s, fault: 4s, recovery: 1s \}}
faults:
$2
EOF
}

# it_guardian_of RUNNER: the guardian's pid (a child named fg-guardian).
it_guardian_of() {
	local p
	for p in $(pgrep -P "$1" 2>/dev/null); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = fg-guardian ] && echo "$p"
	done
}
