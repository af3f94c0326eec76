// Fused FAVOR+ (docs/MATH.md): features exist one chunk at a time, keys are folded into the
// carried state (S, z, M), queries read it. Task entry points take (descriptor, item, thread).
import * as L from '../generated/layout';
import { word, addr, real, roundUp8 } from './desc';
import { scratchBytes, scratchRegion } from './scratch';
import { GEMM_SCRATCH_BYTES, gemm, gemmPanels, packB } from './gemm';
import { axpy, dot, scale } from './simd';
import { expf, expBounded } from './exp';
import { featureCount, logWeight, writeFeatures } from './features';
import { stateBytes, stateZ, getMax, setMax, clearState, scaleState, combineState } from './state';

/** Rows per lower-triangular block of the causal C×C product: blocks above the diagonal are skipped.
 *  One micro-tile of rows (6 with FMA; 8 = two tiles of 4 without) keeps the wasted upper part small. */
const TRI: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 8;

// Per-thread scratch regions, in order. Causal-only regions are empty for bidirectional calls.
const R_FQ = 0; // chunk features (queries; keys too when bidirectional) [C, m']
const R_FK = 1; // causal: key features κ [C, m']
const R_KPACK = 2; // causal: κᵀ packed as a B operand
const R_VPACK = 3; // causal: V chunk packed as a B operand
const R_P = 4; // causal: P / A [C, roundUp8(C)]
const R_SPACK = 5; // S packed as a B operand (causal: the carried S itself, kept packed)
const R_ROWS = 6; // six per-row vectors of C floats
const R_STATE = 7; // the state record of single-part paths (causal: z and M only)
const R_GEMM = 8; // gemm() / gemmPanels scratch
const R_END = 9;

function regionBytes(desc: usize, r: i32): usize {
  const C = <usize>word(desc, L.FAVOR_CHUNK);
  const mp = <usize>featureCount(word(desc, L.FAVOR_FEATURE_MAP), word(desc, L.FAVOR_M));
  const Dv = word(desc, L.FAVOR_VALUE_DIM);
  const causal = word(desc, L.FAVOR_CAUSAL) != 0;
  switch (r) {
    case R_FQ: return C * mp << 2;
    case R_FK: return causal ? C * mp << 2 : 0;
    case R_KPACK: return causal ? <usize>roundUp8(<i32>C) * mp << 2 : 0;
    case R_VPACK: return causal ? C * <usize>roundUp8(Dv) << 2 : 0;
    case R_P: return causal ? C * <usize>roundUp8(<i32>C) << 2 : 0;
    case R_SPACK: return mp * <usize>roundUp8(Dv) << 2;
    case R_ROWS: return 6 * C << 2;
    case R_STATE: return stateBytes(<i32>mp, Dv);
    default: return GEMM_SCRATCH_BYTES;
  }
}

function region(desc: usize, tid: i32, r: i32): usize {
  return scratchRegion(desc, tid, r, regionBytes);
}

/** Bytes of scratch one thread needs for this descriptor (the JS side allocates threads × this). */
export function favorScratchBytes(desc: usize): usize {
  return scratchBytes(desc, R_END, regionBytes);
}

/** Bytes of one state record (S, z, M) for this descriptor. */
export function favorStateBytes(desc: usize): usize {
  return stateBytes(featureCount(word(desc, L.FAVOR_FEATURE_MAP), word(desc, L.FAVOR_M)), word(desc, L.FAVOR_VALUE_DIM));
}

/** Bytes of W packed by packProjection. */
export function packedProjectionBytes(m: i32, d: i32): usize {
  return <usize>(roundUp8(m) * d) << 2;
}

/** Packs W [m, d] as the B operand of x·Wᵀ (panels of 8 projections), once per call. */
export function packProjection(w: usize, m: i32, d: i32, dst: usize): void {
  packB(true, w, d, 0, d, 0, m, dst);
}

/** Address of the key mask row of `head` (0 when unmasked). */
function maskRow(desc: usize, head: i32): usize {
  const mask = addr(desc, L.FAVOR_MASK);
  if (mask == 0) return 0;
  const lk = word(desc, L.FAVOR_LK);
  return mask + (<usize>((head / word(desc, L.FAVOR_H)) * lk) << 2);
}

