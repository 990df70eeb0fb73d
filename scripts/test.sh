#!/usr/bin/env bash
# Sets up, builds and runs every EdgeMobileNet test:
#
#   bash scripts/test.sh
#
#   1. scripts/setup.sh and scripts/build.sh (each one check)
#   2. unit tests: dotnet test tests/EdgeMobileNet.Tests (x64, Release), counted from the TRX log
#   3. 'edgemobilenet selftest' of the native x64 binary (full set)
#   4. 'edgemobilenet selftest --quick' of the arm64 binary under qemu-user, once per CPU model:
#      cortex-a72 (Raspberry Pi 4, no dot product), cortex-a76 (Pi 5, dot product), max
#   5. generate small models with the x64 binary (MobileNet V1 0.25-128 and V2 0.5-128, fp32 and
#      int8, and a 10-class V1 int8) and 'info' each
#   6. classify a synthetic image (and ../shared/models-upstream/person.bmp when present) with the
#      x64 binary and with the arm64 binary under each CPU; each arm64 output is compared with x64's
#   7. the upstream int8 MobileNet V2 (../shared, when present) on its dog image through 'infer': each arm64 output
#      must equal x64's byte for byte
#   8. a short 'bench' under qemu as a smoke check
#   9. (after 3) the inner loops of the main GEMM micro-kernels in both AOT binaries: multiply-adds, no calls, no
#      stack traffic, a bounded instruction count (scripts/check-hot-loops.sh)
#
# Every check counts as passed, failed or skipped; a step that errors counts as one failed check.
# The last line is "N passed, N failed" (", N skipped" when any were skipped); the exit status is
# non-zero when anything failed. Logs and outputs: artifacts/test/.
#
# Environment knobs (defaults in brackets):
#   EMN_QEMU_CPUS          CPU models for qemu ["cortex-a72 cortex-a76 max"]
#   EMN_QEMU_SELFTEST_ARGS selftest arguments under qemu ["--quick"]; set to "" for the full set
#                          (emulation is 10-50x slower than native, hence the quick set)
#   EMN_BENCH_CPU          CPU model for the qemu bench smoke check [cortex-a76]
#   EMN_FP32_RTOL          relative tolerance for fp32 scores when x64 and arm64 outputs differ
#                          textually [1e-5]; 0 demands identical output. int8 must be identical.
#   EMN_SKIP_BUILD=1       reuse artifacts/ from a previous build (setup and build are skipped)
# The step functions are called through step(), which shellcheck cannot follow:
# shellcheck disable=SC2317
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT" || exit 1

read -r -a QEMU_CPUS <<< "${EMN_QEMU_CPUS:-cortex-a72 cortex-a76 max}"
read -r -a QEMU_SELFTEST_ARGS <<< "${EMN_QEMU_SELFTEST_ARGS---quick}"
BENCH_CPU="${EMN_BENCH_CPU:-cortex-a76}"
FP32_RTOL="${EMN_FP32_RTOL:-1e-5}"
SEED=7

# Time limits, so that a hang fails the run instead of eating CI's 90 minutes.
T_SELFTEST_X64=1200
T_SELFTEST_QEMU=1500
T_RUN_X64=300
T_RUN_QEMU=600

TEST_DIR="$ARTIFACTS/test"
LOGS="$TEST_DIR/logs"
MODELS="$TEST_DIR/models"
IMAGES="$TEST_DIR/images"
OUT="$TEST_DIR/out"

declare -i PASSED=0 FAILED=0 SKIPPED=0
STEP_SUMMARY=()
RUN_START="$(now)"

pass() { PASSED+=1; printf '  PASS  %s\n' "$*"; }
fail() { FAILED+=1; printf '  FAIL  %s\n' "$*"; }
skip() { SKIPPED+=1; printf '  SKIP  %s\n' "$*"; }

# show_log FILE [LINES]: indent the end of a log.
show_log() { tail -n "${2:-25}" "$1" | sed 's/^/        | /'; }

