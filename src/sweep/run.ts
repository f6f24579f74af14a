/**
 * `runSweep`: plan the points of a sweep file, skip those the store already has, and run the rest (in this process
 * or in `jobs` worker processes), recording each finished point in the store as it completes. Killed at any
 * moment and started again, it redoes only the points that had not finished (a failed point runs again, but for one
 * whose input the code refuses, which fails again unrun: failedAgain). Points the store has from other code
 * (stale) or timed while the machine was shared (contended) are kept unless asked to be recomputed. A store that
 * stops taking writes (a full disk, an I/O error …: SweepStore's StoreWriteError) ends it with one line saying what
 * the store keeps: no point starts after it, and the running ones stop as on Ctrl-C (their results could not be kept).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  fileSystemError,
  checkFolderPath,
  checkOutputFile,
  checkOutputFolder,
  checkOutputFolderUnmade,
  checkOutputKinds,
  folderLabel,
} from '../destination.ts';
import { errorLine, NonFiniteInputError, SettingsError } from '../errors.ts';
import { threadShare } from '../runtime/threads.ts';
import { glueDirOf } from '../glue/glue-dir.ts';
import { memoizedSha256, plannedModels, planSweep, pointFolder, refreshedPlan, type SweepPoint } from './plan.ts';
import type { TrainingStop } from '../train/run.ts';
import { PointInterrupted, type PointResult, type PointStage } from './point.ts';
import { inProcessRunner, PointFailure, workerPool, type PointRunner } from './pool.ts';
import { parseSweepFile, type SweepSpec } from './spec.ts';
import { EmptyStoreError, StoreWriteError, SweepStore } from './store.ts';
import { pointName } from './progress.ts';
import { adoptStoredKeys, findStale, refusalAgain, refusedInput, tokenizerRefusals, type RefusedAgain, type StaleMatch } from './stale.ts';
import { timedContended } from './contention.ts';
import { checkOptions, checkStringOption } from '../library-args.ts';

export interface SweepOptions {
  /** The sweep file (YAML). */
  file: string;
  /** The SQLite store (created when absent). */
  store: string;
  /** Points run at once, each in its own worker process when > 1 (default 1: in this process). */
  jobs?: number;
  /** GLUE folder; overrides the sweep file's `glueDir` (default: $GLUE_DIR, else ../shared/glue). */
  glueDir?: string;
  /** Folder for compressed models (default: the store's path without extension + '-models'). */
  workDir?: string;
  /** Teacher logits cache of train / distill steps (default: the store's path without extension + '-cache'). */
  cacheDir?: string;
  /**
   * Recompute stale points (results the store has from other code: see stale.ts), then forget their old rows.
   * Default false: their stored results stand, and the summary lists them.
   */
  rerunStale?: boolean;
  /**
   * Recompute the points whose stored result was timed contended (its benchmark did not have the machine to itself:
   * see contention.ts), replacing their results. Default false: their stored results stand, and the summary says so.
   * With kept models the recompute goes on from the stages the earlier run wrote (point.ts): it evaluates and
   * benchmarks again. Only with `jobs` 1: with more, runSweep throws a SettingsError (RERUN_CONTENDED_JOBS) before
   * it opens the store (points run at once time each other, and would come out contended again).
   */
  rerunContended?: boolean;
  onEvent?: (event: SweepEvent) => void;
  /** Notes of the plan, one line each: hf: models downloaded or found in the cache (default: none). */
  planLog?: (line: string) => void;
  /**
   * The points are planned for a queue's workers (`compress sweep --queue`, its --dry-run too): the plan does not judge
   * them against this machine's memory or benchmark environment (PlanOptions.queued), which are not theirs; each point
   * checks its memory as it runs, each worker its environment before it connects.
   */
  queued?: boolean;
  /**
   * Stops the sweep (Ctrl-C): no point starts after it, and the running points stop too (in this process, or in
   * each worker with `jobs` > 1), a train / distill step after its optimizer step with a checkpoint that the next run
   * resumes from. A stopped point is not recorded (the summary says `interrupted`); finished points stay stored.
   */
  signal?: AbortSignal;
}

