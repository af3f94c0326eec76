// Host facts the backend and its workers need. Node-only modules are reached through
// process.getBuiltinModule (or a dynamic import with a computed specifier on older Node 20), so
// this file also loads in browsers and bundlers do not try to resolve node: modules.

export const isNode: boolean = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** A Node builtin module, e.g. nodeBuiltin<typeof import('node:os')>('node:os'). Node only. */
export async function nodeBuiltin<T>(id: string): Promise<T> {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (get) return get(id) as T;
  return (await import(/* @vite-ignore */ id)) as T;
}

/** Whether this thread may block in Atomics.wait (Node's main thread and any worker; not a browser
 *  page's main thread, which must spin instead). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
