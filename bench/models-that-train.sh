#!/usr/bin/env bash
# "Models that train": FAVOR+ softmax, FAVOR+ relu and exact attention at equal steps on text
# (State of the Union, byte level) and proteins (UniProt 20k, amino-acid tokens), logged as JSON
# lines (summary: bench/summarize-runs.py). The exact → FAVOR+ switch: bench/switch-to-favor.sh.
# One training at a time (2 cores). Needs `npm install` (dist/ built) and ../shared/data.
#   bash bench/models-that-train.sh [STEPS [CORPORA [EVAL_INTERVAL]]]
#   (defaults: 150 steps, "text protein", STEPS/2; runs/exp/ holds checkpoints, runs/exp/logs the JSON lines)
#   With STEPS other than 150 the runs are named text400-exact etc. (STEPS in the name).
# Environment overrides (defaults: the small-scale runs of docs/RESULTS.md):
#   MODEL="--layers 2 --dim 64 --heads 4 --seq 256 --batch 4"  LR=3e-3  WARMUP=20  FEATURES=64
#   EVAL_WINDOWS=128 (0 = the whole validation split)  EXTRA="" (e.g. --token-shift)
#   TAG="" (inserted in the run names, e.g. TAG=-shift gives text400-shift-exact)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-150}
corpora=${2:-text protein}
interval=${3:-$((steps / 2))}
suffix=""; [ "$steps" != 150 ] && suffix=$steps
suffix=$suffix${TAG:-}
out=runs/exp
mkdir -p "$out/logs"
[ -f "$out/sotu.txt" ] || node --import tsx bench/write-sotu.ts "$out/sotu.txt"
protein=../shared/data/uniprot-20k.fasta.gz
read -r -a model <<< "${MODEL:---layers 2 --dim 64 --heads 4 --seq 256 --batch 4}"
read -r -a extra <<< "${EXTRA:-}"
features=${FEATURES:-64}
common=(--model lm "${model[@]}" --steps "$steps" --lr "${LR:-3e-3}" --warmup "${WARMUP:-20}"
        --schedule-steps "$steps" --dropout 0 --seed 0 --val-fraction 0.01 --eval-interval "$interval"
        --eval-windows "${EVAL_WINDOWS:-128}" --json ${extra[@]+"${extra[@]}"})
run() { # name data attention-flags...
  local name=$1 data=$2; shift 2
  echo "== $name: performer train --data $data --out $out/$name ${common[*]} $*"
  node bin/performer.mjs train --data "$data" --out "$out/$name" "${common[@]}" "$@" | tee "$out/logs/$name.jsonl"
}
for corpus in $corpora; do
  data=$out/sotu.txt; [ $corpus = protein ] && data=$protein
  run "$corpus$suffix-exact" "$data" --attention exact
  run "$corpus$suffix-favor-softmax" "$data" --attention favor --kernel softmax --features "$features"
  run "$corpus$suffix-favor-relu" "$data" --attention favor --kernel relu --features "$features"
done
