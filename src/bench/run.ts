/**
 * The benchmark: latency percentiles and throughput of a model per (batch, seq) shape and, with a baseline, the
 * speed-up measured in the same run. Both sessions are opened first; per shape both are warmed up, then timed runs
 * alternate in rounds A B, B A, A B… (neither side always runs first: see timedRounds) so that both see the same
 * machine state (clock, caches, other load), and the speed-up is the median of the paired ratios. Timing holds a machine-wide lock, so two benchmarks do not time each other,
 * and measures what other programs used of the CPUs meanwhile (machine-load.ts), marking the timing contended from a quarter of a CPU.
 * A baseline must be comparable (same inputs, scores and vocabulary: see checkComparable).
 */
import { resolve } from 'node:path';
import {
  checkIntegerFlag,
  checkNumberFlag,
  integerProblem,
  integerRange,
  SettingsError,
  quotedText,
  typedValueText,
  valueAndKind,
  UsageError,
  UserError,
  ortErrorLine,
  type NumberRange,
} from '../errors.ts';
import { locateRunModel, type RunModelLocation } from '../eval/model-files.ts';
import { MAX_LENGTH_RANGE } from '../eval/graph-checks.ts';
import { totalInitializerBytes } from '../onnx/save.ts';
import { checkThreads, openSession, type Feeds, type Session } from '../runtime/session.ts';
import { sampleChoices } from '../bert/sample-inputs.ts';
import {
  benchFeeds,
  benchSubject,
  checkComparable,
  checkRepeats,
  checkShapesFit,
  keptRepeats,
  fixedDims,
  shapesWith,
  subjectLimits,
  type BenchSubject,
  type Shape,
} from './inputs.ts';
import { baselineRelation, type BaselineRelation } from './lineage.ts';
import { machineInfo, type MachineInfo } from './machine.ts';
import { peakRss, resetPeakRss } from './memory.ts';
import { sessionMemory } from './session-memory.ts';
import { Latencies } from './latencies.ts';
import { geometricMean, latencyStats, pairedSpeedup, type LatencyStats } from './stats.ts';
import {
  BenchStopped,
  acquireTimingLock,
  checkBenchEnvironment,
  timingWithLoad,
  type TimingContention,
  type TimingLock,
  type TimingLockOptions,
} from './timing-lock.ts';
import { loadSnapshot, loadSnapshotAfter, machineLoadBetween, type MachineLoad } from './machine-load.ts';
import { checkOptionalString, checkOptions, checkStringOption } from '../library-args.ts';

export const DEFAULT_BATCHES: readonly number[] = [1, 8, 32];
export const DEFAULT_SEQS: readonly number[] = [32, 128];
export const DEFAULT_REPEATS = 20;
export const DEFAULT_WARMUP = 3;

