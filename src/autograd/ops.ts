// Differentiable ops. Each op computes its output, then (when recording) pushes its backward right
// here beside it: the closure reads out.grad and ADDS into the inputs' grads. Outputs have the
// element type of the inputs (float32, or float64 for checks).
import { IGNORE_INDEX } from '../data/ignore-index.js';
import { formatShape, sameShape, sizeOf, type Shape } from '../tensor/shape.js';
import type { Rng } from '../tensor/rng.js';
import { kernelsFor } from './kernels.js';
import { record, recording } from './tape.js';
import type { Floats } from '../tensor/floats.js';
import { alloc, Var } from './var.js';

function output(like: Var, shape: Shape, grad: boolean, data?: Floats): Var {
  return new Var(shape, data ?? alloc(like.data, sizeOf(shape)), grad);
}

function suffixOf(b: Shape, a: Shape): boolean {
  if (b.length > a.length) return false;
  const off = a.length - b.length;
  return b.every((s, i) => s === a[off + i]);
}

// ---------------------------------------------------------------------------------------------
// matmul

export interface MatmulOptions { transA?: boolean; transB?: boolean }

/**
 * op(a) · op(b) over the last two dims. a [..., M, K] (or [..., K, M] with transA), b [..., K, N]
 * (or [..., N, K] with transB). b either has the same leading dims as a or none (a shared weight).
 * Backward (with C = op(A)op(B)): d op(A) = dC·op(B)ᵀ, d op(B) = op(A)ᵀ·dC, transposed back as needed.
 */
export function matmul(a: Var, b: Var, opts: MatmulOptions = {}): Var {
  const tA = opts.transA ?? false, tB = opts.transB ?? false;
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul needs rank ≥ 2 operands, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const ar = a.rank, br = b.rank;
  const M = tA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const K = tA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const Kb = tB ? b.shape[br - 1]! : b.shape[br - 2]!;
  const N = tB ? b.shape[br - 2]! : b.shape[br - 1]!;
  if (K !== Kb) throw new Error(`matmul inner dimensions differ: ${formatShape(a.shape)}${tA ? 'ᵀ' : ''} · ${formatShape(b.shape)}${tB ? 'ᵀ' : ''}`);
  const lead = a.shape.slice(0, ar - 2);
  const bLead = b.shape.slice(0, br - 2);
  const shared = bLead.length === 0;
  if (!shared && !sameShape(lead, bLead)) throw new Error(`matmul batch dims differ: ${formatShape(a.shape)} vs ${formatShape(b.shape)}`);
  let batch = sizeOf(lead);
  let Mx = M;
  // A shared right operand with an untransposed left one: one big [batch·M, K] matmul.
  if (shared && !tA) { Mx = M * batch; batch = 1; }
  const sA = M * K, sB = shared ? 0 : K * N, sC = Mx * N;
  const out = output(a, [...lead, M, N], recording(a, b));
  const kern = kernelsFor(a.data);
  kern.matmul({ a: a.data, b: b.data, c: out.data, M: Mx, N, K, transA: tA, transB: tB, batch, strideA: sA, strideB: sB, strideC: sC, accumulate: false });
  if (out.requiresGrad) {
    // Differentiates (M1) of docs/MATH.md, C = op(A)·op(B), by (M2): dA = dC·op(B)ᵀ, dB = op(A)ᵀ·dC.
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      if (a.requiresGrad) {
        const da = a.gradBuf();
        if (!tA) kern.matmul({ a: dOut, b: b.data, c: da, M: Mx, N: K, K: N, transA: false, transB: !tB, batch, strideA: sC, strideB: sB, strideC: sA, accumulate: true });
        else kern.matmul({ a: b.data, b: dOut, c: da, M: K, N: M, K: N, transA: tB, transB: true, batch, strideA: sB, strideB: sC, strideC: sA, accumulate: true });
      }
      if (b.requiresGrad) {
        const db = b.gradBuf();
        if (!tB) kern.matmul({ a: a.data, b: dOut, c: db, M: K, N, K: Mx, transA: !tA, transB: false, batch, strideA: sA, strideB: sC, strideC: sB, accumulate: true });
        else kern.matmul({ a: dOut, b: a.data, c: db, M: N, N: K, K: Mx, transA: true, transB: tA, batch, strideA: sC, strideB: sA, strideC: sB, accumulate: true });
      }
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// elementwise with suffix broadcasting: b's shape equals a's or is a suffix of it (bias, positions)

function checkBroadcast(op: string, a: Var, b: Var): void {
  if (!suffixOf(b.shape, a.shape)) throw new Error(`${op}: ${formatShape(b.shape)} does not broadcast to ${formatShape(a.shape)} (must be a suffix)`);
}

/** a + b. Backward: da += dOut; db += dOut summed over the broadcast leading dims. */
export function add(a: Var, b: Var): Var {
  checkBroadcast('add', a, b);
  const n = a.size, nb = b.size;
  const out = output(a, a.shape, recording(a, b));
  const x = a.data, y = b.data, o = out.data;
  for (let i = 0; i < n; i++) o[i] = x[i]! + y[i % nb]!;
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      if (a.requiresGrad) { const da = a.gradBuf(); for (let i = 0; i < n; i++) da[i] = da[i]! + dOut[i]!; }
      if (b.requiresGrad) { const db = b.gradBuf(); for (let i = 0; i < n; i++) db[i % nb] = db[i % nb]! + dOut[i]!; }
    });
  }
  return out;
}

