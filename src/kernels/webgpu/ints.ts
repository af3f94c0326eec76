// Host integer inputs (token ids, targets) go to the device per call, as the engine interface has it.

/** A storage buffer holding `values` (at least 16 bytes); the caller destroys it after submitting. */
export function uploadInts(device: GPUDevice, values: Int32Array): GPUBuffer {
  const b = device.createBuffer({ size: Math.max(16, Math.ceil(values.byteLength / 16) * 16), usage: 0x0080 | 0x0008 });
  device.queue.writeBuffer(b, 0, values.buffer, values.byteOffset, values.byteLength);
  return b;
}
