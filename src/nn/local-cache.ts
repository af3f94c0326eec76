// Decoding state of a layer's local heads (docs/MATH.md, "Local attention heads"): causal query t
// sees keys j with ⌊j/w⌋ ≥ ⌊t/w⌋ − 1 and j ≤ t, at most 2w of them, so a ring of the last 2w − 1
// rotated keys and values (plus the current one) is all the context there is: constant memory and
// O(w·dh) time per token and head.
import { localFrequencies, localWindow, rotateHalf } from '../kernels/reference/local.js';
import type { Floats } from '../tensor/floats.js';

export class LocalWindowCache {
  private readonly cap: number; // 2w − 1 past positions + the current one
  private readonly keys: Float64Array; // [cap, heads·dh], rotated
  private readonly values: Float64Array;
  private readonly f: Float64Array;
  private readonly qr: Float64Array;
  private readonly p: Float64Array;
  private t = 0;

  constructor(private readonly heads: number, private readonly headDim: number, private readonly window: number) {
    this.cap = 2 * window;
    const width = heads * headDim;
    this.keys = new Float64Array(this.cap * width);
    this.values = new Float64Array(this.cap * width);
    this.f = localFrequencies(headDim);
    this.qr = new Float64Array(width);
    this.p = new Float64Array(this.cap);
  }

  get stateBytes(): number {
    return (this.keys.length + this.values.length) * 8;
  }

  reset(): void {
    this.t = 0;
  }

  /** q, k, v rows [heads·dh] at the next position (unrotated) → out[outOff .. + heads·dh). */
  step(q: Floats, qOff: number, k: Floats, v: Floats, out: Floats, outOff: number): void {
    const { heads: N, headDim: dh, cap, keys, values, qr, p, f } = this;
    const width = N * dh, t = this.t++, slot = t % cap;
    for (let h = 0; h < N; h++) {
      rotateHalf(k, qOff + h * dh, keys, slot * width + h * dh, dh, t, f);
      rotateHalf(q, qOff + h * dh, qr, h * dh, dh, t, f);
    }
    for (let c = 0; c < width; c++) values[slot * width + c] = v[qOff + c]!;
    const { lo } = localWindow(t, t + 1, this.window, true, false);
    const scale = 1 / Math.sqrt(dh);
    for (let h = 0; h < N; h++) {
      const ho = h * dh;
      let max = -Infinity;
      for (let j = lo; j <= t; j++) {
        let s = 0;
        const ko = (j % cap) * width + ho;
        for (let c = 0; c < dh; c++) s += qr[ho + c]! * keys[ko + c]!;
        p[j - lo] = s * scale;
        max = Math.max(max, s * scale);
      }
      let den = 0;
      for (let j = lo; j <= t; j++) { p[j - lo] = Math.exp(p[j - lo]! - max); den += p[j - lo]!; }
      for (let c = 0; c < dh; c++) {
        let acc = 0;
        for (let j = lo; j <= t; j++) acc += p[j - lo]! * values[(j % cap) * width + ho + c]!;
        out[outOff + ho + c] = acc / den;
      }
    }
  }
}
