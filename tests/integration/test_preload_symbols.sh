#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The shim exports exactly the libc names of injector/symbols.map: nothing of
# its own (helpers, state) leaks into the target's symbol namespace, and
# every listed wrapper is really there.
set -uo pipefail
name=$(basename "$0" .sh)
src=${FG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${FG_BUILD_DIR:-$src/build}
shim=$build/lib/libfaultgate-preload.so
map=$src/injector/symbols.map

command -v nm >/dev/null || { echo "# $name: skipped: nm is not installed"; exit 77; }
[ -r "$shim" ] || { echo "$name: FAIL: $shim is not built" >&2; exit 1; }

# Names between "global:" and "local:", one per line.
want=$(sed -n '/global:/,/local:/p' "$map" | sed -n 's/^[[:space:]]*\([A-Za-z0-9_]*\);.*/\1/p' |
	LC_ALL=C sort)
got=$(nm -D --defined-only "$shim" | awk '{print $NF}' | sed 's/@.*//' | LC_ALL=C sort -u)
fail=0
if ! sed -n '/global:/,/local:/p' "$map" | sed -n 's/^[[:space:]]*\([A-Za-z0-9_]*\);.*/\1/p' |
	LC_ALL=C sort -c 2>/dev/null; then
	echo "$name: FAIL: $map: the global list is not sorted (LC_ALL=C)" >&2
	fail=1
fi
extra=$(LC_ALL=C comm -13 <(echo "$want") <(echo "$got"))
missing=$(LC_ALL=C comm -23 <(echo "$want") <(echo "$got"))
if [ -n "$extra" ]; then
	echo "$name: FAIL: exported but not in symbols.map: $(echo $extra)" >&2
	fail=1
fi
if [ -n "$missing" ]; then
	echo "$name: FAIL: in symbols.map but not defined: $(echo $missing)" >&2
	fail=1
fi
[ "$fail" -eq 0 ] || exit 1
echo "$name: ok: $(echo "$got" | wc -l) exported names, all wrapped libc calls"
echo "$name: PASS"
