// A weights-only unpickler: reads the data.pkl of a torch.save archive without ever running code.
//
// A pickle is a program for a stack machine; GLOBAL names a Python callable and REDUCE/NEWOBJ call
// it, which is how a malicious file runs os.system. Like PyTorch's own `weights_only=True` loader
// (torch/_weights_only_unpickler.py), this one knows a fixed allow-list of globals (tensor and
// parameter rebuild functions, storage classes, dtypes, torch.Size, OrderedDict) and refuses any
// other one at the GLOBAL opcode, naming it. Allowed globals are not called either: they are
// interpreted here, into plain values and PyTensor descriptions. Only the opcodes that torch's
// loader accepts are implemented (plus BINFLOAT and the short string forms, which only build data);
// any other opcode is an error.

export class PickleError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'PickleError';
  }
}

/** A storage in the archive: `data/<key>`, `numel` elements of `dtype`. */
export interface PyStorage { kind: 'storage'; dtype: TorchDType; key: string; numel: number }
/** torch._utils._rebuild_tensor_v2: a strided view of a storage. */
export interface PyTensor { kind: 'tensor'; storage: PyStorage; offset: number; shape: number[]; stride: number[] }
export interface PyGlobal { kind: 'global'; name: string }
export class PyTuple { constructor(readonly items: PyValue[]) {} }
export class PyDict { readonly map = new Map<string | number | boolean | null, PyValue>(); }
export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyGlobal | PyStorage | PyTensor;

export type TorchDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Storage classes (torch.<Name>Storage) → element type. */
const STORAGES: Readonly<Record<string, TorchDType>> = {
  DoubleStorage: 'F64', FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', LongStorage: 'I64',
  IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

/** torch's weights_only allow-list (torch 1.13 _get_allowed_globals), by dotted name. */
export function isAllowedGlobal(name: string): boolean {
  if (ALLOWED.has(name)) return true;
  const m = /^torch\.(cuda\.)?(sparse\.)?([A-Za-z0-9]+)(Storage|Tensor)$/.exec(name);
  return m !== null;
}
const ALLOWED = new Set([
  'collections.OrderedDict', 'torch.nn.parameter.Parameter', 'torch.serialization._get_layout', 'torch.Size', 'torch.Tensor',
  'torch.complex32', 'torch.complex64', 'torch.complex128', 'torch.float16', 'torch.float32', 'torch.float64',
  'torch.int8', 'torch.int16', 'torch.int32', 'torch.int64',
  'torch.storage.TypedStorage', 'torch.storage.UntypedStorage',
  'torch._utils._rebuild_parameter', 'torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_sparse_tensor', 'torch._utils._rebuild_meta_tensor_no_storage', 'torch._utils._rebuild_sparse_csr_tensor',
]);

const isGlobal = (v: PyValue, name?: string): v is PyGlobal =>
  typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v) && !(v instanceof PyTuple) && !(v instanceof PyDict) &&
  v.kind === 'global' && (name === undefined || v.name === name);
export const isTensor = (v: PyValue): v is PyTensor =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof PyTuple) && !(v instanceof PyDict) && v.kind === 'tensor';

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof PyTuple) return 'a tuple';
  if (v instanceof PyDict) return 'a dict';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.kind === 'global' ? v.name : `a ${v.kind}`;
  return typeof v;
}

function intOf(v: PyValue, what: string, fail: (m: string) => never): number {
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${v} is too large`);
    return Number(v);
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${what} must be an integer, got ${describe(v)}`);
  return v as number;
}

function intTuple(v: PyValue, what: string, fail: (m: string) => never): number[] {
  if (!(v instanceof PyTuple)) fail(`${what} must be a tuple, got ${describe(v)}`);
  return (v as PyTuple).items.map((x) => intOf(x, what, fail));
}

