// Faults during checkpoint saves, through the injectable file system (src/io/fs-node.ts): a full disk at
// each single write of a save, folders that refuse writes, and a reader running while a save moves
// the checkpoint under it. (Real SIGKILLs: test/checkpoint.test.ts here, and 50+ in `npm run fuzz`.)
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main, type CliIo } from '../src/cli/main.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint, type CheckpointInput } from '../src/io/checkpoint-node.js';
import { nodeFileSystem, useFileSystem, type FileSystem } from '../src/io/fs-node.js';
import { Tensor } from '../src/tensor/tensor.js';
import { faultyFs, WRITE_OPS } from './fault-fs.js';

let root: string;
let n = 0;
const fresh = (): string => join(root, `ck${n++}`);
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'performer-faults-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A checkpoint whose every value is `fill` (so a mixed set shows). */
function input(step: number, fill: number): CheckpointInput {
  const w = (shape: readonly number[]): Tensor => new Tensor([...shape], new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill));
  const weights = new Map([['embed.weight', w([64, 8])], ['head.weight', w([8, 64])]]);
  const optimizer = new Map([...weights].flatMap(([k, t]) => [[`${k}.m`, w(t.shape)], [`${k}.v`, w(t.shape)]] as [string, Tensor][]));
  return { config: { fill }, weights, optimizer, state: { step } };
}

function assertAll(ck: Awaited<ReturnType<typeof loadCheckpoint>>, fill: number): void {
  for (const [name, t] of [...ck.weights, ...(ck.optimizer ?? [])]) assert.ok(t.data.every((x) => x === fill), `${name} is all ${fill}`);
}

async function withFs<T>(fs: FileSystem, fn: () => Promise<T>): Promise<T> {
  const restore = useFileSystem(fs);
  try {
    return await fn();
  } finally {
    restore();
  }
}

describe('disk full (ENOSPC) at each write of a save', () => {
  test('every write of the save fails in turn: clear error, the previous checkpoint loads intact, the next save succeeds', async () => {
    // Count the writes of a save that replaces a checkpoint.
    const probe = fresh();
    await saveCheckpoint(probe, input(1, 1));
    const counting = faultyFs(() => undefined);
    await withFs(counting.fs, () => saveCheckpoint(probe, input(2, 2)));
    const writes = counting.writes();
    const kinds = counting.calls.filter((c) => WRITE_OPS.includes(c.op)).map((c) => c.op);
    assert.ok(writes >= 7, `a save writes the backups, three files and three renames: ${kinds.join(', ')}`);
    for (let i = 0; i < writes; i++) {
      const dir = fresh();
      await saveCheckpoint(dir, input(1, 1));
      const faulty = faultyFs((_call, index) => (index === i ? 'ENOSPC' : undefined));
      const save = withFs(faulty.fs, () => saveCheckpoint(dir, input(2, 2)));
      if (kinds[i] === 'link') {
        // A backup that cannot be hard-linked is copied instead (the copy is the next write): the save goes through.
        await save;
        assertAll(await loadCheckpoint(dir), 2);
      } else {
        await assert.rejects(save, (e: unknown) => {
          assert.ok(e instanceof CheckpointError, String(e));
          assert.match(e.message, /saving step 2 failed \(.*no space left on the device \(ENOSPC\)\); the previous checkpoint, if any, is kept$/);
          assert.doesNotMatch(e.message, /\.tmp/);
          return true;
        }, `write ${i} (${kinds[i]})`);
        const ck = await loadCheckpoint(dir);
        assert.equal(ck.step, 1, `write ${i} (${kinds[i]}): the previous checkpoint is the one that loads`);
        assertAll(ck, 1);
      }
      assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), [], `write ${i}: no partial temporaries left`);
      await saveCheckpoint(dir, input(3, 3));
      const next = await loadCheckpoint(dir);
      assert.equal(next.step, 3);
      assertAll(next, 3);
    }
    // Neither a link nor a copy of the backup can be made: the save stops before replacing anything.
    const dir = fresh();
    await saveCheckpoint(dir, input(1, 1));
    const noBackup = faultyFs((call) => (call.op === 'link' || call.op === 'copyFile' ? 'ENOSPC' : undefined));
    await assert.rejects(withFs(noBackup.fs, () => saveCheckpoint(dir, input(2, 2))), /no space left on the device \(ENOSPC\)\); the previous checkpoint, if any, is kept$/);
    assertAll(await loadCheckpoint(dir), 1);
    assert.deepEqual((await readdir(dir)).sort(), ['checkpoint.json', 'model.safetensors', 'optimizer.safetensors']);
  });

  test('performer train: ENOSPC at the second save is one line, and the first checkpoint resumes', async () => {
    const text = join(root, 'speech.txt');
    await writeFile(text, 'Four score and seven years ago our fathers brought forth on this continent, a new nation. '.repeat(20));
    const out = fresh();
    const flags = ['--data', text, '--out', out, '--layers', '1', '--dim', '8', '--heads', '2', '--seq', '8', '--batch', '1', '--features', '4',
      '--warmup', '1', '--schedule-steps', '20', '--steps', '4', '--eval-interval', '2', '--eval-windows', '1'];
    let saves = 0;
    const faulty = faultyFs((call) => (call.op === 'writeNew' && call.path.includes('model.safetensors') && ++saves === 2 ? 'ENOSPC' : undefined));
    let stderr = '';
    const io: CliIo = { stdout: { write: () => true }, stderr: { write: (s: string) => { stderr += s; } } };
    const code = await withFs(faulty.fs, () => main(['train', ...flags], io));
    assert.equal(code, 2);
    assert.match(stderr.trimEnd().split('\n').at(-1)!, /^performer train: error: .*: saving step 4 failed \(.*model\.safetensors: cannot write: no space left on the device \(ENOSPC\)\); the previous checkpoint, if any, is kept$/);
    assert.equal((await loadCheckpoint(out)).step, 2);
    const again = await main(['train', '--resume', '--data', text, '--out', out], io);
    assert.equal(again, 0, stderr);
    assert.equal((await loadCheckpoint(out)).step, 4);
  });
});

