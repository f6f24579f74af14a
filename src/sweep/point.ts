/**
 * Running one sweep point: compress the model with the point's pipeline (into its own folder; `compressFile` copies
 * config.json and the tokenizer files beside it, so it is a complete model folder), evaluate it on the point's GLUE
 * tasks, and benchmark it against the model's baseline. The baseline point evaluates and benchmarks the input model.
 *
 * A pipeline with train / distill steps runs in stages: the passes before a training step through `compressFile`
 * (into `stage-N/` of the point's folder), the training step through `runTraining` (student: that output, or the
 * step's own student; checkpoints in `train-I/` of the point's folder, so rerunning an interrupted sweep resumes
 * it), then the passes after it through `compressFile` again, on the trained model. The last stage writes the
 * point's `model.onnx`.
 *
 * Each finished stage leaves a record beside its output (`.sweep-stage.json`: the size and sha256 of every file it
 * wrote that a later stage, the evaluation or the benchmark reads, which of those it did not write, and what the
 * point's result takes from it). A rerun of a point that did not end (its worker or sweep killed, or stopped between
 * stages) goes on after the last stage whose files are all still there as recorded: a trained model is not trained
 * again, whether the point ran in this process or in a worker of `--jobs N`. A stage whose files changed since (a
 * config.json edited, a data file truncated or rewritten) runs again, and says why.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BenchStopped, timingLockWaitLine, type BenchResult } from '../bench/index.ts';
// (benchModels of ./run.ts, whose refusals name the flags, which namingSettings renames: the package's names its options)
import { benchModels } from '../bench/run.ts';
import { loadCalibration } from '../eval/calibration.ts';
import { evaluate } from '../eval/evaluate.ts';
import { toReport, type EvalReport } from '../eval/report.ts';
import { checkInput, checkInputRuns, compressFile, loadInput, type InputCheck, type LoadedModel } from '../export/compress.ts';
import { lineagePath } from '../destination.ts';
import { projectionsPath } from '../train/projections.ts';
import { MODEL_SIDE_FILES } from '../eval/model-files.ts';
import { removeStaleTemporaries, sha256File, writeFileAtomic } from '../files.ts';
import { externalDataFiles } from '../onnx/identity.ts';
import { dataPathFor } from '../onnx/save.ts';
import { modelSize } from '../onnx/size.ts';
import { stepName, type PassStep } from '../pass/pass.ts';
import { registerAllPasses } from '../passes.ts';
import { runTraining, trainingLabelSource, type TrainingStop } from '../train/run.ts';
import { nameTokenizerClassIn } from '../train/output-folder.ts';
import { StepCountError } from '../train/trainer.ts';
import { checkPointMemory, type PointTrainingStep, type SweepPoint } from './plan.ts';
import { trainingSettingNames, trainingSummary } from './train-step.ts';
import { BENCH_SETTING_NAMES, CALIBRATION_SETTING_NAMES, EVAL_SETTING_NAMES, passStepNames } from './setting-names.ts';
import { namingSettings } from '../flag-names.ts';
import { refusingStep } from '../pass/option-names.ts';
import { ensureFolder } from '../folders.ts';
import { madeModelRefusal, SettingsError } from '../errors.ts';
import { checkOptionKinds, checkOptions, type OptionKind } from '../library-args.ts';
import { THREADS_OPTION } from '../runtime/threads.ts';

/** What a finished point measured. */
export interface PointResult {
  /** Weight elements and bytes of all initializers (see onnx/size.ts). */
  params: number;
  bytes: number;
  /** Bytes of the .onnx file (and its external data) on disk. */
  fileBytes: number;
  eval: EvalReport;
  /** GLUE score over the point's tasks, as a fraction; null when none was scored. */
  glue: number | null;
  bench: BenchResult;
  /** Speed-up over the baseline (geometric mean over shapes); 1 for the baseline itself. */
  speedup: number;
  /** Median latency at the first bench shape, in ms. */
  latencyMs: number;
  /** One line per pass. */
  passes: Array<{ pass: string; summary: string }>;
  /** `compress` includes `train` (the train / distill steps; absent for a pipeline without them). */
  seconds: { compress: number; train?: number; eval: number; bench: number; total: number };
  /** The compressed model's path (null for the baseline, or when the model was not kept). */
  output: string | null;
  /**
   * Set when the stages up to this one (1-based) were not run again: an earlier run of the point that did not end
   * (killed, stopped) had finished them. Their seconds are not counted (a reused training step counts 0).
   */
  reused?: number;
}