/** a ⊙ b. Backward: da += dOut⊙b; db += Σ dOut⊙a over the broadcast dims. */
export function mul(a: Var, b: Var): Var {
  checkBroadcast('mul', a, b);
  const n = a.size, nb = b.size;
  const out = output(a, a.shape, recording(a, b));
  const x = a.data, y = b.data, o = out.data;
  for (let i = 0; i < n; i++) o[i] = x[i]! * y[i % nb]!;
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      if (a.requiresGrad) { const da = a.gradBuf(); for (let i = 0; i < n; i++) da[i] = da[i]! + dOut[i]! * y[i % nb]!; }
      if (b.requiresGrad) { const db = b.gradBuf(); for (let i = 0; i < n; i++) db[i % nb] = db[i % nb]! + dOut[i]! * x[i]!; }
    });
  }
  return out;
}

/** c·a for a constant c. */
export function scale(a: Var, c: number): Var {
  const n = a.size;
  const out = output(a, a.shape, recording(a));
  for (let i = 0; i < n; i++) out.data[i] = a.data[i]! * c;
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      const da = a.gradBuf();
      for (let i = 0; i < n; i++) da[i] = da[i]! + c * dOut[i]!;
    });
  }
  return out;
}

/** Σ of all entries → shape [1]. */
export function sum(a: Var): Var {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i]!;
  const out = output(a, [1], recording(a));
  out.data[0] = s;
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      const da = a.gradBuf();
      for (let i = 0; i < da.length; i++) da[i] = da[i]! + dOut[0]!;
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// layout

/** Same data, new shape (the output shares a's value array; gradients are separate). */
export function reshape(a: Var, shape: Shape): Var {
  if (sizeOf(shape) !== a.size) throw new Error(`cannot reshape ${formatShape(a.shape)} to ${formatShape(shape)}`);
  const out = output(a, shape, recording(a), a.data);
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      const da = a.gradBuf();
      for (let i = 0; i < dOut.length; i++) da[i] = da[i]! + dOut[i]!;
    });
  }
  return out;
}