describe('folders that refuse writes', () => {
  for (const code of ['EACCES', 'EROFS'] as const) {
    test(`${code} on every write: a clear error and the checkpoint as it was`, async () => {
      const dir = fresh();
      await saveCheckpoint(dir, input(1, 1));
      const refusing = faultyFs((call) => (WRITE_OPS.includes(call.op) || call.op === 'unlink' ? code : undefined));
      await assert.rejects(withFs(refusing.fs, () => saveCheckpoint(dir, input(2, 2))),
        new RegExp(`saving step 2 failed \\(.*(permission denied|the file system is read-only) \\(${code}\\)\\); the previous checkpoint, if any, is kept$`));
      assertAll(await loadCheckpoint(dir), 1);
      // A new checkpoint folder in a refusing parent.
      await assert.rejects(withFs(refusing.fs, () => saveCheckpoint(join(dir, 'sub'), input(1, 1))),
        new RegExp(`sub: cannot create the checkpoint directory: .* \\(${code}\\)$`));
    });
  }
});

describe('a reader while a save runs', () => {
  test('a save that completes between reading checkpoint.json and the tensor files: the reader returns the new save whole', async () => {
    const dir = fresh();
    await saveCheckpoint(dir, input(1, 1));
    let fired = false;
    const racing: FileSystem = {
      ...nodeFileSystem,
      readFile: async (path) => {
        if (!fired && path.endsWith('model.safetensors')) {
          fired = true; // the reader has read manifest 1; a whole save happens now
          const restore = useFileSystem(nodeFileSystem);
          try {
            await saveCheckpoint(dir, input(2, 2));
          } finally {
            restore();
          }
        }
        return nodeFileSystem.readFile(path);
      },
    };
    const ck = await withFs(racing, () => loadCheckpoint(dir));
    assert.ok(fired);
    assert.equal(ck.step, 2);
    assertAll(ck, 2);
  });

  test('a save that is in the middle of its renames: the reader returns the old save whole (from the backups)', async () => {
    const dir = fresh();
    await saveCheckpoint(dir, input(1, 1));
    let ck: Awaited<ReturnType<typeof loadCheckpoint>> | undefined;
    const pausing: FileSystem = {
      ...nodeFileSystem,
      rename: async (from, to) => {
        await nodeFileSystem.rename(from, to);
        if (ck === undefined && to.endsWith('optimizer.safetensors')) ck = await withFs(nodeFileSystem, () => loadCheckpoint(dir));
      },
    };
    await withFs(pausing, () => saveCheckpoint(dir, input(2, 2)));
    assert.ok(ck);
    assert.equal(ck.step, 1);
    assert.equal(ck.recovered, true);
    assertAll(ck, 1);
  });

  test('a damaged file with an unchanged checkpoint.json is still an error (no endless retry)', async () => {
    const dir = fresh();
    await saveCheckpoint(dir, input(1, 1));
    await writeFile(join(dir, 'model.safetensors'), 'garbage');
    await assert.rejects(loadCheckpoint(dir), CheckpointError);
  });
});
