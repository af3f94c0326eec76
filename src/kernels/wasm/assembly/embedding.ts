// Embedding lookup: the forward gathers table rows, one task item per block of tokens; the
// backward adds gradient rows into the table gradient, one item per block of columns, walking the
// tokens in order, so no two threads ever write the same entry and every entry receives its
// additions in token order whatever the thread count (bit-identical to a serial loop).
import * as L from '../generated/layout';
import { word, addr } from './desc';

/** Task: out[i, :] = table[ids[i], :] for one block of tokens. */
export function embeddingGatherRows(desc: usize, item: i32, tid: i32): void {
  const D = word(desc, L.EMB_D), per = word(desc, L.EMB_PER_ITEM);
  const i0 = item * per, i1 = min(word(desc, L.EMB_N), i0 + per);
  const table = addr(desc, L.EMB_TABLE), ids = addr(desc, L.EMB_IDS), out = addr(desc, L.EMB_ROWS);
  const rowBytes = <usize>D << 2;
  for (let i = i0; i < i1; i++) {
    memory.copy(out + <usize>i * rowBytes, table + <usize>load<i32>(ids + (<usize>i << 2)) * rowBytes, rowBytes);
  }
}

/** Task: dTable[ids[i], c0:c1] += dOut[i, c0:c1] over all tokens i, for one block of columns:
 *  differentiates (T1) of docs/MATH.md, out_i = table[id_i], by (T2). */
export function embeddingScatterCols(desc: usize, item: i32, tid: i32): void {
  const D = word(desc, L.EMB_D), n = word(desc, L.EMB_N), per = word(desc, L.EMB_PER_ITEM);
  const c0 = item * per, c1 = min(D, c0 + per);
  const dTable = addr(desc, L.EMB_TABLE), ids = addr(desc, L.EMB_IDS), dOut = addr(desc, L.EMB_ROWS);
  const rowBytes = <usize>D << 2;
  for (let i = 0; i < n; i++) {
    const dst = dTable + <usize>load<i32>(ids + (<usize>i << 2)) * rowBytes, src = dOut + <usize>i * rowBytes;
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const o = <usize>c << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
    for (; c < c1; c++) {
      const o = <usize>c << 2;
      store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
    }
  }
}
