#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the example playbook against the demo service and says where the
# reports are. Builds nothing: `make demo` builds first.
# Usage: scripts/demo.sh [BUILD_DIR]   (default: build)
# Exit code: faultgate's own (0 pass, 1 fail or aborted, 2 could not run).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in
/*) ;;
*) build=$root/$build ;;
esac
fg=$build/bin/faultgate
svc=$build/victims/fg-svc
for f in "$fg" "$svc"; do
	if [ ! -x "$f" ]; then
		echo "demo: $f is missing; run 'make demo' (or 'make') first" >&2
		exit 2
	fi
done

# The playbook names build/victims/fg-svc relative to the repository root.
# For another build directory, run a copy that names that one instead.
playbook=$root/playbooks/examples/slow-io.yaml
tmp=
if [ "$(realpath "$build")" != "$(realpath -m "$root/build")" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	sed "s#build/victims/fg-svc#$build/victims/fg-svc#" "$playbook" >"$tmp/slow-io.yaml"
	playbook=$tmp/slow-io.yaml
fi

out=$build/demo-out
mkdir -p "$out"
cd "$root" || exit 2
echo "demo: $fg run ${playbook#"$root"/} --report-dir $out"
"$fg" run "$playbook" --report-dir "$out"
rc=$?
echo
echo "demo: exit code $rc; reports in $out:"
for f in report.json junit.xml report.html target.log; do
	[ -e "$out/$f" ] && echo "  $out/$f"
done
exit $rc
