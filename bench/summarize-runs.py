#!/usr/bin/env python3
"""Table of the final evaluation of `performer train --json` logs, with ppl = exp(val_loss) and the
val-loss ratio to the exact-attention run of the same group.
  python3 bench/summarize-runs.py runs/exp/logs/text-exact.jsonl runs/exp/logs/text-favor-*.jsonl
The first file of the arguments is the reference (exact attention)."""
import json, math, os, sys

def last(path):
    rows = [json.loads(l) for l in open(path) if l.startswith('{')]
    return rows[-1]

ref = last(sys.argv[1])['val_loss']
print('| run | step | train loss | val loss (nats/token) | bits/token | ppl = exp(val loss) | next-token acc | val loss / exact | train tokens/s |')
print('|---|---|---|---|---|---|---|---|---|')
for p in sys.argv[1:]:
    r = last(p)
    name = os.path.basename(p).removesuffix('.jsonl')
    print(f"| {name} | {r['step']} | {r['train_loss']:.4f} | {r['val_loss']:.4f} | {r['val_bits_per_token']:.4f} | {math.exp(r['val_loss']):.3f} | "
          f"{100 * r['val_accuracy']:.2f}% | {r['val_loss'] / ref:.4f} | {r['tokens_per_s']:.0f} |")
