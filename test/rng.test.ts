// Philox-4x32-10 and the seeded Rng built on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { philox4x32, Rng } from '../src/tensor/rng.js';
import { meanAndSE } from './helpers/data.js';

function hex(a: Uint32Array): string[] {
  return Array.from(a, (x) => x.toString(16).padStart(8, '0'));
}

function block(c: [number, number, number, number], k: [number, number]): string[] {
  const out = new Uint32Array(4);
  philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
  return hex(out);
}

test('philox4x32-10 matches the Random123 known-answer vectors', () => {
  assert.deepEqual(block([0, 0, 0, 0], [0, 0]), ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  const ones = 0xffffffff;
  assert.deepEqual(block([ones, ones, ones, ones], [ones, ones]), ['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
  assert.deepEqual(
    block([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]),
    ['d16cfe09', '94fdcceb', '5001e420', '24126ea1'],
  );
});

test('philox4x32 is a pure function and every input word matters', () => {
  const base = block([1, 2, 3, 4], [5, 6]);
  assert.deepEqual(block([1, 2, 3, 4], [5, 6]), base);
  const variants: Array<[[number, number, number, number], [number, number]]> = [
    [[0, 2, 3, 4], [5, 6]], [[1, 3, 3, 4], [5, 6]], [[1, 2, 2, 4], [5, 6]], [[1, 2, 3, 5], [5, 6]],
    [[1, 2, 3, 4], [4, 6]], [[1, 2, 3, 4], [5, 7]],
  ];
  for (const [c, k] of variants) assert.notDeepEqual(block(c, k), base, `ctr ${c} key ${k}`);
});

test('Rng block n is philox(ctr = (n lo, n hi, stream, 0), key = (seed lo, seed hi))', () => {
  // Seed 0, stream 0: the first four words are the all-zero known answer.
  const r = new Rng(0);
  assert.deepEqual(hex(Uint32Array.from([r.uint32(), r.uint32(), r.uint32(), r.uint32()])),
    ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  // Second block has counter 1.
  assert.deepEqual(hex(Uint32Array.from([r.uint32(), r.uint32(), r.uint32(), r.uint32()])), block([1, 0, 0, 0], [0, 0]));
  // A seed above 2^32 uses both key words; the stream goes into counter word 2.
  const seed = 3 * 2 ** 32 + 7;
  const r2 = new Rng(seed, 11);
  assert.deepEqual(hex(Uint32Array.from([r2.uint32(), r2.uint32(), r2.uint32(), r2.uint32()])), block([0, 0, 11, 0], [7, 3]));
  // Block counters beyond 2^32 carry into counter word 1.
  const r3 = new Rng(5);
  r3.state = { block: 2 ** 32 + 2, pos: 4, spareNormal: null };
  assert.deepEqual(hex(Uint32Array.from([r3.uint32(), r3.uint32(), r3.uint32(), r3.uint32()])), block([2, 1, 0, 0], [5, 0]));
});

test('same seed reproduces the sequence; different seeds and streams differ', () => {
  const draw = (r: Rng, n: number) => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) xs.push(i % 3 === 0 ? r.uint32() : i % 3 === 1 ? r.uniform() : r.normal());
    return xs;
  };
  assert.deepEqual(draw(new Rng(42), 999), draw(new Rng(42), 999));
  assert.deepEqual(draw(new Rng(42, 3), 99), draw(new Rng(42, 3), 99));
  const seqs = [new Rng(42), new Rng(43), new Rng(42, 1), new Rng(43, 1), new Rng(2 ** 32 + 42)].map((r) => {
    const xs: number[] = [];
    for (let i = 0; i < 4000; i++) xs.push(r.uint32());
    return xs;
  });
  for (let a = 0; a < seqs.length; a++) {
    for (let b = a + 1; b < seqs.length; b++) {
      // Distinct streams share essentially no words (expected ~4000²/2³² ≈ 0.004 coincidences).
      const set = new Set(seqs[a]);
      const common = seqs[b]!.filter((x) => set.has(x)).length;
      assert.ok(common <= 2, `streams ${a} and ${b} share ${common} words`);
    }
  }
});

test('uint32 bits and uniform() are uniform', () => {
  const r = new Rng(7);
  const N = 20000;
  const ones = new Array(32).fill(0);
  for (let i = 0; i < N; i++) {
    const x = r.uint32();
    assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff, `uint32 out of range: ${x}`);
    for (let bit = 0; bit < 32; bit++) ones[bit] += (x >>> bit) & 1;
  }
  // Each bit: Binomial(N, 1/2), sd = √N/2 ≈ 71; allow 5 sd.
  for (let bit = 0; bit < 32; bit++) assert.ok(Math.abs(ones[bit] - N / 2) < 5 * Math.sqrt(N) / 2, `bit ${bit}: ${ones[bit]}`);
  const us = new Float64Array(N);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < N; i++) {
    us[i] = r.uniform();
    lo = Math.min(lo, us[i]!);
    hi = Math.max(hi, us[i]!);
  }
  assert.ok(lo > 0 && hi < 1, 'uniform() in the open interval (0, 1)');
  const { mean, sd } = meanAndSE(us);
  assert.ok(Math.abs(mean - 0.5) < 4 * Math.sqrt(1 / 12 / N), `uniform mean ${mean}`);
  assert.ok(Math.abs(sd * sd - 1 / 12) < 4 * Math.sqrt(1 / 180 / N), `uniform variance ${sd * sd}`);
  // Deciles: chi-square with 9 d.o.f.; 99.99th percentile ≈ 33.7.
  const bins = new Array(10).fill(0);
  for (const u of us) bins[Math.floor(u * 10)]++;
  const chi2 = bins.reduce((s, c) => s + (c - N / 10) ** 2 / (N / 10), 0);
  assert.ok(chi2 < 33.7, `decile chi-square ${chi2}`);
});

