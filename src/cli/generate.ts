// `performer generate`: sample text from a trained PerformerLM checkpoint, token by token with the
// incremental decoder (FAVOR+: constant-memory recurrent state; exact attention: a KV cache).

import { createDecoder, generate, timingSummary } from '../nn/generate.js';
import { PerformerLM } from '../nn/models.js';
import { loadTrainedModel } from '../train/checkpoint-node.js';
import { defineFlags, formatUsage, parseArgs, UsageError } from './args.js';
import type { CliIo, Command } from './command.js';
import { engineFlags, startEngine } from './engine.js';
import { numericsFlag } from './numerics.js';

const flags = defineFlags({
  ...engineFlags('wasm'),
  checkpoint: { type: 'string', required: true, metavar: 'DIR', help: 'checkpoint of a causal LM (performer train --model lm)' },
  prompt: { type: 'string', metavar: 'TEXT', help: 'text the generation continues' },
  'prompt-ids': { type: 'ints', min: 0, metavar: 'ID,ID,…', help: 'token ids instead of text (models imported with --tokenizer none); ids are printed' },
  numerics: numericsFlag,
  tokens: { type: 'int', min: 1, default: 200, help: 'tokens to generate (fewer if the model ends a FASTA record)' },
  temperature: { type: 'number', min: 0, default: 0.8, help: 'sampling temperature (0 = greedy)' },
  'top-k': { type: 'int', min: 1, default: 40, help: 'sample among the k most probable tokens' },
  'top-p': { type: 'number', positive: true, max: 1, default: 0.95, help: 'nucleus: the smallest set of tokens with this much probability' },
  seed: { type: 'int', min: 0, default: 0, help: 'sampling seed (same seed, checkpoint and prompt: same text)' },
  json: { type: 'boolean', help: 'print {"text","tokens","ms_per_token_first","ms_per_token_last"} as one JSON line' },
});

const description = `
Encodes TEXT with the checkpoint's tokenizer and samples a continuation: p ∝ exp(logits / T), keep
the top-k, then the top-p nucleus. Decoding is incremental: a FAVOR+ model carries one fixed-size
recurrent state per layer, so every token costs the same time and memory however long the text gets;
an exact-attention model keeps a growing KV cache. Models with learned positions cannot go past
their training length; rotary ones can (quality may drop beyond it). A FASTA (amino-acid) model gets
the record start token before the prompt and stops at the record end.

Plain output: the prompt, then the continuation as it is generated (stdout), and a timing line on
stderr. --json: text is the continuation (without the prompt), tokens the number generated, and
ms_per_token_first / ms_per_token_last the mean milliseconds per token over the first and the last
10% of them.`;

export function generateUsage(): string {
  return formatUsage('performer generate --checkpoint DIR (--prompt TEXT | --prompt-ids IDS) [options]', description, flags);
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, flags);
  if (parsed.help) {
    io.stdout.write(generateUsage());
    return 0;
  }
  const f = parsed.flags;
  if (f.prompt === undefined && f['prompt-ids'] === undefined) throw new UsageError('missing required flag --prompt (or --prompt-ids)');
  if (f.prompt !== undefined && f['prompt-ids'] !== undefined) throw new UsageError('give only one of --prompt and --prompt-ids');
  await startEngine(f);
  const { model, tokenizer, spec } = await loadTrainedModel(f.checkpoint);
  if (!(model instanceof PerformerLM)) {
    throw new UsageError(`${f.checkpoint} holds a masked-LM encoder (--model ${spec.kind}), which cannot generate; train with --model lm`);
  }
  if (model.cfg.causal === false) throw new UsageError(`${f.checkpoint} holds a bidirectional model (causal false), which cannot generate`);
  if (f.prompt !== undefined && tokenizer.name === 'none') throw new UsageError(`${f.checkpoint} has no tokenizer (imported with --tokenizer none): give --prompt-ids`);
  if ((f.numerics ?? model.cfg.numerics ?? 'favor') !== 'favor') {
    io.stderr.write('note: performer-pytorch numerics look at the whole sequence (the key maximum); generation decodes token by token with favor numerics\n');
  }
  model.setNumerics('favor');
  const amino = tokenizer.name === 'amino';
  const ids = f['prompt-ids'];
  const bad = ids?.find((id) => id >= model.cfg.vocabSize);
  if (bad !== undefined) throw new UsageError(`--prompt-ids: ${bad} is not an id of this model's vocabulary [0, ${model.cfg.vocabSize})`);
  const body = ids ? Int32Array.from(ids) : tokenizer.encode(f.prompt!);
  const prompt = amino && !ids ? [tokenizer.bos, ...body] : Array.from(body);
  const promptText = ids ? tokenizer.streamDecoder().push(ids) : f.prompt!;
  if (prompt.length === 0) throw new UsageError('--prompt encodes to no tokens');
  if (model.hasPositionTable && prompt.length + f.tokens - 1 > model.cfg.maxLen) {
    throw new UsageError(
      `a ${prompt.length}-token prompt plus --tokens ${f.tokens} needs ${prompt.length + f.tokens - 1} positions, but the model has learned ` +
      `positions for ${model.cfg.maxLen} (its --seq); ask for at most ${Math.max(0, model.cfg.maxLen - prompt.length + 1)} tokens`,
    );
  }
  if (!f.json && prompt.length + f.tokens - 1 > model.cfg.maxLen) {
    io.stderr.write(`note: generating past the training length (${model.cfg.maxLen} positions), where quality usually drops\n`);
  }
  generate(model, prompt.slice(0, 1), { tokens: Math.min(16, f.tokens, model.cfg.maxLen), temperature: 0 }); // JIT warm-up: the timings below are the steady state
  const stream = tokenizer.streamDecoder();
  let text = '';
  if (!f.json) io.stdout.write(promptText);
  const result = generate(model, prompt, {
    tokens: f.tokens, temperature: f.temperature, topK: f['top-k'], topP: f['top-p'], seed: f.seed,
    onToken: (id) => {
      if (amino && id === tokenizer.eos) return false;
      const piece = stream.push(id);
      text += piece;
      if (!f.json && piece) io.stdout.write(piece);
      return true;
    },
  });
  const rest = stream.end();
  text += rest;
  const t = timingSummary(result.msPerToken);
  const n = result.ids.length;
  if (f.json) {
    io.stdout.write(`${JSON.stringify({ text, tokens: n, ms_per_token_first: t.first, ms_per_token_last: t.last })}\n`);
  } else {
    io.stdout.write(`${rest}\n`);
    const stateKiB = createDecoder(model).stateBytes / 1024;
    const attention = model.blocks[0]?.attn.projection ? `FAVOR+ recurrent state ${stateKiB.toFixed(1)} KiB, constant` : 'exact attention, KV cache growing with the text';
    io.stderr.write(
      `${n} tokens: ${t.first.toFixed(2)} ms/token over the first ${t.count}, ${t.last.toFixed(2)} ms/token over the last ${t.count} (${attention})\n`,
    );
  }
  return 0;
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate text from a trained LM checkpoint (constant-memory FAVOR+ decoding)',
  usage: generateUsage,
  run,
};
