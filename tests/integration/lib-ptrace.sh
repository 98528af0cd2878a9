# SPDX-License-Identifier: Apache-2.0
# Shared by the test_ptrace_*.sh tests (sourced after lib-runs.sh): run one
# ptrace fault against the static Go fg-svc and the C csvc, each once
# launched by faultgate and once started outside it and attached by pid
# (when this build accepts `target: { pid: N }`). Each scenario is tried
# twice before it counts as failed: the machine is shared, and one bad second
# of a neighbour's load can spoil a short phase.

# Phases of every scenario (seconds).
pt_base=3
pt_fault=5
pt_rec=3

it_require_ptrace() {
	command -v jq >/dev/null || it_skip "jq is not installed"
	[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
	[ -x "$FG_VICTIMS/csvc" ] || it_fatal "$FG_VICTIMS/csvc is not built"
	sleep 30 &
	local p=$!
	if ! python3 -c "import ctypes,sys; l=ctypes.CDLL(None); \
sys.exit(0 if l.ptrace(0x4206, $p, 0, 0) == 0 else 1)" 2>/dev/null; then
		kill "$p"
		it_skip "ptrace is not permitted here (PTRACE_SEIZE of a child failed)"
	fi
	kill "$p"
	wait "$p" 2>/dev/null
	echo hello >"$it_tmp/data"
}

# pt_attach_supported: whether this build runs playbooks with target.pid.
pt_attach_supported() {
	local p r
	sleep 30 &
	p=$!
	cat >"$it_tmp/probe.yaml" <<YAML
version: 1
name: probe
target: { pid: $p }
load: { command: { argv: [/bin/true], every: 1s } }
phases: { baseline: 1s, fault: 1s, recovery: 1s }
faults:
  - { kind: freeze-thread, hold: 100ms }
YAML
	"$FAULTGATE" check "$it_tmp/probe.yaml" >/dev/null 2>&1
	r=$?
	kill "$p"
	wait "$p" 2>/dev/null
	return $r
}

# pt_victim_argv VICTIM PORT: the command line as a YAML flow list.
pt_victim_argv() {
	case $1 in
	csvc) echo "[$FG_VICTIMS/csvc, -a, \"127.0.0.1:$2\", -f, $it_tmp/data]" ;;
	*) echo "[$FG_VICTIMS/fg-svc, -addr, \"127.0.0.1:$2\", -file, $it_tmp/data]" ;;
	esac
}

# pt_playbook NAME TARGET_YAML PORT FAULT_YAML
pt_playbook() {
	cat <<YAML
version: 1
name: it-$1
target: $2
load:
  http: { url: "http://127.0.0.1:$3/work", rate: ${pt_rate:-50}/s, connections: 32, timeout: 3s }
phases: { baseline: ${pt_base}s, fault: ${pt_fault}s, recovery: ${pt_rec}s }
faults:
  - $4
YAML
}

# pt_scenario_once VICTIM MODE FAULT_YAML: run once (launch|attach); sets
# pt_pid (attached target), pt_label and pt_tracer (the last TracerPid seen
# while faultgate ran, so in the recovery phase or after).
pt_scenario_once() {
	local victim=$1 mode=$2 fault=$3 port target label=$1-$2
	port=$(it_free_port)
	pt_pid=
	if [ "$mode" = attach ]; then
		# shellcheck disable=SC2046
		eval "set -- $(pt_victim_argv "$victim" "$port" | tr -d '[],')"
		"$@" >"$it_tmp/$label.log" 2>&1 &
		pt_pid=$!
		it_track "$pt_pid"
		it_wait_http "http://127.0.0.1:$port/healthz" ||
			it_fatal "$label did not come up: $(cat "$it_tmp/$label.log")"
		target="{ pid: $pt_pid }"
	else
		target="{ command: $(pt_victim_argv "$victim" "$port"),
          ready: { http: \"http://127.0.0.1:$port/healthz\", timeout: 10s }, stop_grace: 3s }"
	fi
	pt_playbook "$label" "$target" "$port" "$fault" >"$it_tmp/$label.yaml"
	# The last TracerPid seen while faultgate runs: the target lives on
	# into the recovery phase, after every ptrace window has closed.
	rm -f "$it_tmp/$label.done" "$it_tmp/$label.tracer"
	(
		last=
		while [ ! -e "$it_tmp/$label.done" ]; do
			p=$(pgrep -f "127.0.0.1:$port" | head -1)
			t=$(awk '/^TracerPid:/ {print $2}' "/proc/$p/status" 2>/dev/null)
			[ -n "$t" ] && last=$t && echo "$last" >"$it_tmp/$label.tracer"
			sleep 0.2
		done
	) &
	local watcher=$!
	it_run "$it_tmp/$label.yaml" "$it_tmp/out-$label"
	touch "$it_tmp/$label.done"
	wait "$watcher"
	pt_tracer=$(cat "$it_tmp/$label.tracer" 2>/dev/null)
	pt_label=$label
}

# pt_scenario VICTIM MODE FAULT_YAML CHECK_FN
pt_scenario() {
	local attempt
	for attempt in 1 2; do
		it_failed=0
		pt_scenario_once "$1" "$2" "$3"
		"$4" "$pt_label"
		[ -n "$pt_pid" ] && kill "$pt_pid" 2>/dev/null
		[ "$it_failed" -eq 0 ] && return 0
		echo "$it_name: $pt_label: attempt $attempt failed" >&2
	done
	pt_any_failed=1
}

pt_any_failed=0

# pt_all FAULT_YAML CHECK_FN: every victim, launched and attached.
pt_all() {
	local v
	for v in fg-svc csvc; do
		pt_scenario "$v" launch "$1" "$2"
	done
	if pt_attach_supported; then
		for v in fg-svc csvc; do
			pt_scenario "$v" attach "$1" "$2"
		done
	else
		echo "# $it_name: this build cannot attach to a pid yet; attach scenarios skipped"
	fi
	it_failed=$pt_any_failed
	it_finish
}

# pt_check_tracer LABEL: the target was not traced after the window.
pt_check_tracer() {
	it_check "$1: TracerPid 0 at the end of the run" "${pt_tracer:--1} == 0" \
		"TracerPid=${pt_tracer:-unreadable}"
	if [ -n "$pt_pid" ]; then
		local t
		t=$(awk '/^TracerPid:/ {print $2}' "/proc/$pt_pid/status" 2>/dev/null)
		it_check "$1: TracerPid 0 after the run" "${t:--1} == 0" "TracerPid=$t"
		curl -fs -o /dev/null --max-time 2 "$(pt_url_of "$pt_pid")" ||
			it_check_fail "$1: the service answers after the run" "no answer"
	fi
}

# pt_url_of PID: the /healthz URL of an attached victim.
pt_url_of() {
	local a
	a=$(tr '\0' ' ' <"/proc/$1/cmdline" | grep -o '127.0.0.1:[0-9]*')
	echo "http://$a/healthz"
}
