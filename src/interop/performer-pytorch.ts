// performer-pytorch 1.1.4's PerformerLM, in our terms: its keyword arguments ↔ PerformerConfig, and
// its state_dict keys ↔ our parameter and buffer names.
//
// Its module tree (performer_pytorch.py) per layer i, sublayer j (0 attention, 1 feed-forward):
//   performer.net.layers.i.j.            wrapper: PreLayerNorm (norm.weight, norm.bias),
//                                        PreScaleNorm (g [1]) or ReZero (g [], no norm)
//   … .fn.                               PreShiftTokens (shift_tokens), which adds one more .fn.
//   attention: fast_attention.projection_matrix [m, dh], to_q/to_k/to_v [h·dh, dim] (+ bias with
//              qkv_bias), to_out [dim, h·dh] (+ bias with attn_out_bias)
//   feed-forward: Chunk .fn. then w1 [mult·dim (·2 with ff_glu), dim] + bias, w2 [dim, mult·dim] + bias
// plus token_emb.weight, pos_emb.emb.weight (absolute) or the fixed buffers pos_emb.emb [L, dim] and
// layer_pos_emb.emb [L, dh] (rotary_position_emb), norm.weight/bias, to_out.weight/bias (unless
// tie_embed), performer.proj_updater.calls_since_last_redraw (int64 scalar), and a second copy of
// every performer.net.* key under performer.proj_updater.instance.* (ProjectionUpdater holds the
// network again).

import type { PerformerConfig } from '../nn/models.js';
import { defaultFeatures, type Numerics } from '../nn/attention.js';

export const NET = 'performer.net.';
export const DUPLICATE = 'performer.proj_updater.instance.';
export const REDRAW_COUNTER = 'performer.proj_updater.calls_since_last_redraw';

export interface NamedTensor { readonly shape: readonly number[]; readonly data: Float32Array }

/** PerformerLM keyword arguments (the JSON a user writes; Python defaults filled in by resolveKwargs). */
export interface PerformerLMKwargs {
  num_tokens: number; max_seq_len: number; dim: number; depth: number; heads: number; dim_head: number;
  causal: boolean; ff_mult: number; nb_features: number; ff_glu: boolean; generalized_attention: boolean;
  use_scalenorm: boolean; use_rezero: boolean; rotary_position_emb: boolean; tie_embed: boolean;
  shift_tokens: boolean; qkv_bias: boolean; attn_out_bias: boolean; feature_redraw_interval: number | null;
  /** One number for every layer, or one per layer (PerformerLM's cast_tuple). */
  local_attn_heads: number | number[]; local_window_size: number;
}

/** The local heads of each layer. */
export function localHeadsPerLayer(kw: Pick<PerformerLMKwargs, 'local_attn_heads' | 'depth'>): number[] {
  const n = kw.local_attn_heads;
  return Array.isArray(n) ? (n.length === 1 ? Array(kw.depth).fill(n[0]) : n) : Array(kw.depth).fill(n);
}

/** Layer i's local-attention rotary buffer (SinusoidalEmbeddings.inv_freq), present when it has local heads. */
export function localFreqKey(kw: Pick<PerformerLMKwargs, 'shift_tokens'>, i: number): string {
  return `${NET}layers.${i}.0.fn.${kw.shift_tokens ? 'fn.' : ''}local_attn.rel_pos.inv_freq`;
}

/** Defaults of PerformerLM.__init__ (1.1.4); nb_features defaults to int(dim_head·ln dim_head). */
const DEFAULTS = {
  dim_head: 64, local_attn_heads: 0, local_window_size: 256, causal: false, ff_mult: 4, feature_redraw_interval: 1000,
  ff_glu: false, generalized_attention: false, use_scalenorm: false, use_rezero: false, tie_embed: false,
  rotary_position_emb: true, qkv_bias: false, attn_out_bias: false, shift_tokens: false,
} as const;

