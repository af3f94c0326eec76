// `performer serve`: the playground page (built into dist/web/ by `npm run build`) over HTTP, with
// the headers that make the page cross-origin isolated (COOP/COEP), so that SharedArrayBuffer and
// with it the threaded wasm engine are available there. Files: see serve-files.ts. Binds 127.0.0.1
// unless --host says otherwise; works offline (the page fetches nothing from anywhere else).

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineFlags, formatUsage, parseArgs, UsageError } from './args.js';
import type { CliIo, Command } from './command.js';
import { CHECKPOINT_TYPES, resolveRequestPath, type FileRoots } from './serve-files.js';

/** Longest request target accepted (414 beyond). */
export const MAX_URL_BYTES = 2048;
/** Largest request head (Node answers 431 beyond). */
export const MAX_HEADER_BYTES = 16384;

/** dist/ seen from this file: the same relative location from src/cli/ and dist/cli/. */
export const PAGE_ROOT = fileURLToPath(new URL('../../dist/', import.meta.url));
export const PAGE_PATH = '/web/';

/** Sent with every response: cross-origin isolation (COOP + COEP), and nothing for other origins. */
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
} as const;

export interface ServeOptions {
  port: number;
  host: string;
  checkpoint?: string;
  /** The built page and library (default PAGE_ROOT). */
  pageRoot?: string;
}

export interface RunningServer {
  /** The page's address, e.g. http://127.0.0.1:8080/web/ */
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse, roots: FileRoots): Promise<void> {
  const target = req.url ?? '';
  if (Buffer.byteLength(target) > MAX_URL_BYTES) return reply(res, 414, `request target over ${MAX_URL_BYTES} bytes\n`, { Connection: 'close' });
  // Requests carry no body here: refuse one unread rather than buffer it.
  const length = req.headers['content-length'];
  if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
    return reply(res, 413, 'request bodies are not accepted\n', { Connection: 'close' });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
  // The raw path, before any normalisation of dot segments (serve-files refuses them).
  const pathname = target.split(/[?#]/, 1)[0]!;
  if (pathname === '/') return reply(res, 302, `see ${PAGE_PATH}\n`, { Location: PAGE_PATH });
  const file = await resolveRequestPath(pathname, roots);
  if (!file) return reply(res, 404, 'not found\n');
  res.writeHead(200, { ...HEADERS, 'Content-Type': file.type, 'Content-Length': file.size });
  if (req.method === 'HEAD') return void res.end();
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

async function checkCheckpoint(dir: string): Promise<void> {
  for (const name of Object.keys(CHECKPOINT_TYPES)) {
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new UsageError(`--checkpoint ${dir}: no ${name} there (a folder written by performer train or npm start)`);
  }
}

/** Starts the server; resolves once it listens (port 0: a free port, reported in `port` and `url`). */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const page = opts.pageRoot ?? PAGE_ROOT;
  const index = await stat(join(page, 'web', 'index.html')).catch(() => undefined);
  if (!index?.isFile()) throw new Error(`the page is not built (no ${join(page, 'web', 'index.html')}); run npm run build`);
  if (opts.checkpoint !== undefined) await checkCheckpoint(opts.checkpoint);
  const roots: FileRoots = { page, ...(opts.checkpoint !== undefined ? { checkpoint: opts.checkpoint } : {}) };
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    handle(req, res, roots).catch(() => {
      if (!res.headersSent) reply(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(new Error(e.code === 'EADDRINUSE' ? `port ${opts.port} on ${opts.host} is in use (--port 0 picks a free one)`
        : `cannot listen on ${opts.host}:${opts.port} (${e.code ?? e.message})`));
    });
    server.listen(opts.port, opts.host, resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}${PAGE_PATH}`,
    port,
    server,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

const flags = defineFlags({
  port: { type: 'int', min: 0, max: 65535, default: 8080, help: 'TCP port (0: a free one)' },
  host: { type: 'string', default: '127.0.0.1', help: 'address to bind (0.0.0.0 exposes the page to the network)' },
  checkpoint: { type: 'string', metavar: 'DIR', help: "a checkpoint for the generation panel (only its checkpoint.json and model.safetensors are served)" },
});

const description = `
Serves the playground page: FAVOR+ against exact attention (approximation error, speed on this
device) and text generation from a checkpoint, all computed in the browser by the library's browser
entry on the wasm engine (threaded: the page is cross-origin isolated). Prints the URL; Ctrl-C stops.`;

export function serveUsage(): string {
  return formatUsage('performer serve [--port 8080] [--host 127.0.0.1] [--checkpoint DIR]', description, flags);
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, flags);
  if (parsed.help) {
    io.stdout.write(serveUsage());
    return 0;
  }
  const f = parsed.flags;
  const running = await startServer({ port: f.port, host: f.host, ...(f.checkpoint !== undefined ? { checkpoint: f.checkpoint } : {}) });
  io.stdout.write(`${running.url}\n`);
  io.stderr.write(`performer serve: serving the playground${f.checkpoint !== undefined ? ` and ${f.checkpoint}` : ''} on ${f.host}; Ctrl-C stops\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void running.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the playground page (FAVOR+ in the browser) on 127.0.0.1',
  usage: serveUsage,
  run,
};
