// Runs kernel tasks on all threads. The Backend interface is synchronous, so the calling thread
// takes items too and then blocks in Atomics.wait (spins where blocking is not allowed) until the
// workers are done. Workers share the one WebAssembly.Memory and never keep the process alive.
import { TASKS, type KernelExports, type TaskName } from './kernels.js';
import { DESC, DONE, EXIT, FAILED, GEN, ITEMS, NEXT, TASK, createControl, drain, readError, waitWhile } from './control.js';
import type { WorkerInit, WorkerReply } from './worker.js';
import { canBlock, isNode, nodeBuiltin } from './runtime.js';

export interface Runner {
  /** Threads taking part, the caller included. */
  readonly threads: number;
  /** Runs items 0..items-1 of a task over all threads; returns when all are done. */
  run(kernels: KernelExports, task: TaskName, desc: number, items: number): void;
  dispose(): void;
}

/** One thread: the caller runs every item (also the no-SharedArrayBuffer case). */
export class SerialRunner implements Runner {
  readonly threads = 1;
  run(kernels: KernelExports, task: TaskName, desc: number, items: number): void {
    const fn = kernels[task];
    for (let item = 0; item < items; item++) fn(desc, item, 0);
  }
  dispose(): void {}
}

interface WorkerHandle {
  post(message: WorkerInit): void;
  /** First reply, or a failure to start. */
  ready(): Promise<void>;
  unref(): void;
  terminate(): void;
}

export class ThreadPool implements Runner {
  readonly threads: number;
  private readonly control = createControl();
  private readonly block = canBlock();
  private workers: WorkerHandle[] = [];
  /** Set when a worker dies or after dispose(); every later run throws it. */
  private broken: Error | undefined;

  private constructor(threads: number) {
    this.threads = threads;
  }

  /** Starts threads − 1 workers on `module` and `memory` (which must be shared). */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<ThreadPool> {
    const pool = new ThreadPool(threads);
    const onExit = (e: Error): void => { pool.broken ??= new Error(`wasm backend: a worker thread stopped (${e.message})`); };
    const workers = await Promise.all(Array.from({ length: threads - 1 }, () => spawnWorker(onExit)));
    pool.workers = workers;
    try {
      workers.forEach((w, i) => w.post({ module, memory, control: pool.control.buffer as SharedArrayBuffer, tid: i + 1 }));
      await Promise.all(workers.map((w) => w.ready()));
    } catch (e) {
      pool.dispose();
      throw new Error(`wasm backend: starting ${threads - 1} worker threads failed: ${(e as Error).message}`, { cause: e });
    }
    for (const w of workers) w.unref();
    return pool;
  }

  run(kernels: KernelExports, task: TaskName, desc: number, items: number): void {
    if (this.broken) throw this.broken;
    if (items <= 1) {
      // Not worth waking anyone.
      if (items === 1) kernels[task](desc, 0, 0);
      return;
    }
    const c = this.control;
    Atomics.store(c, TASK, TASKS.indexOf(task));
    Atomics.store(c, DESC, desc | 0);
    Atomics.store(c, ITEMS, items);
    Atomics.store(c, NEXT, 0);
    Atomics.store(c, DONE, 0);
    Atomics.store(c, FAILED, 0);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    let failure: unknown;
    try {
      drain(c, kernels, 0);
    } catch (e) {
      failure = e;
      Atomics.store(c, NEXT, items); // let the workers stop early
    }
    // Workers may still be writing into memory the caller is about to reuse: always wait.
    for (let done = Atomics.load(c, DONE); done < this.workers.length; done = Atomics.load(c, DONE)) {
      waitWhile(c, DONE, done, this.block);
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(c, FAILED)) throw new Error(`wasm backend: ${readError(c)}`);
  }

  dispose(): void {
    this.broken ??= new Error('wasm backend: disposed');
    Atomics.store(this.control, TASK, EXIT);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
    for (const w of this.workers) w.terminate();
  }
}

/** Starts one worker; onExit runs if it ever stops or fails (its start, too, then rejects). */
async function spawnWorker(onExit: (e: Error) => void): Promise<WorkerHandle> {
  let settle: { resolve(): void; reject(e: Error): void } | undefined;
  const ready = new Promise<void>((resolve, reject) => { settle = { resolve, reject }; });
  const onReply = (reply: WorkerReply): void => {
    if ('error' in reply) settle!.reject(new Error(reply.error));
    else settle!.resolve();
  };
  if (isNode) {
    const { Worker } = await nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads');
    const worker = new Worker(...nodeWorkerSource());
    const fail = (e: Error): void => { settle!.reject(e); onExit(e); };
    worker.once('message', onReply);
    worker.once('error', fail);
    worker.once('exit', (code) => fail(new Error(`exit code ${code}`)));
    return {
      post: (m) => worker.postMessage(m),
      ready: () => ready,
      unref: () => worker.unref(),
      terminate: () => void worker.terminate(),
    };
  }
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.addEventListener('message', (e: MessageEvent<WorkerReply>) => onReply(e.data), { once: true });
  worker.addEventListener('error', (e) => { const error = new Error(e.message); settle!.reject(error); onExit(error); });
  return { post: (m) => worker.postMessage(m), ready: () => ready, unref: () => {}, terminate: () => worker.terminate() };
}

/** Constructor arguments for the Node worker. From dist/ this is worker.js next to this file. When
 *  running the TypeScript sources (tsx), loader hooks do not reach worker threads on Node 20, so
 *  the worker is bootstrapped by a tiny script that registers tsx first and then imports worker.ts. */
function nodeWorkerSource(): [string | URL, { eval: boolean }] {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return [new URL('./worker.js', here), { eval: false }];
  const entry = JSON.stringify(new URL('./worker.ts', here).href);
  let tsx: string | undefined;
  try {
    tsx = import.meta.resolve('tsx/esm/api');
  } catch {
    // No tsx: rely on the runtime's own TypeScript support.
  }
  const script = tsx
    ? `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${entry}); })`
    : `import(${entry})`;
  return [script, { eval: true }];
}
