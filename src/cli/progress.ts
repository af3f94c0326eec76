// A one-line progress bar for long CLI runs, redrawn in place on an interactive terminal:
//
//   step  120/2000 [███▌·············]  6%  loss 2.314  5.2k tok/s  ETA 4m12s
//
// It writes only when the sink is a TTY (sink.isTTY), so piped or redirected output stays clean.
// Redraws are throttled (default every 100 ms); clear() erases the line before other output is
// printed, and the next update draws it again.

import type { TextSink } from './command.js';

export interface ProgressOptions {
  total: number;
  /** What is counted (default "step"). */
  label?: string;
  /** Steps already done when the bar starts (a resumed run), excluded from the rate. */
  start?: number;
  /** Min ms between redraws (default 100). */
  intervalMs?: number;
  /** Line width (default: the sink's columns, else 80). */
  width?: number;
  now?: () => number;
}

export interface ProgressFields {
  loss?: number;
  /** Tokens per second; shown as "tok/s". */
  tokensPerSec?: number;
  /** Free text after the numbers (e.g. "evaluating…"). */
  note?: string;
  /** A new total (when it is known only once the work starts). */
  total?: number;
}

/** 75 → "1m15s", 3725 → "1h02m", 4.2 → "4s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** 5234 → "5.2k", 812 → "812", 1.5e6 → "1.5M". */
export function formatRate(x: number): string {
  if (!Number.isFinite(x)) return '?';
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

const BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

function bar(frac: number, width: number): string {
  const f = Math.min(1, Math.max(0, frac)) * width;
  const full = Math.floor(f);
  const part = BLOCKS[Math.floor((f - full) * 8)] ?? '';
  return '█'.repeat(full) + part + '·'.repeat(Math.max(0, width - full - (part ? 1 : 0)));
}

export class ProgressBar {
  readonly enabled: boolean;
  private total: number;
  private readonly label: string;
  private readonly start: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly t0: number;
  private lastDraw = -Infinity;
  private shown = false;
  private done = 0;
  private fields: ProgressFields = {};

  constructor(private readonly sink: TextSink, opts: ProgressOptions) {
    this.enabled = sink.isTTY === true;
    this.total = Math.max(1, opts.total);
    this.label = opts.label ?? 'step';
    this.start = opts.start ?? 0;
    this.done = this.start;
    this.intervalMs = opts.intervalMs ?? 100;
    this.now = opts.now ?? (() => performance.now());
    this.t0 = this.now();
    this.width = opts.width ?? ((sink as { columns?: number }).columns || 80);
  }

  private readonly width: number;

  /** The text of the line for `done` steps (exported for tests through render()). */
  render(): string {
    const elapsed = (this.now() - this.t0) / 1000;
    const ran = this.done - this.start;
    const left = this.total - this.done;
    const eta = ran > 0 ? (elapsed / ran) * left : NaN;
    const digits = String(this.total).length;
    const pct = `${Math.floor((100 * this.done) / this.total)}%`.padStart(4);
    const f = this.fields;
    const parts = [
      f.loss !== undefined ? `loss ${f.loss.toFixed(3)}` : '',
      f.tokensPerSec !== undefined ? `${formatRate(f.tokensPerSec)} tok/s` : '',
      left > 0 ? `ETA ${formatDuration(eta)}` : `${formatDuration(elapsed)}`,
      f.note ?? '',
    ].filter(Boolean).join('  ');
    const head = `${this.label} ${String(this.done).padStart(digits)}/${this.total} `;
    const tail = ` ${pct}  ${parts}`;
    const barWidth = Math.max(10, Math.min(30, this.width - 1 - head.length - tail.length - 2));
    const line = `${head}[${bar(this.done / this.total, barWidth)}]${tail}`;
    return line.length > this.width - 1 ? line.slice(0, this.width - 1) : line;
  }

  /** Records progress; redraws when enabled and the throttle allows (always when `force`). */
  update(done: number, fields: ProgressFields = {}, force = false): void {
    this.done = done;
    if (fields.total !== undefined) this.total = Math.max(1, fields.total);
    this.fields = { ...this.fields, ...fields };
    delete this.fields.total;
    if (!fields.note) delete this.fields.note;
    if (!this.enabled) return;
    const t = this.now();
    if (!force && t - this.lastDraw < this.intervalMs && done < this.total) return;
    this.lastDraw = t;
    this.sink.write(`\r${this.render()}\x1b[K`);
    this.shown = true;
  }

  /** Erases the line (call before writing other output to the same terminal). */
  clear(): void {
    if (!this.enabled || !this.shown) return;
    this.sink.write('\r\x1b[K');
    this.shown = false;
    this.lastDraw = -Infinity;
  }

}
