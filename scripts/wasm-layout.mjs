// The one declaration of the job descriptors the JS drivers (src/kernels/wasm/*.ts) write into wasm
// memory and the kernels (src/kernels/wasm/assembly/*.ts) read: one 32-bit word per field, numbered
// here in declaration order. scripts/build-wasm.mjs writes them as constants into
// src/kernels/wasm/generated/layout.ts, which tsc and asc both compile (plain integer constants).
//
// Every descriptor whose kernels use per-thread scratch starts with the two shared words SCRATCH
// (base address) and SCRATCH_STRIDE (bytes per thread): assembly/scratch.ts finds a thread's area
// there, and Context.threadScratch fills them. Pointers are byte addresses, sizes element counts;
// *_F32 fields hold an f32. A field is a name, or [name, comment].

/** Ids written into a field rather than word offsets: name → the order of a TypeScript union. */
export const ENUMS = {
  FEATURE_MAP: {
    about: 'Feature map ids (the order of FEATURE_MAPS in src/kernels/backend.ts).',
    values: ['SOFTMAX', 'SOFTMAX_HYP', 'TRIG', 'RELU'],
  },
};

export const DESCRIPTORS = {
  FAVOR: {
    about: 'FAVOR+ forward (favor.ts → assembly/favor.ts).',
    scratch: true,
    fields: [
      'Q', 'K', 'V', 'OUT',
      ['WPACK', 'W packed as the B operand of x·Wᵀ (see packProjection)'],
      ['MASK', '0 when there is no key mask'],
      ['H', 'heads per batch row (the mask is per batch row)'],
      'LQ', 'LK', 'D', 'VALUE_DIM',
      ['M', "random projections m; features m' follow from the feature map"],
      ['FEATURE_MAP', 'FEATURE_MAP_*'],
      'CHUNK',
      ['PARTS', 'sequence parts per head (1 = one thread per head)'],
      ['STATES', 'per (head, part) state records (parts > 1)'],
      ['CARRIES', 'per (head, part) carried-in causal states (parts > 1)'],
      ['ALPHA_F32', 'd^(-1/4)'],
      ['LOG_NORM_F32', 'ln √m (softmax) or ln √(2m) (softmax-hyp)'],
      ['INV_SQRT_M_F32', '1/√m (trig)'],
      'CAUSAL',
    ],
  },
  EXACT: {
    about: 'Exact attention forward (exact.ts → assembly/exact.ts).',
    scratch: true,
    fields: [
      'Q', 'K', 'V', 'OUT', 'MASK', 'H', 'LQ', 'LK', 'D', 'VALUE_DIM', 'CAUSAL',
      ['BLOCKS', 'query blocks per head'],
      ['SCALE_F32', '1/√d'],
    ],
  },
  MATMUL: {
    about: 'Matmul: a batch of C = alpha·op(A)·op(B) + beta·C, each split into tiles of C (matmul.ts → assembly/matmul.ts).',
    scratch: true,
    fields: [
      'A', 'B', 'C', 'M', 'N', 'K', 'TRANS_A', 'TRANS_B', 'TILE_M', 'TILE_N', 'TILES_N',
      ['TILES', 'tiles per matrix of the batch'],
      ['STRIDE_A', 'elements between consecutive matrices (0 broadcasts)'],
      'STRIDE_B', 'STRIDE_C', 'ALPHA_F32', 'BETA_F32',
    ],
  },
  FBWD: {
    about: 'FAVOR+ backward (favor-backward.ts → assembly/favor-backward.ts).',
    scratch: true,
    fields: [
      'Q', 'K', 'V', 'OUT', 'DOUT',
      ['DQ', 'gradients are ADDED into dq, dk, dv'],
      'DK', 'DV',
      ['W', 'projection W [m, d], row-major'],
      ['MASK', '0 when there is no key mask'],
      'H', 'LQ', 'LK', 'D', 'VALUE_DIM', 'M',
      ['FEATURE_MAP', 'FEATURE_MAP_*'],
      'CHUNK', 'CAUSAL',
      ['ALPHA_F32', 'd^(-1/4)'],
      'LOG_NORM_F32', 'INV_SQRT_M_F32',
    ],
  },
  EBWD: {
    about: 'Exact attention backward (exact-backward.ts → assembly/exact-backward.ts).',
    scratch: true,
    fields: [
      'Q', 'K', 'V', 'OUT', 'DOUT',
      ['DQ', 'gradients are ADDED into dq, dk, dv'],
      'DK', 'DV',
      ['MASK', '0 when there is no key mask'],
      'H', 'LQ', 'LK', 'D', 'VALUE_DIM', 'CAUSAL',
      ['SCALE_F32', '1/√d'],
    ],
  },
  POINT: {
    about: 'GELU and dropout (pointwise.ts → assembly/pointwise.ts): one task item per block of elements.',
    fields: [
      ['X', 'GELU: x; dropout forward: x, backward: dL/dy'],
      ['DY', 'GELU backward: dL/dy'],
      ['OUT', 'forward: y (written); backward: dL/dx (ADDED into)'],
      ['MASK', 'dropout: one byte per element, 1 keep, 0 drop'],
      'N',
      ['BLOCK', 'elements per item, a multiple of 4'],
      ['SCALE_F32', 'dropout: 1/(1 − p)'],
    ],
  },
  LN: {
    about: 'LayerNorm (layernorm.ts → assembly/layernorm.ts): one item per block of rows; the backward leaves per-item\n' +
      'partial sums of dγ and dβ that a second task adds up in item order (so the result does not depend on the thread count).',
    fields: [
      'X', 'GAMMA', 'BETA', 'Y',
      ['MEAN', 'μ per row: written by the forward, read by the backward'],
      ['RSTD', '1/√(var + eps) per row, likewise'],
      'DY',
      ['DX', 'gradients are ADDED into dx, dγ, dβ; 0 = not wanted'],
      'DGAMMA', 'DBETA',
      ['PARTIALS', '[items][2·D]: Σ g⊙x̄ then Σ g over each item\'s rows'],
      'ROWS', 'D', 'ROWS_PER_ITEM', 'ITEMS',
      ['COLS_PER_ITEM', 'the partial-sum reduction: columns of [dγ | dβ] per item'],
      'EPS_F32',
    ],
  },
  EMB: {
    about: 'Embedding (embedding.ts → assembly/embedding.ts): the forward gathers rows, one item per block of tokens;\n' +
      'the backward adds gradient rows into the table, one item per block of table columns, every entry in token order.',
    fields: [
      ['TABLE', 'forward: the table [V, D]; backward: its gradient (ADDED into)'],
      ['IDS', 'int32 per token'],
      ['ROWS', 'forward: the output [n, D]; backward: its gradient'],
      'N', 'D',
      ['PER_ITEM', 'forward: tokens per item; backward: columns per item (multiple of 4)'],
    ],
  },
  CE: {
    about: 'Cross-entropy (cross-entropy.ts → assembly/cross-entropy.ts): one item per block of rows.',
    fields: [
      'LOGITS',
      ['TARGETS', 'int32 per row'],
      ['LSE', 'log-sum-exp per counted row: written by the forward, read by the backward'],
      ['LOSS', 'forward: lse − z_target per row (0 for ignored rows)'],
      ['DLOGITS', 'backward: dL/dlogits (ADDED into)'],
      'ROWS', 'V',
      ['IGNORE', 'ignoreIndex, as an int32'],
      'ROWS_PER_ITEM',
      ['SCALE_F32', 'backward: dLoss/n'],
    ],
  },
};