test('uniform() stays inside (0, 1) even for the extreme 32-bit words', () => {
  // Both words all-ones: (2^53 − 1) + 0.5 is not representable and rounds to 2^53, i.e. exactly 1.
  const hi = new Rng(0);
  (hi as unknown as { uint32: () => number }).uint32 = () => 0xffffffff;
  const top = hi.uniform();
  assert.ok(top < 1 && top > 1 - 2 ** -52, `uniform() with all-ones words = ${top}`);
  const lo = new Rng(0);
  (lo as unknown as { uint32: () => number }).uint32 = () => 0;
  const bottom = lo.uniform();
  assert.ok(bottom > 0 && bottom < 2 ** -52, `uniform() with all-zero words = ${bottom}`);
  assert.ok(Number.isFinite(lo.normal()), 'normal() is finite at the smallest uniform');
});

test('normal(): mean 0, variance 1, Gaussian tails and no pair correlation', () => {
  const r = new Rng(2024);
  const N = 200000;
  const z = new Float64Array(N);
  for (let i = 0; i < N; i++) z[i] = r.normal();
  const { mean, sd } = meanAndSE(z);
  // SE of the mean 1/√N; of the variance √(2/N).
  assert.ok(Math.abs(mean) < 4 / Math.sqrt(N), `mean ${mean}`);
  assert.ok(Math.abs(sd * sd - 1) < 4 * Math.sqrt(2 / N), `variance ${sd * sd}`);
  let m3 = 0, m4 = 0, within1 = 0, within2 = 0, lag = 0;
  for (let i = 0; i < N; i++) {
    m3 += z[i]! ** 3;
    m4 += z[i]! ** 4;
    if (Math.abs(z[i]!) < 1) within1++;
    if (Math.abs(z[i]!) < 2) within2++;
    if (i > 0) lag += z[i]! * z[i - 1]!;
  }
  m3 /= N; m4 /= N; lag /= N - 1;
  assert.ok(Math.abs(m3) < 4 * Math.sqrt(15 / N), `third moment ${m3}`);
  assert.ok(Math.abs(m4 - 3) < 4 * Math.sqrt(96 / N), `fourth moment ${m4}`);
  const p1 = 0.6826894921, p2 = 0.9544997361;
  assert.ok(Math.abs(within1 / N - p1) < 4 * Math.sqrt(p1 * (1 - p1) / N), `P(|z|<1) = ${within1 / N}`);
  assert.ok(Math.abs(within2 / N - p2) < 4 * Math.sqrt(p2 * (1 - p2) / N), `P(|z|<2) = ${within2 / N}`);
  // Successive values (including the two halves of each Box–Muller pair) are uncorrelated.
  assert.ok(Math.abs(lag) < 4 / Math.sqrt(N), `lag-1 correlation ${lag}`);
});

test('fillNormal and fillUniform honour their parameters', () => {
  const r = new Rng(9);
  const a = new Float64Array(50000);
  r.fillNormal(a, 3, 0.5);
  const { mean, sd } = meanAndSE(a);
  assert.ok(Math.abs(mean - 3) < 4 * 0.5 / Math.sqrt(a.length), `mean ${mean}`);
  assert.ok(Math.abs(sd - 0.5) < 0.01, `sd ${sd}`);
  const b = new Float32Array(10000);
  r.fillUniform(b, -2, 5);
  assert.ok(b.every((x) => x >= -2 && x <= 5), 'fillUniform range');
  assert.ok(Math.abs(meanAndSE(b).mean - 1.5) < 4 * 7 / Math.sqrt(12 * b.length), 'fillUniform mean');
});

test('state save/restore reproduces the sequence from any point', () => {
  const seed = 123456789;
  for (let skip = 0; skip < 11; skip++) {
    for (const withSpare of [false, true]) {
      const r = new Rng(seed, 2);
      for (let i = 0; i < skip; i++) r.uint32();
      if (withSpare) r.normal(); // leaves the pair's second value pending
      const saved = JSON.parse(JSON.stringify(r.state)) as Rng['state'];
      const expected: number[] = [];
      for (let i = 0; i < 20; i++) expected.push(i % 2 ? r.normal() : r.uint32());
      // Restore into a fresh generator with the same seed and stream...
      const fresh = new Rng(seed, 2);
      fresh.state = saved;
      const got: number[] = [];
      for (let i = 0; i < 20; i++) got.push(i % 2 ? fresh.normal() : fresh.uint32());
      assert.deepEqual(got, expected, `skip ${skip}, spare ${withSpare}`);
      // ...and rewind the original.
      r.state = saved;
      const again: number[] = [];
      for (let i = 0; i < 20; i++) again.push(i % 2 ? r.normal() : r.uint32());
      assert.deepEqual(again, expected, `rewind, skip ${skip}, spare ${withSpare}`);
    }
  }
  // The pending Box–Muller value is part of the state: dropping it changes the next normal().
  const r = new Rng(1);
  r.normal();
  const s = r.state;
  assert.notEqual(s.spareNormal, null);
  const next = r.normal();
  const other = new Rng(1);
  other.state = { ...s, spareNormal: null };
  assert.notEqual(other.normal(), next);
});

test('bad seeds and streams throw', () => {
  for (const seed of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(() => new Rng(seed), /seed must be a non-negative integer/, `seed ${seed}`);
  }
  for (const stream of [-1, 0.5, 2 ** 32]) {
    assert.throws(() => new Rng(0, stream), /stream must be a uint32/, `stream ${stream}`);
  }
  assert.doesNotThrow(() => new Rng(2 ** 53 - 1, 2 ** 32 - 1));
});