/** Rows x[0..n) (row stride d) → buf rows (stride m'): u = α·W·x, and hs[i] = ‖x̂_i‖²/2 with x̂ = α·x. */
function project(desc: usize, x: usize, n: i32, buf: usize, hs: usize, work: usize): void {
  const d = word(desc, L.FAVOR_D), m = word(desc, L.FAVOR_M);
  const mp = featureCount(word(desc, L.FAVOR_FEATURE_MAP), m);
  const alpha = real(desc, L.FAVOR_ALPHA_F32);
  const rowBytes = <usize>d << 2;
  gemmPanels(n, m, d, x, d, false, addr(desc, L.FAVOR_WPACK), rowBytes << 3, buf, mp, alpha, 0, work);
  const half: f32 = 0.5 * alpha * alpha;
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    store<f32>(hs + (<usize>i << 2), half * dot(xi, xi, d));
  }
}

/** Folds keys [j0, j1) of `head` into the state rec (bidirectional key pass with online M). */
function accumulateKeys(desc: usize, head: i32, j0: i32, j1: i32, rec: usize, tid: i32): void {
  const C = word(desc, L.FAVOR_CHUNK), d = word(desc, L.FAVOR_D), Dv = word(desc, L.FAVOR_VALUE_DIM);
  const m = word(desc, L.FAVOR_M), featureMap = word(desc, L.FAVOR_FEATURE_MAP), lk = word(desc, L.FAVOR_LK);
  const mp = featureCount(featureMap, m);
  const logNorm = real(desc, L.FAVOR_LOG_NORM_F32), invSqrtM = real(desc, L.FAVOR_INV_SQRT_M_F32);
  const keys = addr(desc, L.FAVOR_K) + (<usize>(head * lk) * <usize>d << 2);
  const vals = addr(desc, L.FAVOR_V) + (<usize>(head * lk) * <usize>Dv << 2);
  const mask = maskRow(desc, head);
  const buf = region(desc, tid, R_FQ), rows = region(desc, tid, R_ROWS), gs = region(desc, tid, R_GEMM);
  const hs = rows, ss = rows + (<usize>C << 2);
  const z = stateZ(rec, mp, Dv);
  const rowBytes = <usize>mp << 2;

  for (let c0 = j0; c0 < j1; c0 += C) {
    const n = min(C, j1 - c0);
    project(desc, keys + (<usize>c0 * <usize>d << 2), n, buf, hs, gs);
    let chunkMax: f32 = -Infinity;
    for (let i = 0; i < n; i++) {
      const masked = mask != 0 && load<f32>(mask + (<usize>(c0 + i) << 2)) == 0;
      const s: f32 = masked ? -Infinity : logWeight(featureMap, buf + <usize>i * rowBytes, m, load<f32>(hs + (<usize>i << 2)));
      store<f32>(ss + (<usize>i << 2), s);
      chunkMax = max(chunkMax, s);
    }
    if (chunkMax == -Infinity) continue; // every key of the chunk is masked
    let M = getMax(rec, mp, Dv);
    if (chunkMax > M) {
      // Online max: rescale what is already summed to the new reference.
      if (M != -Infinity) scaleState(rec, mp, Dv, expf(M - chunkMax));
      M = chunkMax;
      setMax(rec, mp, Dv, M);
    }
    for (let i = 0; i < n; i++) {
      const row = buf + <usize>i * rowBytes;
      if (load<f32>(ss + (<usize>i << 2)) == -Infinity) {
        memory.fill(row, 0, rowBytes); // ω = 0
      } else {
        writeFeatures(featureMap, row, m, load<f32>(hs + (<usize>i << 2)), M, logNorm, invSqrtM, z); // ω·κ, z += ω·κ
      }
    }
    // S += (ωκ)ᵀ·V over the chunk.
    gemm(true, false, mp, Dv, n, 1, buf, mp, vals + (<usize>c0 * <usize>Dv << 2), Dv, 1, rec, Dv, gs);
  }
}

