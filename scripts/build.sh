#!/usr/bin/env bash
# Builds the solution (Release) and publishes the NativeAOT binary for both targets:
#
#   artifacts/linux-x64/edgemobilenet     native, for this machine
#   artifacts/linux-arm64/edgemobilenet   cross-compiled, for Raspberry Pi 4/5 (64-bit OS)
#
#   bash scripts/build.sh            (run scripts/setup.sh once first)
#
# Any warning fails the build: compiler warnings are errors through TreatWarningsAsErrors,
# -warnaserror turns every other MSBuild/NuGet/ILC (trim IL2xxx, AOT IL3xxx) warning into an
# error, and each log is also searched for a "warning" line as a last check (the native
# linker's warnings, for instance). Logs: artifacts/logs/.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

LOG_DIR="$ARTIFACTS/logs"
mkdir -p "$LOG_DIR"

# check_log NAME LOGFILE: fail if the log has any warning line.
check_log() {
    local name="$1" logfile="$2" warnings
    # Ignore MSBuild's summary ("0 Warning(s)") and, defensively, the banner of a
    # project whose name contains "warning"; everything else that says warning counts.
    warnings="$(grep -iE '\bwarn(ing)?\b' "$logfile" \
        | grep -viE '^[[:space:]]*0 Warning\(s\)' || true)"
    if [[ -n "$warnings" ]]; then
        printf '%s\n' "$warnings" | sort -u | head -n 50 >&2
        die "$name: the log has warnings (see above; full log: $logfile)"
    fi
}

# run_logged NAME LOGFILE CMD...: run a build command, keep its output in LOGFILE,
# show the end of it on failure, then check it for warnings.
run_logged() {
    local name="$1" logfile="$2" start rc=0
    shift 2
    start="$(now)"
    log "$name"
    "$@" > "$logfile" 2>&1 || rc=$?
    if (( rc != 0 )); then
        grep -E ' error |: error|error [A-Z]+[0-9]+' "$logfile" | sort -u | head -n 60 >&2 || true
        tail -n 30 "$logfile" >&2
        die "$name failed (exit $rc) after $(elapsed "$start"); full log: $logfile"
    fi
    check_log "$name" "$logfile"
    log "$name: ok in $(elapsed "$start")"
}

COMMON=(-c Release -tl:off -nologo -warnaserror -p:ContinuousIntegrationBuild=true)

run_logged "dotnet build (Release)" "$LOG_DIR/build.log" \
    dotnet build EdgeMobileNet.sln "${COMMON[@]}"

# NativeAOT fixes the x64 instruction set at compile time: for the portable baseline (x86-64-v2)
# Avx2/Fma.IsSupported are constant false, whatever the CPU. So the x64 binary targets x86-64-v3
# (AVX2, FMA: the avx2 kernel set) when the build machine has it, and refuses to start on a CPU
# without it; EMN_X64_ISA=x86-64-v2 builds the portable one (vector128 kernels), and any other
# IlcInstructionSet value (x86-64-v4, native) works too.
if [[ -z "${EMN_X64_ISA:-}" ]]; then
    if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && grep -qw bmi2 /proc/cpuinfo; then
        EMN_X64_ISA=x86-64-v3
    else
        EMN_X64_ISA=x86-64-v2
    fi
fi
X64_ISA=(-p:IlcInstructionSet="$EMN_X64_ISA")
log "linux-x64 instruction set: $EMN_X64_ISA"

run_logged "publish linux-x64 (NativeAOT)" "$LOG_DIR/publish-linux-x64.log" \
    dotnet publish src/EdgeMobileNet.Cli "${COMMON[@]}" -r linux-x64 "${X64_ISA[@]}" \
    -o "$ARTIFACTS/linux-x64"

# Cross-compilation: the host ILCompiler emits arm64 objects; clang links them with lld
# against Debian's arm64 cross libc (SysRoot=/ lets clang find /usr/aarch64-linux-gnu),
# and the cross objcopy strips the debug symbols into edgemobilenet.dbg.
run_logged "publish linux-arm64 (NativeAOT, cross)" "$LOG_DIR/publish-linux-arm64.log" \
    dotnet publish src/EdgeMobileNet.Cli "${COMMON[@]}" -r linux-arm64 \
    -p:SysRoot=/ -p:LinkerFlavor=lld -p:ObjCopyName=aarch64-linux-gnu-objcopy \
    -o "$ARTIFACTS/linux-arm64"

# ILC reports a method it could not compile (e.g. an assembly missing from its references after an
# interrupted build) as a message, not a warning, and links a binary whose method always throws:
# refuse such a binary.
for rid in linux-x64 linux-arm64; do
    if grep -q "will always throw" "$LOG_DIR/publish-$rid.log"; then
        grep -m 3 "will always throw" "$LOG_DIR/publish-$rid.log" >&2
        die "publish $rid: ILC compiled methods that always throw (see $LOG_DIR/publish-$rid.log); a clean build (rm -rf src/*/obj src/*/bin) usually mends it"
    fi
done

for rid in linux-x64 linux-arm64; do
    bin="$ARTIFACTS/$rid/edgemobilenet"
    [[ -x "$bin" ]] || die "missing $bin"
    size="$(stat -c %s "$bin")"
    kind=""
    if command -v file >/dev/null; then kind="$(file -b "$bin" | cut -d, -f1-2)"; fi
    printf '%-34s %10s bytes (%s)  %s\n' "artifacts/$rid/edgemobilenet" "$size" \
        "$(human_size "$size")" "$kind"
done
