#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Attach targets that cannot be acted on: no matching process, two matches,
# a process already traced, a pid that does not exist, faultgate itself.
# Each is one clear line on stderr and exit 2, before anything is touched.
. "$(dirname "$0")/lib-runs.sh"
. "$(dirname "$0")/lib-attach.sh"

it_require_attach
it_report=/dev/null

# Two sleepers with a command line nobody else has.
tag=fgs$$
bash -c "exec -a ${tag}-a sleep 120" &
a=$!
it_track "$a"
bash -c "exec -a ${tag}-b sleep 120" &
b=$!
it_track "$b"
sleep 0.2

# expect_refusal NAME TARGET_YAML PATTERN: `run` exits 2 with one line
# matching PATTERN.
expect_refusal() {
	local pb=$it_tmp/$1.yaml err=$it_tmp/$1.err n rc=0
	cat >"$pb" <<EOF
version: 1
name: $1
target: $2
phases: { baseline: 1s, fault: 1s, recovery: 1s }
faults:
  - { kind: pin-threads, cpus: [0] }
EOF
	"$FAULTGATE" run "$pb" --report-dir "$it_tmp/out-$1" --no-progress >/dev/null 2>"$err" ||
		rc=$?
	n=$(wc -l <"$err")
	it_check "$1: exit 2" "$rc == 2" "exit $rc"
	it_check "$1: one line on stderr" "$n == 1" "$(tr '\n' '|' <"$err")"
	if grep -qE "$3" "$err"; then
		echo "$it_name: ok: $1: $(cat "$err")"
	else
		it_check_fail "$1: message matches /$3/" "$(cat "$err")"
	fi
}

expect_refusal no-match "{ process: { name: ${tag}-none } }" \
	"no running process matches target.process.name '${tag}-none'"
expect_refusal two-matches "{ process: { cmdline: \"^${tag}-[ab]\" } }" \
	"matches 2 processes, it must match one: [0-9]+ \\(${tag}-[ab] 120\\), [0-9]+ \\(${tag}-[ab] 120\\)"
expect_refusal bad-pid "{ pid: 4194304 }" "target.pid 4194304: no such process"
expect_refusal self "{ pid: $$ }" "is faultgate itself or one of its parents"

# Already traced: strace holds one sleeper.
if command -v strace >/dev/null; then
	strace -p "$a" -o /dev/null &
	tracer=$!
	it_track "$tracer"
	for _ in $(seq 50); do
		[ "$(awk '/^TracerPid:/ {print $2}' /proc/"$a"/status)" != 0 ] && break
		sleep 0.1
	done
	expect_refusal traced "{ pid: $a }" \
		"pid $a \\('sleep'\\) is already traced by pid $tracer \\('strace'\\)"
	kill "$tracer"
else
	echo "# $it_name: strace is not installed; the already-traced case is not run"
fi

# The one match is found, and faultgate's own processes never match.
pb=$it_tmp/one.yaml
cat >"$pb" <<EOF
version: 1
name: one
target: { process: { cmdline: "^${tag}-b" } }
faults:
  - { kind: pin-threads, cpus: [0] }
EOF
rc=0
"$FAULTGATE" check "$pb" >"$it_tmp/one.out" 2>&1 || rc=$?
it_check "check finds the one match" "$rc == 0" "exit $rc: $(tr '\n' '|' <"$it_tmp/one.out")"
grep -q "pid $b: ${tag}-b 120" "$it_tmp/one.out" ||
	it_check_fail "check names the selected process" "$(cat "$it_tmp/one.out")"

it_finish