/** Queries [i0, i1) of `head` against a finished bidirectional state: out_i = ρ_iᵀS / ρ_i·z. */
function queryPass(desc: usize, head: i32, i0: i32, i1: i32, rec: usize, tid: i32): void {
  const C = word(desc, L.FAVOR_CHUNK), d = word(desc, L.FAVOR_D), Dv = word(desc, L.FAVOR_VALUE_DIM);
  const m = word(desc, L.FAVOR_M), featureMap = word(desc, L.FAVOR_FEATURE_MAP), lq = word(desc, L.FAVOR_LQ);
  const mp = featureCount(featureMap, m);
  const logNorm = real(desc, L.FAVOR_LOG_NORM_F32), invSqrtM = real(desc, L.FAVOR_INV_SQRT_M_F32);
  const queries = addr(desc, L.FAVOR_Q) + (<usize>(head * lq) * <usize>d << 2);
  const out = addr(desc, L.FAVOR_OUT) + (<usize>(head * lq) * <usize>Dv << 2);
  const buf = region(desc, tid, R_FQ), rows = region(desc, tid, R_ROWS);
  const spack = region(desc, tid, R_SPACK), work = region(desc, tid, R_GEMM);
  const hs = rows, den = rows + (<usize>C << 2);
  const z = stateZ(rec, mp, Dv);
  const rowBytes = <usize>mp << 2, outRow = <usize>Dv << 2;

  packB(false, rec, Dv, 0, mp, 0, Dv, spack);
  for (let c0 = i0; c0 < i1; c0 += C) {
    const n = min(C, i1 - c0);
    project(desc, queries + (<usize>c0 * <usize>d << 2), n, buf, hs, work);
    for (let i = 0; i < n; i++) {
      const row = buf + <usize>i * rowBytes, h = load<f32>(hs + (<usize>i << 2));
      writeFeatures(featureMap, row, m, h, logWeight(featureMap, row, m, h), logNorm, invSqrtM, 0); // ρ = κ
      store<f32>(den + (<usize>i << 2), dot(row, z, mp));
    }
    const o = out + <usize>c0 * outRow;
    gemmPanels(n, Dv, mp, buf, mp, false, spack, <usize>mp << 5, o, Dv, 1, 0, work);
    for (let i = 0; i < n; i++) {
      const q = load<f32>(den + (<usize>i << 2));
      scale(o + <usize>i * outRow, Dv, q != 0 ? 1 / q : 0); // zero normaliser → 0 (MATH.md)
    }
  }
}

/** A_ij = P_ij·exp(s_j − Mi) for j < count, in place; returns Σ_j A_ij. Masked s_j = −∞ → 0. */
function weightRow(p: usize, s: usize, count: i32, Mi: f32): f32 {
  const mv = f32x4.splat(Mi);
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= count; j += 4) {
    const o = <usize>j << 2;
    const a = f32x4.mul(v128.load(p + o), expBounded(f32x4.sub(v128.load(s + o), mv))); // s_j ≤ M(i)
    v128.store(p + o, a);
    acc = f32x4.add(acc, a);
  }
  let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) +
    f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; j < count; j++) {
    const o = <usize>j << 2;
    const a = load<f32>(p + o) * expf(load<f32>(s + o) - Mi);
    store<f32>(p + o, a);
    sum += a;
  }
  return sum;
}

/** Causal positions [i0, i1) of `head`, starting from the carried-in state record `carry`
 *  (0: no keys before i0) (MATH.md "Causal"). The running S is kept packed as a B operand in
 *  R_SPACK for the whole pass (z and M in R_STATE): the chunk update writes it in place and the
 *  output product reads it as is, so S is never repacked per chunk. */
