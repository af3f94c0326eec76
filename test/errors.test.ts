// No raw Node error reaches the user: every command's file errors (a missing folder, a folder that
// refuses writes, a full disk, a path through a file) are one line naming the path the user gave.
// Faults a root test cannot make with chmod come from the injectable file system (test/fault-fs.ts).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeSafetensors } from '../src/io/safetensors.js';
import { useFileSystem } from '../src/io/fs-node.js';
import { Tensor } from '../src/tensor/tensor.js';
import { faultyFs } from './fault-fs.js';
import { runCli as run, type CliResult as Result } from './helpers/cli.js';

let dir: string;
let input: string;
let textFile: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performer-errors-'));
  input = join(dir, 'in.safetensors');
  const t = (seed: number): Tensor => {
    const x = new Tensor([1, 1, 4, 2]);
    for (let i = 0; i < x.size; i++) x.data[i] = Math.sin(seed + i);
    return x;
  };
  await writeFile(input, encodeSafetensors(new Map([['q', t(1)], ['k', t(2)], ['v', t(3)]])));
  textFile = join(dir, 'speech.txt');
  await writeFile(textFile, 'Four score and seven years ago our fathers brought forth on this continent, a new nation. '.repeat(20));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});


/** Exit 2, one line `performer <cmd>: error: …` matching `pattern`, no raw Node error text, no temporary file name. */
function expectError(r: Result, cmd: string, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, new RegExp(`^performer ${cmd}: error: `));
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(lines[0]!, /\.tmp\b/, 'no temporary file name');
  assert.doesNotMatch(lines[0]!, /E[A-Z]+: [a-z ]+, (open|rename|mkdir|write|link|unlink) '/, 'no raw Node error');
}

async function noTemps(folder: string): Promise<void> {
  const names = existsSync(folder) ? await readdir(folder) : [];
  assert.deepEqual(names.filter((n) => n.endsWith('.tmp')), [], `no temporaries left in ${folder}`);
}

const ATT = ['--features', '4'];
const TINY = ['--layers', '1', '--dim', '8', '--heads', '2', '--seq', '8', '--batch', '1', '--features', '4', '--warmup', '1', '--schedule-steps', '20'];

describe('file errors on the command line', () => {
  test('attention --out into a folder that does not exist: says so, names no temporary file', async () => {
    const out = join(dir, 'nodir', 'o.safetensors');
    const r = await run(['attention', '--in', input, '--out', out, ...ATT]);
    expectError(r, 'attention', new RegExp(`${out.replace(/[.]/g, '\\.')}: cannot write: the folder .*nodir does not exist$`));
    assert.ok(!existsSync(join(dir, 'nodir')));
  });

  test('attention --out through a file, or onto a folder', async () => {
    expectError(await run(['attention', '--in', input, '--out', join(input, 'o.safetensors'), ...ATT]), 'attention', /in\.safetensors is not a folder$/);
    const folder = join(dir, 'a-folder');
    await mkdir(join(folder, 'o.safetensors'), { recursive: true });
    await writeFile(join(folder, 'o.safetensors', 'x'), 'x');
    expectError(await run(['attention', '--in', input, '--out', join(folder, 'o.safetensors'), ...ATT]), 'attention', /o\.safetensors: cannot write: .*\((EISDIR|ENOTEMPTY|EEXIST)\)$/);
    await noTemps(folder);
  });

  for (const [code, words] of [['EACCES', 'permission denied'], ['EROFS', 'the file system is read-only'], ['ENOSPC', 'no space left on the device']] as const) {
    test(`attention and approx --plot when the folder refuses writes: ${code}`, async () => {
      const folder = join(dir, `refusing-${code}`);
      await mkdir(folder);
      const restore = useFileSystem(faultyFs((c) => (c.op === 'writeNew' ? code : undefined)).fs);
      try {
        const out = join(folder, 'o.safetensors');
        expectError(await run(['attention', '--in', input, '--out', out, ...ATT]), 'attention', new RegExp(`o\\.safetensors: cannot write: ${words} \\(${code}\\)$`));
        expectError(await run(['approx', '--d', '4', '--L', '8', '--features', '4', '--samples', '1', '--plot', join(folder, 'p.svg')]), 'approx', new RegExp(`p\\.svg: cannot write: ${words} \\(${code}\\)$`));
      } finally {
        restore();
      }
      await noTemps(folder);
      assert.deepEqual(await readdir(folder), []);
    });
  }

  test('train --out in a folder that refuses writes (EROFS): one line, naming the folder', async () => {
    const out = join(dir, 'ro', 'run');
    await mkdir(join(dir, 'ro'));
    const restore = useFileSystem(faultyFs((c) => (c.op === 'mkdir' || c.op === 'writeNew' ? 'EROFS' : undefined)).fs);
    try {
      expectError(await run(['train', '--data', textFile, '--out', out, ...TINY, '--steps', '2']), 'train', /ro\/run: cannot create the directory: the file system is read-only \(EROFS\)$/);
    } finally {
      restore();
    }
  });

  test('train --data that is a folder, and eval --checkpoint that is a file', async () => {
    expectError(await run(['train', '--data', dir, '--out', join(dir, 'r1'), ...TINY]), 'train', /cannot read \(is a directory\)/);
    assert.ok(!existsSync(join(dir, 'r1')), 'a failed run leaves neither its lock nor the folder the lock created');
    expectError(await run(['eval', '--checkpoint', textFile, '--data', textFile]), 'eval', /speech\.txt/);
    expectError(await run(['generate', '--checkpoint', join(dir, 'none'), '--prompt', 'x']), 'generate', /no such checkpoint directory/);
  });

  test('eval on a checkpoint whose checkpoint.json cannot be read (EACCES)', async () => {
    const ck = join(dir, 'ck');
    const r0 = await run(['train', '--data', textFile, '--out', ck, ...TINY, '--steps', '2']);
    assert.equal(r0.code, 0, r0.stderr);
    const restore = useFileSystem(faultyFs((c) => (c.op === 'readFile' ? 'EACCES' : undefined)).fs);
    try {
      expectError(await run(['eval', '--checkpoint', ck, '--data', textFile]), 'eval', /checkpoint\.json: cannot read: permission denied \(EACCES\)$/);
    } finally {
      restore();
    }
  });
});
