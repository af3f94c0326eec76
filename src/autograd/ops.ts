// Differentiable ops. Each op checks its arguments, enqueues its kernel on the engine its inputs
// live on (engine-of.ts) and, when recording, pushes its backward right here beside it: the closure
// reads out's gradient and enqueues kernels that ADD into the inputs' gradients. Nothing here
// touches the values: they stay in the engine's storage. Outputs have the element type of the
// inputs (float32, or float64 for checks).
import { IGNORE_INDEX } from '../data/ignore-index.js';
import { formatShape, sameShape, sizeOf, type Shape } from '../tensor/shape.js';
import type { Rng } from '../tensor/rng.js';
import { engineOf, output } from './engine-of.js';
import { record, recording } from './tape.js';
import { Var } from './var.js';

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
  const kern = engineOf('matmul', a, b);
  const out = output(kern, [...lead, M, N], a.dtype, recording(a, b));
  kern.matmul({ a: a.storage, b: b.storage, c: out.storage, M: Mx, N, K, transA: tA, transB: tB, batch, strideA: sA, strideB: sB, strideC: sC, accumulate: false });
  if (out.requiresGrad) {
    // Differentiates (M1) of docs/MATH.md, C = op(A)·op(B), by (M2): dA = dC·op(B)ᵀ, dB = op(A)ᵀ·dC.
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      if (a.requiresGrad) {
        const da = a.gradBuf();
        if (!tA) kern.matmul({ a: dOut, b: b.storage, c: da, M: Mx, N: K, K: N, transA: false, transB: !tB, batch, strideA: sC, strideB: sB, strideC: sA, accumulate: true });
        else kern.matmul({ a: b.storage, b: dOut, c: da, M: K, N: M, K: N, transA: tB, transB: true, batch, strideA: sB, strideB: sC, strideC: sA, accumulate: true });
      }
      if (b.requiresGrad) {
        const db = b.gradBuf();
        if (!tB) kern.matmul({ a: a.storage, b: dOut, c: db, M: K, N, K: Mx, transA: !tA, transB: false, batch, strideA: sA, strideB: sC, strideC: sB, accumulate: true });
        else kern.matmul({ a: dOut, b: a.storage, c: db, M: N, N: K, K: Mx, transA: true, transB: tA, batch, strideA: sC, strideB: sA, strideC: sB, accumulate: true });
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

function binary(op: 'add' | 'mul', a: Var, b: Var): Var {
  checkBroadcast(op, a, b);
  const n = a.size, nb = b.size;
  const kern = engineOf(op, a, b);
  const out = output(kern, a.shape, a.dtype, recording(a, b));
  kern.binary({ op, a: a.storage, b: b.storage, out: out.storage, n, nb });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.binaryBackward({
        op, a: a.storage, b: b.storage, dOut, n, nb,
        da: a.requiresGrad ? a.gradBuf() : null, db: b.requiresGrad ? b.gradBuf() : null,
      });
    });
  }
  return out;
}

/** a + b. Backward: da += dOut; db += dOut summed over the broadcast leading dims. */
export function add(a: Var, b: Var): Var {
  return binary('add', a, b);
}

/** a ⊙ b. Backward: da += dOut⊙b; db += Σ dOut⊙a over the broadcast dims. */
export function mul(a: Var, b: Var): Var {
  return binary('mul', a, b);
}

/** c·a for a constant c. */
export function scale(a: Var, c: number): Var {
  const n = a.size;
  const kern = engineOf('scale', a);
  const out = output(kern, a.shape, a.dtype, recording(a));
  kern.scale({ x: a.storage, y: out.storage, c, n, accumulate: false });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.scale({ x: dOut, y: a.gradBuf(), c, n, accumulate: true });
    });
  }
  return out;
}

/** Σ of all entries → shape [1]. */
export function sum(a: Var): Var {
  const kern = engineOf('sum', a);
  const out = output(kern, [1], a.dtype, recording(a));
  kern.sum({ x: a.storage, out: out.storage, n: a.size });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.sumBackward({ dOut, dx: a.gradBuf(), n: a.size });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// layout

/** Same data, new shape (the output shares a's value array; gradients are separate). */
export function reshape(a: Var, shape: Shape): Var {
  if (sizeOf(shape) !== a.size) throw new Error(`cannot reshape ${formatShape(a.shape)} to ${formatShape(shape)}`);
  const kern = engineOf('reshape', a);
  const out = new Var(shape, undefined, recording(a), kern, a.storage);
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.scale({ x: dOut, y: a.gradBuf(), c: 1, n: a.size, accumulate: true });
    });
  }
  return out;
}