export type SweepEvent =
  /** `previous`: the results the store already had for this sweep's points, by key (stale ones unless rerunStale). */
  | {
      type: 'plan';
      spec: SweepSpec;
      points: readonly SweepPoint[];
      /** Stored results of these points (stale ones kept included). */
      previous: ReadonlyMap<string, PointResult>;
      /** Of `previous`, the stale results kept, not recomputed (counted apart, as the summary counts them). */
      staleKept: number;
      /**
       * Points stored timed contended that this run times again (`rerunContended`): in the store, but not in
       * `previous` (they are run now).
       */
      recomputing?: number;
    }
  | { type: 'start'; point: SweepPoint }
  | { type: 'finished'; point: SweepPoint; result: PointResult }
  | { type: 'failed'; point: SweepPoint; error: string }
  /** Another sweep on the same store finished it first. */
  | { type: 'skipped'; point: SweepPoint }
  /** A running point started a stage (null: its benchmark ended): what a Ctrl-C would stop. */
  | { type: 'stage'; point: SweepPoint; stage: PointStage | null }
  /** A line of the sweep's, or of a point's own log (with the point: several run at once with --jobs N). */
  | { type: 'log'; line: string; point?: SweepPoint };

export interface SweepSummary {
  store: string;
  total: number;
  /**
   * Points the store had before this run, computed by the code running now, and kept as they are. With
   * `rerunContended`, those stored timed contended are not counted here but where their recompute ends: `ran` (and
   * `contended.recomputed`), `failed`, `byOthers`, or none when the sweep was stopped first.
   */
  alreadyDone: number;
  /** Points the store had from other code: kept as they are, or recomputed now with `rerunStale`. */
  stale: StaleMatch[];
  /**
   * Points the store had timed contended: `kept` as they are (without `rerunContended`, or when their recompute
   * failed or was stopped: their stored result stands), or `recomputed` now, of which `again` were timed contended
   * again; and `first`: points the store did not have that this run finished timed contended.
   */
  contended: { kept: SweepPoint[]; recomputed: SweepPoint[]; again: SweepPoint[]; first: SweepPoint[] };
  /** The sweep's name, and every sweep the store holds points of (this one included), by name. */
  sweep: string;
  sweeps: string[];
  /** Points this run finished. */
  ran: number;
  /** Points another sweep on the same store finished while this one waited for them. */
  byOthers: number;
  /**
   * Points that failed, with their error; `refused` where the code running now refuses an input the point reads
   * (refusedInput: a tokenizer folder), in that refusal's words: every rerun fails at it too, until it is given as the
   * refusal asks (the closing lines name such points apart).
   */
  failed: Array<{ point: SweepPoint; error: string; refused?: string }>;
  /** Set when `signal` stopped the sweep before every point ran. */
  interrupted?: boolean;
  /** Where the training steps of the stopped points stopped (the closing line says what a rerun does). */
  stoppedTraining?: TrainingStop[];
  /**
   * Points run now whose int8 products their evaluation added in saturating 16-bit pairs (an x86 CPU without AVX-512
   * VNNI / AVX-VNNI, without eval.exactInt8: EvalReport.int8Saturated), whose scores can differ from a VNNI CPU's.
   */
  int8Saturated?: SweepPoint[];
  seconds: number;
}

/** How often a running sweep refreshes its claims' heartbeat, and re-checks points another sweep is running. */
const HEARTBEAT_MS = 5_000;
const RECHECK_MS = 1_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The default folder for a store's compressed models: `out/poster.sqlite` → `out/poster-models`. */
export function defaultWorkDir(store: string): string {
  return resolve(store).replace(/\.(sqlite3?|db)$/i, '') + '-models';
}

/** The default teacher-logits cache of a store's distill steps: `out/poster.sqlite` → `out/poster-cache` (not the user's cache: train's userCacheDir). */
export function defaultCacheDir(store: string): string {
  return resolve(store).replace(/\.(sqlite3?|db)$/i, '') + '-cache';
}

