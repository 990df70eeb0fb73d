#!/usr/bin/env bash
# Inspects the inner loops of the main GEMM micro-kernels in the NativeAOT binaries, without timing anything:
#
#   bash scripts/check-hot-loops.sh [--list]      (after scripts/build.sh)
#
# The tests and benchmarks run under the JIT; the binaries are compiled by NativeAOT, which once compiled a default
# interface method as a call in the ARM int8 tiles and, another time, kept the x64 fp32 tile's accumulators in memory
# (3.5x slower) while every JIT-run test passed. So each loop below is found in the binary (symbols from the .dbg
# file, code from objdump), and must have its multiply-adds, no calls, no stack loads or stores, and at most a
# given number of instructions. One line per loop: "PASS ..." or "FAIL ...", exit status 1 if any failed.
# --list prints each loop's instructions too.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# EMN_X64_BIN / EMN_ARM64_BIN: other binaries to inspect (each with its .dbg beside it) [artifacts/].
X64="${EMN_X64_BIN:-$X64_BIN}"
ARM64="${EMN_ARM64_BIN:-$ARM64_BIN}"
LIST=0
[[ "${1:-}" == "--list" ]] && LIST=1
failures=0

# check ARCH BINARY SYMBOL_REGEX LOOP_MARK_REGEX MULTIPLY_REGEX MULTIPLIES MAX_INSTRUCTIONS DESCRIPTION [MAX_STACK]
#   The loop is the innermost backward branch around the first instruction matching LOOP_MARK_REGEX in the
#   function whose symbol matches SYMBOL_REGEX; MAX_STACK stack accesses are allowed [0].
check() {
    local arch="$1" bin="$2" symbol="$3" mark="$4" multiply="$5" multiplies="$6" max="$7" what="$8" max_stack="${9:-0}"
    local nm=nm objdump=(objdump -d --no-show-raw-insn -M intel) line start size listing
    if [[ "$arch" == arm64 ]]; then
        nm=aarch64-linux-gnu-nm
        objdump=(aarch64-linux-gnu-objdump -d --no-show-raw-insn)
    fi
    if [[ ! -f "$bin" || ! -f "$bin.dbg" ]]; then
        printf 'FAIL %s: %s or its .dbg symbols missing (run scripts/build.sh)\n' "$what" "$bin"
        failures=$((failures + 1))
        return
    fi
    line="$("$nm" -S "$bin.dbg" | grep -E " [tT] " | grep -E -- "$symbol" | grep -v lsda | head -n 1)"
    if [[ -z "$line" ]]; then
        printf 'FAIL %s: no symbol matching /%s/ in %s.dbg\n' "$what" "$symbol" "$bin"
        failures=$((failures + 1))
        return
    fi
    read -r start size _ <<< "$line"
    listing="$("${objdump[@]}" --start-address=$((16#$start)) --stop-address=$((16#$start + 16#$size)) "$bin" |
        grep -E '^ *[0-9a-f]+:')"
    # awk: find the mark, then the first branch after it whose target lies at or before it; print the loop.
    local result
    result="$(awk -v mark="$mark" -v multiply="$multiply" -v arch="$arch" -v list="$LIST" '
        # POSIX awk (Debian ships mawk): hexadecimal by hand, branches found by their mnemonic field.
        function hex(s,    i, v) { v = 0; s = tolower(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
        function branch(op) { return arch == "arm64" ? (op ~ /^(b\.[a-z]+|b|cbz|cbnz|tbz|tbnz)$/) : (op ~ /^j[a-z]+$/) }
        { sub(/^ +/, ""); a = $1; sub(/:$/, "", a); addr[NR] = hex(a); op[NR] = ($2 ~ /^[{]/ ? $3 : $2); text[NR] = $0
          # the target is the first field that is a bare hexadecimal address after the mnemonic
          tgt[NR] = ""; for (k = 3; k <= NF; k++) { f = $k; sub(/,$/, "", f); if (f ~ /^[0-9a-f]+$/ && $(k + 1) ~ /^</) { tgt[NR] = f; break } } }
        END {
            for (i = 1; i <= NR; i++) if (text[i] ~ mark) { m = i; break }
            if (!m) { print "nomark"; exit }
            for (i = m; i <= NR; i++) {
                if (!branch(op[i]) || tgt[i] == "") continue
                target = hex(tgt[i])
                if (target > addr[m]) continue
                n = 0; mul = 0; calls = 0; stack = 0
                for (j = 1; j <= NR; j++) {
                    if (addr[j] < target || addr[j] > addr[i]) continue
                    n++
                    if (op[j] ~ multiply) mul++
                    if (op[j] ~ /^(bl|blr|call)$/) calls++
                    if (text[j] ~ /\[(sp|x29|rsp|rbp)[],+ -]/) stack++
                    if (list) print "    | " text[j] > "/dev/stderr"
                }
                print n, mul, calls, stack
                exit
            }
            print "noloop"
        }' <<< "$listing")"
    case "$result" in
        nomark) printf 'FAIL %s: no instruction matching /%s/ in the function\n' "$what" "$mark"; failures=$((failures + 1)); return ;;
        noloop) printf 'FAIL %s: no loop around /%s/\n' "$what" "$mark"; failures=$((failures + 1)); return ;;
        "") printf 'FAIL %s: the loop scan failed\n' "$what"; failures=$((failures + 1)); return ;;
    esac
    local n mul calls stack
    read -r n mul calls stack <<< "$result"
    local summary="$n instructions, $mul multiply-adds, $calls calls, $stack stack accesses (limits: $multiplies, 0, <= $max_stack, <= $max instructions)"
    if (( mul == multiplies && calls == 0 && stack <= max_stack && n <= max )); then
        printf 'PASS %s: %s\n' "$what" "$summary"
    else
        printf 'FAIL %s: %s\n' "$what" "$summary"
        failures=$((failures + 1))
    fi
}

