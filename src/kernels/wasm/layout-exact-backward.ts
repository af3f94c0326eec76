// Word offsets of the exact-attention backward descriptor (src/kernels/wasm/exact-backward.ts writes
// it, assembly/exact-backward.ts reads it). Compiled by tsc and asc alike: plain integer constants.
export const EBWD_Q = 0;
export const EBWD_K = 1;
export const EBWD_V = 2;
export const EBWD_OUT = 3;
export const EBWD_DOUT = 4;
export const EBWD_DQ = 5; // gradients are ADDED into dq, dk, dv
export const EBWD_DK = 6;
export const EBWD_DV = 7;
export const EBWD_MASK = 8; // 0 when there is no key mask
export const EBWD_H = 9;
export const EBWD_LQ = 10;
export const EBWD_LK = 11;
export const EBWD_D = 12;
export const EBWD_VALUE_DIM = 13;
export const EBWD_CAUSAL = 14;
export const EBWD_SCRATCH = 15;
export const EBWD_SCRATCH_STRIDE = 16;
export const EBWD_SCALE_F32 = 17; // 1/√d
export const EBWD_WORDS = 18;
