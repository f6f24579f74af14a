/**
 * The check every output passes before it is written: onnxruntime loads it and runs it on sample inputs, and its
 * outputs are compared with the input model's on the same inputs.
 */
import type { Model } from '../onnx/graph.ts';
import { encodeModel } from '../onnx/save.ts';
import { openSession, Tensor, type Feeds } from '../runtime/session.ts';
import type { BertStructure } from '../bert/structure.ts';
import { sampleInputs, type SampleInput } from '../bert/sample-inputs.ts';
import { UserError } from '../errors.ts';

export interface OutputDrift {
  output: string;
  /** Largest absolute difference between the input model's and the output model's values. */
  maxAbsDiff: number;
}

export interface RunCheck {
  /** Every graph output of the new model, with its drift from the original (when the original has it too). */
  drift: OutputDrift[];
  batch: number;
  seq: number;
}

function toFeeds(inputs: SampleInput[]): Feeds {
  const feeds: Feeds = {};
  for (const i of inputs) {
    feeds[i.name] = i.type === 'int32'
      ? new Tensor('int32', Int32Array.from(i.values), i.dims)
      : new Tensor('int64', BigInt64Array.from(i.values, (v) => BigInt(v)), i.dims);
  }
  return feeds;
}

async function runModel(bytes: Uint8Array, feeds: Feeds, label: string): Promise<Record<string, Float32Array>> {
  const session = await openSession(bytes, { graphOptimizationLevel: 'basic' });
  try {
    const out = await session.run(feeds);
    const res: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(out)) res[k] = Float32Array.from(v.data as ArrayLike<number>);
    return res;
  } catch (e) {
    throw new UserError(`${label}: onnxruntime cannot run the rewritten model: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  } finally {
    await session.release();
  }
}

/**
 * Runs `original` and `rewritten` on the same sample inputs (built from the original's structure) and reports
 * the drift per output. Throws a UserError if onnxruntime cannot load or run the rewritten model.
 */
export async function checkRuns(original: Model, rewritten: Model, structure: BertStructure, label = 'output'): Promise<RunCheck> {
  const inputs = sampleInputs(original, structure, { batch: 2, seq: 16 });
  const feeds = toFeeds(inputs);
  const [a, b] = [await runModel(encodeModel(original), feeds, 'input model'), await runModel(encodeModel(rewritten), feeds, label)];
  const drift: OutputDrift[] = Object.keys(b).map((k) => {
    const x = a[k], y = b[k];
    let m = x && x.length === y.length ? 0 : Infinity;
    if (m === 0) for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
    return { output: k, maxAbsDiff: m };
  });
  return { drift, batch: inputs[0].dims[0], seq: inputs[0].dims[1] };
}