check arm64 "$ARM64" 'F32Igemm_2<.*F32AdvSimd_.*__PointwiseTile<.*BothVectors' 'fmla.*\.s\[0\]' 'fmla' 48 80 \
    'arm64 fp32 pointwise tile 6x8 (FMLA by element, 4 input channels)'
check arm64 "$ARM64" 'Qs8Igemm_2<.*Qs8DotDp_.*__Tile$' 'sdot.*\.4b\[0\]' 'sdot' 32 64 \
    'arm64 int8 tile 4x8c4 Dp (SDOT by element, 4 groups)'
check arm64 "$ARM64" 'Qs8Igemm_2<.*Qs8Dot(AdvSimd|Vector128)_.*__Tile$' 'smull2' '^(smull|smlal)' 32 100 \
    'arm64 int8 tile 4x8c2 AdvSimd (SMULL + SMLAL widening multiply-accumulate, 2 groups)'
# 2 pixels x 8 channels x 16 input channels per pass: SMULL + SMLAL2 + SADALP each, the lower halves loaded as D
# registers (taken from the Q registers they cost a MOV per weight vector).
check arm64 "$ARM64" 'Qs8GemmC16_1<.*Qs8Dot16AdvSimd>__Tiles$' 'sadalp' '^(smull|smlal2)$' 32 84 \
    'arm64 int8 pointwise tile 2x8c16 AdvSimd (SMULL + SMLAL2 + SADALP over int8 products)'
# Per pair of taps x 16 channels: SMULL, SMLAL, SMULL2, SMLAL2, then SADDW/SADDW2 into four accumulators.
check arm64 "$ARM64" 'Qs8DwConvTapPairs_1<.*Qs8DwTapPairAdvSimd>__Pixel$' 'smlal2' '^(smull|smull2|smlal|smlal2)$' 4 32 \
    'arm64 int8 depthwise 16c tap pairs AdvSimd (SMULL + SMLAL over int8 products, 2 taps)'
check x64 "$X64" 'F32Igemm_2<.*F32Avx2_.*__PointwiseTile<.*BothVectors' 'vfmadd231ps' 'vfmadd' 48 100 \
    'x64 fp32 pointwise tile 6x16 (FMA, 4 input channels)'
check x64 "$X64" 'Qs8GemmC2Avx2__Tile<.*Rows6' 'vpmaddwd' 'vpmaddwd' 12 44 \
    'x64 int8 tile 6x16c2 (VPMADDWD, 1 pair of input channels)'

# 13 vectors of state for 16 registers: one accumulator goes through the stack, measured faster than loading the
# broadcast twice to keep it in a register (that variant 0.93-0.98x).
check x64 "$X64" 'Qs8GemmC4_1<.*Qs8QuadStepAvx2>__Accumulate<.*Rows6' 'vpmaddubsw' 'vpmaddubsw' 12 60 \
    'x64 int8 tile 6x16c4 (VPMADDUBSW, 1 quad of input channels)' 2
# The VNNI form cannot run here (no VNNI on the build machine, none in QEMU 7.2): at least its loop is checked.
check x64 "$X64" 'Qs8GemmC4_1<.*Qs8QuadStepAvxVnni>__Accumulate<.*Rows6' 'vpdpbusd' 'vpdpbusd' 12 40 \
    'x64 int8 tile 6x16c4 AVX-VNNI (VPDPBUSD, 1 quad of input channels)'

exit $(( failures > 0 ))