function causalPass(desc: usize, head: i32, i0: i32, i1: i32, carry: usize, tid: i32): void {
  const C = word(desc, L.FAVOR_CHUNK), d = word(desc, L.FAVOR_D), Dv = word(desc, L.FAVOR_VALUE_DIM);
  const m = word(desc, L.FAVOR_M), featureMap = word(desc, L.FAVOR_FEATURE_MAP), len = word(desc, L.FAVOR_LQ);
  const mp = featureCount(featureMap, m);
  const logNorm = real(desc, L.FAVOR_LOG_NORM_F32), invSqrtM = real(desc, L.FAVOR_INV_SQRT_M_F32);
  const base = <usize>(head * len);
  const queries = addr(desc, L.FAVOR_Q) + (base * <usize>d << 2);
  const keys = addr(desc, L.FAVOR_K) + (base * <usize>d << 2);
  const vals = addr(desc, L.FAVOR_V) + (base * <usize>Dv << 2);
  const out = addr(desc, L.FAVOR_OUT) + (base * <usize>Dv << 2);
  const mask = maskRow(desc, head);
  const fq = region(desc, tid, R_FQ), fk = region(desc, tid, R_FK);
  const kpack = region(desc, tid, R_KPACK), vpack = region(desc, tid, R_VPACK);
  const pm = region(desc, tid, R_P), spack = region(desc, tid, R_SPACK);
  const rows = region(desc, tid, R_ROWS), work = region(desc, tid, R_GEMM);
  const rec = region(desc, tid, R_STATE);
  const cb = <usize>C << 2;
  const hq = rows, hk = rows + cb, sk = rows + 2 * cb, mrow = rows + 3 * cb, asum = rows + 4 * cb, dz = rows + 5 * cb;
  const z = stateZ(rec, mp, Dv);
  const rowBytes = <usize>mp << 2, outRow = <usize>Dv << 2, pCols = roundUp8(C), pRow = <usize>pCols << 2;
  const sFloats = mp * roundUp8(Dv), sPanel = <usize>mp << 5;
  if (carry != 0) {
    packB(false, carry, Dv, 0, mp, 0, Dv, spack);
    memory.copy(z, stateZ(carry, mp, Dv), rowBytes);
    setMax(rec, mp, Dv, getMax(carry, mp, Dv));
  } else {
    memory.fill(spack, 0, <usize>sFloats << 2);
    memory.fill(z, 0, rowBytes);
    setMax(rec, mp, Dv, -Infinity);
  }

  for (let c0 = i0; c0 < i1; c0 += C) {
    const n = min(C, i1 - c0);
    const Mprev = getMax(rec, mp, Dv);
    const hasState = Mprev != -Infinity;

    // Keys: s_j, the running maxima M(i) = max(M_prev, s_j for j ≤ i), and κ_j.
    project(desc, keys + (<usize>c0 * <usize>d << 2), n, fk, hk, work);
    let running = Mprev;
    for (let i = 0; i < n; i++) {
      const masked = mask != 0 && load<f32>(mask + (<usize>(c0 + i) << 2)) == 0;
      const s: f32 = masked ? -Infinity : logWeight(featureMap, fk + <usize>i * rowBytes, m, load<f32>(hk + (<usize>i << 2)));
      store<f32>(sk + (<usize>i << 2), s);
      running = max(running, s);
      store<f32>(mrow + (<usize>i << 2), running);
    }
    for (let i = 0; i < n; i++) {
      const row = fk + <usize>i * rowBytes, s = load<f32>(sk + (<usize>i << 2));
      if (s == -Infinity) memory.fill(row, 0, rowBytes);
      else writeFeatures(featureMap, row, m, load<f32>(hk + (<usize>i << 2)), s, logNorm, invSqrtM, 0);
    }

    // Queries: ρ_i and ρ_i·z against the carried state.
    project(desc, queries + (<usize>c0 * <usize>d << 2), n, fq, hq, work);
    for (let i = 0; i < n; i++) {
      const row = fq + <usize>i * rowBytes, h = load<f32>(hq + (<usize>i << 2));
      writeFeatures(featureMap, row, m, h, logWeight(featureMap, row, m, h), logNorm, invSqrtM, 0);
      store<f32>(dz + (<usize>i << 2), hasState ? dot(row, z, mp) : 0);
    }

    // P = ρ κᵀ on the lower-triangular row blocks, then A_ij = P_ij·exp(s_j − M(i)) for j ≤ i.
    // Block columns are rounded up to whole 8-column panels (kpack is zero-padded, P rows are
    // roundUp8(C) wide), so no block ends in a partial tile; columns past the block are not read.
    packB(true, fk, mp, 0, mp, 0, n, kpack);
    for (let r0 = 0; r0 < n; r0 += TRI) {
      const rb = min(TRI, n - r0);
      gemmPanels(rb, min(roundUp8(r0 + rb), roundUp8(n)), mp, fq + <usize>r0 * rowBytes, mp, false, kpack,
        <usize>mp << 5, pm + <usize>r0 * pRow, pCols, 1, 0, work);
    }
    for (let i = 0; i < n; i++) {
      const p = pm + <usize>i * pRow, Mi = load<f32>(mrow + (<usize>i << 2));
      const blockEnd = min(n, (i / TRI + 1) * TRI);
      let a: f32 = 0;
      if (Mi == -Infinity) memory.fill(p, 0, <usize>(i + 1) << 2);
      else a = weightRow(p, sk, i + 1, Mi);
      memory.fill(p + (<usize>(i + 1) << 2), 0, <usize>(blockEnd - i - 1) << 2); // j > i
      store<f32>(asum + (<usize>i << 2), a);
    }

    // out_i = (Σ_j A_ij v_j + α_i ρ_iᵀ S) / (Σ_j A_ij + α_i ρ_i·z), α_i = exp(M_prev − M(i)).
    const o = out + <usize>c0 * outRow;
    if (hasState) {
      gemmPanels(n, Dv, mp, fq, mp, false, spack, sPanel, o, Dv, 1, 0, work);
      for (let i = 0; i < n; i++) {
        const alpha = expf(Mprev - load<f32>(mrow + (<usize>i << 2)));
        store<f32>(dz + (<usize>i << 2), alpha * load<f32>(dz + (<usize>i << 2)));
        scale(o + <usize>i * outRow, Dv, alpha);
      }
    } else {
      memory.fill(o, 0, <usize>n * outRow);
    }
    packB(false, vals + (<usize>c0 * <usize>Dv << 2), Dv, 0, n, 0, Dv, vpack);
    for (let r0 = 0; r0 < n; r0 += TRI) {
      const rb = min(TRI, n - r0);
      gemmPanels(rb, Dv, r0 + rb, pm + <usize>r0 * pRow, pCols, false, vpack, <usize>n << 5,
        o + <usize>r0 * outRow, Dv, 1, 1, work);
    }
    for (let i = 0; i < n; i++) {
      const q = load<f32>(asum + (<usize>i << 2)) + load<f32>(dz + (<usize>i << 2));
      scale(o + <usize>i * outRow, Dv, q != 0 ? 1 / q : 0);
    }

    // Carry: S ← exp(M_prev − M_new)·S + Σ_j exp(s_j − M_new) κ_j v_jᵀ, same for z.
    const Mnew = load<f32>(mrow + (<usize>(n - 1) << 2));
    if (Mnew == -Infinity) continue; // nothing unmasked yet
    if (hasState && Mnew > Mprev) {
      const f = expf(Mprev - Mnew);
      scale(spack, sFloats, f);
      scale(z, mp, f);
    }
    for (let i = 0; i < n; i++) {
      const s = load<f32>(sk + (<usize>i << 2));
      if (s == -Infinity) continue; // κ row is zero
      const row = fk + <usize>i * rowBytes;
      scale(row, mp, expf(s - Mnew));
      axpy(z, row, mp, 1);
    }
    gemmPanels(mp, Dv, n, fk, mp, true, vpack, <usize>n << 5, spack, 8, 1, 1, work, sPanel); // S stays packed
    setMax(rec, mp, Dv, Mnew);
  }
}

