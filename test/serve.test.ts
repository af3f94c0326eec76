// performer serve: which files it sends (the page's, and of a checkpoint only checkpoint.json and
// model.safetensors), path traversal in every spelling answered 404, request size caps, many
// concurrent requests, the isolation headers, and 127.0.0.1 unless --host.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../src/cli/serve.js';
import { resolveRequestPath, safeSegments } from '../src/cli/serve-files.js';
import { main } from '../src/cli/main.js';
import { assertBuilt, startServe } from './helpers/browser.js';
import { get, makeServeFixture } from './helpers/serve-fixture.js';

describe('performer serve', () => {
  let root: string, page: string, ck: string, server: RunningServer, bare: RunningServer;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'performer-serve-'));
    ({ page, ck } = await makeServeFixture(root));
    server = await startServer({ port: 0, host: '127.0.0.1', checkpoint: ck, pageRoot: page });
    bare = await startServer({ port: 0, host: '127.0.0.1', pageRoot: page });
  });
  after(async () => {
    await server?.close();
    await bare?.close();
    await rm(root, { recursive: true, force: true });
  });

  test('the page and the two checkpoint files, with the cross-origin isolation headers', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/web\/$/);
    const index = await get(server.port, '/web/');
    assert.equal(index.status, 200);
    assert.equal(index.body.toString(), '<!doctype html><p>page</p>');
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(index.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.equal(index.headers['cross-origin-resource-policy'], 'same-origin');
    const root = await get(server.port, '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, '/web/');
    assert.equal((await get(server.port, '/web/main.js?v=1')).headers['content-type'], 'text/javascript; charset=utf-8');
    const model = await get(server.port, '/checkpoint/model.safetensors');
    assert.equal(model.status, 200);
    assert.deepEqual(model.body, Buffer.alloc(100000, 7));
    assert.equal((await get(server.port, '/checkpoint/checkpoint.json')).status, 200);
    const head = await get(server.port, '/checkpoint/model.safetensors', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '100000');
    assert.equal(head.body.length, 0);
  });

  test('nothing else: other checkpoint files, other extensions, no checkpoint given', async () => {
    for (const path of ['/checkpoint/optimizer.safetensors', '/checkpoint/corpus.txt', '/checkpoint/', '/checkpoint/x/model.safetensors', '/checkpoint/model.safetensors/',
      '/web/main.js.map', '/index.d.ts', '/web/missing.js', '/web', '/secret.js']) {
      assert.equal((await get(server.port, path)).status, 404, path);
    }
    assert.equal((await get(bare.port, '/checkpoint/checkpoint.json')).status, 404);
    assert.equal((await get(bare.port, '/checkpoint/model.safetensors')).status, 404);
  });

  test('path traversal in every spelling, and symlinks leading out, are 404', async () => {
    const attempts = [
      '/../secret.js', '/web/../../secret.js', '/web/../index.html', '/%2e%2e/secret.js', '/%2E%2E/secret.js', '/web/%2e%2e/%2e%2e/secret.js',
      '/web/..%2f..%2fsecret.js', '/web/..%2F..%2Fsecret.js', '/..%5csecret.js', '/web/..\\..\\secret.js', '/%252e%252e/secret.js',
      '/web/./index.html', '//secret.js', '/web//main.js', '/web/%00.js', '/web/main.js%00.html', '/web/%zz.js', '/up/secret.js',
      '/web/link.js', '/checkpoint/..%2fsecret.txt', '/checkpoint/%2e%2e/secret.txt', '/checkpoint/../ck/corpus.txt',
      'http://127.0.0.1/web/main.js', '*',
    ];
    for (const path of attempts) {
      const r = await get(server.port, path);
      assert.equal(r.status, 404, `${path}: ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /secret/);
    }
  });

  test('a checkpoint file that is a symlink out of its folder is 404', async () => {
    const linked = join(root, 'linked');
    await mkdir(linked);
    await writeFile(join(linked, 'checkpoint.json'), '{}');
    await symlink(join(root, 'secret.txt'), join(linked, 'model.safetensors'));
    const s = await startServer({ port: 0, host: '127.0.0.1', checkpoint: linked, pageRoot: page });
    try {
      assert.equal((await get(s.port, '/checkpoint/checkpoint.json')).status, 200);
      assert.equal((await get(s.port, '/checkpoint/model.safetensors')).status, 404);
    } finally {
      await s.close();
    }
  });

  test('request size caps: long targets 414, large heads 431, bodies 413, other methods 405', async () => {
    assert.equal((await get(server.port, `/web/${'a'.repeat(3000)}.js`)).status, 414);
    assert.equal((await get(server.port, '/web/', { headers: { 'x-fill': 'b'.repeat(20000) } })).status, 431);
    assert.equal((await get(server.port, '/web/', { method: 'POST', body: 'x'.repeat(10000) })).status, 413);
    const put = await get(server.port, '/web/', { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, HEAD');
  });

  test('200 concurrent requests are all answered', async () => {
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    try {
      const paths = Array.from({ length: 200 }, (_, i) => (i % 2 ? '/checkpoint/model.safetensors' : `/web/main.js?${i}`));
      const replies = await Promise.all(paths.map((p) => get(server.port, p, { agent })));
      replies.forEach((r, i) => {
        assert.equal(r.status, 200, paths[i]);
        assert.equal(r.body.length, i % 2 ? 100000 : 'export {};\n'.length);
      });
    } finally {
      agent.destroy();
    }
  });

  test('request paths are split into safe segments or refused', () => {
    assert.deepEqual(safeSegments('/web/a%20b.js'), ['web', 'a b.js']);
    for (const bad of ['/a/../b', '/a/%2e%2e/b', '/a%2fb', '/a%5cb', '/a%00', '/%', '//a', '/a/./b', 'a']) assert.equal(safeSegments(bad), undefined, bad);
  });

  test('resolveRequestPath finds only files under the roots', async () => {
    const roots = { page, checkpoint: ck };
    assert.equal((await resolveRequestPath('/web/main.js', roots))?.type, 'text/javascript; charset=utf-8');
    assert.equal(await resolveRequestPath('/up/secret.js', roots), undefined);
    assert.equal(await resolveRequestPath('/', roots), undefined);
  });

  test('the command: 127.0.0.1 by default, prints the URL; bad flags and folders fail in one line', async () => {
    assertBuilt();
    const s = await startServe();
    try {
      assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/web\/$/);
      assert.equal((await get(Number(new URL(s.url).port), '/web/')).status, 200);
    } finally {
      await s.stop();
    }
    const err: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) } };
    assert.equal(await main(['serve', '--port', '70000'], io), 2);
    assert.match(err.join(''), /^performer serve: error: --port: .*65535/);
    err.length = 0;
    assert.equal(await main(['serve', '--port', '0', '--checkpoint', join(root, 'nowhere')], io), 2);
    assert.equal(err.join(''), `performer serve: error: --checkpoint ${join(root, 'nowhere')}: no checkpoint.json there (a folder written by performer train or npm start) (see performer serve --help)\n`);
  });
});
