// LayerNorm over rows of D (src/kernels/reference/grad/layernorm.ts has the equations), one task item
// per block of LN_ROWS_PER_ITEM rows; the row reductions are SIMD with float32 accumulators.
// dγ and dβ are sums over all rows: each item writes its own partial sums, and layerNormReduceCols
// adds them up in item order, so the result does not depend on which thread ran which item.
import * as L from '../generated/layout';
import { word, addr, real } from './desc';
import { madd, hsum, sumOf } from './simd';

/** Σ (x_c − μ)² over a row. */
function squaredDeviations(x: usize, D: i32, mu: f32): f32 {
  const mv = f32x4.splat(mu);
  let acc0 = f32x4.splat(0), acc1 = acc0;
  let c = 0;
  for (; c + 8 <= D; c += 8) {
    const d0 = f32x4.sub(v128.load(x + (<usize>c << 2)), mv), d1 = f32x4.sub(v128.load(x + (<usize>c << 2), 16), mv);
    acc0 = madd(d0, d0, acc0);
    acc1 = madd(d1, d1, acc1);
  }
  let s = hsum(f32x4.add(acc0, acc1));
  for (; c < D; c++) {
    const d = load<f32>(x + (<usize>c << 2)) - mu;
    s += d * d;
  }
  return s;
}

/** Task: y = (x − μ)·r⊙γ + β for one block of rows, saving μ and r. */
export function layerNormForwardRows(desc: usize, item: i32, tid: i32): void {
  const D = word(desc, L.LN_D), per = word(desc, L.LN_ROWS_PER_ITEM);
  const r0 = item * per, r1 = min(word(desc, L.LN_ROWS), r0 + per);
  const gamma = addr(desc, L.LN_GAMMA), beta = addr(desc, L.LN_BETA);
  const mean = addr(desc, L.LN_MEAN), rstd = addr(desc, L.LN_RSTD);
  const eps = real(desc, L.LN_EPS_F32), rowBytes = <usize>D << 2;
  for (let r = r0; r < r1; r++) {
    const x = addr(desc, L.LN_X) + <usize>r * rowBytes, y = addr(desc, L.LN_Y) + <usize>r * rowBytes;
    const mu = sumOf(x, D) / <f32>D;
    const rs = <f32>1 / Mathf.sqrt(squaredDeviations(x, D, mu) / <f32>D + eps);
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), rs);
    const mv = f32x4.splat(mu), rv = f32x4.splat(rs);
    let c = 0;
    for (; c + 4 <= D; c += 4) {
      const o = <usize>c << 2;
      v128.store(y + o, madd(f32x4.mul(f32x4.sub(v128.load(x + o), mv), rv), v128.load(gamma + o), v128.load(beta + o)));
    }
    for (; c < D; c++) {
      const o = <usize>c << 2;
      store<f32>(y + o, (load<f32>(x + o) - mu) * rs * load<f32>(gamma + o) + load<f32>(beta + o));
    }
  }
}

/** Task: for one block of rows, dx += r·(ĝ − mean(ĝ) − x̄·mean(ĝ⊙x̄)) (when wanted), and this
 *  item's partial sums Σ dy⊙x̄ and Σ dy into its slot of LN_PARTIALS: differentiates (N1) of
 *  docs/MATH.md, y = (x − μ)·r⊙γ + β, by (N2). */