/** Arguments that change nothing we compute (dropout and memory/speed knobs). */
const IGNORED = new Set(['reversible', 'ff_chunks', 'emb_dropout', 'ff_dropout', 'attn_dropout', 'auto_check_redraw']);
/** Arguments we cannot run, with the reason. */
const REFUSED: Record<string, (v: unknown) => string | undefined> = {
  cross_attend: (v) => (v ? 'cross_attend is not supported (PerformerLM with cross attention needs an encoder context)' : undefined),
  no_projection: (v) => (v ? 'no_projection is not supported (softmax-normalised q and k without random features)' : undefined),
  axial_position_emb: (v) => (v ? 'axial_position_emb is not supported (axial positional embeddings)' : undefined),
  axial_position_shape: (v) => (v !== null && v !== undefined ? 'axial_position_shape is not supported (axial positional embeddings)' : undefined),
  kernel_fn: (v) => (v !== 'ReLU' && v !== 'nn.ReLU()' && v !== null && v !== undefined ? `kernel_fn ${JSON.stringify(v)} is not supported (only the default ReLU)` : undefined),
};

const INT_KEYS = ['num_tokens', 'max_seq_len', 'dim', 'depth', 'heads', 'dim_head', 'ff_mult', 'nb_features', 'local_window_size'] as const;
const BOOL_KEYS = ['causal', 'ff_glu', 'generalized_attention', 'use_scalenorm', 'use_rezero', 'rotary_position_emb', 'tie_embed', 'shift_tokens', 'qkv_bias', 'attn_out_bias'] as const;

function stripPrefix(keys: string[], prefix: string): boolean {
  return keys.length > 0 && keys.every((k) => k.startsWith(prefix));
}

/**
 * The state dict with wrapper prefixes removed (`module.` from DDP, `net.` from
 * AutoregressiveWrapper) and the proj_updater duplicates checked equal to their originals and
 * dropped. Errors name the key.
 */
export function normalizeStateDict<T extends NamedTensor>(raw: ReadonlyMap<string, T>): Map<string, T> {
  let entries = [...raw.entries()];
  for (const prefix of ['module.', 'net.']) {
    if (stripPrefix(entries.map((e) => e[0]), prefix)) entries = entries.map(([k, v]) => [k.slice(prefix.length), v]);
  }
  const out = new Map<string, T>();
  const dups: [string, T][] = [];
  for (const [k, v] of entries) {
    if (k.startsWith(DUPLICATE)) dups.push([k, v]);
    else out.set(k, v);
  }
  for (const [k, v] of dups) {
    const orig = NET + k.slice(DUPLICATE.length);
    const o = out.get(orig);
    if (!o) throw new Error(`${k} has no original ${orig}`);
    if (o.shape.join() !== v.shape.join() || o.data.some((x, i) => !Object.is(x, v.data[i]))) throw new Error(`${k} differs from ${orig} (the two copies of the network must agree)`);
  }
  return out;
}

function shapeOf(sd: ReadonlyMap<string, NamedTensor>, key: string): readonly number[] | undefined {
  return sd.get(key)?.shape;
}

/**
 * The full keyword arguments: the config's, with what the weights determine inferred (and checked:
 * every disagreement is reported by key name in one error), and Python's defaults for the rest.
 */
