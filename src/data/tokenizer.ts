// Tokenizers for Performer language models (no Node APIs: runs in browsers too).
//
// Every tokenizer puts its regular tokens first, ids 0 .. numRegular-1, and then five special
// tokens in a fixed order: pad, unk, bos, eos, mask. So `id < numRegular` tests "regular token",
// and the MLM helper draws random replacements from [0, numRegular).
//
//   byte   ids 0..255 are the bytes of the UTF-8 encoding (id = byte value); specials 256..260;
//          vocabSize 261. encode never yields unk. decode turns broken UTF-8 into U+FFFD.
//   amino  ids 0..19 are the 20 standard residues ACDEFGHIKLMNPQRSTVWY, id 20 is X, which stands
//          for every other letter (B, Z, U, O, J, X, ...); specials 21..25; vocabSize 26. Lower
//          case is read as upper case; whitespace is skipped (sequences span lines); any other
//          character (gap '-', stop '*', digits, non-ASCII) becomes unk.
//
// toJSON() describes the tokenizer fully (it goes into checkpoint.json); tokenizerFromJSON checks
// that the layout it describes is the one this code implements.

export const SPECIAL_NAMES = ['pad', 'unk', 'bos', 'eos', 'mask'] as const;
export type SpecialName = (typeof SPECIAL_NAMES)[number];

export interface TokenizerJSON {
  type: 'byte' | 'amino' | 'none';
  version: 1;
  vocabSize: number;
  special: Record<SpecialName, number>;
}

export interface DecodeOptions {
  /** Render special tokens as `<pad>`, `<unk>`, `<bos>`, `<eos>`, `<mask>`. Default: drop them. */
  specials?: boolean;
}

/** Turns ids back into text piece by piece (for printing generated tokens as they come). */
export interface StreamDecoder {
  /** Text completed by these ids (a byte tokenizer holds back an incomplete UTF-8 sequence). */
  push(ids: ArrayLike<number> | number): string;
  /** Whatever is held back, with an incomplete sequence as U+FFFD. */
  end(): string;
}

export interface Tokenizer {
  /** 'byte' or 'amino'. */
  readonly name: TokenizerJSON['type'];
  readonly vocabSize: number;
  /** Regular tokens are ids 0 .. numRegular-1; the specials follow. */
  readonly numRegular: number;
  readonly pad: number;
  readonly unk: number;
  readonly bos: number;
  readonly eos: number;
  readonly mask: number;
  encode(text: string): Int32Array;
  /**
   * Encode raw bytes of a file (UTF-8 text for byte, ASCII residues for amino). Stateless per
   * byte, so a stream can be encoded chunk by chunk with any chunk boundaries.
   */
  encodeBytes(bytes: Uint8Array): Int32Array;
  decode(ids: ArrayLike<number>, opts?: DecodeOptions): string;
  streamDecoder(opts?: DecodeOptions): StreamDecoder;
  /** Readable name of one id: the character, `<0x0a>` for a non-printable byte, or `<bos>` etc. */
  tokenString(id: number): string;
  isSpecial(id: number): boolean;
  toJSON(): TokenizerJSON;
}

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

function checkId(t: Tokenizer, id: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= t.vocabSize) {
    throw new TokenizerError(`${t.name} tokenizer: token id ${id} is outside the vocabulary [0, ${t.vocabSize})`);
  }
}

abstract class BaseTokenizer implements Tokenizer {
  abstract readonly name: TokenizerJSON['type'];
  readonly vocabSize: number;
  readonly pad: number;
  readonly unk: number;
  readonly bos: number;
  readonly eos: number;
  readonly mask: number;

  constructor(readonly numRegular: number) {
    this.vocabSize = numRegular + SPECIAL_NAMES.length;
    this.pad = numRegular;
    this.unk = numRegular + 1;
    this.bos = numRegular + 2;
    this.eos = numRegular + 3;
    this.mask = numRegular + 4;
  }

