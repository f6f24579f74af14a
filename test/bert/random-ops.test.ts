/**
 * A model that draws at random when it runs (a Dropout exported in training mode, a RandomNormalLike adding noise)
 * is refused by discovery in one line naming the node, so by every command that reads it: its outputs change from run
 * to run, so evaluation would score noise, and int8-static's two calibration passes (range, then histogram) would
 * see other values each time. A Dropout whose training_mode is a constant false is the identity, as before, and so is
 * one in training mode at a constant ratio 0 (onnxruntime copies its input there).
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError } from '../../src/errors.ts';
import type { Model, Node } from '../../src/onnx/graph.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { tinyBert } from '../helpers/models.ts';

/** A tiny BERT with `make(x, y)`'s nodes computing layer 0's FFN output projection `y` from its product `x`. */
function withNodesAfterFfnOut(make: (x: string, y: string) => Node[], training?: boolean, ratio = 0.1): Model {
  const m = tinyBert({}, { seed: 3 });
  const g = m.graph;
  const at = g.nodes.findIndex((n) => n.opType === 'MatMul' && n.name.includes('layer.0/output/dense'));
  const y = g.nodes[at].outputs[0];
  g.nodes[at].outputs[0] = `${y}_product`;
  g.nodes.splice(at + 1, 0, ...make(`${y}_product`, y));
  if (training !== undefined) {
    g.initializers.set('ratio', float32Tensor('ratio', [], [ratio]));
    g.initializers.set('training', { name: 'training', dataType: DataType.BOOL, dims: [], data: new Uint8Array([training ? 1 : 0]) });
  }
  return m;
}

const dropout = (x: string, y: string): Node[] => [
  { name: 'drop', opType: 'Dropout', domain: '', inputs: [x, 'ratio', 'training'], outputs: [y], attributes: {} },
];

describe('a model that draws at random', () => {
  it('is refused in one line naming a Dropout in training mode; in inference mode it reads as without it', () => {
    expect(() => findBert(withNodesAfterFfnOut(dropout, true))).toThrow(NotBertError);
    expect(() => findBert(withNodesAfterFfnOut(dropout, true))).toThrow(
      /^graph '[^']*': Dropout node 'drop' drops values at random \(its training_mode is on, or not a constant false, and its ratio not a constant 0\), so the model's outputs change from run to run \(evaluation, calibration and training read them\): export it in inference mode \(model\.eval\(\) before torch\.onnx\.export\)$/,
    );
    const inference = findBert(withNodesAfterFfnOut(dropout, false));
    const plain = findBert(tinyBert({}, { seed: 3 }));
    expect(inference.layers.length).toBe(plain.layers.length);
    expect(inference.layers[0].ffn.out.weight).toBe(plain.layers[0].ffn.out.weight);
  });

  it('is refused in one line naming a Dropout of opset 1 to 6 in training mode (its is_test 0, the default); with is_test 1 it reads as without it', () => {
    // (before opset 7, Dropout drops at random unless its attribute is_test is nonzero; from 7 to 11 it is the identity)
    const opset = (m: Model, version: number): Model => ({ ...m, opsetImports: m.opsetImports.map((o) => (o.domain === '' ? { ...o, version } : o)) });
    const old =
      (isTest?: number) =>
      (x: string, y: string): Node[] => [
        {
          name: 'drop',
          opType: 'Dropout',
          domain: '',
          inputs: [x],
          outputs: [y],
          attributes: isTest === undefined ? {} : { is_test: { type: 'int', value: isTest } },
        },
      ];
    for (const isTest of [undefined, 0])
      expect(() => findBert(opset(withNodesAfterFfnOut(old(isTest)), 6))).toThrow(
        /^graph '[^']*': Dropout node 'drop' drops values at random \(opset 6: its is_test is 0, training mode\), so the model's outputs change from run to run/,
      );
    const plain = findBert(tinyBert({}, { seed: 3 }));
    for (const [isTest, version] of [
      [1, 6],
      [undefined, 7],
    ] as const)
      expect(findBert(opset(withNodesAfterFfnOut(old(isTest)), version)).layers[0]!.ffn.out.weight).toBe(plain.layers[0]!.ffn.out.weight);
  });

  it('reads a Dropout in training mode at a constant ratio 0 as without it (onnxruntime copies its input there), where it refused it', () => {
    // (torch.onnx.export writes a dropout of p = 0 in training mode so: ratio 0, training_mode true)
    const zero = findBert(withNodesAfterFfnOut(dropout, true, 0));
    const plain = findBert(tinyBert({}, { seed: 3 }));
    expect(zero.layers.length).toBe(plain.layers.length);
    expect(zero.layers[0].ffn.out.weight).toBe(plain.layers[0].ffn.out.weight);
    // (no ratio given: onnxruntime's 0.5, which drops)
    const noRatio = (x: string, y: string): Node[] => [
      { name: 'drop', opType: 'Dropout', domain: '', inputs: [x, '', 'training'], outputs: [y], attributes: {} },
    ];
    expect(() => findBert(withNodesAfterFfnOut(noRatio, true, 0))).toThrow(/Dropout node 'drop' drops values at random/);
  });

  it('is refused in one line naming a random op', () => {
    const noise = (x: string, y: string): Node[] => [
      { name: 'noise', opType: 'RandomNormalLike', domain: '', inputs: [x], outputs: ['noise'], attributes: {} },
      { name: 'noisy', opType: 'Add', domain: '', inputs: [x, 'noise'], outputs: [y], attributes: {} },
    ];
    expect(() => findBert(withNodesAfterFfnOut(noise))).toThrow(
      /^graph '[^']*': RandomNormalLike node 'noise' draws random numbers, so the model's outputs change/,
    );
  });
});
