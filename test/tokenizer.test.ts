// Tokenizers: byte-level (UTF-8, broken sequences, specials, streaming decode) and amino-acid (20
// residues, X for other letters, case, whitespace, unk), JSON round trip and its validation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AMINO_ACIDS,
  AminoTokenizer,
  ByteTokenizer,
  createTokenizer,
  tokenizerFromJSON,
  TokenizerError,
  type Tokenizer,
} from '../src/data/tokenizer.js';

function specialsOf(t: Tokenizer): number[] {
  return [t.pad, t.unk, t.bos, t.eos, t.mask];
}

describe('byte tokenizer', () => {
  const t = new ByteTokenizer();

  test('layout: bytes 0..255 then pad, unk, bos, eos, mask', () => {
    assert.equal(t.name, 'byte');
    assert.equal(t.numRegular, 256);
    assert.equal(t.vocabSize, 261);
    assert.deepEqual(specialsOf(t), [256, 257, 258, 259, 260]);
    assert.equal(t.isSpecial(255), false);
    assert.equal(t.isSpecial(256), true);
  });

  test('encode is the UTF-8 bytes; decode inverts it (ASCII, accents, CJK, emoji, BOM, NUL)', () => {
    for (const s of ['', 'hello', 'héllo wörld', '日本語', 'a😀b', '\uFEFFbom', 'nul\0byte', 'line\r\nbreak']) {
      const ids = t.encode(s);
      assert.ok(ids instanceof Int32Array);
      assert.deepEqual([...ids], [...new TextEncoder().encode(s)]);
      assert.equal(t.decode(ids), s);
    }
    assert.deepEqual([...t.encode('é')], [0xc3, 0xa9]);
  });

  test('decode tolerates broken UTF-8 (lone continuation, truncated sequence, invalid bytes)', () => {
    assert.equal(t.decode([0x61, 0x80, 0x62]), 'a\uFFFDb');
    assert.equal(t.decode([0x61, 0xe6, 0x97]), 'a\uFFFD'); // truncated 3-byte sequence at the end
    assert.equal(t.decode([0xff, 0xfe, 0x41]), '\uFFFD\uFFFDA');
    assert.equal(t.decode([0xf0, 0x9f, 0x98]), '\uFFFD');
  });

  test('specials are dropped by default and shown with {specials: true}', () => {
    const ids = [t.bos, 0x68, 0x69, t.eos, t.pad, t.mask, t.unk];
    assert.equal(t.decode(ids), 'hi');
    assert.equal(t.decode(ids, { specials: true }), '<bos>hi<eos><pad><mask><unk>');
  });

  test('out-of-range ids throw a TokenizerError', () => {
    assert.throws(() => t.decode([261]), (e: unknown) => e instanceof TokenizerError && /261.*\[0, 261\)/.test(e.message));
    assert.throws(() => t.decode([-1]), TokenizerError);
    assert.throws(() => t.decode([1.5]), TokenizerError);
    assert.throws(() => t.tokenString(999), TokenizerError);
  });

  test('streaming decode holds back incomplete UTF-8 and matches decode of the whole', () => {
    const s = 'naïve café 😀 日本';
    const ids = t.encode(s);
    const d = t.streamDecoder();
    let out = '';
    const pieces: string[] = [];
    for (const id of ids) {
      const p = d.push(id);
      pieces.push(p);
      out += p;
    }
    out += d.end();
    assert.equal(out, s);
    assert.ok(!pieces.some((p) => p.includes('\uFFFD')), 'no replacement character mid-stream');
    // An incomplete sequence at the end becomes U+FFFD on end().
    const d2 = t.streamDecoder();
    assert.equal(d2.push([0x61, 0xe6]), 'a');
    assert.equal(d2.end(), '\uFFFD');
  });

  test('encodeBytes maps bytes to ids one for one', () => {
    const b = Uint8Array.from([0, 10, 200, 255]);
    assert.deepEqual([...t.encodeBytes(b)], [0, 10, 200, 255]);
  });

  test('tokenString: printable characters, hex for the rest, names for specials', () => {
    assert.equal(t.tokenString(0x41), 'A');
    assert.equal(t.tokenString(0x0a), '<0x0a>');
    assert.equal(t.tokenString(0xe6), '<0xe6>');
    assert.equal(t.tokenString(t.eos), '<eos>');
  });
});

