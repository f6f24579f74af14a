/**
 * Running a session over encoded examples: length-bucketed batches in, one row of output scores per example out,
 * in the examples' original order.
 */
import { filledRows, sessionInputs, type ModelInput } from '../bert/model-inputs.ts';
import { SettingsError, UserError, ortErrorLine, quotedText } from '../errors.ts';
import { floatValues, type Session, type Tensor } from '../runtime/session.ts';
import { buildFeeds, planBatches } from './batching.ts';
import type { TextEncoding } from './tokenizer.ts';

/** Model scores, row-major: example i's scores are `values[i*width … (i+1)*width)`. */
export interface OutputRows {
  readonly values: Float32Array;
  readonly width: number;
  readonly count: number;
}

export interface PredictOptions {
  batchSize: number;
  padId: number;
  /** The session's encoder inputs (default: `sessionInputs`, by the names exporters use). */
  inputs?: readonly ModelInput[];
  /** Pad every batch to this length (a graph whose inputs fix the sequence length); default: its longest example. */
  padTo?: number;
  /**
   * Feed every batch with this many rows (a graph whose inputs fix the batch size): a shorter last batch is filled
   * with copies of its first example, whose scores are dropped. Default: as many rows as examples.
   */
  batchRows?: number;
  /** The output to read the scores from (the graph's, see graph-checks' scoresOutput); default scoresOutputName. */
  output?: string;
  /** Called after each batch with the number of examples done so far. */
  onBatch?: (done: number, total: number) => void;
}

/** Output names that hold an encoder's states, not scores, whatever their shape (BertModel's, keras2onnx's). */
export const HIDDEN_STATE_NAME = /pooler|pooled_output|hidden_state|embedding/i;

/**
 * The output holding the class scores, told by names alone (a session whose graph was not read): `logits`, else the
 * first output not named as hidden states or the pooler's output, else the first; graph-checks' scoresOutput is the
 * same rule reading the outputs' shapes too.
 */
export function scoresOutputName(session: Pick<Session, 'outputNames'>): string {
  const names = session.outputNames;
  return names.includes('logits') ? 'logits' : (names.find((n) => !HIDDEN_STATE_NAME.test(n)) ?? names[0]!);
}

/** Runs every example through the session and returns the score rows in the examples' order. */
export async function predictRows(session: Session, encodings: readonly TextEncoding[], opts: PredictOptions): Promise<OutputRows> {
  const inputs = opts.inputs ?? sessionInputs(session);
  const output = opts.output ?? scoresOutputName(session);
  const batches = planBatches(
    encodings.map((e) => e.ids.length),
    opts.batchSize,
  );
  let values = new Float32Array(0);
  let width = -1;
  let done = 0;
  for (const indices of batches) {
    const rows = filledRows(indices, opts.batchRows);
    const feeds = buildFeeds(encodings, rows, inputs, opts.padId, opts.padTo);
    let result: Awaited<ReturnType<Session['run']>>;
    try {
      result = await session.run(feeds, [output]);
    } catch (e) {
      const dims = Object.values(feeds)[0]?.dims ?? [];
      throw new UserError(`onnxruntime cannot run the model on a batch of [${dims.join(', ')}] tokens: ${ortErrorLine(e)}`, { cause: e });
    }
    const tensor = result[output]!;
    const w = rowWidth(tensor, rows.length, output);
    if (width < 0) {
      width = w;
      values = new Float32Array(encodings.length * width);
    } else if (w !== width) {
      throw new SettingsError(`model output ${quotedText(output)} changed width between batches (${width} then ${w})`);
    }
    const data = floatValues(tensor);
    indices.forEach((example, r) => values.set(data.subarray(r * width, (r + 1) * width), example * width));
    done += indices.length;
    opts.onBatch?.(done, encodings.length);
  }
  return { values, width: Math.max(width, 0), count: encodings.length };
}

/** Scores per example of an output shaped [batch, k], [batch] or [batch, 1], of float32 or float16 scores. */
function rowWidth(tensor: Tensor, rows: number, name: string): number {
  if (tensor.type !== 'float32' && tensor.type !== 'float16') {
    throw new SettingsError(`model output ${quotedText(name)} is ${tensor.type}; expected float32 or float16 scores`);
  }
  const dims = tensor.dims;
  if (dims[0] !== rows || dims.length > 2) {
    throw new SettingsError(`model output ${quotedText(name)} has shape [${dims.join(', ')}]; expected [batch, labels] for a sequence classifier`);
  }
  return dims.length === 1 ? 1 : dims[1]!;
}
