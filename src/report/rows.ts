/**
 * The report's data: one row per finished sweep point, with its size and GLUE score relative to the baseline row of
 * the same model (same file hash, no passes, evaluated on the same tasks and data), and whether it is on the Pareto fronts of GLUE score vs bytes and vs
 * latency among the variants of its model in its sweep (a store holding several sweeps of one model has a front per sweep). Pure functions of the stored points.
 */
import type { MetricValues, UndefinedMetrics } from '../eval/metrics/metric.ts';
import { shareOfBaseline } from '../eval/glue-score.ts';
import { getTask } from '../glue/registry.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import type { PointResult } from '../sweep/point.ts';
import { describeMachine, int8Saturates, type MachineInfo } from '../bench/machine.ts';
import { fullRangeInt8Products } from '../quantize/settings.ts';
import type { PassStep } from '../pass/pass.ts';
import type { StoredPoint } from '../sweep/store.ts';
import { contendedBy, type Overlap } from '../sweep/contention.ts';
import { labelValue } from '../sweep/expand.ts';
import { paretoMaskBy, type Objective } from './pareto.ts';
import { canonicalJson, hashOf } from '../sweep/key.ts';
import type { SweepPoint } from '../sweep/plan.ts';
import { compareText } from '../text-order.ts';

/**
 * A stored point's identity (`modelPath`: the model's .onnx path as the sweep resolved it, to match a distill step's
 * named teacher) with what the report derives from its result.
 */