/** The shared head of every descriptor with per-thread scratch. */
const SCRATCH_HEAD = [['SCRATCH', 'base of the per-thread scratch areas'], ['SCRATCH_STRIDE', 'bytes per thread']];

/** TypeScript (and AssemblyScript) source of the constants. */
export function renderLayout() {
  const comment = (text) => text.split('\n').map((l) => `// ${l}`);
  const line = (name, value, note) => `export const ${name} = ${value};${note ? ` // ${note}` : ''}`;
  const out = [
    '// Generated by scripts/build-wasm.mjs from scripts/wasm-layout.mjs. Do not edit.',
    '// Word offsets of the wasm job descriptors (and the enum ids written into them).',
    '',
    ...comment('Shared head of the descriptors whose kernels use per-thread scratch (assembly/scratch.ts).'),
    ...SCRATCH_HEAD.map(([name, note], i) => line(name, i, note)),
  ];
  for (const [prefix, { about, values }] of Object.entries(ENUMS)) {
    out.push('', ...comment(about), ...values.map((v, i) => line(`${prefix}_${v}`, i)));
  }
  for (const [prefix, { about, scratch, fields }] of Object.entries(DESCRIPTORS)) {
    const first = scratch ? SCRATCH_HEAD.length : 0;
    const seen = new Set();
    out.push('', ...comment(about));
    fields.forEach((f, i) => {
      const [name, note] = Array.isArray(f) ? f : [f, ''];
      if (seen.has(name)) throw new Error(`wasm-layout: ${prefix}_${name} is declared twice`);
      seen.add(name);
      out.push(line(`${prefix}_${name}`, first + i, note));
    });
    out.push(line(`${prefix}_WORDS`, first + fields.length, 'words in the descriptor'));
  }
  const longest = Math.max(...Object.values(DESCRIPTORS).map((d) => (d.scratch ? SCRATCH_HEAD.length : 0) + d.fields.length));
  out.push('', line('DESCRIPTOR_WORDS', longest, 'the descriptor block holds the longest one'));
  return out.join('\n') + '\n';
}
