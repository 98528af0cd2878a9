#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The malformed-playbook corpus is large enough: at least 30 fixtures in
# tests/data/playbooks/invalid, each starting with its "# expect:" line.
# test_cli.sh runs `faultgate check` on every one of them and compares the
# message and the exit code; this test only guards the corpus from shrinking.
set -uo pipefail
src=${FG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
dir=$src/tests/data/playbooks/invalid
min=30

shopt -s nullglob
n=0
bad=0
for f in "$dir"/*.yaml; do
	n=$((n + 1))
	if ! head -n 1 "$f" | grep -qE '^# expect: [0-9]+:[0-9]+: .+'; then
		echo "test_invalid_fixtures: FAIL: $f: first line is not '# expect: LINE:COL: text'" >&2
		bad=$((bad + 1))
	fi
done
if [ "$n" -lt "$min" ]; then
	echo "test_invalid_fixtures: FAIL: $n invalid playbooks in $dir, want at least $min" >&2
	exit 1
fi
[ "$bad" -eq 0 ] || exit 1
echo "test_invalid_fixtures: ok: $n invalid playbooks, each with its expected message"
