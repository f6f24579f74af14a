/**
 * The training loop: a student's forward graph plus its loss is differentiated once (src/gradients) into a
 * training graph that onnxruntime runs; each step feeds a batch, the dropout masks of that step, the targets and
 * the current parameters, reads back the loss and the gradients, clips them, and lets AdamW update the parameters
 * in TypeScript (embedding tables row-sparse). After each epoch the student is evaluated on the task's dev split
 * through the GLUE harness and the best epoch is kept. Checkpoints every N steps make a killed run resume where it
 * was, with the same weights as a run that was never interrupted: batches, dropout masks and the schedule are pure
 * functions of (seed, step).
 */
import { createHash } from 'node:crypto';
import { ensureFolder } from '../destination.ts';
import { join } from 'node:path';
import { attrInt, type Model } from '../onnx/graph.ts';
import { consumers } from '../onnx/analysis.ts';
import { nonFiniteValues } from '../onnx/tensor.ts';
import { openModelSession } from '../runtime/model-session.ts';
import { defaultThreads } from '../runtime/threads.ts';
import { Tensor, type Feeds, type Fetches, type Session } from '../runtime/session.ts';
import { modelInputs } from '../bert/model-inputs.ts';
import { scoreTask, type PreparedTask } from '../eval/evaluate.ts';
import { describeUndefinedMetrics, taskScore } from '../eval/glue-score.ts';
import type { ModelConfig } from '../eval/model-files.ts';
import { countMissingPredictions } from '../eval/metrics/index.ts';
import type { MetricValues } from '../eval/metrics/metric.ts';
import { DataError, SettingsError, valueText, counted, plural, quotedText } from '../errors.ts';
import { times100 } from '../units.ts';
import { appendLoss, buildGradientGraph, goldTargets, LOSS_INPUTS, type GradientGraph, type IntermediateTerm, type LossTerm } from '../gradients/index.ts';
import type { TeacherFeatures } from './teacher-features.ts';
import { AdamW, accumulateRows, clipFactor, type RowGradients, type RowWorkspace } from './optimizer.ts';
import { lrAt, warmupStepsOf } from './schedule.ts';
import { MaskBuffers } from './dropout.ts';
import { shuffledOrder } from './random.ts';
import { epochBatch, type Batch, type TrainingSet } from './data.ts';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoint.ts';
import { initialParameters, weightMatrices, type Student } from './student.ts';
import { embeddingLrScales, type EmbeddingLr } from './embedding-lr.ts';
import type { KernelName } from './adamw-kernel.ts';

/** Optimization settings (TextBrewer's TrainingConfig + optimizer, as data). */
export interface TrainSettings {
  epochs: number;
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  weightDecay: number;
  /** Warmup as a fraction of all steps. */
  warmupRatio: number;
  /** Clip the global gradient norm to this (0: no clipping). */
  maxGradNorm: number;
  /** Dropout probability at every dropout site (0: none). */
  dropout: number;
  seed: number;
  /** Optimizer steps between checkpoints (0: only at epoch ends). */
  checkpointEvery: number;
  /** Evaluate on dev after each epoch and keep the best epoch (default true). */
  evalEachEpoch: boolean;
  /** onnxruntime intra-op threads (0: one per core). */
  threads: number;
  /**
   * Embedding tables get row-sparse gradients and lazy AdamW updates (only the rows a batch touched move), the fast
   * default; false: dense gradients and AdamW on every row each step, as torch.optim.AdamW does.
   */
  sparseEmbeddings: boolean;
  /**
   * Peak lr of the word-embedding tables (the student's row-sparse tables), on the same schedule: a number, or
   * 'scaled' (lr × each table's RMS over the RMS of the student's weight matrices; see embedding-lr.ts). Unset: lr.
   */
  embeddingLr?: EmbeddingLr;
}

export const DEFAULT_TRAIN_SETTINGS: Readonly<TrainSettings> = Object.freeze({
  epochs: 3,
  batchSize: 32,
  lr: 1e-4,
  weightDecay: 0.01,
  warmupRatio: 0.1,
  maxGradNorm: 1,
  dropout: 0.1,
  seed: 1,
  checkpointEvery: 200,
  evalEachEpoch: true,
  threads: 0,
  sparseEmbeddings: true,
});

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  /** Dev metrics (HF evaluate names) and their task score (mean of the task's metrics), when evaluated. */
  metrics?: MetricValues;
  score?: number;
  /** The epoch's seconds in the training loop: a resumed epoch's include those spent before the resume. */
  seconds: number;
}

