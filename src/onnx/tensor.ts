/** Making tensors from typed arrays and reading their elements back, for every numeric ONNX type. */
import { DataType, bytesPerElement, dataTypeName } from './dtype.ts';
import type { Tensor } from './graph.ts';
import { quotedText } from '../errors.ts';

export function numElements(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Bytes a tensor's payload takes (string tensors: the sum of their strings). */
export function tensorBytes(t: Tensor): number {
  if (t.dataType === DataType.STRING) return (t.strings ?? []).reduce((s, x) => s + x.byteLength, 0);
  return t.data.byteLength;
}

/**
 * tensorBytes from a tensor's dims and type, reading no data (a weight loadModelShapes reads lazily stays unread):
 * the same for every tensor checkLength takes (string tensors: their strings).
 */
export function shapeBytes(t: Tensor): number {
  if (t.dataType === DataType.STRING) return tensorBytes(t);
  return Math.ceil(numElements(t.dims) * bytesPerElement(t.dataType));
}

/** Copy of `bytes` into a fresh, aligned buffer (typed-array views need aligned offsets). */
function aligned(bytes: Uint8Array, align: number): ArrayBuffer {
  if (bytes.byteOffset % align === 0 && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Throws a RangeError where `t` holds another number of bytes than its dims and type take. */
export function checkLength(t: Tensor): void {
  const want = shapeBytes(t);
  if (t.data.byteLength !== want) {
    throw new RangeError(`tensor ${quotedText(t.name)}: ${t.data.byteLength} bytes for dims [${t.dims}] of ${dataTypeName(t.dataType)} (want ${want})`);
  }
}

const f16Buf = new Float32Array(1);
const f16Int = new Uint32Array(f16Buf.buffer);

/** IEEE half (as uint16 bits) to number. */
export function halfToFloat(h: number): number {
  const s = (h & 0x8000) >> 15;
  const e = (h & 0x7c00) >> 10;
  const f = h & 0x03ff;
  let v: number;
  if (e === 0) v = f * 2 ** -24;
  else if (e === 31) v = f ? NaN : Infinity;
  else v = (1 + f / 1024) * 2 ** (e - 15);
  return s ? -v : v;
}

/** number to IEEE half bits, round to nearest even (through float32, as `halfFromFloat32Bits`). */
export function floatToHalf(x: number): number {
  f16Buf[0] = x;
  return halfFromFloat32Bits(f16Int[0]);
}

/** The IEEE half bits of the float32 whose bits are `b` (an unsigned 32-bit integer), rounded to nearest even. */
export function halfFromFloat32Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Elements of a numeric tensor as float32 (converting from float16, double, and integer types). */
export function readFloat32(t: Tensor): Float32Array {
  checkLength(t);
  switch (t.dataType) {
    case DataType.FLOAT:
      return new Float32Array(aligned(t.data, 4));
    case DataType.FLOAT16: {
      const h = new Uint16Array(aligned(t.data, 2));
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]);
      return out;
    }
    case DataType.DOUBLE:
      return Float32Array.from(new Float64Array(aligned(t.data, 8)));
    default:
      return Float32Array.from(readNumbers(t));
  }
}

/** The values of `values` that are not finite (NaN, ±Infinity): how many, the first's index, and whether one is infinite; undefined when all are finite. */
export function nonFiniteValues(values: ArrayLike<number>): { count: number; first: number; infinite: boolean } | undefined {
  let count = 0;
  let first = -1;
  let infinite = false;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isFinite(x)) continue;
    if (count++ === 0) first = i;
    if (!Number.isNaN(x)) infinite = true;
  }
  return count > 0 ? { count, first, infinite } : undefined;
}

/**
 * Whether every one of `values` is finite (or −Infinity, where `negativeInfinity`: attention scores a mask fills so),
 * told from their sum in float64: a NaN or ±Infinity carries through a sum, +Infinity and −Infinity make NaN, and
 * float32 values cannot overflow it; so the sum is finite exactly where all are, and finite or −Infinity exactly where
 * each is finite or −Infinity. Several times faster than testing each value (nonFiniteValues), for a check that runs on
 * every training step (an intermediate-KD teacher's features: teacher-features.ts), where all are finite but for a
 * model that is broken; it says false of any values holding another, and nothing of which or how many.
 */
export function float32AllFinite(values: Float32Array, negativeInfinity = false): boolean {
  // (four sums: independent additions, which the loop runs side by side)
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const n = values.length - (values.length % 4);
  for (let i = 0; i < n; i += 4) {
    a += values[i]!;
    b += values[i + 1]!;
    c += values[i + 2]!;
    d += values[i + 3]!;
  }
  for (let i = n; i < values.length; i++) a += values[i]!;
  const sum = a + b + c + d;
  return Number.isFinite(sum) || (negativeInfinity && sum === Number.NEGATIVE_INFINITY);
}

/**
 * nonFiniteValues of a float32 tensor's elements, read where its bytes lie (no copy), with the first such value.
 */
