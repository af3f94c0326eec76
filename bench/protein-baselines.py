#!/usr/bin/env python3
"""Context-free baselines for next-residue prediction on a FASTA file: the cross-entropy (nats per
residue) of the unigram (residue frequencies) and of the bigram (previous residue -> next) models,
fitted and scored on the same residues, so they are lower bounds for what those two models could
reach on held-out data. Residues outside the 20 standard ones count as X, as in the amino-acid
tokenizer. Sequence boundaries are not predicted here.
  python3 bench/protein-baselines.py ../shared/data/uniprot-20k.fasta.gz"""
import collections, gzip, math, sys

STD = set('ACDEFGHIKLMNPQRSTVWY')
path = sys.argv[1]
opener = gzip.open if path.endswith('.gz') else open
seqs, cur = [], []
with opener(path, 'rt') as f:
    for line in f:
        if line.startswith('>'):
            if cur: seqs.append(''.join(cur)); cur = []
        else:
            cur.append(''.join(c if c in STD else 'X' for c in line.strip().upper()))
if cur: seqs.append(''.join(cur))
uni, bi, ctx = collections.Counter(), collections.Counter(), collections.Counter()
for s in seqs:
    uni.update(s)
    for a, b in zip(s, s[1:]):
        bi[a, b] += 1
        ctx[a] += 1
n = sum(uni.values())
h1 = -sum(c / n * math.log(c / n) for c in uni.values())
nb = sum(bi.values())
h2 = -sum(c / nb * math.log(c / ctx[a]) for (a, b), c in bi.items())
print(f'{path}: {len(seqs)} sequences, {n} residues')
print(f'unigram entropy {h1:.4f} nats/residue (ppl {math.exp(h1):.3f}); bigram conditional entropy {h2:.4f} nats/residue (ppl {math.exp(h2):.3f})')