export interface ReportRow extends Pick<StoredPoint, 'key' | 'sweep' | 'model' | 'modelPath' | 'modelSha256' | 'label' | 'steps'> {
  /**
   * The model as the table and the charts name it, one name per Pareto front: the model's name, or, when the
   * report holds that name for several fronts (the points of several sweeps, of another file of that name, or
   * evaluated at another max length), the name with what tells them apart: its max length ('sst2 (max length 32)'),
   * its sweep ('sst2 (sweep a)'), its file ('sst2 (sweep a, file 3f2a9c1b)').
   */
  group: string;
  /**
   * The file hash of the teacher its last distill step trained from, as its sweep resolved it (read from the stored
   * plan by `loadReport`); absent without a distill step or a stored plan that says.
   */
  teacherSha256?: string;
  /**
   * For a distilled row, the teacher its last distill step trained from, as the report's baseline row of that model
   * (teacher-size.ts `studentTeachers`, set by `loadReport`): that row's key, its model as the table names it (`group`)
   * and its parameters, what the table's teacher column shows; absent without one (no distill step, or a teacher the
   * report holds no baseline row of).
   */
  teacher?: { key: string; group: string; params: number };
  /**
   * For a distilled row without `teacher` (the report holds no baseline row of its teacher scored on its tasks: a
   * teacher outside the sweep), its teacher as its last distill step names it (the setting as written; the row's model
   * where it names none), which the table's teacher column shows with its size unknown; set by `loadReport`.
   */
  teacherNamed?: string;
  isBaseline: boolean;
  /** 'prune-heads ratio=0.4 importance=magnitude; quantize mode=int8' ('' for the baseline). */
  parameters: string;
  params: number;
  /** Bytes of all initializers (the weights; what `bytesOfOriginal` and the size front compare). */
  bytes: number;
  /** Bytes of the .onnx file and its external data on disk: what a user ships. */
  fileBytes: number;
  /** bytes / the baseline's bytes; null without a baseline row, or when it has 0 bytes (no initializers). */
  bytesOfOriginal: number | null;
  /**
   * The key of the baseline row this row is compared with (the same file, tasks, max length and data read: `DataRead`),
   * its own for a baseline; null without one.
   */
  baselineKey: string | null;
  /**
   * Without a baseline row (`baselineKey` null): whether the report holds one of its model on the same tasks at the
   * same max length but evaluated on other data (another GLUE folder, a dev file, config.json or tokenizer changed),
   * which it is not compared with; false otherwise.
   */
  baselineOnOtherData: boolean;
  /**
   * True when it has no baseline row but the store holds a baseline of its model on its tasks evaluated at another
   * max length (a train or distill step's student keeps its maxLength), which it is not compared with; false otherwise.
   */
  baselineAtOtherLength: boolean;
  /**
   * By task: the sha256 of the GLUE dev file it was scored on, as its stored plan says; null for a plan stored before
   * those hashes were kept (or rows built without plans).
   */
  glueDevSha256: Record<string, string> | null;
  speedup: number;
  /** p50 latency (ms) at `latencyShape` as measured in the point's own bench. */
  measuredLatencyMs: number;
  /**
   * The latency the fronts and charts use: for a variant, its baseline's measured p50 divided by the variant's
   * speed-up at that shape (timed interleaved with the baseline), so that variants measured at different times
   * compare through the same reference; for a baseline (or without one), the measured p50.
   */
  latencyMs: number;
  latencyShape: { batch: number; seq: number };
  /** Metrics (fractions) per task name; an undefined metric is null. */
  tasks: Record<string, MetricValues>;
  /** Per task with an undefined metric: why, by metric ('constant predictions'). */
  undefinedMetrics: Record<string, UndefinedMetrics>;
  /** GLUE score (fraction) over the point's tasks; null when none was scored or it is undefined (`glueUndefined`). */
  glue: number | null;
  /** Why the GLUE score is undefined ('STS-B: Pearson and Spearman undefined (constant predictions)'), else null. */
  glueUndefined: string | null;
  /** Whether WNLI counted in `glue` (the evaluation's glueScoreIncludesWnli). */
  glueIncludesWnli: boolean;
  /**
   * glue / the baseline's glue; null without a baseline row or score, or when the two scores average different
   * tasks (`glueTaskMismatch`).
   */
  glueOfOriginal: number | null;
  /**
   * When the tasks this row's GLUE score averages are not those its baseline's averages (a partial or hand-edited
   * result): both lists (`glueTasks`), and `glueOfOriginal` is null, as a share of a mean over other tasks is no share
   * of the original; null otherwise.
   */
  glueTaskMismatch: { tasks: string[]; baseline: string[] } | null;
  /**
   * The tasks its sweep planned for it that its GLUE score does not average (a partial or hand-edited result), sorted;
   * empty when it averages them all or has no GLUE score (`glue` null, said as such). Such a row is on no Pareto front and dominates none, and the Pareto charts leave
   * it out: its score is a mean over fewer tasks than its model's other variants', and does not compare with theirs.
   */
  missingTasks: string[];
  frontBytes: boolean;
  frontLatency: boolean;
  /**
   * Whether the point's bench had the machine to itself: it held the machine-wide timing lock, and no other point
   * on the machine (of its sweep's workers, another sweep, a queue worker) ran a stage meanwhile (false: its speed-up
   * may be off); null for results stored before the lock was recorded.
   */
  timingExclusive: boolean | null;
  /**
   * For a row that stores full-range int8 products: whether they were added in saturating 16-bit pairs when it was
   * scored (x86 without AVX-512 VNNI / AVX-VNNI: bench/machine.ts int8Saturates, without eval.exactInt8), where its
   * scores can differ from the same point's on another CPU (int8MachinesNote); null for a row without such products.
   * As its evaluation recorded it (EvalReport.int8Saturated, its model's graph), or, for results stored before it did,
   * by its steps (quantize/settings.ts fullRangeInt8Products) and its benchmark's CPU.
   */
  int8Saturated: boolean | null;
  /**
   * The machine that benchmarked the row, which scored it too (a sweep point runs its stages on one machine), as
   * describeMachine writes it: CPU, cores and the SIMD flags that decide int8 speed and scores (avx2, avx512, vnni, amx),
   * onnxruntime, threads.
   */
  machine: string;
  /**
   * For a point timed without the machine to itself: what shared it, as far as its record says (sweep/contention.ts
   * `contendedBy`: 'another benchmark', 'no timing lock', the stages other points ran, 'other programs'); empty otherwise.
   */
  timingOverlapped: Overlap[];
  /**
   * For a stale point: what changed since it was computed, in the code (`codeChange`) or in the data it read
   * (`dataChange`), both joined by '; ' when both did; null when it is current.
   */
  stale: string | null;
  /**
   * When it was computed by other code than the code running now (so a rerun of its sweep would redo it with
   * `--rerun-stale`, and keeps it without; sweep/stale.ts `staleChange`): what changed ('quantize v4 → v5'); else null.
   */
  codeChange: string | null;
  /**
   * When a file it read besides its model (a GLUE file, config.json, a tokenizer file) changed since (so a rerun of its
   * sweep computes it anew, as another point, and keeps this result in the store; sweep/stale.ts `dataChange`): which
   * ('data changed: /glue/SST-2/dev.tsv (SST-2 dev) edited'); else null.
   */
  dataChange: string | null;
  /**
   * For a stale point whose input the code running now refuses (a tokenizer folder it read: sweep/stale.ts
   * `refusedInput`, read by `loadReport`): that refusal, in its words. No rerun of its sweep computes it again
   * (`--rerun-stale` fails at it), so it stays stale; absent otherwise.
   */
  refused?: string;
}

