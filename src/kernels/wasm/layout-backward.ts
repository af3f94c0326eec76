// Word offsets of the FAVOR+ backward descriptor (src/kernels/wasm/favor-backward.ts writes it,
// assembly/favor-backward.ts reads it). Compiled by tsc and asc alike: plain integer constants.
export const FBWD_Q = 0;
export const FBWD_K = 1;
export const FBWD_V = 2;
export const FBWD_OUT = 3;
export const FBWD_DOUT = 4;
export const FBWD_DQ = 5; // gradients are ADDED into dq, dk, dv
export const FBWD_DK = 6;
export const FBWD_DV = 7;
export const FBWD_W = 8; // projection W [m, d], row-major
export const FBWD_MASK = 9; // 0 when there is no key mask
export const FBWD_H = 10;
export const FBWD_LQ = 11;
export const FBWD_LK = 12;
export const FBWD_D = 13;
export const FBWD_VALUE_DIM = 14;
export const FBWD_M = 15;
export const FBWD_FEATURE_MAP = 16; // FEATURE_MAP_* of layout.ts
export const FBWD_CHUNK = 17;
export const FBWD_CAUSAL = 18;
export const FBWD_SCRATCH = 19;
export const FBWD_SCRATCH_STRIDE = 20;
export const FBWD_ALPHA_F32 = 21; // d^(-1/4)
export const FBWD_LOG_NORM_F32 = 22;
export const FBWD_INV_SQRT_M_F32 = 23;
export const FBWD_WORDS = 24;
