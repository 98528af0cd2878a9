#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# report.html draws in a real browser: headless Chromium (Debian's package)
# renders the report of a slow-io run into a screenshot, which must have the
# window's size and not be blank; every chart is in the page, and Chromium
# logs no console error. The page needs no script, so none may fail.
# shellcheck disable=SC2154 source-path=SCRIPTDIR source=lib-runs.sh
. "$(dirname "$0")/lib-runs.sh"
it_require_notify
chromium=$(command -v chromium || command -v chromium-browser) ||
	it_skip "chromium is not installed (apt-get install chromium)"
command -v python3 >/dev/null || it_skip "python3 is not installed (PNG check)"

port=$(it_free_port)
cat >"$it_tmp/pb.yaml" <<YAML
version: 1
name: it-report-html
target:
  command: [$FG_VICTIMS/fg-svc, -addr, "127.0.0.1:$port", -file, $it_tmp/data]
  ready: { http: "http://127.0.0.1:$port/healthz", timeout: 10s }
  stop_grace: 3s
load:
  http: { url: "http://127.0.0.1:$port/work", rate: 50/s, connections: 32, timeout: 2s }
phases: { baseline: 2s, fault: 3s, recovery: 2s }
faults:
  - { kind: slow-io, syscalls: [read], fds: files, delay: 30ms }
gates:
  - latency.p99 during fault < 10ms
  - threads.max during fault < 200
YAML
it_run "$it_tmp/pb.yaml" "$it_tmp/out"
it_expect_rc 1
html=$it_tmp/out/report.html
[ -s "$html" ] || it_fatal "no report.html"

for id in latency throughput errors rss threads runqueue delays; do
	grep -q "<svg id=\"chart-$id\"" "$html" ||
		it_check_fail "chart-$id in report.html" "missing"
done
n=$(grep -c '<svg id="chart-' "$html")
it_check "7 charts in report.html" "$n == 7" "svg charts=$n"
if grep -qiE '<script|https?://[^"]*\.(css|js|png|woff)' "$html"; then
	it_check_fail "self-contained, no script" "$(grep -oiE '<script|https?://[^" ]*' "$html" | head -3)"
fi

png=$it_tmp/shot.png
profile=$(mktemp -d "$it_tmp/chromium.XXXXXX")
timeout 90 "$chromium" --headless --no-sandbox --disable-gpu \
	--disable-background-networking --disable-component-update --disable-sync \
	--no-first-run --user-data-dir="$profile" --enable-logging=stderr --v=0 \
	--screenshot="$png" --window-size=1280,2000 "file://$html" >"$it_tmp/chromium.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || it_check_fail "chromium rendered the page" "exit $rc: $(tail -3 "$it_tmp/chromium.log")"
if grep -E 'Uncaught|ERROR:CONSOLE' "$it_tmp/chromium.log"; then
	it_check_fail "no console errors" "see above"
else
	echo "$it_name: ok: no console errors"
fi
# Width, height, and the share of pixels that are not white, from the PNG.
read -r w h ink < <(python3 - "$png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
raw, pos = b"", 8
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        raw += data[pos + 8:pos + 8 + n]
    pos += 12 + n
px = zlib.decompress(raw)
bpp = {2: 3, 6: 4}.get(ctype, 1)
stride, prev, ink, row = w * bpp, bytearray(w * bpp), 0, 0
for y in range(h):
    f, line = px[y * (stride + 1)], bytearray(px[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    ink += sum(1 for x in range(0, stride, bpp) if line[x] < 200)
    prev = line
print(w, h, round(100.0 * ink / (w * h), 2))
PY
)
it_check "screenshot is 1280x2000" "$w == 1280 && $h == 2000" "${w}x${h}"
it_check "screenshot is not blank (dark pixels >= 1%)" "$ink >= 1" "ink=${ink}%"
it_report=$it_tmp/out/report.json
it_finish