  abstract encodeBytes(bytes: Uint8Array): Int32Array;
  abstract encode(text: string): Int32Array;
  abstract streamDecoder(opts?: DecodeOptions): StreamDecoder;
  protected abstract regularString(id: number): string;

  isSpecial(id: number): boolean {
    return id >= this.numRegular && id < this.vocabSize;
  }

  specialString(id: number): string {
    return `<${SPECIAL_NAMES[id - this.numRegular]}>`;
  }

  tokenString(id: number): string {
    checkId(this, id);
    return this.isSpecial(id) ? this.specialString(id) : this.regularString(id);
  }

  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    const d = this.streamDecoder(opts);
    return d.push(ids) + d.end();
  }

  toJSON(): TokenizerJSON {
    return {
      type: this.name,
      version: 1,
      vocabSize: this.vocabSize,
      special: { pad: this.pad, unk: this.unk, bos: this.bos, eos: this.eos, mask: this.mask },
    };
  }
}

const utf8 = new TextEncoder();

export class ByteTokenizer extends BaseTokenizer {
  readonly name = 'byte' as const;

  constructor() {
    super(256);
  }

  encode(text: string): Int32Array {
    return Int32Array.from(utf8.encode(text));
  }

  encodeBytes(bytes: Uint8Array): Int32Array {
    return Int32Array.from(bytes);
  }

  protected regularString(id: number): string {
    if (id >= 0x20 && id < 0x7f) return String.fromCharCode(id);
    return `<0x${id.toString(16).padStart(2, '0')}>`;
  }

  streamDecoder(opts: DecodeOptions = {}): StreamDecoder {
    const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    const buf: number[] = [];
    const flushBytes = (stream: boolean): string => {
      if (buf.length === 0) return stream ? '' : decoder.decode();
      const s = decoder.decode(Uint8Array.from(buf), { stream });
      buf.length = 0;
      return s;
    };
    const push = (ids: ArrayLike<number> | number): string => {
      const list = typeof ids === 'number' ? [ids] : ids;
      let out = '';
      for (let i = 0; i < list.length; i++) {
        const id = list[i]!;
        checkId(this, id);
        if (id < 256) {
          buf.push(id);
        } else if (opts.specials) {
          // A special token ends any pending byte sequence (an incomplete one becomes U+FFFD).
          out += flushBytes(false) + this.specialString(id);
        }
      }
      return out + flushBytes(true);
    };
    return { push, end: () => flushBytes(false) };
  }
}

/** The 20 standard amino acids, in the order of their ids. */
export const AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWY';

export class AminoTokenizer extends BaseTokenizer {
  readonly name = 'amino' as const;
  /** Id of X (any non-standard residue letter). */
  readonly x = 20;
  /** Byte → id; -1 for whitespace (skipped), -2 for a UTF-8 continuation byte (skipped). */
  private readonly table: Int16Array;

  constructor() {
    super(21);
    const t = new Int16Array(256).fill(this.unk);
    for (let c = 0x41; c <= 0x5a; c++) t[c] = t[c + 0x20] = this.x;
    for (let i = 0; i < AMINO_ACIDS.length; i++) {
      const c = AMINO_ACIDS.charCodeAt(i);
      t[c] = t[c + 0x20] = i;
    }
    for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]) t[c] = -1;
    for (let c = 0x80; c < 0xc0; c++) t[c] = -2; // one unk per non-ASCII character, at its lead byte
    this.table = t;
  }

  encodeBytes(bytes: Uint8Array): Int32Array {
    const out = new Int32Array(bytes.length);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      const id = this.table[bytes[i]!]!;
      if (id >= 0) out[n++] = id;
    }
    return out.slice(0, n);
  }

  encode(text: string): Int32Array {
    return this.encodeBytes(utf8.encode(text));
  }

  protected regularString(id: number): string {
    return id === this.x ? 'X' : AMINO_ACIDS[id]!;
  }

  streamDecoder(opts: DecodeOptions = {}): StreamDecoder {
    const push = (ids: ArrayLike<number> | number): string => {
      const list = typeof ids === 'number' ? [ids] : ids;
      let out = '';
      for (let i = 0; i < list.length; i++) {
        const id = list[i]!;
        checkId(this, id);
        if (id < this.numRegular) out += this.regularString(id);
        else if (opts.specials) out += this.specialString(id);
      }
      return out;
    };
    return { push, end: () => '' };
  }
}

