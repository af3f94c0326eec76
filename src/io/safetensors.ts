// The safetensors format (https://github.com/huggingface/safetensors), as pure functions over
// Uint8Array (no Node APIs, so this also runs in a browser). File helpers: ./safetensors-node.ts.
//
// Layout: 8 bytes little-endian u64 N; N bytes of UTF-8 JSON, an object mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the start of the data
// buffer, end exclusive) plus an optional "__metadata__" object of string → string; then the data
// buffer, row-major, little-endian.
//
// Reading: every tensor is returned as a float32 Tensor. F32 is copied as is; F64, F16, BF16, the
// signed/unsigned integer types and BOOL are converted to float32 (F64 and 64-bit integers lose
// precision; F64 values beyond the float32 range become ±Infinity, which `finite` then reports).
// F8_E4M3 / F8_E5M2 and other dtypes are rejected with an error naming the tensor.
//
// Validation (each failure throws a SafetensorsError, one line, naming the source and the tensor):
// file shorter than 8 bytes; header length beyond the file or above 100 MB; header not UTF-8, not
// JSON or not an object; duplicate names; a bad entry (missing or mistyped dtype, shape or
// data_offsets); unknown dtype; data_offsets out of the buffer, overlapping another tensor, or not
// equal to shape × dtype size; gaps between tensors or unused bytes after the last one (as the
// reference implementation does); bad __metadata__; and, when asked (`finite`), NaN/±Infinity.
//
// Writing: float32 tensors as F32, in the order given, header padded with spaces so the data
// buffer starts at a multiple of 8 bytes (as the reference implementation writes it).

import { Tensor } from '../tensor/tensor.js';
import { formatShape, sizeOf } from '../tensor/shape.js';

/** Bytes per element for every dtype the format defines. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** The dtypes this reader converts to float32. */
export const READABLE_DTYPES = ['F32', 'F64', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL'] as const;
export type ReadableDType = (typeof READABLE_DTYPES)[number];

/** Largest header accepted (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  readonly source: string;
  readonly tensor: string | undefined;
  constructor(source: string, message: string, tensor?: string) {
    super(`${source}: ${tensor !== undefined ? `tensor ${JSON.stringify(tensor)}: ` : ''}${message}`);
    this.name = 'SafetensorsError';
    this.source = source;
    this.tensor = tensor;
  }
}

/** One tensor as described by the header. `begin`/`end` are relative to the data buffer. */
export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Tensors in header order. */
  tensors: TensorEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data buffer from the start of the file (8 + header length). */
  dataOffset: number;
}

export interface HeaderOptions {
  /** Name used in error messages (usually the file path). Default "<buffer>". */
  source?: string;
  /**
   * Total file size, when `bytes` is only a prefix of the file (at least the 8-byte length and the
   * header). Default: bytes.length.
   */
  fileSize?: number;
}

export interface DecodeOptions {
  source?: string;
  /** Reject NaN and ±Infinity: true for every tensor, or a list of tensor names. Default false. */
  finite?: boolean | readonly string[];
  /** Decode only these tensors (the whole header is still validated). Default: all. */
  only?: readonly string[];
}

