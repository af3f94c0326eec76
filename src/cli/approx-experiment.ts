// The approximation-error experiment of Fig. 4 in Choromanski et al. (2021): MSE of FAVOR
// attention against exact attention, per feature map, projection kind and feature count. Browser-safe:
// `performer approx` and the playground page both run it.

import { exactAttention, favorAttention } from '../favor/attention.js';
import { drawProjection, type ProjectionKind } from '../favor/projection.js';
import type { FeatureMap } from '../kernels/backend.js';
import type { Engine } from '../kernels/engine.js';
import { referenceEngine } from '../kernels/reference/engine.js';
import { renderPlot, PALETTE, type PlotSeries } from './svg-plot.js';
import { hash32, Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';

export const APPROX_FEATURE_MAPS: readonly FeatureMap[] = ['softmax', 'softmax-hyp', 'trig', 'relu'];
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
  for (let s = 0; s < samples; s++) {
    const rng = new Rng(seed, 1 + s);
    const q = new Tensor([1, 1, L, d], undefined, engine);
    const k = new Tensor([1, 1, L, d], undefined, engine);
    const v = new Tensor([1, 1, L, d], undefined, engine);
    rng.fillNormal(q.data, 0, scale);
    rng.fillNormal(k.data, 0, scale);
    rng.fillNormal(v.data, 0, 1);
    const exact = exactAttention(q, k, v, { engine });
    projections.forEach((kind, pi) => {
      const projSeed = (base + 2 * s + pi) >>> 0;
      for (const m of features) {
        const projection = drawProjection({ features: m, dim: d, kind, seed: projSeed });
        for (const featureMap of featureMaps) {
          const out = favorAttention(q, k, v, { featureMap, projection, engine });
          const list = errors.get(key(featureMap, kind, m)) ?? [];
          list.push(mse(out.data, exact.data));
          errors.set(key(featureMap, kind, m), list);
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
        rows.push({ kernel: featureMap, projection, features: m, scale, mse: mean, std: Math.sqrt(variance) });
      }
    }
  }
  return rows;
}

/** Aligned text table of the rows. */
export function formatApproxTable(rows: readonly ApproxRow[]): string {
  const header = ['kernel', 'projection', 'features', 'mse', 'std'];
  const cells = rows.map((r) => [r.kernel, r.projection, String(r.features), r.mse.toExponential(3), r.std.toExponential(3)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const numeric = [false, false, true, true, true];
  const line = (c: readonly string[]) =>
    c.map((x, i) => (numeric[i] ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

/** Log-log plot of MSE vs features, one line per kernel and projection kind. */
export function approxPlot(rows: readonly ApproxRow[], title: string): string {
  const series: PlotSeries[] = [];
  const kernels = [...new Set(rows.map((r) => r.kernel))];
  for (const r of rows) {
    const name = `${r.kernel} (${r.projection})`;
    let s = series.find((x) => x.name === name);
    if (!s) {
      const ki = kernels.indexOf(r.kernel);
      s = { name, points: [], color: PALETTE[ki % PALETTE.length], dash: r.projection === 'iid' };
      series.push(s);
    }
    (s.points as [number, number][]).push([r.features, r.mse]);
  }
  return renderPlot({
    series,
    title,
    xLabel: 'random features m',
    yLabel: 'MSE vs exact attention',
    xScale: 'log',
    yScale: 'log',
    xTicks: [...new Set(rows.map((r) => r.features))].sort((a, b) => a - b),
  });
}
