/** newHeadAdvice: the `compress train … --new-head` command a refusal gives, each path as a shell takes it. */
import { describe, expect, it } from 'vitest';
import { newHeadAdvice } from '../../src/bert/classifier.ts';

describe('newHeadAdvice', () => {
  it('writes the model path, and the float model it was quantized from, as a shell takes them (a blank quoted)', () => {
    expect(newHeadAdvice('SST-2', '/m/my model', undefined)).toBe(
      "give it SST-2's classifier first (compress train '/m/my model' --task SST-2 --new-head -o OUT)",
    );
    expect(newHeadAdvice('SST-2', 'hf:org/model', undefined, true)).toBe(
      "give it SST-2's classifier first (compress train hf:org/model --task SST-2 --new-head -o OUT) and sweep that model",
    );
    expect(newHeadAdvice('RTE', '/m/q', 'stored int8', false, () => '/m/float model/model.onnx')).toBe(
      "stored int8, which training cannot read: give RTE's classifier to /m/float model/model.onnx, the float model it was quantized from, first (compress train '/m/float model/model.onnx' --task RTE --new-head -o OUT), then quantize the result",
    );
    expect(newHeadAdvice('RTE', '/m/q', 'stored int8')).toContain('(compress train FLOAT_MODEL --task RTE --new-head -o OUT)');
  });
});
