// Per-thread scratch memory. The JS side gives every thread SCRATCH_STRIDE bytes from SCRATCH on
// (the two shared head words of a descriptor, ../generated/layout); a kernel lays its thread's area
// out as regions 0 … count−1 in order, each 64-byte aligned (a cache line), sized by its own
// `regionBytes(desc, r)` (0 for a region the call does not use). The kernel's *ScratchBytes export
// reports the area's size, which is what the JS side allocates per thread.
import * as L from '../generated/layout';
import { addr, align64 } from './desc';

/** Bytes of region r of a kernel's per-thread area for this descriptor. */
export type RegionBytes = (desc: usize, r: i32) => usize;

/** Start of thread tid's area. */
export function threadScratch(desc: usize, tid: i32): usize {
  return addr(desc, L.SCRATCH) + <usize>tid * addr(desc, L.SCRATCH_STRIDE);
}

/** Bytes of one thread's area: regions 0 … count−1, each rounded up to 64. */
export function scratchBytes(desc: usize, count: i32, regionBytes: RegionBytes): usize {
  let total: usize = 0;
  for (let r = 0; r < count; r++) total += align64(regionBytes(desc, r));
  return total;
}

/** Address of region r in thread tid's area. */
export function scratchRegion(desc: usize, tid: i32, r: i32, regionBytes: RegionBytes): usize {
  return threadScratch(desc, tid) + scratchBytes(desc, r, regionBytes);
}
