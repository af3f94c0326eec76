// Shared by the browser tests and scripts/playground-screenshots.ts: the headless browser (Debian's
// chromium-headless-shell through puppeteer-core), `performer serve` as a child process, and a check
// that dist/ (what serve sends) is built from the current sources.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const REPO = new URL('../../', import.meta.url).pathname;
export const INSTALL_HINT = 'apt-get update && apt-get install -y chromium-headless-shell';
const CANDIDATES = ['/usr/bin/chromium-headless-shell', '/usr/lib/chromium/chromium-headless-shell'];

/** The browser binary: $PERFORMER_BROWSER, else Debian's chromium-headless-shell; undefined if absent. */
export function findBrowser(): string | undefined {
  const env = process.env.PERFORMER_BROWSER;
  if (env) return existsSync(env) ? env : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/**
 * Why the browser tests cannot run here, or undefined when they can. With CI=true a missing browser
 * is an error (the tests fail) rather than a skip.
 */
export function browserSkipReason(): string | undefined {
  if (findBrowser()) return undefined;
  const why = `no headless browser (${process.env.PERFORMER_BROWSER ?? CANDIDATES[0]} not found); install it with: ${INSTALL_HINT}`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${why}`);
  return why;
}

/** A fresh headless browser with its own profile; WebGPU allowed, nothing phoning home. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findBrowser();
  if (!executablePath) throw new Error(`no headless browser; install it with: ${INSTALL_HINT}`);
  const profile = await mkdtemp(join(tmpdir(), 'performer-browser-'));
  return puppeteer.launch({
    executablePath,
    headless: 'shell',
    userDataDir: profile,
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--enable-unsafe-webgpu',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  });
}

function newestMtime(dir: string, keep: (name: string) => boolean): { path: string; mtime: number } {
  let best = { path: '', mtime: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'assembly') continue; // compiled into generated/ by build:wasm
      const sub = newestMtime(p, keep);
      if (sub.mtime > best.mtime) best = sub;
    } else if (keep(e.name)) {
      const m = statSync(p).mtimeMs;
      if (m > best.mtime) best = { path: p, mtime: m };
    }
  }
  return best;
}

/** Throws when a source file is newer than the build (serve would send an old page or library). */
export function assertBuilt(): void {
  const built = join(REPO, 'dist', 'web', 'index.html');
  if (!existsSync(built)) throw new Error('dist/ is not built: run npm run build');
  const src = newestMtime(join(REPO, 'src'), (n) => /\.(ts|html|css)$/.test(n));
  const out = newestMtime(join(REPO, 'dist'), (n) => /\.(js|html|css)$/.test(n));
  if (src.mtime > out.mtime) throw new Error(`dist/ is older than ${relative(REPO, src.path)}: run npm run build`);
}

export interface ServeProcess {
  url: string;
  origin: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Runs `performer serve --port 0 ...args` (the built CLI, as npx runs it) and waits for its URL. */
export async function startServe(args: readonly string[] = []): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [join(REPO, 'bin', 'performer.mjs'), 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d; });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /^(http:\/\/\S+)\n/m.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`performer serve exited with ${code}: ${stderr.trim()}`)));
  });
  return {
    url,
    origin: new URL(url).origin,
    proc,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}
