#!/usr/bin/env bash
# EdgeMobileNet against ONNX Runtime 1.31 (C# API, CPU provider, all graph optimizations) on this machine, in one
# run: MobileNet V1 1.0-224 fp32 and int8 (ONNX QDQ), V1 0.25-128 and V2 1.0-224, each at 1 thread and at all
# threads. The two engines take turns, a warm-up and a timed run each; the table prints both medians and ORT's median over ours.
# Usage: bash scripts/bench-vs-ort.sh [--models v1-1.0-224-fp32,...|FILE.emn] [--threads 1,4] [--iterations N] [--isa NAME]
# ONNX Runtime is referenced only by benchmarks/EdgeMobileNet.Benchmarks; it never ships in the binary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

log "building benchmarks/EdgeMobileNet.Benchmarks (Release)"
dotnet build benchmarks/EdgeMobileNet.Benchmarks -c Release -nologo -tl:off -v q > /dev/null
exec dotnet benchmarks/EdgeMobileNet.Benchmarks/bin/Release/net10.0/EdgeMobileNet.Benchmarks.dll ort "$@"
