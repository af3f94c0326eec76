#!/usr/bin/env bash
# The benchmark run behind docs/BENCHMARKS.md: OpenBLAS sgemm before and after, then every
# `performer bench` case, all in one go so that ratios come from the same run.
# Usage: bash bench/run-all.sh [OUTDIR]   (default docs/bench; needs `npm install` first)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/bench}
mkdir -p "$out"
{
  python3 bench/sgemm.py 2048 3
  npx performer bench --impl favor,exact --mode bidirectional,causal --L 1024,2048,4096,8192,16384,65536 --seconds 3 --json --plot "$out/bench.svg"
  npx performer bench --impl favor --mode bidirectional,causal --L 16384 --threads 1 --seconds 3 --json
  npx performer bench --impl favor --mode bidirectional --L 16384 --simd plain --seconds 3 --json
  python3 bench/sgemm.py 2048 3
} | tee "$out/results.jsonl"
