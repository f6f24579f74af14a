/**
 * A float16 (or bfloat16) model is refused by every quantize mode in one line saying to quantize the float32 model:
 * the quantizers read float32 weights, so int8, int4-block and mixed kept every weight float and wrote a copy no
 * smaller ('0 tensors quantized, 17 left float (… the table is not float32)'), and int8-static failed in onnxruntime
 * ('tensor(float) … expected tensor(float16)'). A float64 model is refused the same way: int8 and int4-block kept every
 * weight float ('0 tensors quantized, 17 left float'), int8-static failed in onnxruntime ('tensor(float) … does not
 * match expected type (tensor(double))').
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { quantizeModel } from '../../src/quantize/pass.ts';
import { quantizePass } from '../../src/quantize/index.ts';
import { toFloat16, toFloat64 } from '../helpers/float16.ts';
import { tinyBert } from '../helpers/models.ts';
import { quantize, syntheticCalibration } from './helpers.ts';

describe.each([
  ['float16', toFloat16],
  ['float64', toFloat64],
] as const)('quantize on a %s model', (type, convert) => {
  const model = convert(tinyBert({}, { std: 0.2 }));
  const s = findBert(model);
  const calibration = syntheticCalibration(s.vocabSize ?? 100, 2);

  it.each(['int8', 'int8-group:8', 'int4-block:16', 'int8-static', 'mixed:0.5'])('%s is refused in one line', async (mode) => {
    await expect(quantize(model, s, { mode }, calibration)).rejects.toThrow(
      new RegExp(
        `^quantize ${mode.replace(/[.]/g, '\\.')}: weight '[^']+' \\([^)]+\\) is ${type}, and quantize reads float32 weights: quantize the float32 model \\(the one converted to ${type}\\) instead$`,
      ),
    );
  });
});

it('quantize refuses a bfloat16 model too (discovery refuses it first; the pass on its own refuses it as well)', async () => {
  const bf = toFloat16(tinyBert(), DataType.BFLOAT16);
  await expect(quantizeModel(bf, findBert(tinyBert()), quantizePass.parse({ mode: 'int8' }))).rejects.toThrow(
    /is bfloat16, and quantize reads float32 weights/,
  );
});
