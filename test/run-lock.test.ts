// The run lock on a checkpoint directory (src/io/run-lock-node.ts) and the CLI commands that take it.
// Real processes: a train run in a child process holds the lock while a second run is refused.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadCheckpoint } from '../src/io/checkpoint-node.js';
import { acquireRunLock, EXIT_LOCKED, LOCK_FILE, RunLockError } from '../src/io/run-lock-node.js';
import { runCli as run } from './helpers/cli.js';

const repoRoot = resolve(import.meta.dirname, '..');
let dir: string;
let textFile: string;
let n = 0;
const fresh = (): string => join(dir, `run-${n++}`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performer-lock-'));
  textFile = join(dir, 'speech.txt');
  await writeFile(textFile, 'Four score and seven years ago our fathers brought forth on this continent, a new nation. '.repeat(20));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});


const TINY = ['--layers', '1', '--dim', '8', '--heads', '2', '--seq', '8', '--batch', '1', '--features', '4', '--warmup', '1', '--schedule-steps', '20'];

/** `performer train` in a child process; resolves once it has printed its first evaluation (a checkpoint exists). */
async function trainInChild(out: string, extra: string[] = []): Promise<ChildProcess & { stderrText: () => string }> {
  const code = `const { main } = await import(${JSON.stringify(join(repoRoot, 'src/cli/main.ts'))}); process.exitCode = await main(process.argv.slice(1));`;
  const args = ['train', '--data', textFile, '--out', out, ...TINY, '--steps', '1000000', '--eval-interval', '1', '--eval-windows', '1', '--json', ...extra];
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((res, rej) => {
    proc.stdout!.once('data', () => res());
    proc.once('exit', (c) => rej(new Error(`child train exited (${c}) early: ${stderr}`)));
  });
  return Object.assign(proc, { stderrText: () => stderr });
}

function exitOf(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((res) => proc.once('exit', (code, signal) => res({ code, signal })));
}

describe('run lock (library)', () => {
  test('one holder at a time; the refusal names the holder; release frees it and leaves no file', async () => {
    const out = fresh();
    const lock = await acquireRunLock(out, { command: 'test one' });
    assert.ok(existsSync(join(out, LOCK_FILE)));
    const held = JSON.parse(await readFile(join(out, LOCK_FILE), 'utf8')) as Record<string, unknown>;
    assert.equal(held.pid, process.pid);
    assert.equal(held.host, hostname());
    assert.ok(!Number.isNaN(Date.parse(held.started as string)));
    await assert.rejects(acquireRunLock(out), (e: unknown) => {
      assert.ok(e instanceof RunLockError);
      assert.equal(e.exitCode, EXIT_LOCKED);
      assert.match(e.message, new RegExp(`pid ${process.pid} on host .*\\(test one\\)`));
      return true;
    });
    await lock.release();
    assert.ok(!existsSync(out), 'a directory the lock created and the run left empty is removed');
    const again = await acquireRunLock(out);
    await again.release();
  });

  test('release never removes a lock that is not its own', async () => {
    const out = fresh();
    const lock = await acquireRunLock(out);
    const foreign = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: 'other', token: 'f00d' };
    await writeFile(join(out, LOCK_FILE), JSON.stringify(foreign));
    await lock.release();
    assert.equal(JSON.parse(await readFile(join(out, LOCK_FILE), 'utf8')).token, 'f00d');
  });

  test('a lock file that is not JSON is refused while fresh (its writer may be mid-create)', async () => {
    const out = fresh();
    await mkdir(out);
    await writeFile(join(out, LOCK_FILE), '');
    await assert.rejects(acquireRunLock(out), /taking the lock right now/);
  });
});