/** Swaps two axes (e.g. [B, L, H, dh] ↔ [B, H, L, dh]). Backward: the same swap of the gradient. */
export function transpose(a: Var, d1: number, d2: number): Var {
  const r = a.rank;
  if (d1 < 0) d1 += r;
  if (d2 < 0) d2 += r;
  if (!(d1 >= 0 && d1 < r && d2 >= 0 && d2 < r)) throw new Error(`transpose axes out of range for ${formatShape(a.shape)}`);
  const shape = [...a.shape];
  shape[d1] = a.shape[d2]!; shape[d2] = a.shape[d1]!;
  const kern = engineOf('transpose', a);
  const out = output(kern, shape, a.dtype, recording(a));
  kern.transpose({ src: a.storage, dst: out.storage, shape: a.shape, d1, d2, accumulate: false });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.transpose({ src: dOut, dst: a.gradBuf(), shape, d1, d2, accumulate: true });
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
  const kern = engineOf('gelu', a);
  const out = output(kern, a.shape, a.dtype, recording(a));
  kern.geluForward({ x: a.storage, y: out.storage });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.geluBackward({ x: a.storage, dy: dOut, dx: a.gradBuf() });
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
  const kern = engineOf('layerNorm', x, gamma, beta);
  const out = output(kern, x.shape, x.dtype, recording(x, gamma, beta));
  const mean = kern.zeros(rows, x.dtype), rstd = kern.zeros(rows, x.dtype);
  kern.layerNormForward({ x: x.storage, gamma: gamma.storage, beta: beta.storage, y: out.storage, mean, rstd, rows, D, eps });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.layerNormBackward({
        x: x.storage, gamma: gamma.storage, mean, rstd, dy: dOut, rows, D,
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

/** table[ids]: ids (any shape `idsShape`) → [...idsShape, D]. Backward: scatter-add rows of g. */
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
  const kern = engineOf('embedding', table);
  const out = output(kern, [...idsShape, D], table.dtype, recording(table));
  kern.embeddingForward({ table: table.storage, ids: saved, out: out.storage, D });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.embeddingBackward({ dOut, ids: saved, dTable: table.gradBuf(), D });
    });
  }
  return out;
}

/**
 * Inverted dropout: each entry is zeroed with probability p (keep iff rng.uint32() ≥ p·2³²), kept
 * ones are scaled by 1/(1−p). The mask comes from the given counter-based Rng, so a run is
 * reproducible from its seed (and Rng state). Saves a byte mask. p = 0 returns a unchanged.
 * Backward: dx += g/(1−p) where kept.
 */
export function dropout(a: Var, p: number, rng: Rng): Var {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout probability must be in [0, 1), got ${p}`);
  if (p === 0) return a;
  const n = a.size;
  const threshold = p * 4294967296;
  const scale = 1 / (1 - p);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (rng.uint32() >= threshold) mask[i] = 1;
  const kern = engineOf('dropout', a);
  const out = output(kern, a.shape, a.dtype, recording(a));
  kern.dropoutForward({ x: a.storage, mask, scale, y: out.storage });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.dropoutBackward({ dy: dOut, mask, scale, dx: a.gradBuf() });
    });
  }
  return out;
}

/**
 * Mean softmax cross-entropy: logits [..., V], integer targets (one per row); rows whose target is
 * `ignoreIndex` do not count. Loss = (1/n) Σ_rows (logsumexp(z) − z_target) over the n counted rows
 * (0 when none). Backward: dz = (softmax(z) − onehot(target))·g/n on counted rows. Saves the
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
  const kern = engineOf('crossEntropy', logits);
  const lse = kern.zeros(rows, logits.dtype);
  const args = { logits: logits.storage, targets: saved, lse, rows, V, ignoreIndex };
  const out = output(kern, [1], logits.dtype, recording(logits));
  kern.crossEntropyForward({ ...args, loss: out.storage });
  if (out.requiresGrad && count > 0) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.crossEntropyBackward({ ...args, dLoss: dOut, dLogits: logits.gradBuf() });
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
  const kern = engineOf('meanPool', x);
  const out = output(kern, [B, D], x.dtype, recording(x));
  kern.meanPool({ x: x.storage, weights: w, out: out.storage, B, L, D });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.meanPoolBackward({ dOut, weights: w, dx: x.gradBuf(), B, L, D });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// rotary position embedding

export { ropeApply } from '../kernels/reference/grad/rope.js';

/** RoPE on q or k [..., L, dh] (dh even). Backward: rotate the gradient by the opposite angle. */
export function rope(x: Var, opts: { offset?: number; base?: number } = {}): Var {
  const { offset = 0, base = 10000 } = opts;
  const dh = x.shape[x.rank - 1]!, L = x.shape[x.rank - 2]!;
  if (x.rank < 2 || dh % 2 !== 0) throw new Error(`rope needs [..., L, dh] with even dh, got ${formatShape(x.shape)}`);
  const kern = engineOf('rope', x);
  const out = output(kern, x.shape, x.dtype, recording(x));
  // explicit literals, not spreads: decoding calls this for q and k of every layer at every token
  kern.rope({ n: x.size, L, dh, offset, base, src: x.storage, dst: out.storage, sign: 1, accumulate: false });
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      kern.rope({ n: x.size, L, dh, offset, base, src: dOut, dst: x.gradBuf(), sign: -1, accumulate: true });
    });
  }
  return out;
}
