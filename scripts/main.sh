#!/usr/bin/env bash
# The main job: sets up the machine, builds both binaries, then with the native x64 binary
#   - generates MobileNet V1 1.0-224 as fp32 and as int8 into models/ (git-ignored *.emn),
#   - prints 'info' for both,
#   - classifies a synthetic 224x224 test image (and ../shared/models-upstream/person.bmp when
#     present) with both,
#   - benchmarks both on one thread (2 warm-up runs, 10 timed runs).
#
#   bash scripts/main.sh
#
# The weights are seeded pseudo-random (no trained weights are shipped), so the classes it
# prints say nothing about the image; the run shows the whole pipeline working end to end.
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
SEED=1
mkdir -p models "$ARTIFACTS/images"
IMAGE="$ARTIFACTS/images/synthetic-224.bmp"
write_bmp "$IMAGE" 224 224
IMAGES=("$IMAGE")
if [[ -f "$SHARED_PERSON_BMP" ]]; then
    IMAGES+=("$SHARED_PERSON_BMP")
else
    printf 'note: ../shared/models-upstream/person.bmp is absent: classifying the synthetic image only\n'
fi

MODELS=(mobilenet-v1-1.0-224-fp32 mobilenet-v1-1.0-224-int8)

generate_models() {
    "$BIN" generate mobilenet-v1 --alpha 1.0 --resolution 224 --seed "$SEED" \
        -o models/mobilenet-v1-1.0-224-fp32.emn
    "$BIN" generate mobilenet-v1 --alpha 1.0 --resolution 224 --int8 --seed "$SEED" \
        -o models/mobilenet-v1-1.0-224-int8.emn
    ls -l models/*.emn
}

info_models() {
    local m
    for m in "${MODELS[@]}"; do
        printf -- '--- %s\n' "$m"
        "$BIN" info "models/$m.emn"
    done
}

classify_models() {
    local m
    for m in "${MODELS[@]}"; do
        printf -- '--- %s\n' "$m"
        "$BIN" classify --model "models/$m.emn" --top 5 "${IMAGES[@]}"
    done
}

bench_models() {
    local m
    for m in "${MODELS[@]}"; do
        printf -- '--- %s\n' "$m"
        "$BIN" bench --model "models/$m.emn" --threads 1 --warmup 2 --iterations 10
    done
}

timed "generate MobileNet V1 1.0-224 fp32 + int8" generate_models
timed "info" info_models
timed "classify" classify_models
timed "bench (1 thread, 2 warm-up, 10 runs)" bench_models

printf '\n=== timings\n'
printf '%s\n' "${TIMINGS[@]}"
printf '%-40s %8s\n' "total" "$(elapsed "$RUN_START")"