export interface ReportData {
  rows: ReportRow[];
  /** Every task that appears, in first-seen order. */
  tasks: string[];
  /** The machine of the first benchmark (machines' first; kept for report.json's readers). */
  machine: MachineInfo | null;
  /**
   * Every machine the rows were benchmarked on, as `describeMachine` tells them apart (CPU, cores, onnxruntime,
   * threads), with how many rows each timed, in first-seen order: more than one when a store mixes runs (queue
   * workers on other machines, another --jobs and so other threads, a store moved to another machine).
   */
  machines: Array<{ machine: MachineInfo; rows: number }>;
  /**
   * Points that failed: the next sweep retries them, except those whose stale result a row shows (`staleRows`), which it
   * keeps (--rerun-stale retries them), and those whose input the code running now refuses (`refused`), at which it
   * fails again.
   */
  failed: FailedPoint[];
  /**
   * Points their sweep planned that have neither a result nor a failure (not run yet, running, or stopped), and that
   * no row stands for (a stale result kept in their place); absent or empty when there are none.
   */
  unfinished?: UnfinishedPoint[];
  /**
   * Of a whole store's report: finished points not shown as rows because another row is the same point (the key the
   * code running now gives both plans is one: their seeds or training task written differently, stored twice by
   * earlier code, sweep/key.ts SeedForm), which shows the newest result of them; absent or empty when there are none.
   */
  shownOnce?: ShownOncePoint[];
  /**
   * Where the store was elsewhere when some of its points were planned (moved or copied since, not run again where it
   * is): the files those points read were compared in the new place (report relocatedPlans); absent when none was.
   */
  relocated?: RelocatedStore[];
}

/** A store moved or copied since points were planned in it, as ReportData.relocated says. */
export interface RelocatedStore {
  /** The store file where the plans were written. */
  store: string;
  /** The folder the plans' paths were in, and the folder they are read in now (where a file is there). */
  from: string;
  to: string;
  /** How many points read some file in `to`. */
  points: number;
}

/** A stored point shown as another row (`shownAs`: that row's key), as ReportData.shownOnce says. */
export interface ShownOncePoint {
  sweep: string;
  model: string;
  label: string;
  key: string;
  shownAs: string;
}

export interface UnfinishedPoint {
  sweep: string;
  model: string;
  label: string;
}

export interface FailedPoint {
  model: string;
  label: string;
  error: string;
  /**
   * Where its sweep keeps a stale result of it (sweep/stale.ts findStale, as a rerun reads the store: its recompute,
   * --rerun-stale, failed), or where the code running now refuses its input and the report holds a result of it on data
   * since changed (no rerun computes either), the keys of the rows showing that result (marked ‡); absent otherwise.
   */
  staleRows?: string[];
  /**
   * Where the code running now refuses its input (sweep/stale.ts refusedInput: a tokenizer folder), the refusal: a rerun
   * of its sweep fails at it too; absent otherwise.
   */
  refused?: string;
}

/** 'prune-heads ratio=0.4 importance=magnitude; quantize mode=int8'. */
export function describeSteps(steps: readonly PassStep[]): string {
  return steps.map((s) => [s.pass, ...Object.entries(s.settings).map(([k, v]) => `${k}=${labelValue(v)}`)].join(' ')).join('; ');
}

/** The score a front ranks: none (NaN: off the fronts, dominating none) for a row scored on fewer tasks than planned. */
const frontScore = (r: ReportRow): number => (r.missingTasks.length > 0 ? NaN : (r.glue ?? NaN));
const byGlueVsBytes: Objective<ReportRow>[] = [
  { value: (r) => r.bytes, direction: 'min' },
  { value: frontScore, direction: 'max' },
];
const byGlueVsLatency: Objective<ReportRow>[] = [
  { value: (r) => r.latencyMs, direction: 'min' },
  { value: frontScore, direction: 'max' },
];

