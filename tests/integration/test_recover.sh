#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `faultgate recover` on journals written by hand: an affinity entry is
# reverted (and only once), a reused pid is left alone, a closed journal and
# an empty run-state directory mean nothing to do (exit 0).
. "$(dirname "$0")/lib-runs.sh"
. "$(dirname "$0")/lib-attach.sh"

[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
command -v taskset >/dev/null || it_skip "taskset is not installed"
[ "$(nproc)" -ge 2 ] || it_skip "needs 2 CPUs"
it_report=/dev/null

out=$it_tmp/recover.out
"$FAULTGATE" recover >"$out" 2>&1
rc=$?
it_check "empty run dir: exit 0" "$rc == 0" "exit $rc"
grep -q "nothing to recover" "$out" || it_check_fail "empty run dir says so" "$(cat "$out")"

sleep 60 &
victim=$!
it_track "$victim"
start=$(awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[20] }' /proc/$victim/stat)
taskset -p 1 "$victim" >/dev/null
j=$it_tmp/journal
printf 'target pid=%d start=%s\nbegin 1 affinity pid=%d tid=%d mask=3\n' \
	"$victim" "$start" "$victim" "$victim" >"$j"
"$FAULTGATE" recover --journal "$j" >"$out" 2>&1
rc=$?
it_check "affinity entry: exit 0" "$rc == 0" "exit $rc: $(cat "$out")"
mask=$(taskset -p "$victim" | awk '{print $NF}')
it_check "affinity entry: mask restored to 3" "\"$mask\" == \"3\"" "mask $mask"
grep -qx "end 1" "$j" || it_check_fail "the entry is marked done" "$(cat "$j")"

taskset -p 1 "$victim" >/dev/null
"$FAULTGATE" recover --journal "$j" >"$out" 2>&1
mask=$(taskset -p "$victim" | awk '{print $NF}')
it_check "replayed twice: nothing done again" "\"$mask\" == \"1\"" "mask $mask"

printf 'target pid=%d start=1\nbegin 1 affinity pid=%d tid=%d mask=3\n' \
	"$victim" "$victim" "$victim" >"$j"
"$FAULTGATE" recover --journal "$j" >"$out" 2>&1
mask=$(taskset -p "$victim" | awk '{print $NF}')
it_check "reused pid: left alone" "\"$mask\" == \"1\"" "mask $mask"

"$FAULTGATE" recover --journal "$it_tmp/none" >"$out" 2>&1
rc=$?
it_check "missing journal: exit 2" "$rc == 2" "exit $rc: $(cat "$out")"

it_finish
