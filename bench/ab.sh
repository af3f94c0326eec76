#!/usr/bin/env bash
# A/B of two checkouts of this repo (each built with npm install), interleaved round by round so that
# both see the same machine load: performer bench (FAVOR+ and exact), the public favorAttention API,
# training throughput and generation ms/token. JSON lines tagged before/after; summarise with
#   python3 bench/ab-summary.py OUT.jsonl
# Usage: bash bench/ab.sh BEFORE_DIR AFTER_DIR [ROUNDS=5] [DATA=/tmp/ab-sotu.txt] > OUT.jsonl
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
A=${1:?A}; B=${2:?B}; R=${3:-5}; DATA=${4:-/tmp/ab-sotu.txt}
[ -f "$DATA" ] || (cd "$B" && node --import tsx bench/write-sotu.ts "$DATA" >/dev/null)
for r in $(seq 1 $R); do
  for T in "$A" "$B"; do
    tag=$([ "$T" = "$A" ] && echo before || echo after)
    (cd "$T" && npx performer bench --impl favor --mode bidirectional,causal --L 4096,16384 --seconds 2 --json 2>/dev/null | sed "s/^/{\"tree\":\"$tag\",\"r\":$r,\"x\":/;s/\$/}/")
    (cd "$T" && npx performer bench --impl exact --mode causal --L 4096 --seconds 2 --json 2>/dev/null | sed "s/^/{\"tree\":\"$tag\",\"r\":$r,\"x\":/;s/\$/}/")
    node "$HERE/ab-api.mjs" "$T" 4096 | sed "s/^/{\"tree\":\"$tag\",\"r\":$r,\"x\":/;s/\$/}/"
    (cd "$T" && node --import tsx bench/train-throughput.ts --data "$DATA" --attention favor --seq 512 --warmup-steps 1 --steps 5 2>/dev/null | sed "s/^/{\"tree\":\"$tag\",\"r\":$r,\"x\":/;s/\$/}/")
    (cd "$T" && node --import tsx bench/generation.ts --only favor 2>/dev/null | grep overall | sed "s/.*overall \([0-9.]*\) ms.*/{\"tree\":\"$tag\",\"r\":$r,\"x\":{\"gen_ms_per_token\":\1}}/")
  done
done