export interface RunPointOptions {
  /**
   * onnxruntime threads for compress steps, eval, bench, train and distill where the sweep file sets none, or 0 (POOL_THREADS_RANGE:
   * the runner's share of the physical cores; 0 here: one per physical core, the share of a runner of one point at once).
   */
  threads: number;
  log?: (line: string) => void;
  /**
   * Stops the point (Ctrl-C): a running train / distill step stops after its optimizer step and writes a checkpoint,
   * which the next run of the point resumes from; its evaluation stops between two batches; its benchmark stops
   * waiting for the timing lock, or timing between two runs (releasing the lock); the point then ends with
   * `PointInterrupted`, also when the signal comes between its stages.
   */
  signal?: AbortSignal;
  /**
   * Called as each stage starts (graph passes, a train / distill step, the evaluation, the benchmark), and with
   * null once the benchmark has ended: a pool of workers tells from it whether a benchmark ran alone (contention.ts).
   */
  onStage?: (stage: PointStage | null) => void;
  /**
   * Before any stage, refuse what the plan's memory rules refuse on this machine (checkPointMemory: a MemoryRefusal):
   * for a queued point, whose plan on the coordinator left its memory to the machine that runs it.
   */
  checkMemory?: boolean;
}

/** The stages of a point, as RunPointOptions.onStage reports them. */
export type PointStage = 'compress' | 'train' | 'eval' | 'bench';

/** A point stopped by `RunPointOptions.signal`: not a failure (nothing is recorded; a rerun runs it again). */
export class PointInterrupted extends Error {
  override name = 'PointInterrupted';
  /** Where its training step stopped, when one was running (the sweep's closing line says what a rerun does). */
  readonly training?: TrainingStop;
  constructor(message: string, training?: TrainingStop) {
    super(message);
    if (training) this.training = training;
  }
}

/** Throws PointInterrupted when `signal` has been aborted. */
function checkNotStopped(signal: AbortSignal | undefined, when = 'before its end'): void {
  if (signal?.aborted) throw new PointInterrupted(`stopped ${when}`);
}

/**
 * The bytes of a model's files on disk: its .onnx and its external data (`dataFile`, the one a stage wrote, else those
 * the .onnx names: a baseline's own model, exported with its weights in model.onnx_data).
 */
function diskBytes(onnx: string, dataFile?: string): number {
  const data = dataFile ? [dataFile] : externalDataFiles(onnx);
  return data.reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), statSync(onnx).size);
}

const since = (t: number): number => (performance.now() - t) / 1000;

/** RunPointOptions' kinds, checked before the point runs (a JavaScript caller's threads 'x', signal of another kind). */
const RUN_POINT_OPTION_KINDS = {
  threads: THREADS_OPTION,
  log: 'function',
  signal: 'signal',
  onStage: 'function',
  checkMemory: 'boolean',
} as const satisfies Record<keyof RunPointOptions, OptionKind>;

