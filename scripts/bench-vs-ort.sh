#!/usr/bin/env bash
# Compares EdgeMobileNet with ONNX Runtime (CPU provider) on MobileNet V1 1.0-224, fp32 and int8, on this machine.
# Usage: bash scripts/bench-vs-ort.sh [--threads N] [--iterations N] [--isa NAME]
# Models are generated into models/ if missing; ONNX Runtime runs the model exported by EdgeMobileNet.Import's
# OnnxExporter (benchmarks/EdgeMobileNet.Benchmarks, the only place ORT is referenced). If the export or ORT
# fails for a model, that line says "onnxruntime ... unavailable (reason)".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

THREADS="$(nproc)"
ITERATIONS=20
ISA=()
while (( $# > 0 )); do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --iterations) ITERATIONS="$2"; shift 2 ;;
        --isa) ISA=(--isa "$2"); shift 2 ;;
        *) die "unknown argument $1" ;;
    esac
done

log "building benchmarks/EdgeMobileNet.Benchmarks (Release)"
dotnet build benchmarks/EdgeMobileNet.Benchmarks -c Release -nologo -tl:off -v q > /dev/null
BENCH=(dotnet "benchmarks/EdgeMobileNet.Benchmarks/bin/Release/net10.0/EdgeMobileNet.Benchmarks.dll")
CLI=(dotnet "src/EdgeMobileNet.Cli/bin/Release/net10.0/edgemobilenet.dll")
[[ -f "${CLI[1]}" ]] || dotnet build src/EdgeMobileNet.Cli -c Release -nologo -tl:off -v q > /dev/null

mkdir -p models
[[ -f models/mobilenet-v1-1.0-224-fp32.emn ]] || "${CLI[@]}" generate mobilenet-v1 -o models/mobilenet-v1-1.0-224-fp32.emn > /dev/null
[[ -f models/mobilenet-v1-1.0-224-int8.emn ]] || "${CLI[@]}" generate mobilenet-v1 --int8 -o models/mobilenet-v1-1.0-224-int8.emn > /dev/null

for model in models/mobilenet-v1-1.0-224-fp32.emn models/mobilenet-v1-1.0-224-int8.emn; do
    "${BENCH[@]}" ort --model "$model" --threads "$THREADS" --iterations "$ITERATIONS" "${ISA[@]}"
done
