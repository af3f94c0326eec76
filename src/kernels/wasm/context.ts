// What the JS drivers (favor.ts, exact.ts, matmul.ts, …) share: the heap, the main thread's kernel
// instance, the thread runner, one descriptor block and a per-thread scratch area kept between
// calls; and the one way a driver runs a kernel call (`call`, `threadScratch`, `run`).
import * as L from './generated/layout.js';
import type { WasmHeap } from './heap.js';
import type { KernelExports, TaskName } from './kernels.js';
import type { Runner } from './pool.js';
import { Staging } from './staging.js';

const DESC_WORDS = L.DESCRIPTOR_WORDS;

export class Context {
  /** The descriptor block every job reads (one job runs at a time). */
  readonly desc: number;
  private scratchAddr = 0;
  private scratchBytes = 0;
  private views: { buffer: ArrayBufferLike; u32: Uint32Array; f32: Float32Array } | undefined;

  constructor(readonly heap: WasmHeap, readonly kernels: KernelExports, readonly runner: Runner) {
    this.desc = heap.allocBytes(DESC_WORDS * 4);
  }

  get threads(): number {
    return this.runner.threads;
  }

  /** Views of the descriptor block as u32 (addresses, sizes) and f32 (the *_F32 fields); new views
   *  only after the heap has grown (a grown memory has a new buffer). */
  descriptor(): { u32: Uint32Array; f32: Float32Array } {
    const buffer = this.heap.buffer();
    if (this.views?.buffer !== buffer) {
      this.views = { buffer, u32: new Uint32Array(buffer, this.desc, DESC_WORDS), f32: new Float32Array(buffer, this.desc, DESC_WORDS) };
    }
    return this.views;
  }

  /** Scratch of at least `bytes` (reused across calls, grown when a call needs more). */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchBytes > 0) this.heap.freeBytes(this.scratchAddr);
      this.scratchBytes = 0; // stays empty if the allocation below throws
      this.scratchAddr = this.heap.allocBytes(bytes);
      this.scratchBytes = bytes;
    }
    return this.scratchAddr;
  }

  /**
   * One kernel call: `body` stages the arrays (inputs, outputs, temporaries), writes the descriptor
   * and runs the tasks; the outputs are copied back when it returns, the temporaries freed on every
   * path. Returns what `body` returns.
   */
  call<T>(body: (staging: Staging) => T): T {
    const staging = new Staging(this.heap);
    try {
      const result = body(staging);
      staging.commit();
      return result;
    } finally {
      staging.release();
    }
  }

  /**
   * Gives every thread `bytes` of scratch (the kernel's *ScratchBytes for the descriptor written so
   * far) and writes its base and stride into the descriptor's SCRATCH head (assembly/scratch.ts).
   * The heap may grow: take fresh descriptor views after this.
   */
  threadScratch(bytes: number): void {
    const base = this.scratch(bytes * this.threads);
    const { u32 } = this.descriptor();
    u32[L.SCRATCH] = base; u32[L.SCRATCH_STRIDE] = bytes;
  }

  /** Runs a task's items over all threads, or all on the calling thread when !parallel. */
  run(task: TaskName, items: number, parallel = true): void {
    if (parallel) {
      this.runner.run(this.kernels, task, this.desc, items);
    } else {
      const fn = this.kernels[task];
      for (let item = 0; item < items; item++) fn(this.desc, item, 0);
    }
  }
}
