/** appendLoss refuses, in one GradientError line, a graph it cannot append a loss to (before onnxruntime sees it). */
import { describe, expect, it } from 'vitest';
import { createModel, DataType, float32Tensor, type Model } from '../../src/onnx/index.ts';
import { appendLoss } from '../../src/gradients/losses.ts';
import { GradientError } from '../../src/gradients/context.ts';

/** x → Identity → `out` (a [batch, 2] output), with an extra initializer `extra` when given. */
function forward(out: string, extra?: string): Model {
  const initializers = new Map([['w', float32Tensor('w', [2], new Float32Array([1, 2]))]]);
  if (extra) initializers.set(extra, float32Tensor(extra, [1], new Float32Array([0])));
  return createModel(
    {
      name: 'g',
      nodes: [{ name: 'n', opType: 'Add', domain: '', inputs: ['x', 'w'], outputs: [out], attributes: {} }],
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 2] }],
      outputs: [{ name: out, elemType: DataType.FLOAT, shape: ['batch', 2] }],
      initializers,
      valueInfo: [],
    },
    [{ domain: '', version: 17 }],
  );
}

const HARD = [{ kind: 'hard-ce' as const, weight: 1 }];

describe('appendLoss refuses what onnxruntime would', () => {
  it('appends to a graph whose logits exist and that has no value named loss', () => {
    expect(appendLoss(forward('logits'), 'logits', 2, HARD).loss).toBe('loss');
  });

  it("a term's weight below 0 or not finite, in the one number wording (where it said 'weight must be a non-negative number')", () => {
    expect(() => appendLoss(forward('logits'), 'logits', 2, [{ kind: 'hard-ce', weight: -1 }])).toThrow(
      'loss term hard-ce: weight -1: expected a number 0 or greater',
    );
    expect(() => appendLoss(forward('logits'), 'logits', 2, [{ kind: 'hard-ce', weight: Number.POSITIVE_INFINITY }])).toThrow(
      'loss term hard-ce: weight Infinity: expected a finite number 0 or greater',
    );
  });

  it("a numLabels other than the logits' width, or no integer from 1, where it wrote targets onnxruntime refused at the first run", () => {
    expect(() => appendLoss(forward('logits'), 'logits', 3, HARD)).toThrow(
      "numLabels 3: the logits 'logits' hold 2 per example (their last dim): give numLabels 2",
    );
    expect(() => appendLoss(forward('logits'), 'logits', 3, [{ kind: 'soft-ce', weight: 1 }])).toThrow("numLabels 3: the logits 'logits' hold 2");
    expect(() => appendLoss(forward('logits'), 'logits', 0, HARD)).toThrow("numLabels 0: expected an integer from 1 (the logits' width)");
    expect(() => appendLoss(forward('logits'), 'logits', 2.5, HARD)).toThrow('numLabels 2.5: expected an integer from 1');
    // (score-mse reads gold scores [batch, 1], whatever numLabels)
    expect(appendLoss(forward('logits'), 'logits', 3, [{ kind: 'score-mse', weight: 1 }]).loss).toBe('loss');
  });

  it('logits that are not a value of the graph', () => {
    const run = () => appendLoss(forward('scores'), 'logits', 2, HARD);
    expect(run).toThrow(GradientError);
    expect(run).toThrow("logits 'logits' is not a value of the graph, so no loss can read it");
  });

  it('an intermediate term whose student value is not a value of the graph', () => {
    const term = { kind: 'mse' as const, weight: 1, student: 'h9', teacher: 't', teacherDims: ['batch', 2], studentWidth: 2, teacherWidth: 2, label: 'L9' };
    expect(() => appendLoss(forward('logits'), 'logits', 2, [], [term])).toThrow("intermediate term L9: student value 'h9' is not a value of the graph");
  });

  it('a graph that already has a value named loss (a node output, an initializer, an input)', () => {
    for (const m of [forward('loss'), forward('logits', 'loss')]) {
      const logits = m.graph.outputs[0]!.name;
      const run = () => appendLoss(m, logits, 2, HARD);
      expect(run).toThrow(GradientError);
      expect(run).toThrow("the graph already has a value named 'loss', the name of the loss output (rename it)");
    }
    const withInput = forward('logits');
    withInput.graph.inputs.push({ name: 'loss', elemType: DataType.FLOAT, shape: [] });
    expect(() => appendLoss(withInput, 'logits', 2, HARD)).toThrow(GradientError);
  });
});
