// Token shift: forward against its definition, gradient against float64 finite differences,
// causality, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Var } from '../src/autograd/index.js';
import { tokenShift } from '../src/autograd/token-shift.js';
import { Rng } from '../src/tensor/rng.js';
import { gradCheck, randVar } from './autograd-helpers.js';

test('tokenShift: kept features stay, shifted ones come from the previous position (0 at t = 0)', () => {
  const B = 2, L = 5, D = 7;
  for (const s of [0, 3, 7]) {
    const x = randVar([B, L, D], new Rng(1), 1, false);
    const y = tokenShift(x, s);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < L; t++) {
        for (let c = 0; c < D; c++) {
          const want = c < D - s ? x.data[(b * L + t) * D + c]! : t === 0 ? 0 : x.data[(b * L + t - 1) * D + c]!;
          assert.equal(y.data[(b * L + t) * D + c], want, `s ${s} b ${b} t ${t} c ${c}`);
        }
      }
    }
  }
});

test('tokenShift: gradient matches float64 finite differences', () => {
  for (const [B, L, D, s] of [[2, 5, 6, 3], [1, 1, 4, 2], [3, 4, 5, 5], [1, 3, 4, 0]] as const) {
    const x = randVar([B, L, D], new Rng(B * 100 + L * 10 + D));
    const err = gradCheck(() => tokenShift(x, s), [x]);
    assert.ok(err < 1e-6, `B ${B} L ${L} D ${D} s ${s}: ${err}`);
  }
});

test('tokenShift with a key mask: padded positions pass on zeros (forward and gradient)', () => {
  const B = 2, L = 5, D = 4, s = 2;
  const mask = [0, 1, 1, 0, 1, 1, 1, 1, 1, 0]; // left pad, a hole, right pad
  const x = randVar([B, L, D], new Rng(5));
  const y = tokenShift(x, s, mask);
  for (let b = 0; b < B; b++) {
    for (let t = 1; t < L; t++) {
      for (let c = D - s; c < D; c++) {
        const want = mask[b * L + t - 1] ? x.data[(b * L + t - 1) * D + c]! : 0;
        assert.equal(y.data[(b * L + t) * D + c], want, `b ${b} t ${t} c ${c}`);
      }
    }
  }
  assert.ok(gradCheck(() => tokenShift(x, s, mask), [x]) < 1e-6);
  assert.throws(() => tokenShift(x, s, [1, 1]), /keyMask needs 10 values/);
});

test('tokenShift is causal: position t never sees t + 1 or later', () => {
  const x = randVar([1, 6, 4], new Rng(9), 1, false);
  const y0 = Float64Array.from(tokenShift(x, 2).data);
  for (let i = 3 * 4; i < x.size; i++) x.data[i] = 100; // positions 3..5
  const y1 = tokenShift(x, 2).data;
  assert.deepEqual(Array.from(y1.subarray(0, 3 * 4)), Array.from(y0.subarray(0, 3 * 4)));
});

test('tokenShift: clear errors for a wrong rank or channel count', () => {
  assert.throws(() => tokenShift(new Var([4, 4]), 2), /expected x \[B, L, D\], got \[4, 4\]/);
  assert.throws(() => tokenShift(new Var([1, 2, 4]), 5), /channels must be an integer in \[0, 4\], got 5/);
  assert.throws(() => tokenShift(new Var([1, 2, 4]), 1.5), /channels must be an integer/);
});
