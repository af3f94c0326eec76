// A small dependency-free SVG line plot: log or linear axes, ticks, grid, axis labels, title and a
// legend. Used by `performer approx --plot` (MSE vs features, log-log) and meant for benchmark plots
// (time or memory vs sequence length). Pure string output; no DOM needed.
//
// On a log axis, points with a non-positive or non-finite coordinate are left out (the line breaks
// there); on a linear axis only non-finite ones are.

export type AxisScale = 'log' | 'linear';

export interface PlotSeries {
  name: string;
  points: ReadonlyArray<readonly [x: number, y: number]>;
  /** CSS colour; default from a 10-colour palette by series index. */
  color?: string;
  /** true for a standard dash pattern, or an SVG stroke-dasharray. */
  dash?: boolean | string;
  /** Draw a marker at each point (default true). */
  markers?: boolean;
}

export interface PlotOptions {
  series: readonly PlotSeries[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  xScale?: AxisScale; // default 'log'
  yScale?: AxisScale; // default 'log'
  /** Explicit tick positions (e.g. the measured x values); default: automatic. */
  xTicks?: readonly number[];
  yTicks?: readonly number[];
  width?: number; // default 760
  height?: number; // default 480
}

export const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
] as const;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const SUPERSCRIPT: Record<string, string> = {
  '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹',
};

/** Short tick label: integers below 1e6 as they are (e.g. L = 16384), other plain numbers in
 *  [1e-3, 1e5) to 4 digits, otherwise "10⁻⁵" or "2·10⁻⁵". */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e6) return String(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(4)));
  const e = Math.floor(Math.log10(a) + 1e-9);
  const mant = Number((v / 10 ** e).toPrecision(3));
  const pow = `10${String(e).split('').map((c) => SUPERSCRIPT[c]).join('')}`;
  return mant === 1 ? pow : mant === -1 ? `-${pow}` : `${mant}·${pow}`;
}

function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}

interface Axis {
  scale: AxisScale;
  lo: number; // domain in data units
  hi: number;
  major: number[];
  minor: number[];
}

function usable(v: number, scale: AxisScale): boolean {
  return Number.isFinite(v) && (scale === 'linear' || v > 0);
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function makeAxis(values: number[], scale: AxisScale, explicit: readonly number[] | undefined): Axis {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = scale === 'log' ? 1 : 0;
    hi = scale === 'log' ? 10 : 1;
  }
  if (scale === 'log') {
    if (lo === hi) {
      lo /= 2;
      hi *= 2;
    }
    const pad = (Math.log10(hi) - Math.log10(lo)) * 0.04;
    lo = 10 ** (Math.log10(lo) - pad);
    hi = 10 ** (Math.log10(hi) + pad);
    const major: number[] = [];
    const minor: number[] = [];
    const decades = Math.log10(hi) - Math.log10(lo);
    const mults = decades < 2.5 ? [1, 2, 5] : [1];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (let k = 1; k <= 9; k++) {
        const v = k * 10 ** e;
        if (v < lo || v > hi) continue;
        (mults.includes(k) ? major : minor).push(v);
      }
    }
    if (explicit) return { scale, lo, hi, major: explicit.filter((v) => v >= lo && v <= hi), minor: [] };
    return { scale, lo, hi, major, minor };
  }
  if (lo === hi) {
    lo -= lo === 0 ? 1 : Math.abs(lo) / 2;
    hi += hi === 0 ? 1 : Math.abs(hi) / 2;
  }
  const step = niceStep(hi - lo, 6);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const major: number[] = [];
  for (let v = lo; v <= hi + step * 1e-9; v += step) major.push(Number(v.toPrecision(12)));
  return { scale, lo, hi, major: explicit ? explicit.filter((v) => v >= lo && v <= hi) : major, minor: [] };
}

function project(axis: Axis, v: number, from: number, to: number): number {
  const t =
    axis.scale === 'log'
      ? (Math.log10(v) - Math.log10(axis.lo)) / (Math.log10(axis.hi) - Math.log10(axis.lo))
      : (v - axis.lo) / (axis.hi - axis.lo);
  return from + t * (to - from);
}