/** Copies src (shape `shape`) into dst with axes d1, d2 swapped; with add, dst +=. */
function swapAxes(src: Floats, dst: Floats, shape: Shape, d1: number, d2: number, addInto: boolean): void {
  const r = shape.length;
  const outShape = [...shape];
  outShape[d1] = shape[d2]!; outShape[d2] = shape[d1]!;
  const inStride = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) { inStride[i] = s; s *= shape[i]!; }
  // stride in the source of each output axis
  const st = [...inStride];
  st[d1] = inStride[d2]!; st[d2] = inStride[d1]!;
  const inner = outShape[r - 1]!, innerStride = st[r - 1]!;
  const idx = new Array<number>(r).fill(0);
  const n = src.length;
  for (let o = 0; o < n; o += inner) {
    let off = 0;
    for (let i = 0; i < r - 1; i++) off += idx[i]! * st[i]!;
    if (addInto) for (let c = 0; c < inner; c++) dst[o + c] = dst[o + c]! + src[off + c * innerStride]!;
    else for (let c = 0; c < inner; c++) dst[o + c] = src[off + c * innerStride]!;
    for (let i = r - 2; i >= 0; i--) { if (++idx[i]! < outShape[i]!) break; idx[i] = 0; }
  }
}

/** Swaps two axes (e.g. [B, L, H, dh] ↔ [B, H, L, dh]). Backward: the same swap of the gradient. */
export function transpose(a: Var, d1: number, d2: number): Var {
  const r = a.rank;
  if (d1 < 0) d1 += r;
  if (d2 < 0) d2 += r;
  if (!(d1 >= 0 && d1 < r && d2 >= 0 && d2 < r)) throw new Error(`transpose axes out of range for ${formatShape(a.shape)}`);
  const shape = [...a.shape];
  shape[d1] = a.shape[d2]!; shape[d2] = a.shape[d1]!;
  const out = output(a, shape, recording(a));
  if (d1 === d2) out.data.set(a.data);
  else swapAxes(a.data, out.data, a.shape, d1, d2, false);
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      if (d1 === d2) { const da = a.gradBuf(); for (let i = 0; i < dOut.length; i++) da[i] = da[i]! + dOut[i]!; }
      else swapAxes(dOut, a.gradBuf(), shape, d1, d2, true);
    });
  }
  return out;
}

/** [B, L, H·dh] → [B, H, L, dh]. */
export function splitHeads(x: Var, heads: number): Var {
  const [B, L, D] = x.shape as [number, number, number];
  if (x.rank !== 3 || D % heads !== 0) throw new Error(`splitHeads: need [B, L, H·dh] with H=${heads}, got ${formatShape(x.shape)}`);
  return transpose(reshape(x, [B, L, heads, D / heads]), 1, 2);
}

/** [B, H, L, dh] → [B, L, H·dh]. */
export function mergeHeads(x: Var): Var {
  const [B, H, L, dh] = x.shape as [number, number, number, number];
  if (x.rank !== 4) throw new Error(`mergeHeads: need [B, H, L, dh], got ${formatShape(x.shape)}`);
  return reshape(transpose(x, 1, 2), [B, L, H * dh]);
}

// ---------------------------------------------------------------------------------------------
// activations and normalisation

/**
 * GELU, tanh approximation (Hendrycks & Gimpel; as in GPT-2/BERT implementations):
 * y = ½x(1 + tanh(c(x + 0.044715x³))), c = √(2/π).
 * Backward: dx += dOut·dy/dx, dy/dx = ½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²), t = tanh(c(x + 0.044715x³)).
 */
export function gelu(a: Var): Var {
  const out = output(a, a.shape, recording(a));
  const kern = kernelsFor(a.data);
  kern.geluForward({ x: a.data, y: out.data });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      kern.geluBackward({ x: a.data, dy: dOut, dx: a.gradBuf() });
    });
  }
  return out;
}

/**
 * LayerNorm over the last dim: x̄ = (x − μ)·r with r = 1/√(var + eps) (biased variance), y = x̄⊙γ + β.
 * Backward: dγ += Σ dOut⊙x̄, dβ += Σ dOut, and with ĝ = dOut⊙γ: dx = r·(ĝ − mean(ĝ) − x̄·mean(ĝ⊙x̄)).
 * Saves μ and r per row (2 floats/row).
 */
