/**
 * Measuring a model on calibration batches, for passes that choose what to remove or quantize by its effect
 * (head ablation, attention confidence, quantization sensitivity). This is not evaluation: it computes the
 * training loss on a few calibration examples, never a GLUE metric.
 */
import type { Model } from '../onnx/graph.ts';
import { openModelSession, type ModelSessionOptions } from '../runtime/model-session.ts';
import { defaultThreads } from '../runtime/threads.ts';
import { floatValues, type Tensor, type Feeds, type Session } from '../runtime/session.ts';
import type { BertStructure } from '../bert/structure.ts';
import { modelInputs, tokenInputs } from '../bert/model-inputs.ts';
import { fixedBatchSize, fixedSequenceLength, oneChoiceEach } from '../bert/sample-inputs.ts';
import { idFeeds } from '../runtime/feeds.ts';
import type { CalibrationBatch, CalibrationSource, PassContext } from './pass.ts';
import { SettingsError, UserError, ortErrorLine } from '../errors.ts';
import { GIVE_CLASSIFIER, encoderOnlyNote, headInWords, isEncoderOnly, noClassifierWay } from '../bert/classifier.ts';
import type { ClassifierNeed } from './settings.ts';

/** `c` where it holds batches; else refused: '<pass>: <what> needs calibration data' (`plural`: 'activation ranges need …'). */
export function requireCalibration(c: CalibrationSource | undefined, pass: string, what: string, plural = false): CalibrationSource {
  if (!c?.batches.length) throw new SettingsError(`${pass}: ${what} ${plural ? 'need' : 'needs'} calibration data (--calibrate TASK)`);
  return c;
}

/**
 * Encoder feeds for one calibration batch, in the element types the model's inputs declare, each example a row (a
 * multiple-choice export's [batch, choices, sequence] inputs: one choice to an example, where its choices axis is
 * dynamic; one of fixed choices is refused, its examples being one text or pair each); `extra`: inputs the caller
 * feeds (head masks).
 */
export function batchFeeds(model: Model, structure: BertStructure, b: CalibrationBatch, extra: readonly string[] = []): Feeds {
  const fixed = fixedSequenceLength(model, structure);
  if (fixed !== undefined && fixed !== b.seq) {
    throw new SettingsError(`the model takes sequences of exactly ${fixed} tokens; calibrate with --max-length ${fixed}`);
  }
  const rows = fixedBatchSize(model, structure);
  if (rows !== undefined && rows !== b.batch) {
    throw new SettingsError(`the model takes batches of exactly ${rows} rows, and a calibration batch has ${b.batch}: calibrate with the model's own inputs`);
  }
  return idFeeds(oneChoiceEach(model, structure, 'a calibration example')(tokenInputs(modelInputs(model, structure, extra), b)));
}

/** Mean loss of a batch: cross-entropy over the logits for classification, squared error for regression. */
export function batchLoss(logits: Float32Array, b: CalibrationBatch): number {
  const k = logits.length / b.batch;
  let total = 0;
  for (let i = 0; i < b.batch; i++) {
    const row = logits.subarray(i * k, i * k + k);
    if (b.regression) {
      const d = row[0] - b.labels[i];
      total += d * d;
    } else {
      let max = -Infinity;
      for (const v of row) max = Math.max(max, v);
      let sum = 0;
      for (const v of row) sum += Math.exp(v - max);
      total += Math.log(sum) + max - row[b.labels[i]];
    }
  }
  return total / b.batch;
}

/**
 * Throws a SettingsError when `need` (a setting that measures a loss on the class scores) meets a model that does not
 * end in a sequence classifier: an encoder-only model's first output is hidden states, and an MLM's, a span's or a
 * token tagger's is scores per token; the loss would read either as one example's class scores. So too where the
 * calibration says the model's config.json names another head (`calibration.otherHead`: a multiple-choice head looks
 * like a one-label classifier in the graph).
 */
export function requireClassifier(model: Model, structure: BertStructure, pass: string, need: ClassifierNeed, calibration?: CalibrationSource): void {
  if (isEncoderOnly(structure)) {
    throw new SettingsError(
      `${pass}: the model is ${encoderOnlyNote(model)}: ${need.what} needs a classifier (it measures a loss on the class scores); ${noClassifierWay(model, structure) ?? `give it one with ${GIVE_CLASSIFIER}`}, or ${need.instead}`,
    );
  }
  const head = structure.head!;
  if (head.kind === 'sequence-classification') {
    if (calibration?.otherHead === undefined) return;
    throw new SettingsError(`${pass}: ${need.what} measures a loss on a sequence classifier's class scores, but ${calibration.otherHead}; ${need.instead}`);
  }
  throw new SettingsError(
    `${pass}: ${need.what} measures a loss on a sequence classifier's class scores, but the model has ${headInWords(head)}, outputs ${head.outputs.join(', ')}; ${need.instead}`,
  );
}

/** The graph output carrying the task logits. */
export function logitsOutput(model: Model, structure: BertStructure): string {
  return structure.head?.outputs[0] ?? model.graph.outputs[0].name;
}

