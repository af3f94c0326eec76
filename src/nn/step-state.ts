// What each layer carries from one decoding step to the next.
//
// The step API (src/nn): a module whose output at position t depends on other positions has, beside
// `forward`, a `startDecoding()` that returns a fresh state of the types below and a
// `step(x, state)` that takes the next R positions ([1, R, ...], batch 1) and returns the rows that
// the causal `forward` in evaluation mode gives those positions of the whole sequence, advancing the
// state by R. Position-wise modules (Linear, LayerNorm, FeedForward, Embedding) need no state: their
// `forward` on the new rows is their step. A module that adds a new way of mixing positions adds a
// state here and a `step` beside its `forward`; test/step.test.ts checks step against forward for
// every layer type and model option.
import type { Var } from '../autograd/var.js';
import type { LayerCache } from './kv-cache.js';

/** A MultiHeadAttention layer's context: the FAVOR+ recurrent state or the exact KV cache. */
export class AttentionState {
  /** Positions consumed (the absolute position of the next row, for rotary embeddings). */
  position = 0;
  constructor(readonly cache: LayerCache) {}

  get bytes(): number {
    return this.cache.stateBytes;
  }

  /** Throws (changing nothing) if the state can no longer continue its context. */
  check(): void {
    this.cache.check();
  }

  reset(): void {
    this.cache.reset();
    this.position = 0;
  }
}

/**
 * Token shift across steps (autograd/token-shift.ts, without a key mask): the last `channels`
 * features of the previous row, zeros before position 0.
 */
export class ShiftState {
  private readonly carry: Float32Array;
  constructor(readonly channels: number) {
    this.carry = new Float32Array(channels);
  }

  get bytes(): number {
    return 4 * this.channels;
  }

  /** h [1, R, D] in place: each row takes the previous row's last `channels` features, row 0 the carry's. */
  apply(h: Var): Var {
    const s = this.channels;
    if (s === 0) return h;
    const D = h.shape[h.rank - 1]!, R = h.size / D, keep = D - s, d = h.data;
    const last = d.slice((R - 1) * D + keep, R * D);
    for (let r = R - 1; r > 0; r--) d.copyWithin(r * D + keep, (r - 1) * D + keep, r * D);
    d.set(this.carry, keep);
    this.carry.set(last);
    return h;
  }

  reset(): void {
    this.carry.fill(0);
  }
}

/** A Block's context: its attention state and the token-shift carries of its two shifted inputs. */
export class BlockState {
  constructor(readonly attn: AttentionState, readonly shift: { readonly attn: ShiftState; readonly ff: ShiftState }) {}

  get bytes(): number {
    return this.attn.bytes + this.shift.attn.bytes + this.shift.ff.bytes;
  }

  check(): void {
    this.attn.check();
  }

  reset(): void {
    this.attn.reset();
    this.shift.attn.reset();
    this.shift.ff.reset();
  }
}

/** A whole model's context: one BlockState per layer and the position reached. */
export class ModelState {
  position = 0;
  constructor(readonly blocks: readonly BlockState[]) {}

  get bytes(): number {
    return this.blocks.reduce((n, b) => n + b.bytes, 0);
  }

  check(): void {
    for (const b of this.blocks) b.check();
  }

  reset(): void {
    for (const b of this.blocks) b.reset();
    this.position = 0;
  }
}
