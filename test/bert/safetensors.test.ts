import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from '../../src/bert/safetensors.ts';
import { DataError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'bert-compress-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const concat = (chunks: Uint8Array[]) => {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
};

/** A safetensors file assembled byte by byte: u64 LE header length, JSON header, data. */
function handMade(header: string, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(header);
  const bytes = new Uint8Array(8 + json.byteLength + data.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.byteLength);
  return bytes;
}

describe('safetensors format', () => {
  it('reads a hand-assembled file: F32, I64, F16, BF16 and __metadata__', () => {
    const data: number[] = [];
    const push = (a: ArrayBufferView) => data.push(...new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    push(new Float32Array([1.5, -2.25]));
    push(new BigInt64Array([-3n]));
    push(new Uint16Array([0x3c00, 0xc000])); // F16 1, -2
    push(new Uint16Array([0x3fc0, 0x4049])); // BF16 1.5, 3.140625
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'I64', shape: [1, 1], data_offsets: [8, 16] },
      c: { dtype: 'F16', shape: [2], data_offsets: [16, 20] },
      d: { dtype: 'BF16', shape: [1, 2], data_offsets: [20, 24] },
      e: { dtype: 'F32', shape: [0], data_offsets: [24, 24] },
    });
    const f = decodeSafetensors(handMade(header, data));
    expect(f.metadata).toEqual({ format: 'pt' });
    expect([...f.tensors.keys()]).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(f.tensors.get('a')).toEqual({ dtype: 'F32', dims: [2], data: new Float32Array([1.5, -2.25]) });
    expect(f.tensors.get('b')).toEqual({ dtype: 'I64', dims: [1, 1], data: new Float32Array([-3]) });
    expect(Array.from(f.tensors.get('c')!.data)).toEqual([1, -2]);
    expect(Array.from(f.tensors.get('d')!.data)).toEqual([1.5, 3.140625]);
    expect(f.tensors.get('e')!.data.length).toBe(0);
  });

  it("reads the 8-bit floats (torch's float8_e4m3fn, float8_e5m2, float8_e8m0fnu) as the values they store", () => {
    // E4M3: 1 (0x38), −448 the largest (0xfe), 2^-9 the least subnormal (0x01), 0.875·2^-6 (0x07), NaN (0x7f), −0 (0x80)
    // E5M2: 1 (0x3c), 57344 the largest (0x7b), −∞ (0xfc), NaN (0x7e), 2^-16 subnormal (0x01)
    // E8M0: 1 (127), 2^-127 (0), 2^127 (254), NaN (255)
    const e4m3 = [0x38, 0xfe, 0x01, 0x07, 0x7f, 0x80];
    const e5m2 = [0x3c, 0x7b, 0xfc, 0x7e, 0x01];
    const e8m0 = [127, 0, 254, 255];
    const header = JSON.stringify({
      a: { dtype: 'F8_E4M3', shape: [2, 3], data_offsets: [0, 6] },
      b: { dtype: 'F8_E5M2', shape: [5], data_offsets: [6, 11] },
      c: { dtype: 'F8_E8M0', shape: [4], data_offsets: [11, 15] },
      d: { dtype: 'F32', shape: [1], data_offsets: [15, 19] },
    });
    const f = decodeSafetensors(handMade(header, [...e4m3, ...e5m2, ...e8m0, ...new Uint8Array(new Float32Array([2.5]).buffer)]));
    expect(f.tensors.get('a')).toMatchObject({ dtype: 'F8_E4M3', dims: [2, 3] });
    expect(Array.from(f.tensors.get('a')!.data)).toEqual([1, -448, 2 ** -9, 0.875 * 2 ** -6, Number.NaN, -0]);
    expect(Array.from(f.tensors.get('b')!.data)).toEqual([1, 57344, Number.NEGATIVE_INFINITY, Number.NaN, 2 ** -16]);
    expect(Array.from(f.tensors.get('c')!.data)).toEqual([1, 2 ** -127, 2 ** 127, Number.NaN]);
    expect(f.tensors.get('d')!.data).toEqual(new Float32Array([2.5]));
    // every E4M3 byte: the float8_e4m3fn value (sign, 4 exponent bits of bias 7, 3 mantissa bits; S.1111.111 alone NaN)
    const all = decodeSafetensors(handMade(JSON.stringify({ e: { dtype: 'F8_E4M3', shape: [256], data_offsets: [0, 256] } }), [...Array(256).keys()]));
    const values = Array.from(all.tensors.get('e')!.data);
    expect(values.filter(Number.isNaN).length).toBe(2);
    expect(Math.max(...values.filter((v) => !Number.isNaN(v)))).toBe(448);
    expect(values[0x40]).toBe(2); // 0.1000.000
    expect(values[0xb4]).toBe(-0.75); // 1.0110.100: −2^-1 · 1.5
  });

  it('writes the layout it reads: u64 LE length, space-padded JSON, data at the offsets', () => {
    const bytes = concat(encodeSafetensors({ w: { dims: [3], data: new Float32Array([1, 2, 3]) } }, { format: 'pt' }));
    const len = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(len % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
    expect(header).toEqual({ __metadata__: { format: 'pt' }, w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } });
    expect(new Float32Array(bytes.slice(8 + len).buffer)).toEqual(new Float32Array([1, 2, 3]));
    expect(bytes.byteLength).toBe(8 + len + 12);
  });

  it('round-trips a file through writeSafetensors and readSafetensors (F32 exactly, F16/BF16/I64/I32 converted)', () => {
    const path = join(dir, 'round.safetensors');
    const w = Float32Array.from({ length: 6 }, (_, i) => Math.fround(Math.sin(i) * 3));
    writeSafetensors(
      path,
      new Map([
        ['layer.weight', { dims: [2, 3], data: w }],
        ['half', { dims: [2], data: [0.5, 1000], dtype: 'F16' as const }],
        ['brain', { dims: [2], data: [1.5, -0.1], dtype: 'BF16' as const }],
        ['ids', { dims: [1, 3], data: [0, 1, 511], dtype: 'I64' as const }],
        ['small', { dims: [1], data: [-7], dtype: 'I32' as const }],
      ]),
      { note: 'test' },
    );
    const f = readSafetensors(path);
    expect(f.metadata).toEqual({ note: 'test' });
    expect(f.tensors.get('layer.weight')).toEqual({ dtype: 'F32', dims: [2, 3], data: w });
    expect(Array.from(f.tensors.get('half')!.data)).toEqual([0.5, 1000]);
    const bf = f.tensors.get('brain')!.data;
    expect(bf[0]).toBe(1.5);
    expect(Math.abs(bf[1] + 0.1)).toBeLessThan(1e-3);
    expect(f.tensors.get('ids')).toEqual({ dtype: 'I64', dims: [1, 3], data: new Float32Array([0, 1, 511]) });
    expect(Array.from(f.tensors.get('small')!.data)).toEqual([-7]);
    expect(decodeSafetensors(readFileSync(path)).tensors.get('layer.weight')!.data).toEqual(w);
  });
});