export function resolveKwargs(config: Record<string, unknown>, sd: ReadonlyMap<string, NamedTensor>): PerformerLMKwargs {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(config)) {
    if (IGNORED.has(k)) continue;
    const refuse = REFUSED[k];
    if (refuse) { const why = refuse(v); if (why) problems.push(why); continue; }
    if ((INT_KEYS as readonly string[]).includes(k)) { if (!(Number.isSafeInteger(v) && (v as number) >= 0)) problems.push(`${k} must be a non-negative integer, got ${JSON.stringify(v)}`); continue; }
    if ((BOOL_KEYS as readonly string[]).includes(k)) { if (typeof v !== 'boolean') problems.push(`${k} must be true or false, got ${JSON.stringify(v)}`); continue; }
    if (k === 'local_attn_heads') {
      const ok = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0;
      if (!(ok(v) || (Array.isArray(v) && v.length > 0 && v.every(ok)))) problems.push(`${k} must be a non-negative integer or a list of them (one per layer), got ${JSON.stringify(v)}`);
      continue;
    }
    if (k === 'feature_redraw_interval') { if (v !== null && !(Number.isSafeInteger(v) && (v as number) >= 0)) problems.push(`${k} must be an integer or null, got ${JSON.stringify(v)}`); continue; }
    problems.push(`unknown PerformerLM argument ${k}`);
  }
  if (problems.length) throw new Error(`config: ${problems.join('; ')}`);

  const keys = [...sd.keys()];
  if (keys.some((k) => k.startsWith('pos_emb.weights'))) throw new Error('the weights hold axial positional embeddings (pos_emb.weights_*), which are not supported');
  const layerIdx = keys.map((k) => /^performer\.net\.layers\.(\d+)\./.exec(k)).filter((m) => m).map((m) => Number(m![1]));
  if (layerIdx.length === 0) throw new Error('no performer.net.layers.* keys: is this a PerformerLM state_dict?');
  const tok = shapeOf(sd, 'token_emb.weight');
  if (!tok || tok.length !== 2) throw new Error('token_emb.weight is missing or not 2-D');
  const projKey = keys.find((k) => /^performer\.net\.layers\.0\.0\..*fast_attention\.projection_matrix$/.test(k));
  const qKey = keys.find((k) => /^performer\.net\.layers\.0\.0\..*to_q\.weight$/.test(k));
  const w1Key = keys.find((k) => /^performer\.net\.layers\.0\.1\..*w1\.weight$/.test(k));
  const w2Key = keys.find((k) => /^performer\.net\.layers\.0\.1\..*w2\.weight$/.test(k));
  if (!projKey || !qKey || !w1Key || !w2Key) throw new Error('layer 0 lacks fast_attention.projection_matrix, to_q, w1 or w2');
  const [m, dh] = shapeOf(sd, projKey)!;
  const inner = shapeOf(sd, qKey)![0]!;
  const dim = tok[1]!;
  const hidden = shapeOf(sd, w2Key)![1]!;
  const glu = shapeOf(sd, w1Key)![0] === 2 * hidden;
  const gKey = sd.get('performer.net.layers.0.0.g');
  const attnPrefix = qKey.slice(0, -'to_q.weight'.length);
  const posRows = shapeOf(sd, 'pos_emb.emb') ?? shapeOf(sd, 'pos_emb.emb.weight');
  const inferred: Partial<PerformerLMKwargs> = {
    num_tokens: tok[0], dim, depth: Math.max(...layerIdx) + 1, dim_head: dh, nb_features: m, heads: inner / dh!,
    ff_mult: hidden / dim, ff_glu: glu,
    use_scalenorm: gKey !== undefined && gKey.shape.length === 1, use_rezero: gKey !== undefined && gKey.shape.length === 0,
    rotary_position_emb: sd.has('layer_pos_emb.emb'), tie_embed: !sd.has('to_out.weight'),
    shift_tokens: attnPrefix.endsWith('.fn.fn.'), qkv_bias: sd.has(`${attnPrefix}to_q.bias`), attn_out_bias: sd.has(`${attnPrefix}to_out.bias`),
    ...(posRows ? { max_seq_len: posRows[0] } : {}),
  };
  const conflicts: string[] = [];
  for (const [k, v] of Object.entries(inferred)) {
    if (typeof v === 'number' && !(Number.isSafeInteger(v) && v > 0)) conflicts.push(`${k} would be ${v}: the weight shapes do not fit together`);
    else if (k in config && config[k] !== v) conflicts.push(`${k} is ${JSON.stringify(config[k])} in the config, the weights say ${JSON.stringify(v)}`);
  }
  if (conflicts.length) throw new Error(`config and weights disagree: ${conflicts.join('; ')}`);
  const kw = { ...DEFAULTS, ...config, ...inferred } as PerformerLMKwargs & Record<string, unknown>;
  if (kw.max_seq_len === undefined) throw new Error('config: max_seq_len is required (the weights do not hold a position table)');
  const local = localHeadsPerLayer(kw);
  if (local.length !== kw.depth) throw new Error(`config: local_attn_heads lists ${local.length} layers, depth is ${kw.depth}`);
  if (local.some((n) => n > kw.heads)) throw new Error(`config: local_attn_heads ${JSON.stringify(kw.local_attn_heads)} exceeds heads ${kw.heads}`);
  if (local.some((n) => n > 0) && kw.dim_head % 2 !== 0) throw new Error(`config: local attention heads need an even dim_head, got ${kw.dim_head}`);
  for (let i = 0; i < kw.depth; i++) {
    const has = sd.has(localFreqKey(kw, i));
    if (has !== local[i]! > 0) throw new Error(`config and weights disagree: layer ${i} has ${local[i]} local heads in the config, but the weights ${has ? 'hold' : 'lack'} ${localFreqKey(kw, i)}`);
  }
  if (kw.use_scalenorm && kw.use_rezero) throw new Error('config: use_scalenorm and use_rezero exclude each other (performer-pytorch uses ScaleNorm)');
  if (kw.dim % kw.heads !== 0) throw new Error(`config: dim ${kw.dim} is not divisible by heads ${kw.heads} (PerformerLM asserts it)`);
  if (kw.shift_tokens && !kw.causal && kw.dim < 3) throw new Error('config: shift_tokens needs dim ≥ 3 for a bidirectional model');
  return kw;
}

