// Node's WebGPU: Dawn through the `webgpu` package (its prebuilt dawn.node ships inside the package).
// Kept apart so that a browser build, which has navigator.gpu, never loads it.

/** One Dawn instance per process, held here: once collected, its adapters and devices die with it. */
let instance: GPU | undefined;

export async function nodeGpu(): Promise<GPU> {
  if (instance) return instance;
  let mod: typeof import('webgpu');
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new Error(`webgpu: navigator.gpu is missing and the 'webgpu' package could not be loaded (${(e as Error).message}); run npm install webgpu`);
  }
  instance = mod.create([]);
  return instance;
}
