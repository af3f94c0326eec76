// Checkpoints written before the engine/core refactor still load and resume exactly. The fixture
// (test/fixtures/checkpoint-0.1.0) was written by performer at 9210fe7: step6/ is a run stopped at
// step 6 of 12, expected.json holds the uninterrupted 12-step run's last evaluation and the sha256 of
// every tensor it saved. Resuming step6/ with today's code must give those values bit for bit.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { runCli } from './helpers/cli.js';

const FIXTURE = resolve(import.meta.dirname, 'fixtures/checkpoint-0.1.0');
const TEXT = 'It was the best of times, it was the worst of times; it was the age of wisdom, it was the age of foolishness. '.repeat(40);
const FLAGS = ['--layers', '1', '--dim', '16', '--heads', '2', '--seq', '16', '--batch', '2', '--features', '8', '--redraw', '5',
  '--token-shift', '--warmup', '4', '--schedule-steps', '30', '--eval-interval', '6', '--eval-windows', '4', '--json'];

interface Expected {
  step12_eval: Record<string, number>;
  step12_model_sha256: Record<string, string>;
  step12_optimizer_sha256: Record<string, string>;
}

async function tensorHashes(file: string): Promise<Record<string, string>> {
  const { tensors } = decodeSafetensors(new Uint8Array(await readFile(file)));
  const out: Record<string, string> = {};
  for (const [name, t] of tensors) {
    const d = t.data as ArrayBufferView;
    out[name] = createHash('sha256').update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest('hex');
  }
  return out;
}

test('a checkpoint written by 0.1.0 (before the refactor) resumes to the uninterrupted run, bit for bit', async () => {
  const expected = JSON.parse(await readFile(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;
  const dir = await mkdtemp(join(tmpdir(), 'performer-compat-'));
  try {
    const data = join(dir, 'tiny.txt'), out = join(dir, 'run');
    await writeFile(data, TEXT);
    await cp(join(FIXTURE, 'step6'), out, { recursive: true });
    const { code, stdout, stderr } = await runCli(['train', '--data', data, '--out', out, ...FLAGS, '--resume', '--steps', '12']);
    assert.equal(code, 0, stderr);
    const last = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
    for (const [k, v] of Object.entries(expected.step12_eval)) assert.equal(last[k], v, `${k} at step 12`);
    assert.deepEqual(await tensorHashes(join(out, 'model.safetensors')), expected.step12_model_sha256);
    assert.deepEqual(await tensorHashes(join(out, 'optimizer.safetensors')), expected.step12_optimizer_sha256);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
