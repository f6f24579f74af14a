/**
 * Hugging Face safetensors files: an 8-byte little-endian header length N, N bytes of JSON
 * (`{"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`, offsets
 * relative to the data section), then the raw little-endian tensor bytes. Reading gives float32 arrays whatever
 * the stored type; every malformed file is a DataError whose one-line message names the file and the problem.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { DataError, fsReason, quotedText } from '../errors.ts';
import { floatToHalf, halfToFloat } from '../onnx/index.ts';
import { LFS_POINTER_MAX_BYTES, jsonSyntaxReason, lfsPointerProblem, notUtf8Place, writeFileAtomic } from '../files.ts';

/**
 * Element types of the safetensors format that bert-compress reads (and, F32/F16/BF16/I64/I32, writes). The 8-bit
 * floats (torch's float8_e4m3fn, float8_e5m2, float8_e8m0fnu) are read as the values they store, unscaled: a file
 * may hold them beside the weights (an FP8 scale, an unused head), and a model's reader refuses a weight of theirs.
 */
export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'F8_E4M3'
  | 'F8_E5M2'
  | 'F8_E8M0'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F8_E8M0: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** The format's own limit on the header (100 MB); anything larger is not a safetensors file. */
const MAX_HEADER_BYTES = 100_000_000;

/** One tensor read from a file: its stored type and shape, and its values as float32. */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  dims: number[];
  data: Float32Array;
  /**
   * An F64 tensor's finite values past float32's range, infinite in `data` (how many, and the first as stored): a
   * reader refusing `data`'s infinite values says so of them, not that the file holds infinities. Absent where none.
   */
  pastFloat32?: { count: number; first: number };
}

export interface SafetensorsFile {
  /** Tensors by name, in header order. */
  tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` strings (empty when absent). */
  metadata: Record<string, string>;
}

/** A tensor to write: values are converted to `dtype` (default F32). */
export interface SafetensorsInput {
  dims: readonly number[];
  data: Float32Array | Float64Array | readonly number[] | BigInt64Array;
  dtype?: 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';
}

/** Header entry of one tensor, checked. */
interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  dims: number[];
  begin: number;
  end: number;
}

/** Random access to the bytes of a file or buffer. */
interface ByteSource {
  size: number;
  /** `length` bytes at `offset` into `into` (a fresh buffer, so typed-array views are aligned). */
  read(offset: number, into: Uint8Array): void;
}

function isLittleEndian(): boolean {
  return endianness() === 'LE';
}

/** Parses and checks the header; `dataStart` is where offsets count from. */
function parseHeader(src: ByteSource, label: string): { entries: Entry[]; metadata: Record<string, string>; dataStart: number } {
  const fail = (msg: string): never => {
    throw new DataError(`${label}: ${msg}`);
  };
  if (src.size < 8) fail(`truncated safetensors file (${src.size} bytes; the header length alone takes 8)`);
  const lenBytes = new Uint8Array(8);
  src.read(0, lenBytes);
  const headerLen = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES && src.size <= LFS_POINTER_MAX_BYTES) {
    const head = new Uint8Array(src.size);
    src.read(0, head);
    const pointer = lfsPointerProblem(head);
    if (pointer) fail(pointer);
  }
  if (headerLen > MAX_HEADER_BYTES) fail(`not a safetensors file (header length ${headerLen} is over the format's 100 MB limit)`);
  if (headerLen < 2) fail(`not a safetensors file (header length ${headerLen})`);
  if (8 + headerLen > src.size) fail(`truncated safetensors file: the header needs ${headerLen} bytes but only ${src.size - 8} follow`);
  const headerBytes = new Uint8Array(headerLen);
  src.read(8, headerBytes);
  // (as the safetensors library reads it: UTF-8 text, a byte-order mark refused as serde_json refuses it)
  const place = notUtf8Place(headerBytes, 8);
  if (place !== undefined) fail(`safetensors header is not valid UTF-8 text (${place})`);
  const text = Buffer.from(headerBytes.buffer, headerBytes.byteOffset, headerBytes.byteLength).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`safetensors header is not valid JSON (${jsonSyntaxReason(e, text)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('safetensors header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataSize = src.size - dataStart;
  // (fromEntries, not assignment: a key named '__proto__' is kept as one, not taken as the prototype)
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ must be an object of strings');
      const pairs = Object.entries(raw as Record<string, unknown>);
      for (const [k, v] of pairs) if (typeof v !== 'string') fail(`__metadata__ value ${quotedText(k)} is not a string`);
      metadata = Object.fromEntries(pairs) as Record<string, string>;
      continue;
    }
    const where = `tensor ${quotedText(name)}`;
    if (typeof raw !== 'object' || raw === null) fail(`${where}: header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string') fail(`${where}: no dtype`);
    if (!Object.hasOwn(DTYPE_BYTES, dtype as string)) fail(`${where}: unsupported dtype ${quotedText(String(dtype))}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`${where}: shape must be a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`${where}: data_offsets must be [begin, end]`);
    }
    const [begin, end] = offsets as number[];
    const dims = shape as number[];
    const want = dims.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end - begin !== want) fail(`${where}: data_offsets span ${end - begin} bytes but ${dtype}[${dims.join(', ')}] needs ${want}`);
    if (end > dataSize) fail(`truncated safetensors file: ${where} ends at data byte ${end} but the data section has ${dataSize}`);
    entries.push({ name, dtype: dtype as SafetensorsDtype, dims, begin, end });
  }
  checkLayout(entries, dataSize, fail);
  return { entries, metadata, dataStart };
}

