// Softmax cross-entropy over rows of V logits (src/kernels/reference/grad/cross-entropy.ts has the
// equations), one task item per block of CE_ROWS_PER_ITEM rows. Rows whose target is CE_IGNORE are
// skipped. The forward leaves each row's loss in CE_LOSS and the JS driver adds them up in row
// order, so the mean does not depend on the thread count.
import * as L from '../generated/layout';
import { word, addr, real } from './desc';
import { madd, hsum, maxOf } from './simd';
import { expBounded, expf } from './exp';

/** Σ exp(z_c − shift) over a row; every z_c − shift ≤ 0 (shift is the row max). */
function sumExp(z: usize, V: i32, shift: f32): f32 {
  const sv = f32x4.splat(shift);
  let acc0 = f32x4.splat(0), acc1 = acc0;
  let c = 0;
  for (; c + 8 <= V; c += 8) {
    acc0 = f32x4.add(acc0, expBounded(f32x4.sub(v128.load(z + (<usize>c << 2)), sv)));
    acc1 = f32x4.add(acc1, expBounded(f32x4.sub(v128.load(z + (<usize>c << 2), 16), sv)));
  }
  let s = hsum(f32x4.add(acc0, acc1));
  for (; c < V; c++) s += expf(load<f32>(z + (<usize>c << 2)) - shift);
  return s;
}

/** Task: lse = max + ln Σ exp(z − max) and loss = lse − z_target for one block of rows. */
export function crossEntropyForwardRows(desc: usize, item: i32, tid: i32): void {
  const V = word(desc, L.CE_V), per = word(desc, L.CE_ROWS_PER_ITEM), ignore = word(desc, L.CE_IGNORE);
  const r0 = item * per, r1 = min(word(desc, L.CE_ROWS), r0 + per);
  const targets = addr(desc, L.CE_TARGETS), lse = addr(desc, L.CE_LSE), loss = addr(desc, L.CE_LOSS);
  for (let r = r0; r < r1; r++) {
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignore) {
      store<f32>(loss + (<usize>r << 2), 0);
      continue;
    }
    const z = addr(desc, L.CE_LOGITS) + (<usize>r * <usize>V << 2);
    const mx = maxOf(z, V);
    const logSum = Math.log(<f64>sumExp(z, V, mx));
    store<f32>(lse + (<usize>r << 2), <f32>(<f64>mx + logSum));
    // (max − z_t) + ln Σ, not lse − z_t: rounding lse to float32 first would cost the loss ½ ulp of lse.
    store<f32>(loss + (<usize>r << 2), <f32>(<f64>(mx - load<f32>(z + (<usize>t << 2))) + logSum));
  }
}

/** Task: dz += (exp(z − lse) − onehot(target))·scale for one block of rows: differentiates (X1) of
 *  docs/MATH.md, loss = (1/n) Σ_rows (lse(z) − z_target), by (X2), with scale = dLoss/n. */
export function crossEntropyBackwardRows(desc: usize, item: i32, tid: i32): void {
  const V = word(desc, L.CE_V), per = word(desc, L.CE_ROWS_PER_ITEM), ignore = word(desc, L.CE_IGNORE);
  const r0 = item * per, r1 = min(word(desc, L.CE_ROWS), r0 + per);
  const targets = addr(desc, L.CE_TARGETS), lse = addr(desc, L.CE_LSE);
  const f = real(desc, L.CE_SCALE_F32), fv = f32x4.splat(f);
  for (let r = r0; r < r1; r++) {
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignore) continue;
    const z = addr(desc, L.CE_LOGITS) + (<usize>r * <usize>V << 2), dz = addr(desc, L.CE_DLOGITS) + (<usize>r * <usize>V << 2);
    const l = load<f32>(lse + (<usize>r << 2)), lv = f32x4.splat(l);
    let c = 0;
    for (; c + 4 <= V; c += 4) {
      const o = <usize>c << 2;
      v128.store(dz + o, madd(fv, expBounded(f32x4.sub(v128.load(z + o), lv)), v128.load(dz + o)));
    }
    for (; c < V; c++) {
      const o = <usize>c << 2;
      store<f32>(dz + o, load<f32>(dz + o) + f * expf(load<f32>(z + o) - l));
    }
    const dzt = dz + (<usize>t << 2);
    store<f32>(dzt, load<f32>(dzt) - f);
  }
}
