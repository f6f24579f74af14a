/**
 * A graph whose token inputs (ids, mask, token types) are int32, rewritten to take them as int64, for a runtime that
 * feeds every tokenizer output as int64 (transformers.js: its tokenizer makes BigInt64Array tensors, which it feeds
 * the session as they are): each such input declared int64 and cast to int32 right after, so every node reads the
 * int32 values it read before and computes what it computed.
 */
import { DataType } from '../onnx/dtype.ts';
import { renameValue, uniqueName } from '../onnx/analysis.ts';
import { cloneModel, type Model, type Node } from '../onnx/graph.ts';
import { attr } from './build-graph.ts';
import type { ModelInput } from './model-inputs.ts';

/** `model` taking `inputs`' int32 inputs as int64 (a copy), or `model` itself when every one is int64. */
export function withInt64Inputs(model: Model, inputs: readonly ModelInput[]): Model {
  const int32 = inputs.filter((i) => i.elementType === 'int32').map((i) => i.name);
  if (!int32.length) return model;
  const m = cloneModel(model);
  const g = m.graph;
  for (const name of int32) {
    // the int32 value under a new name (what the nodes, value_info and any output naming it now refer to), and the
    // input under its own name, int64, cast to it
    const value = uniqueName(g, `${name}_int32`);
    renameValue(g, name, value);
    const input = g.inputs.find((v) => v.name === value)!;
    input.name = name;
    input.elemType = DataType.INT64;
    const node: Node = {
      name: uniqueName(g, `${name}_cast`),
      opType: 'Cast',
      domain: '',
      inputs: [name],
      outputs: [value],
      attributes: { to: attr.int(DataType.INT32) },
    };
    g.nodes.unshift(node);
  }
  return m;
}
