/** Graphs that take their position ids as an input (`position_ids`), made from the builder's, which compute them. */
import { modelInputs, tokenFeeds } from '../../src/bert/model-inputs.ts';
import { cloneModel, DataType, type Dim, encodeModel, type Model, pruneGraph } from '../../src/onnx/index.ts';
import { openSession } from '../../src/runtime/session.ts';

/** `model` with its position lookup reading a `name` graph input of `dims` instead of computing them. */
export function withPositionIdsInput(model: Model, dims: Dim[] = ['batch_size', 'sequence_length'], name = 'position_ids'): Model {
  const m = cloneModel(model);
  const lookup = m.graph.nodes.find((n) => n.opType === 'Gather' && n.inputs[0]!.includes('position_embeddings'))!;
  lookup.inputs[1] = name;
  m.graph.inputs.push({ name, elemType: DataType.INT64, shape: dims });
  pruneGraph(m.graph);
  return m;
}

/** The logits of `model` fed `batch` by its inputs (modelInputs / tokenFeeds, as eval and training feed it). */
export async function fedLogits(model: Model, batch: Parameters<typeof tokenFeeds>[1]): Promise<number[]> {
  const session = await openSession(encodeModel(model));
  try {
    const out = await session.run(tokenFeeds(modelInputs(model), batch));
    return Array.from(out[model.graph.outputs[0]!.name]!.data as Float32Array);
  } finally {
    await session.release();
  }
}
