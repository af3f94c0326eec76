// Exact softmax attention, FlashAttention-style (docs/MATH.md "Exact attention"): per block of
// query rows, stream key blocks, keep the running row max and row sum (online softmax), and
// accumulate into the output rows. Scratch O(block²) per thread; nothing of size L×L.
import * as L from '../generated/layout';
import { word, addr, real, roundUp8 } from './desc';
import { scratchBytes, scratchRegion } from './scratch';
import { PANELS_SCRATCH_BYTES, gemmPanels, packB } from './gemm';
import { maxOf, scale, sumOf } from './simd';
import { expf, expRow } from './exp';

const ROWS: i32 = 60; // query rows per task item (a multiple of the micro-tile rows, 6 and 4)
const COLS: i32 = 128; // keys per block

/** Query rows per task item. */
export function exactRowsPerItem(): i32 {
  return ROWS;
}

// Per-thread scratch regions, in order.
const R_KPACK = 0; // packed Kᵀ block
const R_VPACK = 1; // packed V block
const R_SCORES = 2; // [ROWS, COLS]
const R_MAX = 3; // running row max [ROWS]
const R_SUM = 4; // running row sum [ROWS]
const R_WORK = 5; // gemmPanels scratch
const R_END = 6;

function regionBytes(desc: usize, r: i32): usize {
  switch (r) {
    case R_KPACK: return <usize>COLS * <usize>word(desc, L.EXACT_D) << 2;
    case R_VPACK: return <usize>COLS * <usize>roundUp8(word(desc, L.EXACT_VALUE_DIM)) << 2;
    case R_SCORES: return <usize>(ROWS * COLS) << 2;
    case R_MAX: case R_SUM: return <usize>ROWS << 2;
    default: return PANELS_SCRATCH_BYTES;
  }
}

/** Bytes of scratch one thread needs for this descriptor. */
export function exactScratchBytes(desc: usize): usize {
  return scratchBytes(desc, R_END, regionBytes);
}

/** Task: item = head·blocks + block of ROWS query rows. */
export function exactBlock(desc: usize, item: i32, tid: i32): void {
  const blocks = word(desc, L.EXACT_BLOCKS), head = item / blocks;
  const lq = word(desc, L.EXACT_LQ), lk = word(desc, L.EXACT_LK);
  const d = word(desc, L.EXACT_D), Dv = word(desc, L.EXACT_VALUE_DIM);
  const causal = word(desc, L.EXACT_CAUSAL) != 0, scoreScale = real(desc, L.EXACT_SCALE_F32);
  const i0 = (item % blocks) * ROWS, nr = min(ROWS, lq - i0);
  const q = addr(desc, L.EXACT_Q) + (<usize>(head * lq + i0) * <usize>d << 2);
  const keys = addr(desc, L.EXACT_K) + (<usize>(head * lk) * <usize>d << 2);
  const vals = addr(desc, L.EXACT_V) + (<usize>(head * lk) * <usize>Dv << 2);
  const o = addr(desc, L.EXACT_OUT) + (<usize>(head * lq + i0) * <usize>Dv << 2);
  const maskBase = addr(desc, L.EXACT_MASK);
  const mask: usize = maskBase == 0 ? 0 : maskBase + (<usize>((head / word(desc, L.EXACT_H)) * lk) << 2);

  const kpack = scratchRegion(desc, tid, R_KPACK, regionBytes), vpack = scratchRegion(desc, tid, R_VPACK, regionBytes);
  const sc = scratchRegion(desc, tid, R_SCORES, regionBytes), work = scratchRegion(desc, tid, R_WORK, regionBytes);
  const rowMax = scratchRegion(desc, tid, R_MAX, regionBytes), rowSum = scratchRegion(desc, tid, R_SUM, regionBytes);
  const outRow = <usize>Dv << 2, scRow = <usize>COLS << 2;

  memory.fill(o, 0, <usize>nr * outRow);
  for (let r = 0; r < nr; r++) {
    store<f32>(rowMax + (<usize>r << 2), -Infinity);
    store<f32>(rowSum + (<usize>r << 2), 0);
  }
  const keyEnd = causal ? min(lk, i0 + nr) : lk; // causal: no key beyond the block's last row
  for (let j0 = 0; j0 < keyEnd; j0 += COLS) {
    const nc = min(COLS, keyEnd - j0);
    packB(true, keys + (<usize>j0 * <usize>d << 2), d, 0, d, 0, nc, kpack);
    gemmPanels(nr, nc, d, q, d, false, kpack, <usize>d << 5, sc, COLS, scoreScale, 0, work);
    for (let r = 0; r < nr; r++) {
      const s = sc + <usize>r * scRow;
      // Keys j0 + j with j < valid may be seen by row i0 + r (causal: j0 + j ≤ i0 + r).
      const valid = causal ? max(0, min(nc, i0 + r - j0 + 1)) : nc;
      if (mask != 0) {
        for (let j = 0; j < valid; j++) {
          if (load<f32>(mask + (<usize>(j0 + j) << 2)) == 0) store<f32>(s + (<usize>j << 2), -Infinity);
        }
      }
      for (let j = valid; j < nc; j++) store<f32>(s + (<usize>j << 2), -Infinity);
      const mOld = load<f32>(rowMax + (<usize>r << 2));
      const mNew = max(mOld, maxOf(s, valid));
      if (mNew == -Infinity) {
        memory.fill(s, 0, <usize>nc << 2); // nothing visible yet: contributes nothing
        continue;
      }
      expRow(s, s, nc, mNew, 0); // −∞ scores → exactly 0
      const blockSum = sumOf(s, nc);
      const correction = expf(mOld - mNew); // 0 for the first visible block
      if (correction != 1) scale(o + <usize>r * outRow, Dv, correction);
      store<f32>(rowSum + (<usize>r << 2), load<f32>(rowSum + (<usize>r << 2)) * correction + blockSum);
      store<f32>(rowMax + (<usize>r << 2), mNew);
    }
    packB(false, vals + (<usize>j0 * <usize>Dv << 2), Dv, 0, nc, 0, Dv, vpack);
    gemmPanels(nr, Dv, nc, sc, COLS, false, vpack, <usize>nc << 5, o, Dv, 1, 1, work);
  }
  for (let r = 0; r < nr; r++) {
    const l = load<f32>(rowSum + (<usize>r << 2));
    scale(o + <usize>r * outRow, Dv, l != 0 ? 1 / l : 0); // no visible key → 0 (MATH.md)
  }
}
