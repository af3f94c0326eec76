// A counter-based RNG: Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011). Output block n is a pure function of (seed, stream, n), so any draw can be reproduced
// or skipped to without replaying the sequence, and streams never overlap.

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
