// Child-process entry of `performer bench`: runs the case given as JSON in argv[2] and prints one
// JSON line, {ms, times, backend, peak_mb} or {error}. Peak memory is this process's max RSS.
import { runCase, type BenchCase } from './bench-case.js';

try {
  const c = JSON.parse(process.argv[2] ?? '') as BenchCase;
  const r = await runCase(c);
  const peakMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ ...r, peak_mb: peakMb }) + '\n');
  process.exit(0);
} catch (e) {
  process.stdout.write(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }) + '\n');
  process.exit(1);
}
