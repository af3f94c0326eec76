// The playground page. It imports the library as a user would (the package's browser entry,
// ../index.js) and leaves it on `window.performer` for the console; the panels' results are on
// `window.playground` (what the browser tests read).
import * as performer from '../index.js';
import { runApproxPanel, type ApproxResult } from './approx-panel.js';
import { runSpeedPanel, type SpeedResult } from './speed-panel.js';
import { loadPickedFiles, loadServedCheckpoint, runGeneration, type GenerationResult } from './generate-panel.js';
import { startEngine, webGpuNote, type EngineStatus } from './engine.js';
import { action, byId } from './dom.js';

export interface Playground {
  engine: Omit<EngineStatus, 'wasm'>;
  approx?: ApproxResult;
  speed?: SpeedResult;
  checkpoint?: string;
  generation?: GenerationResult;
  /** Runs panel actions from code (the tests use them; the buttons do the same). */
  run: { approx(): Promise<ApproxResult>; speed(): Promise<SpeedResult>; loadServed(): Promise<string>; generate(): Promise<GenerationResult> };
}

const SEED = 0;

async function start(): Promise<void> {
  const engine = await startEngine();
  byId('engine').textContent = `Engine: ${engine.note}. ${webGpuNote()}`;
  const { wasm: _wasm, ...info } = engine;
  const page: Playground = {
    engine: info,
    run: {
      approx: async () => (page.approx = await runApproxPanel(SEED)),
      speed: async () => (page.speed = await runSpeedPanel(engine, SEED)),
      loadServed: async () => (page.checkpoint = await loadServedCheckpoint()),
      generate: async () => (page.generation = await runGeneration()),
    },
  };
  Object.assign(globalThis, { performer, playground: page });
  const wire = (button: string, status: string, work: () => Promise<unknown>): void => {
    const b = byId<HTMLButtonElement>(button);
    b.addEventListener('click', () => void action(b, byId(status), async () => { await work(); }));
  };
  wire('approx-run', 'approx-status', page.run.approx);
  wire('speed-run', 'speed-status', page.run.speed);
  wire('gen-load', 'gen-status', page.run.loadServed);
  wire('gen-run', 'gen-status', page.run.generate);
  const picker = byId<HTMLInputElement>('gen-files');
  picker.addEventListener('change', () => {
    if (picker.files) void action(byId<HTMLButtonElement>('gen-load'), byId('gen-status'), async () => { page.checkpoint = await loadPickedFiles(picker.files!); });
  });
  byId('ready').textContent = 'ready';
  // The approximation panel is cheap: show it at once.
  await action(byId<HTMLButtonElement>('approx-run'), byId('approx-status'), async () => { await page.run.approx(); });
}

start().catch((e: unknown) => {
  byId('engine').textContent = `The page could not start: ${e instanceof Error ? e.message : String(e)}`;
  byId('engine').classList.add('error');
  throw e;
});
