// What every CLI command implements, and the io object that makes commands testable in-process.

/** Where a command writes text. process.stdout/stderr satisfy it; tests pass string collectors. */
export interface TextSink {
  write(chunk: string): unknown;
  /** True for an interactive terminal (progress output is only written then). */
  isTTY?: boolean;
}

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
}

export interface Command {
  name: string;
  /** One line for `performer --help`. */
  summary: string;
  /** Full usage text for `performer <cmd> --help`. */
  usage(): string;
  /**
   * Run with the arguments after the command name. Returns the exit code. Throw (UsageError or
   * any Error) to fail: main prints `performer <cmd>: error: <message>` and exits with 2. Commands
   * write output files atomically, and only once everything they need has succeeded.
   */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}
