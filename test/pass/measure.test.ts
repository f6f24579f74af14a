/**
 * The calibration runner on a float16 model: its loss and the predictions it takes as targets read the logits as
 * numbers, not as the 16-bit patterns onnxruntime hands over (a loss of ~13000 for one of ~1.1).
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { UserError } from '../../src/errors.ts';
import { CalibrationRunner, predictedTargets } from '../../src/pass/measure.ts';
import type { Model } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { toFloat16 } from '../helpers/float16.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';

describe('CalibrationRunner on float16 logits', () => {
  const model32 = tinyBert({}, { std: 0.2, seed: 2 });
  const model16 = toFloat16(model32);
  const calibration = syntheticCalibration([6, 6], 128, { classes: 2 });
  const loss = async (m: Model) => {
    const runner = await CalibrationRunner.open(m, findBert(m), calibration);
    try {
      return await runner.loss();
    } finally {
      await runner.release();
    }
  };

  it('measures the loss the float32 model has, to float16 precision', async () => {
    const [a, b] = [await loss(model32), await loss(model16)];
    expect(a).toBeGreaterThan(0.1);
    expect(Math.abs(a - b)).toBeLessThan(0.02 * a);
  });

  it('takes the classes the float32 model predicts as targets', async () => {
    const labels = async (m: Model) => (await predictedTargets(m, findBert(m), calibration)).batches.map((b) => Array.from(b.labels));
    const [a, b] = [await labels(model32), await labels(model16)];
    expect(new Set(a.flat()).size).toBe(2); // both classes predicted: the comparison means something
    expect(b).toEqual(a);
  });
});

describe('CalibrationRunner on a model onnxruntime cannot run on the calibration batches', () => {
  // attention_mask fixed at [1, 16] while input_ids take any shape: the batches pass the input checks, and onnxruntime refuses them
  const model = tinyBert();
  for (const v of model.graph.inputs) if (v.name === 'attention_mask') v.shape = [1, 16];
  const calibration = syntheticCalibration([3], 128, { classes: 2 });
  const seq = calibration.batches[0]!.seq;

  it("refuses in one line with onnxruntime's detail (the loss, and the predictions taken as targets)", async () => {
    const runner = await CalibrationRunner.open(model, findBert(model), calibration);
    const failures: unknown[] = [];
    try {
      await runner.loss().catch((e: unknown) => failures.push(e));
    } finally {
      await runner.release();
    }
    await predictedTargets(model, findBert(model), calibration).catch((e: unknown) => failures.push(e));
    expect(failures).toHaveLength(2);
    for (const e of failures) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as Error).message).toBe(
        `onnxruntime cannot run the model on a calibration batch of [3, ${seq}] tokens: Got invalid dimensions for input: attention_mask for the following indices; index: 0 Got: 3 Expected: 1; index: 1 Got: ${seq} Expected: 16`,
      );
    }
  });
});
