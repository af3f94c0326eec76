// The smallest module using relaxed SIMD: WebAssembly.validate on it tells whether this engine
// runs the relaxed build (in Node 20 only after --experimental-wasm-relaxed-simd).
export function probe(a: v128): v128 {
  return f32x4.relaxed_madd(a, a, a);
}