export function nonFiniteFloat32(t: Tensor): { count: number; first: number; infinite: boolean; value: number } | undefined {
  checkLength(t);
  if (t.dataType !== DataType.FLOAT) throw new TypeError(`tensor ${quotedText(t.name)}: not float32 (${dataTypeName(t.dataType)})`);
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  let count = 0;
  let first = -1;
  let infinite = false;
  for (let at = 0; at < view.byteLength; at += 4) {
    const b = view.getUint32(at, true);
    if ((b & 0x7f800000) !== 0x7f800000) continue; // (exponent all ones: NaN or ±Infinity)
    if (count++ === 0) first = at >>> 2;
    if ((b & 0x7fffff) === 0) infinite = true;
  }
  return count > 0 ? { count, first, infinite, value: view.getFloat32(4 * first, true) } : undefined;
}

/** Elements of an integer (or float) tensor as JS numbers; int64 beyond 2^53 lose precision. */
export function readNumbers(t: Tensor): number[] {
  checkLength(t);
  const buf = (align: number) => aligned(t.data, align);
  switch (t.dataType) {
    case DataType.INT64:
      return Array.from(new BigInt64Array(buf(8)), Number);
    case DataType.UINT64:
      return Array.from(new BigUint64Array(buf(8)), Number);
    case DataType.INT32:
      return Array.from(new Int32Array(buf(4)));
    case DataType.UINT32:
      return Array.from(new Uint32Array(buf(4)));
    case DataType.INT16:
      return Array.from(new Int16Array(buf(2)));
    case DataType.UINT16:
      return Array.from(new Uint16Array(buf(2)));
    case DataType.INT8:
      return Array.from(new Int8Array(buf(1)));
    case DataType.UINT8:
    case DataType.BOOL:
      return Array.from(t.data);
    case DataType.FLOAT:
      return Array.from(new Float32Array(buf(4)));
    case DataType.DOUBLE:
      return Array.from(new Float64Array(buf(8)));
    case DataType.FLOAT16:
      return Array.from(new Uint16Array(buf(2)), halfToFloat);
    default:
      throw new TypeError(`tensor ${quotedText(t.name)}: cannot read elements of type ${dataTypeName(t.dataType)}`);
  }
}

/** A float32 tensor over a copy-free view of `values`. */
export function float32Tensor(name: string, dims: readonly number[], values: Float32Array | number[]): Tensor {
  const arr = values instanceof Float32Array ? values : Float32Array.from(values);
  const t: Tensor = { name, dataType: DataType.FLOAT, dims: [...dims], data: bytesOf(arr) };
  checkLength(t);
  return t;
}

export function float16Tensor(name: string, dims: readonly number[], values: Float32Array | number[]): Tensor {
  const h = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) h[i] = floatToHalf(values[i]);
  const t: Tensor = { name, dataType: DataType.FLOAT16, dims: [...dims], data: bytesOf(h) };
  checkLength(t);
  return t;
}

export function int64Tensor(name: string, dims: readonly number[], values: readonly (number | bigint)[]): Tensor {
  const a = BigInt64Array.from(values, (v) => BigInt(v));
  const t: Tensor = { name, dataType: DataType.INT64, dims: [...dims], data: bytesOf(a) };
  checkLength(t);
  return t;
}

export function int32Tensor(name: string, dims: readonly number[], values: Int32Array | readonly number[]): Tensor {
  const a = values instanceof Int32Array ? values : Int32Array.from(values);
  const t: Tensor = { name, dataType: DataType.INT32, dims: [...dims], data: bytesOf(a) };
  checkLength(t);
  return t;
}

export function int8Tensor(name: string, dims: readonly number[], values: Int8Array | readonly number[]): Tensor {
  const a = values instanceof Int8Array ? values : Int8Array.from(values);
  const t: Tensor = { name, dataType: DataType.INT8, dims: [...dims], data: bytesOf(a) };
  checkLength(t);
  return t;
}

export function uint8Tensor(name: string, dims: readonly number[], values: Uint8Array | readonly number[]): Tensor {
  const a = values instanceof Uint8Array ? values : Uint8Array.from(values);
  const t: Tensor = { name, dataType: DataType.UINT8, dims: [...dims], data: bytesOf(a) };
  checkLength(t);
  return t;
}

/** A tensor of the same type as `like`, from float values (float32/float16/double only). */
export function floatTensorLike(like: Pick<Tensor, 'dataType'>, name: string, dims: readonly number[], values: Float32Array): Tensor {
  switch (like.dataType) {
    case DataType.FLOAT:
      return float32Tensor(name, dims, values);
    case DataType.FLOAT16:
      return float16Tensor(name, dims, values);
    case DataType.DOUBLE:
      return { name, dataType: DataType.DOUBLE, dims: [...dims], data: bytesOf(Float64Array.from(values)) };
    default:
      throw new TypeError(`tensor ${quotedText(name)}: not a float type (${dataTypeName(like.dataType)})`);
  }
}

/** Same bytes under another name. */
export function renamed(t: Tensor, name: string): Tensor {
  return { ...t, name };
}
