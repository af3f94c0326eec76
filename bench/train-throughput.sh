#!/usr/bin/env bash
# Training throughput (tokens/s) and peak RSS against sequence length, FAVOR+ vs exact attention,
# one process per case (bench/train-throughput.ts), each bounded by a time limit.
#   bash bench/train-throughput.sh DATA.txt [LIMIT_S]      (default limit 240 s per case)
# Cases: L = 512, 2048, 8192, 16384 × favor, exact; PerformerLM 2 layers × 128, 4 heads, m = 256,
# batch 1; 1 warm-up + 5 timed steps (tokens/s at the median step). A case that runs past the limit
# prints {"timed_out": true, ...}.
set -uo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: train-throughput.sh DATA.txt [LIMIT_S]}
limit=${2:-240}
for L in 512 2048 8192 16384; do
  for att in favor exact; do
    warm=1; steps=5
    start=$(date +%s.%N)
    timeout "$limit" node --import tsx bench/train-throughput.ts --data "$data" --attention "$att" --seq "$L" \
      --layers 2 --dim 128 --heads 4 --features 256 --batch 1 --warmup-steps "$warm" --steps "$steps"
    rc=$?
    if [ $rc -ne 0 ]; then
      echo "{\"attention\":\"$att\",\"seq\":$L,\"rc\":$rc,\"timed_out\":$([ $rc -eq 124 ] && echo true || echo false),\"limit_s\":$limit,\"wall_s\":$(echo "$(date +%s.%N) - $start" | bc)}"
    fi
  done
done
