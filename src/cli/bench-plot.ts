// The `performer bench --plot` figure: time and peak memory against L, log-log, side by side.
import { renderPlot, type PlotSeries } from './svg-plot.js';
import type { BenchRow } from './bench.js';

function series(rows: readonly BenchRow[], y: (r: BenchRow) => number): PlotSeries[] {
  const groups = new Map<string, [number, number][]>();
  for (const r of rows) {
    if (r.error) continue;
    const key = `${r.impl} ${r.mode}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push([r.L, y(r)]);
  }
  return [...groups].map(([name, points]) => ({ name, points: points.sort((a, b) => a[0] - b[0]), dash: name.startsWith('exact') }));
}

export function benchPlotSvg(rows: readonly BenchRow[]): string {
  const ok = rows.filter((r) => !r.error);
  const first = ok[0] ?? rows[0];
  const setting = first ? `H=${first.heads}, d=${first.d}, m=${first.features}, B=${first.batch}, ${first.threads} threads` : '';
  const xTicks = [...new Set(ok.map((r) => r.L))].sort((a, b) => a - b);
  const [w, h] = [760, 480];
  const common = { xLabel: 'sequence length L', xTicks, width: w, height: h };
  const time = renderPlot({ ...common, series: series(rows, (r) => r.ms!), title: `Forward time (${setting})`, yLabel: 'median ms' });
  const mem = renderPlot({ ...common, series: series(rows, (r) => r.peak_mb!), title: 'Peak resident memory', yLabel: 'MB' });
  // Two complete plots nested side by side in one figure.
  const nest = (svg: string, x: number) => svg.replace(/^(?:<\?xml[^>]*>\s*)?<svg/, `<svg x="${x}" y="0"`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * w}" height="${h}" viewBox="0 0 ${2 * w} ${h}">\n${nest(time, 0)}\n${nest(mem, w)}\n</svg>\n`;
}
