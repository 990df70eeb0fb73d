#!/usr/bin/env bash
# Edge runtime demo without a camera or GPIO: generates a small int8 MobileNet and a Y4M clip,
# then runs `edgemobilenet run --gpio sim` over it and prints the recorded GPIO transitions and
# the per-stage latency log. The generated model has random weights, so the rules use threshold 0
# (always detected): the LED comes on after 3 frames, the relay gives one 300 ms pulse, and both
# return to their safe state at the end of the clip.
#
#   scripts/run-demo.sh [BINARY]     (default: artifacts/linux-x64/edgemobilenet)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=${1:-$root/artifacts/linux-x64/edgemobilenet}
if [[ ! -x $binary ]]; then
    echo "run-demo: $binary not found (run scripts/build.sh first)" >&2
    exit 3
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$binary" generate mobilenet-v1 --alpha 0.25 --resolution 128 --int8 -o "$work/demo.emn"

# A 320x240 C420 clip at 15 fps: 45 frames of a bright picture, 45 dark ones, 45 bright again.
python3 - "$work/clip.y4m" <<'PY'
import sys
w, h = 320, 240
with open(sys.argv[1], "wb") as f:
    f.write(b"YUV4MPEG2 W320 H240 F15:1 Ip A1:1 C420jpeg\n")
    for i in range(135):
        bright = (i // 45) % 2 == 0
        y = bytes(((x * 3 + r) % 220 + 16) if bright else 30 for r in range(h) for x in range(w))
        c = bytes((128 + ((x + r) % 64) - 32) if bright else 128 for r in range(h // 2) for x in range(w // 2))
        f.write(b"FRAME\n" + y + c + c)
PY

cat > "$work/edge.json" <<JSON
{
  "model": "demo.emn",
  "scores": "probabilities",
  "source": { "type": "y4m", "path": "clip.y4m" },
  "rules": [
    { "name": "led", "classes": [0, 1, 2, 3, 4], "onThreshold": 0.0, "offThreshold": 0.0,
      "onFrames": 3, "offFrames": 5, "smoothing": 2, "minOnMs": 500, "line": 17 },
    { "name": "relay", "classes": [999], "threshold": 0.0, "mode": "pulse", "pulseMs": 300,
      "line": 27, "activeLow": true }
  ],
  "logging": { "intervalSeconds": 2, "file": "logs/edge.log" }
}
JSON

"$binary" run --config "$work/edge.json" --gpio sim
echo "--- log file:"
cat "$work"/logs/edge*.log