/** A sweep file planned against its store: the spec, every point, the results the store already has, the open store. */
export interface StorePlan {
  spec: SweepSpec;
  points: SweepPoint[];
  /** Results the store has for these points, by key; stale results stand in for theirs unless `rerunStale`. */
  previous: Map<string, PointResult>;
  /** Points whose stored results come from other code (see stale.ts), by key. */
  stale: Map<string, StaleMatch>;
  /**
   * Points whose own stored result was timed contended (see contention.ts), by key; with `rerunContended` they are
   * not in `previous` (they are to be recomputed).
   */
  contended: Map<string, SweepPoint>;
  /** The memoized sha256 the plan hashed its files with (a file hashed by the plan is not read again). */
  hash: (file: string) => Promise<string>;
  /** Opened (created) only once the file is planned, so a bad sweep file leaves no store behind; the caller closes it. */
  store: SweepStore;
  /** The work folder the points' outputs go under, and how errors name it. */
  work: { dir: string; label: string };
  /**
   * Why the code running now refuses a tokenizer folder (tokenizerRefusals): one memo for the run, which its stale points
   * were judged with (StaleMatch.refused) and its failed points are (failedPoint).
   */
  refusal: (dir: string) => string | undefined;
  /**
   * The points still to do that failed before and whose input the code running now refuses, or whose input files this
   * tool version refused (failedAgain): the refusal, by key. Not run (or queued) again, but failed again at once with it, since every run fails alike: stored and shown
   * as its error, as a run of it would fail, not the stored error of the run before, which may be another fault (a
   * full disk, an error of the code that ran it).
   */
  refusedAgain: Map<string, RefusedAgain>;
}

/**
 * Of `todo` (the points still to do), those that failed before (`failures`: the store's, SweepStore.failures) and whose
 * input the code running now refuses (refusedInput; `refusal`: the run's memo), or whose failure was a refusal of its
 * input files by this tool version (`refusedBy`: a NonFiniteInputError, a model holding or computing NaN, whose files
 * the key hashes), with the refusal, by key: a rerun of the sweep, local or queued, fails them at once, where it ran
 * (or queued) each again to fail alike. One whose input is read now (this code reads it, or the files changed, which
 * is another point) runs as before; so does one refused for its files whose models are read elsewhere now (the same
 * bytes moved, or copied for another sweep: the failure's `plan`, SweepPoint as stored, names other paths), whose
 * refusal names the files where they were: its run names them where they are.
 */
export function failedAgain(
  todo: readonly SweepPoint[],
  failures: ReadonlyArray<{ key: string; error: string; refusedBy?: string | null; plan?: unknown }>,
  refusal: StorePlan['refusal'],
): Map<string, RefusedAgain> {
  const out = new Map<string, RefusedAgain>();
  if (todo.length === 0 || failures.length === 0) return out;
  const failed = new Map(failures.map((f) => [f.key, f]));
  for (const p of todo) {
    const before = failed.get(p.key);
    if (before === undefined) continue;
    // (the same key: the same bytes; read at the paths its failure's plan names)
    const again = refusalAgain(before, p, p.toolVersion, () => before.plan === undefined || modelPaths(before.plan) === modelPaths(p), refusal);
    if (again !== undefined) out.set(p.key, again);
  }
  return out;
}

/** The paths of the models a point's plan (stored, or planned now) reads, as one text (plannedModels). */
const modelPaths = (plan: unknown): string => JSON.stringify(plannedModels(plan).map((m) => m.onnx));

/**
 * The tool version that refused the input files of a point failing with `e` (a NonFiniteInputError, in this process or
 * a pool's worker: PointFailure.inputRefused), to store with its failure (SweepStore.fail); undefined for any other error.
 */
export function inputRefusedBy(e: unknown, point: SweepPoint): string | undefined {
  return e instanceof NonFiniteInputError || (e instanceof PointFailure && e.inputRefused) ? point.toolVersion : undefined;
}

/** failedAgain of the points `store` holds no result of (`previous`: storedPoints'); their failures (SweepStore.failed) read only where one is to do. */
function refusedAgainIn(
  store: SweepStore,
  points: readonly SweepPoint[],
  previous: ReadonlyMap<string, PointResult>,
  refusal: StorePlan['refusal'],
): Map<string, RefusedAgain> {
  const todo = points.filter((p) => !previous.has(p.key));
  return failedAgain(todo, todo.length > 0 ? store.failed(todo.map((p) => p.key)) : [], refusal);
}

/**
 * A failed point as SweepSummary.failed holds it: with the refusal of its input, where the code running now refuses one
 * (refusedInput), or where `error` is a refusal of its input files (`refusedBy`: inputRefusedBy's).
 */
