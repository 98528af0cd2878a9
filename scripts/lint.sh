#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cheap style checks: no C line over 100 columns, the share over 80 reported,
# no unexplained marks, no banned calls.
set -u
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')
[ -n "$files" ] || exit 0
rc=0
wide=$(for f in $files; do expand -t 8 "$f" |
	awk -v f="$f" 'length($0) > 100 {printf "%s:%d: line over 100 columns\n", f, NR}'; done)
if [ -n "$wide" ]; then
	echo "$wide"
	rc=1
fi
expand -t 8 $files | awk '{n++; if (length($0) > 80) a++}
	END {if (n) printf "lint: %d lines, %.1f%% over 80 columns\n", n, 100*a/n}'
if grep -nE '\b(XXX|HACK)\b|(TODO|FIXME):? *$' $files; then
	echo "lint: marks must say what is missing and why"
	rc=1
fi
if grep -nE '\b(sprintf|strcpy|strcat|atoi|atol|strtok|gets)\s*\(' $files; then
	echo "lint: banned call (use snprintf, checked strto*, strtok_r)"
	rc=1
fi
exit $rc