export interface BenchOptions {
  /** The model: an .onnx file or a model folder. */
  model: string;
  /** The model to compare against (usually the uncompressed original). */
  baseline?: string;
  /**
   * The model file of a transformers.js folder by dtype (fp32, q8, q4…), for the model and the baseline; default:
   * the dtype its config.json names, as transformers.js loads it (see locateRunModel).
   */
  dtype?: string;
  baselineDtype?: string;
  /** Batch sizes (default 1, 8, 32). */
  batches?: readonly number[];
  /**
   * Sequence lengths (default 32, 128, each capped at the shortest position table of the models); a graph with a
   * fixed sequence length is run at that length only.
   */
  seqs?: readonly number[];
  /** onnxruntime intra-op threads; 0 or undefined: one per physical core. */
  threads?: number;
  /**
   * Whether onnxruntime's intra-op threads spin-wait between runs: by default on for a model timed alone, and always
   * off with a baseline (the two sessions alternate). A sweep turns it off for its baseline point too, so that the
   * baseline's p50 is timed as its variants' are.
   */
  spinning?: boolean;
  /**
   * Timed runs per model and shape (default 20). With maxSeconds a ceiling: more than the latencies this machine can
   * keep (keptRepeats) are not refused, the runs stop there (BenchResult.keptRuns) if the budget is not spent first.
   */
  repeats?: number;
  /** Untimed runs per model and shape before timing (default 3). */
  warmup?: number;
  /**
   * A time budget in seconds (`--max-time`): each shape's timed rounds stop once its share is spent (the budget left
   * when the shape starts, split evenly among the shapes left), after at least one round, so that fewer than
   * `repeats` may be taken (each shape's LatencyStats.runs); its warm-up runs count against the share and stop once
   * it is spent too. Default: no budget, `warmup` and `repeats` runs.
   */
  maxSeconds?: number;
  /** Called after each shape. */
  onShape?: (shape: ShapeResult, index: number, total: number) => void;
  /** The machine-wide timing lock: its file and how long to wait for it (see timing-lock.ts). */
  timingLock?: Omit<TimingLockOptions, 'onWait'>;
  /** Called when another benchmark holds the timing lock and this one starts waiting (timingLockWaitLine words it). */
  onLockWait?: (holder: number | undefined) => void;
  /**
   * Stops the benchmark (Ctrl-C, SIGTERM): its wait for the timing lock, or its timing between two runs; benchModels
   * then releases the lock and its sessions and throws BenchStopped.
   */
  signal?: AbortSignal;
  /**
   * Measure the memory a session of each model adds, each in a fresh process (session-memory.ts): one more process,
   * session and run per model. Default off (sweeps do not report it).
   */
  sessionMemory?: boolean;
}

/** A size a graph fixes, and the sizes asked instead. */
export interface FixedSize {
  size: number;
  asked: number[];
  /** `asked` are the defaults (DEFAULT_BATCHES, the default lengths): no --batch / --seq was given. */
  defaults?: true;
}

export interface ShapeResult extends Shape {
  model: LatencyStats;
  baseline?: LatencyStats;
  /** Baseline latency / model latency: the median over interleaved rounds (> 1: the model is faster). */
  speedup?: number;
}

export interface MemoryUse {
  /**
   * Resident memory a session of the model added when opened and run once at every shape, in a fresh process after
   * onnxruntime's start-up (bytes); a growth under about 1 MB is within the noise of that process's own memory
   * (formatBench prints it as "< 1 MB").
   */
  sessionRssBytes: number;
  /**
   * The weights onnxruntime keeps memory-mapped from the model's external data file (a Gather's table: the
   * embeddings) rather than reading them: sessionRssBytes counts them only as far as the runs touched them
   * (mappedResidentBytes). Absent from results stored before they were measured.
   */
  mappedWeightBytes?: number;
  mappedResidentBytes?: number;
  /** The model's initializer bytes (its weights), for comparison with the session's memory. */
  weightBytes?: number;
}

export interface BenchResult {
  model: string;
  baseline?: string;
  /** For a transformers.js folder: the dtype whose file was timed, and where it came from. */
  modelDtype?: RunModelLocation['transformersJs'];
  baselineDtype?: RunModelLocation['transformersJs'];
  /** How the baseline relates to the model by their lineage files (lineage.ts); absent without a baseline or from older results. */
  baselineRelation?: BaselineRelation;
  machine: MachineInfo;
  /**
   * Whether onnxruntime's intra-op threads spin-wait between runs (RuntimeOptions.spinning): off with a baseline,
   * where the two sessions alternate. Absent from results stored before it was recorded.
   */
  spinning?: boolean;
  repeats: number;
  warmup: number;
  /** The time budget given (BenchOptions.maxSeconds); absent without one. */
  maxSeconds?: number;
  /**
   * Where a shape's timed runs stopped at the most whose latencies can be kept (keptRepeats: `most`, bounded by
   * `bound`, in words), before `repeats` and its share of the time budget: absent when none did.
   */
  keptRuns?: { most: number; bound: string };
  /**
   * A multiple-choice export's choices per example, as its sample inputs feed them (sampleChoices): a shape's batch is
   * of examples, each run feeding batch × choices rows, and the throughput counts examples. Absent for other models.
   */
  choices?: number;
  /**
   * A dimension the graphs fix (a keras export's sequence length), which replaced the sizes asked for it (BenchOptions
   * seqs or batches): absent when none is fixed, or when only the fixed size was asked.
   */
  fixed?: { seq?: FixedSize; batch?: FixedSize };
  shapes: ShapeResult[];
  /** Geometric mean of the per-shape speed-ups (with a baseline). */
  speedup?: number;
  memory: {
    /** With BenchOptions.sessionMemory (results stored before it was an option have it too, measured in-process). */
    model?: MemoryUse;
    baseline?: MemoryUse;
    /** Peak resident set size (bytes) during this benchmark ('bench'), or over the process lifetime ('process'). */
    peakRssBytes: number;
    peakRssScope: 'bench' | 'process';
  };
  /**
   * Whether the timing had the machine to itself (held the machine-wide timing lock, and other programs used less
   * than OTHER_LOAD_LIMIT_CPUS of the CPUs meanwhile: `load`). Always set by benchModels;
   * absent from results stored before it was recorded.
   */
  timing?: TimingContention;
  seconds: number;
}

