// Ctrl-C during `performer train`: the run stops after the current step, saves a checkpoint that
// loads, and exits with 130 (128 + SIGINT), as a shell expects of an interrupted command.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { readCheckpointManifest } from '../src/io/checkpoint-node.js';
import { loadTrainedModel } from '../src/train/checkpoint-node.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performer-cli-interrupt-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('SIGINT after the first step: a checkpoint (the only one) at the step reached, exit code 130', async () => {
  const data = join(dir, 'speech.txt'), out = join(dir, 'run');
  await writeFile(data, 'Four score and seven years ago our fathers brought forth on this continent, a new nation. '.repeat(20));
  const child = spawn(process.execPath, [
    '--import', 'tsx', fileURLToPath(new URL('./cli-child.ts', import.meta.url)),
    'train', '--data', data, '--out', out, '--layers', '1', '--dim', '16', '--heads', '2', '--seq', '16', '--batch', '2',
    // no evaluation (hence no checkpoint) before the last step: the only save is the interrupt's
    '--features', '8', '--steps', '1000000', '--eval-interval', '1000000',
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PERFORMER_TEST_TTY: '1' } });
  let stdout = '', stderr = '', signalled = false;
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000); // a hang fails the test instead of the suite
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  child.stdout.on('data', (b: Buffer) => { stdout += b; });
  child.stderr.on('data', (b: Buffer) => {
    stderr += b;
    if (!signalled && /step +\d+\/1000000 \[/.test(stderr)) { // the progress bar drawn after a step
      signalled = true;
      child.kill('SIGINT');
    }
  });
  const { code, signal } = await exit;
  clearTimeout(killer);
  assert.ok(signalled, `the run drew no progress bar (stderr: ${stderr})`);
  assert.equal(stdout, '');
  assert.equal(signal, null, `killed by ${signal} (stderr: ${stderr})`);
  assert.equal(code, 130, `exit code (stderr: ${stderr})`);
  const m = /interrupted at step (\d+) of 1000000; the checkpoint is saved in (\S+) /.exec(stderr);
  assert.ok(m, `stderr: ${stderr}`);
  const step = Number(m[1]);
  assert.ok(step >= 1 && step < 1000000);
  assert.equal(m[2], out);
  assert.equal((await readCheckpointManifest(out)).step, step);
  const trained = await loadTrainedModel(out, { optimizer: true });
  assert.ok(trained.checkpoint.weights.size > 0);
});
