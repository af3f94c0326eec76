// The feature maps of docs/MATH.md in WGSL, in the stabilised form φ(x) = exp(λ)·c, computed one
// block of projections at a time so that a tile of rows × features fits in workgroup memory.
//
// A block `fb` covers the projections u_l, l ∈ [fb·FB, fb·FB + FB) (u = W·x̂, x̂ = x·d^(−1/4)), and
// FBP = FB·(1 or 2) feature slots: slot f < FB is feature l; for softmax-hyp and trig, slot FB + f' is
// feature m + l. For every slot the code computes one "entry":
//   softmax      entry = u_l − ‖x̂‖²/2           φ = exp(entry)/√m
//   softmax-hyp  entry = ±u_l − ‖x̂‖²/2          φ = exp(entry)/√(2m)
//   trig         entry = [sin u_l, cos u_l]/√m   φ = exp(‖x̂‖²/2)·entry   (row log-weight λ = ‖x̂‖²/2)
//   relu         entry = max(u_l, 0) + 0.001     φ = entry                (λ = 0)
// For the exp maps the row's log-weight s(x) is the largest entry (over all blocks), so each
// feature's log-weight is its own entry; exp(entry − M) ≤ 1 for any reference M ≥ s(x).
// Slots past the last projection (m not a multiple of FB) hold INVALID and weigh 0.
import type { FeatureMap } from '../backend.js';
import { f32, NEG } from './wgsl.js';

export interface FeatureShape { featureMap: FeatureMap; d: number; m: number; fb: number }

/** Whether φ is exp(entry): the row log-weight is then the max entry, found by reduction. */
export function expMap(featureMap: FeatureMap): boolean {
  return featureMap === 'softmax' || featureMap === 'softmax-hyp';
}

export function slotsPerBlock(featureMap: FeatureMap, fb: number): number {
  return featureMap === 'softmax-hyp' || featureMap === 'trig' ? 2 * fb : fb;
}

/** Constants every FAVOR+ featureMap declares, and the projection W at `wBinding` if it reads it. */
export function featureConstants({ featureMap, d, m, fb }: FeatureShape, wBinding?: number): string {
  const two = slotsPerBlock(featureMap, fb) > fb;
  const norm = featureMap === 'softmax' || featureMap === 'trig' ? 1 / Math.sqrt(m) : featureMap === 'softmax-hyp' ? 1 / Math.sqrt(2 * m) : 1;
  return `
const D = ${d}u;
const MU = ${m}u;          // projections u_l
const MF = ${two ? 2 * m : m}u;          // features m'
const FB = ${fb}u;         // projections per block
const FBP = ${slotsPerBlock(featureMap, fb)}u;        // feature slots per block
const FBN = ${Math.ceil(m / fb)}u;        // blocks
const SCALE = ${f32(d ** -0.25)};
const NORM = ${f32(norm)};
const NEG = ${NEG};
const INVALID = ${expMap(featureMap) ? 'NEG' : '0.0'};
${wBinding === undefined ? '' : `@group(0) @binding(${wBinding}) var<storage, read> W: array<f32>;`}

${featureMap === 'trig' ? SIN_COS : ''}

/** Feature index (in [0, m')) of slot f of block fb; MF when the slot is past the last projection. */
fn featureIndex(fb: u32, f: u32) -> u32 {
  let l = fb * FB + f % FB;
  return select(MF, l + (f / FB) * MU, l < MU);
}`;
}

/** Helper functions over one workgroup array of rows of D values (WGSL cannot pass those by pointer). */
export function rowFunctions(featureMap: FeatureMap, arr: string): string {
  const entry = {
    softmax: 'u - h',
    'softmax-hyp': 'select(-u, u, f < FB) - h',
    trig: 'select(sc.y, sc.x, f < FB) * NORM',
    relu: 'max(u, 0.0) + 0.001',
  }[featureMap as Exclude<FeatureMap, 'softmax++'>]; // FAVOR++ has no WebGPU kernel (favor.ts refuses it)
  return `
/** ‖x̂‖²/2 of row \`row\` of ${arr} ([rows][D]). */
fn halfNorm_${arr}(row: u32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < D; c++) { let x = ${arr}[row * D + c]; s = fma(x, x, s); }
  return 0.5 * s * SCALE * SCALE;
}
/** The entry of slot f of block fb for row \`row\` (h = its ‖x̂‖²/2). */
fn entry_${arr}(row: u32, fb: u32, f: u32, h: f32) -> f32 {
  let l = fb * FB + f % FB;
  if (l >= MU) { return INVALID; }
  var u = 0.0;
  for (var c = 0u; c < D; c++) { u = fma(W[l * D + c], ${arr}[row * D + c], u); }
  u *= SCALE;
  ${featureMap === 'trig' ? 'let sc = sinCos(u);' : ''}
  return ${entry};
}`;
}

/**
 * sin and cos to float32 accuracy at any argument the features meet (WGSL's builtins promise only
 * 2^-11 absolute error, and only on [−π, π], while the trig map's normaliser is a signed sum that
 * amplifies feature errors). The same method as the wasm featureMap (assembly/trig.ts): q = round(x·2/π),
 * r = x − q·π/2 with a three-part π/2 (exact for |q| < 2^12), Cephes polynomials on [−π/4, π/4],
 * then the quadrant's swap and signs.
 */
export const SIN_COS = `
fn sinCos(x: f32) -> vec2f {
  let q = round(x * 0.636619772367581343);
  var r = x - q * 1.5703125;
  r = r - q * 4.837512969970703125e-4;
  r = r - q * 7.54978995489188216e-8;
  let z = r * r;
  let sr = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let cr = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let qi = i32(q);
  let swap = (qi & 1) == 1;
  let s = select(sr, cr, swap);
  let c = select(cr, sr, swap);
  return vec2f(select(s, -s, (qi & 2) != 0), select(c, -c, ((qi + 1) & 2) != 0));
}`;

/**
 * WGSL expression: the entry `e` of a row with log-weight `lam`, weighted against the reference
 * maximum `M`, i.e. exp(λ − M)·κ, 0 for a masked row or an invalid slot.
 */
export function weighted(featureMap: FeatureMap, e: string, lam: string, M: string): string {
  if (expMap(featureMap)) return `select(exp(${e} - ${M}) * NORM, 0.0, ${e} <= -1.0e38)`;
  if (featureMap === 'trig') return `select(exp(${lam} - ${M}) * ${e}, 0.0, ${lam} <= -1.0e38)`;
  return `select(${e}, 0.0, ${lam} <= -1.0e38)`;
}

/**
 * WGSL expression: the row log-weight λ of a kept row with ‖x̂‖²/2 = h (masked rows get NEG). For the
 * exp maps it is only a keep flag (0): their log-weights are the entries themselves.
 */
export function rowLogWeight(featureMap: FeatureMap, h: string): string {
  return featureMap === 'trig' ? h : '0.0';
}