/**
 * The model a point varies, within its sweep: its file, its tasks and the length its examples were cut at (a score
 * of examples cut at 64 tokens is no share of one at 128; one sweep evaluates all its points at one length).
 */
const anySweep = (p: Pick<StoredPoint, 'modelSha256' | 'tasks' | 'result'>) => `${p.modelSha256}\0${[...p.tasks].sort().join(',')}\0${p.result.eval.maxLength}`;
/** A model's file and tasks, at any max length. */
const anyLength = (p: Pick<StoredPoint, 'modelSha256' | 'tasks'>) => `${p.modelSha256}\0${[...p.tasks].sort().join(',')}`;
const inSweep = (p: Pick<StoredPoint, 'modelSha256' | 'tasks' | 'sweep' | 'result'>) => `${anySweep(p)}\0${p.sweep}`;

/** The data a point's evaluation read besides its model file, as its stored plan says (`dataRead`). */
export interface DataRead {
  /**
   * The canonical JSON of the sha256 of its tasks' GLUE dev files and of its model's config.json and tokenizer files
   * (`SweepPoint.data`: what every point of that model reads, baseline or variant; not calibration or training data,
   * of which a baseline reads none); absent from a plan stored before those hashes were kept.
   */
  hashes?: string;
  /** The GLUE folder it read: what tells data apart when a plan lacks the hashes, as a sweep does (sweep/stale.ts `findStale`). */
  glueDir?: string;
  /** By task: the sha256 of its GLUE dev file (`SweepPoint.data.dev`). */
  dev?: Record<string, string>;
}

/** What `plan` (a stored point's plan, by any code) says its point read (`DataRead`); undefined when it says nothing readable. */
export function dataRead(plan: unknown): DataRead | undefined {
  const p = plan as Partial<SweepPoint> | null | undefined;
  if (p === null || typeof p !== 'object') return undefined;
  const out: DataRead = {};
  if (p.data && typeof p.data === 'object') {
    out.hashes = canonicalJson({ dev: p.data.dev ?? null, model: p.data.model ?? null });
    const dev = p.data.dev as unknown;
    if (dev && typeof dev === 'object' && Object.values(dev).every((h) => typeof h === 'string')) out.dev = { ...(dev as Record<string, string>) };
  }
  if (typeof p.glueDir === 'string') out.glueDir = p.glueDir;
  return out.hashes === undefined && out.glueDir === undefined ? undefined : out;
}

/**
 * Whether two points read the same data: the same hashes, or, when a plan predates them, the same GLUE folder; a
 * point whose plan says nothing (rows built without plans) is taken to read what any other does.
 */
function sameData(a: DataRead | undefined, b: DataRead | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  if (a.hashes !== undefined && b.hashes !== undefined) return a.hashes === b.hashes;
  return a.glueDir !== undefined && a.glueDir === b.glueDir;
}

/** A DataRead as a group key (and its short hash in a group's name). */
const dataKey = (d: DataRead | undefined): string => (d === undefined ? '' : d.hashes !== undefined ? `hashes ${d.hashes}` : `glueDir ${d.glueDir}`);

/**
 * What a stored result lacks that the report reads (a benchmark shape, a size, the scored tasks), in words, or
 * undefined when it has it all: a result written by other code or edited by hand, of which the report could only
 * show garbage or fail half-way.
 */
export function unreadableResult(p: Pick<StoredPoint, 'result'>): string | undefined {
  const r = p.result as Partial<StoredPoint['result']> | null | undefined;
  if (r === null || typeof r !== 'object') return 'no result object';
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  for (const k of ['params', 'bytes', 'fileBytes', 'speedup', 'latencyMs'] as const) if (!finite(r[k])) return `no ${k} (a finite number)`;
  if (r.glue !== null && !finite(r.glue)) return 'a glue score that is neither a number nor null';
  if (typeof r.eval?.tasks !== 'object' || r.eval.tasks === null) return 'no eval.tasks';
  const shape = Array.isArray(r.bench?.shapes) ? r.bench.shapes[0] : undefined;
  if (!shape || !finite(shape.batch) || !finite(shape.seq) || !finite(shape.model?.p50Ms))
    return 'no benchmark (bench.shapes[0] with batch, seq and model.p50Ms)';
  return undefined;
}

