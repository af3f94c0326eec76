// Argument validation shared by the drivers: wrong shapes must fail loudly, not read past arrays.

export function checkDims(what: string, dims: Record<string, number>): void {
  for (const [name, value] of Object.entries(dims)) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${what}: ${name} must be a non-negative integer, got ${value}`);
  }
}

/** arr must be a Float32Array of exactly `expected` elements (at least that many when atLeast). */
export function checkLength(what: string, name: string, arr: Float32Array, expected: number, atLeast = false): void {
  if (!(arr instanceof Float32Array)) throw new TypeError(`${what}: ${name} must be a Float32Array`);
  if (atLeast ? arr.length < expected : arr.length !== expected) {
    throw new RangeError(`${what}: ${name} has ${arr.length} elements, expected ${atLeast ? 'at least ' : ''}${expected}`);
  }
}
