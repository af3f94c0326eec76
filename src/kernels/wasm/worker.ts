// Worker entry (worker_threads in Node, a module Web Worker in browsers): instantiate the kernel
// module on the shared memory, say ready, then serve jobs until told to exit.
import { instantiateKernels } from './kernels.js';
import { GEN, serve } from './control.js';
import { isNode, nodeBuiltin } from './runtime.js';

export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  tid: number;
}

export type WorkerReply = { ready: true } | { error: string };

async function start(init: WorkerInit, reply: (message: WorkerReply) => void): Promise<void> {
  let kernels;
  try {
    kernels = await instantiateKernels(init.module, init.memory);
  } catch (e) {
    reply({ error: e instanceof Error ? e.message : String(e) });
    return;
  }
  const control = new Int32Array(init.control);
  const seen = Atomics.load(control, GEN); // before "ready": no job can have been posted yet
  reply({ ready: true });
  serve(control, kernels, init.tid, seen);
}

if (isNode) {
  const { parentPort } = await nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads');
  const port = parentPort!;
  port.once('message', (init: WorkerInit) => void start(init, (m) => port.postMessage(m)));
} else {
  const scope = self as unknown as { onmessage: ((e: MessageEvent<WorkerInit>) => void) | null; postMessage(m: unknown): void };
  scope.onmessage = (e) => {
    scope.onmessage = null;
    void start(e.data, (m) => scope.postMessage(m));
  };
}