/**
 * `values` (--batch's or --seq's sizes), each an integer from `min` (integerProblem), else a SettingsError in one line
 * naming the flag and the value refused (sizeRefusal: '--batch '1,0': the batch size 0: expected an integer from 1 to 2^53 − 1').
 */
function checkIntegerList(name: string, values: readonly number[], min: number): number[] {
  // (the library's batches and seqs, whose types a JavaScript caller can miss: batches: '1,8')
  if (!Array.isArray(values)) throw new SettingsError(`--${name}: expected a list, each an ${integerRange(min)}, got ${valueAndKind(values)}`);
  if (values.length === 0) throw new SettingsError(`--${name}: give at least one value`);
  for (const v of values) {
    const problem = integerProblem(v, min);
    if (problem !== undefined) throw new SettingsError(sizeRefusal(name, values.map(String), v, problem));
  }
  return [...values];
}

/** What one size of --batch's or --seq's list is, as a list's refusal names it. */
const SIZE_WORDS: Readonly<Record<string, string>> = { batch: 'the batch size', seq: 'the sequence length' };

/**
 * The refusal of `size` of --batch's or --seq's `sizes` (as typed on the command line, or a library caller's numbers),
 * in the words of every integer flag: a size alone as the flag's value ('--batch 1e16: expected an integer from 1 to
 * 2^53 − 1'), one of a list named after the list as a layer list's is ('--seq '8,0x10': the sequence length '0x10':
 * expected …'); a size, and the list, as typedValueText shows typed text: a number bare, other text quoted ('0x10', an
 * empty one as '', a list as '8,16'), as `--repeats '0x10'` shows it.
 */
export function sizeRefusal(flag: string, sizes: readonly string[], size: string | number, problem: string): string {
  const shown = typedValueText(size);
  if (sizes.length === 1) return `--${flag} ${shown}: ${problem}`;
  return `--${flag} ${quotedText(sizes.join(','))}: ${SIZE_WORDS[flag] ?? 'the size'} ${shown}: ${problem}`;
}

/**
 * Opens a session and runs it once at every shape; a UserError in one line (onnxruntime's detail kept, the session
 * released) when onnxruntime cannot run the model at one of them.
 */
async function openAndTouch(subject: BenchSubject, feeds: Feeds[], threads: number, spinning: boolean): Promise<Session> {
  const session = await openSession(subject.path, { threads, spinning });
  for (const f of feeds) {
    try {
      await session.run(f);
    } catch (e) {
      await session.release();
      const dims = Object.values(f)[0]?.dims ?? [];
      throw new UserError(`${subject.path}: onnxruntime cannot run the model on a batch of [${dims.join(', ')}] tokens: ${ortErrorLine(e)}`, { cause: e });
    }
  }
  return session;
}

async function timeRun(session: Pick<Session, 'run'>, feeds: Feeds): Promise<number> {
  const start = performance.now();
  await session.run(feeds);
  return performance.now() - start;
}

