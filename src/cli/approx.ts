// `performer approx`: the approximation-error experiment of Fig. 4 in Choromanski et al. (2021):
// MSE of FAVOR attention against exact attention, per kernel, projection kind and feature count
// (the experiment itself: approx-experiment.ts).

import { writeFileAtomic } from '../io/atomic-node.js';
import { approxPlot, formatApproxTable, runApprox } from './approx-experiment.js';
import { defineFlags, formatUsage, parseArgs, UsageError } from './args.js';
import type { CliIo, Command } from './command.js';
import { engineFlags, startEngine } from './engine.js';

const flags = defineFlags({
  ...engineFlags('reference'),
  d: { type: 'int', min: 1, default: 16, help: 'head dimension' },
  L: { type: 'int', min: 1, default: 4096, help: 'sequence length' },
  features: { type: 'ints', min: 1, default: [16, 32, 64, 128, 256], help: 'random feature counts m' },
  samples: { type: 'int', min: 1, default: 15, help: 'independent samples per setting' },
  scale: { type: 'number', positive: true, default: 0.5, help: 'std of the q and k entries' },
  json: { type: 'boolean', help: 'one JSON object per line instead of a table' },
  plot: { type: 'string', metavar: 'FILE.svg', help: 'also write a log-log SVG plot of MSE vs features' },
  'plot-logvar': { type: 'string', metavar: 'FILE.svg', help: 'also write a plot of the kernel estimate\'s mean log-variance vs features' },
  'plot-relvar': { type: 'string', metavar: 'FILE.svg', help: 'also write a log-log plot of the kernel estimate\'s mean relative variance vs features' },
  seed: { type: 'int', min: 0, default: 0, help: 'seed for inputs and projections' },
});

const description = `
Reproduces Fig. 4 of Choromanski et al. (2021): for each sample, q and k get i.i.d. N(0, scale^2)
entries and v N(0, 1) entries (shape [1, 1, L, d]), with fresh random features per sample. Reports
the MSE of bidirectional FAVOR attention against exact attention (mean over all output entries),
as mean and standard deviation over samples, and normalised (nmse = Σ(out − exact)² / Σ exact²),
for every kernel (softmax, softmax-hyp, trig, relu, and softmax++ = FAVOR++ with the optimal A of
each sample's q and k), projection (orthogonal, iid) and feature count. It also tracks the kernel
estimate K̂ = φ(x)·φ(y) of exp(x·y/√d) on the first min(L, 32) queries and keys of sample 0 over
the samples' projection draws: logvar = mean over pairs of ln Var[K̂] (what FAVOR++ minimises),
relvar = mean over pairs of Var[K̂]/K² (none for relu, which does not estimate K; needs 2 samples).`;

export function approxUsage(): string {
  return formatUsage('performer approx [options]', description, flags);
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, flags);
  if (parsed.help) {
    io.stdout.write(approxUsage());
    return 0;
  }
  const f = parsed.flags;
  const dup = f.features.find((m, i) => f.features.indexOf(m) !== i);
  if (dup !== undefined) throw new UsageError(`--features lists ${dup} more than once`);
  const progress = io.stderr.isTTY === true;
  const engine = await startEngine(f);
  const rows = runApprox({
    engine,
    d: f.d, L: f.L, features: f.features, samples: f.samples, scale: f.scale, seed: f.seed,
    onProgress: progress ? (done, total) => io.stderr.write(`\rapprox: sample ${done}/${total}`) : undefined,
  });
  if (progress) io.stderr.write('\r\x1b[K');
  if (f.plot !== undefined) {
    const title = `FAVOR approximation error (d=${f.d}, L=${f.L}, scale=${f.scale}, ${f.samples} samples)`;
    await writeFileAtomic(f.plot, approxPlot(rows, title));
  }
  for (const [file, metric] of [[f['plot-logvar'], 'logVar'], [f['plot-relvar'], 'relVar']] as const) {
    if (file === undefined) continue;
    await writeFileAtomic(file, approxPlot(rows, `FAVOR kernel estimate variance (d=${f.d}, scale=${f.scale}, ${f.samples} samples)`, metric));
  }
  if (f.json) {
    io.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  } else {
    io.stdout.write(`# d=${f.d} L=${f.L} samples=${f.samples} scale=${f.scale} seed=${f.seed} (bidirectional)\n`);
    io.stdout.write(formatApproxTable(rows));
  }
  return 0;
}

export const approxCommand: Command = {
  name: 'approx',
  summary: "approximation error of FAVOR vs exact attention (the paper's Fig. 4)",
  usage: approxUsage,
  run,
};
