// Word offsets of the descriptors of the row and elementwise kernels (GELU, dropout, LayerNorm,
// embedding, cross-entropy): the JS drivers write them, assembly/{pointwise,layernorm,embedding,
// cross-entropy}.ts read them. Compiled by tsc and asc alike: plain integer constants.

// GELU and dropout: one task item per block of elements.
export const POINT_X = 0; // GELU: x; dropout forward: x, backward: dL/dy
export const POINT_DY = 1; // GELU backward: dL/dy
export const POINT_OUT = 2; // forward: y (written); backward: dL/dx (ADDED into)
export const POINT_MASK = 3; // dropout: one byte per element, 1 keep, 0 drop
export const POINT_N = 4;
export const POINT_BLOCK = 5; // elements per item, a multiple of 4
export const POINT_SCALE_F32 = 6; // dropout: 1/(1 − p)
export const POINT_WORDS = 7;

// LayerNorm: one item per block of rows; the backward leaves per-item partial sums of dγ and dβ
// that a second task adds up in item order (so the result does not depend on the thread count).
export const LN_X = 0;
export const LN_GAMMA = 1;
export const LN_BETA = 2;
export const LN_Y = 3;
export const LN_MEAN = 4; // μ per row: written by the forward, read by the backward
export const LN_RSTD = 5; // 1/√(var + eps) per row, likewise
export const LN_DY = 6;
export const LN_DX = 7; // gradients are ADDED into dx, dγ, dβ; 0 = not wanted
export const LN_DGAMMA = 8;
export const LN_DBETA = 9;
export const LN_PARTIALS = 10; // [items][2·D]: Σ g⊙x̄ then Σ g over each item's rows
export const LN_ROWS = 11;
export const LN_D = 12;
export const LN_ROWS_PER_ITEM = 13;
export const LN_ITEMS = 14;
export const LN_COLS_PER_ITEM = 15; // the partial-sum reduction: columns of [dγ | dβ] per item
export const LN_EPS_F32 = 16;
export const LN_WORDS = 17;

// Embedding: the forward gathers rows, one item per block of tokens; the backward adds gradient
// rows into the table, one item per block of table columns, every entry in token order.
export const EMB_TABLE = 0; // forward: the table [V, D]; backward: its gradient (ADDED into)
export const EMB_IDS = 1; // int32 per token
export const EMB_ROWS = 2; // forward: the output [n, D]; backward: its gradient
export const EMB_N = 3;
export const EMB_D = 4;
export const EMB_PER_ITEM = 5; // forward: tokens per item; backward: columns per item (multiple of 4)
export const EMB_WORDS = 6;

// Cross-entropy: one item per block of rows.
export const CE_LOGITS = 0;
export const CE_TARGETS = 1; // int32 per row
export const CE_LSE = 2; // log-sum-exp per counted row: written by the forward, read by the backward
export const CE_LOSS = 3; // forward: lse − z_target per row (0 for ignored rows)
export const CE_DLOGITS = 4; // backward: dL/dlogits (ADDED into)
export const CE_ROWS = 5;
export const CE_V = 6;
export const CE_IGNORE = 7; // ignoreIndex, as an int32
export const CE_ROWS_PER_ITEM = 8;
export const CE_SCALE_F32 = 9; // backward: dLoss/n
export const CE_WORDS = 10;
