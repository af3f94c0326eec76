// Readers for the job descriptors laid out in ../layout.ts (one 32-bit word per field).

// @ts-ignore: decorator
@inline export function word(desc: usize, field: i32): i32 {
  return load<i32>(desc + (<usize>field << 2));
}

// @ts-ignore: decorator
@inline export function addr(desc: usize, field: i32): usize {
  return <usize>load<u32>(desc + (<usize>field << 2));
}

// @ts-ignore: decorator
@inline export function real(desc: usize, field: i32): f32 {
  return load<f32>(desc + (<usize>field << 2));
}

// @ts-ignore: decorator
@inline export function align64(n: usize): usize {
  return (n + 63) & ~(<usize>63);
}

// @ts-ignore: decorator
@inline export function roundUp8(n: i32): i32 {
  return (n + 7) & ~7;
}