# step NAME FUNCTION [ARGS...]: run one step; a non-zero return is a step error (one failed check).
step() {
    local name="$1" start rc result failed_before=$FAILED passed_before=$PASSED skipped_before=$SKIPPED
    shift
    start="$(now)"
    printf '\n=== %s\n' "$name"
    "$@"
    rc=$?
    if (( rc != 0 )); then
        fail "step '$name' errored (status $rc)"
        result="ERROR"
    elif (( FAILED > failed_before )); then
        result="FAILED"
    else
        result="ok"
    fi
    local t
    t="$(elapsed "$start")"
    printf -- '--- %s: %s in %s (%d passed, %d failed, %d skipped)\n' "$name" "$result" "$t" \
        $(( PASSED - passed_before )) $(( FAILED - failed_before )) $(( SKIPPED - skipped_before ))
    STEP_SUMMARY+=("$(printf '%-44s %-7s %8s' "$name" "$result" "$t")")
    return "$rc"
}

finish() {
    printf '\n=== summary (logs: %s)\n' "${LOGS#"$REPO_ROOT"/}"
    printf '%s\n' "${STEP_SUMMARY[@]}"
    printf '%-44s %-7s %8s\n' "total" "" "$(elapsed "$RUN_START")"
    if (( SKIPPED > 0 )); then
        printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
    else
        printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
    fi
    if (( FAILED > 0 )); then exit 1; fi
    exit 0
}

# ---------------------------------------------------------------------------------------------
# Steps

# step_script NAME SCRIPT: one passed check, or a step error (one failed check) that stops the run.
step_script() {
    local name="$1" script="$2"
    bash "$script" || return 1
    pass "$name"
}

# attr NAME STRING: the value of NAME="..." in STRING (0 when absent).
attr() {
    local v
    v="$(sed -n "s/.*[[:space:]]$1=\"\([0-9]*\)\".*/\1/p" <<< "$2")"
    printf '%s' "${v:-0}"
}

