/** Graphs that take their position ids as an input (`position_ids`), made from the builder's, which compute them. */
import { cloneModel, DataType, type Dim, type Model, pruneGraph } from '../../src/onnx/index.ts';

/** `model` with its position lookup reading a `name` graph input of `dims` instead of computing them. */
export function withPositionIdsInput(model: Model, dims: Dim[] = ['batch_size', 'sequence_length'], name = 'position_ids'): Model {
  const m = cloneModel(model);
  const lookup = m.graph.nodes.find((n) => n.opType === 'Gather' && n.inputs[0]!.includes('position_embeddings'))!;
  lookup.inputs[1] = name;
  m.graph.inputs.push({ name, elemType: DataType.INT64, shape: dims });
  pruneGraph(m.graph);
  return m;
}
