// Elementwise ops with suffix broadcasting, scaling and the full sum, forward and backward.
//   add: out_i = a_i + b_{i mod nb};  da_i += dOut_i,              db_j += Σ_{i ≡ j} dOut_i
//   mul: out_i = a_i · b_{i mod nb};  da_i += dOut_i·b_{i mod nb}, db_j += Σ_{i ≡ j} dOut_i·a_i
//   scale: y = c·x (or y += c·x);  sum: out = Σ x, dx_i += dOut.
import type { BinaryArgs, BinaryBwdArgs, ScaleArgs, SumArgs, SumBwdArgs } from '../../engine.js';

export function tsBinary({ op, a: x, b: y, out: o, n, nb }: BinaryArgs): void {
  if (op === 'add') for (let i = 0; i < n; i++) o[i] = x[i]! + y[i % nb]!;
  else for (let i = 0; i < n; i++) o[i] = x[i]! * y[i % nb]!;
}

export function tsBinaryBackward({ op, a: x, b: y, dOut: g, da, db, n, nb }: BinaryBwdArgs): void {
  if (op === 'add') {
    if (da) for (let i = 0; i < n; i++) da[i] = da[i]! + g[i]!;
    if (db) for (let i = 0; i < n; i++) db[i % nb] = db[i % nb]! + g[i]!;
  } else {
    if (da) for (let i = 0; i < n; i++) da[i] = da[i]! + g[i]! * y[i % nb]!;
    if (db) for (let i = 0; i < n; i++) db[i % nb] = db[i % nb]! + g[i]! * x[i]!;
  }
}

export function tsScale({ x, y, c, n, accumulate }: ScaleArgs): void {
  if (accumulate) for (let i = 0; i < n; i++) y[i] = y[i]! + c * x[i]!;
  else for (let i = 0; i < n; i++) y[i] = x[i]! * c;
}

export function tsSum({ x, out, n }: SumArgs): void {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]!;
  out[0] = s;
}

export function tsSumBackward({ dOut: g, dx, n }: SumBwdArgs): void {
  for (let i = 0; i < n; i++) dx[i] = dx[i]! + g[0]!;
}