/** Runs one point: see the module comment. */
export async function runPoint(point: SweepPoint, opts: RunPointOptions): Promise<PointResult> {
  checkOptionKinds('runPoint', checkOptions('runPoint', opts, '{threads, log, signal, onStage, checkMemory}'), RUN_POINT_OPTION_KINDS);
  if (opts.threads === undefined) throw new SettingsError(`runPoint: threads: missing; expected ${THREADS_OPTION.expected}`);
  registerAllPasses();
  if (opts.checkMemory) checkPointMemory(point);
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const stageOf = opts.onStage ?? (() => {});
  // onnxruntime threads of the point's model check, its passes' sessions (PassContext.threads) and its evaluation: 0 in
  // the sweep file, as unset, is the runner's share (POOL_THREADS_RANGE), as bench.threads 0; a train step's own
  // threads go before them (trainStep)
  const threads = point.eval.threads || opts.threads;
  let modelFile = point.model.onnx;
  let size: { params: number; bytes: number } | undefined;
  let dataFile: string | undefined;
  const passes: PointResult['passes'] = [];
  let trainSeconds: number | undefined;
  let reused: number | undefined;
  if (point.outputDir !== null) {
    ensureFolder(point.outputDir, `the point's work folder ${point.outputDir}`);
    modelFile = join(point.outputDir, 'model.onnx');
    const stages = splitStages(point);
    const outputs = stages.map((_, i) => (i === stages.length - 1 ? modelFile : join(point.outputDir!, `stage-${i + 1}`, 'model.onnx')));
    // (the model stage i reads: the output of the stage before, or the point's model)
    const inputOf = (i: number) => (i > 0 ? outputs[i - 1]! : point.model.onnx);
    // An earlier run of this point (killed, or stopped) may have finished some stages: go on after the last of them.
    let first = 0;
    for (let i = stages.length - 1; i >= 0; i--) {
      const done = await finishedStage(point, i, stages.length, outputs[i]!);
      if (typeof done === 'string') {
        log(`not reusing the output of stage ${i + 1} of ${stages.length} (${stageName(stages[i]!)}) from an earlier run of ${point.label}: ${done}`);
        continue;
      }
      if (!done) continue;
      first = i + 1;
      reused = first;
      size = done.size;
      // (the data file beside the output: the record names it where the stage wrote it, a folder since moved or copied)
      dataFile = done.dataFile === undefined ? undefined : join(dirname(outputs[i]!), basename(done.dataFile));
      passes.push(...done.passes);
      if (stages.slice(0, first).some((st) => st.kind === 'train')) trainSeconds = 0;
      // (a train stage's config.json written before it named the tokenizer's class: named now, and recorded so)
      const last = stages[i]!;
      if (last.kind === 'train' && nameTokenizerClassIn(outputs[i]!, trainingLabelSource(stepModels(last.step, inputOf(i))).dir)) {
        await recordStage(point, i, stages.length, outputs[i]!, done);
      }
      log(
        `reusing the output of stage${first > 1 ? 's 1 to' : ''} ${first} of ${stages.length} (${stages
          .slice(0, first)
          .map(stageName)
          .join(', ')}) from an earlier run of ${point.label}: ${outputs[i]}`,
      );
      break;
    }
    let input = inputOf(first);
    // the point's model, read before its first stage runs (a model computing NaN refused before any work), handed to
    // that stage when it is passes (compressFile checks it so: not read, run or hashed again)
    let read = first === 0 ? await readPointModel(point, stages[0]?.kind === 'passes', threads) : undefined;
    // (a first stage that trains: the check only ran the model, whose copy is not kept while it trains)
    if (!read?.check) read = undefined;
    for (const [i, stage] of stages.entries()) {
      if (i < first) {
        // (a train step's checkpoints left by a run killed after the stage's record was written)
        if (stage.kind === 'train') rmSync(trainWorkDir(point, stage.step), { recursive: true, force: true });
        continue;
      }
      checkNotStopped(opts.signal);
      // (dropped after the first stage: a training stage after it holds no copy of the model)
      const given = read;
      read = undefined;
      const output = outputs[i]!;
      // The record and files of an earlier run's stage no longer hold: the stage writes them all again (a side file
      // left there would otherwise stay, as the stage copies only those its folder lacks).
      rmSync(stageRecordPath(output), { force: true });
      for (const name of stageFileNames(output)) rmSync(join(dirname(output), name), { force: true });
      stageOf(stage.kind === 'passes' ? 'compress' : 'train');
      if (stage.kind === 'passes') {
        const settings = point.calibration;
        const calibration = settings
          ? await namingSettings(CALIBRATION_SETTING_NAMES, () =>
              loadCalibration({ model: input, task: settings.task, examples: settings.examples, glueDir: point.glueDir, maxLength: point.eval.maxLength }),
            )
          : undefined;
        // (after a training stage, its input is a model the point made, not a file it read: a model computing NaN is
        // refused as one, and retried by a rerun)
        // (a pass's refusal of its calibration named as the sweep file names it: 'needs calibration.task STS-B's labels')
        // (and a pass's refusal of its step named in the file's words, as the plan names it: passStepNames)
        const lineage = await namingSettings(
          (e) => passStepNames(point.steps, refusingStep(e)),
          () =>
            compressFile({
              input,
              output,
              steps: stage.steps,
              context: { calibration, seed: point.seed, log, threads },
              ...(given?.check ? { loaded: given.loaded, shared: { input: given.check } } : {}),
            }),
        ).catch((e: unknown) => {
          throw i > 0 ? madeModelRefusal(e) : e;
        });
        size = lineage.after;
        dataFile = lineage.output.dataFile;
        passes.push(...lineage.passes.map((p) => ({ pass: p.report.pass, summary: p.report.summary })));
      } else {
        const t = performance.now();
        const lineage = await trainStep(point, stage.step, input, output, opts, log);
        trainSeconds = (trainSeconds ?? 0) + since(t);
        size = lineage.after;
        dataFile = undefined;
        passes.push({ pass: stage.step.kind, summary: trainingSummary(lineage, stage.step.student !== undefined) });
      }
      await recordStage(point, i, stages.length, output, { size: size!, dataFile, passes });
      // a train step's checkpoints go once its stage is recorded: killed before (while its files are hashed), the
      // rerun resumes from the last checkpoint, with every epoch done, instead of training again
      if (stage.kind === 'train') rmSync(trainWorkDir(point, stage.step), { recursive: true, force: true });
      input = output;
    }
    // The intermediate models are inputs of later stages only: drop their weights (and the projections a distill stage
    // learned beside its model, which the next stage has read), keep their lineage and config.
    for (const f of outputs.slice(0, -1)) {
      if (!existsSync(dirname(f))) continue;
      for (const name of readdirSync(dirname(f))) if (name.endsWith('.onnx') || name.endsWith('.data')) rmSync(join(dirname(f), name), { force: true });
      rmSync(projectionsPath(f), { force: true });
    }
  } else {
    size = modelSize((await readPointModel(point, false, threads)).loaded.model);
  }
  const compressSeconds = since(t0);
  checkNotStopped(opts.signal);

  stageOf('eval');
  const t1 = performance.now();
  const evaluation = await namingSettings(EVAL_SETTING_NAMES, () =>
    evaluate({
      model: modelFile, // the file, not its folder: a model given as one .onnx of several in a folder
      tasks: point.tasks,
      glueDir: point.glueDir,
      batchSize: point.eval.batchSize,
      maxLength: point.eval.maxLength,
      threads,
      ...(point.eval.exactInt8 ? { exactInt8: true } : {}),
      // stopped between two batches: a listener that throws ends the evaluation (its session released)
      ...(opts.signal ? { onProgress: () => checkNotStopped(opts.signal, 'during its evaluation') } : {}),
    }),
  );
  const evalSeconds = since(t1);
  checkNotStopped(opts.signal);

  stageOf('bench');
  const t2 = performance.now();
  const bench = await namingSettings(BENCH_SETTING_NAMES, () =>
    benchModels({
      ...(opts.signal ? { signal: opts.signal } : {}),
      onLockWait: (holder) => log(timingLockWaitLine(holder)),
      model: modelFile,
      baseline: point.outputDir !== null ? point.model.onnx : undefined,
      batches: point.bench.batch,
      seqs: point.bench.seq,
      repeats: point.bench.repeats,
      warmup: point.bench.warmup,
      threads: point.bench.threads || opts.threads,
      ...(point.bench.maxTime !== undefined ? { maxSeconds: point.bench.maxTime } : {}),
      // the baseline point times its model alone: without spin-waiting, as its variants time it beside them, so that
      // the report's p50 of every row (and a variant's latency from its baseline's p50) is timed the same way
      spinning: false,
    }),
  ).catch((e: unknown) => {
    throw e instanceof BenchStopped ? new PointInterrupted(e.message) : e;
  });
  const benchSeconds = since(t2);
  stageOf(null);

  const fileBytes = diskBytes(modelFile, dataFile);
  const keep = point.outputDir !== null && point.keepModel;
  if (point.outputDir !== null && !point.keepModel) {
    rmSync(stageRecordPath(modelFile), { force: true });
    rmSync(modelFile, { force: true });
    if (dataFile) rmSync(dataFile, { force: true });
    // (the projections a last distill stage learned beside it: of a model that is gone)
    rmSync(projectionsPath(modelFile), { force: true });
  }
  if (!size) throw new Error('runPoint: no stage measured the model');
  return {
    params: size.params,
    bytes: size.bytes,
    fileBytes,
    eval: toReport(evaluation),
    glue: evaluation.glue.score,
    bench,
    speedup: bench.speedup ?? 1,
    latencyMs: bench.shapes[0]!.model.p50Ms,
    passes,
    seconds: {
      compress: compressSeconds,
      ...(trainSeconds !== undefined ? { train: trainSeconds } : {}),
      eval: evalSeconds,
      bench: benchSeconds,
      total: since(t0),
    },
    output: keep ? modelFile : null,
    ...(reused !== undefined ? { reused } : {}),
  };
}

