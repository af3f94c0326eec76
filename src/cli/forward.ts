// `performer forward`: logits of a checkpoint's model for a batch of token ids in a safetensors file.

import { noGrad } from '../autograd/tape.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { readFile } from 'node:fs/promises';
import { writeSafetensorsFile } from '../io/safetensors-node.js';
import { PerformerLM } from '../nn/models.js';
import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import { loadTrainedModel } from '../train/checkpoint-node.js';
import { defineFlags, formatUsage, parseArgs, UsageError } from './args.js';
import type { CliIo, Command } from './command.js';
import { engineFlags, startEngine } from './engine.js';
import { applyNumerics, numericsFlag } from './numerics.js';

const flags = defineFlags({
  ...engineFlags('wasm'),
  checkpoint: { type: 'string', required: true, metavar: 'DIR', help: 'checkpoint (performer train or performer import)' },
  in: { type: 'string', required: true, metavar: 'IN.safetensors', help: 'tokens [B, L] (I64, I32 or integer F32), optional key_mask [B, L] (1 keep, 0 pad)' },
  out: { type: 'string', required: true, metavar: 'OUT.safetensors', help: 'written atomically: logits [B, L, V] F32' },
  numerics: numericsFlag,
});

const description = `
Runs the model on every row of IN at once (eval mode, no dropout) and writes its logits: a language
model's next-token logits, an encoder's masked-LM logits. key_mask is the padding mask (the name
performer attention uses); with performer-pytorch numerics it acts as performer-pytorch's mask does
(padded values zeroed, keys kept), with favor numerics padded keys are left out entirely.`;

export function forwardUsage(): string {
  return formatUsage('performer forward --checkpoint DIR --in IN.safetensors --out OUT.safetensors [options]', description, flags);
}

const TOKEN_DTYPES = ['I64', 'I32', 'F32'];

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, flags);
  if (parsed.help) {
    io.stdout.write(forwardUsage());
    return 0;
  }
  const f = parsed.flags;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(f.in);
  } catch (e) {
    throw new Error(`cannot read ${f.in}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const input = decodeSafetensors(bytes, { source: f.in, finite: true });
  const extra = [...input.tensors.keys()].filter((k) => k !== 'tokens' && k !== 'key_mask');
  if (extra.length) throw new UsageError(`${f.in}: unexpected tensor ${JSON.stringify(extra[0])} (expected tokens and optionally key_mask)`);
  const tokens = input.tensors.get('tokens');
  if (!tokens) throw new UsageError(`${f.in}: no tensor "tokens"`);
  if (!TOKEN_DTYPES.includes(input.dtypes.get('tokens')!)) throw new UsageError(`${f.in}: tokens are ${input.dtypes.get('tokens')}; expected ${TOKEN_DTYPES.join(', ')}`);
  if (tokens.rank !== 2 || tokens.size === 0) throw new UsageError(`${f.in}: tokens must be [B, L] with B, L ≥ 1, got ${formatShape(tokens.shape)}`);
  const [B, L] = tokens.shape as [number, number];
  const mask = input.tensors.get('key_mask');
  if (mask) {
    if (mask.shape.join() !== tokens.shape.join()) throw new UsageError(`${f.in}: key_mask ${formatShape(mask.shape)} must match tokens ${formatShape(tokens.shape)}`);
    const bad = mask.data.findIndex((x) => x !== 0 && x !== 1);
    if (bad >= 0) throw new UsageError(`${f.in}: key_mask[${Math.floor(bad / L)}, ${bad % L}] is ${mask.data[bad]}, expected 0 or 1`);
  }
  await startEngine(f);
  const { model, spec } = await loadTrainedModel(f.checkpoint);
  const V = spec.model.vocabSize;
  const bad = tokens.data.findIndex((x) => !Number.isInteger(x) || x < 0 || x >= V);
  if (bad >= 0) throw new UsageError(`${f.in}: tokens[${Math.floor(bad / L)}, ${bad % L}] is ${tokens.data[bad]}, not an id in [0, ${V})`);
  if (L > spec.model.maxLen && (model.pos || spec.model.positions === 'sinusoidal-rotary')) {
    throw new UsageError(`${f.in}: sequences of ${L} tokens exceed the model's position table (${spec.model.maxLen})`);
  }
  const numerics = applyNumerics(model, f.numerics);
  const ids = Int32Array.from(tokens.data);
  const logits = noGrad(() => (model instanceof PerformerLM ? model.forward(ids, B, L, mask?.data) : model.mlmLogits(model.hidden(ids, B, L, mask?.data))));
  const data = logits.data instanceof Float32Array ? logits.data : Float32Array.from(logits.data);
  await writeSafetensorsFile(f.out, { logits: new Tensor([B, L, V], data) }, { numerics, checkpoint: f.checkpoint });
  io.stderr.write(`${f.out}: logits [${B}, ${L}, ${V}] (${numerics} numerics)\n`);
  return 0;
}

export const forwardCommand: Command = {
  name: 'forward',
  summary: 'logits of a checkpoint for token ids in a safetensors file (batch inference)',
  usage: forwardUsage,
  run,
};
