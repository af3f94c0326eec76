// Panel 2, speed: FAVOR+ against exact attention at growing L on this device (the paper's Fig. 3
// in the browser), log-log. FAVOR+ costs O(L·m·d), exact O(L²·d): the lines' slopes are 1 and 2.
// Each series stops after the first case slower than the time budget.
import { drawProjection, exactAttention, favorAttention, Rng, Tensor } from '../index.js';
import { renderPlot, PALETTE } from '../cli/svg-plot.js';
import { byId, intField, nextFrame } from './dom.js';
import type { EngineStatus } from './engine.js';

export interface SpeedCase {
  L: number;
  /** Milliseconds of one call (see time()). */
  favorMs?: number;
  exactMs?: number;
  /** The wasm heap's size after the case (it grows on demand and never shrinks). */
  wasmHeapBytes: number;
}

export interface SpeedResult {
  d: number;
  m: number;
  budgetMs: number;
  cases: SpeedCase[];
  /** performance.measureUserAgentSpecificMemory() where the page may call it, else why not. */
  pageMemory: { bytes: number } | { unavailable: string };
}

const L_MAX = 65536;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Milliseconds of f after one untimed run (compilation, heap growth, waking the threads): one
 *  timed run when that one took over a third of the budget, else the median of five. */
function time(f: () => void, budget: number): number {
  f();
  const t0 = performance.now();
  f();
  const first = performance.now() - t0;
  if (first > budget / 3) return first;
  const runs = [first];
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    f();
    runs.push(performance.now() - t);
  }
  return median(runs);
}

async function pageMemory(): Promise<SpeedResult['pageMemory']> {
  const measure = (performance as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> }).measureUserAgentSpecificMemory;
  if (!measure) return { unavailable: 'performance.measureUserAgentSpecificMemory is not in this browser' };
  if (!globalThis.crossOriginIsolated) return { unavailable: 'performance.measureUserAgentSpecificMemory needs a cross-origin isolated page' };
  // The browser answers at its next garbage collection; do not wait for ever.
  const timeout = new Promise<SpeedResult['pageMemory']>((resolve) => setTimeout(() => resolve({ unavailable: 'the browser did not answer within 5 s' }), 5000));
  const measured = measure.call(performance).then(
    (r) => ({ bytes: r.bytes }),
    (e: unknown) => ({ unavailable: `the browser refused it (${e instanceof Error ? e.message : String(e)})` }),
  );
  return Promise.race([measured, timeout]);
}

export async function runSpeedPanel(engine: EngineStatus, seed: number): Promise<SpeedResult> {
  const d = intField('speed-d', 1, 256), m = intField('speed-m', 1, 4096), budgetMs = intField('speed-budget', 1, 60000);
  const status = byId('speed-status');
  const W = drawProjection({ features: m, dim: d, kind: 'orthogonal', seed });
  const cases: SpeedCase[] = [];
  let favorOn = true, exactOn = true;
  const rng = new Rng(seed, 2);
  for (let L = 128; L <= L_MAX && (favorOn || exactOn); L *= 2) {
    status.textContent = `L = ${L}…`;
    await nextFrame();
    const [q, k, v] = [0, 1, 2].map(() => {
      const t = new Tensor([1, 1, L, d]);
      rng.fillNormal(t.data, 0, 0.5);
      return t;
    }) as [Tensor, Tensor, Tensor];
    const c: SpeedCase = { L, wasmHeapBytes: 0 };
    if (favorOn) {
      c.favorMs = time(() => favorAttention(q, k, v, { projection: W }), budgetMs);
      favorOn = c.favorMs <= budgetMs;
    }
    await nextFrame();
    if (exactOn) {
      c.exactMs = time(() => exactAttention(q, k, v), budgetMs);
      exactOn = c.exactMs <= budgetMs;
    }
    c.wasmHeapBytes = engine.wasm.backend.memory.buffer.byteLength;
    cases.push(c);
    draw(cases, d, m, engine);
  }
  status.textContent = 'measuring the page\'s memory…';
  const memory = await pageMemory();
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  status.textContent = `Each series stops after its first case over ${budgetMs} ms. wasm heap ${mib(cases.at(-1)!.wasmHeapBytes)}; ` +
    ('bytes' in memory ? `page memory ${mib(memory.bytes)} (measureUserAgentSpecificMemory).` : `page memory: ${memory.unavailable}.`);
  return { d, m, budgetMs, cases, pageMemory: memory };
}

function draw(cases: readonly SpeedCase[], d: number, m: number, engine: EngineStatus): void {
  const points = (key: 'favorMs' | 'exactMs'): [number, number][] => cases.filter((c) => c[key] !== undefined).map((c) => [c.L, c[key]!]);
  byId('speed-plot').innerHTML = renderPlot({
    series: [
      { name: `FAVOR+ softmax (m=${m})`, points: points('favorMs'), color: PALETTE[0] },
      { name: 'exact softmax', points: points('exactMs'), color: PALETTE[1] },
    ],
    title: `Attention forward, d=${d}, one head: ${engine.name}, ${engine.threads} thread${engine.threads === 1 ? '' : 's'}`,
    xLabel: 'sequence length L',
    yLabel: 'milliseconds',
    xScale: 'log',
    yScale: 'log',
    xTicks: cases.map((c) => c.L),
  });
  byId('speed-table').innerHTML = '<tr><th>L</th><th>FAVOR+ ms</th><th>exact ms</th><th>wasm heap</th></tr>' + cases.map((c) =>
    `<tr><td>${c.L}</td><td>${c.favorMs?.toFixed(2) ?? '—'}</td><td>${c.exactMs?.toFixed(2) ?? '—'}</td><td>${(c.wasmHeapBytes / 2 ** 20).toFixed(0)} MiB</td></tr>`).join('');
}
