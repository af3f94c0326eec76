// The approximation-error experiment of Fig. 4 in Choromanski et al. (2021): MSE of FAVOR
// attention against exact attention, per feature map, projection kind and feature count. Browser-safe:
// `performer approx` and the playground page both run it.

import { exactAttention, favorAttention } from '../favor/attention.js';
import { drawProjection, type ProjectionKind } from '../favor/projection.js';
import { featureCount, type FeatureMap } from '../kernels/backend.js';
import { featureRow } from '../kernels/reference/features.js';
import { oprfCoefficients } from '../favor/oprf.js';
import type { Floats } from '../tensor/floats.js';
import type { Engine } from '../kernels/engine.js';
import { referenceEngine } from '../kernels/reference/engine.js';
import { renderPlot, PALETTE, type PlotSeries } from './svg-plot.js';
import { hash32, Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';

export const APPROX_FEATURE_MAPS: readonly FeatureMap[] = ['softmax', 'softmax-hyp', 'trig', 'relu', 'softmax++'];
export const APPROX_PROJECTIONS: readonly ProjectionKind[] = ['orthogonal', 'iid'];

export interface ApproxOptions {
  d: number;
  L: number;
  features: readonly number[];
  samples: number;
  scale: number;
  seed: number;
  featureMaps?: readonly FeatureMap[];
  projections?: readonly ProjectionKind[];
  /** The engine that runs the attention (default: reference, float64 sums); a CPU engine. */
  engine?: Engine;
  /** Called after each sample (1-based). */
  onProgress?: (done: number, total: number) => void;
}

export interface ApproxRow {
  kernel: FeatureMap; // spelled like the --kernel flag (a JSON output field)
  projection: ProjectionKind;
  features: number;
  scale: number;
  /** Mean over samples of the per-sample MSE (mean over all output entries). */
  mse: number;
  /** Sample standard deviation (n − 1) of the per-sample MSE over samples; 0 for one sample. */
  std: number;
  /** Mean over samples of Σ(out − exact)² / Σ exact²: the MSE relative to the output's size. */
  nmse: number;
  /**
   * The kernel estimate K̂ = φ(x)·φ(y) of K = exp(x·y/√d) on fixed query–key pairs (the first
   * min(L, 32) rows of sample 0's q and k), its variance over the samples' projection draws:
   * mean over pairs of ln Var[K̂] (what FAVOR++'s A minimises) and of Var[K̂]/K². Null for relu (not
   * an estimate of K) and for a single sample.
   */
  logVar: number | null;
  relVar: number | null;
}

/** Query–key pairs whose kernel estimates are tracked over the samples. */
const VARIANCE_ROWS = 32;

/** K̂_ij = φ(x_i)·φ(y_j) over P×P pairs of x, y [P, d] (float64), φ = exp(s)·κ as featureRow writes it. */
function kernelEstimates(featureMap: FeatureMap, w: Floats, m: number, d: number, x: Float64Array, y: Float64Array, P: number, A: number): Float64Array {
  const mf = featureCount(featureMap, m);
  const fx = new Float64Array(P * mf), fy = new Float64Array(P * mf), sx = new Float64Array(P), sy = new Float64Array(P), u = new Float64Array(m);
  for (let i = 0; i < P; i++) {
    sx[i] = featureRow(featureMap, w, m, d, x, i * d, fx, i * mf, u, A);
    sy[i] = featureRow(featureMap, w, m, d, y, i * d, fy, i * mf, u, A);
  }
  const K = new Float64Array(P * P);
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) {
    let dot = 0;
    for (let l = 0; l < mf; l++) dot += fx[i * mf + l]! * fy[j * mf + l]!;
    K[i * P + j] = Math.exp(sx[i]! + sy[j]!) * dot;
  }
  return K;
}

/** Mean ln Var[K̂_ij] and mean Var[K̂_ij]/K_ij² over the pairs, Var over the samples (n − 1). */
function varianceSummary(est: Float64Array[] | undefined, x: Float64Array, y: Float64Array, P: number, d: number): { logVar: number | null; relVar: number | null } {
  if (!est || est.length < 2) return { logVar: null, relVar: null };
  const n = est.length;
  let logVar = 0, relVar = 0;
  for (let p = 0; p < P * P; p++) {
    let mean = 0;
    for (const e of est) mean += e[p]! / n;
    let v = 0;
    for (const e of est) v += (e[p]! - mean) ** 2 / (n - 1);
    const i = Math.floor(p / P), j = p % P;
    let xy = 0;
    for (let c = 0; c < d; c++) xy += x[i * d + c]! * y[j * d + c]!;
    const K = Math.exp(xy / Math.sqrt(d));
    logVar += Math.log(v) / (P * P);
    relVar += v / (K * K) / (P * P);
  }
  return { logVar, relVar };
}

function mse(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const e = a[i]! - b[i]!;
    s += e * e;
  }
  return s / a.length;
}

/**
 * Each sample draws q, k with i.i.d. N(0, scale²) entries and v with N(0, 1) entries, all of
 * shape [1, 1, L, d] (RNG stream 1 + sample of `seed`), and fresh projections: a new seed per
 * sample and projection kind (shared by the feature counts and kernels of that sample). The same
 * exact attention output is the reference for every row. Bidirectional, no mask. Runs on the
 * reference engine (float64 sums) unless told otherwise, so the figures do not depend on threads or
 * SIMD variant.
 */
