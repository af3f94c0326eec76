// `performer export`: a checkpoint's LM in performer-pytorch's key layout (safetensors) plus the
// PerformerLM keyword arguments that rebuild it.

import { exportStateDict } from '../interop/convert.js';
import { writeFilesAtomic } from '../io/atomic-node.js';
import { encodeSafetensors } from '../io/safetensors.js';
import { loadTrainedModel } from '../train/checkpoint-node.js';
import { defineFlags, formatUsage, parseArgs, UsageError } from './args.js';
import type { CliIo, Command } from './command.js';

const flags = defineFlags({
  checkpoint: { type: 'string', required: true, metavar: 'DIR', help: 'checkpoint of a language model' },
  to: { type: 'enum', values: ['performer-pytorch'], required: true, help: 'target layout' },
  out: { type: 'string', required: true, metavar: 'FILE.safetensors', help: 'weights; FILE.config.json gets the PerformerLM arguments' },
});

const description = `
Writes every key of performer-pytorch 1.1.4's PerformerLM.state_dict(), buffers included (the
projection matrices, the fixed sinusoid tables, calls_since_last_redraw as I64), except the
performer.proj_updater.instance.* duplicates, as safetensors.torch.save_model does; load it with
safetensors.torch.load_model(model, FILE), or fill the duplicates and load_state_dict (docs/INTEROP.md).
A model performer-pytorch cannot express is refused with the reasons (exact attention, FAVOR++ or
trigonometric features, rotary positions without the sinusoidal table, a token shift other than
shift_tokens, the tanh-approximate GELU, …).`;

export function exportUsage(): string {
  return formatUsage('performer export --checkpoint DIR --to performer-pytorch --out FILE.safetensors', description, flags);
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, flags);
  if (parsed.help) {
    io.stdout.write(exportUsage());
    return 0;
  }
  const f = parsed.flags;
  if (!f.out.endsWith('.safetensors')) throw new UsageError(`--out ${f.out}: the name must end in .safetensors`);
  const { model, spec, checkpoint } = await loadTrainedModel(f.checkpoint);
  const imported = (checkpoint.state as { imported?: { calls_since_last_redraw?: number | null } }).imported;
  const { kwargs, tensors, int64 } = exportStateDict(spec, model.stateDict(), imported?.calls_since_last_redraw ?? 0);
  const configPath = `${f.out.slice(0, -'.safetensors'.length)}.config.json`;
  await writeFilesAtomic([
    [f.out, encodeSafetensors(tensors, { format: 'pt' }, int64)],
    [configPath, `${JSON.stringify(kwargs, null, 2)}\n`],
  ]);
  io.stdout.write(`exported ${f.checkpoint} → ${f.out} (${tensors.size} tensors) and ${configPath}\n`);
  return 0;
}

export const exportCommand: Command = {
  name: 'export',
  summary: "write a checkpoint's LM as performer-pytorch weights (.safetensors + PerformerLM arguments)",
  usage: exportUsage,
  run,
};