describe('amino-acid tokenizer', () => {
  const t = new AminoTokenizer();

  test('layout: 20 residues, X, then pad, unk, bos, eos, mask', () => {
    assert.equal(t.name, 'amino');
    assert.equal(t.numRegular, 21);
    assert.equal(t.vocabSize, 26);
    assert.deepEqual(specialsOf(t), [21, 22, 23, 24, 25]);
    assert.deepEqual([...t.encode(AMINO_ACIDS)], Array.from({ length: 20 }, (_, i) => i));
    assert.equal(t.x, 20);
  });

  test('every non-standard letter (B Z U O J X) is X; lower case reads as upper', () => {
    assert.deepEqual([...t.encode('BZUOJX')], [20, 20, 20, 20, 20, 20]);
    assert.deepEqual([...t.encode('acdefghiklmnpqrstvwy')], [...t.encode(AMINO_ACIDS)]);
    assert.deepEqual([...t.encode('bzuojx')], [20, 20, 20, 20, 20, 20]);
  });

  test('whitespace is skipped; other characters are unk, one per character', () => {
    assert.deepEqual([...t.encode(' M K\n\tV\r\n')], [...t.encode('MKV')]);
    const u = t.unk;
    assert.deepEqual([...t.encode('MK*')], [t.encode('M')[0], t.encode('K')[0], u]);
    assert.deepEqual([...t.encode('A-1.')], [0, u, u, u]);
    assert.deepEqual([...t.encode('AéA')], [0, u, 0], 'a 2-byte character is one unk');
    assert.deepEqual([...t.encode('A😀A')], [0, u, 0], 'a 4-byte character is one unk');
  });

  test('decode: residues and X as letters, specials dropped or shown', () => {
    const ids = [t.bos, ...t.encode('MKVbz'), t.eos];
    assert.equal(t.decode(ids), 'MKVXX');
    assert.equal(t.decode(ids, { specials: true }), '<bos>MKVXX<eos>');
    assert.equal(t.decode([t.unk, t.mask], { specials: true }), '<unk><mask>');
    assert.throws(() => t.decode([26]), TokenizerError);
  });

  test('encodeBytes is stateless, so any chunking gives the same ids', () => {
    const bytes = new TextEncoder().encode('MKV LLA\nGGé*ZZ');
    const whole = [...t.encodeBytes(bytes)];
    for (let cut = 0; cut <= bytes.length; cut++) {
      const a = [...t.encodeBytes(bytes.subarray(0, cut)), ...t.encodeBytes(bytes.subarray(cut))];
      assert.deepEqual(a, whole, `cut at ${cut}`);
    }
  });
});

describe('tokenizer JSON', () => {
  test('toJSON → tokenizerFromJSON round trip (also through JSON text)', () => {
    for (const name of ['byte', 'amino'] as const) {
      const t = createTokenizer(name);
      const back = tokenizerFromJSON(JSON.parse(JSON.stringify(t.toJSON())));
      assert.equal(back.name, name);
      assert.equal(back.vocabSize, t.vocabSize);
      assert.deepEqual(specialsOf(back), specialsOf(t));
      assert.deepEqual([...back.encode('MKV hi')], [...t.encode('MKV hi')]);
    }
    assert.deepEqual(new ByteTokenizer().toJSON(), {
      type: 'byte', version: 1, vocabSize: 261, special: { pad: 256, unk: 257, bos: 258, eos: 259, mask: 260 },
    });
  });

  test('bad JSON is rejected with a clear message', () => {
    const good = new AminoTokenizer().toJSON();
    const cases: [unknown, RegExp][] = [
      [null, /must be an object/],
      [[], /must be an object/],
      [{ ...good, type: 'bpe' }, /unknown tokenizer type "bpe"/],
      [{ ...good, version: 2 }, /unsupported version 2/],
      [{ ...good, vocabSize: 30 }, /vocabSize 30 does not match this version's 26/],
      [{ ...good, special: { ...good.special, eos: 3 } }, /special token eos has id 3, this version uses 24/],
      [{ type: 'byte', version: 1, vocabSize: 261 }, /special token pad has id undefined/],
    ];
    for (const [json, re] of cases) assert.throws(() => tokenizerFromJSON(json), (e: unknown) => e instanceof TokenizerError && re.test(e.message));
    assert.throws(() => createTokenizer('nope' as 'byte'), /unknown tokenizer "nope"/);
  });
});