export interface TrainJob {
  student: Student;
  /** Tokenized training examples (the student's label order). */
  set: TrainingSet;
  /** The loss terms (from train / distill settings). */
  loss: readonly LossTerm[];
  /** Teacher logits per example [examples × numLabels] (needed by soft-ce, logit-mse, teacher-score-mse). */
  teacherLogits?: Float32Array;
  /**
   * Intermediate-layer terms and the teacher run that feeds them (teacher-features.ts); `carriedFrom`: the projections
   * file the terms' starting projections were read from (IntermediateTerm.projection), named when a checkpoint of the
   * run started from other ones is refused.
   */
  intermediate?: { terms: readonly IntermediateTerm[]; teacher: TeacherFeatures; carriedFrom?: string };
  settings: TrainSettings;
  /**
   * Dev split for evaluation after each epoch; `prepared`: already read and tokenized at the set's max length
   * (runTraining reads it before any work, so that a bad dev split is refused before the teacher's pass).
   */
  dev?: { modelConfig: ModelConfig; prepared: PreparedTask };
  /**
   * The teacher the loss terms learn from, as an identity (its model file's sha256): part of what makes two jobs
   * the same run, so that a run is never resumed with another teacher.
   */
  teacher?: string;
  /**
   * This job is the student's only training: once its parameters are in the optimizer's memory the student's graphs
   * read them there (`Student.adopt`) and its starting values are dropped (a copy of its weights through the run).
   * The student then changes as it trains: train it again only from what this run wrote. Default false.
   */
  trainsOnce?: boolean;
  /**
   * The version of the training step that runs the job (TRAINING_VERSIONS; default 1): part of what makes two jobs
   * the same run, so that checkpoints another version wrote are not resumed. A job of version 1 is keyed without it,
   * as jobs were before they had versions, whose checkpoints so resume.
   */
  version?: number;
  /** Checkpoints go here; resumed from when it holds one of the same job. */
  workDir: string;
  /**
   * What to do with checkpoints of another job in `workDir` (other settings, data, teacher or student): 'refuse'
   * (default; a SettingsError saying what differs, and the checkpoints stay), or 'start-over' (they are ignored,
   * and replaced as this run writes its own).
   */
  otherJob?: 'refuse' | 'start-over';
  /**
   * The name a refusal of another job's checkpoints gives `settings.epochs` when it differs (default 'epochs'; a
   * phase that runs --intermediate-epochs names that).
   */
  epochsKey?: string;
  /** Stop after the current step and checkpoint (Ctrl-C). */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** After every step. */
  onStep?: (p: StepProgress) => void;
}

export interface StepProgress {
  step: number;
  totalSteps: number;
  /** 0-based epoch of the step, of `epochs` in this run (a phase: an intermediate phase runs its own count). */
  epoch: number;
  epochs: number;
  loss: number;
  examplesPerSecond: number;
}

export interface TrainResult {
  /** The student's parameters of the best epoch (the last when not evaluated); projections left out. */
  params: Map<string, Float32Array>;
  /** The loss's parameters of that epoch, by name: the projections of hidden features of two widths (none: empty). */
  projections: Map<string, Float32Array>;
  epochs: EpochRecord[];
  /** 1-based epoch whose parameters are returned. */
  bestEpoch: number;
  steps: number;
  examplesSeen: number;
  /**
   * Training examples per second over the run's steps: a resumed run's, over those of the processes before it too
   * (as the checkpoint records them), so that it reads as an uninterrupted run's.
   */
  examplesPerSecond: number;
  /**
   * Seconds spent in the training loop (steps and dev evaluations), the time examplesPerSecond is over: a resumed
   * run's include those the processes before it spent up to the checkpoint it resumed from (the steps after it, run
   * again, are counted once).
   */
  seconds: number;
  /** True when stopped by the signal before the end (a checkpoint holds the state). */
  interrupted: boolean;
  /** Step the run resumed from (0: fresh). */
  resumedFrom: number;
  /**
   * The onnxruntime threads the job's steps ran with (its --threads, 0 counted as one per physical core), in the order
   * of the processes that ran them, a count repeated by the next process once: one count, unless it was resumed at another (a model's bytes can depend on it: test/
   * runtime/matmul-threads.test.ts). A run resumed from a checkpoint written before counts were kept: this process's.
   */
  threads: number[];
}

type JobIdentity = Pick<TrainJob, 'student' | 'set' | 'loss' | 'settings' | 'intermediate' | 'teacher' | 'version'>;

/** What makes two jobs the same run, besides the student's initial weights: kept in checkpoints, to say what differs. */
interface JobFacts {
  student: string;
  data: string;
  loss: readonly LossTerm[];
  intermediate: Array<Pick<IntermediateTerm, 'kind' | 'weight' | 'label'>>;
  settings: Partial<TrainSettings>;
  teacher?: string;
  /** TrainJob.version, from 2 on (absent: 1). */
  version?: number;
  /** A hash of the intermediate terms' starting projections read from a file (IntermediateTerm.projection); absent: none read. */
  projections?: string;
}

/**
 * `legacy`: with the student's description as checkpoints held it before they held its identity (Student.identity:
 * the path of the file it was read from left out), so that a checkpoint written then still resumes where it was.
 */
function jobFacts(job: JobIdentity, legacy = false): JobFacts {
  const { checkpointEvery: _c, threads: _t, evalEachEpoch: _e, ...s } = job.settings;
  const intermediate = job.intermediate?.terms.map(({ kind, weight, label }) => ({ kind, weight, label })) ?? [];
  const carried = job.intermediate?.terms.filter((t) => t.projection) ?? [];
  // (no teacher: the facts of a job without one hash as they did before it was one of them)
  return {
    student: legacy ? job.student.description : (job.student.identity ?? job.student.description),
    data: job.set.sha256,
    loss: job.loss,
    intermediate,
    settings: s,
    ...(job.teacher ? { teacher: job.teacher } : {}),
    // (version 1: the facts of a job before jobs had versions)
    ...(job.version !== undefined && job.version !== 1 ? { version: job.version } : {}),
    // (their values are hashed with the parameters too: kept here to say that they differ)
    ...(carried.length ? { projections: projectionsHash(carried) } : {}),
  };
}

