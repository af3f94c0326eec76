// The CLI as a child process for tests that need one (signals, exit codes): bin/performer.mjs, but
// on the TypeScript sources (run with node --import tsx). PERFORMER_TEST_TTY=1 makes stderr count as
// a terminal, so progress bars are drawn (a test can see a step finish).
import { main } from '../src/cli/main.js';

const tty = process.env.PERFORMER_TEST_TTY === '1';
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: { write: (s: string) => process.stderr.write(s), isTTY: tty },
});
