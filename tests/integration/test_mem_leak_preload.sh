#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mem-leak through the shim's leak thread in a dynamically linked (cgo) Go
# service: rate 32MiB/s, limit 256MiB, touch: true. The fault phase (10 s)
# outlasts the 8 s the limit takes, so rss.growth during fault is within 10%
# of 256 MiB; the window ends with the phase, the thread unmaps everything
# (release defaults to true), and the recovery's RSS is back within 10% of
# the baseline's.
# it_get assigns the measured values; shellcheck cannot see that.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
command -v jq >/dev/null || it_skip "jq is not installed"
[ -x "$FAULTGATE" ] || it_fatal "$FAULTGATE is not built"
[ -x "$FG_VICTIMS/fg-cgosvc" ] || it_skip "fg-cgosvc was not built (no cgo toolchain?)"
shim=$(dirname "$FAULTGATE")/../lib/libfaultgate-preload.so
[ -r "$shim" ] || it_skip "the preload shim is not built ($shim)"
avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
[ "${avail:-0}" -gt 768 ] || it_skip "less than 768 MiB of memory available"

port=$(it_free_port)
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-mem-leak-preload
target:
  command: [$FG_VICTIMS/fg-cgosvc, -addr, "127.0.0.1:$port"]
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http: { url: "http://127.0.0.1:$port/healthz", rate: 5/s, connections: 4, timeout: 2s }
phases: { baseline: 4s, fault: 10s, recovery: 3s }
faults:
  - { kind: mem-leak, rate: 32MiB/s, limit: 256MiB, touch: true }
gates:
  - errors.rate < 1%
YAML

it_run "$it_tmp/pb.yaml" "$it_tmp/out"
it_expect_rc 0
it_get growth '.phases.fault.vitals.rss_growth_bytes'
it_get base '.phases.baseline.vitals.rss_end_bytes'
it_get rec '.phases.recovery.vitals.rss_end_bytes'
it_get mapped '.faults[0].counters.bytes_mapped'
it_get touched '.faults[0].counters.bytes_touched'
backend=$(jq -r '.faults[0].backend' "$it_report")
lim=$((256 << 20))
mib() { awk "BEGIN { printf \"%.1fMiB\", $1 / 1048576 }"; }
it_check "backend is preload" "\"$backend\" == \"preload\"" "backend=$backend"
it_check "rss.growth during fault within 10% of 256MiB" \
	"$growth >= 0.9 * $lim && $growth <= 1.1 * $lim" "growth=$(mib "$growth")"
it_check "recovery rss.end within 10% of baseline" \
	"$rec >= 0.9 * $base && $rec <= 1.1 * $base" \
	"baseline=$(mib "$base") recovery=$(mib "$rec")"
it_check "bytes_mapped = bytes_touched = 256MiB" "$mapped == $lim && $touched == $lim" \
	"mapped=$mapped touched=$touched"
it_finish