/** Throws BenchStopped when `signal` has been aborted. */
function checkNotStopped(signal: AbortSignal | undefined, when: string): void {
  if (signal?.aborted) throw new BenchStopped(`stopped ${when}`);
}

/**
 * Times `repeats` rounds of `a` (and `b`): round r runs both once, `a` first in even rounds and `b` first in odd
 * ones (A B, B A, A B…), so that neither side always runs right after the other or always first. Returns each
 * side's times in round order (off the V8 heap: Latencies), so that times.at(r) of both are a pair. Throws
 * BenchStopped before a round once `signal` aborts. With a `deadline` (a performance.now() time), stops after the first round that ends past it.
 */
export async function timedRounds(
  a: Pick<Session, 'run'>,
  feedsA: Feeds,
  b: Pick<Session, 'run'> | undefined,
  feedsB: Feeds | undefined,
  repeats: number,
  signal?: AbortSignal,
  deadline?: number,
): Promise<{ timesA: Latencies; timesB: Latencies }> {
  const timesA = new Latencies();
  const timesB = new Latencies();
  for (let r = 0; r < repeats; r++) {
    checkNotStopped(signal, 'while timing');
    if (b && r % 2 === 1) timesB.push(await timeRun(b, feedsB!));
    timesA.push(await timeRun(a, feedsA));
    if (b && r % 2 === 0) timesB.push(await timeRun(b, feedsB!));
    if (deadline !== undefined && performance.now() >= deadline) break;
  }
  return { timesA, timesB };
}

/**
 * A shape's statistics from the model's latencies (and the baseline's, paired by round: timedRounds), all computed in
 * one working Float64Array as long as the runs, so that the latencies kept and that one copy are all the memory they
 * take (8 bytes a run per model, and 8 more: keptRepeats' arithmetic).
 */
export function shapeStats(shape: Shape, timesA: Latencies, timesB: Latencies | undefined): ShapeResult {
  const work = new Float64Array(Math.max(timesA.length, timesB?.length ?? 0));
  const result: ShapeResult = { ...shape, model: latencyStats(timesA, shape.batch, work) };
  if (timesB) {
    result.baseline = latencyStats(timesB, shape.batch, work);
    result.speedup = pairedSpeedup(timesA, timesB, work);
  }
  return result;
}

/** The dimensions the subjects' graphs fix (`dims`, fixedDims) where other sizes were asked (BenchResult.fixed), or undefined. */
function fixedSizes(
  dims: ReturnType<typeof fixedDims>,
  batches: { sizes: readonly number[]; defaults: boolean },
  seqs: { sizes: readonly number[]; defaults: boolean },
): BenchResult['fixed'] {
  const entry = (size: number | undefined, asked: { sizes: readonly number[]; defaults: boolean }): FixedSize | undefined =>
    size !== undefined && asked.sizes.some((v) => v !== size)
      ? { size, asked: [...asked.sizes], ...(asked.defaults ? { defaults: true as const } : {}) }
      : undefined;
  const seq = entry(dims.seq, seqs);
  const batch = entry(dims.batch, batches);
  return seq || batch ? { ...(seq ? { seq } : {}), ...(batch ? { batch } : {}) } : undefined;
}

/**
 * DEFAULT_SEQS, each capped at the shortest position table among `subjects` (a model of 64 positions: 32, 64), as
 * eval caps its default length: lengths not asked for are not refused.
 */
function defaultSeqs(subjects: readonly BenchSubject[]): number[] {
  const limit = Math.min(...subjects.map((s) => subjectLimits(s).maxSequence ?? Number.POSITIVE_INFINITY));
  return [...new Set(DEFAULT_SEQS.map((n) => Math.min(n, limit)))];
}

/**
 * The timing settings of `opts` (its defaults applied), each refused in one line when out of range before any model
 * is read: batches and seqs, repeats, warmup, threads, maxSeconds (a command line's flags: the CLI's usage check).
 */
/**
 * The integers the bench settings take (--batch, --seq, --repeats, --warmup; a sweep file's bench.batch, bench.seq,
 * bench.repeats, bench.warmup), each from its `min`: a sequence length as --max-length's (MAX_LENGTH_RANGE). Threads
 * take THREADS_RANGE.
 */
