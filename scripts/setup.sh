#!/usr/bin/env bash
# Installs what building, cross-compiling and testing EdgeMobileNet needs on a Debian 12 /
# Ubuntu x64 machine, then restores NuGet packages. Idempotent: a second run installs nothing
# and takes a few seconds.
#
#   bash scripts/setup.sh
#
# Debian packages:
#   clang, lld, zlib1g-dev          NativeAOT linking (clang drives the link; lld for arm64)
#   gcc-aarch64-linux-gnu,
#   libc6-dev-arm64-cross,
#   binutils-aarch64-linux-gnu      linux-arm64 cross-compilation (crt files, libc, objcopy)
#   qemu-user-static                runs the arm64 binary on x64 (tests)
#   libonnx-testdata                ONNX reference models/data used by later import tests
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

APT_PACKAGES=(
    clang
    lld
    zlib1g-dev
    gcc-aarch64-linux-gnu
    libc6-dev-arm64-cross
    binutils-aarch64-linux-gnu
    binutils
    qemu-user-static
    libonnx-testdata
)

is_installed() {
    dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done

if (( ${#missing[@]} > 0 )); then
    SUDO=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
        SUDO=(sudo)
    fi
    log "apt-get install ${missing[*]}"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" < /dev/null
else
    log "Debian packages already installed: ${APT_PACKAGES[*]}"
fi

command -v dotnet >/dev/null || die "the .NET SDK 10 (dotnet) is not on PATH; install it first"
log "dotnet SDK $(dotnet --version)"

log "dotnet restore"
dotnet restore EdgeMobileNet.sln -tl:off -nologo --verbosity quiet
# The RID-specific packages (NativeAOT ILCompiler and runtime packs for linux-x64 and
# linux-arm64) are restored by 'dotnet publish -r RID' in scripts/build.sh.
log "setup done"