export function failedPoint(point: SweepPoint, error: string, refusal: StorePlan['refusal'], refusedBy?: string): SweepSummary['failed'][number] {
  const refused = refusedInput(point, refusal) ?? (refusedBy !== undefined ? error : undefined);
  return refused === undefined ? { point, error } : { point, error, refused };
}

/** The work folder (given, else `<store>-models`) and how errors name it. */
function workFolder(opts: Pick<SweepOptions, 'workDir' | 'store'>): { dir: string; label: string } {
  const dir = opts.workDir ?? defaultWorkDir(opts.store);
  return { dir, label: folderLabel('--work-dir', opts.workDir, 'work folder', dir) };
}

/**
 * Parses and plans the sweep file as a run against `opts.store` would (GLUE, work and cache folders resolved from
 * `opts`, so the points and keys are the run's), creating nothing: no store, no folder (`compress sweep --dry-run`).
 * A work folder or store path that cannot be one (a file where a folder must be) is refused here, as the run would.
 * An existing store is read, not written (a file that is not a store is refused, as the run would; an empty one is
 * none, which the run would make its store): a point it holds
 * under another key of its own (its seeds written otherwise, by earlier code: key.ts SeedForm) takes that key, as the
 * run's, and `stored` says what the run would reuse (`previous`, `stale`, `contended`; empty without a store).
 */
export async function planSweepFile(
  opts: Pick<SweepOptions, 'file' | 'store' | 'glueDir' | 'workDir' | 'cacheDir' | 'rerunStale' | 'rerunContended' | 'planLog' | 'queued'>,
): Promise<Pick<StorePlan, 'spec' | 'points' | 'hash' | 'work'> & { stored: Pick<StorePlan, 'previous' | 'stale' | 'contended' | 'refusedAgain'> }> {
  const planned = await planFile(opts);
  // (a folder the user may not write, refused as the run refuses it and in its order, none made: the store's, which
  // the run opens to write, queued or not; the work folder, which a local run checks where it is given or a point
  // writes into it, runSweep's, and a queue's workers check for themselves)
  checkOutputFolderUnmade(dirname(resolve(opts.store)), `--store ${opts.store}`);
  if (!opts.queued && (opts.workDir !== undefined || planned.points.some((p) => p.outputDir !== null)))
    checkOutputFolderUnmade(planned.work.dir, planned.work.label);
  const stored = {
    previous: new Map<string, PointResult>(),
    stale: new Map<string, StaleMatch>(),
    contended: new Map<string, SweepPoint>(),
    refusedAgain: new Map<string, RefusedAgain>(),
  };
  let store: SweepStore;
  try {
    store = SweepStore.open(opts.store, { readonly: true, named: '--store' });
  } catch (e) {
    // (no file, or an empty one: the run would create the store)
    if (e instanceof EmptyStoreError || !existsSync(opts.store)) return { ...planned, stored };
    throw e;
  }
  try {
    const refusal = tokenizerRefusals();
    const held = storedPoints(store, planned.points, planned.work, opts, refusal);
    return { ...planned, stored: { ...held, refusedAgain: refusedAgainIn(store, planned.points, held.previous, refusal) } };
  } finally {
    store.close();
  }
}

/** The sweep file parsed and planned (GLUE, work and cache folders resolved from `opts`); no store read. */
async function planFile(
  opts: Pick<SweepOptions, 'file' | 'store' | 'glueDir' | 'workDir' | 'cacheDir' | 'planLog' | 'queued'>,
): Promise<Pick<StorePlan, 'spec' | 'points' | 'hash' | 'work'>> {
  const spec = parseSweepFile(opts.file);
  const glueDir = resolve(opts.glueDir !== undefined ? glueDirOf(opts.glueDir) : glueDirOf(spec.glueDir, `${spec.display}: glueDir`));
  const hash = memoizedSha256();
  const work = workFolder(opts);
  const points = await planSweep(spec, {
    hash,
    glueDir,
    workDir: work.dir,
    cacheDir: resolve(opts.cacheDir ?? defaultCacheDir(opts.store)),
    ...(opts.planLog ? { log: opts.planLog } : {}),
    ...(opts.queued ? { queued: true } : {}),
  });
  // A work folder or store that cannot be one fails before the store is created (whether they take files: runSweep's
  // check before it opens the store, or a queue's workers').
  checkFolderPath(work.dir, work.label);
  const label = `--store ${opts.store}`;
  checkOutputKinds([opts.store], label);
  checkFolderPath(dirname(resolve(opts.store)), label);
  return { spec, points, hash, work };
}

