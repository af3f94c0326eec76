// A counter-based RNG: Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011). Output block n is a pure function of (seed, stream, n), so any draw can be reproduced
// or skipped to without replaying the sequence, and streams never overlap. Below it, the hashes
// that turn names and seeds into Rng keys and streams.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 (exact, via 16-bit limbs). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lh = al * bh, hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** One Philox-4x32-10 block: 4 uint32 outputs for counter (c0..c3) and key (k0, k1). */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/** Seeded generator: key = seed (up to 2^53), counter = (block index, stream). */
export class Rng {
  private readonly k0: number;
  private readonly k1: number;
  private readonly stream: number;
  private block = 0;
  private readonly buf = new Uint32Array(4);
  private pos = 4;
  private spareNormal: number | undefined;

  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
    if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new Error(`stream must be a uint32, got ${stream}`);
    this.k0 = seed >>> 0;
    this.k1 = Math.floor(seed / 0x100000000) >>> 0;
    this.stream = stream;
  }

  /** Where this generator is, so that a checkpoint can resume the exact sequence. */
  get state(): { block: number; pos: number; spareNormal: number | null } {
    return { block: this.block, pos: this.pos, spareNormal: this.spareNormal ?? null };
  }

  set state(s: { block: number; pos: number; spareNormal: number | null }) {
    const validPos = Number.isInteger(s.pos) && s.pos >= 0 && s.pos <= 4;
    const validBlock = Number.isSafeInteger(s.block) && s.block >= (s.pos < 4 ? 1 : 0);
    if (!validPos || !validBlock || (s.spareNormal !== null && !Number.isFinite(s.spareNormal))) {
      throw new Error(`invalid Rng state ${JSON.stringify(s)}`);
    }
    this.block = s.block;
    this.pos = 4;
    this.spareNormal = s.spareNormal ?? undefined;
    if (s.pos < 4) {
      this.block = s.block - 1;
      this.refill();
      this.pos = s.pos;
    }
  }

  private refill(): void {
    const b = this.block++;
    philox4x32(b >>> 0, Math.floor(b / 0x100000000) >>> 0, this.stream, 0, this.k0, this.k1, this.buf);
    this.pos = 0;
  }

  uint32(): number {
    if (this.pos === 4) this.refill();
    return this.buf[this.pos++]!;
  }

  /** Uniform in the open interval (0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.uint32() >>> 5, b = this.uint32() >>> 6;
    return Math.min((a * 67108864 + b + 0.5) / 9007199254740992, 1 - 2 ** -53); // 2^53 − 0.5 rounds up to 2^53
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** Standard normal by Box–Muller; the second value of each pair is kept for the next call. */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const t = 2 * Math.PI * this.uniform();
    this.spareNormal = r * Math.sin(t);
    return r * Math.cos(t);
  }

  fillNormal(a: Float32Array | Float64Array, mean = 0, std = 1): void {
    for (let i = 0; i < a.length; i++) a[i] = mean + std * this.normal();
  }

  fillUniform(a: Float32Array | Float64Array, lo = 0, hi = 1): void {
    for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * this.uniform();
  }
}

// ---------------------------------------------------------------------------------------------
// Seeds from names. Three hashes turn a name or a seed into Rng keys and streams. Each one fixes
// values that must not change, so none replaces another:
//   fnv1a        parameter init streams (Rng(seed, fnv1a(name))) and FAVOR+ projection redraws:
//                changing it changes every model's initial weights and the W of a resumed run.
//   murmur3      (seededHash, deriveSeed) the document split and the batch, window and mask streams
//                of training: changing it moves records between train and validation and breaks
//                the exact resume of existing checkpoints.
//   hash32       the per-run base of `performer approx`'s projection seeds: changing it changes the
//                published approximation figures (docs/APPROX.md).

/** 32-bit FNV-1a of a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A 32-bit mix of a seed (up to 2^53; lowbias32 finaliser on the two halves). */
export function hash32(x: number): number {
  let h = (x >>> 0) ^ Math.imul(Math.floor(x / 0x100000000) >>> 0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** MurmurHash3 (x86, 32-bit) of bytes with a 32-bit seed. */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const n = bytes.length;
  const c1 = 0xcc9e2d51, c2 = 0x1b873593;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, c1); k = (k << 15) | (k >>> 17); k = Math.imul(k, c2);
    h ^= k; h = (h << 13) | (h >>> 19); h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = bytes[i]!;
    if (rest > 1) k ^= bytes[i + 1]! << 8;
    if (rest > 2) k ^= bytes[i + 2]! << 16;
    k = Math.imul(k, c1); k = (k << 15) | (k >>> 17); k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const utf8 = new TextEncoder();

/** 32-bit hash of a string under a seed (any safe non-negative integer). */
export function seededHash(seed: number, s: string): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  const lo = seed >>> 0, hi = Math.floor(seed / 0x100000000) >>> 0;
  return murmur3(utf8.encode(s), murmur3(utf8.encode(String(hi)), lo));
}

/**
 * An independent seed for one purpose (e.g. 'lm-batches', 'mlm-masks') derived from the run's seed,
 * so that different consumers of `new Rng(seed, stream)` never share a sequence.
 */
export function deriveSeed(seed: number, tag: string): number {
  const a = seededHash(seed, `performer:${tag}:a`), b = seededHash(seed, `performer:${tag}:b`);
  return (a & 0x1fffff) * 0x100000000 + b; // 53 bits
}