/**
 * The tasks a stored result's GLUE score averages, by name, sorted: those of its evaluation with a metric, AX never
 * (no part of the score), WNLI only when it counted; a task name this code does not know counts as it is.
 */
export function glueTasks(r: Pick<PointResult, 'eval'>): string[] {
  const out = new Set<string>();
  for (const [name, t] of Object.entries(r.eval.tasks)) {
    if (Object.keys(t?.metrics ?? {}).length === 0) continue; // not scored (a test split)
    let task: TaskDefinition | undefined;
    try {
      task = getTask(name);
    } catch {
      task = undefined; // (edited, or a task since renamed)
    }
    if (task?.scoreGroup === null) continue;
    if (task?.scoreGroup === 'WNLI' && r.eval.glueScoreIncludesWnli !== true) continue;
    out.add(task?.name ?? name);
  }
  return [...out].sort();
}

/**
 * The planned tasks (a stored point's `tasks`) that a GLUE score over them would average and its result's does not
 * (glueTasks), sorted: AX never, WNLI only when the result counts it; empty when the result has them all.
 */
export function missingGlueTasks(p: Pick<StoredPoint, 'tasks' | 'result'>): string[] {
  const scored = new Set(glueTasks(p.result));
  const out = new Set<string>();
  for (const name of p.tasks ?? []) {
    let task: TaskDefinition | undefined;
    try {
      task = getTask(name);
    } catch {
      task = undefined; // (a group, a task since renamed: no claim about it)
    }
    if (!task || task.scoreGroup === null) continue;
    if (task.scoreGroup === 'WNLI' && p.result.eval.glueScoreIncludesWnli !== true) continue;
    if (!scored.has(task.name)) out.add(task.name);
  }
  return [...out].sort();
}

/**
 * Rows for `points`, ordered by model, baseline first, then by label. `stale`: by key, what changed in the code since
 * the points among them computed by other code were (`staleChanges`; a point not in it is current). `reads`: by key,
 * the data each point read (`dataRead` of its stored plan; a point not in it is taken to read what any other does).
 * `dataChanges`: by key, what changed since in the files each point read (`dataChanges`; a point not in it read the
 * data as it is now).
 */