/** Our model config for resolved kwargs. */
export function configFromKwargs(kw: PerformerLMKwargs, numerics: Numerics): PerformerConfig {
  return {
    vocabSize: kw.num_tokens, dim: kw.dim, layers: kw.depth, heads: kw.heads, headDim: kw.dim_head, maxLen: kw.max_seq_len,
    ffMult: kw.ff_mult, dropout: 0, attention: 'favor', featureMap: kw.generalized_attention ? 'relu' : 'softmax', features: kw.nb_features,
    projection: 'orthogonal', redrawInterval: kw.feature_redraw_interval ?? 0, chunk: 64,
    positions: kw.rotary_position_emb ? 'sinusoidal-rotary' : 'learned',
    tokenShift: kw.shift_tokens ? (kw.causal ? [0, 1] : [-1, 0, 1]) : false,
    tiedEmbeddings: kw.tie_embed, causal: kw.causal, qkvBias: kw.qkv_bias, outBias: kw.attn_out_bias, headBias: !kw.tie_embed,
    ffGlu: kw.ff_glu, gelu: 'erf', norm: kw.use_scalenorm ? 'scale' : kw.use_rezero ? 'rezero' : 'layer', numerics, seed: 0,
    ...(localHeadsPerLayer(kw).some((n) => n > 0)
      ? { localHeads: typeof kw.local_attn_heads === 'number' ? kw.local_attn_heads : localHeadsPerLayer(kw), localWindow: kw.local_window_size } : {}),
  };
}

/**
 * The PerformerLM arguments that build `cfg`, or the reasons performer-pytorch cannot express it.
 */
export function kwargsFromConfig(cfg: PerformerConfig): { kwargs?: PerformerLMKwargs; refused: string[] } {
  const refused: string[] = [];
  const headDim = cfg.headDim ?? cfg.dim / cfg.heads;
  const kernel = cfg.featureMap ?? 'softmax';
  if ((cfg.attention ?? 'favor') !== 'favor') refused.push('exact attention (performer-pytorch always uses FAVOR+)');
  if (kernel !== 'softmax' && kernel !== 'relu') refused.push(`the ${kernel} feature map (performer-pytorch has positive softmax features and ReLU only)`);
  if ((cfg.projection ?? 'orthogonal') !== 'orthogonal') refused.push('iid projections (performer-pytorch draws orthogonal ones; the buffer would be kept but redraws would differ)');
  const positions = cfg.positions ?? 'learned';
  if (positions === 'rotary') refused.push("rotary positions alone (performer-pytorch's rotary_position_emb also adds a fixed sinusoidal embedding)");
  if (positions === 'none') refused.push('no positions (performer-pytorch always has a position embedding)');
  const shift = cfg.tokenShift ?? false;
  const causal = cfg.causal ?? true;
  if (shift === true && cfg.dim % 2 !== 0) refused.push(`token shift of the last ⌊dim/2⌋ features with an odd dim ${cfg.dim} (shift_tokens moves features [⌊dim/2⌋, 2⌊dim/2⌋))`);
  if (Array.isArray(shift) && shift.join() !== (causal ? '0,1' : '-1,0,1')) refused.push(`token shift segments ${JSON.stringify(shift)} (shift_tokens uses ${causal ? '[0, 1]' : '[-1, 0, 1]'})`);
  if (shift === true && !causal) refused.push('a one-sided token shift in a bidirectional model (shift_tokens uses [-1, 0, 1] there)');
  if ((cfg.gelu ?? 'tanh') !== 'erf') refused.push("the tanh-approximate GELU (performer-pytorch's FeedForward uses the exact erf GELU; train with --gelu erf)");
  if ((cfg.tiedEmbeddings ?? true) && cfg.headBias) refused.push('a tied output layer with a bias (tie_embed has none)');
  if (refused.length) return { refused };
  return {
    refused,
    kwargs: {
      num_tokens: cfg.vocabSize, max_seq_len: cfg.maxLen, dim: cfg.dim, depth: cfg.layers, heads: cfg.heads, dim_head: headDim,
      causal, ff_mult: cfg.ffMult ?? 4, nb_features: cfg.features ?? defaultFeatures(headDim), ff_glu: cfg.ffGlu ?? false, generalized_attention: kernel === 'relu',
      use_scalenorm: cfg.norm === 'scale', use_rezero: cfg.norm === 'rezero', rotary_position_emb: positions === 'sinusoidal-rotary',
      tie_embed: cfg.tiedEmbeddings ?? true, shift_tokens: shift !== false, qkv_bias: cfg.qkvBias ?? true, attn_out_bias: cfg.outBias ?? true,
      feature_redraw_interval: cfg.redrawInterval ? cfg.redrawInterval : null,
      local_attn_heads: cfg.localHeads ?? 0, local_window_size: cfg.localWindow ?? 256,
    },
  };
}

