#!/usr/bin/env bash
# Backward compatibility (Performer paper, Fig. 5): an exact-attention checkpoint run with FAVOR+
# before any step (bench/switch-eval.ts), then a short FAVOR+ fine-tune from it with --init-from.
#   bash bench/switch-to-favor.sh EXACT_DIR DATA [FT_STEPS]   (after bench/models-that-train.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
from=${1:?EXACT_DIR}; data=${2:?DATA}; ft=${3:-40}
node --import tsx bench/switch-eval.ts --from "$from" --data "$data" --kernel softmax --features 64 --seed 0 --eval-windows 128
node bin/performer.mjs train --data "$data" --out "$from-to-favor" --init-from "$from" --attention favor --kernel softmax --features 64 \
  --model lm --layers 2 --dim 64 --heads 4 --seq 256 --batch 4 --steps "$ft" --lr 1e-3 --warmup 5 --schedule-steps "$ft" --dropout 0 \
  --seed 0 --val-fraction 0.01 --eval-interval $((ft / 4)) --eval-windows 128 --json
