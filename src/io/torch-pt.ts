// torch.save(model.state_dict(), "model.pt") files, read without Python and without running code.
//
// The file is a zip archive (./zip.ts) holding <prefix>/data.pkl, a pickle of the state dict whose
// tensors refer to storages by persistent id, and <prefix>/data/<key>, the raw little-endian bytes
// of each storage. The pickle goes through the weights-only unpickler (./pickle.ts); each tensor is
// then gathered from its storage by offset and strides (views such as transposes and slices of a
// shared storage work) and converted to float32, like the safetensors reader does. The key order
// of the state dict is kept.

import { readZip } from './zip.js';
import { isTensor, PyDict, unpickleWeightsOnly, type PyTensor, type TorchDType } from './pickle.js';

export class TorchFileError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'TorchFileError';
  }
}

export interface TorchTensor { dtype: TorchDType; shape: number[]; data: Float32Array }

const ITEM_BYTES: Readonly<Record<TorchDType, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** IEEE half → number. */
function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function reader(dtype: TorchDType, view: DataView): (i: number) => number {
  switch (dtype) {
    case 'F64': return (i) => view.getFloat64(i * 8, true);
    case 'F32': return (i) => view.getFloat32(i * 4, true);
    case 'F16': return (i) => halfToNumber(view.getUint16(i * 2, true));
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4));
      return (i) => { tmp.setUint32(0, view.getUint16(i * 2, true) << 16, true); return tmp.getFloat32(0, true); };
    }
    case 'I64': return (i) => Number(view.getBigInt64(i * 8, true));
    case 'I32': return (i) => view.getInt32(i * 4, true);
    case 'I16': return (i) => view.getInt16(i * 2, true);
    case 'I8': return (i) => view.getInt8(i);
    case 'U8': case 'BOOL': return (i) => view.getUint8(i);
  }
}

function gather(name: string, t: PyTensor, bytes: Uint8Array, fail: (m: string) => never): Float32Array {
  const { storage, offset, shape, stride } = t;
  const item = ITEM_BYTES[storage.dtype];
  if (bytes.length !== storage.numel * item) fail(`tensor ${JSON.stringify(name)}: storage data/${storage.key} has ${bytes.length} bytes, the pickle says ${storage.numel} × ${item}`);
  const n = shape.reduce((a, b) => a * b, 1);
  // More elements than the storage holds is a broadcast (stride-0) view: a state dict has none, and a
  // lying pickle must not make us allocate 10^10 values from a few bytes.
  if (n > storage.numel) {
    fail(`tensor ${JSON.stringify(name)} has ${n} elements but reads a ${storage.numel}-element storage (a broadcast view; save contiguous tensors)`);
  }
  if (n > 0) {
    const last = offset + shape.reduce((acc, s, i) => acc + (s - 1) * stride[i]!, 0);
    if (offset < 0 || last >= storage.numel) fail(`tensor ${JSON.stringify(name)} reaches element ${last} of a ${storage.numel}-element storage`);
  }
  const read = reader(storage.dtype, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const out = new Float32Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = offset;
    for (let d = 0; d < shape.length; d++) at += idx[d]! * stride[d]!;
    out[i] = read(at);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** The tensors of a torch.save'd state dict, by key, in file order. */
export function readTorchStateDict(bytes: Uint8Array, source = 'model.pt'): Map<string, TorchTensor> {
  const fail = (msg: string): never => { throw new TorchFileError(source, msg); };
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! <= 5) {
    fail('this is a legacy (pre-1.6, non-zip) torch.save file; re-save it with a current PyTorch (torch.save(torch.load(f), g))');
  }
  const entries = readZip(bytes, source);
  const pkl = [...entries.keys()].filter((k) => /^[^/]+\/data\.pkl$/.test(k));
  if (pkl.length !== 1) fail(`expected one <archive>/data.pkl entry, found ${pkl.length} (is this a torch.save file?)`);
  const prefix = pkl[0]!.slice(0, -'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(order) !== 'little') fail('big-endian storages are not supported');
  const root = unpickleWeightsOnly(entries.get(pkl[0]!)!, `${source}: data.pkl`);
  if (!(root instanceof PyDict)) fail('the file does not hold a dict of tensors; save model.state_dict()');
  const out = new Map<string, TorchTensor>();
  for (const [k, v] of (root as PyDict).map) {
    if (typeof k !== 'string') fail(`state dict key ${String(k)} is not a string`);
    if (!isTensor(v)) fail(`state dict entry ${JSON.stringify(k)} is not a tensor; save model.state_dict() itself`);
    const t = v as PyTensor;
    const data = entries.get(`${prefix}data/${t.storage.key}`);
    if (!data) fail(`tensor ${JSON.stringify(k)}: storage data/${t.storage.key} is missing from the archive`);
    out.set(k as string, { dtype: t.storage.dtype, shape: t.shape, data: gather(k as string, t, data!, fail) });
  }
  return out;
}
