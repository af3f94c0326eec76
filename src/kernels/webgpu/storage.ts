// Device-resident float32 tensors. One tensor is one or more GPUBuffers ("parts"): a storage
// binding may hold at most `bindingBytes` (the adapter's maxStorageBufferBindingSize, 128 MiB by
// default, or a smaller internal cap), and long sequences exceed it. Parts hold whole rows of
// `rowLength` values, so a kernel that works on rows never sees one cut in two.
// Reading back is asynchronous (mapAsync), as on every GPU API.

export interface GpuTensor {
  readonly parts: readonly GPUBuffer[];
  /** Values per part (every part but the last holds exactly this many). */
  readonly partLength: number;
  readonly length: number;
  readonly rowLength: number;
}

const STORAGE = 0x0080 | 0x0004 | 0x0008; // GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST

/** Values per part for rows of `rowLength` under a binding cap of `bindingBytes`. */
export function partLength(length: number, rowLength: number, bindingBytes: number): number {
  const rowsPerPart = Math.floor(bindingBytes / 4 / rowLength);
  if (rowsPerPart < 1) {
    throw new Error(`webgpu: one row of ${rowLength} float32 values (${rowLength * 4} bytes) exceeds the storage-binding limit of ${bindingBytes} bytes`);
  }
  return Math.min(Math.max(length, 1), rowsPerPart * rowLength);
}

export function allocate(device: GPUDevice, length: number, rowLength: number, bindingBytes: number, label: string): GpuTensor {
  if (!Number.isInteger(length) || length < 0) throw new Error(`webgpu: ${label}: length ${length} is not a non-negative integer`);
  if (!Number.isInteger(rowLength) || rowLength < 1) throw new Error(`webgpu: ${label}: row length ${rowLength} is not a positive integer`);
  if (length % rowLength !== 0) throw new Error(`webgpu: ${label}: length ${length} is not a multiple of the row length ${rowLength}`);
  const per = partLength(length, rowLength, bindingBytes);
  const parts: GPUBuffer[] = [];
  for (let start = 0; start < Math.max(length, 1); start += per) {
    const n = Math.min(per, Math.max(length, 1) - start);
    parts.push(device.createBuffer({ label: `${label}[${parts.length}]`, size: Math.ceil((n * 4) / 16) * 16, usage: STORAGE }));
  }
  return { parts, partLength: per, length, rowLength };
}

/** Copies host values into a tensor (one writeBuffer per part). */
export function write(device: GPUDevice, t: GpuTensor, data: Float32Array): void {
  if (data.length !== t.length) throw new Error(`webgpu: writing ${data.length} values into a tensor of ${t.length}`);
  t.parts.forEach((buf, p) => {
    const start = p * t.partLength;
    const n = Math.min(t.partLength, t.length - start);
    if (n > 0) device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset + start * 4, n * 4);
  });
}

/** The values, once every command submitted before has finished. */
export async function read(device: GPUDevice, t: GpuTensor): Promise<Float32Array> {
  const out = new Float32Array(t.length);
  const enc = device.createCommandEncoder();
  const staging: GPUBuffer[] = [];
  t.parts.forEach((buf, p) => {
    const size = Math.max(1, Math.min(t.partLength, t.length - p * t.partLength)) * 4;
    const s = device.createBuffer({ size, usage: 0x0001 | 0x0008 }); // MAP_READ | COPY_DST
    enc.copyBufferToBuffer(buf, 0, s, 0, size);
    staging.push(s);
  });
  device.queue.submit([enc.finish()]);
  for (let p = 0; p < staging.length; p++) {
    const s = staging[p]!;
    await s.mapAsync(0x0001); // GPUMapMode.READ
    const n = Math.min(t.partLength, t.length - p * t.partLength);
    if (n > 0) out.set(new Float32Array(s.getMappedRange(), 0, n), p * t.partLength);
    s.unmap();
    s.destroy();
  }
  return out;
}

export function destroy(t: GpuTensor): void {
  for (const b of t.parts) b.destroy();
}