/** The range of part `part` of `parts` over `len` positions. */
// @ts-ignore: decorator
@inline function partStart(len: i32, parts: i32, part: i32): i32 {
  return <i32>((<i64>len * part) / parts);
}

function stateRecord(desc: usize, field: i32, item: i32): usize {
  return addr(desc, field) + <usize>item * favorStateBytes(desc);
}

/** Task: one whole bidirectional head (item = head), state in thread scratch. */
export function favorBidirHead(desc: usize, item: i32, tid: i32): void {
  const rec = region(desc, tid, R_STATE);
  const mp = featureCount(word(desc, L.FAVOR_FEATURE_MAP), word(desc, L.FAVOR_M)), Dv = word(desc, L.FAVOR_VALUE_DIM);
  clearState(rec, mp, Dv);
  accumulateKeys(desc, item, 0, word(desc, L.FAVOR_LK), rec, tid);
  queryPass(desc, item, 0, word(desc, L.FAVOR_LQ), rec, tid);
}

/** Task: partial state of key part (item = head·parts + part). For causal calls the last part is
 *  skipped: no later part reads it. */
export function favorKeyPart(desc: usize, item: i32, tid: i32): void {
  const parts = word(desc, L.FAVOR_PARTS), part = item % parts, lk = word(desc, L.FAVOR_LK);
  if (word(desc, L.FAVOR_CAUSAL) != 0 && part == parts - 1) return;
  const rec = stateRecord(desc, L.FAVOR_STATES, item);
  const mp = featureCount(word(desc, L.FAVOR_FEATURE_MAP), word(desc, L.FAVOR_M)), Dv = word(desc, L.FAVOR_VALUE_DIM);
  clearState(rec, mp, Dv);
  accumulateKeys(desc, item / parts, partStart(lk, parts, part), partStart(lk, parts, part + 1), rec, tid);
}

