/**
 * onnxruntime's errors reach the user in one line that keeps their detail: its message for an input of the wrong
 * shape names the input on its first line and the indices, with the sizes given and expected, on the next ones; a
 * failed check starts with its C++ source location. Each place that reports an onnxruntime error goes through
 * ortErrorLine, tested here with real onnxruntime errors on tiny models.
 */
import { describe, expect, it } from 'vitest';
import { ortErrorLine } from '../../src/errors.ts';
import { runSample } from '../../src/export/check.ts';
import { predictRows } from '../../src/eval/predict.ts';
import { probeShapes } from '../../src/gradients/probe.ts';
import { createModel, DataType, encodeModel, type Model } from '../../src/onnx/index.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { tinyBert } from '../helpers/models.ts';

/** A graph that passes `x` through, which fixes x's shape at [1, 4]. */
function fixedShape(opset = 17): Model {
  return createModel(
    {
      name: 'g',
      nodes: [{ name: 'id', opType: 'Identity', domain: '', inputs: ['x'], outputs: ['y'], attributes: {} }],
      inputs: [{ name: 'x', elemType: DataType.INT64, shape: [1, 4] }],
      outputs: [{ name: 'y', elemType: DataType.INT64 }],
      initializers: new Map(),
      valueInfo: [],
    },
    [{ domain: '', version: opset }],
  );
}

async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a failure');
}

/** What a report of a [2, 4] input to a graph that fixes [1, 4] must say: the index, and the sizes given and expected. */
function expectDetail(m: string): void {
  expect(m).toMatch(/Got invalid dimensions for input: x for the following indices; index: 0 Got: 2 Expected: 1$/);
  expect(m).not.toContain('\n');
}

describe('ortErrorLine on real onnxruntime errors', () => {
  it("keeps the indices of 'Got invalid dimensions', on the lines after the first, without the advice to fix the inputs", async () => {
    const s = await openSession(encodeModel(fixedShape()), { threads: 1 });
    try {
      const e = await s.run({ x: new Tensor('int64', new BigInt64Array(8), [2, 4]) }).catch((err: unknown) => err);
      expect((e as Error).message.split('\n').length).toBeGreaterThan(1); // onnxruntime's message: several lines
      expectDetail(ortErrorLine(e));
    } finally {
      await s.release();
    }
  });

  it("drops a failed check's C++ source location and function", async () => {
    const m = await message(openSession(encodeModel(fixedShape(99))));
    expect(m).toMatch(/onnxruntime cannot load the model: ONNX Runtime only \*guarantees\* support .*Opset 99/);
    expect(m).not.toMatch(/onnxruntime_src|model_load_utils|ValidateOpsetForDomain/);
  });
});

describe('the places that report an onnxruntime error keep its detail', () => {
  it("compress's check run", async () => {
    const m = await message(runSample(encodeModel(fixedShape()), [{ name: 'x', type: 'int64', dims: [2, 4], values: new Array(8).fill(0) }], 'output'));
    expect(m).toMatch(/^output: onnxruntime cannot run the model: /);
    expectDetail(m);
  });

  it("eval's batches", async () => {
    const model = tinyBert();
    for (const v of model.graph.inputs) if (v.name === 'attention_mask') v.shape = [1, 16];
    const s = await openSession(encodeModel(model), { threads: 1 });
    try {
      const encodings = [0, 1].map(() => ({ ids: [2, 5, 6, 3], typeIds: [0, 0, 0, 0] }));
      const m = await message(predictRows(s, encodings, { batchSize: 2, padId: 0 }));
      expect(m).toMatch(
        /onnxruntime cannot run the model on a batch of \[2, 4\] tokens: Got invalid dimensions for input: attention_mask .*index: 0 Got: 2 Expected: 1; index: 1 Got: 4 Expected: 16$/,
      );
      expect(m).not.toContain('\n');
    } finally {
      await s.release();
    }
  });

  it("the gradient probe's forward run", async () => {
    const m = await message(probeShapes(fixedShape(), { x: new Tensor('int64', new BigInt64Array(8), [2, 4]) }));
    expect(m).toContain('for the following indices; index: 0 Got: 2 Expected: 1 (give probeFeeds');
  });
});
