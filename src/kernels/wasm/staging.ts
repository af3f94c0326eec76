// Gets call arguments into the wasm heap for one kernel call. Arrays that already are views into
// the heap (from backend.alloc) are used in place; others are copied into temporary buffers, and
// outputs copied back after a successful run. Temporaries are freed in every case.
import type { WasmHeap } from './heap.js';

export class Staging {
  private readonly temps: number[] = [];
  private readonly outputs: Array<{ addr: number; target: Float32Array }> = [];

  constructor(private readonly heap: WasmHeap) {}

  /** Address of an input array's data (float32, or the int32 ids and byte masks of the row kernels). */
  input(arr: Float32Array | Int32Array | Uint8Array): number {
    if (this.heap.owns(arr)) return arr.byteOffset;
    const addr = this.temp(arr.byteLength);
    if (arr instanceof Float32Array) new Float32Array(this.heap.buffer(), addr, arr.length).set(arr);
    else new Uint8Array(this.heap.buffer(), addr, arr.byteLength).set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    return addr;
  }

  /** Address where the kernel writes `arr`; `read` also copies its current contents in. */
  output(arr: Float32Array, read = false): number {
    if (this.heap.owns(arr)) return arr.byteOffset;
    const addr = read ? this.input(arr) : this.temp(arr.byteLength);
    this.outputs.push({ addr, target: arr });
    return addr;
  }

  /** A temporary block of `bytes`, freed by release(). */
  temp(bytes: number): number {
    const addr = this.heap.allocBytes(bytes);
    this.temps.push(addr);
    return addr;
  }

  /** Copies outputs back to their arrays. */
  commit(): void {
    const buffer = this.heap.buffer();
    for (const { addr, target } of this.outputs) target.set(new Float32Array(buffer, addr, target.length));
  }

  release(): void {
    for (const addr of this.temps) this.heap.freeBytes(addr);
    this.temps.length = 0;
  }
}
