# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the integration tests that run `faultgate run` against a
# victim. Sourced, not run (ctest registers only test_*.sh). Each test gets a
# scratch directory, free ports, a cleanup trap that ends everything it
# started, and assertions that print what was measured when they fail.

set -uo pipefail

it_name=$(basename "$0" .sh)
it_src=${FG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
it_build=${FG_BUILD_DIR:-$it_src/build}
FAULTGATE=${FAULTGATE:-$it_build/bin/faultgate}
FG_VICTIMS=${FG_VICTIMS:-$it_build/victims}
it_failed=0
it_pids=()

it_skip() {
	echo "# $it_name: skipped: $*"
	exit 77
}

it_fatal() {
	echo "$it_name: FAIL: $*" >&2
	exit 1
}

# Seccomp user notification, which every fault of these tests goes through.
it_require_notify() {
	local avail=/proc/sys/kernel/seccomp/actions_avail
	grep -qw user_notif "$avail" 2>/dev/null ||
		it_skip "seccomp user notification is not available ($avail)"
	command -v jq >/dev/null || it_skip "jq is not installed"
	[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
}

it_cleanup() {
	local p
	for p in "${it_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${it_pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	if [ "$it_failed" -eq 0 ] || [ -z "${FG_KEEP_TMP:-}" ]; then
		rm -rf "$it_tmp"
	else
		echo "$it_name: kept $it_tmp" >&2
	fi
}

it_tmp=$(mktemp -d "/tmp/fg-it-$it_name.XXXXXX")
trap it_cleanup EXIT
trap 'exit 130' INT TERM

# it_track PID: end PID (TERM, then KILL) when the test exits.
it_track() {
	it_pids+=("$1")
}

# it_port_in_use PORT: whether a TCP socket is bound to PORT (IPv4 or IPv6).
it_port_in_use() {
	local hex
	hex=$(printf ':%04X ' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{print $2" "}' | grep -q "$hex"
}

# it_free_port: a TCP port nobody listens on, picked at random so tests run
# side by side do not collide, and below the kernel's ephemeral range, so
# no client socket of the run can take it between the pick and the bind.
it_free_port() {
	local p lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	[ "$lo" -gt 12000 ] || lo=32768
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % (lo - 10000)))
		if ! it_port_in_use "$p"; then
			echo "$p"
			return 0
		fi
	done
	it_fatal "no free TCP port found"
}

# it_upstream: start an fg-svc as the upstream U of a test on a free port
# (sets up_port), and pick another free port for the service under test
# (sets svc_port).
it_upstream() {
	up_port=$(it_free_port)
	svc_port=$(it_free_port)
	while [ "$svc_port" = "$up_port" ]; do
		svc_port=$(it_free_port)
	done
	"$FG_VICTIMS/fg-svc" -addr "127.0.0.1:$up_port" -file "$it_tmp/up.data" \
		>"$it_tmp/upstream.log" 2>&1 &
	it_track $!
	it_wait_http "http://127.0.0.1:$up_port/healthz" ||
		it_fatal "upstream did not come up: $(cat "$it_tmp/upstream.log")"
}

# it_wait_http URL [TRIES]: wait until URL answers 2xx (0.1 s per try).
it_wait_http() {
	local tries=${2:-50}
	for _ in $(seq "$tries"); do
		curl -fs -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
	done
	return 1
}

# it_run PLAYBOOK OUTDIR: faultgate run with its console in OUTDIR.console;
# sets it_rc and it_report.
it_run() {
	it_console=$2.console
	"$FAULTGATE" run "$1" --report-dir "$2" --no-progress >"$it_console" 2>&1
	it_rc=$?
	it_report=$2/report.json
	if [ ! -s "$it_report" ]; then
		sed 's/^/  console: /' "$it_console" >&2
		it_fatal "no report.json in $2 (faultgate exit $it_rc)"
	fi
}

# it_expect_rc WANT: the last run's exit code, showing its console if not.
it_expect_rc() {
	if [ "$it_rc" -ne "$1" ]; then
		sed 's/^/  console: /' "$it_console" >&2
		it_check_fail "faultgate exit code $it_rc, expected $1" \
			"verdict=$(jq -r .verdict "$it_report")"
	else
		echo "$it_name: ok: faultgate exit code $it_rc"
	fi
}

# it_get VAR JQ_EXPR: store a number from the last report in VAR; the test
# fails at once if the report has no number there.
it_get() {
	local v
	v=$(jq -r "$2" "$it_report" 2>/dev/null)
	case $v in
	'' | null | *[!0-9.eE+-]*)
		it_failed=1
		it_fatal "report.json has no number at $2 (got '$v')"
		;;
	*) ;;
	esac
	printf -v "$1" '%s' "$v"
}

it_check_fail() {
	echo "$it_name: FAIL: $1 (measured: $2)" >&2
	it_failed=1
}

# it_check DESCRIPTION AWK_CONDITION MEASURED: assert a numeric condition
# (awk syntax, numbers already substituted) and print MEASURED if it fails.
it_check() {
	if awk "BEGIN { exit !($2) }"; then
		echo "$it_name: ok: $1 ($3)"
	else
		it_check_fail "$1" "$3"
	fi
}

it_finish() {
	if [ "$it_failed" -ne 0 ]; then
		echo "$it_name: report: $it_report" >&2
		jq -c '{verdict, phases: (.phases | map_values({latency_ms, errors, requests})),
			faults: [.faults[]? | {kind, counters}]}' "$it_report" >&2 2>/dev/null
		exit 1
	fi
	echo "$it_name: PASS"
	exit 0
}

# it_gosvc NAME ARGS...: fg-gosvc with GOMAXPROCS=2 and ARGS on a free
# port, answering; its log is $it_tmp/NAME.log. Sets port and svc (the pid).
it_gosvc() {
	local name=$1
	shift
	port=$(it_free_port)
	GOMAXPROCS=2 "$FG_VICTIMS/fg-gosvc" -addr "127.0.0.1:$port" "$@" \
		>"$it_tmp/$name.log" 2>&1 &
	svc=$!
	it_track $svc
	it_wait_http "http://127.0.0.1:$port/healthz" || it_fatal "fg-gosvc did not come up"
}
