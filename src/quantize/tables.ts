/**
 * The quantizer tables, one per node format (see registry.ts): `{MatMul: …, Gemm: …, Gather: …}`. Ops that are not
 * listed (com.microsoft FusedGemm, EmbedLayerNormalization, …) are passed through unchanged.
 */
import type { NodeFormat, OpRegistry } from './registry.ts';
import { dynamicMatMul } from './ops/dynamic-matmul.ts';
import { int8Gather } from './ops/embedding.ts';
import { qdqMatMul } from './ops/qdq-matmul.ts';
import { nbitsMatMul } from './ops/nbits-matmul.ts';
import { qAttention } from './ops/attention.ts';

/** Dynamic int8 (onnxruntime's IntegerOpsRegistry). */
export const INTEGER_OPS: OpRegistry = {
  MatMul: dynamicMatMul,
  Gemm: dynamicMatMul,
  Gather: int8Gather,
  'com.microsoft.Attention': qAttention,
};

/** Static int8 in QDQ format (onnxruntime's QDQRegistry, for the ops a BERT needs). */
export const QDQ_OPS: OpRegistry = {
  MatMul: qdqMatMul,
  Gemm: qdqMatMul,
  Gather: int8Gather,
};

/** 4-bit block-wise weights (onnxruntime's MatMulNBits quantizer). */
export const NBITS_OPS: OpRegistry = {
  MatMul: nbitsMatMul,
  Gemm: nbitsMatMul,
  Gather: int8Gather,
};

export const REGISTRIES: Readonly<Record<NodeFormat, OpRegistry>> = {
  integer: INTEGER_OPS,
  qdq: QDQ_OPS,
  nbits: NBITS_OPS,
};
