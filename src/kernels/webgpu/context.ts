// One WebGPU device with what every kernel needs: the binding-size cap, a pipeline cache (each WGSL
// program is compiled once per device, i.e. once per process in normal use), and dispatches that
// carry their own small uniform block of u32 parameters.

export interface GpuContext {
  readonly device: GPUDevice;
  /** The most bytes one tensor part may hold (the device's binding limit, or a smaller internal cap). */
  readonly bindingBytes: number;
  /** The device's own binding limit, for the kernels' scratch records (whose size does not grow with L). */
  readonly deviceBindingBytes: number;
  /** A 16-byte buffer bound where a kernel's optional input (a key mask) is absent. */
  readonly absent: GPUBuffer;
  /** maxComputeWorkgroupStorageSize of the device, for choosing tile sizes. */
  readonly workgroupBytes: number;
  pipeline(code: string): GPUComputePipeline;
  /** Records dispatches and submits them together. */
  batch(): Batch;
  /** The first validation or out-of-memory error the device reported, if any. */
  takeError(): Error | undefined;
}

export interface Batch {
  /**
   * Dispatches `groups` workgroups. Bindings 0..n−1 are `buffers` (null: a binding this program
   * declares but does not use, which the automatic layout leaves out); binding n is a uniform block
   * whose first word is the x offset of the dispatch (large x counts are split into dispatches of at
   * most maxComputeWorkgroupsPerDimension) followed by `params`.
   */
  dispatch(pipeline: GPUComputePipeline, buffers: readonly (GPUBuffer | null)[], params: readonly number[], groups: readonly [number, number, number]): void;
  submit(): void;
}

/** Compiled pipelines per device, keyed by WGSL source: contexts on one device share them. */
const compiled = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

export function createContext(device: GPUDevice, maxBindingBytes = Infinity): GpuContext {
  const lim = device.limits;
  const deviceBindingBytes = Math.floor(Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize) / 16) * 16;
  const bindingBytes = Math.floor(Math.min(maxBindingBytes, deviceBindingBytes) / 16) * 16;
  if (bindingBytes < 16) throw new Error(`webgpu: maxBindingBytes ${maxBindingBytes} is below 16 bytes`);
  let cache = compiled.get(device);
  if (!cache) compiled.set(device, cache = new Map());
  let firstError: Error | undefined;
  device.addEventListener('uncapturederror', (ev) => {
    firstError ??= new Error(`webgpu: device error: ${(ev as GPUUncapturedErrorEvent).error.message}`);
  });
  const maxGroups = lim.maxComputeWorkgroupsPerDimension;
  return {
    device,
    bindingBytes,
    deviceBindingBytes,
    absent: device.createBuffer({ size: 16, usage: 0x0080 }),
    workgroupBytes: lim.maxComputeWorkgroupStorageSize,
    pipeline(code) {
      let p = cache!.get(code);
      if (!p) {
        p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
        cache!.set(code, p);
      }
      return p;
    },
    batch() {
      const enc = device.createCommandEncoder();
      const uniforms: GPUBuffer[] = [];
      return {
        dispatch(pipeline, buffers, params, [gx, gy, gz]) {
          if (gy > maxGroups || gz > maxGroups) throw new Error(`webgpu: ${gy} × ${gz} workgroups exceed maxComputeWorkgroupsPerDimension ${maxGroups}`);
          for (let x0 = 0; x0 < gx; x0 += maxGroups) {
            const words = new Uint32Array(Math.ceil((params.length + 1) / 4) * 4);
            words[0] = x0;
            words.set(params, 1);
            const u = device.createBuffer({ size: words.byteLength, usage: 0x0040 | 0x0008 }); // UNIFORM | COPY_DST
            device.queue.writeBuffer(u, 0, words);
            uniforms.push(u);
            const entries: GPUBindGroupEntry[] = buffers.flatMap((buffer, binding) => (buffer ? [{ binding, resource: { buffer } }] : []));
            entries.push({ binding: buffers.length, resource: { buffer: u } });
            const pass = enc.beginComputePass();
            pass.setPipeline(pipeline);
            pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
            pass.dispatchWorkgroups(Math.min(maxGroups, gx - x0), gy, gz);
            pass.end();
          }
        },
        submit() {
          device.queue.submit([enc.finish()]);
          for (const u of uniforms) u.destroy();
        },
      };
    },
    takeError() {
      const e = firstError;
      firstError = undefined;
      return e;
    },
  };
}
