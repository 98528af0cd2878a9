#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pin-threads on a dynamically linked target that keeps creating threads:
# the shim's pthread_create hook pins each thread created inside the window
# before it runs, so every such thread's first look at its own CPU mask
# already shows the pinned CPU. The victim (-r) widens its creating
# thread's mask to every CPU before each pthread_create, so a new thread
# cannot merely inherit the pin set on its creator from outside, and a
# rescan (every 100 ms) could only catch it later. Threads created after
# the window get the original mask again. The victim prints
# "spawn MS MASK" from each new thread.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
command -v jq >/dev/null || it_skip "jq is not installed"
[ "$(nproc)" -ge 2 ] || it_skip "needs at least 2 CPUs, have $(nproc)"
victim=$FG_VICTIMS/threadspawn
[ -x "$victim" ] || it_fatal "$victim is not built"

cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-pin-new-threads
target:
  command: [$victim, -r]
  ready: { after: 100ms }
load:
  command: { argv: [/bin/true], every: 500ms }
phases: { baseline: 1s, fault: 2s, recovery: 1s }
faults:
  - { kind: pin-threads, cpus: [0] }
YAML
it_run "$it_tmp/pb.yaml" "$it_tmp/out"
it_expect_rc 0

log=$it_tmp/out/target.log
all=$(awk '$1 == "spawn" && $3 != "1"' "$log" | wc -l)
# Thread start times are since the victim started, about 100 ms (ready)
# before the baseline: the window is [1.1 s, 3.1 s) on that clock, give or
# take a tick of the runner (100 ms) at each edge.
inside=$(awk '$1 == "spawn" && $2 >= 1300 && $2 < 2900' "$log" | wc -l)
inside_pinned=$(awk '$1 == "spawn" && $2 >= 1300 && $2 < 2900 && $3 == "1"' "$log" | wc -l)
after_orig=$(awk '$1 == "spawn" && $2 >= 3400 && $3 != "1"' "$log" | wc -l)
it_get pinned '.faults[0].counters.threads_pinned'
m="$inside_pinned of $inside threads created inside the window saw mask 1 at start;"
m="$m $after_orig unpinned after it; $all unpinned overall; threads_pinned=$pinned"
it_check "threads created inside the window start pinned" \
	"$inside >= 20 && $inside_pinned == $inside" "$m"
it_check "threads created after the window start with the original mask" \
	"$after_orig >= 5" "$m"
it_finish
