// `performer eval`: loss of a trained checkpoint on a whole file, every token predicted once.

import type { DataFormat } from '../data/corpus.js';
import { loadCorpusFile, resolveFileFormat } from '../data/read-node.js';
import { loadTrainedModel } from '../train/checkpoint-node.js';
import { evaluateModel } from '../train/evaluate.js';
import { parseTrainingState } from '../train/checkpoint-node.js';
import { defineFlags, formatUsage, parseArgs } from './args.js';
import type { CliIo, Command } from './command.js';
import { engineFlags, startEngine } from './engine.js';
import { applyNumerics, numericsFlag } from './numerics.js';
import { ProgressBar } from './progress.js';

const flags = defineFlags({
  ...engineFlags('wasm'),
  checkpoint: { type: 'string', required: true, metavar: 'DIR', help: 'checkpoint directory written by performer train' },
  data: { type: 'string', required: true, metavar: 'FILE', help: 'text or FASTA file (optionally .gz), read with the checkpoint\'s tokenizer' },
  format: { type: 'enum', values: ['text', 'fasta'], help: 'data format (default: from the name, as in train)' },
  json: { type: 'boolean', help: 'print {"loss","bits_per_token","accuracy","tokens"} as one JSON line' },
  numerics: numericsFlag,
});

const description = `
Evaluates the model of a checkpoint on the WHOLE of FILE (not a sample): the file is cut into
non-overlapping windows of the training length (--seq of the run; an imported model's max_seq_len).
  lm:  every token after the first is predicted once from the tokens before it in its window;
       accuracy = share of tokens that are the model's most probable next token.
  mlm: every window is run 7 times, pass g masking the tokens at positions ≡ g (mod 7) (14%), so every
       regular token is predicted exactly once; accuracy = masked-token accuracy.
loss is the mean negative log-likelihood in nats/token; bits_per_token = loss / ln 2; tokens = how many
tokens were predicted. For byte-level text the plain output also gives bits per character.`;

export function evalUsage(): string {
  return formatUsage('performer eval --checkpoint DIR --data FILE [--json]', description, flags);
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, flags);
  if (parsed.help) {
    io.stdout.write(evalUsage());
    return 0;
  }
  const f = parsed.flags;
  await startEngine(f);
  const { model, tokenizer, checkpoint, spec } = await loadTrainedModel(f.checkpoint);
  // An imported checkpoint has no training state: windows of its maxLen, 8 at a time.
  const imported = (checkpoint.state as { training?: unknown }).training === undefined;
  const { seqLen, batchSize } = imported ? { seqLen: model.cfg.maxLen, batchSize: 8 } : parseTrainingState(f.checkpoint, checkpoint).training;
  if (spec.kind === 'lm' && model.cfg.causal === false) throw new Error(`${f.checkpoint} holds a bidirectional model (causal false): next-token loss would see the answer`);
  applyNumerics(model, f.numerics);
  const format: DataFormat = resolveFileFormat(f.data, { format: f.format ?? 'auto' }).format;
  const corpus = await loadCorpusFile(f.data, { format, tokenizer });
  const bar = new ProgressBar(io.stderr, { total: 1, label: 'window' });
  let r;
  try {
    r = evaluateModel(model, corpus, {
      seqLen, batchSize, onProgress: (done, total) => bar.update(done, { total }),
    });
  } finally {
    bar.clear();
  }
  if (f.json) {
    io.stdout.write(`${JSON.stringify({ loss: r.loss, bits_per_token: r.bitsPerToken, accuracy: r.accuracy, tokens: r.tokens })}\n`);
  } else {
    const bpc = r.bitsPerCharacter !== undefined ? `, ${r.bitsPerCharacter.toFixed(4)} bits/char` : '';
    const acc = spec.kind === 'lm' ? 'next-token accuracy' : 'masked-token accuracy';
    io.stdout.write(
      `${f.data}: loss ${r.loss.toFixed(4)} nats/token (${r.bitsPerToken.toFixed(4)} bits/token${bpc}), ${acc} ${(100 * r.accuracy).toFixed(2)}% ` +
      `over ${r.tokens} tokens; checkpoint ${f.checkpoint} at step ${checkpoint.step}\n`,
    );
  }
  return 0;
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'loss, bits/token and accuracy of a checkpoint on a whole text or FASTA file',
  usage: evalUsage,
  run,
};