/** Render a line plot as a standalone SVG document. */
export function renderPlot(opts: PlotOptions): string {
  const width = opts.width ?? 760;
  const height = opts.height ?? 480;
  const xScale = opts.xScale ?? 'log';
  const yScale = opts.yScale ?? 'log';
  const series = opts.series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length]!,
    points: s.points.filter(([x, y]) => usable(x, xScale) && usable(y, yScale)),
  }));
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const xAxis = makeAxis(xs, xScale, opts.xTicks);
  const yAxis = makeAxis(ys, yScale, opts.yTicks);

  const legendWidth = Math.min(260, 40 + 7 * Math.max(0, ...series.map((s) => s.name.length)));
  const left = 78;
  const right = width - legendWidth - 16;
  const top = opts.title ? 40 : 16;
  const bottom = height - 56;
  const X = (v: number) => project(xAxis, v, left, right);
  const Y = (v: number) => project(yAxis, v, bottom, top);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  if (opts.title) {
    out.push(`<text x="${fmt((left + right) / 2)}" y="24" text-anchor="middle" font-size="15">${escapeXml(opts.title)}</text>`);
  }
  // Grid and ticks.
  const grid: string[] = [];
  const ticks: string[] = [];
  for (const v of xAxis.minor) {
    const x = fmt(X(v));
    ticks.push(`<line x1="${x}" y1="${fmt(bottom)}" x2="${x}" y2="${fmt(bottom + 3)}" stroke="#000"/>`);
  }
  for (const v of xAxis.major) {
    const x = fmt(X(v));
    grid.push(`<line x1="${x}" y1="${fmt(top)}" x2="${x}" y2="${fmt(bottom)}" stroke="#e5e5e5"/>`);
    ticks.push(`<line x1="${x}" y1="${fmt(bottom)}" x2="${x}" y2="${fmt(bottom + 6)}" stroke="#000"/>`);
    ticks.push(`<text x="${x}" y="${fmt(bottom + 20)}" text-anchor="middle">${escapeXml(formatTick(v))}</text>`);
  }
  for (const v of yAxis.minor) {
    const y = fmt(Y(v));
    ticks.push(`<line x1="${fmt(left - 3)}" y1="${y}" x2="${fmt(left)}" y2="${y}" stroke="#000"/>`);
  }
  for (const v of yAxis.major) {
    const y = fmt(Y(v));
    grid.push(`<line x1="${fmt(left)}" y1="${y}" x2="${fmt(right)}" y2="${y}" stroke="#e5e5e5"/>`);
    ticks.push(`<line x1="${fmt(left - 6)}" y1="${y}" x2="${fmt(left)}" y2="${y}" stroke="#000"/>`);
    ticks.push(`<text x="${fmt(left - 9)}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(v))}</text>`);
  }
  out.push(`<g class="grid">${grid.join('')}</g>`);
  out.push(`<rect x="${fmt(left)}" y="${fmt(top)}" width="${fmt(right - left)}" height="${fmt(bottom - top)}" fill="none" stroke="#000"/>`);
  out.push(`<g class="ticks">${ticks.join('')}</g>`);
  if (opts.xLabel) {
    out.push(`<text x="${fmt((left + right) / 2)}" y="${fmt(height - 14)}" text-anchor="middle" font-size="13">${escapeXml(opts.xLabel)}</text>`);
  }
  if (opts.yLabel) {
    const cy = fmt((top + bottom) / 2);
    out.push(`<text x="18" y="${cy}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${cy})">${escapeXml(opts.yLabel)}</text>`);
  }
  // Lines and markers.
  for (const s of series) {
    const dash = s.dash === true ? '6 4' : typeof s.dash === 'string' ? s.dash : undefined;
    const attrs = `fill="none" stroke="${escapeXml(s.color)}" stroke-width="1.8"${dash ? ` stroke-dasharray="${escapeXml(dash)}"` : ''}`;
    const pts = s.points.map(([x, y]) => `${fmt(X(x))},${fmt(Y(y))}`).join(' ');
    out.push(`<g class="series"><title>${escapeXml(s.name)}</title>`);
    if (s.points.length > 1) out.push(`<polyline points="${pts}" ${attrs}/>`);
    if (s.markers !== false) {
      for (const [x, y] of s.points) out.push(`<circle cx="${fmt(X(x))}" cy="${fmt(Y(y))}" r="2.5" fill="${escapeXml(s.color)}"/>`);
    }
    out.push('</g>');
  }
  if (series.every((s) => s.points.length === 0)) {
    out.push(`<text x="${fmt((left + right) / 2)}" y="${fmt((top + bottom) / 2)}" text-anchor="middle" fill="#888">no data</text>`);
  }
  // Legend.
  const lx = right + 14;
  out.push('<g class="legend">');
  series.forEach((s, i) => {
    const y = top + 8 + i * 18;
    const dash = s.dash === true ? '6 4' : typeof s.dash === 'string' ? s.dash : undefined;
    out.push(
      `<line x1="${fmt(lx)}" y1="${fmt(y)}" x2="${fmt(lx + 26)}" y2="${fmt(y)}" stroke="${escapeXml(s.color)}" stroke-width="1.8"${dash ? ` stroke-dasharray="${escapeXml(dash)}"` : ''}/>`,
    );
    out.push(`<text x="${fmt(lx + 32)}" y="${fmt(y)}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
