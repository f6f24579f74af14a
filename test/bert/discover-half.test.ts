/**
 * Half-precision models discovery does not read are refused saying why: float16 weights read through a Cast to
 * float32 (convert_float_to_float16's keep_io_types), where the refusal said the query Reshape reads no dense
 * projection, and bfloat16 models, where it said no Softmax follows a Q·Kᵀ MatMul.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError } from '../../src/errors.ts';
import { tinyBert } from '../helpers/models.ts';
import { castFloat16Weights, toFloat16 } from '../helpers/float16.ts';
import { DataType } from '../../src/onnx/dtype.ts';

describe('discovery of half-precision models', () => {
  const model32 = tinyBert();

  it('refuses float16 weights behind a Cast in one line naming the Cast and the type', () => {
    const m = castFloat16Weights(model32);
    expect(() => findBert(m)).toThrow(NotBertError);
    expect(() => findBert(m)).toThrow(
      /the query projection '[^']*query\/MatMul' reads its weight '[^']+_fp16' \(float16\) through Cast '[^']+_cast', and weights cast when the model runs are not supported: store them as float32, or convert the whole model to float16$/,
    );
  });

  it('refuses a bfloat16 model in one line naming a bfloat16 tensor', () => {
    const m = toFloat16(model32, DataType.BFLOAT16);
    expect(() => findBert(m)).toThrow(NotBertError);
    expect(() => findBert(m)).toThrow(
      /no attention blocks found: 'bert\.embeddings\.word_embeddings\.weight' is bfloat16, which is not supported; convert the model to float32 or float16$/,
    );
  });
});