/**
 * What `store` holds of `points`: each point it holds under another key of its own takes that key (adoptStoredKeys),
 * then the stored results (`previous`: stale ones standing in for theirs unless `rerunStale`, contended ones left out
 * with `rerunContended`), the stale points and those timed contended. `write` (a run's, not a dry run's) records in
 * the store what the plan found, before the stale points are looked for; `writeStale` (a run's too) what it found of
 * the files the stale points read, once they are found.
 */
function storedPoints(
  store: SweepStore,
  points: SweepPoint[],
  work: StorePlan['work'],
  opts: Pick<SweepOptions, 'rerunStale' | 'rerunContended'>,
  refusal: StorePlan['refusal'],
  write?: (previous: ReadonlyMap<string, PointResult>) => void,
  writeStale?: (stale: ReadonlyMap<string, StaleMatch>, previous: ReadonlyMap<string, PointResult>) => void,
): Pick<StorePlan, 'previous' | 'stale' | 'contended'> {
  const finished = store.finished();
  let plans: Map<string, unknown> | undefined;
  const storedPlans = () => (plans ??= store.finishedPlans());
  // a point stored under another key of its own (its seeds written otherwise) is that stored point, finished or not
  adoptStoredKeys(
    points,
    finished,
    storedPlans,
    () => store.unfinishedPlans(),
    (p, key) => (p.outputDir === null ? null : pointFolder(work.dir, p, key)),
  );
  const keys = new Set(points.map((p) => p.key));
  const previous = new Map(finished.filter((s) => keys.has(s.key)).map((s) => [s.key, s.result]));
  write?.(previous);
  const contended = new Map(points.filter((p) => previous.has(p.key) && timedContended(previous.get(p.key)!)).map((p) => [p.key, p]));
  if (opts.rerunContended) for (const key of contended.keys()) previous.delete(key);
  const todo = points.filter((p) => !previous.has(p.key));
  // Every stored plan is read (and parsed) only when some point is still to do: a finished sweep's rerun skips it.
  const stale = todo.length > 0 ? findStale(todo, finished, storedPlans(), undefined, refusal) : new Map<string, StaleMatch>();
  if (stale.size > 0) writeStale?.(stale, previous);
  if (!opts.rerunStale) for (const [key, match] of stale) previous.set(key, match.result);
  return { previous, stale, contended };
}

/**
 * Parses and plans the sweep file (GLUE, work and cache folders resolved from `opts`), runs `beforeOpen` on the plan
 * (a check that fails leaves no store written), then opens the store.
 */
export async function planAgainstStore(
  opts: Pick<SweepOptions, 'file' | 'store' | 'glueDir' | 'workDir' | 'cacheDir' | 'rerunStale' | 'rerunContended' | 'planLog' | 'queued'>,
  beforeOpen?: (planned: Pick<StorePlan, 'points' | 'work'>) => void,
): Promise<StorePlan> {
  const { spec, points, hash, work } = await planFile(opts);
  beforeOpen?.({ points, work });
  const store = SweepStore.open(opts.store, { named: '--store' });
  const refusal = tokenizerRefusals();
  let refusedAgain = new Map<string, RefusedAgain>();
  try {
    const stored = storedPoints(
      store,
      points,
      work,
      opts,
      refusal,
      (previous) => {
        // (before the plans are refreshed below: a failed point's stored plan names where it read its files, failedAgain)
        refusedAgain = refusedAgainIn(store, points, previous, refusal);
        // this sweep's points, under its names: those stored by another sweep (one model named otherwise there) included
        try {
          store.addToSweep(points);
          // a point stored (reused, or unfinished: run again now, its claim keeping the stored plan) keeps where this
          // plan found the files it read, where the stored paths are gone or elsewhere (a moved or copied folder), and
          // the stamps it took of a model that hashes as it did (a `touch` changed its stored ones): compress report
          // then compares the files there now, and does not hash that model again
          store.refreshPlans(points, refreshedPlan);
        } catch (e) {
          throw e instanceof StoreWriteError ? e.keeping(previous.size) : e;
        }
      },
      (stale, previous) => {
        // so does each stale point it stands for (the same files, by their hashes: findStale), whose report shows it
        try {
          store.refreshPlans(
            [...stale.values()].flatMap((m) => m.stored.map((s) => [s.key, m.point] as const)),
            refreshedPlan,
          );
        } catch (e) {
          throw e instanceof StoreWriteError ? e.keeping(previous.size) : e;
        }
      },
    );
    // (less those a stale point's result stands for)
    for (const key of stored.previous.keys()) refusedAgain.delete(key);
    return { spec, points, ...stored, hash, store, work, refusal, refusedAgain };
  } catch (e) {
    store.close();
    throw e;
  }
}

