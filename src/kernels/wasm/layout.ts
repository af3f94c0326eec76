// Word offsets of the job descriptors the JS side writes into wasm memory and the kernels read.
// This file is compiled twice: by tsc (as TypeScript) and by asc (imported from assembly/), so it
// must stay plain integer constants that both languages accept.

// Feature map ids (order of the `FeatureMap` union in ../backend.ts).
export const FEATURE_MAP_SOFTMAX = 0;
export const FEATURE_MAP_SOFTMAX_HYP = 1;
export const FEATURE_MAP_TRIG = 2;
export const FEATURE_MAP_RELU = 3;

// FAVOR+ descriptor: pointers are byte addresses, sizes are element counts, *_F32 fields are f32.
export const FAVOR_Q = 0;
export const FAVOR_K = 1;
export const FAVOR_V = 2;
export const FAVOR_OUT = 3;
export const FAVOR_WPACK = 4; // W packed as the B operand of x·Wᵀ (see packProjection)
export const FAVOR_MASK = 5; // 0 when there is no key mask
export const FAVOR_H = 6; // heads per batch row (the mask is per batch row)
export const FAVOR_LQ = 7;
export const FAVOR_LK = 8;
export const FAVOR_D = 9;
export const FAVOR_VALUE_DIM = 10;
export const FAVOR_M = 11; // random projections m; features m' follow from the feature map
export const FAVOR_FEATURE_MAP = 12;
export const FAVOR_CHUNK = 13;
export const FAVOR_PARTS = 14; // sequence parts per head (1 = one thread per head)
export const FAVOR_STATES = 15; // per (head, part) state records (parts > 1)
export const FAVOR_CARRIES = 16; // per (head, part) carried-in causal states (parts > 1)
export const FAVOR_SCRATCH = 17; // base of the per-thread scratch areas
export const FAVOR_SCRATCH_STRIDE = 18; // bytes per thread
export const FAVOR_ALPHA_F32 = 19; // d^(-1/4)
export const FAVOR_LOG_NORM_F32 = 20; // ln √m (softmax) or ln √(2m) (softmax-hyp)
export const FAVOR_INV_SQRT_M_F32 = 21; // 1/√m (trig)
export const FAVOR_CAUSAL = 22;
export const FAVOR_WORDS = 23;

// Exact attention descriptor.
export const EXACT_Q = 0;
export const EXACT_K = 1;
export const EXACT_V = 2;
export const EXACT_OUT = 3;
export const EXACT_MASK = 4;
export const EXACT_H = 5;
export const EXACT_LQ = 6;
export const EXACT_LK = 7;
export const EXACT_D = 8;
export const EXACT_VALUE_DIM = 9;
export const EXACT_CAUSAL = 10;
export const EXACT_BLOCKS = 11; // query blocks per head
export const EXACT_SCRATCH = 12;
export const EXACT_SCRATCH_STRIDE = 13;
export const EXACT_SCALE_F32 = 14; // 1/√d
export const EXACT_WORDS = 15;

// Matmul descriptor: a batch of C = alpha·op(A)·op(B) + beta·C, each split into tiles of C.
export const MATMUL_A = 0;
export const MATMUL_B = 1;
export const MATMUL_C = 2;
export const MATMUL_M = 3;
export const MATMUL_N = 4;
export const MATMUL_K = 5;
export const MATMUL_TRANS_A = 6;
export const MATMUL_TRANS_B = 7;
export const MATMUL_TILE_M = 8;
export const MATMUL_TILE_N = 9;
export const MATMUL_TILES_N = 10;
export const MATMUL_TILES = 11; // tiles per matrix of the batch
export const MATMUL_STRIDE_A = 12; // elements between consecutive matrices (0 broadcasts)
export const MATMUL_STRIDE_B = 13;
export const MATMUL_STRIDE_C = 14;
export const MATMUL_SCRATCH = 15;
export const MATMUL_SCRATCH_STRIDE = 16;
export const MATMUL_ALPHA_F32 = 17;
export const MATMUL_BETA_F32 = 18;
export const MATMUL_WORDS = 19;
