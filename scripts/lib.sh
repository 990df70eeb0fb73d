# shellcheck shell=bash disable=SC2034
# Shared helpers for the scripts in scripts/. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARTIFACTS="$REPO_ROOT/artifacts"
X64_BIN="$ARTIFACTS/linux-x64/edgemobilenet"
ARM64_BIN="$ARTIFACTS/linux-arm64/edgemobilenet"
# Debian's arm64 cross libc (package libc6-dev-arm64-cross); qemu-user loads the
# dynamic linker and libc of the arm64 binary from here.
QEMU_SYSROOT="${QEMU_SYSROOT:-/usr/aarch64-linux-gnu}"
# Real test image (tflite-micro's person detection sample), next to the repo, never copied in.
SHARED_PERSON_BMP="$REPO_ROOT/../shared/models-upstream/person.bmp"
SHARED_UPSTREAM="$REPO_ROOT/../shared/models-upstream"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DEBIAN_FRONTEND=noninteractive

# On CI, start no build server that would outlive the run: no MSBuild node reuse, no MSBuild
# server, and no shared compiler server (UseSharedCompilation is read from the environment).
if [[ "${CI:-}" == "true" ]]; then
    export MSBUILDDISABLENODEREUSE=1
    export DOTNET_CLI_DO_NOT_USE_MSBUILD_SERVER=1
    export UseSharedCompilation=false
fi

log() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with microseconds (bash 5).
now() { printf '%s' "$EPOCHREALTIME"; }

# elapsed START -> "12.3s"
elapsed() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", e - s }'; }

# The arm64 binary under QEMU user-mode emulation, as a command usable with timeout:
#   "${QEMU_ARM64[@]}" -cpu CPU "$ARM64_BIN" ARGS...
# CPU: cortex-a72 (Raspberry Pi 4, no dot product), cortex-a76 (Pi 5, dot product), max.
QEMU_ARM64=(qemu-aarch64-static -L "$QEMU_SYSROOT")

# human_size BYTES -> "1.2 MiB"
human_size() {
    awk -v b="$1" 'BEGIN {
        if (b >= 1048576) printf "%.2f MiB", b / 1048576;
        else if (b >= 1024) printf "%.1f KiB", b / 1024;
        else printf "%d B", b }'
}

# write_bmp FILE WIDTH HEIGHT
# Writes a deterministic 24-bit uncompressed BMP (bottom-up rows, BGR) with a synthetic
# pattern: red grows left to right, green top to bottom, blue is a 16x16 checkerboard.
# Pure bash + printf, so it needs neither python nor ImageMagick.
write_bmp() {
    local file="$1" w="$2" h="$3"
    local rowbytes=$(( w * 3 ))
    local pad=$(( (4 - rowbytes % 4) % 4 ))
    local imgsize=$(( (rowbytes + pad) * h ))
    local filesize=$(( 54 + imgsize ))
    local -a hex
    local i x y r g b row padstr=""
    for (( i = 0; i < 256; i++ )); do printf -v 'hex[i]' '\\x%02x' "$i"; done
    le16() { printf '%s%s' "${hex[$(( $1 & 255 ))]}" "${hex[$(( ($1 >> 8) & 255 ))]}"; }
    le32() {
        printf '%s%s%s%s' "${hex[$(( $1 & 255 ))]}" "${hex[$(( ($1 >> 8) & 255 ))]}" \
            "${hex[$(( ($1 >> 16) & 255 ))]}" "${hex[$(( ($1 >> 24) & 255 ))]}"
    }
    for (( i = 0; i < pad; i++ )); do padstr+="${hex[0]}"; done
    {
        # BITMAPFILEHEADER
        printf '%b' "BM$(le32 "$filesize")$(le16 0)$(le16 0)$(le32 54)"
        # BITMAPINFOHEADER: size, width, height (positive = bottom-up), planes, bpp,
        # compression (BI_RGB), image size, x/y pixels per metre (2835 = 72 dpi), colours.
        printf '%b' "$(le32 40)$(le32 "$w")$(le32 "$h")$(le16 1)$(le16 24)$(le32 0)$(le32 "$imgsize")"
        printf '%b' "$(le32 2835)$(le32 2835)$(le32 0)$(le32 0)"
        for (( y = h - 1; y >= 0; y-- )); do
            row=""
            g=$(( h > 1 ? y * 255 / (h - 1) : 0 ))
            for (( x = 0; x < w; x++ )); do
                r=$(( w > 1 ? x * 255 / (w - 1) : 0 ))
                b=$(( ((x / 16 + y / 16) % 2) ? 200 : 40 ))
                row+="${hex[b]}${hex[g]}${hex[r]}"
            done
            printf '%b' "$row$padstr"
        done
    } > "$file"
}