export function layerNormBackwardRows(desc: usize, item: i32, tid: i32): void {
  const D = word(desc, L.LN_D), per = word(desc, L.LN_ROWS_PER_ITEM);
  const r0 = item * per, r1 = min(word(desc, L.LN_ROWS), r0 + per);
  const gamma = addr(desc, L.LN_GAMMA), mean = addr(desc, L.LN_MEAN), rstd = addr(desc, L.LN_RSTD);
  const dxBase = addr(desc, L.LN_DX), rowBytes = <usize>D << 2;
  const pg = addr(desc, L.LN_PARTIALS) + <usize>item * (rowBytes << 1), pb = pg + rowBytes;
  memory.fill(pg, 0, rowBytes << 1);
  const invD = <f32>1 / <f32>D;
  for (let r = r0; r < r1; r++) {
    const x = addr(desc, L.LN_X) + <usize>r * rowBytes, dy = addr(desc, L.LN_DY) + <usize>r * rowBytes;
    const mu = load<f32>(mean + (<usize>r << 2)), rs = load<f32>(rstd + (<usize>r << 2));
    const mv = f32x4.splat(mu), rv = f32x4.splat(rs);
    let sg = f32x4.splat(0), sgx = sg;
    let c = 0;
    for (; c + 4 <= D; c += 4) {
      const o = <usize>c << 2;
      const xb = f32x4.mul(f32x4.sub(v128.load(x + o), mv), rv), dyv = v128.load(dy + o);
      v128.store(pg + o, madd(dyv, xb, v128.load(pg + o)));
      v128.store(pb + o, f32x4.add(v128.load(pb + o), dyv));
      const gh = f32x4.mul(dyv, v128.load(gamma + o));
      sg = f32x4.add(sg, gh);
      sgx = madd(gh, xb, sgx);
    }
    let mg = hsum(sg), mgx = hsum(sgx);
    for (; c < D; c++) {
      const o = <usize>c << 2;
      const xb = (load<f32>(x + o) - mu) * rs, dyv = load<f32>(dy + o);
      store<f32>(pg + o, load<f32>(pg + o) + dyv * xb);
      store<f32>(pb + o, load<f32>(pb + o) + dyv);
      const gh = dyv * load<f32>(gamma + o);
      mg += gh;
      mgx += gh * xb;
    }
    if (dxBase == 0) continue;
    mg *= invD;
    mgx *= invD;
    const dx = dxBase + <usize>r * rowBytes;
    const mgv = f32x4.splat(mg), mgxv = f32x4.splat(mgx);
    c = 0;
    for (; c + 4 <= D; c += 4) {
      const o = <usize>c << 2;
      const xb = f32x4.mul(f32x4.sub(v128.load(x + o), mv), rv);
      const t = f32x4.sub(f32x4.sub(f32x4.mul(v128.load(dy + o), v128.load(gamma + o)), mgv), f32x4.mul(xb, mgxv));
      v128.store(dx + o, madd(t, rv, v128.load(dx + o)));
    }
    for (; c < D; c++) {
      const o = <usize>c << 2;
      const xb = (load<f32>(x + o) - mu) * rs;
      store<f32>(dx + o, load<f32>(dx + o) + rs * (load<f32>(dy + o) * load<f32>(gamma + o) - mg - xb * mgx));
    }
  }
}

/** Task: adds the items' partial sums, in item order, into dγ (columns < D) and dβ (columns ≥ D)
 *  for one block of LN_COLS_PER_ITEM of the 2·D columns; a gradient that is not wanted is skipped. */
export function layerNormReduceCols(desc: usize, item: i32, tid: i32): void {
  const D = word(desc, L.LN_D), items = word(desc, L.LN_ITEMS), per = word(desc, L.LN_COLS_PER_ITEM);
  const c0 = item * per, c1 = min(2 * D, c0 + per);
  const partials = addr(desc, L.LN_PARTIALS), stride = <usize>(2 * D) << 2;
  const dGamma = addr(desc, L.LN_DGAMMA), dBeta = addr(desc, L.LN_DBETA);
  for (let c = c0; c < c1; c++) {
    const base = c < D ? dGamma : dBeta;
    if (base == 0) continue;
    const dst = base + (<usize>(c < D ? c : c - D) << 2);
    let s: f32 = 0;
    for (let it = 0; it < items; it++) s += load<f32>(partials + <usize>it * stride + (<usize>c << 2));
    store<f32>(dst, load<f32>(dst) + s);
  }
}