step_unit_tests() {
    local results="$TEST_DIR/unit" logfile="$LOGS/dotnet-test.log" rc=0 trx counters
    rm -rf "$results"
    dotnet test tests/EdgeMobileNet.Tests -c Release --no-build -nologo \
        --logger "trx;LogFileName=unit.trx" --results-directory "$results" \
        --blame-hang-timeout 15m > "$logfile" 2>&1 || rc=$?
    trx="$results/unit.trx"
    if [[ ! -f "$trx" ]]; then
        printf '  dotnet test wrote no TRX (exit %d):\n' "$rc"
        show_log "$logfile" 40
        return 1
    fi
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    if [[ -z "$counters" ]]; then
        printf '  no <Counters> in %s\n' "$trx"
        return 1
    fi
    local total passed failed skipped
    total="$(attr total "$counters")"
    passed="$(attr passed "$counters")"
    failed=$(( $(attr failed "$counters") + $(attr error "$counters") \
        + $(attr timeout "$counters") + $(attr aborted "$counters") ))
    # xunit's skipped tests are in total but not in executed (TRX has no "skipped" counter).
    skipped=$(( total - $(attr executed "$counters") + $(attr inconclusive "$counters") ))
    printf '  unit tests: %d total, %d passed, %d failed, %d skipped\n' \
        "$total" "$passed" "$failed" "$skipped"
    PASSED+=$passed
    FAILED+=$failed
    SKIPPED+=$skipped
    if (( failed > 0 )); then
        printf '  failed tests:\n'
        grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"[^>]*>' "$trx" \
            | sed -n 's/.*testName="\([^"]*\)".*/    \1/p' \
            | sed 's/&quot;/"/g; s/&apos;/'"'"'/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g' | head -n 40
        grep -E '^[[:space:]]+Failed |Error Message:' -A 3 "$logfile" | head -n 60 | sed 's/^/        | /'
    fi
    if (( total == 0 )); then
        printf '  WARNING: dotnet test ran no test\n'
    fi
    if (( rc != 0 && failed == 0 )); then
        printf '  dotnet test exited %d without a failed test:\n' "$rc"
        show_log "$logfile" 40
        return 1
    fi
    return 0
}

# run_selftest LABEL LOGFILE TIMEOUT CMD...: runs a selftest and adds its counts.
run_selftest() {
    local label="$1" logfile="$2" limit="$3" rc=0 summary p f s
    shift 3
    timeout -k 10 "$limit" "$@" > "$logfile" 2>&1 || rc=$?
    summary="$(grep -E '^selftest: [0-9]+ passed, [0-9]+ failed' "$logfile" | tail -n 1)"
    if [[ -z "$summary" ]]; then
        if (( rc == 124 )); then
            fail "$label: timed out after ${limit}s"
        else
            fail "$label: no 'selftest: N passed, N failed' line (exit $rc)"
        fi
        show_log "$logfile"
        return 0
    fi
    p="$(sed -E 's/^selftest: ([0-9]+) passed.*/\1/' <<< "$summary")"
    f="$(sed -E 's/^selftest: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<< "$summary")"
    s=0
    if [[ "$summary" =~ ([0-9]+)\ skipped ]]; then s="${BASH_REMATCH[1]}"; fi
    printf '  %s: %s (exit %d)\n' "$label" "$summary" "$rc"
    PASSED+=$p
    FAILED+=$f
    SKIPPED+=$s
    if (( f > 0 )); then
        grep -iE 'fail' "$logfile" | grep -vE '^selftest: [0-9]+ passed' | head -n 40 | sed 's/^/        | /'
    fi
    if (( f > 0 && rc == 0 )); then
        fail "$label: exit 0 although checks failed"
    elif (( f == 0 && rc != 0 )); then
        fail "$label: exit $rc although no check failed"
        show_log "$logfile" 10
    fi
    return 0
}

step_selftest_x64() {
    # The quick set for qemu needs 'selftest --quick'; if this build's CLI lacks it, say so and
    # run the full set under qemu instead of failing on a usage error.
    if (( ${#QEMU_SELFTEST_ARGS[@]} > 0 )) && [[ " ${QEMU_SELFTEST_ARGS[*]} " == *" --quick "* ]] \
        && ! "$X64_BIN" selftest --help 2>&1 | grep -q -- '--quick'; then
        printf '  NOTE: "selftest --help" does not list --quick: running the full selftest under qemu\n'
        QEMU_SELFTEST_ARGS=()
    fi
    run_selftest "x64 selftest" "$LOGS/selftest-x64.log" "$T_SELFTEST_X64" "$X64_BIN" selftest
}

# Each inner loop scripts/check-hot-loops.sh inspects in the AOT binaries is one check.
step_hot_loops() {
    local logfile="$LOGS/hot-loops.log" line
    bash scripts/check-hot-loops.sh > "$logfile" 2>&1
    while IFS= read -r line; do
        case "$line" in
            PASS\ *) pass "${line#PASS }" ;;
            FAIL\ *) fail "${line#FAIL }" ;;
        esac
    done < "$logfile"
    grep -qE '^(PASS|FAIL) ' "$logfile" || { show_log "$logfile" 10; return 1; }
    return 0
}

step_selftest_arm64() {
    local cpu="$1" logfile="$LOGS/selftest-arm64-$1.log"
    run_selftest "arm64 $cpu selftest ${QEMU_SELFTEST_ARGS[*]}" "$logfile" "$T_SELFTEST_QEMU" \
        "${QEMU_ARM64[@]}" -cpu "$cpu" "$ARM64_BIN" selftest "${QEMU_SELFTEST_ARGS[@]}"
}

# name|generate arguments; names ending in -int8 are compared exactly, the others with FP32_RTOL.
TEST_MODELS=(
    "v1-0.25-128-fp32|mobilenet-v1 --alpha 0.25 --resolution 128"
    "v1-0.25-128-int8|mobilenet-v1 --alpha 0.25 --resolution 128 --int8"
    # With 1000 classes and random weights every int8 softmax output rounds to 0 (scale 1/256),
    # which would make the int8 V1 comparison vacuous: 10 classes give non-zero scores.
    "v1-0.25-128-10c-int8|mobilenet-v1 --alpha 0.25 --resolution 128 --classes 10 --int8"
    "v2-0.5-128-fp32|mobilenet-v2 --alpha 0.5 --resolution 128"
    "v2-0.5-128-int8|mobilenet-v2 --alpha 0.5 --resolution 128 --int8"
)
GENERATED=()

step_generate() {
    local entry name gen_args rc
    local -a args
    GENERATED=()
    for entry in "${TEST_MODELS[@]}"; do
        name="${entry%%|*}"
        read -r -a args <<< "${entry#*|}"
        rc=0
        timeout -k 10 "$T_RUN_X64" "$X64_BIN" generate "${args[@]}" --seed "$SEED" \
            -o "$MODELS/$name.emn" > "$LOGS/generate-$name.log" 2>&1 || rc=$?
        gen_args="${args[*]}"
        if (( rc != 0 )) || [[ ! -s "$MODELS/$name.emn" ]]; then
            fail "generate $name ($gen_args): exit $rc"
            show_log "$LOGS/generate-$name.log" 10
            continue
        fi
        rc=0
        timeout -k 10 "$T_RUN_X64" "$X64_BIN" info "$MODELS/$name.emn" \
            > "$LOGS/info-$name.log" 2>&1 || rc=$?
        if (( rc != 0 )); then
            fail "info $name: exit $rc"
            show_log "$LOGS/info-$name.log" 10
            continue
        fi
        pass "generate + info $name ($(stat -c %s "$MODELS/$name.emn") bytes)"
        GENERATED+=("$name")
    done
    return 0
}

# compare_outputs NAME EXPECTED ACTUAL TOLERANCE: 0 when the same; prints how they compare.
# With a non-zero tolerance, fields that are numbers with a fraction or exponent may differ by
# TOLERANCE relative (or absolute for |x| < 1); everything else must be identical.
compare_outputs() {
    local expected="$2" actual="$3" tol="$4"
    if cmp -s "$expected" "$actual"; then
        printf 'identical'
        return 0
    fi
    if [[ "$tol" == "0" ]]; then
        printf 'outputs differ'
        return 1
    fi
    awk -v tol="$tol" '
        function isfrac(s) { return s ~ /^[-+]?[0-9]*\.[0-9]+([eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$/ }
        function abs(x) { return x < 0 ? -x : x }
        NR == FNR { exp_line[FNR] = $0; n_exp = FNR; next }
        {
            n_act = FNR
            if (!(FNR in exp_line)) { bad = 1; next }
            ne = split(exp_line[FNR], e, /[ \t]+/); na = split($0, a, /[ \t]+/)
            if (ne != na) { bad = 1; next }
            for (i = 1; i <= ne; i++) {
                if (e[i] == a[i]) continue
                if (isfrac(e[i]) && isfrac(a[i])) {
                    d = abs(e[i] - a[i]); m = abs(e[i]) > 1 ? abs(e[i]) : 1
                    if (d / m > maxrel) maxrel = d / m
                    if (d > tol * m) bad = 1
                } else bad = 1
            }
        }
        END {
            if (n_exp != n_act) bad = 1
            if (bad) { printf "outputs differ beyond tolerance %s", tol; exit 1 }
            printf "within tolerance %s (max relative difference %.3g), not identical", tol, maxrel
        }' "$expected" "$actual"
}

step_classify_compare() {
    local name cpu tol rc how
    local -a images=("$IMAGES/synthetic-128.bmp")
    if [[ -f "$SHARED_PERSON_BMP" ]]; then
        images+=("$SHARED_PERSON_BMP")
    else
        skip "real image ../shared/models-upstream/person.bmp is absent: classifying the synthetic image only"
    fi
    if (( ${#GENERATED[@]} == 0 )); then
        printf '  no generated model to classify with\n'
        return 1
    fi
    for name in "${GENERATED[@]}"; do
        tol="$FP32_RTOL"
        [[ "$name" == *-int8 ]] && tol=0
        rc=0
        timeout -k 10 "$T_RUN_X64" "$X64_BIN" classify --model "$MODELS/$name.emn" --top 5 \
            "${images[@]}" > "$OUT/classify-$name-x64.txt" 2> "$LOGS/classify-$name-x64.err" || rc=$?
        if (( rc != 0 )) || [[ ! -s "$OUT/classify-$name-x64.txt" ]]; then
            fail "classify $name on x64: exit $rc"
            show_log "$LOGS/classify-$name-x64.err" 10
            continue
        fi
        for cpu in "${QEMU_CPUS[@]}"; do
            rc=0
            timeout -k 10 "$T_RUN_QEMU" "${QEMU_ARM64[@]}" -cpu "$cpu" "$ARM64_BIN" classify --model "$MODELS/$name.emn" --top 5 \
                "${images[@]}" > "$OUT/classify-$name-$cpu.txt" \
                2> "$LOGS/classify-$name-$cpu.err" || rc=$?
            if (( rc != 0 )); then
                fail "classify $name on arm64 $cpu: exit $rc"
                show_log "$LOGS/classify-$name-$cpu.err" 10
                continue
            fi
            if how="$(compare_outputs "$name" "$OUT/classify-$name-x64.txt" \
                "$OUT/classify-$name-$cpu.txt" "$tol")"; then
                pass "classify $name: arm64 $cpu vs x64: $how"
            else
                fail "classify $name: arm64 $cpu vs x64: $how"
                diff "$OUT/classify-$name-x64.txt" "$OUT/classify-$name-$cpu.txt" \
                    | head -n 20 | sed 's/^/        | /'
            fi
        done
    done
    printf '  x64 output for %s:\n' "${GENERATED[0]}"
    sed 's/^/        | /' "$OUT/classify-${GENERATED[0]}-x64.txt" 2>/dev/null | head -n 14
    return 0
}

# The upstream int8 MobileNet V2 (real weights, every one in [-127, 127]) on the upstream dog image, through
# 'infer': the arm64 binary under each CPU must write the x64 binary's output bytes exactly. This runs the ARM int8
# kernels over int8 products (GEMM, im2col first layer, depthwise tap pairs) on real data, not only on generated cases.
step_real_model_compare() {
    local model="$SHARED_UPSTREAM/mobilenet_v2_quantized_1x3x224x224.tflite" input="$SHARED_UPSTREAM/dog_input_int8.bin"
    local emn="$MODELS/upstream-v2-int8.emn" cpu rc
    if [[ ! -f "$model" || ! -f "$input" ]]; then
        skip "real int8 model: ../shared/models-upstream (MobileNet V2 int8 + dog_input_int8.bin) is absent"
        return 0
    fi
    rc=0
    timeout -k 10 "$T_RUN_X64" "$X64_BIN" convert "$model" -o "$emn" > "$LOGS/convert-upstream-v2.log" 2>&1 || rc=$?
    if (( rc != 0 )); then
        fail "convert the upstream MobileNet V2 int8 model: exit $rc"
        show_log "$LOGS/convert-upstream-v2.log" 10
        return 0
    fi
    rc=0
    timeout -k 10 "$T_RUN_X64" "$X64_BIN" infer --model "$emn" --input-raw "$input" --output-raw "$OUT/upstream-v2-x64.raw" \
        --threads 1 > "$LOGS/infer-upstream-v2-x64.log" 2>&1 || rc=$?
    if (( rc != 0 )) || [[ ! -s "$OUT/upstream-v2-x64.raw" ]]; then
        fail "infer upstream MobileNet V2 int8 on x64: exit $rc"
        show_log "$LOGS/infer-upstream-v2-x64.log" 10
        return 0
    fi
    for cpu in "${QEMU_CPUS[@]}"; do
        rc=0
        timeout -k 10 "$T_RUN_QEMU" "${QEMU_ARM64[@]}" -cpu "$cpu" "$ARM64_BIN" infer --model "$emn" --input-raw "$input" \
            --output-raw "$OUT/upstream-v2-$cpu.raw" --threads 1 > "$LOGS/infer-upstream-v2-$cpu.log" 2>&1 || rc=$?
        if (( rc != 0 )); then
            fail "infer upstream MobileNet V2 int8 on arm64 $cpu: exit $rc"
            show_log "$LOGS/infer-upstream-v2-$cpu.log" 10
        elif cmp -s "$OUT/upstream-v2-x64.raw" "$OUT/upstream-v2-$cpu.raw"; then
            pass "upstream MobileNet V2 int8 on the dog image: arm64 $cpu output identical to x64 ($(stat -c %s "$OUT/upstream-v2-x64.raw") bytes)"
        else
            fail "upstream MobileNet V2 int8 on the dog image: arm64 $cpu output differs from x64 ($(cmp "$OUT/upstream-v2-x64.raw" "$OUT/upstream-v2-$cpu.raw" | head -n 1))"
        fi
    done
    return 0
}

step_bench_qemu() {
    local name rc logfile
    if (( ${#GENERATED[@]} == 0 )); then
        printf '  no generated model to bench\n'
        return 1
    fi
    for name in v1-0.25-128-fp32 v1-0.25-128-int8; do
        if [[ ! -f "$MODELS/$name.emn" ]]; then
            skip "bench $name under qemu $BENCH_CPU: model was not generated"
            continue
        fi
        logfile="$LOGS/bench-$name-$BENCH_CPU.log"
        rc=0
        timeout -k 10 "$T_RUN_QEMU" "${QEMU_ARM64[@]}" -cpu "$BENCH_CPU" "$ARM64_BIN" bench --model "$MODELS/$name.emn" \
            --threads 1 --warmup 1 --iterations 2 > "$logfile" 2>&1 || rc=$?
        if (( rc == 0 )) && grep -qi 'median' "$logfile"; then
            pass "bench $name under qemu $BENCH_CPU (emulated: timings are not meaningful)"
            sed 's/^/        | /' "$logfile" | head -n 8
        else
            fail "bench $name under qemu $BENCH_CPU: exit $rc"
            show_log "$logfile" 10
        fi
    done
    return 0
}

# ---------------------------------------------------------------------------------------------

printf 'EdgeMobileNet tests: %s, qemu CPUs: %s, qemu selftest args: %s\n' \
    "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "${QEMU_CPUS[*]}" "${QEMU_SELFTEST_ARGS[*]:-(none)}"

if [[ "${EMN_SKIP_BUILD:-}" == "1" ]]; then
    printf '\nEMN_SKIP_BUILD=1: using the binaries already in artifacts/\n'
else
    step "setup" step_script "setup" scripts/setup.sh || finish
    step "build" step_script "build (dotnet build + NativeAOT publish x64/arm64)" scripts/build.sh || finish
fi

rm -rf "$TEST_DIR"
mkdir -p "$LOGS" "$MODELS" "$IMAGES" "$OUT"
write_bmp "$IMAGES/synthetic-128.bmp" 128 128

step "unit tests (dotnet test, x64)" step_unit_tests
step "selftest x64 (native)" step_selftest_x64
step "hot loops in the AOT binaries (objdump, no timing)" step_hot_loops
for cpu in "${QEMU_CPUS[@]}"; do
    step "selftest arm64 qemu $cpu" step_selftest_arm64 "$cpu"
done
step "generate + info models (x64)" step_generate
step "classify: arm64 (qemu) vs x64" step_classify_compare
step "real int8 model: arm64 (qemu) vs x64" step_real_model_compare
step "bench smoke (arm64 qemu $BENCH_CPU)" step_bench_qemu
finish
