// The one WebAssembly.Memory all kernels (and all threads) work in, with a first-fit allocator
// for float32 buffers. Buffers handed out are Float32Array views, so callers can fill inputs in
// place and the backend can pass them to kernels without copying.

const PAGE = 65536;
/** A wasm32 memory's limit: 65,536 pages. */
const MAX_BYTES = 2 ** 32;
const ALIGN = 64; // cache line; also keeps every v128 access aligned

interface Block { start: number; size: number }

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  /** Every ArrayBuffer memory.buffer has returned: growth replaces the object (a shared memory's
   *  old views stay valid and still point into this heap, an unshared one's are detached). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private readonly freeList: Block[] = []; // sorted by start, coalesced
  private readonly used = new Map<number, number>(); // start → size
  private usedTotal = 0;
  /** Bytes the memory may grow to (its maximum). */
  readonly capacity: number;

  constructor(memory: WebAssembly.Memory, base: number, shared: boolean, capacity = MAX_BYTES) {
    this.memory = memory;
    this.shared = shared;
    this.capacity = capacity;
    const start = roundUp(Math.max(base, ALIGN), ALIGN); // address 0 stays unused: it means "none"
    const end = memory.buffer.byteLength;
    if (end > start) this.freeList.push({ start, size: end - start });
  }

  /** The current buffer (registered so that views made from it are recognised). */
  buffer(): ArrayBufferLike {
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    return buffer;
  }

  /** Whether arr is a view into this heap (then its byteOffset is its wasm address). */
  owns(arr: ArrayBufferView): boolean {
    return this.buffers.has(arr.buffer);
  }

  /** An uninitialised (not necessarily zero) float32 buffer of n elements inside the heap. */
  alloc(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`alloc: length must be a non-negative integer, got ${n}`);
    const addr = this.allocBytes(n * 4); // may grow the memory: take the buffer afterwards
    return new Float32Array(this.buffer(), addr, n);
  }

  /** Bytes handed out and not yet freed. */
  usedBytes(): number {
    return this.usedTotal;
  }

  /** Releases a buffer returned by alloc. */
  free(arr: Float32Array): void {
    if (!this.owns(arr)) throw new Error('free: the array was not allocated by this backend');
    this.freeBytes(arr.byteOffset);
  }

  /** Reserves bytes (rounded up to 64) and returns their address. */
  allocBytes(bytes: number): number {
    const size = roundUp(Math.max(bytes, 1), ALIGN);
    let index = this.freeList.findIndex((b) => b.size >= size);
    if (index < 0) index = this.grow(size);
    const block = this.freeList[index];
    const start = block.start;
    if (block.size === size) this.freeList.splice(index, 1);
    else { block.start += size; block.size -= size; }
    this.used.set(start, size);
    this.usedTotal += size;
    return start;
  }

  freeBytes(start: number): void {
    const size = this.used.get(start);
    if (size === undefined) throw new Error(`free: no allocation at address ${start} (double free?)`);
    this.used.delete(start);
    this.usedTotal -= size;
    let i = 0;
    while (i < this.freeList.length && this.freeList[i].start < start) i++;
    this.freeList.splice(i, 0, { start, size });
    // Coalesce with the following, then the preceding neighbour.
    const next = this.freeList[i + 1];
    if (next && start + size === next.start) { this.freeList[i].size += next.size; this.freeList.splice(i + 1, 1); }
    const prev = this.freeList[i - 1];
    if (prev && prev.start + prev.size === start) { prev.size += this.freeList[i].size; this.freeList.splice(i, 1); }
  }

  /** Grows the memory so that a free block of `size` bytes exists at its end; returns its index. */
  private grow(size: number): number {
    const oldEnd = this.memory.buffer.byteLength;
    const last = this.freeList[this.freeList.length - 1];
    const tail = last && last.start + last.size === oldEnd ? last.size : 0;
    const pages = Math.ceil((size - tail) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      const total = (oldEnd + pages * PAGE) / 2 ** 20;
      throw new RangeError(`wasm heap: cannot grow by ${pages} pages to ${total.toFixed(0)} MiB: the limit is ${(this.capacity / 2 ** 20).toFixed(0)} MiB (wasm32)`, { cause: e });
    }
    const added = pages * PAGE;
    if (tail > 0) last.size += added;
    else this.freeList.push({ start: oldEnd, size: added });
    return this.freeList.length - 1;
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