/** Interprets an allowed callable applied to `args` (REDUCE). */
function reduce(fn: PyGlobal, args: PyValue[], fail: (m: string) => never): PyValue {
  switch (fn.name) {
    case 'collections.OrderedDict':
      if (args.length !== 0) fail('OrderedDict called with arguments');
      return new PyDict();
    case 'torch.Size':
      if (args.length !== 1) fail('torch.Size needs one tuple');
      return new PyTuple(intTuple(args[0]!, 'torch.Size', fail));
    case 'torch._utils._rebuild_tensor_v2':
    case 'torch._utils._rebuild_tensor': {
      const [storage, offset, size, stride] = args;
      if (typeof storage !== 'object' || storage === null || (storage as PyStorage).kind !== 'storage') fail(`${fn.name}: expected a storage, got ${describe(storage ?? null)}`);
      const shape = intTuple(size ?? null, 'tensor size', fail);
      const strides = intTuple(stride ?? null, 'tensor stride', fail);
      if (strides.length !== shape.length) fail(`tensor size ${JSON.stringify(shape)} and stride ${JSON.stringify(strides)} differ in rank`);
      if (shape.some((s) => s < 0) || strides.some((s) => s < 0)) fail('negative tensor size or stride');
      return { kind: 'tensor', storage: storage as PyStorage, offset: intOf(offset ?? null, 'storage offset', fail), shape, stride: strides };
    }
    case 'torch._utils._rebuild_parameter': {
      const t = args[0] ?? null;
      if (!isTensor(t)) fail(`_rebuild_parameter: expected a tensor, got ${describe(t)}`);
      return t;
    }
    case 'torch._utils._rebuild_sparse_tensor':
    case 'torch._utils._rebuild_sparse_csr_tensor':
    case 'torch._utils._rebuild_meta_tensor_no_storage':
    case 'torch.serialization._get_layout':
      return fail(`${fn.name}: sparse and meta tensors are not supported (save dense CPU tensors)`);
    default:
      return fail(`calling ${fn.name} is not supported`);
  }
}

/**
 * Runs the pickle `bytes` with the weights-only rules. Persistent ids (BINPERSID) must be
 * ('storage', <Storage class>, key, location, numel) and become PyStorage values.
 */