export interface DecodedSafetensors {
  /** Tensors in header order, all float32. */
  tensors: Map<string, Tensor>;
  /** The dtype each tensor had in the file. */
  dtypes: Map<string, string>;
  metadata: Record<string, string>;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isIndex(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** The first top-level key that appears twice in a (valid) JSON object text, if any. */
function duplicateTopLevelKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < json.length && json.charCodeAt(j) !== 0x22) j += json.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < json.length && /\s/.test(json[k]!)) k++;
        if (json[k] === ':') {
          const key = JSON.parse(json.slice(i, j + 1)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) depth++;
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return undefined;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

/** Parse and validate the header (and the layout of the data buffer it describes). */
export function parseSafetensorsHeader(bytes: Uint8Array, opts: HeaderOptions = {}): SafetensorsHeader {
  const source = opts.source ?? '<buffer>';
  const fileSize = opts.fileSize ?? bytes.length;
  const fail = (msg: string, tensor?: string): never => {
    throw new SafetensorsError(source, msg, tensor);
  };

  if (fileSize < 8 || bytes.length < 8) {
    fail(`file too short (${fileSize} bytes): a safetensors file starts with an 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(fileSize - 8)) {
    fail(`header length ${n64} goes beyond the end of the file (${fileSize} bytes)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (bytes.length < 8 + n) fail(`only ${bytes.length} bytes given, header needs ${8 + n}`);
  if (n < 2) fail(`header length ${n} is too small for a JSON object`);

  let text: string;
  try {
    text = utf8Decoder.decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${oneLine((e as Error).message)})`);
  }
  if (!isPlainObject(json)) return fail('header is not a JSON object');
  const dup = duplicateTopLevelKey(text);
  if (dup !== undefined) fail(`header has the name ${JSON.stringify(dup)} twice`);

  const dataOffset = 8 + n;
  const bufferSize = fileSize - dataOffset;
  const metadata: Record<string, string> = {};
  const tensors: TensorEntry[] = [];

  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) fail('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ entry ${JSON.stringify(k)} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (!isPlainObject(raw)) fail('header entry is not an object', name);
    const entry = raw as Record<string, unknown>;
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') fail('missing or non-string "dtype"', name);
    const width = DTYPE_BYTES[dtype as string];
    if (width === undefined) fail(`unknown dtype ${JSON.stringify(dtype)}`, name);
    if (!Array.isArray(shape) || !shape.every(isIndex)) {
      fail(`"shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`, name);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
      fail(`"data_offsets" must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`, name);
    }
    const [begin, end] = offsets as [number, number];
    const dims = shape as number[];
    if (begin > end) fail(`data_offsets [${begin}, ${end}] has begin after end`, name);
    const count = sizeOf(dims);
    if (!Number.isSafeInteger(count * width!)) fail(`shape ${formatShape(dims)} is too large`, name);
    if (end - begin !== count * width!) {
      fail(
        `data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape ${formatShape(dims)} of ${dtype} needs ${count * width!}`,
        name,
      );
    }
    if (end > bufferSize) {
      fail(`data_offsets [${begin}, ${end}] go beyond the data buffer (${bufferSize} bytes)`, name);
    }
    tensors.push({ name, dtype: dtype as string, shape: [...dims], begin, end });
  }

  // Tensors must tile the buffer: sorted by offset, no overlap, no gap, nothing left at the end.
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: TensorEntry | undefined;
  for (const t of sorted) {
    if (t.begin < pos) {
      fail(`data_offsets [${t.begin}, ${t.end}] overlap tensor ${JSON.stringify(prev!.name)} [${prev!.begin}, ${prev!.end}]`, t.name);
    }
    if (t.begin > pos) fail(`data_offsets [${t.begin}, ${t.end}] leave a gap: bytes ${pos}..${t.begin} belong to no tensor`, t.name);
    if (t.end > t.begin) {
      pos = t.end;
      prev = t;
    }
  }
  if (pos !== bufferSize) {
    fail(`data buffer has ${bufferSize} bytes but the tensors cover only ${pos}: file truncated or has trailing bytes`);
  }
  return { tensors, metadata, dataOffset };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Convert `count` elements of `dtype` at bytes[start..] to float32. */
function toFloat32(bytes: Uint8Array, start: number, count: number, dtype: string): Float32Array | undefined {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * DTYPE_BYTES[dtype]!);
  switch (dtype) {
    case 'F32':
      if (littleEndianHost) out.set(new Float32Array(Uint8Array.prototype.slice.call(bytes, start, start + 4 * count).buffer)); // (a Buffer's own slice is a view)
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    case 'F64': for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true); return out;
    case 'F16': for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true)); return out;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'I64': for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, true)); return out;
    case 'U64': for (let i = 0; i < count; i++) out[i] = Number(view.getBigUint64(8 * i, true)); return out;
    case 'I32': for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true); return out;
    case 'U32': for (let i = 0; i < count; i++) out[i] = view.getUint32(4 * i, true); return out;
    case 'I16': for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, true); return out;
    case 'U16': for (let i = 0; i < count; i++) out[i] = view.getUint16(2 * i, true); return out;
    case 'I8': for (let i = 0; i < count; i++) out[i] = view.getInt8(i); return out;
    case 'U8': for (let i = 0; i < count; i++) out[i] = view.getUint8(i); return out;
    case 'BOOL': for (let i = 0; i < count; i++) out[i] = view.getUint8(i) ? 1 : 0; return out;
    default: return undefined;
  }
}

