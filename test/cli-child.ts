// The CLI as a child process for tests that need one (signals, exit codes): bin/performer.mjs, but
// on the TypeScript sources (run with node --import tsx).
import { main } from '../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