/**
 * Why `rerunContended` runs one point at a time: points run at once share the machine, so each would be timed
 * contended again.
 */
export const RERUN_CONTENDED_JOBS =
  '--rerun-contended: times contended points again alone, one at a time: give --jobs 1 (points run at once time each other, and would be contended again)';

/** Runs a sweep: see the module comment (the package's runSweep, ./library.ts, checks its options' kinds first). */
export async function runSweep(opts: SweepOptions): Promise<SweepSummary> {
  checkOptions('runSweep', opts, '{file, store, …}');
  checkStringOption('runSweep', 'file', opts.file, 'the sweep file');
  checkStringOption('runSweep', 'store', opts.store, 'the SQLite store to write');
  const start = performance.now();
  const emit = opts.onEvent ?? (() => {});
  const jobs = opts.jobs ?? 1;
  if (opts.rerunContended && jobs > 1) throw new SettingsError(RERUN_CONTENDED_JOBS);
  const { spec, points, previous, stale, contended, store, refusal, refusedAgain } = await planAgainstStore(opts, ({ points, work }) => {
    // Before the store opens (a sweep refused for its work folder leaves no store written) and any point runs: a file
    // in the way of the work folder fails here once, not at each point; a --work-dir given is checked (and made) even
    // where no point writes into it, as a worker's is, so a folder that takes no files is said, not passed over by a
    // sweep of baselines. The store's own folder is checked first, as opening it would (its fault named as the store's).
    if (opts.workDir === undefined && points.every((p) => p.outputDir === null)) return;
    checkOutputFile(opts.store, `--store ${opts.store}`);
    checkOutputFolder(work.dir, work.label);
  });
  try {
    // the points an earlier run of the sweep planned that its plan no longer holds (its file edited) and that have
    // no result are no longer its own: its report does not list them as not finished (their keys kept, for a later
    // --queue run of the sweep to take out of the queue where an earlier one queued them)
    store.dropFromSweep(spec.name, points);
  } catch (e) {
    store.close();
    throw e instanceof StoreWriteError ? e.keeping(previous.size) : e;
  }
  const recompute = opts.rerunContended ? contended : new Map<string, SweepPoint>();
  const queue = points.filter((p) => !previous.has(p.key));
  const alreadyDone = previous.size - (opts.rerunStale ? 0 : stale.size);
  const summary: SweepSummary = {
    store: resolve(opts.store),
    total: points.length,
    alreadyDone,
    stale: [...stale.values()],
    contended: { kept: opts.rerunContended ? [] : [...contended.values()], recomputed: [], again: [], first: [] },
    sweep: spec.name,
    sweeps: [],
    ran: 0,
    byOthers: 0,
    failed: [],
    seconds: 0,
  };
  emit({ type: 'plan', spec, points, previous, staleKept: previous.size - alreadyDone, recomputing: recompute.size });

  const threads = jobs > 1 ? threadShare(jobs) : 0;
  const log = (line: string, point: SweepPoint) => emit({ type: 'log', line, point });
  const onStage = (stage: PointStage | null, point: SweepPoint) => emit({ type: 'stage', point, stage });
  // Stops the running points (as `signal` does) when the store can no longer take their results: see storeFault.
  const stopping = new AbortController();
  const stopAll = () => stopping.abort();
  if (opts.signal?.aborted) stopAll();
  opts.signal?.addEventListener('abort', stopAll);
  const runner: PointRunner = jobs > 1 ? workerPool(jobs, threads, log, stopping.signal, { onStage }) : inProcessRunner(threads, log, stopping.signal, onStage);
  const running = new Set<string>();
  const deferred: SweepPoint[] = [];
  /** This sweep's points the store has a result of: what it keeps, should it stop taking writes. */
  const kept = new Set([...previous.keys(), ...recompute.keys()]);
  /**
   * The first error of a store write (a StoreWriteError: a full disk …; the store removed or replaced): no point
   * starts after it, the running ones stop as on Ctrl-C (their results could not be kept), and the sweep ends with it.
   */
  let storeFault: { error: unknown } | undefined;
  /** Runs a write of the store; false (and the sweep stopping) when it fails. */
  const write = (run: () => void): boolean => {
    try {
      run();
      return true;
    } catch (e) {
      storeFault ??= { error: e };
      stopAll();
      return false;
    }
  };
  const heartbeat = setInterval(() => write(() => store.heartbeat([...running])), HEARTBEAT_MS);
  heartbeat.unref();

  /** The next point: from the queue, else (after a pause) one another sweep was running. */
  const next = async (): Promise<SweepPoint | undefined> => {
    if (stopping.signal.aborted) return undefined;
    const p = queue.shift();
    if (p || deferred.length === 0) return p;
    await sleep(RECHECK_MS);
    return stopping.signal.aborted ? undefined : deferred.shift();
  };

  const lane = async (): Promise<void> => {
    for (let point = await next(); point; point = await next()) {
      const again = recompute.has(point.key);
      let claim: ReturnType<SweepStore['claim']> | undefined;
      if (!write(() => (claim = store.claim(point, { recompute: again })))) return;
      if (claim === 'done') {
        summary.byOthers++;
        emit({ type: 'skipped', point });
        continue;
      }
      if (claim === 'busy') {
        deferred.push(point);
        continue;
      }
      const before = refusedAgain.get(point.key);
      if (before !== undefined) {
        // (failed before, its input refused by the code running now: every run fails alike, so it fails again unrun)
        write(() => store.fail(point.key, before.refused, before.refusedBy));
        summary.failed.push({ point, error: before.refused, refused: before.refused });
        emit({ type: 'failed', point, error: before.refused });
        continue;
      }
      running.add(point.key);
      emit({ type: 'start', point });
      let result: PointResult;
      try {
        result = await runner.run(point);
      } catch (e) {
        running.delete(point.key);
        if (e instanceof PointInterrupted) {
          // not a failure: its claim ends with this process, and the next run takes the point up again (a point
          // being recomputed is done again at once, with its stored result)
          if (again) {
            write(() => store.release(point.key));
            summary.contended.kept.push(point);
          }
          summary.interrupted = true;
          if (e.training) (summary.stoppedTraining ??= []).push(e.training);
          emit({ type: 'log', line: `${pointName(point)}: ${e.message}` });
          continue;
        }
        const error = errorLine(fileSystemError(e) ?? e); // (a full disk or a read-only folder in one line naming the file)
        const refusedBy = inputRefusedBy(e, point);
        write(() => store.fail(point.key, error, refusedBy)); // (one being recomputed stays done, with its stored result)
        summary.failed.push(failedPoint(point, error, refusal, refusedBy));
        if (again) summary.contended.kept.push(point);
        emit({ type: 'failed', point, error });
        continue;
      }
      running.delete(point.key);
      // A result the store cannot take is lost (the point stays to do, for the next run): the sweep stops.
      if (!write(() => store.finish(point, result, { recompute: again }))) return;
      kept.add(point.key);
      const replaced = stale.get(point.key);
      if (replaced) write(() => store.forget(replaced.stored.map((s) => s.key)));
      summary.ran++;
      if (result.eval.int8Saturated === true) (summary.int8Saturated ??= []).push(point);
      if (again) {
        summary.contended.recomputed.push(point);
        if (timedContended(result)) summary.contended.again.push(point);
      } else if (timedContended(result)) summary.contended.first.push(point);
      emit({ type: 'finished', point, result });
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, jobs) }, lane));
    // A stop that came between two points (or before the first) left points unrun: the sweep was interrupted too
    if (opts.signal?.aborted && (queue.length > 0 || deferred.length > 0)) summary.interrupted = true;
    if (!storeFault) summary.sweeps = store.sweeps();
  } finally {
    clearInterval(heartbeat);
    opts.signal?.removeEventListener('abort', stopAll);
    await runner.close();
    store.close();
  }
  if (storeFault) throw storeFault.error instanceof StoreWriteError ? storeFault.error.keeping(kept.size) : storeFault.error;
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}
