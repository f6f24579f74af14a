/** Public API of benchmarking: `benchModels` and what it records. */
import { benchModels as benchModelsNamingFlags, type BenchOptions, type BenchResult } from './run.ts';
import { namingSettings } from '../flag-names.ts';
import { checkOptionKinds, checkOptions, type OptionKind } from '../library-args.ts';
import { LOCAL_MODEL } from '../hub/ref.ts';
import { type TimingLockOptions, WAIT_SECONDS_OPTION } from './timing-lock.ts';

export type { NumberRange } from '../errors.ts';
export type { Feeds } from '../runtime/session.ts';

export {
  benchSettings,
  MAX_TIME_RANGE,
  BENCH_RANGES,
  sizeRefusal,
  DEFAULT_BATCHES,
  DEFAULT_SEQS,
  DEFAULT_REPEATS,
  DEFAULT_WARMUP,
  type BenchOptions,
  type BenchResult,
  type FixedSize,
  type ShapeResult,
  type MemoryUse,
} from './run.ts';
export { benchShapes, benchFeeds, benchSubject, checkComparable, type Shape, type BenchSubject } from './inputs.ts';
export { cpuInfo, machineInfo, parseCpuInfo, describeMachine, type CpuFlags, type CpuInfo, type MachineInfo } from './machine.ts';
export { latencyStats, quantile, median, pairedSpeedup, geometricMean, type LatencyStats, type Samples } from './stats.ts';
export { formatBench } from './format.ts';
export { baselineRelation, describeRelation, sourceHashes, type BaselineRelation } from './lineage.ts';
export { peakRss, resetPeakRss } from './memory.ts';
export {
  acquireTimingLock,
  BenchStopped,
  timingLockWaitLine,
  describeContention,
  timingAlongside,
  timingWithLoad,
  defaultLockFile,
  TIMING_LOCK_ENV,
  DEFAULT_LOCK_WAIT_SECONDS,
  type TimingContention,
  type TimingLock,
  type TimingLockOptions,
} from './timing-lock.ts';
export {
  parseProcStat,
  readCgroupCpu,
  loadSnapshot,
  loadSnapshotAfter,
  MIN_SPAN_MS,
  machineLoadBetween,
  loadContended,
  describeMachineLoad,
  MACHINE_LOAD_ENV,
  machineLoadOff,
  OTHER_LOAD_LIMIT_CPUS,
  MIN_TICKS_PER_CPU,
  type CpuTimes,
  type CgroupCpu,
  type LoadSnapshot,
  type MachineLoad,
} from './machine-load.ts';

/** benchModels' options by the flags of `compress bench` its refusals name (src/flag-names.ts). */
export const BENCH_OPTION_NAMES: Readonly<Record<string, string>> = {
  '--batch': 'batches',
  '--seq': 'seqs',
  '--repeats': 'repeats',
  '--warmup': 'warmup',
  '--max-time': 'maxSeconds',
  '--threads': 'threads',
  '--baseline': 'baseline',
  '--baseline-dtype': 'baselineDtype',
  '--dtype': 'dtype',
  // ('give a smaller --repeats, or a --max-time': a number of runs and a time limit)
  'a smaller --repeats, or a --max-time': 'fewer repeats, or a maxSeconds limit',
};

/** benchModels' options by their kinds (checkOptionKinds), before any work; paths, numbers and words read by benchModels. */
const BENCH_OPTION_KINDS = {
  model: LOCAL_MODEL,
  baseline: LOCAL_MODEL,
  dtype: 'checked',
  baselineDtype: 'checked',
  batches: 'checked',
  seqs: 'checked',
  threads: 'checked',
  spinning: 'boolean',
  repeats: 'checked',
  warmup: 'checked',
  maxSeconds: 'checked',
  onShape: 'function',
  timingLock: {
    options: { file: 'string', waitSeconds: WAIT_SECONDS_OPTION, signal: 'signal' } satisfies Record<keyof Omit<TimingLockOptions, 'onWait'>, OptionKind>,
  },
  onLockWait: 'function',
  signal: 'signal',
  sessionMemory: 'boolean',
} as const satisfies Record<keyof BenchOptions, OptionKind>;

/**
 * Latencies of a model, against its baseline (see benchModels in ./run.ts, which `compress bench` runs): its refusals
 * name the options given (`seqs 1000 is beyond the model's position table`), not the command's flags (`--seq 1000`).
 */
export function benchModels(opts: BenchOptions): Promise<BenchResult> {
  return namingSettings(BENCH_OPTION_NAMES, async () => {
    checkOptionKinds('benchModels', checkOptions('benchModels', opts, '{model, …}'), BENCH_OPTION_KINDS);
    return benchModelsNamingFlags(opts);
  });
}