/**
 * The point's model, loaded, checked as compressFile checks its input: a model computing NaN or Infinity on the
 * check's sample inputs is refused in one line, as compress refuses it, before the point trains, evaluates or
 * benchmarks it (a baseline, a pipeline starting with a train or distill step), where only a stage of passes refused it.
 * `compresses`: its first stage is passes, which is handed the check whole (checkInput, with the lineage record that
 * hashes the file); else the check only runs the model (checkInputRuns: no lineage is written of it). At `threads`.
 */
async function readPointModel(point: SweepPoint, compresses: boolean, threads: number): Promise<{ loaded: LoadedModel; check?: InputCheck }> {
  const loaded = loadInput(point.model.onnx);
  if (!compresses) {
    await checkInputRuns(point.model.onnx, loaded.model, undefined, threads);
    return { loaded };
  }
  return { loaded, check: await checkInput(point.model.onnx, loaded.model, undefined, threads) };
}

type Stage = { kind: 'passes'; steps: PassStep[] } | { kind: 'train'; step: PointTrainingStep };

/** 'prune-ffn + quantize', 'distill': a stage in messages. */
function stageName(stage: Stage): string {
  return stage.kind === 'passes' ? stage.steps.map((s) => s.pass).join(' + ') : stage.step.kind;
}

