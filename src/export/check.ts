/**
 * The check every output passes before it is written: onnxruntime loads it and runs it on sample inputs, and its
 * outputs are compared with the input model's on the same inputs. Models are given as file paths (so external
 * data works at any size) or serialized bytes.
 */
import { floatValues, openSession, type Session } from '../runtime/session.ts';
import { idFeeds, type IdInput } from '../runtime/feeds.ts';
import { nonFiniteValues } from '../onnx/tensor.ts';
import { ModelLoadError, NonFiniteInputError, UserError, nonFiniteText, ortErrorLine, quotedText } from '../errors.ts';

export interface OutputDrift {
  output: string;
  /** Largest absolute difference between the input model's and the output model's values. */
  maxAbsDiff: number;
}

export interface RunCheck {
  /**
   * Every graph output of the new model, with its drift from the original (when the original has it too); none for
   * an export (`compress export --format transformers.js`), which has no ONNX model before it.
   */
  drift: OutputDrift[];
  batch: number;
  seq: number;
}

/**
 * Runs a model once on `inputs`, at `threads` intra-op threads (0 or absent: one per physical core); a UserError naming
 * `label` (the path the user gave, where `model` is a staged copy), never `model`'s path, if onnxruntime cannot load or
 * run it.
 */
export async function runSample(
  model: string | Uint8Array,
  inputs: readonly IdInput[],
  label: string,
  threads?: number,
): Promise<Record<string, Float32Array>> {
  let session: Session;
  try {
    session = await openSession(model, { graphOptimizationLevel: 'basic', threads: threads || undefined });
  } catch (e) {
    const said = ': onnxruntime cannot load the model: ';
    const message = e instanceof ModelLoadError ? e.message : '';
    const at = message.indexOf(said);
    if (at < 0) throw e;
    const detail = message.slice(at + said.length);
    throw new ModelLoadError(`${label}${said}${typeof model === 'string' ? detail.split(model).join(label) : detail}`, { cause: e });
  }
  try {
    const out = await session.run(idFeeds(inputs));
    const res: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(out)) res[k] = floatValues(v);
    return res;
  } catch (e) {
    throw new UserError(`${label}: onnxruntime cannot run the model: ${ortErrorLine(e)}`, { cause: e });
  } finally {
    await session.release();
  }
}

/**
 * Runs `original` and `rewritten` on the same sample inputs (built from the original's structure with
 * `sampleInputs`) and reports the drift per output. Throws a UserError if onnxruntime cannot run the rewritten model.
 */
export async function checkRuns(
  original: string | Uint8Array,
  rewritten: string | Uint8Array,
  inputs: readonly IdInput[],
  label = 'output',
): Promise<RunCheck> {
  const a = await runSample(original, inputs, typeof original === 'string' ? original : 'input model');
  return compareRuns(a, await runSample(rewritten, inputs, label), inputs);
}

/** The drift per output of `rewritten`'s outputs from `original`'s (runSample's, both on `inputs`), as checkRuns reports it. */
export function compareRuns(original: Record<string, Float32Array>, rewritten: Record<string, Float32Array>, inputs: readonly IdInput[]): RunCheck {
  const drift: OutputDrift[] = Object.keys(rewritten).map((k) => {
    const x = original[k],
      y = rewritten[k];
    let m = x && x.length === y.length ? 0 : Infinity;
    if (m === 0) for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
    return { output: k, maxAbsDiff: m };
  });
  return { drift, batch: inputs[0].dims[0], seq: sequenceOf(inputs) };
}

/** The first output of `outputs` (runSample's) holding values that are not finite (NaN or ±Infinity): how many, the first. */
export function nonFiniteOutput(outputs: Record<string, Float32Array>): { output: string; count: number; value: number } | undefined {
  for (const [output, values] of Object.entries(outputs)) {
    const bad = nonFiniteValues(values);
    if (bad) return { output, count: bad.count, value: values[bad.first]! };
  }
  return undefined;
}

/**
 * Refuses, in one line, the input model `label` whose `outputs` on the check's sample `inputs` (runSample's) are not
 * all finite: no drift can be told from it, and every model compressed from it computes the same or worse.
 */
export function requireFiniteInput(outputs: Record<string, Float32Array>, inputs: readonly IdInput[], label: string): void {
  const bad = nonFiniteOutput(outputs);
  if (!bad) return;
  throw new NonFiniteInputError(
    `${label}: the model computes ${nonFiniteText(bad)} at its output ${quotedText(bad.output)} on the check's sample inputs (${sampleText(inputs)}), before any pass: fix or retrain it before compressing it`,
  );
}

/**
 * Refuses, in one line, the output `label` whose `rewritten` outputs are not all finite where the input model's
 * (`original`, all finite: requireFiniteInput) are: the passes broke the model, which is not written.
 */
export function requireFiniteOutput(rewritten: Record<string, Float32Array>, inputs: readonly IdInput[], label: string): void {
  const bad = nonFiniteOutput(rewritten);
  if (!bad) return;
  throw new UserError(
    `${label}: the compressed model computes ${nonFiniteText(bad)} at its output ${quotedText(bad.output)} on the check's sample inputs (${sampleText(inputs)}), where the input model computes finite values: the passes broke it; nothing written`,
  );
}

/** The sequence length of sample `inputs`: their last axis ([batch, sequence], a multiple-choice export's [batch, choices, sequence]). */
const sequenceOf = (inputs: readonly IdInput[]) => inputs[0].dims[inputs[0].dims.length - 1];

const sampleText = (inputs: readonly IdInput[]) =>
  `batch ${inputs[0].dims[0]} of ${inputs[0].dims.length === 3 ? `${inputs[0].dims[1]} choices of ` : ''}${sequenceOf(inputs)} tokens`;
