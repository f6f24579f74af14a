/** ONNX tensor element types: the proto's numeric codes, names and byte sizes. */
import { TensorProtoDataType } from './onnx-schema.ts';

/** TensorProto.DataType of the vendored schema: FLOAT = 1 … INT2 = 26. */
export const DataType = TensorProtoDataType;

export type DataTypeCode = (typeof DataType)[keyof typeof DataType] | number;

const NAMES: Record<number, string> = {
  0: 'undefined',
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
  24: 'float8e8m0',
  25: 'uint2',
  26: 'int2',
};

/** Bytes per element; 0.5 for 4-bit types (two to a byte), 0.25 for 2-bit ones; 0 for strings (variable). */
const SIZES: Record<number, number> = {
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  8: 0,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  14: 8,
  15: 16,
  16: 2,
  17: 1,
  18: 1,
  19: 1,
  20: 1,
  21: 0.5,
  22: 0.5,
  23: 0.5,
  24: 1,
  25: 0.25,
  26: 0.25,
};

export function dataTypeName(code: number): string {
  return NAMES[code] ?? `type#${code}`;
}

export function isKnownDataType(code: number): boolean {
  return code in SIZES;
}

/** Bytes per element of an ONNX data type (0.5 for 4-bit, 0.25 for 2-bit types, 0 for string). Throws on an unknown code. */
export function bytesPerElement(code: number): number {
  const s = SIZES[code];
  if (s === undefined) throw new RangeError(`unknown ONNX data type ${code}`);
  return s;
}

export function isFloatType(code: number): boolean {
  return code === DataType.FLOAT || code === DataType.FLOAT16 || code === DataType.DOUBLE || code === DataType.BFLOAT16;
}
