// `performer bench` on tiny cases: the JSON fields of a measured case, and a case that cannot run
// (its inputs exceed the 4 GiB of a wasm32 memory) reported as "error" while the run goes on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caseFlops } from '../src/cli/bench-case.js';
import { runCli as run } from './helpers/cli.js';


const IMPOSSIBLE_L = 2 ** 28; // q alone: 2^28 positions × d 8 × 4 bytes = 8 GiB

test('--json: one line per case with the documented fields; an impossible case is an "error" row and the run goes on', async () => {
  // --exact-max-L above the impossible L: exact must really try (and fail in its child), not be skipped
  const shape = ['--heads', '1', '--d', '8', '--features', '8', '--batch', '1', '--threads', '1', '--seconds', '0.05', '--exact-max-L', `${2 * IMPOSSIBLE_L}`];
  const r = await run(['bench', '--impl', 'favor,exact', '--mode', 'causal', '--L', `${IMPOSSIBLE_L},64`, ...shape, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(rows.map((x) => [x.impl, x.L]), [['favor', IMPOSSIBLE_L], ['favor', 64], ['exact', IMPOSSIBLE_L], ['exact', 64]]);
  const common = { engine: 'wasm', mode: 'causal', heads: 1, d: 8, features: 8, batch: 1, threads: 1, backward: false };
  for (const row of rows) {
    for (const [k, v] of Object.entries(common)) assert.equal(row[k], v, `${row.impl} L=${row.L}: ${k}`);
    if (row.L === IMPOSSIBLE_L) {
      assert.equal(typeof row.error, 'string', `${row.impl} at L=2^28 must fail`);
      assert.match(row.error as string, /GiB|MiB|memory|heap/, `${row.impl}: the error says what ran out`);
      for (const k of ['ms', 'gflops', 'peak_mb', 'backend']) assert.equal(row[k], undefined, `an error row has no ${k}`);
      continue;
    }
    assert.equal(row.error, undefined, `${row.impl} L=64: ${String(row.error)}`);
    assert.deepEqual(Object.keys(row).sort(), [...Object.keys(common), 'impl', 'L', 'ms', 'gflops', 'peak_mb', 'backend'].sort());
    const ms = row.ms as number;
    assert.ok(ms > 0 && Number.isFinite(ms));
    const flops = caseFlops({ impl: row.impl as 'favor' | 'exact', mode: 'causal', L: 64, heads: 1, d: 8, features: 8, batch: 1 });
    assert.ok(Math.abs((row.gflops as number) - flops / (ms * 1e6)) <= 1e-9 * flops / (ms * 1e6), 'gflops = flops / time');
    assert.ok((row.peak_mb as number) > 0);
    assert.match(row.backend as string, /^wasm-(relaxed|simd) x1$/);
  }
  // the table says so too
  const t = await run(['bench', '--impl', 'exact', '--mode', 'causal', '--L', `${IMPOSSIBLE_L}`, ...shape]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, new RegExp(`^exact\\s+causal\\s+${IMPOSSIBLE_L}\\s+1\\s+8\\s+8\\s+1\\s+1\\s+error: `, 'm'));
});
