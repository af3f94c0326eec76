// The job protocol between the calling thread and the workers, over one small SharedArrayBuffer.
// A job is (task, descriptor, item count); every thread, the caller included, takes items with
// an atomic counter until none are left, then the caller waits for all workers to report done.
import { TASKS, type KernelExports } from './kernels.js';

export const GEN = 0; // bumped once per job: workers wait on it
export const TASK = 1; // index into TASKS, or EXIT
export const DESC = 2;
export const ITEMS = 3;
export const NEXT = 4; // next unclaimed item
export const DONE = 5; // workers finished with the current job
export const FAILED = 6; // 1 once a worker has thrown during the current job
export const ERROR_LENGTH = 7; // bytes of the UTF-8 error message
export const EXIT = -1;
const ERROR_OFFSET = 64; // bytes: the message follows the words above
const ERROR_CAPACITY = 1024;
/** Polls before blocking: jobs of one call follow each other within microseconds. */
const SPIN = 20000;

export function createControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(ERROR_OFFSET + ERROR_CAPACITY));
}

/** Runs items of the current job until the counter passes the item count. */
export function drain(control: Int32Array, kernels: KernelExports, tid: number): void {
  const fn = kernels[TASKS[Atomics.load(control, TASK)]];
  const desc = Atomics.load(control, DESC) >>> 0, items = Atomics.load(control, ITEMS);
  for (let item = Atomics.add(control, NEXT, 1); item < items; item = Atomics.add(control, NEXT, 1)) fn(desc, item, tid);
}

/** Returns once control[index] !== value: spins briefly, then sleeps in Atomics.wait if allowed. */
export function waitWhile(control: Int32Array, index: number, value: number, block: boolean): void {
  for (let i = 0; i < SPIN; i++) if (Atomics.load(control, index) !== value) return;
  while (Atomics.load(control, index) === value) if (block) Atomics.wait(control, index, value);
}

/** Records the first failure of a job (message readable by the caller with readError). */
export function reportError(control: Int32Array, tid: number, error: unknown): void {
  if (Atomics.compareExchange(control, FAILED, 0, 1) !== 0) return;
  const text = `worker ${tid}: ${error instanceof Error ? error.message : String(error)}`;
  const bytes = new TextEncoder().encode(text).subarray(0, ERROR_CAPACITY);
  new Uint8Array(control.buffer, ERROR_OFFSET, bytes.length).set(bytes);
  Atomics.store(control, ERROR_LENGTH, bytes.length);
}

export function readError(control: Int32Array): string {
  // TextDecoder rejects views of shared memory: copy out first.
  const bytes = new Uint8Array(control.buffer, ERROR_OFFSET, Atomics.load(control, ERROR_LENGTH)).slice();
  return new TextDecoder().decode(bytes);
}

/** A worker's loop: wait for a job, drain it, report done; until EXIT. `seen` is GEN at start. */
export function serve(control: Int32Array, kernels: KernelExports, tid: number, seen: number): void {
  for (;;) {
    waitWhile(control, GEN, seen, true);
    seen = Atomics.load(control, GEN);
    if (Atomics.load(control, TASK) === EXIT) return;
    try {
      drain(control, kernels, tid);
    } catch (e) {
      reportError(control, tid, e);
    }
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
}
