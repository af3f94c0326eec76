// A small typed flag parser for the CLI commands.
//
// Flags are `--name value` or `--name=value`; booleans are `--name` alone (or `--name=true|false`).
// `-h`/`--help` anywhere asks for help. Unknown flags, a flag given twice, a missing value, a bad
// number, an integer list with a bad entry, a value outside an enum or range, positional arguments
// and missing required flags all throw UsageError with a one-line message.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Base {
  help: string;
  /** Placeholder for the value in usage text, e.g. FILE. */
  metavar?: string;
}
export interface BooleanFlag extends Base { type: 'boolean' }
export interface NumberFlag extends Base { type: 'number'; default?: number; min?: number; max?: number; positive?: boolean }
export interface IntFlag extends Base { type: 'int'; default?: number; min?: number; max?: number }
export interface IntsFlag extends Base { type: 'ints'; default?: readonly number[]; min?: number; max?: number }
export interface StringFlag extends Base { type: 'string'; default?: string; required?: boolean }
export interface EnumFlag extends Base { type: 'enum'; values: readonly string[]; default?: string }
export type FlagSpec = BooleanFlag | NumberFlag | IntFlag | IntsFlag | StringFlag | EnumFlag;
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type Maybe<F, T> = F extends { default: unknown } | { required: true } ? T : T | undefined;
export type FlagValue<F extends FlagSpec> = F extends { type: 'boolean' }
  ? boolean
  : F extends { type: 'enum'; values: readonly (infer V)[] }
    ? Maybe<F, V>
    : F extends { type: 'ints' }
      ? Maybe<F, number[]>
      : F extends { type: 'number' | 'int' }
        ? Maybe<F, number>
        : F extends { type: 'string' }
          ? Maybe<F, string>
          : never;

export type Flags<S extends FlagSpecs> = { -readonly [K in keyof S]: FlagValue<S[K]> };
export type Parsed<S extends FlagSpecs> =
  | { help: true }
  | { help: false; flags: Flags<S>; /** Names of the flags given on the command line. */ given: Set<keyof S & string> };

/** Identity, keeping literal types (enum values, defaults) for `Flags<S>`. */
export function defineFlags<const S extends FlagSpecs>(specs: S): S {
  return specs;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function parseNumber(name: string, raw: string, integer: boolean): number {
  const t = raw.trim();
  const n = t === '' ? NaN : Number(t);
  if (!Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got ${quote(raw)}`);
  if (integer && !Number.isSafeInteger(n)) throw new UsageError(`--${name}: expected an integer, got ${quote(raw)}`);
  return n;
}

function checkRange(name: string, n: number, spec: { min?: number; max?: number; positive?: boolean }): void {
  if (spec.min !== undefined && n < spec.min) throw new UsageError(`--${name}: must be at least ${spec.min}, got ${n}`);
  if (spec.max !== undefined && n > spec.max) throw new UsageError(`--${name}: must be at most ${spec.max}, got ${n}`);
  if (spec.positive && !(n > 0)) throw new UsageError(`--${name}: must be positive, got ${n}`);
}

function convert(name: string, spec: FlagSpec, raw: string): unknown {
  switch (spec.type) {
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new UsageError(`--${name}: expected true or false, got ${quote(raw)}`);
    case 'number':
    case 'int': {
      const n = parseNumber(name, raw, spec.type === 'int');
      checkRange(name, n, spec);
      return n;
    }
    case 'ints': {
      if (raw.trim() === '') throw new UsageError(`--${name}: expected a comma-separated list of integers, got ""`);
      return raw.split(',').map((part) => {
        const n = parseNumber(name, part, true);
        checkRange(name, n, spec);
        return n;
      });
    }
    case 'enum':
      if (!spec.values.includes(raw)) {
        throw new UsageError(`--${name}: expected one of ${spec.values.join(', ')}, got ${quote(raw)}`);
      }
      return raw;
    case 'string':
      if (raw === '') throw new UsageError(`--${name}: value is empty`);
      return raw;
  }
}

export function isHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** Parse argv (without the command name) against the specs. */
export function parseArgs<const S extends FlagSpecs>(argv: readonly string[], specs: S): Parsed<S> {
  if (isHelp(argv)) return { help: true };
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new UsageError(`unexpected argument ${quote(argv[i + 1]!)}`);
      break;
    }
    if (!arg.startsWith('--') || arg === '--') throw new UsageError(`unexpected argument ${quote(arg)}`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const spec = Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    if (!spec) throw new UsageError(`unknown flag --${name}`);
    if (given.has(name)) throw new UsageError(`--${name} given more than once`);
    given.add(name);
    let raw: string;
    if (eq >= 0) {
      raw = arg.slice(eq + 1);
    } else if (spec.type === 'boolean') {
      raw = 'true';
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`missing value for --${name}`);
      raw = next;
      i++;
    }
    values[name] = convert(name, spec, raw);
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (name in values) continue;
    if (spec.type === 'boolean') values[name] = false;
    else if (spec.type === 'string' && spec.required) throw new UsageError(`missing required flag --${name}`);
    else if (spec.default !== undefined) values[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
    else values[name] = undefined;
  }
  return { help: false, flags: values as Flags<S>, given: given as Set<keyof S & string> };
}

function metavarOf(spec: FlagSpec): string {
  if (spec.metavar) return spec.metavar;
  switch (spec.type) {
    case 'boolean': return '';
    case 'number': return 'X';
    case 'int': return 'N';
    case 'ints': return 'N,N,...';
    case 'string': return 'VALUE';
    case 'enum': return spec.values.join('|');
  }
}

function defaultText(spec: FlagSpec): string {
  if (spec.type === 'boolean' || spec.default === undefined) return '';
  const d = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
  return ` (default ${d})`;
}

/** Usage text: a synopsis line, a description, and one line per flag. */
export function formatUsage(synopsis: string, description: string, specs: FlagSpecs): string {
  const rows: (readonly [string, string])[] = Object.entries(specs).map(([name, spec]) => {
    const mv = metavarOf(spec);
    return [`  --${name}${mv ? ` ${mv}` : ''}`, `${spec.help}${defaultText(spec)}`] as const;
  });
  rows.push(['  -h, --help', 'show this help']);
  const width = Math.min(30, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines = rows.map(([l, r]) => (l.length + 2 > width ? `${l}\n${' '.repeat(width)}${r}` : `${l.padEnd(width)}${r}`));
  return `usage: ${synopsis}\n\n${description.trim()}\n\noptions:\n${lines.join('\n')}\n`;
}