/** Row-major index → multi-index, for error messages. */
export function unravelIndex(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let a = shape.length - 1; a >= 0; a--) {
    const s = shape[a]!;
    idx[a] = flat % s;
    flat = Math.floor(flat / s);
  }
  return idx;
}

/** Index of the first NaN/±Infinity, or -1. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

/** One-line description of a non-finite value, e.g. "NaN at [0, 1, 2]". */
export function describeNonFinite(data: Float32Array, i: number, shape: readonly number[]): string {
  return `${data[i]} at ${formatShape(unravelIndex(i, shape))}`;
}

/** Decode a whole safetensors file held in memory. */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedSafetensors {
  const source = opts.source ?? '<buffer>';
  const header = parseSafetensorsHeader(bytes, { source });
  const wanted = opts.only ? new Set(opts.only) : undefined;
  const checkAll = opts.finite === true;
  const checkSome = Array.isArray(opts.finite) ? new Set(opts.finite as readonly string[]) : undefined;
  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, string>();
  for (const t of header.tensors) {
    if (wanted && !wanted.has(t.name)) continue;
    const count = sizeOf(t.shape);
    const data = toFloat32(bytes, header.dataOffset + t.begin, count, t.dtype);
    if (!data) {
      throw new SafetensorsError(source, `dtype ${t.dtype} is not supported (readable: ${READABLE_DTYPES.join(', ')})`, t.name);
    }
    if (checkAll || checkSome?.has(t.name)) {
      const bad = firstNonFinite(data);
      if (bad >= 0) {
        const converted = t.dtype === 'F32' ? '' : ` (after conversion from ${t.dtype} to float32)`;
        throw new SafetensorsError(source, `non-finite value ${describeNonFinite(data, bad, t.shape)}${converted}`, t.name);
      }
    }
    tensors.set(t.name, new Tensor(t.shape, data));
    dtypes.set(t.name, t.dtype);
  }
  return { tensors, dtypes, metadata: header.metadata };
}

export type TensorSet = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

function entriesOf(tensors: TensorSet): [string, Tensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, Tensor>);
}

/**
 * Encode float32 tensors (as F32, in the given order) and optional string metadata. Tensors named
 * in `int64` are written as I64 instead (their values must be integers), as PyTorch's integer
 * buffers are.
 */
export function encodeSafetensors(tensors: TensorSet, metadata?: Readonly<Record<string, string>>, int64: ReadonlySet<string> = new Set()): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors metadata ${JSON.stringify(k)} must be a string`);
    }
    header.__metadata__ = { ...metadata };
  }
  const list = entriesOf(tensors);
  let offset = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new Error('a tensor cannot be named "__metadata__"');
    const wide = int64.has(name);
    if (wide && !t.data.every((x) => Number.isSafeInteger(x))) throw new Error(`tensor ${JSON.stringify(name)} is written as I64 but holds a non-integer`);
    const bytes = (wide ? 8 : 4) * t.data.length;
    header[name] = { dtype: wide ? 'I64' : 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = utf8Encoder.encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const [name, t] of list) {
    if (int64.has(name)) {
      const view = new DataView(out.buffer, pos, 8 * t.data.length);
      for (let i = 0; i < t.data.length; i++) view.setBigInt64(8 * i, BigInt(t.data[i]!), true);
      pos += 8 * t.data.length;
      continue;
    }
    if (littleEndianHost) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    } else {
      const view = new DataView(out.buffer, pos, t.data.byteLength);
      for (let i = 0; i < t.data.length; i++) view.setFloat32(4 * i, t.data[i]!, true);
    }
    pos += t.data.byteLength;
  }
  return out;
}
