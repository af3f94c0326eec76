// Runs the CLI in-process with captured output: what every CLI test needs.
import { main, type CliIo } from '../../src/cli/main.js';

export interface CliResult { code: number; stdout: string; stderr: string }

/** `performer ARGV` with stdout and stderr captured; `tty` makes stderr look like a terminal. */
export async function runCli(argv: string[], opts: { tty?: boolean } = {}): Promise<CliResult> {
  let stdout = '', stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string) => { stdout += s; } },
    stderr: { write: (s: string) => { stderr += s; }, isTTY: opts.tty ?? false },
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
