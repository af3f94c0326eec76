// createWebGpuBackend: the `webgpu` backend. Tensors live in device buffers (storage.ts); kernels only
// enqueue work; `read` is the one way values come back. In browsers the GPU is navigator.gpu, in Node
// the `webgpu` package (Dawn). Without an adapter it throws and says why: it never falls back to
// another backend behind the caller's back.
import type {
  AdamWArgs, CrossEntropyGradArgs, CrossEntropyLossArgs, EmbeddingBwdArgs, EmbeddingFwdArgs, ExactBwdArgs, ExactFwdArgs,
  FavorFwdArgs, GeluBwdArgs, GeluFwdArgs, LayerNormBwdArgs, LayerNormFwdArgs, MatmulArgs,
} from './args.js';
import { adamw } from './adamw.js';
import { createContext, type GpuContext } from './context.js';
import { crossEntropyGrad, crossEntropyLoss } from './cross-entropy.js';
import { embeddingBackward, embeddingForward } from './embedding.js';
import { exact } from './exact.js';
import { exactBackward } from './exact-backward.js';
import { favor } from './favor.js';
import { geluBackward, geluForward } from './gelu.js';
import { layerNormBackward, layerNormForward } from './layernorm.js';
import { matmul } from './matmul.js';
import { allocate, destroy, read, write, type GpuTensor } from './storage.js';

export interface WebGpuOptions {
  /** Use this adapter (a device is requested from it). */
  adapter?: GPUAdapter;
  /** Use this device as it is (its limits are the caller's choice). */
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
  /** Limits to request; by default the adapter's maxima for buffer, binding and workgroup sizes. */
  requiredLimits?: Record<string, number>;
  /** Internal cap on one storage binding in bytes, below the device's limit (tests use it to exercise split tensors). */
  maxBindingBytes?: number;
}

/**
 * The storage half follows the engine interface's Device (zeros, upload, read, readSync, size, dtype)
 * and the kernels its Kernels (matmul, favorForward, exactForward/Backward, geluForward/Backward,
 * layerNormForward/Backward, embeddingForward/Backward, crossEntropyForward/Backward, adamw), with one
 * addition: `rowLength`,
 * the row size at which a tensor too big for one binding may be cut into parts.
 */
export interface WebGpuBackend {
  readonly name: 'webgpu';
  readonly host: false;
  readonly device: GPUDevice;
  /** Bytes one storage binding, and so one tensor part, may hold. */
  readonly bindingBytes: number;
  /** `length` zeros (float32: WGSL has no float64), cut into parts at multiples of `rowLength` values. */
  zeros(length: number, dtype?: 'float32' | 'float64', rowLength?: number): GpuTensor;
  /** Float32 values only: a Float64Array is refused (WGSL has no float64). */
  upload(data: Float32Array | Float64Array, rowLength?: number): GpuTensor;
  /** The values once every kernel enqueued before has run; throws the first device error, if any. */
  read(t: GpuTensor): Promise<Float32Array>;
  /** Always throws: values on the GPU come back only asynchronously. */
  readSync(t: GpuTensor): never;
  size(t: GpuTensor): number;
  dtype(t: GpuTensor): 'float32';
  free(t: GpuTensor): void;
  matmul(args: MatmulArgs): void;
  favorForward(args: FavorFwdArgs): void;
  exactForward(args: ExactFwdArgs): void;
  exactBackward(args: ExactBwdArgs): void;
  geluForward(args: GeluFwdArgs): void;
  geluBackward(args: GeluBwdArgs): void;
  layerNormForward(args: LayerNormFwdArgs): void;
  layerNormBackward(args: LayerNormBwdArgs): void;
  embeddingForward(args: EmbeddingFwdArgs): void;
  embeddingBackward(args: EmbeddingBwdArgs): void;
  crossEntropyForward(args: CrossEntropyLossArgs): void;
  crossEntropyBackward(args: CrossEntropyGradArgs): void;
  adamw(args: AdamWArgs): void;
  destroy(): void;
}

const WANTED_LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage'] as const;

async function gpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new Error('webgpu: this browser has no navigator.gpu (WebGPU is off or unsupported here)');
  }
  const { nodeGpu } = await import('./gpu-node.js');
  return nodeGpu();
}

async function acquire(o: WebGpuOptions): Promise<GPUDevice> {
  if (o.device) return o.device;
  const adapter = o.adapter ?? await (await gpu()).requestAdapter(o.powerPreference ? { powerPreference: o.powerPreference } : {});
  if (!adapter) {
    throw new Error('webgpu: no adapter: requestAdapter() returned null (no usable GPU driver). Without a GPU, install a software Vulkan driver and point VK_ICD_FILENAMES at it: see docs/WEBGPU.md');
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  Object.assign(requiredLimits, o.requiredLimits);
  return adapter.requestDevice({ requiredLimits });
}

export async function createWebGpuBackend(options: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const device = await acquire(options);
  const ctx: GpuContext = createContext(device, options.maxBindingBytes);
  const check = () => {
    const e = ctx.takeError();
    if (e) throw e;
  };
  const noFloat64 = (what: string) => new TypeError(`webgpu: ${what}: float64 storage is not supported (WGSL has no float64); use float32`);
  return {
    name: 'webgpu',
    host: false,
    device,
    bindingBytes: ctx.bindingBytes,
    zeros(length, dtype = 'float32', rowLength = 1) {
      if (dtype !== 'float32') throw noFloat64('zeros');
      return allocate(device, length, rowLength, ctx.bindingBytes, 'tensor');
    },
    upload(data, rowLength = 1) {
      if (!(data instanceof Float32Array)) throw noFloat64('upload');
      const t = allocate(device, data.length, rowLength, ctx.bindingBytes, 'tensor');
      write(device, t, data);
      return t;
    },
    async read(t) {
      const values = await read(device, t);
      check();
      return values;
    },
    readSync() {
      throw new Error('webgpu: values on the GPU come back only asynchronously: use await read(t)');
    },
    size: (t) => t.length,
    dtype: () => 'float32',
    free: destroy,
    matmul: (a) => matmul(ctx, a),
    favorForward: (a) => favor(ctx, a),
    exactForward: (a) => exact(ctx, a),
    exactBackward: (a) => exactBackward(ctx, a),
    geluForward: (a) => geluForward(ctx, a),
    geluBackward: (a) => geluBackward(ctx, a),
    layerNormForward: (a) => layerNormForward(ctx, a),
    layerNormBackward: (a) => layerNormBackward(ctx, a),
    embeddingForward: (a) => embeddingForward(ctx, a),
    embeddingBackward: (a) => embeddingBackward(ctx, a),
    crossEntropyForward: (a) => crossEntropyLoss(ctx, a),
    crossEntropyBackward: (a) => crossEntropyGrad(ctx, a),
    adamw: (a) => adamw(ctx, a),
    destroy: () => device.destroy(),
  };
}