export function layerNorm(x: Var, gamma: Var, beta: Var, eps = 1e-5): Var {
  const D = x.shape[x.rank - 1]!;
  if (gamma.size !== D || beta.size !== D) throw new Error(`layerNorm: γ and β need ${D} values`);
  const rows = x.size / D;
  const out = output(x, x.shape, recording(x, gamma, beta));
  const mean = alloc(x.data, rows), rstd = alloc(x.data, rows);
  const kern = kernelsFor(x.data);
  kern.layerNormForward({ x: x.data, gamma: gamma.data, beta: beta.data, y: out.data, mean, rstd, rows, D, eps });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      kern.layerNormBackward({
        x: x.data, gamma: gamma.data, mean, rstd, dy: dOut, rows, D,
        dx: x.requiresGrad ? x.gradBuf() : null,
        dGamma: gamma.requiresGrad ? gamma.gradBuf() : null,
        dBeta: beta.requiresGrad ? beta.gradBuf() : null,
      });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// embedding, dropout, loss

/** table[ids]: ids (any shape `idsShape`) → [...idsShape, D]. Backward: scatter-add rows of dOut. */
export function embedding(table: Var, ids: Int32Array | readonly number[], idsShape: Shape): Var {
  if (table.rank !== 2) throw new Error(`embedding table must be [V, D], got ${formatShape(table.shape)}`);
  const [V, D] = table.shape as [number, number];
  const n = ids.length;
  if (sizeOf(idsShape) !== n) throw new Error(`embedding: ${n} ids for shape ${formatShape(idsShape)}`);
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`embedding: id ${id} at ${i} is out of range [0, ${V})`);
  }
  const saved = Int32Array.from(ids); // the caller may reuse its array before backward runs
  const out = output(table, [...idsShape, D], recording(table));
  const kern = kernelsFor(table.data);
  kern.embeddingForward({ table: table.data, ids: saved, out: out.data, D });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      kern.embeddingBackward({ dOut: dOut, ids: saved, dTable: table.gradBuf(), D });
    });
  }
  return out;
}

/**
 * Inverted dropout: each entry is zeroed with probability p (keep iff rng.uint32() ≥ p·2³²), kept
 * ones are scaled by 1/(1−p). The mask comes from the given counter-based Rng, so a run is
 * reproducible from its seed (and Rng state). Saves a byte mask. p = 0 returns a unchanged.
 * Backward: dx += dOut/(1−p) where kept.
 */