/** One of our tensors and its performer-pytorch key; `scalar`: stored there with shape [] (ReZero's g). */
export interface KeyPair { ours: string; theirs: string; scalar?: boolean }

/** Every parameter and buffer of our model for `kw`, with its performer-pytorch key. */
export function keyPairs(kw: PerformerLMKwargs): KeyPair[] {
  const out: KeyPair[] = [{ ours: 'tok.weight', theirs: 'token_emb.weight' }];
  if (!kw.rotary_position_emb) out.push({ ours: 'pos.weight', theirs: 'pos_emb.emb.weight' });
  const shift = kw.shift_tokens ? 'fn.' : '';
  for (let i = 0; i < kw.depth; i++) {
    const sub = [`${NET}layers.${i}.0.`, `${NET}layers.${i}.1.`];
    const norm = (j: 0 | 1, ours: string): void => {
      if (kw.use_rezero) out.push({ ours: `blocks.${i}.${j === 0 ? 'attn_gate' : 'ff_gate'}`, theirs: `${sub[j]}g`, scalar: true });
      else if (kw.use_scalenorm) out.push({ ours: `blocks.${i}.${ours}.weight`, theirs: `${sub[j]}g` });
      else out.push({ ours: `blocks.${i}.${ours}.weight`, theirs: `${sub[j]}norm.weight` }, { ours: `blocks.${i}.${ours}.bias`, theirs: `${sub[j]}norm.bias` });
    };
    const a = `${sub[0]}fn.${shift}`, f = `${sub[1]}fn.${shift}fn.`;
    norm(0, 'ln1');
    for (const [o, t] of [['wq', 'to_q'], ['wk', 'to_k'], ['wv', 'to_v']]) {
      out.push({ ours: `blocks.${i}.attn.${o}.weight`, theirs: `${a}${t}.weight` });
      if (kw.qkv_bias) out.push({ ours: `blocks.${i}.attn.${o}.bias`, theirs: `${a}${t}.bias` });
    }
    out.push({ ours: `blocks.${i}.attn.wo.weight`, theirs: `${a}to_out.weight` });
    if (kw.attn_out_bias) out.push({ ours: `blocks.${i}.attn.wo.bias`, theirs: `${a}to_out.bias` });
    out.push({ ours: `blocks.${i}.attn.projection`, theirs: `${a}fast_attention.projection_matrix` });
    norm(1, 'ln2');
    for (const [o, t] of [['fc1', 'w1'], ['fc2', 'w2']]) {
      out.push({ ours: `blocks.${i}.ff.${o}.weight`, theirs: `${f}${t}.weight` }, { ours: `blocks.${i}.ff.${o}.bias`, theirs: `${f}${t}.bias` });
    }
  }
  out.push({ ours: 'ln_f.weight', theirs: 'norm.weight' }, { ours: 'ln_f.bias', theirs: 'norm.bias' });
  if (!kw.tie_embed) out.push({ ours: 'head.weight', theirs: 'to_out.weight' }, { ours: 'head.bias', theirs: 'to_out.bias' });
  return out;
}
