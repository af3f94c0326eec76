// The one interface every compute backend implements. Arrays are float32, row-major; see docs/MATH.md
// for the exact math each entry point must compute.

/** The FAVOR+ random feature maps φ (docs/MATH.md); `--kernel` on the command line. */
/** 'softmax++' is FAVOR++ (docs/MATH.md): the softmax map with a coefficient A per (batch, head). */
export type FeatureMap = 'softmax' | 'softmax-hyp' | 'trig' | 'relu' | 'softmax++';
/** The maps that need nothing but W (FAVOR+ and its baselines). */
export const FEATURE_MAPS: readonly FeatureMap[] = ['softmax', 'softmax-hyp', 'trig', 'relu'];
/** Every map: FEATURE_MAPS and FAVOR++, which also takes A (given, or computed from q and k when bidirectional). */
export const ALL_FEATURE_MAPS: readonly FeatureMap[] = [...FEATURE_MAPS, 'softmax++'];

export function isFeatureMap(name: string): name is FeatureMap {
  return (ALL_FEATURE_MAPS as readonly string[]).includes(name);
}

/** The sizes of attention (docs/MATH.md): batch B, heads H, Lq queries and Lk keys, q·k width d, value width Dv. */
export interface AttentionDims {
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number;
}

/** FAVOR+ attention over B·H independent heads. Writes `out`. */
export interface FavorArgs extends AttentionDims {
  q: Float32Array; // [B, H, Lq, d]
  k: Float32Array; // [B, H, Lk, d]
  v: Float32Array; // [B, H, Lk, Dv]
  out: Float32Array; // [B, H, Lq, Dv]
  projection: Float32Array; // W [m, d], shared by queries and keys
  keyMask?: Float32Array; // [B, Lk], 0 = pad
  m: number; // random projections (rows of W)
  featureMap: FeatureMap;
  causal: boolean; // requires Lq === Lk
  chunk: number; // positions per chunk (causal path; key/query streaming)
  oprfA?: Float32Array | undefined; // [B·H], FAVOR++'s A per (batch, head); softmax++ only (0 when absent)
}

/** Exact softmax attention, scores q·k/√d. Writes `out`. */
export interface ExactArgs extends AttentionDims {
  q: Float32Array; k: Float32Array; v: Float32Array; out: Float32Array;
  keyMask?: Float32Array;
  causal: boolean;
}

export interface Backend {
  readonly name: string;
  favor(args: FavorArgs): void;
  exact(args: ExactArgs): void;
}

/** Number of features per row the feature map produces from m random projections. */
export function featureCount(featureMap: FeatureMap, m: number): number {
  return featureMap === 'softmax-hyp' || featureMap === 'trig' ? 2 * m : m;
}
