// Screenshots of the playground's three panels for the README (docs/playground-*.png), taken with
// the headless browser the tests use. Usage (after npm run build, with a checkpoint from npm start):
//   node --import tsx scripts/playground-screenshots.ts runs/showcase
import { join } from 'node:path';
import { assertBuilt, launchBrowser, REPO, startServe } from '../test/helpers/browser.js';

const checkpoint = process.argv[2];
if (!checkpoint) throw new Error('usage: node --import tsx scripts/playground-screenshots.ts CHECKPOINT_DIR');
assertBuilt();
const serve = await startServe(['--checkpoint', checkpoint]);
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1120, height: 900, deviceScaleFactor: 1 });
  await page.goto(serve.url);
  await page.waitForFunction(() => (globalThis as { playground?: { approx?: unknown } }).playground?.approx !== undefined, { timeout: 60_000 });
  await page.evaluate(async () => {
    const p = (globalThis as unknown as { playground: { run: Record<string, () => Promise<unknown>> } }).playground;
    await p.run.speed!();
    await p.run.loadServed!();
    await p.run.generate!();
  });
  for (const panel of ['approx', 'speed', 'generate']) {
    const section = await page.$(`#${panel}`);
    await section!.screenshot({ path: join(REPO, 'docs', `playground-${panel}.png`) as `${string}.png` });
  }
} finally {
  await browser.close();
  await serve.stop();
}
