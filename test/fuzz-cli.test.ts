// Fuzzing the command line: the flag parser against the real `performer train` flags and a spec of
// every flag type, and main() itself with random argument lists for every command that reads files.
// Property: parseArgs returns values that honour every flag's spec, or throws UsageError; main never
// throws, and what it prints on failure is one line `performer <cmd>: error: …` with no internals.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { defineFlags, parseArgs, UsageError, type FlagSpecs } from '../src/cli/args.js';
import { main, type CliIo } from '../src/cli/main.js';
import { trainFlags } from '../src/cli/train.js';
import { cases, fuzz, onlyThrows } from './fuzz-harness.js';

let tmp: string;
let cwd: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'performer-fuzz-cli-'));
  await writeFile(join(tmp, 'empty.txt'), '');
  await writeFile(join(tmp, 'notes.txt'), 'not a safetensors file and not a checkpoint\n');
  cwd = process.cwd();
  process.chdir(tmp); // relative --out paths land here
});
after(async () => {
  process.chdir(cwd);
  await rm(tmp, { recursive: true, force: true });
});

const EVERY_TYPE = defineFlags({
  flag: { type: 'boolean', help: '' },
  x: { type: 'number', min: -1, max: 10, help: '' },
  p: { type: 'number', positive: true, help: '' },
  n: { type: 'int', min: 0, max: 100, default: 3, help: '' },
  list: { type: 'ints', min: 1, help: '' },
  name: { type: 'string', required: true, help: '' },
  mode: { type: 'enum', values: ['a', 'b'], default: 'a', help: '' },
});

const VALUES = ['', '0', '-1', '1.5', '1e3', '1e400', 'NaN', 'Infinity', '0x10', ' 7 ', '1,2,3', '1,,2', 'true', 'false', 'a', 'b', 'héllo', '--', '-', '=', '-h'];

function argvFor(specs: FlagSpecs): fc.Arbitrary<string[]> {
  const names = [...Object.keys(specs), 'unknown', 'help', ''];
  return fc.array(fc.oneof(
    fc.constantFrom(...names).map((n) => `--${n}`),
    fc.tuple(fc.constantFrom(...names), fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 6 }))).map(([n, v]) => `--${n}=${v}`),
    fc.constantFrom(...VALUES),
    fc.string({ maxLength: 6 }),
  ), { maxLength: 8 });
}

/** Values that parseArgs returned honour their specs. */
function honours(specs: FlagSpecs, flags: Record<string, unknown>): void {
  for (const [name, spec] of Object.entries(specs)) {
    const v = flags[name];
    const inRange = (x: number): boolean => (spec.type === 'number' || spec.type === 'int' || spec.type === 'ints')
      && (spec.min === undefined || x >= spec.min) && (spec.max === undefined || x <= spec.max) && (spec.type !== 'number' || !spec.positive || x > 0);
    switch (spec.type) {
      case 'boolean': assert.equal(typeof v, 'boolean', name); break;
      case 'number': if (v !== undefined) assert.ok(Number.isFinite(v) && inRange(v as number), `${name} = ${String(v)}`); break;
      case 'int': if (v !== undefined) assert.ok(Number.isSafeInteger(v) && inRange(v as number), `${name} = ${String(v)}`); break;
      case 'ints': if (v !== undefined) assert.ok(Array.isArray(v) && v.length > 0 && v.every((x) => Number.isSafeInteger(x) && inRange(x)), `${name} = ${String(v)}`); break;
      case 'enum': if (v !== undefined) assert.ok(spec.values.includes(v as string), `${name} = ${String(v)}`); break;
      case 'string':
        if (spec.required) assert.equal(typeof v, 'string', name);
        if (v !== undefined) assert.ok(typeof v === 'string' && v !== '', name);
        break;
    }
  }
}

describe('fuzz: command line', () => {
  for (const [label, specs] of [['every flag type', EVERY_TYPE], ['performer train', trainFlags]] as const) {
    test(`flag parser (${label}): values honour their specs, or UsageError`, async () => {
      await fuzz(`args-${label.replace(/\W+/g, '-')}`, argvFor(specs), async (argv) => {
        const parsed = await onlyThrows([UsageError], () => parseArgs(argv, specs));
        if (parsed && !parsed.help) honours(specs, parsed.flags as Record<string, unknown>);
      }, cases(500));
    });
  }

  test('main: random arguments to attention, train, eval, generate (and unknown commands) fail in one clean line', async () => {
    const paths = ['missing/x', '.', 'empty.txt', 'notes.txt', '/dev/null', 'out-dir', 'nodir/out.safetensors'];
    const flagNames = ['in', 'out', 'data', 'checkpoint', 'prompt', 'kernel', 'features', 'steps', 'tokens', 'format', 'model', 'dim', 'heads',
      'resume', 'force', 'json', 'seed', 'threads', 'engine', 'causal', 'init-from', 'temperature'];
    const token = fc.oneof(
      fc.constantFrom(...flagNames).map((n) => `--${n}`),
      fc.tuple(fc.constantFrom(...flagNames), fc.constantFrom(...paths, ...VALUES)).map(([n, v]) => `--${n}=${v}`),
      fc.constantFrom(...paths, ...VALUES),
    );
    const argv = fc.tuple(fc.constantFrom('attention', 'train', 'eval', 'generate', 'nope', '--bogus', ''), fc.array(token, { maxLength: 8 }))
      .map(([cmd, rest]) => [cmd, ...rest].filter((a) => !(a === '-h' || a === '--help')));
    await fuzz('cli-main', argv, async (args) => {
      let stdout = '', stderr = '';
      const io: CliIo = { stdout: { write: (s: string) => { stdout += s; } }, stderr: { write: (s: string) => { stderr += s; } } };
      const code = await main(args, io);
      assert.ok(code === 2 || code === 75, `exit ${code} for ${JSON.stringify(args)}: ${stdout}${stderr}`);
      if (args[0] === '') return; // no command: the usage text
      const lines = stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line: ${stderr}`);
      assert.match(lines[0]!, /^performer( [a-z]+)?: error: /);
      assert.doesNotMatch(lines[0]!, /TypeError|ReferenceError|RangeError: (?!.*wasm)|Cannot read prop|is not a function|undefined|\.tmp\b|E[A-Z]+: [a-z ]+, [a-z]+ '/, lines[0]);
    }, cases(150));
  });
});
