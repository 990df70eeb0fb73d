#!/usr/bin/env bash
# The main job: sets up the machine, builds both binaries, then with the native x64 binary
#   - runs the edge pipeline on sample frames: the upstream tflite-micro person detector
#     (scripts/fetch-models.sh: ../shared/models-upstream, or downloaded and sha256-checked) is
#     converted to .emn, a folder of its person / no-person test images stands in for the camera,
#     and `edgemobilenet run --gpio sim` drives an LED rule (BCM line 17, hysteresis) on the
#     simulated GPIO backend, printing every line transition, frames per second and per-stage
#     p50/p99 latency;
#   - generates MobileNet V1 1.0-224 as fp32 and as int8 (seeded weights) into models/ and
#     benchmarks both on 1 thread and on all cores.
#
#   bash scripts/main.sh
#
# On a Raspberry Pi with a camera, see README.md ("Running on a Raspberry Pi").
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

RUN_START="$(now)"
TIMINGS=()
timed() {
    local name="$1" start
    shift
    start="$(now)"
    printf '\n=== %s\n' "$name"
    "$@"
    TIMINGS+=("$(printf '%-40s %8s' "$name" "$(elapsed "$start")")")
}

timed "setup" bash scripts/setup.sh
timed "build" bash scripts/build.sh

BIN="$X64_BIN"
DEMO="$ARTIFACTS/edge-demo"

# Frame i of the sample clip is person.bmp (P) or no_person.bmp (N), 10 frames per second.
SEQUENCE=PPPPPPPPPPNNNNNNNNNNNNPPPPPPPPPPNNNNNNNNNN

edge_pipeline() {
    local upstream i
    upstream="$(bash scripts/fetch-models.sh)"
    rm -rf "$DEMO"
    mkdir -p "$DEMO/frames"
    "$BIN" convert "$upstream/person_detect.tflite" --input-spec gray -o "$DEMO/person_detect.emn"
    # person.bmp stores pixel - 128 in its pixel bytes (see ../shared/models-upstream/README.md):
    # add 128 back after the 1078-byte header so that it is a real picture.
    perl -e 'binmode STDIN; binmode STDOUT; local $/; my $d = <STDIN>;
             substr($d, $_, 1) = chr((ord(substr($d, $_, 1)) + 128) & 255) for 1078 .. length($d) - 1; print $d' \
        < "$upstream/person.bmp" > "$DEMO/person.bmp"
    for ((i = 0; i < ${#SEQUENCE}; i++)); do
        if [[ "${SEQUENCE:i:1}" == P ]]; then cp "$DEMO/person.bmp" "$DEMO/frames/$(printf '%03d' "$i").bmp"
        else cp "$upstream/no_person.bmp" "$DEMO/frames/$(printf '%03d' "$i").bmp"; fi
    done
    cat > "$DEMO/person-led.json" <<'JSON'
{
  // The person detector lights an LED on BCM line 17 while a person is seen: on after 2 frames at
  // probability >= 0.6, off after 3 frames below 0.4. Frames come from a folder at 10 fps.
  "model": "person_detect.emn",
  "scores": "probabilities",
  "source": { "type": "folder", "path": "frames", "fps": 10 },
  "rules": [ { "name": "person-led", "classes": [1], "onThreshold": 0.6, "offThreshold": 0.4,
               "onFrames": 2, "offFrames": 3, "line": 17, "safeState": "off" } ],
  "logging": { "console": true, "intervalSeconds": 1 }
}
JSON
    printf 'frames: %s (P = person.bmp, N = no_person.bmp, 100 ms apart)\n' "$SEQUENCE"
    "$BIN" run --config "$DEMO/person-led.json" --gpio sim
}

generate_models() {
    mkdir -p models
    "$BIN" generate mobilenet-v1 --alpha 1.0 --resolution 224 -o models/mobilenet-v1-1.0-224-fp32.emn
    "$BIN" generate mobilenet-v1 --alpha 1.0 --resolution 224 --int8 -o models/mobilenet-v1-1.0-224-int8.emn
}

bench_models() {
    local m t
    for m in mobilenet-v1-1.0-224-fp32 mobilenet-v1-1.0-224-int8; do
        for t in 1 "$(nproc)"; do
            printf -- '--- %s, %s thread(s)\n' "$m" "$t"
            "$BIN" bench --model "models/$m.emn" --threads "$t" --warmup 3 --iterations 20
        done
    done
}

timed "edge pipeline (person detector, sim GPIO)" edge_pipeline
timed "generate MobileNet V1 1.0-224 fp32 + int8" generate_models
timed "bench" bench_models

printf '\n=== timings\n'
printf '%s\n' "${TIMINGS[@]}"
printf '%-40s %8s\n' "total" "$(elapsed "$RUN_START")"