export function buildReport(
  points: readonly StoredPoint[],
  failed: readonly FailedPoint[] = [],
  stale: ReadonlyMap<string, string> = new Map(),
  reads: ReadonlyMap<string, DataRead> = new Map(),
  dataChanges: ReadonlyMap<string, string> = new Map(),
): ReportData {
  // A point is compared with the baseline of the same model file on the same tasks, evaluated at the same max length
  // on the same data: of its own sweep, else of any sweep in the store. One file listed twice with other tasks (a
  // checkpoint fine-tuned per task) is two models; a baseline scored on other GLUE files is no original of a variant.
  const baselines = new Map<string, StoredPoint[]>();
  for (const p of points) {
    if (p.steps.length > 0) continue;
    for (const k of [inSweep(p), anySweep(p)]) baselines.set(k, [...(baselines.get(k) ?? []), p]);
  }
  const baselinesAtAnyLength = new Set(points.filter((p) => p.steps.length === 0).map(anyLength));
  // (a current baseline before a stale one, which a sweep's --rerun-stale replaces)
  const baselineOf = (p: StoredPoint, k: string) => {
    const same = baselines.get(k)?.filter((b) => sameData(reads.get(b.key), reads.get(p.key))) ?? [];
    return same.find((b) => !stale.has(b.key) && !dataChanges.has(b.key)) ?? same[0];
  };
  /** Each row's Pareto group: the rows of its model in its sweep on the same data (its baseline's, or its own without one). */
  const groupOf = new Map<ReportRow, string>();
  const rows: ReportRow[] = points.map((p) => {
    const base = baselineOf(p, inSweep(p)) ?? baselineOf(p, anySweep(p));
    const r = p.result;
    const glueBase = base?.result.glue ?? null;
    const tasks: Record<string, MetricValues> = {};
    const undefinedMetrics: Record<string, UndefinedMetrics> = {};
    for (const [name, t] of Object.entries(r.eval.tasks)) {
      tasks[name] = t.metrics;
      if (t.undefinedMetrics) undefinedMetrics[name] = t.undefinedMetrics;
    }
    const shape = r.bench.shapes[0]!;
    const baseShape = base?.result.bench.shapes.find((s) => s.batch === shape.batch && s.seq === shape.seq);
    let glueOfOriginal = shareOfBaseline(r.glue, glueBase);
    let glueTaskMismatch: ReportRow['glueTaskMismatch'] = null;
    if (base && glueOfOriginal !== null) {
      const [own, baseline] = [glueTasks(r), glueTasks(base.result)];
      if (own.join('\0') !== baseline.join('\0')) {
        glueOfOriginal = null;
        glueTaskMismatch = { tasks: own, baseline };
      }
    }
    const row: ReportRow = {
      key: p.key,
      sweep: p.sweep,
      model: p.model,
      modelPath: p.modelPath,
      modelSha256: p.modelSha256,
      label: p.label,
      group: p.model,
      isBaseline: p.steps.length === 0,
      steps: p.steps,
      parameters: describeSteps(p.steps),
      params: r.params,
      bytes: r.bytes,
      fileBytes: r.fileBytes,
      // (a baseline without initializers, 0 bytes of weights, has no share: null, as zeroByteBaselineNote says)
      bytesOfOriginal: base && base.result.bytes > 0 ? r.bytes / base.result.bytes : null,
      baselineKey: base?.key ?? null,
      baselineOnOtherData: !base && baselines.has(anySweep(p)),
      baselineAtOtherLength: !base && !baselines.has(anySweep(p)) && baselinesAtAnyLength.has(anyLength(p)),
      glueDevSha256: reads.get(p.key)?.dev ?? null,
      speedup: r.speedup,
      measuredLatencyMs: r.latencyMs,
      latencyMs: baseShape && shape.speedup ? baseShape.model.p50Ms / shape.speedup : r.latencyMs,
      latencyShape: { batch: shape.batch, seq: shape.seq },
      tasks,
      undefinedMetrics,
      glue: r.glue,
      glueUndefined: r.eval.glueScoreUndefined ?? null,
      glueIncludesWnli: r.eval.glueScoreIncludesWnli === true,
      glueOfOriginal,
      glueTaskMismatch,
      missingTasks: r.glue === null ? [] : missingGlueTasks(p),
      frontBytes: false,
      frontLatency: false,
      timingExclusive: r.bench.timing?.exclusive ?? null,
      // (as its evaluation recorded it; a result stored before it did: by its steps and its benchmark's CPU)
      machine: describeMachine(r.bench.machine),
      int8Saturated: r.eval.int8Saturated ?? (fullRangeInt8Products(p.steps) ? int8Saturates(r.bench.machine.cpu.flags) : null),
      timingOverlapped: contendedBy(r),
      stale: [stale.get(p.key), dataChanges.get(p.key)].filter((c) => c !== undefined).join('; ') || null,
      codeChange: stale.get(p.key) ?? null,
      dataChange: dataChanges.get(p.key) ?? null,
    };
    groupOf.set(row, `${inSweep(p)}\0${dataKey(reads.get((base ?? p).key))}`);
    return row;
  });
  const maxLengths = new Map(rows.map((r, i) => [r, points[i]!.result.eval.maxLength]));
  nameGroups(
    rows,
    groupOf,
    (r) => dataKey(reads.get(r.baselineKey ?? r.key)),
    (r) => maxLengths.get(r),
  );
  rows.sort((a, b) => compareText(a.group, b.group) || Number(b.isBaseline) - Number(a.isBaseline) || compareText(a.label, b.label));
  const group = (r: ReportRow) => groupOf.get(r)!;
  const fb = paretoMaskBy(rows, group, byGlueVsBytes);
  const fl = paretoMaskBy(rows, group, byGlueVsLatency);
  rows.forEach((r, i) => {
    r.frontBytes = fb[i]!;
    r.frontLatency = fl[i]!;
  });
  const tasks = [...new Set(rows.flatMap((r) => Object.keys(r.tasks)))];
  const machines = benchMachines(points);
  return { rows, tasks, machine: machines[0]?.machine ?? null, machines, failed: [...failed] };
}

