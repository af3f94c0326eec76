// A page root and a checkpoint folder for the `performer serve` tests, with things the server must
// never send beside them: files outside both roots, a symlink out of the page root, a folder
// symlink up, a source map, a declaration file, the optimizer state and a corpus.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { request, type Agent } from 'node:http';
import { join } from 'node:path';

export const SERVED = {
  'web/index.html': '<!doctype html><p>page</p>',
  'web/main.js': 'export {};\n',
} as const;
export const MODEL_BYTES = Buffer.alloc(100000, 7);
export const MANIFEST_TEXT = '{"format":"performer-checkpoint"}';
/** Contents that must never appear in a response. */
export const FORBIDDEN = ['secret', 'moments', 'corpus', '{}'];

export async function makeServeFixture(root: string): Promise<{ page: string; ck: string }> {
  const page = join(root, 'dist'), ck = join(root, 'ck');
  await mkdir(join(page, 'web'), { recursive: true });
  await mkdir(ck);
  for (const [name, text] of Object.entries(SERVED)) await writeFile(join(page, name), text);
  await writeFile(join(page, 'web', 'main.js.map'), '{}');
  await writeFile(join(page, 'index.d.ts'), 'export {};');
  await writeFile(join(root, 'secret.js'), 'secret');
  await writeFile(join(root, 'secret.txt'), 'secret');
  await symlink(join(root, 'secret.js'), join(page, 'web', 'link.js'));
  await symlink(root, join(page, 'up'));
  await writeFile(join(ck, 'checkpoint.json'), MANIFEST_TEXT);
  await writeFile(join(ck, 'model.safetensors'), MODEL_BYTES);
  await writeFile(join(ck, 'optimizer.safetensors'), 'moments');
  await writeFile(join(ck, 'corpus.txt'), 'corpus');
  return { page, ck };
}

export interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** One request with the path sent exactly as given (no normalisation by a URL parser). */
export function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string; agent?: Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