export function runApprox(opts: ApproxOptions): ApproxRow[] {
  const { d, L, features, samples, scale, seed } = opts;
  const featureMaps = opts.featureMaps ?? APPROX_FEATURE_MAPS;
  const projections = opts.projections ?? APPROX_PROJECTIONS;
  const errors = new Map<string, number[]>();
  const key = (k: FeatureMap, p: ProjectionKind, m: number) => `${k}/${p}/${m}`;
  const base = hash32(seed);
  const engine = opts.engine ?? referenceEngine;
  const P = Math.min(L, VARIANCE_ROWS);
  let px = new Float64Array(0), py = new Float64Array(0), pairA = 0;
  const estimates = new Map<string, Float64Array[]>(); // per key: K̂ over the pairs, one array per sample
  const nmses = new Map<string, number[]>();
  for (let s = 0; s < samples; s++) {
    const rng = new Rng(seed, 1 + s);
    const q = new Tensor([1, 1, L, d], undefined, engine);
    const k = new Tensor([1, 1, L, d], undefined, engine);
    const v = new Tensor([1, 1, L, d], undefined, engine);
    rng.fillNormal(q.data, 0, scale);
    rng.fillNormal(k.data, 0, scale);
    rng.fillNormal(v.data, 0, 1);
    const exact = exactAttention(q, k, v, { engine });
    if (s === 0) {
      px = Float64Array.from(q.data.subarray(0, P * d));
      py = Float64Array.from(k.data.subarray(0, P * d));
      pairA = oprfCoefficients(px, py, { B: 1, H: 1, Lq: P, Lk: P, d })[0]!;
    }
    let exactSq = 0;
    for (const x of exact.data) exactSq += x * x;
    projections.forEach((kind, pi) => {
      const projSeed = (base + 2 * s + pi) >>> 0;
      for (const m of features) {
        const projection = drawProjection({ features: m, dim: d, kind, seed: projSeed });
        for (const featureMap of featureMaps) {
          const out = favorAttention(q, k, v, { featureMap, projection, engine });
          const id = key(featureMap, kind, m);
          const e = mse(out.data, exact.data);
          errors.set(id, [...(errors.get(id) ?? []), e]);
          nmses.set(id, [...(nmses.get(id) ?? []), (e * out.data.length) / exactSq]);
          if (featureMap !== 'relu') estimates.set(id, [...(estimates.get(id) ?? []), kernelEstimates(featureMap, projection.data, m, d, px, py, P, pairA)]);
        }
      }
    });
    opts.onProgress?.(s + 1, samples);
  }
  const rows: ApproxRow[] = [];
  for (const featureMap of featureMaps) {
    for (const projection of projections) {
      for (const m of features) {
        const e = errors.get(key(featureMap, projection, m))!;
        const mean = e.reduce((a, b) => a + b, 0) / e.length;
        const variance = e.length > 1 ? e.reduce((a, b) => a + (b - mean) ** 2, 0) / (e.length - 1) : 0;
        const nm = nmses.get(key(featureMap, projection, m))!;
        const v = varianceSummary(estimates.get(key(featureMap, projection, m)), px, py, P, d);
        rows.push({ kernel: featureMap, projection, features: m, scale, mse: mean, std: Math.sqrt(variance), nmse: nm.reduce((a, b) => a + b, 0) / nm.length, ...v });
      }
    }
  }
  return rows;
}

/** Aligned text table of the rows. */
export function formatApproxTable(rows: readonly ApproxRow[]): string {
  const header = ['kernel', 'projection', 'features', 'mse', 'std', 'nmse', 'logvar', 'relvar'];
  const opt = (x: number | null, f: (x: number) => string): string => (x === null ? '-' : f(x));
  const cells = rows.map((r) => [
    r.kernel, r.projection, String(r.features), r.mse.toExponential(3), r.std.toExponential(3), r.nmse.toExponential(3),
    opt(r.logVar, (x) => x.toFixed(3)), opt(r.relVar, (x) => x.toExponential(3)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const numeric = [false, false, true, true, true, true, true, true];
  const line = (c: readonly string[]) =>
    c.map((x, i) => (numeric[i] ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

/** What a plot shows against the feature count. */
export type ApproxMetric = 'mse' | 'logVar' | 'relVar';
const METRIC_LABELS: Record<ApproxMetric, string> = {
  mse: 'MSE vs exact attention', logVar: 'mean ln Var[kernel estimate]', relVar: 'mean Var[kernel estimate] / K²',
};

/** Plot of a metric (default MSE; log scale except the log-variance) vs features, one line per kernel and projection kind. */
export function approxPlot(rows: readonly ApproxRow[], title: string, metric: ApproxMetric = 'mse'): string {
  const series: PlotSeries[] = [];
  const kernels = [...new Set(rows.map((r) => r.kernel))];
  for (const r of rows) {
    const y = r[metric];
    if (y === null) continue;
    const name = `${r.kernel} (${r.projection})`;
    let s = series.find((x) => x.name === name);
    if (!s) {
      const ki = kernels.indexOf(r.kernel);
      s = { name, points: [], color: PALETTE[ki % PALETTE.length], dash: r.projection === 'iid' };
      series.push(s);
    }
    (s.points as [number, number][]).push([r.features, y]);
  }
  return renderPlot({
    series,
    title,
    xLabel: 'random features m',
    yLabel: METRIC_LABELS[metric],
    xScale: 'log',
    yScale: metric === 'logVar' ? 'linear' : 'log',
    xTicks: [...new Set(rows.map((r) => r.features))].sort((a, b) => a - b),
  });
}