export const BENCH_RANGES = { batch: { min: 1 }, seq: MAX_LENGTH_RANGE, repeats: { min: 1 }, warmup: { min: 0 } } as const;

/** The seconds --max-time (BenchOptions.maxSeconds, a sweep file's bench.maxTime) takes. */
export const MAX_TIME_RANGE: NumberRange = { min: 0, above: true, unit: 'seconds' };

export function benchSettings(opts: Pick<BenchOptions, 'batches' | 'seqs' | 'repeats' | 'warmup' | 'threads' | 'maxSeconds'>) {
  const batches = checkIntegerList('batch', opts.batches ?? DEFAULT_BATCHES, BENCH_RANGES.batch.min);
  const askedSeqs = opts.seqs === undefined ? undefined : checkIntegerList('seq', opts.seqs, BENCH_RANGES.seq.min);
  const repeats = opts.repeats ?? DEFAULT_REPEATS;
  checkIntegerFlag('--repeats', repeats, BENCH_RANGES.repeats.min);
  const warmup = opts.warmup ?? DEFAULT_WARMUP;
  checkIntegerFlag('--warmup', warmup, BENCH_RANGES.warmup.min);
  const threads = opts.threads ?? 0;
  checkThreads(threads);
  const maxSeconds = opts.maxSeconds;
  if (maxSeconds !== undefined) checkNumberFlag('--max-time', maxSeconds, MAX_TIME_RANGE);
  // (runs whose latencies no machine could keep, whatever the models: a bad value, refused before any model is read;
  // the machine's memory is judged once the models are known, in benchModels)
  checkRepeats({ repeats, maxSeconds }, 1, Infinity);
  return { batches, askedSeqs, repeats, warmup, threads, maxSeconds };
}