/** What opening a session to measure the model reads of the pass's context: its threads, and whom to tell them. */
export type MeasureThreads = Pick<PassContext, 'threads' | 'measuredAt'>;

/**
 * An onnxruntime session a pass opens to measure `model` (importance, sensitivity, activation ranges), at
 * `at.threads` intra-op threads (0 or absent: one per physical core), the count told to `at.measuredAt` (the pass's
 * report records it: PassReport.threads).
 */
export async function openMeasuringSession(model: Model, at: MeasureThreads, opts: Pick<ModelSessionOptions, 'graphOptimizationLevel'> = {}): Promise<Session> {
  const session = await openModelSession(model, { ...opts, threads: at.threads || undefined });
  at.measuredAt?.(at.threads || defaultThreads());
  return session;
}

/** A session over an in-memory model, with the calibration batches' feeds ready. */
export class CalibrationRunner {
  private constructor(
    private readonly session: Session,
    private readonly feeds: Feeds[],
    private readonly batches: CalibrationBatch[],
    readonly logits: string,
  ) {}

  /**
   * `extra`: inputs the model declares that the caller feeds (e.g. head masks: see loss); `at`: the pass's context,
   * whose threads the session takes (openMeasuringSession).
   */
  static async open(
    model: Model,
    structure: BertStructure,
    calibration: CalibrationSource,
    extra: readonly string[] = [],
    at: MeasureThreads = {},
  ): Promise<CalibrationRunner> {
    const session = await openMeasuringSession(model, at, { graphOptimizationLevel: 'all' });
    const feeds = calibration.batches.map((b) => batchFeeds(model, structure, b, extra));
    const runner = new CalibrationRunner(session, feeds, calibration.batches, logitsOutput(model, structure));
    runner.source = calibration;
    return runner;
  }

  /** The calibration the batches come from (for its task and whether its labels can be read). */
  private source?: CalibrationSource;

  /** Mean loss over all calibration examples (float16 logits decoded), with extra feeds (e.g. head masks) added to every batch. */
  async loss(extra: Feeds = {}): Promise<number> {
    if (this.source) requireLabels(this.source, 'calibration', 'a loss against the labels');
    let total = 0,
      n = 0;
    for (let i = 0; i < this.feeds.length; i++) {
      const out = await this.run(i, { ...this.feeds[i], ...extra }, [this.logits]);
      total += batchLoss(floatValues(out[this.logits]!), this.batches[i]) * this.batches[i].batch;
      n += this.batches[i].batch;
    }
    return total / n;
  }

  /** Runs every batch and hands each named output to `visit` with its batch. */
  async forEach(outputs: string[], visit: (out: Record<string, Tensor>, batch: CalibrationBatch) => void): Promise<void> {
    for (let i = 0; i < this.feeds.length; i++) visit(await this.run(i, this.feeds[i], outputs), this.batches[i]);
  }

  /** Runs batch `i` on `feeds`; a UserError in one line (onnxruntime's detail kept) when onnxruntime cannot run the model. */
  private async run(i: number, feeds: Feeds, outputs: string[]): Promise<Record<string, Tensor>> {
    try {
      return await this.session.run(feeds, outputs);
    } catch (e) {
      const b = this.batches[i]!;
      throw new UserError(`onnxruntime cannot run the model on a calibration batch of [${b.batch}, ${b.seq}] tokens: ${ortErrorLine(e)}`, { cause: e });
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * The calibration batches with the model's own outputs as their targets: the class it predicts (classification)
 * or the score it gives (regression), in place of the gold labels. A loss against these measures how far a changed
 * model strays from what this one computes, rather than how well it fits the calibration labels.
 */
export async function predictedTargets(
  model: Model,
  structure: BertStructure,
  calibration: CalibrationSource,
  at: MeasureThreads = {},
): Promise<CalibrationSource> {
  const runner = await CalibrationRunner.open(model, structure, calibration, [], at);
  const batches: CalibrationBatch[] = [];
  try {
    await runner.forEach([runner.logits], (out, b) => {
      const logits = floatValues(out[runner.logits]!);
      const k = logits.length / b.batch;
      const labels = new Float32Array(b.batch);
      for (let i = 0; i < b.batch; i++) {
        if (b.regression) {
          labels[i] = logits[i * k];
          continue;
        }
        let best = 0;
        for (let c = 1; c < k; c++) if (logits[i * k + c] > logits[i * k + best]) best = c;
        labels[i] = best;
      }
      batches.push({ ...b, labels });
    });
  } finally {
    await runner.release();
  }
  const { unlabelled: _, ...rest } = calibration; // the predictions are the labels now
  return { ...rest, batches };
}

/** Throws a SettingsError when the calibration's labels cannot be read (CalibrationSource.unlabelled). */
export function requireLabels(c: CalibrationSource, pass: string, what: string): void {
  if (c.unlabelled !== undefined) throw new SettingsError(`${pass}: ${what} needs --calibrate ${c.task}'s labels: ${c.unlabelled}`);
}
