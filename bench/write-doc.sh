#!/usr/bin/env bash
# Regenerates docs/BENCHMARKS.md from the results of bench/run-all.sh (docs/bench/results.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  cat bench/BENCHMARKS.head.md
  echo
  python3 bench/report.py docs/bench/results.jsonl
  echo
  cat bench/BENCHMARKS.tail.md
} > docs/BENCHMARKS.md
