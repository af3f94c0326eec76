// Shapes are plain arrays of non-negative integers; row-major (C order) throughout.

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function assertValidShape(shape: Shape, what = 'shape'): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new Error(`${what} ${formatShape(shape)} has an invalid dimension ${s}`);
  }
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}
