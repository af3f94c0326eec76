// Panel 1, approximation: the exact attention matrix beside its FAVOR+ estimate, and the estimate's
// MSE against the number of random features m (the paper's Fig. 4), from the library's functions.
//
// The matrices come from the attention functions themselves: with V = I (Dv = L), attention's
// output row i is row i of the attention matrix — softmax(q_i·K^T/√d) for exact attention, and
// φ(q_i)·φ(K)^T / (φ(q_i)·Σ_j φ(k_j)) (MATH.md, the FAVOR+ estimate) for FAVOR+.
import { drawProjection, exactAttention, favorAttention, Rng, Tensor, type FeatureMap, type ProjectionKind } from '../index.js';
import { approxPlot, runApprox, type ApproxRow } from '../cli/approx-experiment.js';
import { renderHeatmap } from './heatmap.js';
import { byId, intField, nextFrame, numberField, selectField } from './dom.js';

const SAMPLES = 12;
const FEATURE_COUNTS = [8, 16, 32, 64, 128, 256];

export interface ApproxResult {
  L: number;
  d: number;
  m: number;
  scale: number;
  featureMap: FeatureMap;
  projection: ProjectionKind;
  /** MSE of the drawn estimate's matrix against the exact one. */
  matrixMse: number;
  /** The Fig. 4 rows (both projection kinds, every m in FEATURE_COUNTS). */
  rows: ApproxRow[];
}

function identity(L: number): Tensor {
  const t = new Tensor([1, 1, L, L]);
  for (let i = 0; i < L; i++) t.data[i * L + i] = 1;
  return t;
}

export async function runApproxPanel(seed: number): Promise<ApproxResult> {
  const L = intField('approx-L', 2, 256), d = intField('approx-d', 1, 128), m = intField('approx-m', 1, 4096);
  // Entries of q and k are N(0, scale²), as in `performer approx` (whose default scale is 0.5).
  const scale = numberField('approx-scale', 0.01, 4);
  const featureMap = selectField<FeatureMap>('approx-map'), projection = selectField<ProjectionKind>('approx-proj');
  const status = byId('approx-status');
  status.textContent = 'computing the attention matrices…';
  await nextFrame();
  const rng = new Rng(seed, 1);
  const q = new Tensor([1, 1, L, d]), k = new Tensor([1, 1, L, d]);
  rng.fillNormal(q.data, 0, scale);
  rng.fillNormal(k.data, 0, scale);
  const I = identity(L);
  const exact = exactAttention(q, k, I).data;
  const W = drawProjection({ features: m, dim: d, kind: projection, seed });
  const estimate = favorAttention(q, k, I, { projection: W, featureMap }).data;
  let max = 0, se = 0;
  for (let i = 0; i < exact.length; i++) {
    max = Math.max(max, exact[i]!, estimate[i]!);
    se += (exact[i]! - estimate[i]!) ** 2;
  }
  const matrixMse = se / exact.length;
  byId('approx-exact').innerHTML = renderHeatmap(exact, L, L, { title: `exact softmax(QKᵀ/√d), L=${L}`, max });
  byId('approx-favor').innerHTML = renderHeatmap(estimate, L, L, { title: `FAVOR+ ${featureMap}, m=${m} (${projection})`, max });
  status.textContent = `matrix MSE ${matrixMse.toExponential(2)}; now the error against m (${SAMPLES} samples per point)…`;
  await nextFrame();
  const rows = runApprox({ d, L, features: FEATURE_COUNTS, samples: SAMPLES, scale, seed, featureMaps: [featureMap] });
  byId('approx-plot').innerHTML = approxPlot(rows, `MSE of FAVOR+ attention output vs exact (d=${d}, L=${L}, q,k std ${scale})`);
  status.textContent = `matrix MSE ${matrixMse.toExponential(2)} (shared colour scale, max ${max.toFixed(3)}); ` +
    `the plot is the paper's Fig. 4 for this setting: output MSE against m, orthogonal (solid) and iid (dashed) features.`;
  return { L, d, m, scale, featureMap, projection, matrixMse, rows };
}
