// An SVG heatmap of a non-negative matrix (an attention matrix: row i is query i's weights over the
// keys). Two heatmaps drawn with the same `max` share one colour scale, so they compare by eye.

/** Viridis-like ramp, t in [0, 1] → CSS colour (5 stops, linear between). */
const STOPS: readonly (readonly [number, number, number])[] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

export function ramp(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x)), f = x - i;
  const a = STOPS[i]!, b = STOPS[i + 1]!;
  const c = a.map((v, j) => Math.round(v + f * (b[j]! - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export interface HeatmapOptions {
  title: string;
  /** Value drawn in the top colour (values above it too). */
  max: number;
  /** Side of the drawn square in px. */
  size?: number;
}

/** `rows` × `cols` values, row-major. */
export function renderHeatmap(values: ArrayLike<number>, rows: number, cols: number, opts: HeatmapOptions): string {
  const size = opts.size ?? 256, top = 22, cw = size / cols, ch = size / rows;
  const cells: string[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j]!;
      cells.push(`<rect x="${(j * cw).toFixed(2)}" y="${(top + i * ch).toFixed(2)}" width="${(cw + 0.05).toFixed(2)}" height="${(ch + 0.05).toFixed(2)}" fill="${ramp(v / opts.max)}"/>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size + top}" viewBox="0 0 ${size} ${size + top}" role="img">` +
    `<title>${opts.title}</title><text x="0" y="15" font-size="13" font-family="sans-serif">${opts.title}</text>${cells.join('')}</svg>`;
}