/** Task: item = head; combines the head's partial states into its part-0 record. */
export function favorReduce(desc: usize, item: i32, tid: i32): void {
  const parts = word(desc, L.FAVOR_PARTS);
  const mp = featureCount(word(desc, L.FAVOR_FEATURE_MAP), word(desc, L.FAVOR_M)), Dv = word(desc, L.FAVOR_VALUE_DIM);
  const first = stateRecord(desc, L.FAVOR_STATES, item * parts);
  for (let p = 1; p < parts; p++) combineState(first, stateRecord(desc, L.FAVOR_STATES, item * parts + p), mp, Dv);
}

/** Task: query part (item = head·parts + part) against the reduced state of its head. */
export function favorQueryPart(desc: usize, item: i32, tid: i32): void {
  const parts = word(desc, L.FAVOR_PARTS), part = item % parts, head = item / parts;
  const lq = word(desc, L.FAVOR_LQ);
  const rec = stateRecord(desc, L.FAVOR_STATES, head * parts);
  queryPass(desc, head, partStart(lq, parts, part), partStart(lq, parts, part + 1), rec, tid);
}

/** Task: one whole causal head (item = head) from the empty state. */
export function favorCausalHead(desc: usize, item: i32, tid: i32): void {
  causalPass(desc, item, 0, word(desc, L.FAVOR_LQ), 0, tid);
}

/** Task: carried-in state of causal part (item = head·parts + part) = ⊕ of the earlier parts' keys. */
export function favorCausalCarry(desc: usize, item: i32, tid: i32): void {
  const parts = word(desc, L.FAVOR_PARTS), part = item % parts, first = item - part;
  const mp = featureCount(word(desc, L.FAVOR_FEATURE_MAP), word(desc, L.FAVOR_M)), Dv = word(desc, L.FAVOR_VALUE_DIM);
  const carry = stateRecord(desc, L.FAVOR_CARRIES, item);
  clearState(carry, mp, Dv);
  for (let p = 0; p < part; p++) combineState(carry, stateRecord(desc, L.FAVOR_STATES, first + p), mp, Dv);
}

/** Task: causal part (item = head·parts + part) from its carried-in state. */
export function favorCausalPart(desc: usize, item: i32, tid: i32): void {
  const parts = word(desc, L.FAVOR_PARTS), part = item % parts, len = word(desc, L.FAVOR_LQ);
  causalPass(desc, item / parts, partStart(len, parts, part), partStart(len, parts, part + 1),
    stateRecord(desc, L.FAVOR_CARRIES, item), tid);
}