describe('safetensors keys named __proto__', () => {
  it('reads and writes a __metadata__ key and a tensor named __proto__ as any other, not as the prototype', () => {
    const header = '{"__metadata__":{"__proto__":"x","format":"pt"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const f = decodeSafetensors(handMade(header, [...new Uint8Array(new Float32Array([2.5]).buffer)]));
    expect(Object.keys(f.metadata)).toEqual(['__proto__', 'format']);
    expect(Object.getOwnPropertyDescriptor(f.metadata, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(f.metadata)).toBe(Object.prototype);
    expect([...f.tensors.keys()]).toEqual(['__proto__']);
    // written back: the same header keys
    const bytes = concat(encodeSafetensors(new Map([['__proto__', { dims: [1], data: f.tensors.get('__proto__')!.data }]]), f.metadata));
    const len = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + len)).trimEnd();
    expect(text).toBe('{"__metadata__":{"__proto__":"x","format":"pt"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
    const again = decodeSafetensors(bytes);
    expect(Object.getOwnPropertyDescriptor(again.metadata, '__proto__')?.value).toBe('x');
    expect(again.tensors.get('__proto__')!.data).toEqual(new Float32Array([2.5]));
  });
});

describe('safetensors errors', () => {
  const good = concat(encodeSafetensors({ w: { dims: [4], data: new Float32Array([1, 2, 3, 4]) } }));
  const fails = (bytes: Uint8Array, message: string) => {
    expect(() => decodeSafetensors(bytes, 'm.safetensors')).toThrow(DataError);
    expect(() => decodeSafetensors(bytes, 'm.safetensors')).toThrow(`m.safetensors: ${message}`);
  };

  it('refuses truncated files', () => {
    fails(good.subarray(0, 5), 'truncated safetensors file (5 bytes; the header length alone takes 8)');
    fails(good.subarray(0, 20), 'truncated safetensors file: the header needs');
    fails(good.subarray(0, good.byteLength - 1), "truncated safetensors file: tensor 'w' ends at data byte 16 but the data section has 15");
  });

  // (where it said 'safetensors header is not valid JSON (Unexpected token 'x', "{"w": x}" is not valid JSON)', the
  // parser's place as a character offset, and 'The encoded data was not valid for encoding utf-8' as a JSON fault)
  it("refuses a header that is not JSON or not UTF-8 in the words of every JSON file's refusal: the parser's reason once, its line and column, the offset of a byte no UTF-8 character starts", () => {
    const exactly = (bytes: Uint8Array, message: string) =>
      expect(() => decodeSafetensors(bytes, 'm.safetensors')).toThrow(new DataError(`m.safetensors: ${message}`));
    exactly(handMade('{"w": x}', []), 'safetensors header is not valid JSON (Unexpected token \'x\', "{"w": x}")');
    exactly(
      handMade('{"w": {"dtype": "F32"} "v": 1}', []),
      "safetensors header is not valid JSON (Expected ',' or '}' after property value at line 1, column 24)",
    );
    const latin1 = handMade('{"w": "xx"}', []);
    latin1[8 + 7] = 0xe9;
    exactly(latin1, 'safetensors header is not valid UTF-8 text (at byte offset 15: e9 78 22 7d)');
    // (a byte-order mark, which the safetensors library's serde_json refuses: the header is no UTF-8 JSON text with one;
    // named, where V8's quote of it, 'Unexpected token '\ufeff', "\ufeff{}"', showed nothing)
    exactly(handMade('\ufeff{}', []), 'safetensors header is not valid JSON (Unexpected byte-order mark (U+FEFF) at line 1, column 1)');
  });

  it('refuses bad headers', () => {
    fails(handMade('{"w": ', []), 'safetensors header is not valid JSON (Unexpected end of JSON input)');
    fails(handMade('[1, 2]', []), 'safetensors header is not a JSON object');
    fails(handMade('{"w": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}', [0]), "tensor 'w': unsupported dtype 'Q4'");
    // Names of Object.prototype are no dtypes either (they read as a size of NaN bytes before).
    for (const dtype of ['constructor', 'toString', '__proto__']) {
      fails(handMade(`{"w": {"dtype": "${dtype}", "shape": [1], "data_offsets": [0, 4]}}`, [0, 0, 0, 0]), `tensor 'w': unsupported dtype '${dtype}'`);
    }
    fails(
      handMade('{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}', [0, 0, 0, 0]),
      "tensor 'w': shape must be a list of non-negative integers",
    );
    fails(handMade('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}', []), "tensor 'w': data_offsets must be [begin, end]");
    fails(handMade('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}', [0, 0, 0, 0]), "tensor 'w': data_offsets span 4 bytes but F32[2] needs 8");
    fails(handMade('{"__metadata__": {"n": 1}}', []), "__metadata__ value 'n' is not a string");
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 10n ** 12n, true);
    fails(huge, 'not a safetensors file (header length 1000000000000 is over the format');
    // an ONNX file given by mistake: its first 8 bytes read as a huge length
    fails(new Uint8Array([0x08, 0x07, 0x12, 0x07, 0x70, 0x79, 0x74, 0x6f, 0x72, 0x63]), 'not a safetensors file');
    // a repository cloned without git-lfs holds the pointer, not the weights
    fails(
      new TextEncoder().encode(`version https://git-lfs.github.com/spec/v1\noid sha256:${'ef'.repeat(32)}\nsize 438000000\n`),
      "a Git LFS pointer to a 438.0 MB file, not the file itself (cloned without Git LFS): run 'git lfs pull' in its repository, or give the model as hf:ORG/NAME",
    );
  });

  it('refuses a header whose offsets overlap, leave a gap or stop short of the data (as the reference implementation does)', () => {
    const f32 = (n: number) => Array.from(new Uint8Array(new Float32Array(n).fill(1).buffer));
    // b claims a's bytes: read as they stand, b would be a copy of a
    fails(
      handMade('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', f32(3)),
      "tensor 'a' (data_offsets [0, 8]) overlaps tensor 'b' (data_offsets [0, 4]): the header's offsets do not match the data",
    );
    fails(
      handMade('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}', f32(3)),
      "no tensor holds data bytes 4 to 8 (tensor 'b' (data_offsets [8, 12]) begins after a gap): the header's offsets do not match the data",
    );
    fails(
      handMade('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', f32(2)),
      "the data section has 8 bytes but its tensors end at byte 4: the header's offsets do not match the data",
    );
    // empty tensors take no bytes, wherever they sit
    const ok = handMade(
      '{"e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "z": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}',
      f32(1),
    );
    expect([...decodeSafetensors(ok).tensors.keys()]).toEqual(['e', 'a', 'z']);
  });

  it('names a missing file', () => {
    expect(() => readSafetensors(join(dir, 'nope.safetensors'))).toThrow(
      new DataError(`${join(dir, 'nope.safetensors')}: cannot read it: no such file or folder`),
    );
  });

  it('reports a file truncated on disk', () => {
    const path = join(dir, 'cut.safetensors');
    writeFileSync(path, good.subarray(0, good.byteLength - 4));
    expect(() => readSafetensors(path)).toThrow(`${path}: truncated safetensors file: tensor 'w' ends at data byte 16 but the data section has 12`);
  });
});