/**
 * The distinct machines of the points' benchmarks (ReportData.machines). A record made before AMX was read (its
 * `amx` absent) is of the machine that records with it describe alike otherwise, where they all say AMX: so a store
 * that earlier code timed on an AMX machine and this code went on with reads as one machine, named with AMX.
 */
function benchMachines(points: readonly StoredPoint[]): ReportData['machines'] {
  const withoutAmx = (m: MachineInfo) => describeMachine({ ...m, cpu: { ...m.cpu, flags: { ...m.cpu.flags, amx: undefined } } });
  /** AMX as the records that read it say, by their line without it: one value, or null where they differ. */
  const amx = new Map<string, boolean | null>();
  for (const p of points) {
    const m = p.result.bench.machine;
    if (m.cpu.flags.amx === undefined) continue;
    const line = withoutAmx(m);
    amx.set(line, amx.has(line) && amx.get(line) !== m.cpu.flags.amx ? null : m.cpu.flags.amx);
  }
  const byLine = new Map<string, { machine: MachineInfo; rows: number }>();
  for (const p of points) {
    let machine = p.result.bench.machine;
    const known = machine.cpu.flags.amx === undefined ? amx.get(withoutAmx(machine)) : undefined;
    if (known) machine = { ...machine, cpu: { ...machine.cpu, flags: { ...machine.cpu.flags, amx: known } } };
    const line = describeMachine(machine);
    const seen = byLine.get(line);
    if (seen) seen.rows++;
    else byLine.set(line, { machine, rows: 1 });
  }
  return [...byLine.values()];
}

/**
 * Sets each row's `group`: its model's name, with the max length its examples were cut at when other rows of that
 * name are on another front (a distill step's student evaluated at its training maxLength), its sweep when that does
 * not tell them apart, its file's hash too when the sweep does not (a model file replaced between runs of one sweep),
 * and the hash of the data it read (`data`: its group's `dataKey`) when that does not either (one sweep run on two
 * GLUE folders); each with the max length where that tells them apart.
 */
function nameGroups(
  rows: readonly ReportRow[],
  groupOf: ReadonlyMap<ReportRow, string>,
  data: (r: ReportRow) => string,
  maxLength: (r: ReportRow) => number | undefined,
): void {
  const fronts = new Map<string, Set<string>>();
  const add = (name: string, r: ReportRow) => fronts.set(name, (fronts.get(name) ?? new Set()).add(groupOf.get(r)!));
  const sweep = (r: ReportRow) => `sweep ${r.sweep}`;
  const file = (r: ReportRow) => `file ${r.modelSha256.slice(0, 8)}`;
  const read = (r: ReportRow) => `data ${hashOf(data(r)).slice(0, 8)}`;
  const length = (r: ReportRow) => `max length ${maxLength(r) ?? '?'}`;
  const names = [[], [sweep], [sweep, file], [sweep, file, read]]
    .flatMap((parts) => [parts, [...parts, length]])
    .map((parts) => (r: ReportRow) => (parts.length === 0 ? r.model : `${r.model} (${parts.map((part) => part(r)).join(', ')})`));
  for (const name of names) for (const r of rows) add(name(r), r);
  for (const r of rows) r.group = (names.find((name) => fronts.get(name(r))!.size === 1) ?? names.at(-1)!)(r);
}

/**
 * The bench shape each row's p50 was measured at, in words: 'batch 1 × 64 tokens' when every row shares it, else
 * each shape with the models measured at it ('batch 1 × 64 tokens: sst2; batch 1 × 128 tokens: stsb'), as a sweep
 * benchmarks each model at its own max_length unless told a length.
 */
export function describeLatencyShapes(rows: readonly ReportRow[]): string {
  const shapes = new Map<string, Set<string>>();
  for (const r of rows) {
    const shape = `batch ${r.latencyShape.batch} × ${r.latencyShape.seq} tokens`;
    shapes.set(shape, (shapes.get(shape) ?? new Set()).add(r.group));
  }
  if (shapes.size <= 1) return [...shapes.keys()][0] ?? '-';
  return [...shapes].map(([shape, groups]) => `${shape}: ${[...groups].join(', ')}`).join('; ');
}