/**
 * The tensors must tile the data section, as the reference implementation requires: in offset order each begins
 * where the one before ends, the first at 0 and the last at the section's end. A header whose offsets overlap, leave
 * a gap or stop short would have tensors read another's bytes (or bytes of none).
 */
function checkLayout(entries: readonly Entry[], dataSize: number, fail: (msg: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let before: Entry | undefined;
  const span = (e: Entry) => `tensor ${quotedText(e.name)} (data_offsets [${e.begin}, ${e.end}])`;
  for (const e of sorted) {
    if (e.begin < at && before) fail(`${span(e)} overlaps ${span(before)}: the header's offsets do not match the data`);
    if (e.begin > at) fail(`no tensor holds data bytes ${at} to ${e.begin} (${span(e)} begins after a gap): the header's offsets do not match the data`);
    at = e.end;
    if (e.end > e.begin) before = e;
  }
  if (at < dataSize) fail(`the data section has ${dataSize} bytes but its tensors end at byte ${at}: the header's offsets do not match the data`);
}

/** The finite values of `stored` (an F64 tensor) that are infinite as float32 (`data`), where any are. */
function pastFloat32(stored: Float64Array, data: Float32Array): SafetensorsTensor['pastFloat32'] {
  let count = 0;
  let first = 0;
  for (let i = 0; i < stored.length; i++) {
    if (Number.isFinite(data[i]!) || !Number.isFinite(stored[i]!)) continue;
    if (count++ === 0) first = stored[i]!;
  }
  return count > 0 ? { count, first } : undefined;
}

/** An F8_E4M3 byte (torch's float8_e4m3fn: bias 7, subnormals, no infinities, S.1111.111 NaN) as a number. */
function e4m3ToFloat(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exponent = (b >> 3) & 0xf;
  const mantissa = b & 7;
  if (exponent === 0xf && mantissa === 7) return Number.NaN;
  return exponent === 0 ? sign * 2 ** -6 * (mantissa / 8) : sign * 2 ** (exponent - 7) * (1 + mantissa / 8);
}

/** Stored bytes of one tensor to float32. */
function toFloat32(bytes: Uint8Array, dtype: SafetensorsDtype, n: number): Float32Array {
  const buf = bytes.buffer as ArrayBuffer;
  const off = bytes.byteOffset;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf, off, n);
    case 'F64':
      return Float32Array.from(new Float64Array(buf, off, n));
    case 'F16': {
      const h = new Uint16Array(buf, off, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(h[i]);
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(buf, off, n);
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = h[i] << 16;
      return out;
    }
    case 'F8_E4M3':
      return Float32Array.from(new Uint8Array(buf, off, n), e4m3ToFloat);
    case 'F8_E5M2':
      // (F16's high byte: 1 sign, 5 exponent, 2 mantissa bits, infinities and NaNs as F16's)
      return Float32Array.from(new Uint8Array(buf, off, n), (b) => halfToFloat(b << 8));
    case 'F8_E8M0':
      // (an exponent alone, 2^(b − 127); 0xff is NaN)
      return Float32Array.from(new Uint8Array(buf, off, n), (b) => (b === 0xff ? Number.NaN : 2 ** (b - 127)));
    case 'I64':
      return Float32Array.from(new BigInt64Array(buf, off, n), Number);
    case 'U64':
      return Float32Array.from(new BigUint64Array(buf, off, n), Number);
    case 'I32':
      return Float32Array.from(new Int32Array(buf, off, n));
    case 'U32':
      return Float32Array.from(new Uint32Array(buf, off, n));
    case 'I16':
      return Float32Array.from(new Int16Array(buf, off, n));
    case 'U16':
      return Float32Array.from(new Uint16Array(buf, off, n));
    case 'I8':
      return Float32Array.from(new Int8Array(buf, off, n));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(new Uint8Array(buf, off, n));
  }
}

function readAll(src: ByteSource, label: string): SafetensorsFile {
  if (!isLittleEndian()) throw new DataError(`${label}: safetensors reading needs a little-endian machine`);
  const { entries, metadata, dataStart } = parseHeader(src, label);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const n = e.dims.reduce((a, b) => a * b, 1);
    const bytes = new Uint8Array(e.end - e.begin);
    src.read(dataStart + e.begin, bytes);
    const data = toFloat32(bytes, e.dtype, n);
    const past = e.dtype === 'F64' ? pastFloat32(new Float64Array(bytes.buffer, bytes.byteOffset, n), data) : undefined;
    tensors.set(e.name, { dtype: e.dtype, dims: e.dims, data, ...(past ? { pastFloat32: past } : {}) });
  }
  return { tensors, metadata };
}

