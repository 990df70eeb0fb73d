#!/usr/bin/env bash
# The upstream person detector for the main job: tflite-micro's person_detect.tflite and its two test
# images, each checked against its sha256. Read in place from ../shared/models-upstream when that folder
# exists; elsewhere downloaded once from tensorflow/tflite-micro at a pinned commit into
# artifacts/upstream/ (git-ignored: model files are never committed). Prints the folder holding them.
#
#   dir="$(bash scripts/fetch-models.sh)"
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COMMIT=90b983c2b3f1480642e040bbd2ddb37b998f3424
FILES=(person_detect.tflite person.bmp no_person.bmp)
declare -A UPSTREAM_PATH=(
    [person_detect.tflite]=tensorflow/lite/micro/models/person_detect.tflite
    [person.bmp]=tensorflow/lite/micro/examples/person_detection/testdata/person.bmp
    [no_person.bmp]=tensorflow/lite/micro/examples/person_detection/testdata/no_person.bmp
)
declare -A SHA256=(
    [person_detect.tflite]=808cfdfc0cf3a6fa6f6fa26bfa379ea97c16d5db7334637766e39c3408502e9d
    [person.bmp]=b50a4d51e86551ea13038c96c222b9c3aaf653f5946211e5e5fd3e60b029e4d2
    [no_person.bmp]=2322df94e6788b05e4051e531f7a3a95b6db54624d170ebc9af2f1d5a73e9f79
)

shared="$REPO_ROOT/../shared/models-upstream"
if [[ -f "$shared/person_detect.tflite" ]]; then
    dir="$(cd "$shared" && pwd)"
    log "upstream person detector: $dir" >&2
else
    dir="$ARTIFACTS/upstream"
    mkdir -p "$dir"
    for f in "${FILES[@]}"; do
        [[ -f "$dir/$f" ]] && continue
        url="https://raw.githubusercontent.com/tensorflow/tflite-micro/$COMMIT/${UPSTREAM_PATH[$f]}"
        log "downloading $url" >&2
        if command -v curl > /dev/null; then
            curl -fsSL --retry 3 -o "$dir/$f.part" "$url" || die "download of $url failed"
        elif command -v wget > /dev/null; then
            wget -q -O "$dir/$f.part" "$url" || die "download of $url failed"
        else
            die "../shared/models-upstream is absent and neither curl nor wget is installed to download $url"
        fi
        mv "$dir/$f.part" "$dir/$f"
    done
fi

for f in "${FILES[@]}"; do
    [[ -f "$dir/$f" ]] || die "$dir/$f is missing"
    actual="$(sha256sum "$dir/$f" | awk '{print $1}')"
    [[ "$actual" == "${SHA256[$f]}" ]] || die "$dir/$f: sha256 $actual, expected ${SHA256[$f]} (wrong or corrupt file)"
done
printf '%s\n' "$dir"
