// The `performer` command line: dispatch to one command per file. `main` never calls
// process.exit and writes only through `io`, so tests can run it in-process.

import { readFileSync } from 'node:fs';
import { approxCommand } from './approx.js';
import { describeSystemError, isSystemError } from '../io/file-error-node.js';
import { RunLockError } from '../io/run-lock-node.js';
import { UsageError } from './args.js';
import { attentionCommand } from './attention.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { forwardCommand } from './forward.js';
import { importCommand } from './import.js';
import { generateCommand } from './generate.js';
import { serveCommand } from './serve.js';
import { showcaseCommand } from './showcase.js';
import { trainCommand } from './train.js';
import { benchCommand } from './bench.js';
import type { CliIo, Command } from './command.js';

export type { CliIo, Command, TextSink } from './command.js';

export const COMMANDS: readonly Command[] = [
  attentionCommand, approxCommand, benchCommand, trainCommand, evalCommand, generateCommand, forwardCommand, importCommand, exportCommand, showcaseCommand, serveCommand,
];

function version(): string {
  try {
    // Same relative location from src/cli/ and dist/cli/.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: performer <command> [options]',
    '',
    'FAVOR+ linear attention (Choromanski et al., "Rethinking Attention with Performers", 2021).',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `performer <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr });

/** The one-line message of an error. An operating-system error that reached here unmapped is put
 *  in words (its path is named when it has one, never a raw "ENOENT: no such file..., open '…'"). */
function messageOf(e: unknown): string {
  if (isSystemError(e) && (e.name === 'Error' || e.name === 'SystemError')) {
    return `${e.path !== undefined ? `${e.path}: ` : ''}${describeSystemError(e)}`;
  }
  return oneLine(e instanceof Error ? e.message : String(e));
}

/**
 * Run the CLI with arguments (without `node` and the script). Returns the exit code:
 * 0 success, 2 any error (usage or failure), reported as one line
 * `performer <cmd>: error: <message>` on stderr; 75 (EXIT_LOCKED) when another run holds the
 * checkpoint directory's run lock.
 */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(mainUsage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const cmd = name === 'help' && rest[0] !== undefined ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    if (name === 'help' && rest[0] !== undefined && !cmd) {
      io.stderr.write(`performer: error: unknown command ${JSON.stringify(rest[0])} (commands: ${COMMANDS.map((c) => c.name).join(', ')})\n`);
      return 2;
    }
    io.stdout.write(cmd ? cmd.usage() : mainUsage());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`performer ${version()}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    const what = name.startsWith('-') ? `unknown option ${JSON.stringify(name)}` : `unknown command ${JSON.stringify(name)}`;
    io.stderr.write(`performer: error: ${what} (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see performer --help)\n`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    const hint = e instanceof UsageError ? ` (see performer ${cmd.name} --help)` : '';
    io.stderr.write(`performer ${cmd.name}: error: ${messageOf(e)}${hint}\n`);
    if (process.env.PERFORMER_DEBUG && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
    return e instanceof RunLockError ? e.exitCode : 2;
  }
}
