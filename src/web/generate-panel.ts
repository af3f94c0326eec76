// Panel 3, generation: a checkpoint (served by `performer serve --checkpoint DIR`, or two files
// picked by the user) decodes token by token with the recurrent FAVOR+ decoder (nn.createDecoder):
// the per-token cost is flat in the context length for FAVOR+ layers, growing for exact ones.
import { CheckpointError, fetchModel, loadModelFromBytes, nn, Rng, type ModelFromFiles } from '../index.js';
import { renderPlot, PALETTE } from '../cli/svg-plot.js';
import { byId, intField, nextFrame, numberField } from './dom.js';

export interface GenerationResult {
  prompt: string;
  /** Generated token ids. */
  ids: number[];
  text: string;
  /** Milliseconds of each decoder step + sampling, by position. */
  msPerToken: number[];
  /** Context length (prompt + generated) at each step. */
  positions: number[];
  /** Bytes of decoder state after the last token (constant for FAVOR+). */
  stateBytes: number;
}

let loaded: (ModelFromFiles & { from: string }) | undefined;

function describe(m: ModelFromFiles & { from: string }): string {
  const c = m.spec.model;
  // A learned position table bounds prompt + generated tokens (npm start's model: 128).
  if ((c.positions ?? 'learned') === 'learned') {
    const tokens = byId<HTMLInputElement>('gen-tokens');
    tokens.value = String(Math.max(1, Math.min(Number(tokens.value), c.maxLen - m.tokenizer.encode(byId<HTMLTextAreaElement>('gen-prompt').value).length)));
  }
  return `${m.from}: ${m.spec.kind} model, ${c.layers} layers, dim ${c.dim}, ${c.attention ?? 'favor'} attention, step ${m.step}, ${m.tokenizer.name} tokenizer`;
}

/** The served checkpoint, if `performer serve` was given one (its files are 404 otherwise). */
export async function loadServedCheckpoint(): Promise<string> {
  const status = byId('gen-status');
  status.textContent = 'loading /checkpoint/ …';
  try {
    loaded = { ...(await fetchModel(new URL('/checkpoint/', location.href))), from: 'served checkpoint' };
  } catch (e) {
    if (!(e instanceof CheckpointError && / HTTP 404/.test(e.message))) throw e;
    status.textContent = 'No checkpoint is served: start performer serve --checkpoint DIR (e.g. runs/showcase after npm start), or pick the two files below.';
    return status.textContent;
  }
  status.textContent = describe(loaded);
  return status.textContent;
}

/** The two files the user picked (checkpoint.json and model.safetensors, in any order). */
export async function loadPickedFiles(files: FileList): Promise<string> {
  const byName = new Map(Array.from(files, (f) => [f.name, f]));
  const manifest = byName.get('checkpoint.json'), model = byName.get('model.safetensors');
  if (!manifest || !model) throw new Error(`pick both checkpoint.json and model.safetensors (got ${[...byName.keys()].join(', ') || 'nothing'})`);
  loaded = { ...(await loadModelFromBytes({ manifest: await manifest.arrayBuffer(), model: await model.arrayBuffer() }, 'picked files')), from: 'picked files' };
  byId('gen-status').textContent = describe(loaded);
  return byId('gen-status').textContent!;
}

export async function runGeneration(): Promise<GenerationResult> {
  if (!loaded) throw new Error('load a checkpoint first');
  if (loaded.spec.kind !== 'lm') throw new Error('this checkpoint is a masked-LM encoder, which cannot generate; train one with --model lm');
  const model = loaded.model as nn.PerformerLM, tokenizer = loaded.tokenizer;
  const tokens = intField('gen-tokens', 1, 100000), temperature = numberField('gen-temperature', 0, 10), seed = intField('gen-seed', 0, 2 ** 31);
  const prompt = byId<HTMLTextAreaElement>('gen-prompt').value;
  const promptIds = Array.from(tokenizer.encode(prompt));
  if (promptIds.length === 0) throw new Error('type a prompt (at least one character)');
  if (model.pos && promptIds.length + tokens - 1 > model.cfg.maxLen) {
    throw new Error(`this model has a learned position table of ${model.cfg.maxLen}: prompt (${promptIds.length} tokens) plus ${tokens} tokens do not fit`);
  }
  // As nn.generate, but yielding to the page after each token so that the text streams.
  const decoder = nn.createDecoder(model), rng = new Rng(seed, nn.SAMPLING_STREAM);
  if (promptIds.length > 1) decoder.feedMany(promptIds.slice(0, -1));
  const out = byId('gen-output'), result: GenerationResult = { prompt, ids: [], text: '', msPerToken: [], positions: [], stateBytes: 0 };
  let next = promptIds.at(-1)!;
  for (let i = 0; i < tokens; i++) {
    const t0 = performance.now();
    next = nn.sample(decoder.feed(next), { temperature }, rng);
    result.msPerToken.push(performance.now() - t0);
    result.positions.push(decoder.length);
    result.ids.push(next);
    result.text = tokenizer.decode(result.ids);
    out.textContent = prompt + result.text;
    if (i % 4 === 3 || i === tokens - 1) {
      drawTiming(result);
      await nextFrame();
    }
  }
  result.stateBytes = decoder.stateBytes;
  const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
  const tenth = Math.max(1, Math.round(tokens / 10));
  byId('gen-timing').textContent = `${tokens} tokens: ${mean(result.msPerToken.slice(0, tenth)).toFixed(2)} ms/token over the first tenth, ` +
    `${mean(result.msPerToken.slice(-tenth)).toFixed(2)} over the last; decoder state ${(result.stateBytes / 1024).toFixed(1)} KiB.`;
  return result;
}

function drawTiming(r: GenerationResult): void {
  byId('gen-plot').innerHTML = renderPlot({
    series: [{ name: 'ms per token', points: r.positions.map((p, i) => [p, r.msPerToken[i]!] as const), color: PALETTE[0], markers: false }],
    title: 'Decoding cost against context length',
    xLabel: 'context length (tokens)',
    yLabel: 'ms per token',
    xScale: 'linear',
    yScale: 'linear',
  });
}
