// Deterministic pseudo-random float32 test data without the library's RNG (so a bug there cannot
// hide one in the code under test): a 32-bit LCG mapped to [−amp, amp).
export function randn(n: number, seed: number, amp = 1): Float32Array {
  const a = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = amp * (x / 2 ** 31 - 1);
  }
  return a;
}
