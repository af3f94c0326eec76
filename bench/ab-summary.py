#!/usr/bin/env python3
# Summarises bench/ab.sh output: per measure, the median over rounds of each tree and the ratio
# after/before (time: >1 means slower; tokens/s: <1 means slower).
import json, sys, statistics as st
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith('{')]
m = {}
def put(key, tree, val): m.setdefault(key, {}).setdefault(tree, []).append(val)
for r in rows:
    x, t = r['x'], r['tree']
    if 'impl' in x and 'ms' in x: put(f"bench {x['impl']} {x['mode']} L={x['L']} (ms)", t, x['ms'])
    elif x.get('api'): put(f"favorAttention API bidirectional L={x['L']} (ms)", t, x['bidir_ms']); put(f"favorAttention API causal L={x['L']} (ms)", t, x['causal_ms'])
    elif 'tokens_per_s' in x: put(f"train step favor 2x128 seq {x['seq']} (tokens/s)", t, x['tokens_per_s'])
    elif 'gen_ms_per_token' in x: put("generation favor (ms/token)", t, x['gen_ms_per_token'])
print('| measure | before (median) | after (median) | after/before | rounds |')
print('|---|--:|--:|--:|--:|')
for k, v in m.items():
    b, a = st.median(v.get('before', [float('nan')])), st.median(v.get('after', [float('nan')]))
    print(f"| {k} | {b:.4g} | {a:.4g} | {a/b:.3f} | {len(v.get('before', []))}/{len(v.get('after', []))} |")