/**
 * What runPoint keeps of a finished stage beside its output, so that a rerun of a point that did not end (a killed
 * worker, a stopped sweep) goes on after it: written once the stage has written everything (model, lineage, config,
 * tokenizer). `passes`: of this stage and those before it.
 */
interface StageRecord {
  key: string;
  stage: number;
  stages: number;
  /**
   * By name, in the output's folder: each file of `stageFileNames` the stage left there, with its size and sha256,
   * or null for one it did not write (which must not appear there since).
   */
  files: Record<string, { bytes: number; sha256: string } | null>;
  dataFile?: string;
  size: { params: number; bytes: number };
  passes: PointResult['passes'];
}

/** The stage record beside a stage's output model. */
function stageRecordPath(output: string): string {
  return join(dirname(output), '.sweep-stage.json');
}

/**
 * The files of a stage's output folder that later stages, the evaluation and the benchmark read: the model, its
 * external data, its lineage (the next stage's lineage includes it; the benchmark reads it), the projections a
 * distill step learned (a next distill step's matches start from them), config.json and the tokenizer files.
 */
function stageFileNames(output: string): string[] {
  return [basename(output), basename(dataPathFor(output)), basename(lineagePath(output)), basename(projectionsPath(output)), ...MODEL_SIDE_FILES];
}

async function recordStage(point: SweepPoint, stage: number, stages: number, output: string, done: Pick<StageRecord, 'size' | 'dataFile' | 'passes'>) {
  const files: StageRecord['files'] = {};
  for (const name of stageFileNames(output)) {
    const file = join(dirname(output), name);
    files[name] = existsSync(file) ? { bytes: statSync(file).size, sha256: await sha256File(file) } : null;
  }
  const record: StageRecord = {
    key: point.key,
    stage,
    stages,
    files,
    ...(done.dataFile ? { dataFile: done.dataFile } : {}),
    size: done.size,
    passes: done.passes,
  };
  writeFileAtomic(stageRecordPath(output), `${JSON.stringify(record, null, 2)}\n`);
  removeStaleTemporaries(stageRecordPath(output)); // what a run killed while writing the record left beside it
}

/**
 * The record of stage `stage` when an earlier run of this point finished it and its files are all still there, as
 * written; undefined when there is no such record (none, another point's or stage's, unreadable); a reason (one line)
 * when there is one but the files changed since. Sizes are compared first, then the files hashed, smallest first.
 */