export function dropout(a: Var, p: number, rng: Rng): Var {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout probability must be in [0, 1), got ${p}`);
  if (p === 0) return a;
  const n = a.size;
  const threshold = p * 4294967296;
  const scale = 1 / (1 - p);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (rng.uint32() >= threshold) mask[i] = 1;
  const out = output(a, a.shape, recording(a));
  const kern = kernelsFor(a.data);
  kern.dropoutForward({ x: a.data, mask, scale, y: out.data });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      kern.dropoutBackward({ dy: dOut, mask, scale, dx: a.gradBuf() });
    });
  }
  return out;
}

/**
 * Mean softmax cross-entropy: logits [..., V], integer targets (one per row); rows whose target is
 * `ignoreIndex` do not count. Loss = (1/n) Σ_rows (logsumexp(z) − z_target) over the n counted rows
 * (0 when none). Backward: dz = (softmax(z) − onehot(target))·dOut/n on counted rows. Saves the
 * log-sum-exp of each row (the softmax is recomputed from it).
 */
export function crossEntropy(logits: Var, targets: Int32Array | readonly number[], ignoreIndex = IGNORE_INDEX): Var {
  const V = logits.shape[logits.rank - 1]!;
  const rows = logits.size / V;
  if (targets.length !== rows) throw new Error(`crossEntropy: ${targets.length} targets for ${rows} rows of ${formatShape(logits.shape)}`);
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`crossEntropy: target ${t} at row ${r} is out of range [0, ${V})`);
    count++;
  }
  const saved = Int32Array.from(targets); // the caller may reuse its array before backward runs
  const lse = alloc(logits.data, rows);
  const kern = kernelsFor(logits.data);
  const args = { logits: logits.data, targets: saved, lse, rows, V, ignoreIndex };
  const out = output(logits, [1], recording(logits));
  out.data[0] = kern.crossEntropyForward(args);
  if (out.requiresGrad && count > 0) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      kern.crossEntropyBackward({ ...args, dLoss: dOut[0]!, dLogits: logits.gradBuf() });
    });
  }
  return out;
}

/**
 * Mean over the sequence axis of x [B, L, D] → [B, D], counting only positions with mask ≠ 0
 * (mask [B, L], optional). A row with no counted position gives 0.
 */
export function meanPool(x: Var, mask?: ArrayLike<number>): Var {
  const [B, L, D] = x.shape as [number, number, number];
  if (x.rank !== 3) throw new Error(`meanPool needs [B, L, D], got ${formatShape(x.shape)}`);
  if (mask && mask.length !== B * L) throw new Error(`meanPool mask needs ${B * L} values`);
  const w = new Float64Array(B * L);
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let l = 0; l < L; l++) if (!mask || mask[b * L + l] !== 0) n++;
    for (let l = 0; l < L; l++) w[b * L + l] = n && (!mask || mask[b * L + l] !== 0) ? 1 / n : 0;
  }
  const out = output(x, [B, D], recording(x));
  for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) {
    const wl = w[b * L + l]!;
    if (wl === 0) continue;
    for (let c = 0; c < D; c++) out.data[b * D + c] = out.data[b * D + c]! + wl * x.data[(b * L + l) * D + c]!;
  }
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      const dx = x.gradBuf();
      for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) {
        const wl = w[b * L + l]!;
        if (wl === 0) continue;
        for (let c = 0; c < D; c++) dx[(b * L + l) * D + c] = dx[(b * L + l) * D + c]! + wl * dOut[b * D + c]!;
      }
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// rotary position embedding

/**
 * Rotates interleaved pairs (x_{2p}, x_{2p+1}) of every row of x [..., L, dh] at position
 * t = offset + row index by angle t·θ_p, θ_p = base^(−2p/dh) (RoFormer, Su et al. 2021, eq. 34).
 * `sign` = −1 applies the inverse rotation (used by the backward). In place on `dst` (may be src).
 */
export function ropeApply(src: Floats, dst: Floats, L: number, dh: number, offset: number, base: number, sign: 1 | -1): void {
  const half = dh / 2;
  const rows = src.length / dh;
  const cos = new Float64Array(L * half), sin = new Float64Array(L * half);
  for (let l = 0; l < L; l++) for (let p = 0; p < half; p++) {
    const ang = (offset + l) * base ** (-(2 * p) / dh);
    cos[l * half + p] = Math.cos(ang);
    sin[l * half + p] = sign * Math.sin(ang);
  }
  for (let r = 0; r < rows; r++) {
    const l = r % L, off = r * dh;
    for (let p = 0; p < half; p++) {
      const c = cos[l * half + p]!, s = sin[l * half + p]!;
      const x0 = src[off + 2 * p]!, x1 = src[off + 2 * p + 1]!;
      dst[off + 2 * p] = x0 * c - x1 * s;
      dst[off + 2 * p + 1] = x0 * s + x1 * c;
    }
  }
}

/** RoPE on q or k [..., L, dh] (dh even). Backward: rotate the gradient by the opposite angle. */
export function rope(x: Var, opts: { offset?: number; base?: number } = {}): Var {
  const { offset = 0, base = 10000 } = opts;
  const dh = x.shape[x.rank - 1]!, L = x.shape[x.rank - 2]!;
  if (x.rank < 2 || dh % 2 !== 0) throw new Error(`rope needs [..., L, dh] with even dh, got ${formatShape(x.shape)}`);
  const out = output(x, x.shape, recording(x));
  ropeApply(x.data, out.data, L, dh, offset, base, 1);
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      const tmp = alloc(dOut, dOut.length);
      ropeApply(dOut, tmp, L, dh, offset, base, -1);
      const dx = x.gradBuf();
      for (let i = 0; i < tmp.length; i++) dx[i] = dx[i]! + tmp[i]!;
    });
  }
  return out;
}
