// `performer import`: a performer-pytorch PerformerLM state_dict (.pt or .safetensors) and its
// keyword arguments → a checkpoint that eval, generate, forward and train --init-from read.

import { access, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { importStateDict } from '../interop/convert.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { readTorchStateDict } from '../io/torch-pt.js';
import { MANIFEST_FILE, saveCheckpoint } from '../io/checkpoint-node.js';
import { readError } from '../io/file-error-node.js';
import { withRunLock } from '../io/run-lock-node.js';
import { NUMERICS, type Numerics } from '../nn/attention.js';
import type { TokenizerName } from '../data/tokenizer.js';
import { describeModel } from '../train/config.js';
import { defineFlags, formatUsage, parseArgs, UsageError, type Flags } from './args.js';
import type { CliIo, Command } from './command.js';

const flags = defineFlags({
  from: { type: 'string', required: true, metavar: 'FILE', help: 'state_dict: .pt/.pth (torch.save) or .safetensors' },
  config: { type: 'string', required: true, metavar: 'CONFIG.json', help: 'the PerformerLM(...) keyword arguments as JSON' },
  out: { type: 'string', required: true, metavar: 'DIR', help: 'checkpoint directory to write' },
  numerics: { type: 'enum', values: NUMERICS, default: 'performer-pytorch', help: 'how FAVOR+ is evaluated by default (forward/eval/generate may override)' },
  tokenizer: { type: 'enum', values: ['byte', 'amino', 'none'], help: 'how text maps to ids (default: byte when num_tokens is 256, else none)' },
  force: { type: 'boolean', help: 'break a run lock on --out held from another host (as in performer train)' },
});

const description = `
Reads a performer-pytorch 1.1.4 PerformerLM state_dict without running any code from it: a .pt file
goes through a weights-only unpickler (torch's weights_only allow-list; any other global is refused,
naming it), a .safetensors file as safetensors.torch.save_model writes it. Keys may carry the net.
(AutoregressiveWrapper) or module. (DDP) prefix; the performer.proj_updater.instance.* copies must
equal their originals. What the weights determine (dims, depth, heads, features, biases, GLU, norms,
token shift, tied embeddings, positions) is inferred; CONFIG must agree with it and supplies the
rest (causal, generalized_attention, local_attn_heads, local_window_size). Not supported: axial
positions, cross_attend, no_projection. The projection matrices come from the checkpoint.

--numerics performer-pytorch (default) reproduces performer-pytorch's logits on full sequences;
favor is our estimator (docs/INTEROP.md). Resuming is not possible (no optimizer or data state);
train --init-from DIR fine-tunes from it. Like train, it holds the run lock on DIR while it writes
(exit code 75 when another run holds it).`;

export function importUsage(): string {
  return formatUsage('performer import --from FILE --config CONFIG.json --out DIR [options]', description, flags);
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw readError(path, e);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${path}: expected a JSON object of PerformerLM keyword arguments`);
  return v as Record<string, unknown>;
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, flags);
  if (parsed.help) {
    io.stdout.write(importUsage());
    return 0;
  }
  const f = parsed.flags;
  const warn = (m: string): unknown => io.stderr.write(`${m}\n`);
  return withRunLock(f.out, { command: 'performer import', force: f.force, warn }, () => importInto(f, io));
}

async function importInto(f: Flags<typeof flags>, io: CliIo): Promise<number> {
  const taken = await access(join(f.out, MANIFEST_FILE)).then(() => true, () => false);
  if (taken) throw new UsageError(`--out ${f.out} already holds a checkpoint; choose another directory`);
  const config = await readJson(f.config);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(f.from);
  } catch (e) {
    throw readError(f.from, e);
  }
  const st = /\.safetensors$/i.test(f.from);
  if (!st && !/\.(pt|pth|bin)$/i.test(f.from)) throw new UsageError(`--from ${f.from}: expected a .pt, .pth or .safetensors file`);
  const raw = st ? decodeSafetensors(bytes, { source: f.from }).tensors : readTorchStateDict(bytes, f.from);
  let imported;
  try {
    imported = importStateDict(raw, config, { numerics: f.numerics as Numerics, tokenizer: f.tokenizer as TokenizerName | undefined });
  } catch (e) {
    throw new Error(`${basename(f.from)} with ${basename(f.config)}: ${(e as Error).message}`);
  }
  await saveCheckpoint(f.out, {
    config: imported.spec,
    weights: imported.weights,
    state: {
      imported: {
        from: f.from, format: st ? 'safetensors' : 'pt', sha256: createHash('sha256').update(bytes).digest('hex'),
        performer_pytorch: imported.kwargs, calls_since_last_redraw: imported.callsSinceRedraw ?? null,
      },
    },
  });
  const params = [...imported.weights.entries()].filter(([n]) => !n.endsWith('.projection')).reduce((s, [, t]) => s + t.size, 0);
  io.stdout.write(`imported ${f.from} → ${f.out}: ${describeModel(imported.spec, params)}, ${f.numerics} numerics, ${imported.spec.tokenizer.type} tokenizer\n`);
  return 0;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'read a performer-pytorch PerformerLM (.pt or .safetensors) into a checkpoint',
  usage: importUsage,
  run,
};