/** A short hash of terms' starting projections, by label. */
function projectionsHash(terms: readonly IntermediateTerm[]): string {
  const h = createHash('sha256');
  for (const t of terms) {
    h.update(`${t.label}\0`);
    h.update(new Uint8Array(t.projection!.buffer, t.projection!.byteOffset, t.projection!.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

/** A short hash of everything that makes two jobs the same run (a checkpoint of another job is never resumed). */
export function jobKey(job: JobIdentity, params: ReadonlyMap<string, Float32Array>, legacy = false): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(jobFacts(job, legacy)));
  for (const [name, v] of params) {
    h.update(name);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

/** The parameters read only by Gather along axis 0: embedding tables (word, position, token type). */
export function gatheredTables(model: Model, parameters: readonly string[]): string[] {
  const readersOf = consumers(model.graph);
  return parameters.filter((p) => {
    const readers = readersOf.get(p) ?? [];
    return (
      readers.length > 0 &&
      readers.every((n) => n.opType === 'Gather' && n.domain === '' && n.inputs[0] === p && !n.inputs.slice(1).includes(p) && attrInt(n, 'axis', 0) === 0)
    );
  });
}

/**
 * The training graph of a student with its loss, the initial values of every parameter it trains (the student's,
 * then those the loss adds: projections), and the student's weight matrices (`weightMatrices`). Every embedding
 * table's gradient leaves the graph as the gathered rows and their ids (`graph.sparse`), summed in TypeScript:
 * onnxruntime's ScatterND loses updates of repeated ids with more than one thread (`scatterAddRows`). `lazy` lists
 * the tables updated row-sparsely (the student's word tables when `sparse`); the others get dense gradients.
 */
export async function trainingGraph(
  student: Student,
  loss: readonly LossTerm[],
  dropout: boolean,
  intermediate: readonly IntermediateTerm[] = [],
  seed = 1,
  sparse = true,
): Promise<{ graph: GradientGraph; params: Map<string, Float32Array>; matrices: string[]; lazy: string[] }> {
  const forward = student.forward(dropout);
  const withLoss = appendLoss(forward, 'logits', student.numLabels, loss, intermediate, seed);
  const params = new Map([...initialParameters(forward), ...withLoss.parameters]);
  const parameters = [...params.keys()];
  const graph = await buildGradientGraph(withLoss.model, {
    loss: withLoss.loss,
    parameters,
    sparse: gatheredTables(withLoss.model, parameters),
    keep: withLoss.terms.map((t) => t.output),
  });
  return { graph, params, matrices: weightMatrices(forward), lazy: sparse ? [...student.sparse] : [] };
}

interface Buffers {
  masks: MaskBuffers;
}

function idTensorOf(values: BigInt64Array, batch: number, seq: number, fixed?: number): Tensor {
  if (fixed === undefined || fixed === seq) return new Tensor('int64', values, [batch, seq]);
  if (seq > fixed) throw new RangeError(`batch of length ${seq} exceeds the student's fixed length ${fixed}`);
  const out = new BigInt64Array(batch * fixed);
  for (let b = 0; b < batch; b++) out.set(values.subarray(b * seq, (b + 1) * seq), b * fixed);
  return new Tensor('int64', out, [batch, fixed]);
}

/** The feeds of one step: ids, dropout masks, targets, parameters. */
function stepFeeds(
  job: Pick<TrainJob, 'student' | 'settings' | 'teacherLogits'>,
  batch: Batch,
  step: number,
  params: ReadonlyMap<string, Float32Array>,
  buffers: Buffers,
  gg: GradientGraph,
  inputNames: ReadonlySet<string>,
): Feeds {
  const { student, settings } = job;
  const seq = student.fixedLength ?? batch.seq;
  const feeds: Feeds = {};
  const { ids, mask, types } = student.inputs;
  feeds[ids] = idTensorOf(batch.inputIds, batch.size, batch.seq, student.fixedLength);
  if (mask) feeds[mask] = idTensorOf(batch.attentionMask, batch.size, batch.seq, student.fixedLength);
  if (types) feeds[types] = idTensorOf(batch.tokenTypeIds, batch.size, batch.seq, student.fixedLength);
  const sites = student.masks
    .filter((m) => inputNames.has(m.name))
    .map((m) => {
      const dims = m.dims.map((d) => (d === 'batch' ? batch.size : d === 'sequence' ? seq : d));
      return { site: m.name, dims, size: dims.reduce((a, b) => a * b, 1) };
    });
  const masks = buffers.masks.fill(sites, settings.seed, step, settings.dropout);
  sites.forEach((s, i) => {
    feeds[s.site] = new Tensor('float32', masks[i]!, s.dims);
  });
  const n = student.numLabels;
  const regression = inputNames.has(LOSS_INPUTS.scores);
  if (regression || inputNames.has(LOSS_INPUTS.labels)) Object.assign(feeds, goldTargets(batch.labels, n, regression));
  if (inputNames.has(LOSS_INPUTS.teacher)) {
    const t = job.teacherLogits;
    if (!t) throw new SettingsError('this loss needs teacher logits');
    const out = new Float32Array(batch.size * n);
    for (let b = 0; b < batch.size; b++) out.set(t.subarray(batch.indices[b] * n, (batch.indices[b] + 1) * n), b * n);
    feeds[LOSS_INPUTS.teacher] = new Tensor('float32', out, [batch.size, n]);
  }
  for (const [name, info] of gg.parameterInfo) feeds[name] = new Tensor('float32', params.get(name)!, info.dims);
  return feeds;
}

/** Milliseconds of one step by part; together they are the whole step. */
export interface StepTimings {
  /** Building the feeds: ids, dropout masks, targets (and an intermediate-KD teacher's run). */
  readonly feeds: number;
  /** The training graph in onnxruntime. */
  readonly graph: number;
  /** Reading the outputs, embedding row sums, clipping's norm and the AdamW updates. */
  readonly update: number;
}

/** One optimizer step at a time over a training graph: what the loop and the `train` benchmark run. */
export interface Stepper {
  /** Every trained parameter: the student's and the loss's (projections). */
  readonly params: Map<string, Float32Array>;
  readonly optimizer: AdamW;
  /** Forward, backward and update on `batch` as optimizer step `step` (its dropout masks); returns the loss. */
  step(batch: Batch, step: number, lr: number): Promise<number>;
  /** Where the last step's time went (the `train` benchmark's split). */
  readonly lastTimings: StepTimings;
  release(): Promise<void>;
}

/**
 * Differentiates the student with its loss and opens the training session. `updateKernel` picks AdamW's kernel
 * (default 'wasm'; 'js' computes the same bits, for comparing their speed); `profilePrefix`: onnxruntime's profile of
 * the training graph's runs is written when the stepper is released (openModelSession's `profilePrefix`; the training
 * benchmark's --profile).
 */
export async function createStepper(
  job: Pick<TrainJob, 'student' | 'loss' | 'settings' | 'teacherLogits' | 'intermediate'>,
  updateKernel?: KernelName,
  profilePrefix?: string,
): Promise<Stepper> {
  const { student, settings } = job;
  const {
    graph: gg,
    params,
    matrices,
    lazy: lazyTables,
  } = await trainingGraph(student, job.loss, settings.dropout > 0, job.intermediate?.terms, settings.seed, settings.sparseEmbeddings);
  const lazy = new Set(lazyTables);
  const lrScale = embeddingLrScales(settings.lr, settings.embeddingLr, student.sparse, matrices, params);
  /** The tables not updated lazily: their dense gradients are summed from the gathered rows the graph outputs. */
  const summedTables = gg.sparse.filter((s) => !lazy.has(s.parameter)).map((s) => s.parameter);
  // The optimizer keeps the parameters and the dense gradients in its kernel's memory: onnxruntime reads the
  // parameters and writes the gradients there, and AdamW updates them in place (no copy either way).
  const optimizer = new AdamW(params, {
    lr: settings.lr,
    weightDecay: settings.weightDecay,
    lrScale,
    kernel: updateKernel,
    host: { gradients: [...gg.dense.keys(), ...summedTables] },
  });
  for (const [name, view] of optimizer.parameters) params.set(name, view);
  const tableGrads = new Map(summedTables.map((name) => [name, optimizer.gradientBuffer(name)] as const));
  // (opened once what can be refused is done, the learning rates and the optimizer: the caller releases it from here on)
  // (its threads stop spin-waiting as each run returns: they would take a core from the update and the feeds that
  // follow, and from an intermediate-KD teacher's run)
  const session: Session = await openModelSession(gg.model, {
    threads: settings.threads || undefined,
    spinning: 'during runs',
    ...(profilePrefix !== undefined ? { profilePrefix } : {}),
  });
  const inputNames = new Set(session.inputNames);
  /** Every output; each dense gradient written by onnxruntime into its buffer. */
  const fetches: Fetches = Object.fromEntries(session.outputNames.map((name) => [name, null]));
  for (const [name, output] of gg.dense) fetches[output] = new Tensor('float32', optimizer.gradientBuffer(name), gg.parameterInfo.get(name)!.dims);
  const buffers: Buffers = { masks: new MaskBuffers() };
  const rowWorkspaces = gg.sparse.map((): RowWorkspace => ({}));
  // clipping's norm: each gradient in the optimizer's memory summed by its kernel (the bits of the TypeScript loop)
  const squaresOf = (a: Float32Array) => optimizer.squares(a);
  let lastTimings: StepTimings = { feeds: 0, graph: 0, update: 0 };
  let released = false;
  return {
    params,
    optimizer,
    get lastTimings() {
      return lastTimings;
    },
    async step(batch, step, lr) {
      const t0 = performance.now();
      const feeds = stepFeeds(job, batch, step, params, buffers, gg, inputNames);
      // (refused there if not finite: the teacher's fault, neither the loss settings' nor the learning rate's)
      const features = job.intermediate ? await job.intermediate.teacher.run(batch, step) : undefined;
      if (features) Object.assign(feeds, features);
      const t1 = performance.now();
      const out = await session.run(feeds, fetches);
      const t2 = performance.now();
      const loss = Number(out[gg.loss].data[0]);
      if (!Number.isFinite(loss)) {
        // before the first update the learning rate played no part: the loss itself overflows
        if (step === 0) throw new SettingsError(`the loss is ${loss} before any update: check the loss settings (e.g. a smaller --temperature)`);
        throw new SettingsError(`training diverged at step ${step} (loss ${loss}): lower --lr`);
      }
      const sparse: Array<RowGradients & { parameter: string }> = [];
      for (const g of tableGrads.values()) g.fill(0);
      gg.sparse.forEach((s, i) => {
        const width = gg.parameterInfo.get(s.parameter)!.dims[1];
        const ids = out[s.ids].data as BigInt64Array;
        const rows = out[s.rows].data as Float32Array;
        const table = tableGrads.get(s.parameter);
        if (table) optimizer.scatterAddRows(table, ids, rows, width);
        else sparse.push({ parameter: s.parameter, ...accumulateRows(ids, rows, width, rowWorkspaces[i]) });
      });
      // In parameter order, as the graph lists its dense gradients: clipping's norm sums them in this order.
      const dense = new Map<string, Float32Array>();
      for (const p of params.keys()) {
        const name = gg.dense.get(p);
        const g = name !== undefined ? optimizer.gradientBuffer(p) : tableGrads.get(p);
        if (g) dense.set(p, g);
      }
      const { scale } = settings.maxGradNorm > 0 ? clipFactor(dense, sparse, settings.maxGradNorm, squaresOf) : { scale: 1 };
      optimizer.step(dense, lr, scale);
      for (const r of sparse) optimizer.stepSparse(r.parameter, r.rows, r.grads, gg.parameterInfo.get(r.parameter)!.dims[1], lr, scale);
      lastTimings = { feeds: t1 - t0, graph: t2 - t1, update: performance.now() - t2 };
      return loss;
    },
    // (once: train releases it when its loop ends, and again, as on every error path, when it returns)
    release: async () => {
      if (released) return;
      released = true;
      await session.release();
    },
  };
}

/**
 * Thrown from a progress callback between two batches (a dev evaluation's, the augmentation's, the teacher's) when
 * a run's signal has been aborted; caught by the run, which stops there.
 */
export class StoppedBetweenBatches extends Error {}

/**
 * Dev evaluation of the current parameters through the GLUE harness. When the job's signal aborts, it stops after
 * the batch in progress (StoppedBetweenBatches), unless that batch was the last: a finished evaluation is kept.
 */
async function evaluateDev(
  job: TrainJob,
  params: ReadonlyMap<string, Float32Array>,
  prepared: PreparedTask,
): Promise<{ metrics: MetricValues; score: number; nonFinite?: number; examples?: number; undefinedWhy?: string }> {
  const dev = job.dev!;
  const student = job.student.export(studentOnly(job.student, params));
  // (the parameters handed over where they are, not serialized: the evaluation's peak a copy of the weights lower)
  const session = await openModelSession(student, { threads: job.settings.threads || undefined, inPlace: true });
  const signal = job.signal;
  const onProgress = signal
    ? ({ done, total }: { done: number; total: number }) => {
        if (signal.aborted && done < total) throw new StoppedBetweenBatches();
      }
    : undefined;
  try {
    const r = await scoreTask(session, prepared, {
      modelConfig: dev.modelConfig,
      batchSize: 64,
      inputs: modelInputs(student),
      ...(onProgress ? { onProgress } : {}),
    });
    const broken = countMissingPredictions(r.predictions);
    if (broken > 0) return { metrics: r.metrics, score: NaN, nonFinite: broken, examples: r.examples };
    const score = taskScore(r.task, r.metrics) ?? NaN;
    // (an undefined score's reason, for the epoch's line: 'STS-B: Pearson and Spearman undefined (constant predictions)')
    const undefinedWhy = Number.isNaN(score) ? describeUndefinedMetrics(r.task.name, r.metrics, r.undefinedMetrics) : null;
    return { metrics: r.metrics, score, ...(undefinedWhy ? { undefinedWhy } : {}) };
  } finally {
    await session.release();
  }
}

/**
 * An epoch's record as a checkpoint's JSON gives it back, where an undefined dev score or metric (NaN: Pearson of
 * constant STS-B predictions) was written as null: NaN again, as the uninterrupted run holds it (null reads as 0).
 */
function epochFromJson(e: EpochRecord): EpochRecord {
  const number = (v: number | null | undefined) => (v === null || v === undefined ? Number.NaN : v);
  const out: EpochRecord = { ...e };
  if (e.metrics) out.metrics = Object.fromEntries(Object.entries(e.metrics).map(([m, v]) => [m, number(v)]));
  if (e.score !== undefined) out.score = number(e.score);
  return out;
}

/** The student's own parameters (not the loss's projections). */
export function studentOnly(student: Student, params: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const own = student.forward(false).graph.initializers;
  return new Map([...params].filter(([name]) => own.has(name)));
}

/**
 * Whether an epoch's dev score replaces the best epoch so far (`bestEpoch` 0: none yet; `best` null: the best has no
 * score). An undefined score (NaN: Pearson of constant STS-B predictions) is kept only while no epoch is, and any
 * defined score replaces an undefined best; otherwise a score must be strictly higher (the first of equal epochs
 * stays, as the Trainer's `load_best_model_at_end`). The best score is checkpointed as null when undefined, so a
 * resumed run decides as the uninterrupted one does.
 */
export function beatsBest(score: number, best: number | null, bestEpoch: number): boolean {
  if (Number.isNaN(score)) return bestEpoch === 0;
  return best === null || Number.isNaN(best) || score > best;
}

/** The name of the first parameter holding a NaN or an infinity, if any. */
function nonFiniteParameter(params: ReadonlyMap<string, Float32Array>): string | undefined {
  for (const [name, p] of params) if (nonFiniteValues(p)) return name;
  return undefined;
}

/** The state kept in a checkpoint beside the tensors. */
interface ResumeState {
  key: string;
  /** The job's facts (absent from checkpoints written before they were kept). */
  job?: JobFacts;
  epochs: EpochRecord[];
  bestEpoch: number;
  bestScore: number | null;
  lossSum: number;
  lossSteps: number;
  examplesSeen: number;
  /**
   * Seconds of the training loop up to this checkpoint, over every process that ran it, and of those the part spent in
   * the epoch in progress (0 at an epoch's end): a resumed run's epoch record and rate count the time before the
   * resume. Absent from checkpoints written before they were kept: then only the resumed process's time is counted.
   */
  seconds?: number;
  epochSeconds?: number;
  /**
   * The onnxruntime threads of the processes that ran the job's steps up to this checkpoint, in order, a count
   * repeated by the next process once (TrainResult.threads). Absent from checkpoints written before they were kept.
   */
  threads?: number[];
}

export async function train(job: TrainJob): Promise<TrainResult> {
  if (!job.set.examples.length) throw new SettingsError(`${job.set.task?.name ?? job.set.file}: no training examples`);
  checkStepCount(job.set.examples.length, job.settings, job.epochsKey);
  const stepper = await createStepper(job);
  // (released on every way out: a step that diverges, a checkpoint that cannot be written, a callback that throws;
  // where the run failed, a release that fails too does not hide the run's error)
  let result: TrainResult;
  try {
    result = await trainWith(job, stepper);
  } catch (e) {
    await stepper.release().catch(() => {});
    throw e;
  }
  await stepper.release();
  return result;
}

/** checkStepCount's refusal: a sweep point names the step it is (where the epochs and the file are the step's). */
export class StepCountError extends SettingsError {}

/**
 * Refuses, in one line naming the epochs' flag (--epochs; --intermediate-epochs where `epochsKey` says a phase runs
 * those), epochs whose optimizer steps over `examples` training examples are past 2^53 − 1, which no step counter holds
 * exactly (where the schedule refused them as its own 'totalSteps'); the steps counted exactly. `source`, where given,
 * names the file the examples were read from and the augmented variants of each among them (`examples` counts both).
 * runTraining checks each phase so before any work, a sweep's plan each train and distill step.
 */
export function checkStepCount(
  examples: number,
  settings: Pick<TrainSettings, 'epochs' | 'batchSize'>,
  epochsKey?: string,
  source?: { file: string; variants?: number },
): void {
  const { epochs, batchSize } = settings;
  const batches = Math.ceil(examples / batchSize);
  if (Number.isSafeInteger(batches * epochs)) return;
  const flag = epochsKey === 'intermediateEpochs' ? '--intermediate-epochs' : '--epochs';
  const variants = source?.variants ?? 0;
  const from =
    source === undefined
      ? ''
      : variants > 0
        ? ` (${examples / (1 + variants)} of ${source.file}, ${counted(variants, 'augmented variant')} of each)`
        : ` of ${source.file}`;
  throw new StepCountError(
    `${flag} ${epochs}: ${counted(examples, 'training example')}${from} in batches of ${batchSize} make ${BigInt(batches) * BigInt(epochs)} optimizer steps, past 2^53 − 1: give fewer epochs`,
  );
}

/** train's loop over `stepper`, which it releases as soon as the loop ends (train releases it on every other way out). */
async function trainWith(job: TrainJob, stepper: Stepper): Promise<TrainResult> {
  const { student, set, settings } = job;
  const log = job.log ?? (() => {});
  const { params, optimizer } = stepper;
  if (job.trainsOnce) student.adopt?.(studentOnly(student, params));
  for (const [name, f] of optimizer.lrScale) log(`${name}: peak lr ${(settings.lr * f).toPrecision(3)} (×${f.toPrecision(3)} the schedule's)`);
  let key = jobKey(job, params);
  const stepsPerEpoch = Math.ceil(set.examples.length / settings.batchSize);
  const totalSteps = stepsPerEpoch * settings.epochs;
  const schedule = { lr: settings.lr, totalSteps, warmupRatio: settings.warmupRatio };
  // (a warmup's first step runs at lr 0, as the Trainer's get_linear_schedule_with_warmup: a run of one step is all of it)
  if (totalSteps === 1 && warmupStepsOf(schedule) > 0) {
    log(
      `note: 1 optimizer step, the first of a warmup (--warmup ${settings.warmupRatio}), runs at lr 0: the weights do not change; give more examples or epochs, a smaller --batch-size, or --warmup 0`,
    );
  }
  const prepared = job.dev?.prepared;
  ensureFolder(job.workDir, `the work folder ${job.workDir}`); // (removed again, when still empty, if the run fails)

  let state: ResumeState = { key, job: jobFacts(job), epochs: [], bestEpoch: 0, bestScore: null, lossSum: 0, lossSteps: 0, examplesSeen: 0 };
  // Whether a best epoch's parameters are in `best/` (writeBest): read back at the end, not kept in memory (a copy
  // of every parameter through the later epochs and their evaluations, the run's peak)
  let bestWritten = false;
  let step = 0;
  let firstEpoch = 0;
  const ckpt = loadCheckpoint(job.workDir, { log });
  const saved = (ckpt?.extra as ResumeState | undefined)?.key;
  // (a checkpoint written before the student's identity was its facts: its key, kept for the rest of the run)
  if (saved !== undefined && saved !== key && job.student.identity !== undefined && saved === jobKey(job, params, true)) key = saved;
  if (ckpt && saved === key) {
    for (const [name, v] of ckpt.params) params.get(name)?.set(v);
    optimizer.load(ckpt.optimizer);
    state = ckpt.extra as ResumeState;
    state.epochs = state.epochs.map(epochFromJson);
    step = ckpt.step;
    // the epoch in progress as the checkpoint names it: stopped after an epoch's last step, that epoch's end (its
    // evaluation, its record, the best epoch) has not run yet, though the step count is the next epoch's start
    firstEpoch = Math.floor(step / stepsPerEpoch);
    if (ckpt.epoch === firstEpoch - 1 && step === firstEpoch * stepsPerEpoch) firstEpoch = ckpt.epoch;
    bestWritten = settings.evalEachEpoch && prepared !== undefined && resumedBest(job.workDir, key, state, ckpt, stepsPerEpoch, params, optimizer);
    // killed after the last epoch's end (its checkpoint written, the model not yet): nothing is left to train
    log(
      firstEpoch >= settings.epochs
        ? `resuming from step ${step}: all ${counted(settings.epochs, 'epoch')} ${plural(settings.epochs, 'was', 'were')} done, nothing is left to train`
        : `resuming from step ${step} (epoch ${firstEpoch + 1})`,
    );
  } else if (ckpt) {
    const was = ckpt.extra as Partial<ResumeState> | undefined;
    // (a checkpoint written before the student's identity was its facts names it by its description: compared with
    // this run's, so that the same student read from the same file is not said to differ)
    const legacy = job.student.identity !== undefined && was?.job !== undefined && was.job.student !== job.student.identity;
    const now = jobFacts(job, legacy);
    const differs = jobDifference(was, now, job.epochsKey, job.intermediate?.carriedFrom);
    if ((job.otherJob ?? 'refuse') === 'refuse') {
      // (another version's checkpoints: no settings of this version resume them)
      const resume =
        (was?.job?.version ?? 1) === (now.version ?? 1)
          ? ': rerun with the settings it was started with to resume it, or'
          : ', which this bert-compress does not resume:';
      throw new SettingsError(`${job.workDir} holds the checkpoints (step ${ckpt.step}) of a run ${differs}${resume} remove ${job.workDir} to start over`);
    }
    log(`${job.workDir}: not resuming the checkpoints (step ${ckpt.step}) of a run ${differs}: starting over`);
  }
  const resumedFrom = step;
  // (the counts of the processes before, and this one's once it has run a step)
  const threadsBefore = state.threads ?? [];
  const threadsNow = settings.threads || defaultThreads();
  const threadsRan = () => (step > resumedFrom && threadsBefore.at(-1) !== threadsNow ? [...threadsBefore, threadsNow] : threadsBefore);
  // the time earlier processes spent, and the examples it is over (none, from a checkpoint that does not record it)
  const secondsBefore = state.seconds ?? 0;
  const examplesBefore = state.seconds === undefined ? 0 : state.examplesSeen;
  let epochSecondsBefore = state.epochSeconds ?? 0;
  const started = performance.now();
  let epochStart = started;
  const secondsNow = () => secondsBefore + (performance.now() - started) / 1000;
  const epochSecondsNow = () => epochSecondsBefore + (performance.now() - epochStart) / 1000;

  /** `ended`: the checkpoint after an epoch's end (its record written), whose next epoch has not started. */
  const checkpoint = (epoch: number, ended = false) => {
    state.seconds = secondsNow();
    state.epochSeconds = ended ? 0 : epochSecondsNow();
    state.threads = threadsRan();
    saveCheckpoint(job.workDir, { step, epoch, params, optimizer: optimizer.state(), extra: state });
  };
  let examplesThisRun = 0;
  let interrupted = false;

  for (let epoch = firstEpoch; epoch < settings.epochs && !interrupted; epoch++) {
    epochStart = performance.now();
    if (epoch > firstEpoch) epochSecondsBefore = 0;
    const order = shuffledOrder(set.examples.length, settings.seed, epoch);
    for (let b = step - epoch * stepsPerEpoch; b < stepsPerEpoch; b++) {
      const batch = epochBatch(set, order, settings.batchSize, b);
      const loss = await stepper.step(batch, step, lrAt(step, schedule));
      step++;
      state.lossSum += loss;
      state.lossSteps++;
      state.examplesSeen += batch.size;
      examplesThisRun += batch.size;
      job.onStep?.({ step, totalSteps, epoch, epochs: settings.epochs, loss, examplesPerSecond: examplesThisRun / ((performance.now() - started) / 1000) });
      if (job.signal?.aborted) {
        interrupted = true;
        break;
      }
      if (settings.checkpointEvery > 0 && step % settings.checkpointEvery === 0 && b < stepsPerEpoch - 1) checkpoint(epoch);
    }
    if (interrupted) {
      checkpoint(epoch);
      break;
    }
    // a step's loss is checked before its update, so the last update of an epoch could leave weights that are not
    // finite (a huge --lr without clipping): refused here, before they are evaluated, checkpointed or written
    const broken = nonFiniteParameter(params);
    if (broken !== undefined) {
      throw new SettingsError(`training diverged at step ${step} (${quotedText(broken)} is no longer finite): lower --lr`);
    }
    const record: EpochRecord = { epoch: epoch + 1, loss: state.lossSum / Math.max(1, state.lossSteps), seconds: epochSecondsNow() };
    let newBest = false;
    if (prepared && settings.evalEachEpoch) {
      let evaluated: Awaited<ReturnType<typeof evaluateDev>>;
      try {
        evaluated = await evaluateDev(job, params, prepared);
      } catch (e) {
        if (!(e instanceof StoppedBetweenBatches)) throw e;
        // stopped during the evaluation (minutes on a large dev split): the epoch's steps are kept as a checkpoint
        // stopped after its last step is, and the rerun ends the epoch (evaluates it again), as it would have
        log(`stopped during epoch ${epoch + 1}'s dev evaluation: a rerun evaluates it again`);
        interrupted = true;
        checkpoint(epoch);
        break;
      }
      const { metrics, score, nonFinite, examples, undefinedWhy } = evaluated;
      if (nonFinite) {
        throw new SettingsError(
          `training diverged at step ${step} (the student's outputs are not finite on ${nonFinite} of ${examples} dev examples): lower --lr`,
        );
      }
      record.metrics = metrics;
      record.score = score;
      const dev = Number.isNaN(score) ? (undefinedWhy ?? `${prepared.dataset.task.name} undefined`) : `${prepared.dataset.task.name} ${times100(score, '-')}`;
      log(`epoch ${epoch + 1}: loss ${record.loss.toFixed(4)}, dev ${dev}`);
      if (beatsBest(score, state.bestScore, state.bestEpoch)) {
        state.bestScore = Number.isNaN(score) ? null : score;
        state.bestEpoch = epoch + 1;
        newBest = true;
      }
    } else {
      // (an epoch without a dev score: general distillation, a task stage's intermediate phase; said too, so that a
      // log, where no bar shows the steps, follows the run)
      log(`epoch ${epoch + 1}: loss ${record.loss.toFixed(4)}`);
      state.bestEpoch = epoch + 1;
    }
    state.epochs.push(record);
    state.lossSum = 0;
    state.lossSteps = 0;
    checkpoint(epoch + 1, true);
    // (after the checkpoint that names it the best epoch: a run killed between the two writes finds the best epoch's
    // parameters in that checkpoint (resumedBest), where one killed after writing best/ first replayed the epoch, which
    // at other --threads may score otherwise, and wrote best/'s parameters under another epoch's name)
    if (newBest) {
      writeBest(job.workDir, key, epoch + 1, params, optimizer);
      bestWritten = true;
    }
    // stopped while the epoch ended (its last dev batch): its checkpoint is written, so no step of the next one runs
    if (job.signal?.aborted && epoch + 1 < settings.epochs) interrupted = true;
  }
  await stepper.release();
  const seconds = secondsNow();
  const best = bestWritten && settings.evalEachEpoch && prepared ? readBest(job.workDir, key, state.bestEpoch) : undefined;
  if (bestWritten && settings.evalEachEpoch && prepared && !best)
    throw new Error(`the best epoch's parameters in ${join(job.workDir, 'best')} cannot be read back`);
  const trained = studentOnly(student, best ?? params);
  // (copies: small, and kept past the optimizer's memory)
  const projections = new Map([...(best ?? params)].filter(([name]) => !trained.has(name)).map(([name, v]) => [name, v.slice()]));
  // (a student trained once reads the parameters returned from now on: its graphs do not keep the optimizer's memory,
  // its moments and gradients with the parameters, past the run when the best epoch's were read back)
  if (job.trainsOnce) student.adopt?.(trained);
  return {
    params: trained,
    projections,
    epochs: state.epochs,
    bestEpoch: state.bestEpoch,
    steps: step,
    examplesSeen: state.examplesSeen,
    examplesPerSecond: (examplesBefore + examplesThisRun) / Math.max(seconds, 1e-9),
    seconds,
    interrupted,
    resumedFrom,
    threads: threadsRan().length ? threadsRan() : [threadsNow],
  };
}

/**
 * 'with lr 0.001 (this run: 0.0005)': how the job of a checkpoint differs from this one; `carriedFrom`: the file this
 * run's starting projections were read from.
 */
function jobDifference(saved: Partial<ResumeState> | undefined, now: JobFacts, epochsKey = 'epochs', carriedFrom?: string): string {
  const was = saved?.job;
  if (!was) return 'of another job (other settings, data, teacher or student, or another version of bert-compress)';
  const out: string[] = [];
  const keys = [...new Set([...Object.keys(was.settings ?? {}), ...Object.keys(now.settings)])].sort();
  for (const k of keys) {
    const a = (was.settings as Record<string, unknown>)[k];
    const b = (now.settings as Record<string, unknown>)[k];
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${k === 'epochs' ? epochsKey : k} ${valueText(a)} (this run: ${valueText(b)})`);
  }
  if (was.student !== now.student) out.push(`student ${was.student} (this run: ${now.student})`);
  if (was.teacher !== now.teacher) out.push('another teacher');
  // (the seed picks the examples of --max-examples: a seed that differs says it)
  if (was.data !== now.data && was.settings?.seed === now.settings.seed) out.push('other training data (file, --max-examples, --max-length or augmentation)');
  if (JSON.stringify(was.loss) !== JSON.stringify(now.loss)) out.push('another loss (alpha, temperature or logit loss)');
  if (JSON.stringify(was.intermediate) !== JSON.stringify(now.intermediate)) out.push('other intermediate-layer matches');
  if (was.projections !== now.projections)
    out.push(
      !now.projections
        ? 'projections started from a projections file (this run: new ones)'
        : was.projections
          ? `other starting projections than ${carriedFrom ?? 'the projections file'} holds now`
          : `projections started new (this run: from ${carriedFrom ?? 'a projections file'})`,
    );
  if ((was.version ?? 1) !== (now.version ?? 1)) out.push(`version ${was.version ?? 1} of the training step (this run: version ${now.version ?? 1})`);
  return out.length > 0 ? `with ${out.join(', ')}` : "from another student's initial weights";
}

/**
 * The best epoch's parameters, kept in `best/` beside the checkpoints so a resumed run still returns them (the
 * optimizer's moments are not: nothing resumes from the best epoch).
 */
function writeBest(dir: string, key: string, epoch: number, params: ReadonlyMap<string, Float32Array>, optimizer: AdamW): void {
  const settings = { ...optimizer.state(), steps: {}, expAvg: new Map(), expAvgSq: new Map() };
  saveCheckpoint(join(dir, 'best'), { step: 0, epoch, params, optimizer: settings, extra: { key } }, { keep: 1 });
}

/** The parameters in `best/` where they are this job's (`key`) of epoch `epoch`. */
function readBest(dir: string, key: string, epoch: number): Map<string, Float32Array> | undefined {
  const c = loadCheckpoint(join(dir, 'best'));
  return c && c.epoch === epoch && (c.extra as { key?: string } | undefined)?.key === key ? new Map(c.params) : undefined;
}

/**
 * Whether `best/` holds the parameters of the best epoch a resumed checkpoint names (`state.bestEpoch`, a scored
 * one): written there from the checkpoint's parameters (`params`, loaded from `ckpt`) where the checkpoint is that
 * epoch's end (the run was killed after writing it, before best/). A scored best epoch found in neither is refused:
 * its parameters are gone (a run of an earlier bert-compress killed after writing best/ for an epoch it had not
 * checkpointed), and a rerun would write another epoch's parameters under its name.
 */
function resumedBest(
  dir: string,
  key: string,
  state: ResumeState,
  ckpt: Checkpoint,
  stepsPerEpoch: number,
  params: ReadonlyMap<string, Float32Array>,
  optimizer: AdamW,
): boolean {
  const epoch = state.bestEpoch;
  if (epoch === 0 || state.epochs[epoch - 1]?.score === undefined) return false;
  if (readBest(dir, key, epoch) !== undefined) return true;
  if (ckpt.epoch === epoch && ckpt.step === epoch * stepsPerEpoch) {
    writeBest(dir, key, epoch, params, optimizer);
    return true;
  }
  throw new DataError(
    `${join(dir, 'best')} does not hold the parameters of epoch ${epoch}, the best epoch its checkpoints name (left so by a run killed between writing the two): remove ${dir} to start over`,
  );
}
