// Fuzzing `performer serve`'s request paths (fast-check, fixed seed; more cases under npm run fuzz):
// paths of segments built from traversal pieces (dot segments, their percent-encodings, encoded slashes and
// backslashes, NUL, double encoding, symlinked names) and arbitrary URL-safe text, sent as they
// are. Property: the answer is 200, 302 (only for /), 404 or 414; a 200 carries exactly one of the
// files meant to be served, found under the name it was asked by; nothing else ever leaves.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startServer, type RunningServer } from '../src/cli/serve.js';
import { FORBIDDEN, get, makeServeFixture, MANIFEST_TEXT, MODEL_BYTES, SERVED } from './helpers/serve-fixture.js';
import { cases, fuzz } from './fuzz-harness.js';

/** File and folder names of the fixture, served or not. */
const NAMES = ['web', 'index.html', 'main.js', 'main.js.map', 'link.js', 'up', 'secret.js', 'secret.txt', 'dist', 'ck', 'checkpoint',
  'checkpoint.json', 'model.safetensors', 'optimizer.safetensors', 'corpus.txt', 'index.d.ts'];
/** Ways out of a folder, and separators, plainly and percent-encoded (once and twice). */
const TRICKS = ['..', '.', '%2e', '%2E', '%2e%2e', '.%2e', '%2f', '%2F', '%5c', '%5C', '\\', '%00', '%25', '%252e', '%', ';', ''];

const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 3, arbitrary: fc.constantFrom(...TRICKS) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...NAMES, ...TRICKS), { minLength: 2, maxLength: 3 }).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,12}$/) },
);
const paths = fc.tuple(fc.array(segment, { maxLength: 6 }), fc.constantFrom('', '/', '?x=1', '#f', '/..')).map(([segments, tail]) => `/${segments.join('/')}${tail}`);

let root: string, server: RunningServer, agent: Agent;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'performer-fuzz-serve-'));
  const { page, ck } = await makeServeFixture(root);
  server = await startServer({ port: 0, host: '127.0.0.1', checkpoint: ck, pageRoot: page });
  agent = new Agent({ keepAlive: true });
});
after(async () => {
  agent?.destroy();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

test('serve: every request path gets a page file, a checkpoint file or a 404, nothing else', async () => {
  const expected = new Map<string, Buffer>([
    ...Object.entries(SERVED).map(([name, text]) => [name, Buffer.from(text)] as const),
    ['checkpoint/checkpoint.json', Buffer.from(MANIFEST_TEXT)],
    ['checkpoint/model.safetensors', MODEL_BYTES],
  ]);
  await fuzz('serve-paths', paths, async (path) => {
    const r = await get(server.port, path, { agent });
    assert.ok([200, 302, 404, 414].includes(r.status), `${path}: status ${r.status}`);
    const body = r.body.toString();
    if (r.status === 302) assert.equal(path.split(/[?#]/, 1)[0], '/');
    if (r.status !== 200) return assert.ok(!FORBIDDEN.some((f) => body.includes(f)), `${path}: ${body}`);
    // A 200 names its file plainly: the raw path, its query dropped, is one of the served names.
    const name = decodeURIComponent(path.split(/[?#]/, 1)[0]!.slice(1)).replace(/\/$/, '/index.html');
    assert.ok(expected.has(name), `${path}: 200 for ${JSON.stringify(name)}`);
    assert.deepEqual(r.body, expected.get(name));
  }, cases(1500));
});