/**
 * No text mapping (an imported model whose ids mean something only to its author): ids 0 … n−1,
 * no special tokens (their ids are −1). Text cannot be encoded; ids decode to their numbers.
 */
export class IdTokenizer implements Tokenizer {
  readonly name = 'none' as const;
  readonly numRegular: number;
  readonly pad = -1; readonly unk = -1; readonly bos = -1; readonly eos = -1; readonly mask = -1;
  constructor(readonly vocabSize: number) {
    if (!Number.isSafeInteger(vocabSize) || vocabSize < 1) throw new TokenizerError(`none tokenizer: vocabSize must be a positive integer, got ${vocabSize}`);
    this.numRegular = vocabSize;
  }
  encode(): Int32Array {
    throw new TokenizerError('this model has no tokenizer (imported with --tokenizer none): give token ids (--prompt-ids), not text');
  }
  encodeBytes(): Int32Array {
    return this.encode();
  }
  decode(ids: ArrayLike<number>): string {
    return this.streamDecoder().push(ids).trim();
  }
  streamDecoder(): StreamDecoder {
    return {
      push: (ids) => {
        const list = typeof ids === 'number' ? [ids] : Array.from(ids);
        for (const id of list) checkId(this, id);
        return list.map((id) => `${id} `).join('');
      },
      end: () => '',
    };
  }
  tokenString(id: number): string {
    checkId(this, id);
    return String(id);
  }
  isSpecial(): boolean {
    return false;
  }
  toJSON(): TokenizerJSON {
    return { type: 'none', version: 1, vocabSize: this.vocabSize, special: { pad: -1, unk: -1, bos: -1, eos: -1, mask: -1 } };
  }
}

export type TokenizerName = TokenizerJSON['type'];
export const TOKENIZER_NAMES: readonly TokenizerName[] = ['byte', 'amino', 'none'];

export function createTokenizer(name: TokenizerName, vocabSize?: number): Tokenizer {
  switch (name) {
    case 'byte': return new ByteTokenizer();
    case 'amino': return new AminoTokenizer();
    case 'none':
      if (vocabSize === undefined) throw new TokenizerError('the none tokenizer needs a vocabulary size');
      return new IdTokenizer(vocabSize);
    default: throw new TokenizerError(`unknown tokenizer ${JSON.stringify(name)} (known: ${TOKENIZER_NAMES.join(', ')})`);
  }
}

/** Rebuild a tokenizer from toJSON() output, checking that it describes this code's layout. */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TokenizerError(`tokenizer JSON must be an object, got ${JSON.stringify(json)}`);
  }
  const j = json as Partial<TokenizerJSON>;
  if (!TOKENIZER_NAMES.includes(j.type as TokenizerName)) {
    throw new TokenizerError(`unknown tokenizer type ${JSON.stringify(j.type)} (known: ${TOKENIZER_NAMES.join(', ')})`);
  }
  if (j.version !== 1) throw new TokenizerError(`${j.type} tokenizer: unsupported version ${JSON.stringify(j.version)} (expected 1)`);
  const t = createTokenizer(j.type!, j.type === 'none' ? j.vocabSize : undefined);
  const expected = t.toJSON();
  if (j.vocabSize !== expected.vocabSize) {
    throw new TokenizerError(`${j.type} tokenizer: vocabSize ${JSON.stringify(j.vocabSize)} does not match this version's ${expected.vocabSize}`);
  }
  for (const s of SPECIAL_NAMES) {
    if (j.special?.[s] !== expected.special[s]) {
      throw new TokenizerError(
        `${j.type} tokenizer: special token ${s} has id ${JSON.stringify(j.special?.[s])}, this version uses ${expected.special[s]}`,
      );
    }
  }
  return t;
}
