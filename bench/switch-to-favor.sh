#!/usr/bin/env bash
# Backward compatibility (Performer paper, Fig. 5): an exact-attention checkpoint run with FAVOR+
# before any step (bench/switch-eval.ts), then a FAVOR+ fine-tune from it with --init-from (the
# model shape, token shift included, comes from the checkpoint).
#   bash bench/switch-to-favor.sh EXACT_DIR DATA [FT_STEPS [FEATURES [SEQ BATCH]]]
#   (defaults: 40 steps, 256 features, seq 256, batch 8; after bench/models-that-train.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
from=${1:?EXACT_DIR}; data=${2:?DATA}; ft=${3:-40}; m=${4:-256}; seq=${5:-256}; batch=${6:-8}
node --import tsx bench/switch-eval.ts --from "$from" --data "$data" --kernel softmax --features "$m" --seed 0 --eval-windows 0
node bin/performer.mjs train --data "$data" --out "$from-to-favor" --init-from "$from" --attention favor --kernel softmax --features "$m" \
  --redraw 0 --seq "$seq" --batch "$batch" --steps "$ft" --lr 1e-3 --warmup 10 --schedule-steps "$ft" --dropout 0 \
  --seed 0 --val-fraction 0.01 --eval-interval $((ft / 6)) --eval-windows 0 --json
