// A reader for the zip archives torch.save writes (PKWARE APPNOTE 6.3): entries are stored (method
// 0), possibly with zip64 records. Pure functions over Uint8Array, no Node APIs.
//
// Layout read here: the end-of-central-directory record (last 22 + comment bytes; for zip64, its
// locator points at the zip64 record), the central directory it points at (one header per entry:
// method, CRC-32, sizes, local header offset, name), and each entry's local header, after which
// its bytes follow. Every offset and size is checked against the file and the CRC-32 of every
// entry is verified, so a truncated or damaged archive is an error naming the entry, never wrong
// data.

export class ZipError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'ZipError';
  }
}

const EOCD = 0x06054b50, EOCD64 = 0x06064b50, EOCD64_LOCATOR = 0x07064b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip stores it. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Entry name → its bytes (views into `bytes`). */
export function readZip(bytes: Uint8Array, source = 'zip'): Map<string, Uint8Array> {
  const fail = (msg: string): never => { throw new ZipError(source, msg); };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number): number => view.getUint16(o, true);
  const u32 = (o: number): number => view.getUint32(o, true);
  const u64 = (o: number): number => {
    const v = view.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`a zip64 size or offset ${v} is too large`);
    return Number(v);
  };
  const within = (o: number, n: number, what: string): void => {
    if (o < 0 || o + n > bytes.length) fail(`${what} at byte ${o} (${n} bytes) lies beyond the end of the ${bytes.length}-byte file (truncated?)`);
  };
  if (bytes.length < 22) fail(`${bytes.length} bytes is too short for a zip archive (truncated?)`);
  let eocd = -1;
  for (let o = bytes.length - 22; o >= Math.max(0, bytes.length - 22 - 0xffff); o--) {
    if (u32(o) === EOCD && o + 22 + u16(o + 20) === bytes.length) { eocd = o; break; }
  }
  if (eocd < 0) fail('no zip end-of-central-directory record (not a zip archive, or truncated)');
  let count = u16(eocd + 10), cdSize = u32(eocd + 12), cdOffset = u32(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || u32(loc) !== EOCD64_LOCATOR) fail('zip64 archive without a zip64 end-of-central-directory locator');
    const rec = u64(loc + 8);
    within(rec, 56, 'the zip64 end-of-central-directory record');
    if (u32(rec) !== EOCD64) fail(`no zip64 end-of-central-directory record at byte ${rec}`);
    count = u64(rec + 32); cdSize = u64(rec + 40); cdOffset = u64(rec + 48);
  }
  within(cdOffset, cdSize, 'the central directory');
  const entries = new Map<string, Uint8Array>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    within(p, 46, `central directory entry ${i}`);
    if (u32(p) !== CENTRAL) fail(`central directory entry ${i} at byte ${p} has a bad signature`);
    const method = u16(p + 10), crc = u32(p + 16);
    let size = u32(p + 20), usize = u32(p + 24);
    const nameLen = u16(p + 28), extraLen = u16(p + 30), commentLen = u16(p + 32);
    let local = u32(p + 42);
    within(p + 46, nameLen + extraLen + commentLen, `central directory entry ${i}`);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information (header id 1): the fields that are 0xFFFFFFFF above, in order.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = u16(e), len = u16(e + 2);
      if (id === 1) {
        let f = e + 4;
        if (usize === 0xffffffff) { usize = u64(f); f += 8; }
        if (size === 0xffffffff) { size = u64(f); f += 8; }
        if (local === 0xffffffff) local = u64(f);
      }
      e += 4 + len;
    }
    if (method !== 0) fail(`entry ${JSON.stringify(name)} is compressed (method ${method}); torch.save stores entries uncompressed`);
    if (size !== usize) fail(`entry ${JSON.stringify(name)} is stored but its sizes differ (${size} vs ${usize})`);
    within(local, 30, `the local header of ${JSON.stringify(name)}`);
    if (u32(local) !== LOCAL) fail(`the local header of ${JSON.stringify(name)} at byte ${local} has a bad signature`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    within(start, size, `the data of ${JSON.stringify(name)}`);
    const data = bytes.subarray(start, start + size);
    if (crc32(data) !== crc) fail(`entry ${JSON.stringify(name)} fails its CRC-32 check (damaged file)`);
    if (entries.has(name)) fail(`entry ${JSON.stringify(name)} appears twice`);
    entries.set(name, data);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