export function unpickleWeightsOnly(bytes: Uint8Array, source = 'pickle'): PyValue {
  const fail = (msg: string): never => { throw new PickleError(source, msg); };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number): number => {
    if (pos + n > bytes.length) fail(`the pickle ends inside an opcode at byte ${pos} (truncated)`);
    const p = pos;
    pos += n;
    return p;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(`the pickle ends inside a GLOBAL name at byte ${pos} (truncated)`);
    const s = new TextDecoder().decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const utf8 = (n: number): string => {
    const at = need(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at, pos));
    } catch {
      return fail(`a string at byte ${at} is not valid UTF-8`);
    }
  };
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  const pop = (): PyValue => {
    if (stack.length === 0) fail(`stack underflow at byte ${pos - 1}`);
    return stack.pop()!;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail(`stack underflow at byte ${pos - 1}`);
    return stack[stack.length - 1]!;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) fail(`no MARK before byte ${pos - 1}`);
    stack = prev!;
    return items;
  };
  const setItem = (d: PyValue, k: PyValue, v: PyValue): void => {
    if (!(d instanceof PyDict)) fail(`SETITEM on ${describe(d)}`);
    if (k !== null && typeof k === 'object') fail(`dict key ${describe(k)} is not supported`);
    (d as PyDict).map.set(k as string | number | boolean | null, v);
  };
  for (;;) {
    const op = bytes[need(1)]!;
    switch (op) {
      case 0x80: need(1); break; // PROTO
      case 0x2e: return pop(); // STOP
      case 0x28: marks.push(stack); stack = []; break; // MARK
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT
      case 0x4b: stack.push(bytes[need(1)]!); break; // BININT1
      case 0x4d: stack.push(view.getUint16(need(2), true)); break; // BININT2
      case 0x47: stack.push(view.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x8a: { // LONG1: little-endian two's complement
        const n = bytes[need(1)]!;
        const p = need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]!);
        if (n > 0 && bytes[p + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x58: stack.push(utf8(view.getUint32(need(4), true))); break; // BINUNICODE
      case 0x8c: stack.push(utf8(bytes[need(1)]!)); break; // SHORT_BINUNICODE
      case 0x55: { const n = bytes[need(1)]!; stack.push(bytes.slice(need(n), pos)); break; } // SHORT_BINSTRING
      case 0x43: { const n = bytes[need(1)]!; stack.push(bytes.slice(need(n), pos)); break; } // SHORT_BINBYTES
      case 0x71: memo.set(bytes[need(1)]!, top()); break; // BINPUT
      case 0x72: memo.set(view.getUint32(need(4), true), top()); break; // LONG_BINPUT
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? bytes[need(1)]! : view.getUint32(need(4), true);
        if (!memo.has(i)) fail(`memo entry ${i} read before it was written`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x74: { const items = popMark(); stack.push(new PyTuple(items)); break; } // TUPLE (popMark first: it swaps `stack`)
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push(new PyTuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(new PyTuple([a, b, c])); break; } // TUPLE3
      case 0x61: { const v = pop(), l = top(); if (!Array.isArray(l)) fail(`APPEND to ${describe(l)}`); (l as PyValue[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(), l = top(); if (!Array.isArray(l)) fail(`APPENDS to ${describe(l)}`); (l as PyValue[]).push(...items); break; } // APPENDS
      case 0x73: { const v = pop(), k = pop(); setItem(top(), k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i]!, items[i + 1]!);
        break;
      }
      case 0x63: { // GLOBAL: the only way a pickle reaches code, so the allow-list is applied here
        const name = `${line()}.${line()}`;
        if (!isAllowedGlobal(name)) {
          const whole = /^[A-Z]/.test(name.slice(name.lastIndexOf('.') + 1)) && !name.startsWith('torch.');
          fail(`refused global ${name}: only the tensors, storages and containers of a state_dict may appear (torch's weights_only allow-list); nothing was run` +
            (whole ? `. This looks like a whole pickled object (torch.save(model)); save model.state_dict() instead` : ''));
        }
        stack.push({ kind: 'global', name });
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        if (!isGlobal(fn)) fail(`REDUCE on ${describe(fn)}, not an allowed callable`);
        if (!(args instanceof PyTuple)) fail(`REDUCE arguments must be a tuple, got ${describe(args)}`);
        stack.push(reduce(fn as PyGlobal, (args as PyTuple).items, fail));
        break;
      }
      case 0x81: { // NEWOBJ: torch allows only Parameter
        const args = pop(), cls = pop();
        if (!isGlobal(cls, 'torch.nn.parameter.Parameter')) fail(`NEWOBJ of ${describe(cls)} is not allowed`);
        const t = args instanceof PyTuple ? args.items[0] ?? null : null;
        if (!isTensor(t)) fail(`Parameter built from ${describe(t)}`);
        stack.push(t);
        break;
      }
      case 0x62: { // BUILD: torch allows state on Tensor, Parameter and OrderedDict; the state carries no weights
        const state = pop(), inst = top();
        if (!(inst instanceof PyDict) && !isTensor(inst)) fail(`BUILD on ${describe(inst)} is not allowed`);
        void state;
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!(pid instanceof PyTuple) || pid.items.length !== 5) fail(`persistent id must be ('storage', class, key, location, numel), got ${describe(pid)}`);
        const [tag, cls, key, , numel] = (pid as PyTuple).items;
        const tagStr = tag instanceof Uint8Array ? new TextDecoder().decode(tag) : tag;
        if (tagStr !== 'storage') fail(`only storages may be loaded by persistent id, got ${JSON.stringify(tagStr)}`);
        if (!isGlobal(cls!)) fail(`storage class must be a torch storage type, got ${describe(cls!)}`);
        const storageName = (cls as PyGlobal).name.replace(/^torch\./, '');
        const dtype = STORAGES[storageName];
        if (!dtype) fail(`storage type ${(cls as PyGlobal).name} is not supported (${Object.keys(STORAGES).join(', ')})`);
        if (typeof key !== 'string') fail(`storage key must be a string, got ${describe(key!)}`);
        stack.push({ kind: 'storage', dtype: dtype!, key: key as string, numel: intOf(numel!, 'storage size', fail) });
        break;
      }
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1} (not in torch's weights-only set)`);
    }
  }
}
