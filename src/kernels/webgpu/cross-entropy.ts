// Loader for cross-entropy.wgsl.ts. Logit rows may be cut at binding boundaries; lse and the loss
// must fit one binding each. The count n of counted rows is known on the host (targets are host
// arrays), so no value comes back from the device: the loss stays there until someone reads it.
import { expectLength, type CrossEntropyGradArgs, type CrossEntropyLossArgs } from './args.js';
import type { GpuContext } from './context.js';
import { crossEntropyBackwardWgsl, crossEntropyLossWgsl, crossEntropyRowsWgsl } from './cross-entropy.wgsl.js';
import { uploadInts } from './ints.js';
import { pieces, whole, type Binding } from './pieces.js';
import { floatBits } from './wgsl.js';

function counted(a: { targets: Int32Array; rows: number; V: number; ignoreIndex: number; logits: { length: number }; lse: { length: number } }, op: string): number {
  if (a.targets.length !== a.rows) throw new RangeError(`webgpu: ${op}: ${a.targets.length} targets for ${a.rows} rows`);
  if (a.logits.length !== a.rows * a.V) throw new RangeError(`webgpu: ${op}: logits hold ${a.logits.length} values, expected rows·V = ${a.rows * a.V}`);
  if (a.lse.length !== a.rows) throw new RangeError(`webgpu: ${op}: lse holds ${a.lse.length} values, expected ${a.rows}`);
  let n = 0;
  for (let r = 0; r < a.rows; r++) {
    const t = a.targets[r]!;
    if (t === a.ignoreIndex) continue;
    if (!(t >= 0 && t < a.V)) throw new RangeError(`webgpu: ${op}: target ${t} at row ${r} is outside [0, ${a.V})`);
    n++;
  }
  return n;
}

const logitRows = (t: CrossEntropyLossArgs['logits'], name: string, V: number) => ({ t, name, headStride: 0, posStride: V, span: V });

export function crossEntropyLoss(ctx: GpuContext, a: CrossEntropyLossArgs): void {
  const n = counted(a, 'crossEntropy');
  expectLength(a.loss, 1, 'crossEntropy: loss');
  const T = uploadInts(ctx.device, a.targets);
  const terms = ctx.device.createBuffer({ size: Math.max(16, a.rows * 4), usage: 0x0080 });
  const lse = whole(a.lse, 'crossEntropy lse');
  const run = ctx.batch();
  for (const p of pieces([logitRows(a.logits, 'crossEntropy logits', a.V)], 1, a.rows)) {
    const [z] = p.binds as [Binding];
    run.dispatch(ctx.pipeline(crossEntropyRowsWgsl()), [z.buffer, T, lse, terms], [a.V, z.base, p.p0, a.ignoreIndex >>> 0], [p.p1 - p.p0, 1, 1]);
  }
  run.dispatch(ctx.pipeline(crossEntropyLossWgsl()), [terms, whole(a.loss, 'crossEntropy loss')], [a.rows, floatBits(n ? 1 / n : 0)], [1, 1, 1]);
  run.submit();
  T.destroy();
  terms.destroy();
}

export function crossEntropyGrad(ctx: GpuContext, a: CrossEntropyGradArgs): void {
  const n = counted(a, 'crossEntropy backward');
  expectLength(a.dLoss, 1, 'crossEntropy backward: dLoss');
  expectLength(a.dLogits, a.rows * a.V, 'crossEntropy backward: dLogits');
  if (n === 0) return;
  const T = uploadInts(ctx.device, a.targets);
  const run = ctx.batch();
  const views = [logitRows(a.logits, 'crossEntropy logits', a.V), logitRows(a.dLogits, 'crossEntropy dLogits', a.V)];
  for (const p of pieces(views, 1, a.rows)) {
    const [z, dz] = p.binds as [Binding, Binding];
    run.dispatch(ctx.pipeline(crossEntropyBackwardWgsl()), [z.buffer, T, whole(a.lse, 'crossEntropy lse'), whole(a.dLoss, 'crossEntropy dLoss'), dz.buffer],
      [a.V, z.base, dz.base, p.p0, a.ignoreIndex >>> 0, floatBits(1 / n)], [p.p1 - p.p0, 1, 1]);
  }
  run.submit();
  T.destroy();
}
