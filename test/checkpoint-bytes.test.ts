// Checkpoints read from their files' bytes (the browser path: fetch or a file input, no file
// system): the same model as the folder reader, and every damage refused with the file named.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../src/cli/main.js';
import { readCheckpointBytes } from '../src/io/checkpoint-bytes.js';
import { CheckpointError } from '../src/io/checkpoint-manifest.js';
import { loadTrainedModel } from '../src/train/checkpoint-node.js';
import { loadModelFromBytes } from '../src/train/checkpoint-files.js';
import type { PerformerLM } from '../src/nn/models.js';

describe('checkpoint from bytes', () => {
  let dir: string, manifest: string, model: Uint8Array;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'performer-ckbytes-'));
    await writeFile(join(dir, 'data.txt'), 'abcabd '.repeat(300));
    const io = { stdout: { write: () => true }, stderr: { write: () => true } };
    const code = await main(['train', '--data', join(dir, 'data.txt'), '--out', join(dir, 'ck'), '--layers', '1', '--dim', '16', '--heads', '2',
      '--seq', '16', '--batch', '2', '--steps', '2', '--features', '8'], io);
    assert.equal(code, 0);
    manifest = await readFile(join(dir, 'ck', 'checkpoint.json'), 'utf8');
    model = new Uint8Array(await readFile(join(dir, 'ck', 'model.safetensors')));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('builds the model the folder reader builds: same weights, same logits', async () => {
    const fromFolder = await loadTrainedModel(join(dir, 'ck'));
    const fromBytes = await loadModelFromBytes({ manifest: new TextEncoder().encode(manifest).buffer, model: model.slice().buffer });
    assert.deepEqual(fromBytes.spec, fromFolder.spec);
    assert.equal(fromBytes.step, 2);
    assert.equal(fromBytes.model.training, false);
    const a = fromFolder.model.stateDict(), b = fromBytes.model.stateDict();
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);
    const ids = [1, 2, 3, 4, 5];
    const la = (fromFolder.model as PerformerLM).forward(ids, 1, 5), lb = (fromBytes.model as PerformerLM).forward(ids, 1, 5);
    assert.deepEqual(lb.data, la.data);
  });

  test('damage is refused naming the file: wrong save, truncated, altered byte, bad JSON', async () => {
    const other = manifest.replace(/"nonce": "[^"]+"/, '"nonce": "another-save"');
    await assert.rejects(readCheckpointBytes({ manifest: other, model }, { source: 'site/ck' }),
      (e: Error) => e instanceof CheckpointError && /^site\/ck\/model\.safetensors: is from another save .*nonce another-save/.test(e.message));
    await assert.rejects(readCheckpointBytes({ manifest, model: model.subarray(0, model.length - 4) }),
      /^CheckpointError: checkpoint\/model\.safetensors: \d+ bytes, but checkpoint\.json records \d+ \(truncated or damaged\)$/);
    const altered = model.slice();
    altered[altered.length - 1]! ^= 0x40;
    await assert.rejects(readCheckpointBytes({ manifest, model: altered }), /model\.safetensors: content differs from the sha256 in checkpoint\.json/);
    await assert.rejects(readCheckpointBytes({ manifest: manifest.slice(0, 40), model }), /checkpoint\/checkpoint\.json: not valid JSON/);
    await assert.rejects(readCheckpointBytes({ manifest, model: new Uint8Array(3) }), /checkpoint\/model\.safetensors: .*/);
  });

  test('a config that does not fit the weights is refused before loading', async () => {
    const wider = manifest.replace(/"dim": 16/, '"dim": 24');
    assert.notEqual(wider, manifest);
    await assert.rejects(loadModelFromBytes({ manifest: wider, model }), /checkpoint\/model\.safetensors: tensor .* has shape .* but the model config says/);
    // Far beyond the stored values: refused before the model is built (it would need terabytes).
    const huge = manifest.replace(/"dim": 16/, '"dim": 1000000');
    await assert.rejects(loadModelFromBytes({ manifest: huge, model }),
      /^CheckpointError: checkpoint\/checkpoint\.json: the model config is not usable \(it describes a model of at least \d+ parameters, but model\.safetensors holds \d+ values\)$/);
  });
});
