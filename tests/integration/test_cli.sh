#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The faultgate command line as scripts see it: help, usage errors, exit
# codes, one-line playbook errors, the plan of `check`, and short `run`s
# without faults (a pass, a target dying in each phase, a target that never
# gets ready) with the reports they leave.
set -eu

src=${FG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${FG_BUILD_DIR:-$src/build}
FAULTGATE=${FAULTGATE:-$build/bin/faultgate}

[ -x "$FAULTGATE" ] || { echo "test_cli: $FAULTGATE is not built" >&2; exit 1; }
command -v jq >/dev/null || { echo "# test_cli: skipped: jq is not installed"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "test_cli: FAIL: $*" >&2
	failures=$((failures + 1))
}

# run_fg NAME ARGS...: run faultgate, keep stdout, stderr and the exit code.
run_fg() {
	local name=$1
	shift
	rc=0
	"$FAULTGATE" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	out=$tmp/$name.out
	err=$tmp/$name.err
}

expect_rc() {
	local what=$1 want=$2
	if [ "$rc" -ne "$want" ]; then
		fail "$what: exit $rc, expected $want; stderr:"
		sed 's/^/    /' "$err" >&2
		return 1
	fi
	return 0
}

expect_one_line() {
	local what=$1 n
	n=$(wc -l <"$err")
	if [ "$n" -ne 1 ]; then
		fail "$what: $n lines on stderr, expected 1:"
		sed 's/^/    /' "$err" >&2
		return 1
	fi
	return 0
}

# --- help, version, usage errors ----------------------------------------

run_fg help --help
expect_rc "--help" 0 || true
grep -q "Exit codes" "$out" || fail "--help does not explain the exit codes"
for code in 0 1 2; do
	grep -qE "^ +$code " "$out" || fail "--help does not describe exit code $code"
done
grep -q "faultgate run" "$out" || fail "--help has no example"

for cmd in run check; do
	run_fg "help-$cmd" help "$cmd"
	expect_rc "help $cmd" 0 || true
	grep -q "Usage: faultgate $cmd" "$out" || fail "help $cmd prints no usage"
	run_fg "$cmd-help" "$cmd" --help
	expect_rc "$cmd --help" 0 || true
	cmp -s "$out" "$tmp/help-$cmd.out" || fail "'$cmd --help' differs from 'help $cmd'"
done

run_fg version --version
expect_rc "--version" 0 || true
grep -qE '^faultgate [0-9]+\.[0-9]+' "$out" || fail "--version prints '$(cat "$out")'"

run_fg badopt --frobnicate
expect_rc "unknown option" 2 && expect_one_line "unknown option" || true
grep -q -- "--frobnicate" "$err" || fail "unknown option: the option is not named"
grep -q "see faultgate --help" "$err" || fail "unknown option: no hint"

run_fg badopt-run run --frobnicate x.yaml
expect_rc "run --frobnicate" 2 && expect_one_line "run --frobnicate" || true
grep -q -- "--frobnicate" "$err" || fail "run --frobnicate: the option is not named"

run_fg noarg run --report-dir
expect_rc "run --report-dir without a value" 2 && expect_one_line "--report-dir" || true

run_fg badlevel check --log-level loud x.yaml
expect_rc "--log-level loud" 2 && expect_one_line "--log-level loud" || true

run_fg nocmd
expect_rc "no command" 2 && expect_one_line "no command" || true

run_fg badcmd frobnicate
expect_rc "unknown command" 2 && expect_one_line "unknown command" || true

run_fg inject-nokind inject --pid 1
expect_rc "inject without KIND" 2 && expect_one_line "inject without KIND" || true
grep -q "missing the fault KIND" "$err" || fail "inject without KIND: '$(cat "$err")'"
run_fg inject-nopid inject pin-threads cpus=0
expect_rc "inject without --pid" 2 && expect_one_line "inject without --pid" || true
run_fg inject-badparam inject pin-threads --pid 1 cpus
expect_rc "inject with a bad parameter" 2 && expect_one_line "inject bad parameter" || true
grep -q "'cpus': parameters are KEY=VALUE" "$err" || fail "inject bad parameter: '$(cat "$err")'"
run_fg recover-extra recover extra
expect_rc "recover with an argument" 2 && expect_one_line "recover with an argument" || true

run_fg missing check "$tmp/no-such-playbook.yaml"
expect_rc "missing playbook" 2 && expect_one_line "missing playbook" || true
grep -q "no-such-playbook.yaml" "$err" || fail "missing playbook: the file is not named"

# --- check: invalid fixtures give exactly their expected line -------------

shopt -s nullglob
n_invalid=0
for f in "$src"/tests/data/playbooks/invalid/*.yaml; do
	n_invalid=$((n_invalid + 1))
	expect=$(head -n 1 "$f" | sed -n 's/^# expect: *//p')
	if [ -z "$expect" ]; then
		fail "$f: first line is not '# expect: LINE:COL: text'"
		continue
	fi
	pos=${expect%%: *}
	text=${expect#*: }
	run_fg invalid check "$f"
	expect_rc "check $f" 2 && expect_one_line "check $f" || continue
	[ -s "$out" ] && fail "check $f: printed a plan for an invalid playbook"
	line=$(cat "$err")
	case "$line" in
	"$f:$pos: "*"$text"*) ;;
	*) fail "check $f: got '$line', expected '$f:$pos: ...$text...'" ;;
	esac