describe('run lock (CLI)', () => {
  test('a second train on the same --out while the first runs: exit 75, names the holder, writes nothing', async () => {
    const out = fresh();
    const first = await trainInChild(out);
    try {
      const before = await loadCheckpoint(out).catch(() => undefined);
      assert.ok(before, 'the first run has saved');
      const r = await run(['train', '--data', textFile, '--out', out, '--resume', '--steps', '5']);
      assert.equal(r.code, EXIT_LOCKED, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^performer train: error: .*another run is writing this checkpoint directory: pid ${first.pid} on host ${hostname()}, started .*performer train`));
      // A new run (no --resume) on that directory is refused the same way, before any other check.
      const r2 = await run(['train', '--data', textFile, '--out', out, ...TINY, '--steps', '2']);
      assert.equal(r2.code, EXIT_LOCKED, r2.stderr);
      // Readers need no lock: eval and generate load a consistent checkpoint while the run saves at every step.
      for (let i = 0; i < 5; i++) {
        const e = await run(['eval', '--checkpoint', out, '--data', textFile, '--json']);
        assert.equal(e.code, 0, e.stderr);
        const g = await run(['generate', '--checkpoint', out, '--prompt', 'Four', '--tokens', '4', '--json']);
        assert.equal(g.code, 0, g.stderr);
      }
    } finally {
      const done = exitOf(first);
      first.kill('SIGTERM');
      const { signal } = await done;
      assert.equal(signal, 'SIGTERM');
    }
    assert.ok(!existsSync(join(out, LOCK_FILE)), 'SIGTERM removes the lock');
    await loadCheckpoint(out);
  });

  test('Ctrl-C: train saves at the current step, exits 130 and removes the lock', async () => {
    const out = fresh();
    const child = await trainInChild(out);
    const done = exitOf(child);
    child.kill('SIGINT');
    const { code } = await done;
    assert.equal(code, 130, child.stderrText());
    assert.match(child.stderrText(), /interrupted at step \d+/);
    assert.ok(!existsSync(join(out, LOCK_FILE)));
    const r = await run(['train', '--data', textFile, '--out', out, '--resume', '--steps', String((await loadCheckpoint(out)).step + 1)]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('a stale lock (its process is gone, this host) is broken with a warning', async () => {
    const out = fresh();
    const dead = spawn(process.execPath, ['-e', '']);
    await exitOf(dead);
    await mkdir(out);
    await writeFile(join(out, LOCK_FILE), JSON.stringify({ pid: dead.pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'performer train', token: 'dead' }));
    const r = await run(['train', '--data', textFile, '--out', out, ...TINY, '--steps', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`warning: .*performer\\.lock: breaking the lock of a run that is gone \\(pid ${dead.pid} on host`));
    assert.ok(!existsSync(join(out, LOCK_FILE)));
  });

  test('a lock from another host: refused with a hint to --force; --force breaks it', async () => {
    const out = fresh();
    await mkdir(out);
    const other = { pid: 4242, host: 'another-host.invalid', started: '2026-01-01T00:00:00.000Z', command: 'performer showcase', token: 'far' };
    await writeFile(join(out, LOCK_FILE), JSON.stringify(other));
    const r = await run(['train', '--data', textFile, '--out', out, ...TINY, '--steps', '2']);
    assert.equal(r.code, EXIT_LOCKED);
    assert.match(r.stderr, /pid 4242 on host another-host\.invalid, started 2026-01-01T00:00:00\.000Z \(performer showcase\).*pass --force to break the lock/);
    const forced = await run(['train', '--data', textFile, '--out', out, ...TINY, '--steps', '2', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /warning: .*breaking the lock of pid 4242 on host another-host\.invalid/);
  });

  test('showcase takes the lock on its --out too', async () => {
    const out = fresh();
    const lock = await acquireRunLock(out, { command: 'performer train' });
    try {
      const r = await run(['showcase', '--out', out, '--steps', '1']);
      assert.equal(r.code, EXIT_LOCKED, r.stderr);
      assert.equal(r.stdout, '', 'refused before it trains or writes anything');
      assert.match(r.stderr, new RegExp(`^performer showcase: error: .*another run is writing this checkpoint directory: pid ${process.pid}.*\\(performer train\\)`));
    } finally {
      await lock.release();
    }
  });

  test('import takes the lock on its --out', async () => {
    const out = fresh();
    const fixture = join(repoRoot, 'test/fixtures/performer-pytorch/shift-tied');
    const args = ['import', '--from', join(fixture, 'model.pt'), '--config', join(fixture, 'config.json'), '--out', out];
    const lock = await acquireRunLock(out, { command: 'performer train' });
    try {
      const r = await run(args);
      assert.equal(r.code, EXIT_LOCKED, r.stderr);
      assert.match(r.stderr, /^performer import: error: .*another run is writing this checkpoint directory/);
    } finally {
      await lock.release();
    }
    const ok = await run(args);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(!existsSync(join(out, LOCK_FILE)));
    await loadCheckpoint(out);
  });

  test('--out that is a file: one-line error, exit 2', async () => {
    const r = await run(['train', '--data', textFile, '--out', textFile, ...TINY]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^performer train: error: .*speech\.txt: exists and is not a directory\n$/);
  });
});