/** Reads safetensors bytes held in memory. `label` names them in error messages. */
export function decodeSafetensors(bytes: Uint8Array, label = 'safetensors bytes'): SafetensorsFile {
  return readAll({ size: bytes.byteLength, read: (offset, into) => into.set(bytes.subarray(offset, offset + into.byteLength)) }, label);
}

/** Reads a safetensors file tensor by tensor (the file is never held in memory whole). */
export function readSafetensors(path: string): SafetensorsFile {
  return withFileSource(path, (src) => readAll(src, path));
}

/** The tensor names and shapes of a safetensors file, from its header alone (checked as readSafetensors checks it). */
export function readSafetensorsHeader(path: string): Array<{ name: string; dtype: SafetensorsDtype; dims: number[] }> {
  return withFileSource(path, (src) => parseHeader(src, path).entries.map(({ name, dtype, dims }) => ({ name, dtype, dims })));
}

/** The `__metadata__` strings of a safetensors file (empty when absent), from its header alone. */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  return withFileSource(path, (src) => parseHeader(src, path).metadata);
}

/** Runs `fn` over the bytes of the file at `path`, read on demand. */
function withFileSource<T>(path: string, fn: (src: ByteSource) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new DataError(`${path}: cannot read it: ${fsReason(e)}`, { cause: e });
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new DataError(`${path}: a folder, not a safetensors file`);
    const size = stat.size;
    return fn({
      size,
      read: (offset, into) => {
        let done = 0;
        while (done < into.byteLength) {
          let n: number;
          try {
            n = readSync(fd, into, done, into.byteLength - done, offset + done);
          } catch (e) {
            throw new DataError(`${path}: cannot read it: ${fsReason(e)}`, { cause: e });
          }
          if (n <= 0) throw new DataError(`${path}: truncated safetensors file (short read at byte ${offset + done})`);
          done += n;
        }
      },
    });
  } finally {
    closeSync(fd);
  }
}

/** float32 bits to bfloat16 bits, round to nearest even (NaN stays NaN). */
function floatToBf16(x: number, scratch: Float32Array, bits: Uint32Array): number {
  scratch[0] = x;
  const b = bits[0];
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Bytes of one tensor in its safetensors dtype. */
function encodeTensor(name: string, t: SafetensorsInput): { dtype: string; bytes: Uint8Array } {
  const dtype = t.dtype ?? 'F32';
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new RangeError(`safetensors: tensor ${quotedText(name)} has ${t.data.length} values for shape [${t.dims.join(', ')}]`);
  const values = t.data as ArrayLike<number | bigint>;
  const num = (i: number) => Number(values[i]);
  const asBytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (dtype) {
    case 'F32':
      return { dtype, bytes: asBytes(t.data instanceof Float32Array ? t.data : Float32Array.from({ length: n }, (_, i) => num(i))) };
    case 'F64':
      return { dtype, bytes: asBytes(Float64Array.from({ length: n }, (_, i) => num(i))) };
    case 'F16': {
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) h[i] = floatToHalf(num(i));
      return { dtype, bytes: asBytes(h) };
    }
    case 'BF16': {
      const h = new Uint16Array(n);
      const scratch = new Float32Array(1);
      const bits = new Uint32Array(scratch.buffer);
      for (let i = 0; i < n; i++) h[i] = floatToBf16(num(i), scratch, bits);
      return { dtype, bytes: asBytes(h) };
    }
    case 'I64':
      return { dtype, bytes: asBytes(BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.trunc(Number(values[i]))))) };
    case 'I32':
      return { dtype, bytes: asBytes(Int32Array.from({ length: n }, (_, i) => num(i))) };
  }
}

type NamedInputs = ReadonlyMap<string, SafetensorsInput> | Readonly<Record<string, SafetensorsInput>>;

/**
 * A safetensors file as byte chunks (header length, header, tensor data in the given order). The header is padded
 * with spaces to a multiple of 8 bytes, as the reference implementation does, so data starts aligned.
 */
export function encodeSafetensors(tensors: NamedInputs, metadata?: Record<string, string>): Uint8Array[] {
  if (!isLittleEndian()) throw new Error('safetensors writing needs a little-endian machine');
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, SafetensorsInput>);
  // (pairs, then fromEntries: a tensor or metadata key named '__proto__' is written as one, not taken as the prototype)
  const header: Array<[string, unknown]> = [];
  if (metadata && Object.keys(metadata).length) header.push(['__metadata__', Object.fromEntries(Object.entries(metadata))]);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new RangeError("safetensors: '__metadata__' is not a tensor name");
    const { dtype, bytes } = encodeTensor(name, t);
    header.push([name, { dtype, shape: [...t.dims], data_offsets: [offset, offset + bytes.byteLength] }]);
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(header)));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  return [len, json, ...chunks];
}

/** Writes a safetensors file (atomically: a temporary name, then renamed). */
export function writeSafetensors(path: string, tensors: NamedInputs, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