done
echo "# test_cli: $n_invalid invalid playbooks checked"

for f in "$src"/playbooks/examples/*.yaml; do
	run_fg example check "$f"
	case $rc in
	0)
		grep -q "^phases" "$out" || fail "check $f: the plan has no phases"
		;;
	2)
		[ -s "$err" ] || fail "check $f: exit 2 without a reason"
		;;
	*)
		fail "check $f: exit $rc"
		;;
	esac
done

# --- run -----------------------------------------------------------------

# write_playbook FILE NAME DIR COMMAND-FLOW-SEQUENCE [EXTRA-YAML]
write_playbook() {
	cat >"$1" <<EOF
version: 1
name: $2
target:
  command: $4
  stop_grace: 1s
$5
load:
  command: { argv: [/bin/true], every: 200ms }
phases: { baseline: 1s, fault: 1s, recovery: 1s }
gates:
  - errors.rate < 1%
report: { dir: $3 }
EOF
}

out_dir=$(mktemp -d -p "$tmp")
write_playbook "$tmp/pass.yaml" cli-pass "$out_dir" '[/bin/sleep, "30"]' ""
run_fg check-pass check "$tmp/pass.yaml"
expect_rc "check pass.yaml" 0 || true
run_fg pass run "$tmp/pass.yaml" --no-progress --quiet
if expect_rc "run pass.yaml" 0; then
	[ "$(jq -r .verdict "$out_dir/report.json")" = pass ] ||
		fail "run pass.yaml: verdict $(jq -r .verdict "$out_dir/report.json")"
	[ -s "$out_dir/junit.xml" ] || fail "run pass.yaml: no junit.xml"
	grep -q "<testsuite" "$out_dir/junit.xml" || fail "run pass.yaml: junit.xml has no testsuite"
	[ -e "$out_dir/target.log" ] || fail "run pass.yaml: no target.log"
fi
pgrep -f "^/bin/sleep 30$" >/dev/null && fail "run pass.yaml: the target was left running"

# --report-dir overrides report.dir
alt_dir=$tmp/alt/nested
run_fg alt run "$tmp/pass.yaml" --no-progress --quiet --report-dir "$alt_dir"
expect_rc "run --report-dir" 0 || true
[ -s "$alt_dir/report.json" ] || fail "run --report-dir: no $alt_dir/report.json"

out_dir=$(mktemp -d -p "$tmp")
write_playbook "$tmp/early.yaml" cli-early "$out_dir" \
	"[/bin/sh, -c, 'sleep 0.4; exit 3']" ""
run_fg early run "$tmp/early.yaml" --no-progress --quiet
if expect_rc "target exits during the baseline" 2; then
	[ "$(jq -r .verdict "$out_dir/report.json")" = error ] ||
		fail "target exits during the baseline: verdict is not error"
fi

out_dir=$(mktemp -d -p "$tmp")
write_playbook "$tmp/dies.yaml" cli-dies "$out_dir" \
	"[/bin/sh, -c, 'sleep 1.5; exit 4']" ""
run_fg dies run "$tmp/dies.yaml" --no-progress --quiet
if expect_rc "target exits during the fault phase" 1; then
	j=$out_dir/report.json
	[ "$(jq -r .verdict "$j")" = fail ] || fail "target exits mid-fault: verdict is not fail"
	[ "$(jq '[.gates[] | select(.expr == "target.alive")][0].pass' "$j")" = false ] ||
		fail "target exits mid-fault: target.alive did not fail"
	[ "$(jq '.target.alive' "$j")" = false ] || fail "target exits mid-fault: target.alive"
fi

out_dir=$(mktemp -d -p "$tmp")
write_playbook "$tmp/never.yaml" cli-never "$out_dir" \
	"[/bin/sh, -c, 'echo first line; echo still-booting-marker; exec sleep 30']" \
	'  ready: { tcp: "127.0.0.1:9", timeout: 1s }'
run_fg never run "$tmp/never.yaml" --no-progress --quiet
if expect_rc "target never ready" 2; then
	grep -q "still-booting-marker" "$err" ||
		fail "target never ready: its last output line is not shown"
	# CI still gets a report saying why: verdict error, the reason.
	[ "$(jq -r .verdict "$out_dir/report.json" 2>/dev/null)" = error ] ||
		fail "target never ready: no report.json with verdict error"
	jq -r .verdict_reason "$out_dir/report.json" | grep -q "not ready" ||
		fail "target never ready: the report does not say why"
	grep -q 'name="faultgate.run"' "$out_dir/junit.xml" ||
		fail "target never ready: junit.xml has no failing faultgate.run case"
fi
pgrep -f "^sleep 30$" >/dev/null && fail "target never ready: the target was left running"

if [ "$failures" -ne 0 ]; then
	echo "test_cli: $failures failures" >&2
	exit 1
fi
echo "test_cli: ok"