/** Benchmarks `model` (and `baseline`, interleaved): see BenchOptions. */
export async function benchModels(opts: BenchOptions): Promise<BenchResult> {
  checkOptions('benchModels', opts, '{model, …}');
  checkStringOption('benchModels', 'model', opts.model, 'the model path');
  checkOptionalString('benchModels', 'baseline', opts.baseline, 'the baseline model path');
  const start = performance.now();
  const { batches, askedSeqs, repeats, warmup, threads, maxSeconds } = benchSettings(opts);
  checkBenchEnvironment(); // (a value it does not take is refused before anything loads, not at the timing)

  const scope = resetPeakRss() ? 'bench' : 'process';
  if (opts.baselineDtype !== undefined && opts.baseline === undefined) throw new UsageError('--baseline-dtype: no --baseline given');
  const baselineAt = opts.baseline !== undefined ? locateRunModel(opts.baseline, opts.baselineDtype, '--baseline-dtype') : undefined;
  const modelAt = locateRunModel(opts.model, opts.dtype);
  const baselineSubject = baselineAt ? benchSubject(baselineAt.onnx) : undefined;
  const subject = benchSubject(modelAt.onnx, baselineSubject?.structure);
  if (baselineSubject) checkComparable(subject, baselineSubject);
  const relation = baselineSubject ? await baselineRelation(subject.path, baselineSubject.path) : undefined;
  const subjects = baselineSubject ? [subject, baselineSubject] : [subject];
  checkRepeats({ repeats, maxSeconds }, subjects.length);
  // (with --max-time, repeats is a ceiling: the runs stop at the most whose latencies can be kept)
  const kept = keptRepeats(subjects.length);
  const rounds = Math.min(repeats, kept.most);
  const seqs = askedSeqs ?? defaultSeqs(subjects);
  const dims = fixedDims(subjects);
  const shapes = shapesWith(batches, seqs, dims);
  const fixed = fixedSizes(dims, { sizes: batches, defaults: opts.batches === undefined }, { sizes: seqs, defaults: askedSeqs === undefined });
  checkShapesFit(shapes, subjects);
  const feedsA = shapes.map((s) => benchFeeds(subject, s));
  const feedsB = baselineSubject ? shapes.map((s) => benchFeeds(baselineSubject, s)) : [];

  // Two sessions alternate: their intra-op threads do not spin after a run, which would slow the other's next run.
  const spinning = !baselineSubject && (opts.spinning ?? true);
  const a = await openAndTouch(subject, feedsA, threads, spinning);
  const b = baselineSubject
    ? await openAndTouch(baselineSubject, feedsB, threads, spinning).catch(async (e: unknown) => {
        await a.release();
        throw e;
      })
    : undefined;
  const results: ShapeResult[] = [];
  let lock: TimingLock;
  try {
    checkNotStopped(opts.signal, 'before timing');
    lock = await acquireTimingLock({ ...opts.timingLock, onWait: opts.onLockWait, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    await a.release();
    await b?.release();
    throw e;
  }
  let memory: { model?: MemoryUse; baseline?: MemoryUse } = {};
  let load: MachineLoad | undefined;
  let keptRuns: BenchResult['keptRuns'];
  try {
    // under the timing lock: the measuring processes load and run the models too
    if (opts.sessionMemory) {
      const use = async (s: BenchSubject, feeds: Feeds[]): Promise<MemoryUse> => ({
        ...(await sessionMemory(s.path, feeds, threads, spinning, opts.signal)),
        weightBytes: totalInitializerBytes(s.model),
      });
      memory = { model: await use(subject, feedsA) };
      if (baselineSubject) memory.baseline = await use(baselineSubject, feedsB);
    }
    // other programs' load over the timed runs (after the session-memory processes: those are this benchmark's own)
    const loadStart = loadSnapshot();
    const timingStart = performance.now();
    for (const [i, shape] of shapes.entries()) {
      // this shape's share of the budget left: what the shapes before it did not spend, split among those left
      const shapeStart = performance.now();
      const deadline = maxSeconds === undefined ? undefined : shapeStart + Math.max(0, maxSeconds * 1000 - (shapeStart - timingStart)) / (shapes.length - i);
      for (let w = 0; w < warmup; w++) {
        checkNotStopped(opts.signal, 'while timing');
        await a.run(feedsA[i]!);
        if (b) await b.run(feedsB[i]!);
        if (deadline !== undefined && performance.now() >= deadline) break; // (--warmup 1e9 would not end)
      }
      const { timesA, timesB } = await timedRounds(a, feedsA[i]!, b, feedsB[i], rounds, opts.signal, deadline);
      if (rounds < repeats && timesA.length === rounds) keptRuns = kept;
      const result = shapeStats(shape, timesA, b ? timesB : undefined);
      results.push(result);
      opts.onShape?.(result, i, shapes.length);
    }
    const loadEnd = loadStart ? await loadSnapshotAfter(loadStart) : undefined;
    load = loadStart && loadEnd ? machineLoadBetween(loadStart, loadEnd) : undefined;
  } finally {
    lock.release();
    await a.release();
    await b?.release();
  }

  const choices = subject.structure && sampleChoices(subject.model, subject.structure);
  const out: BenchResult = {
    model: resolve(subject.path),
    ...(modelAt.transformersJs ? { modelDtype: modelAt.transformersJs } : {}),
    machine: machineInfo(threads),
    spinning,
    repeats,
    warmup,
    ...(maxSeconds !== undefined ? { maxSeconds } : {}),
    ...(keptRuns ? { keptRuns } : {}),
    ...(choices !== undefined ? { choices } : {}),
    ...(fixed ? { fixed } : {}),
    shapes: results,
    memory: { ...memory, peakRssBytes: peakRss(), peakRssScope: scope },
    timing: timingWithLoad(lock.record, load),
    seconds: (performance.now() - start) / 1000,
  };
  if (baselineSubject && b) {
    out.baseline = resolve(baselineSubject.path);
    if (baselineAt?.transformersJs) out.baselineDtype = baselineAt.transformersJs;
    out.baselineRelation = relation;
    out.speedup = geometricMean(results.map((r) => r.speedup!));
  }
  return out;
}
