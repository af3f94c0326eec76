// Copies the playground page's static files (src/web/*.html, *.css) into dist/web/, beside the
// page's scripts that tsc compiles there. `performer serve` serves dist/.
import { copyFile, mkdir, readdir } from 'node:fs/promises';

const from = new URL('../src/web/', import.meta.url), to = new URL('../dist/web/', import.meta.url);
await mkdir(to, { recursive: true });
for (const name of await readdir(from)) {
  if (/\.(html|css)$/.test(name)) await copyFile(new URL(name, from), new URL(name, to));
}
