// Builds the example page into ./dist (or the folder given): main.js, the library's worker as its
// own entry point, and index.html. The library starts its threads with
// new Worker(new URL('./worker.js', import.meta.url)); esbuild leaves that URL as it is, so the worker
// must be built next to the bundle under the name worker.js.
import * as esbuild from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export async function buildExample(outdir = fileURLToPath(new URL('./dist/', import.meta.url))) {
  await mkdir(outdir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: {
      main: fileURLToPath(new URL('./main.ts', import.meta.url)),
      worker: 'performer/worker',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser', // resolves 'performer' through its exports' "browser" condition
    target: 'es2022',
    outdir,
    metafile: true,
    logLevel: 'warning',
  });
  await copyFile(new URL('./index.html', import.meta.url), `${outdir}/index.html`);
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildExample(process.argv[2]);