async function finishedStage(point: SweepPoint, stage: number, stages: number, output: string): Promise<StageRecord | string | undefined> {
  let record: StageRecord;
  try {
    record = JSON.parse(readFileSync(stageRecordPath(output), 'utf8')) as StageRecord;
  } catch {
    return undefined; // none (or unreadable): the stage runs
  }
  if (!record || typeof record !== 'object' || record.key !== point.key || record.stage !== stage || record.stages !== stages) return undefined;
  // (no model: its weights were dropped once the point ended, or never kept; nothing to say)
  if (!existsSync(output)) return undefined;
  const files = record.files;
  if (!files || typeof files !== 'object' || !files[basename(output)]) return 'its record (of an older version) does not hold the hashes of its files';
  const names = stageFileNames(output);
  const toHash: Array<{ file: string; name: string; sha256: string; bytes: number }> = [];
  for (const name of names) {
    const file = join(dirname(output), name);
    const there = existsSync(file);
    // (a record written before `name` was one of the stage's files, vocab.json and merges.txt before RoBERTa's slow
    // tokenizer was copied: the stage did not write it, so it must not be there now, as a null entry says)
    const want = files[name] ?? null;
    if (want === null) {
      if (there) return `${name} appeared since (${file})`;
      continue;
    }
    if (!there) return `${name} is missing (${file})`;
    const bytes = statSync(file).size;
    if (bytes !== want.bytes) return `${name} changed since (${bytes} bytes, ${want.bytes} when written: ${file})`;
    toHash.push({ file, name, sha256: want.sha256, bytes });
  }
  for (const f of toHash.sort((a, b) => a.bytes - b.bytes)) {
    if ((await sha256File(f.file)) !== f.sha256) return `${f.name} changed since (other bytes than written: ${f.file})`;
  }
  return record;
}

/** The point's steps as stages: runs of graph passes, and each train / distill step on its own. */
function splitStages(point: SweepPoint): Stage[] {
  const stages: Stage[] = [];
  point.steps.forEach((step, i) => {
    const t = point.training?.steps.find((s) => s.index === i);
    if (t) {
      stages.push({ kind: 'train', step: t });
      return;
    }
    const last = stages[stages.length - 1];
    if (last?.kind === 'passes') last.steps.push(step);
    else stages.push({ kind: 'passes', steps: [step] });
  });
  return stages;
}

/** The checkpoints of a point's train / distill step. */
function trainWorkDir(point: SweepPoint, t: PointTrainingStep): string {
  return join(point.outputDir!, `train-${t.index}`);
}

/** The student and teacher of train / distill step `t` on `input` (the model so far), as runTraining takes them. */
function stepModels(t: PointTrainingStep, input: string): { student: string; teacher?: string } {
  return { student: t.student ?? input, ...(t.teacher !== undefined ? { teacher: t.teacher } : {}) };
}

/** Runs one train / distill step on `input` (unless the step names its own student) into `output`. */
async function trainStep(point: SweepPoint, t: PointTrainingStep, input: string, output: string, opts: RunPointOptions, log: (line: string) => void) {
  // (0 in the sweep file, as unset: eval.threads, else the runner's share, POOL_THREADS_RANGE)
  const threads = t.settings.threads || point.eval.threads || opts.threads;
  // (the step as the sweep file and the plan's refusals count it: from 1, with its pass)
  const step = stepName(t.index, t.kind);
  // (a refusal of the step's epochs over its file's examples, which its plan makes too, names the step, as the plan does)
  const result = await namingSettings(trainingSettingNames(t.kind, t.maxLength === undefined && point.eval.maxLength !== undefined), () =>
    runTraining({
      task: t.task,
      ...stepModels(t, input),
      output,
      settings: { ...t.settings, threads, ...(t.settings.seed === undefined && point.seed !== undefined ? { seed: point.seed } : {}) },
      ...(t.distill ? { distill: t.distill } : {}),
      maxExamples: t.maxExamples,
      maxLength: t.maxLength ?? point.eval.maxLength,
      glueDir: point.glueDir,
      cacheDir: point.training?.cacheDir,
      workDir: trainWorkDir(point, t),
      keepWorkDir: true,
      // (checkpoints of the step on another input: a stage before it ran again, as its files had changed)
      otherJob: 'start-over',
      log,
      ...(opts.signal ? { signal: opts.signal } : {}),
    }),
  ).catch((e: unknown) => {
    if (e instanceof StepCountError) e.message = `${step}: ${e.message}`;
    throw e;
  });
  if (result.interrupted) {
    const where =
      result.stopped && 'recomputes' in result.stopped
        ? `before its first training step (no checkpoint: a rerun computes ${result.stopped.recomputes} again)`
        : 'with a checkpoint';
    throw new PointInterrupted(`${step} stopped ${where}`, result.stopped);
  }
  if (!result.lineage) throw new Error(`${step} stopped before the end (its checkpoint is kept: rerun the sweep to resume)`);
  return result.lineage;
}
