"""Reads the JSON lines of bench/run-all.sh and prints the markdown tables and target checks of
docs/BENCHMARKS.md. Usage: python3 bench/report.py docs/bench/results.jsonl"""
import json, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith('{')]
sgemm = [r for r in rows if r.get('impl') == 'openblas-sgemm']
bench = [r for r in rows if r.get('impl') in ('favor', 'exact')]
main = [r for r in bench if r['threads'] > 1 and 'wasm-simd' not in r.get('backend', '') ]
threads = max(r['threads'] for r in bench)


def get(impl, mode, L, th=threads, simd='wasm-relaxed'):
    for r in bench:
        if (r['impl'], r['mode'], r['L'], r['threads']) == (impl, mode, L, th) and 'error' not in r and r['backend'].startswith(simd):
            return r
    return None


print('| impl | mode | L | ms (median) | GFLOP/s | peak MB |')
print('|---|---|--:|--:|--:|--:|')
for r in main:
    if 'error' in r:
        print(f"| {r['impl']} | {r['mode']} | {r['L']} | {r['error']} | | |")
    else:
        print(f"| {r['impl']} | {r['mode']} | {r['L']} | {r['ms']:.1f} | {r['gflops']:.1f} | {r['peak_mb']:.0f} |")
print()
print('| other case | ms (median) | GFLOP/s |')
print('|---|--:|--:|')
for r in bench:
    if r in main or 'error' in r:
        continue
    print(f"| {r['impl']} {r['mode']} L={r['L']}, {r['backend']} | {r['ms']:.1f} | {r['gflops']:.1f} |")
print()
print('OpenBLAS sgemm (2048³, all cores), before and after: ' + ', '.join(f"{s['gflops']:.1f} GFLOP/s" for s in sgemm))
print()


def check(name, ok, detail):
    print(f"| {name} | {detail} | {'met' if ok else 'NOT met'} |")


print('| target | measured (this run) | |')
print('|---|---|---|')
best_sgemm = max(s['gflops'] for s in sgemm)
b16, c16 = get('favor', 'bidirectional', 16384), get('favor', 'causal', 16384)
check('1. FAVOR+ bidirectional L=16384 ≥ 40% of sgemm', b16['gflops'] >= 0.4 * best_sgemm,
      f"{b16['gflops']:.1f} / {best_sgemm:.1f} GFLOP/s = {100 * b16['gflops'] / best_sgemm:.0f}% (against the faster sgemm run)")
for mode in ('bidirectional', 'causal'):
    a, b = get('favor', mode, 16384), get('favor', mode, 65536)
    check(f'2. linear scaling, {mode}: ms(65536)/ms(16384) ≤ 4.5', b['ms'] / a['ms'] <= 4.5, f"{b['ms']:.0f} / {a['ms']:.0f} = {b['ms'] / a['ms']:.2f}")
for mode in ('bidirectional', 'causal'):
    lo, hi = get('favor', mode, 1024), get('favor', mode, 65536)
    qkvo = 4 * hi['batch'] * hi['heads'] * hi['L'] * hi['d'] * 4 / 2**20
    growth = hi['peak_mb'] - lo['peak_mb']
    check(f'3. memory, {mode}: peak(65536) − peak(1024) ≤ 1.3 × q,k,v,out', growth <= 1.3 * qkvo,
          f"{hi['peak_mb']:.0f} − {lo['peak_mb']:.0f} = {growth:.0f} MB; q,k,v,out = {qkvo:.0f} MB, ratio {growth / qkvo:.2f}")
check('4. causal ≤ 1.5 × bidirectional at L=16384', c16['ms'] <= 1.5 * b16['ms'], f"{c16['ms']:.0f} / {b16['ms']:.0f} = {c16['ms'] / b16['ms']:.2f}")
for mode in ('bidirectional', 'causal'):
    Ls = sorted({r['L'] for r in main if r['impl'] == 'exact' and 'error' not in r and r['L'] >= 2048})
    slower = [L for L in Ls if get('favor', mode, L)['ms'] >= get('exact', mode, L)['ms']]
    ratios = ', '.join(f"{L}: {get('exact', mode, L)['ms'] / get('favor', mode, L)['ms']:.1f}×" for L in Ls)
    check(f'5a. FAVOR+ faster than exact from L=2048, {mode}', not slower, f"exact/FAVOR time: {ratios}")
    e16, f16 = get('exact', mode, 16384), get('favor', mode, 16384)
    check(f'5b. ≥ 15× faster at L=16384, {mode}', e16['ms'] / f16['ms'] >= 15, f"{e16['ms']:.0f} / {f16['ms']:.0f} = {e16['ms'] / f16['ms']:.1f}×")
ex = [get('exact', 'bidirectional', L) for L in (1024, 16384)]
qkvo16 = 4 * 8 * 16384 * 64 * 4 / 2**20
check('5c. exact attention memory grows linearly (tiled)', ex[1]['peak_mb'] - ex[0]['peak_mb'] <= 1.3 * qkvo16,
      f"peak {ex[0]['peak_mb']:.0f} MB at 1024 → {ex[1]['peak_mb']:.0f} MB at 16384; q,k,v,out at 16384 = {qkvo16:.0f} MB")
for mode in ('bidirectional', 'causal'):
    one, all_ = get('favor', mode, 16384, 1), get('favor', mode, 16384)
    check(f'6. one thread ≤ 2.2 × all cores, {mode} L=16384', one['ms'] <= 2.2 * all_['ms'], f"{one['ms']:.0f} / {all_['ms']:.0f} = {one['ms'] / all_['ms']:.2f}")
