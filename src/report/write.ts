/**
 * `compress report` as a library call: read the finished points of a store, build the rows, and write the table
 * in the asked formats plus both Pareto charts (SVG), and the teacher-size chart when the points have one, into a folder.
 */
import { existsSync, lstatSync, readFileSync, rmSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { checkOutputFiles, checkOutputFolder, fileSystemError } from '../destination.ts';
import { choiceRefusal, quotedText, SettingsError, them, valueAndKind, UserError } from '../errors.ts';
import { removeStaleTemporariesIn, sha256Bytes, sha256File, writeFilesAtomic } from '../files.ts';
import { someNames } from '../some-names.ts';
import { PLAN_STORE_FILE, SweepStore, storedPointText, sweepFirst, type StoredPoint } from '../sweep/store.ts';
import {
  currentHashes,
  changedModels,
  currentModelHashes,
  dataChange,
  findStale,
  refusalAgain,
  refusedInput,
  storedPointNow,
  tokenizerRefusals,
} from '../sweep/stale.ts';
import { pointFamily, toolVersion } from '../sweep/key.ts';
import { renderCharts } from './charts.ts';
import { toHtml, type ReportCharts } from './html.ts';
import {
  distillTeacher,
  plannedTeacherSha256,
  renderTeacherSizeChart,
  studentTeachers,
  type TeacherSizePoint,
  teacherSizeMarkdown,
  teacherSizePoints,
} from './teacher-size.ts';
import {
  buildReport,
  dataRead,
  describeSteps,
  unreadableResult,
  type DataRead,
  type FailedPoint,
  type RelocatedStore,
  type ReportData,
  type ShownOncePoint,
} from './rows.ts';
import { getPass } from '../pass/registry.ts';
import { registerAllPasses } from '../passes.ts';
import type { PassStep } from '../pass/pass.ts';
import type { SweepPoint } from '../sweep/plan.ts';
import { FAILED_REFUSED_INPUT, failedText, toCsv, toJson, toMarkdown } from './table.ts';
import { checkOptionKinds, checkOptions, checkStringOption, type OptionKind } from '../library-args.ts';

export const REPORT_FORMATS = ['md', 'csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  /** The sweep store (SQLite). */
  store: string;
  /** Only the points of this sweep (default: all). */
  sweep?: string;
}

/** loadReport's options by their kinds (checkOptionKinds): a JavaScript caller's misspelt swep was read as nothing (every sweep's points reported). */
const REPORT_OPTION_KINDS = { store: 'checked', sweep: 'string' } as const satisfies Record<keyof ReportOptions, OptionKind>;

/** Reads a store into report data; a SettingsError when it is missing or has no finished point. */
export function loadReport(opts: ReportOptions): ReportData {
  checkOptionKinds('loadReport', checkOptions('loadReport', opts, '{store, sweep?}'), REPORT_OPTION_KINDS);
  checkStringOption('loadReport', 'store', opts.store, 'the sweep store (.sqlite)');
  if (!existsSync(opts.store)) throw new SettingsError(`${opts.store}: no such store (${sweepFirst(opts.store)})`);
  if (statSync(opts.store).isDirectory()) throw new SettingsError(`${opts.store}: a folder, not a sweep store (give the .sqlite file a sweep wrote)`);
  const store = SweepStore.open(opts.store, { readonly: true });
  try {
    if (opts.sweep !== undefined) {
      const sweeps = store.sweeps();
      if (!sweeps.includes(opts.sweep))
        throw new SettingsError(
          `${opts.store}: no sweep ${quotedText(opts.sweep)} in this store (${sweeps.length > 0 ? `its sweeps: ${someNames(sweeps, 4)}` : 'it holds no sweep'})`,
        );
    }
    // (the store as of one moment, read in one transaction: a point a running sweep finishes or fails meanwhile is
    // a row, a failure or not finished, not missing from all three; the stored plans of the points without a result
    // are read where some point failed)
    const { all, failed, failedPlans, finishedPlans, planned } = store.snapshot(() => {
      const failed = store.failures(opts.sweep);
      return {
        all: store.finished(opts.sweep),
        failed,
        failedPlans: failed.length > 0 ? store.unfinishedPlans() : new Map<string, unknown>(),
        finishedPlans: store.finishedPlans(),
        planned: store.unfinished(opts.sweep),
      };
    });
    // (one memo of the tokenizer folders the code running now refuses, for the failed points, their stale results and the rows)
    const refusal = tokenizerRefusals();
    // (each file and model hashed once for the report, whichever question reads it)
    const hash = currentHashes();
    const modelHash = currentModelHashes(hash);
    const refusedFailed = new Map<string, string>();
    for (const { key, error, refusedBy } of failed) {
      // (what a rerun does with it, as the sweep decides (refusalAgain): fails it again unrun where the code running now
      // refuses a tokenizer folder, or where this tool version refused its input files and its models are not changed at
      // their paths since; a model since fixed is another point, run anew)
      const plan = failedPlans.get(key);
      const again = refusalAgain({ error, refusedBy }, plan, toolVersion(), () => changedModels(plan, modelHash).length === 0, refusal);
      if (again !== undefined) refusedFailed.set(key, again.refused);
    }
    if (all.length === 0) {
      const list = (points: typeof failed, rerun: string) =>
        points.length > 0 ? [`${points.length} failed (${rerun}): ${someNames(points.map(failedText), 4, '; ')}`] : [];
      const lists = [
        ...list(
          failed.filter((f) => !refusedFailed.has(f.key)),
          'a rerun of the sweep retries them',
        ),
        ...list(
          failed.filter((f) => refusedFailed.has(f.key)),
          FAILED_REFUSED_INPUT,
        ),
      ];
      throw new SettingsError(
        `${opts.store}: no finished point${opts.sweep ? ` in sweep ${quotedText(opts.sweep)}` : ''}${lists.map((l) => `; ${l}`).join('')}`,
      );
    }
    for (const p of all) {
      const why = unreadableResult(p);
      if (why)
        throw new SettingsError(
          `${opts.store}: the stored result of ${storedPointText(p)} has ${why}: written by other code or edited; rerun its sweep into a new store`,
        );
    }
    const { plans: readPlans, relocated } = relocatedPlans(finishedPlans, opts.store);
    const plans = readPlans;
    const now = pointsNow(all, plans, modelHash);
    const shownOnce = opts.sweep === undefined ? oneRowPerPoint(all, now) : [];
    const hidden = new Set(shownOnce.map((s) => s.key));
    const points = hidden.size > 0 ? all.filter((p) => !hidden.has(p.key)) : all;
    const reads = new Map<string, DataRead>();
    for (const p of points) {
      const read = dataRead(plans.get(p.key));
      if (read) reads.set(p.key, read);
    }
    const staleRows = keptStaleResults(failed, points, plans, failedPlans, modelHash, refusal);
    const failedPoints = failed.map(
      ({ key, model, label, error }): FailedPoint => ({
        model,
        label,
        error,
        ...(staleRows.has(key) ? { staleRows: staleRows.get(key)! } : {}),
        ...(refusedFailed.has(key) ? { refused: refusedFailed.get(key)! } : {}),
      }),
    );
    const data = buildReport(points, failedPoints, staleChangesNow(points, now), reads, changedData(points, plans, hash, modelHash));
    // a planned point a row or a failure stands for (a stale result the sweep kept, under its older key; a point shown
    // once, as the row of the same point under its other key) is not missing
    const shown = new Set([...all.map((p) => `${p.sweep}\0${p.model}\0${p.label}`), ...failed.map((f) => `\0${f.model}\0${f.label}`)]);
    const unfinished = planned
      .map((u) => (opts.sweep !== undefined ? { ...u, sweep: opts.sweep } : u))
      .filter((u) => !shown.has(`${u.sweep}\0${u.model}\0${u.label}`) && !shown.has(`\0${u.model}\0${u.label}`));
    if (unfinished.length > 0) data.unfinished = unfinished;
    if (shownOnce.length > 0) data.shownOnce = shownOnce;
    if (relocated.length > 0) data.relocated = relocated;
    for (const row of data.rows) {
      const refused = row.stale !== null ? refusedInput(plans.get(row.key), refusal) : undefined;
      if (refused !== undefined) row.refused = refused;
      const teacher = plannedTeacherSha256(plans.get(row.key), row.steps);
      if (teacher !== undefined) row.teacherSha256 = teacher;
      const drawn = stepsAsDrawn(plans.get(row.key), row.steps);
      if (drawn !== row.steps) row.parameters = describeSteps(drawn);
    }
    for (const [row, teacher] of studentTeachers(data)) row.teacher = { key: teacher.key, group: teacher.group, params: teacher.params };
    for (const row of data.rows) {
      const setting = row.teacher === undefined && !row.isBaseline ? distillTeacher(row) : undefined;
      if (setting !== undefined) row.teacherNamed = setting ?? row.model;
    }
    return data;
  } finally {
    store.close();
  }
}

/**
 * `plans` (by key: SweepStore.finishedPlans) with the files each names read beside the store where it is now, where
 * the store was elsewhere when the plan was written (its PLAN_STORE_FILE: the store moved or copied since, with its
 * folder, and not run there again, which records the files where the run finds them): the folders the two store paths
 * do not share at their ends (`/a/out/s.sqlite` → `/b/out/s.sqlite`: `/a` → `/b`) are swapped in each path, where a
 * file is there in the new place (a store copied alone compares the files where they were). So an edit in a copied
 * sweep folder shows ‡ in the copy's report, as in a folder never moved. `relocated`: each such move, the folders
 * swapped, and how many points it applied to.
 */
export function relocatedPlans(plans: ReadonlyMap<string, unknown>, storePath: string): { plans: Map<string, unknown>; relocated: RelocatedStore[] } {
  const here = resolve(storePath);
  const at = statSync(here);
  const same = new Map<string, boolean>();
  /** Whether `file` is the store file itself, named otherwise (a link to its folder, another mount of it): not moved. */
  const sameFile = (file: string): boolean => {
    if (!same.has(file)) {
      const st = statSync(file, { throwIfNoEntry: false });
      same.set(file, st !== undefined && st.dev === at.dev && st.ino === at.ino);
    }
    return same.get(file)!;
  };
  const moves = new Map<string, RelocatedStore>();
  const out = new Map<string, unknown>();
  for (const [key, plan] of plans) {
    const was = plan && typeof plan === 'object' ? (plan as Record<string, unknown>)[PLAN_STORE_FILE] : undefined;
    const move = typeof was === 'string' && isAbsolute(was) && was !== here && !sameFile(was) ? storeMove(was, here) : undefined;
    if (move === undefined) {
      out.set(key, plan);
      continue;
    }
    let swapped = 0;
    const relocate = (v: unknown): unknown => {
      if (typeof v === 'string') {
        if (!v.startsWith(`${move.from}${sep}`)) return v;
        const there = move.to + v.slice(move.from.length);
        if (!existsSync(there)) return v;
        swapped++;
        return there;
      }
      if (Array.isArray(v)) return v.map(relocate);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, relocate(x)]));
      return v;
    };
    // (its PLAN_STORE_FILE is the store itself, there by definition: not a file the point read, so neither swapped nor counted)
    out.set(key, Object.fromEntries(Object.entries(plan as object).map(([k, v]) => [k, k === PLAN_STORE_FILE ? v : relocate(v)])));
    const id = `${was}\0${move.from}`;
    const seen = moves.get(id) ?? { store: was as string, from: move.from, to: move.to, points: 0 };
    if (swapped > 0) seen.points++;
    moves.set(id, seen);
  }
  return { plans: out, relocated: [...moves.values()].filter((m) => m.points > 0) };
}

/**
 * The folders two paths of one store (`was`, where a plan was written; `here`, where it is now) differ by, once their
 * common ending folders are set aside; undefined where the store only changed its file name or the folder it was in is
 * the file system's root (nothing to swap).
 */
function storeMove(was: string, here: string): { from: string; to: string } | undefined {
  const a = dirname(was).split(sep);
  const b = dirname(here).split(sep);
  while (a.length > 1 && b.length > 1 && a[a.length - 1] === b[b.length - 1]) {
    a.pop();
    b.pop();
  }
  const from = a.join(sep);
  const to = b.join(sep);
  return from === to || from === '' || to === '' ? undefined : { from, to };
}

/**
 * Of the failed points (`failed`), those whose sweep keeps a stale result of theirs, as a rerun of it reads the store
 * (sweep/stale.ts findStale: a stored result of the same point computed by other code, on the same data; their
 * recompute, --rerun-stale, failed), and those whose input the code running now refuses (refusedInput) with a result of
 * the same point on data since changed, refused too (no rerun computes either): by key, the keys of the finished points
 * (`points`, with their `plans`) holding it. `stored`: the stored plans of the points without a result
 * (SweepStore.unfinishedPlans); a plan this code cannot read (a pass or setting since removed) keeps none. `modelHash`, `refusal`:
 * findStale's.
 */
function keptStaleResults(
  failed: ReadonlyArray<{ key: string }>,
  points: readonly StoredPoint[],
  plans: ReadonlyMap<string, unknown>,
  stored: ReadonlyMap<string, unknown>,
  modelHash: (onnx: string) => string | undefined,
  refusal: (dir: string) => string | undefined,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (failed.length === 0) return out;
  const planned: SweepPoint[] = [];
  for (const { key } of failed) {
    const plan = stored.get(key);
    if (plan === null || typeof plan !== 'object') continue;
    const point = { ...(plan as SweepPoint), key };
    try {
      pointFamily(point); // (findStale's question of it: a plan this code cannot read asks none)
    } catch {
      continue;
    }
    planned.push(point);
  }
  for (const [key, match] of findStale(planned, points, plans, modelHash, refusal))
    out.set(
      key,
      match.stored.map((s) => s.key),
    );
  // (a result of the point computed on data since changed is not its stale result, which a rerun computes again as
  // another point; but where the code running now refuses its input no rerun computes it, and that result, refused too,
  // is the one the table shows for it)
  const refused = planned.filter((point) => !out.has(point.key) && refusedInput(point, refusal) !== undefined);
  if (refused.length === 0) return out;
  const families = new Map<string, string[]>();
  for (const p of points) {
    const plan = plans.get(p.key);
    if (plan === null || typeof plan !== 'object') continue;
    try {
      const family = pointFamily(plan as SweepPoint);
      families.set(family, [...(families.get(family) ?? []), p.key]);
    } catch {
      // (a plan this code cannot read: no point of it now)
    }
  }
  for (const point of refused) {
    const shown = families.get(pointFamily(point))?.filter((key) => refusedInput(plans.get(key), refusal) !== undefined);
    if (shown?.length) out.set(point.key, shown);
  }
  return out;
}

/** A stored point as the code running now reads it (sweep/stale.ts `storedPointNow`): its key now, or what changed. */
type PointNow = NonNullable<ReturnType<typeof storedPointNow>>;

/**
 * Each of `points` as the code running now reads its plan (`plans`, by key: SweepStore.finishedPlans), planned once
 * for both the one-row-per-point and the stale questions; a point without a plan, or one this code cannot read, is
 * left out (neither current nor stale). `modelHash`: storedPointNow's.
 */
function pointsNow(
  points: readonly StoredPoint[],
  plans: ReadonlyMap<string, unknown>,
  modelHash: (onnx: string) => string | undefined,
): Map<string, PointNow> {
  const out = new Map<string, PointNow>();
  for (const p of points) {
    const now = plans.has(p.key) ? storedPointNow(plans.get(p.key), p.key, modelHash) : undefined;
    if (now !== undefined) out.set(p.key, now);
  }
  return out;
}

/**
 * The finished points (`points`, oldest result first, as SweepStore.finished gives them) another of which is the same
 * point now: the code running now gives both stored plans one key (`now`, pointsNow: neither stale, their seeds or
 * training task written differently, so earlier code stored each under its own key, SeedForm 'written'). Of each such
 * set, all but the newest result, each with the key of that one (the row a whole store's report shows).
 */
function oneRowPerPoint(points: readonly StoredPoint[], now: ReadonlyMap<string, PointNow>): ShownOncePoint[] {
  const byKeyNow = new Map<string, StoredPoint[]>();
  for (const p of points) {
    const read = now.get(p.key);
    if (read === undefined || !('key' in read)) continue;
    const same = byKeyNow.get(read.key);
    if (same) same.push(p);
    else byKeyNow.set(read.key, [p]);
  }
  const out: ShownOncePoint[] = [];
  for (const same of byKeyNow.values()) {
    const newest = same[same.length - 1]!;
    for (const p of same.slice(0, -1)) out.push({ sweep: p.sweep, model: p.model, label: p.label, key: p.key, shownAs: newest.key });
  }
  return out;
}

/**
 * The stale points among `points` (by key: what changed since they were computed), by the rule of the sweep
 * (sweep/stale.ts `staleChange`), from the plans the store holds (`SweepStore.finishedPlans`).
 */
export function staleChanges(points: readonly StoredPoint[], plans: ReadonlyMap<string, unknown>): Map<string, string> {
  return staleChangesNow(points, pointsNow(points, plans, currentModelHashes()));
}

/** staleChanges from the points as the code running now reads them (`now`: pointsNow). */
function staleChangesNow(points: readonly StoredPoint[], now: ReadonlyMap<string, PointNow>): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of points) {
    const read = now.get(p.key);
    if (read !== undefined && 'change' in read) out.set(p.key, read.change);
  }
  return out;
}

/**
 * The points among `points` whose data changed since they were computed (by key: which files), by the files their
 * plans (`SweepStore.finishedPlans`) name, each hashed again once however many points read it, and the models they
 * read, each hashed again once where its files' stamps no longer hold (sweep/stale.ts `dataChange`).
 */
export function dataChanges(points: readonly StoredPoint[], plans: ReadonlyMap<string, unknown>): Map<string, string> {
  const hash = currentHashes();
  return changedData(points, plans, hash, currentModelHashes(hash));
}

/** dataChanges with the files and models hashed by `hash` and `modelHash` (currentHashes, currentModelHashes). */
function changedData(
  points: readonly StoredPoint[],
  plans: ReadonlyMap<string, unknown>,
  hash: (file: string) => string | null | undefined,
  modelHash: (onnx: string) => string | undefined,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of points) {
    const change = plans.has(p.key) ? dataChange(plans.get(p.key), hash, modelHash) : undefined;
    if (change !== undefined) out.set(p.key, change);
  }
  return out;
}

/** `data` as what loadReport returns, for JavaScript callers: else a SettingsError naming `fn`. */
function checkReportData(fn: string, data: ReportData): void {
  if (typeof data !== 'object' || data === null || !Array.isArray(data.rows))
    throw new SettingsError(`${fn}: data: expected a report (what loadReport returns), got ${valueAndKind(data)}`);
}

/** The report in one text format (HTML renders the charts). */
export async function renderReport(data: ReportData, format: ReportFormat, source: string): Promise<string> {
  checkReportData('renderReport', data);
  if (!(REPORT_FORMATS as readonly unknown[]).includes(format))
    throw new SettingsError(choiceRefusal('renderReport: format', format, REPORT_FORMATS, { from: 'code' }));
  checkStringOption('renderReport', 'source', source, 'the sweep store the report was read from (its path)');
  if (format === 'html')
    return toHtml(data, await allCharts(data), { title: `Compression report: ${basename(source)}`, source, generatedAt: new Date().toISOString() });
  return renderText(data, format, () => teacherSizePoints(data));
}

/**
 * The report in a format other than HTML; `teacherPoints` gives the teacher-size points (`teacherSizePoints` of `data`,
 * worked out once for every format of a write), asked only by the formats that show them (md, json).
 */
function renderText(data: ReportData, format: Exclude<ReportFormat, 'html'>, teacherPoints: () => readonly TeacherSizePoint[]): string {
  switch (format) {
    case 'md': {
      const teachers = teacherSizeMarkdown(data, teacherPoints());
      return teachers ? `${toMarkdown(data, true)}\n${teachers}` : toMarkdown(data);
    }
    case 'csv':
      return toCsv(data);
    case 'json':
      return toJson(data, teacherPoints());
  }
}

/** Both Pareto charts and the teacher-size chart (null when the points have none), with that chart's points. */
async function allCharts(data: ReportData): Promise<ReportCharts & { teacherSizePoints: readonly TeacherSizePoint[] }> {
  const points = teacherSizePoints(data);
  return { ...(await renderCharts(data)), teacherSize: await renderTeacherSizeChart(data, points), teacherSizePoints: points };
}

/**
 * The record `writeReportFiles` keeps in the folder of the files it wrote there (name, bytes, sha256), and of those
 * an earlier one wrote that it kept (edited since: their entries as that one wrote them), written with them in one
 * atomic write: the next report into the folder removes a file of the report's names only when this record lists it
 * and its bytes are still the ones written.
 */
export const REPORT_RECORD = '.compress-report.json';

interface RecordedFile {
  name: string;
  bytes: number;
  sha256: string;
}

/** What became of a file of the report's names that an earlier report (or the user) left and this one does not rewrite. */
export interface EarlierReportFile {
  file: string;
  /** True when it was removed: this command wrote it and it is unchanged since. */
  removed: boolean;
  /** Why it was removed or kept, in words. */
  reason: string;
}

/**
 * The folder's record: the files it lists by name, empty when there is none or it is not one this command wrote
 * (nothing is then removed); `damaged` says what was wrong with a record file that is there but lists nothing.
 */
interface EarlierRecord {
  files: Map<string, RecordedFile>;
  damaged?: string;
}

function readRecord(path: string): EarlierRecord {
  const files = new Map<string, RecordedFile>();
  let text: string;
  try {
    if (!lstatSync(path).isFile()) return { files };
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { files } : { files, damaged: `unreadable (${code ?? 'error'})` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { files, damaged: 'not valid JSON' };
  }
  const list = (parsed as { files?: unknown } | null)?.files;
  if (!Array.isArray(list)) return { files, damaged: 'a record with no list of files' };
  for (const f of list as Array<Partial<RecordedFile> | null>) {
    if (typeof f?.name === 'string' && typeof f.bytes === 'number' && typeof f.sha256 === 'string' && /^[0-9a-f]{64}$/.test(f.sha256))
      files.set(f.name, { name: f.name, bytes: f.bytes, sha256: f.sha256 });
  }
  return { files };
}

/** What lies at `path` without following a link, or null when nothing does. */
function lstatOrNull(path: string, label: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw fileSystemError(e, path, label) ?? e;
  }
}

/** Why an earlier file (`st`, not followed) is not this command's to remove, or undefined when it wrote it and it is unchanged. */
async function whyKept(path: string, st: Stats, record: EarlierRecord, label: string): Promise<string | undefined> {
  if (st.isSymbolicLink()) return 'a symbolic link, not a file compress report wrote';
  if (!st.isFile()) return 'not a regular file';
  const entry = record.files.get(basename(path));
  if (!entry && record.damaged) return `${REPORT_RECORD} was ${record.damaged} (now replaced), so nothing records this file; remove it if it is an old report`;
  if (!entry) return `no record of it in ${REPORT_RECORD} (an older compress report's, or your own): remove it if it is an old report`;
  let sha256: string;
  try {
    sha256 = st.size === entry.bytes ? await sha256File(path) : '';
  } catch (e) {
    throw fileSystemError(e, path, label) ?? e;
  }
  return sha256 === entry.sha256 ? undefined : 'edited since compress report wrote it';
}

/**
 * Writes `report.<format>` for each format, `pareto-bytes.svg`, `pareto-latency.svg` and (when the points have one)
 * `teacher-size.svg` into `outDir`, with the record `.compress-report.json` of what was written, all of them or
 * none; returns the paths written (the record not among them). A symbolic link at one of those names is refused:
 * the report neither writes through it to another place nor replaces it.
 *
 * The files of the report's names that this one does not rewrite (`report.<format>` of a format not asked now,
 * `teacher-size.svg` when the points have none) are removed only when the folder's record says an earlier report
 * wrote them and they are regular files with the bytes it wrote: a reader would take them for the current report.
 * Any other file of those names (the user's own, edited since, a link, one no record lists) is kept. Each is named
 * to `onEarlier`, removed or kept and why. Nothing else in the folder is touched.
 *
 * Likewise a file it would rewrite (`report.<format>` of a format asked, a chart) is written over only when the
 * record lists it unchanged: one edited since, or that no record lists (the user's own), is refused in one line
 * naming each, writing nothing, unless `opts.force`.
 */
export async function writeReportFiles(
  data: ReportData,
  outDir: string,
  formats: readonly ReportFormat[],
  source: string,
  onEarlier?: (earlier: EarlierReportFile) => void,
  opts: { force?: boolean } = {},
): Promise<string[]> {
  checkReportData('writeReportFiles', data);
  checkStringOption('writeReportFiles', 'outDir', outDir, 'the folder to write the report into');
  if (!Array.isArray(formats) || formats.some((f) => !(REPORT_FORMATS as readonly unknown[]).includes(f)))
    throw new SettingsError(`writeReportFiles: formats: expected a list of ${REPORT_FORMATS.join(', ')}, got ${valueAndKind(formats)}`);
  checkStringOption('writeReportFiles', 'source', source, 'the sweep store the report was read from (its path)');
  // (onEarlier 'x' failed with a TypeError once the files were written; force 'no' wrote over edited files)
  if (onEarlier !== undefined && typeof onEarlier !== 'function')
    throw new SettingsError(`writeReportFiles: onEarlier: expected a function, got ${valueAndKind(onEarlier)}`);
  checkOptionKinds('writeReportFiles', checkOptions('writeReportFiles', opts, '{force}'), { force: 'boolean' });
  const label = `--out ${outDir}`;
  checkOutputFolder(outDir, label);
  const recordPath = join(outDir, REPORT_RECORD);
  const ownPaths = ['pareto-bytes.svg', 'pareto-latency.svg', 'teacher-size.svg', ...formats.map((f) => `report.${f}`), REPORT_RECORD].map((name) =>
    join(outDir, name),
  );
  for (const path of ownPaths) {
    const st = lstatOrNull(path, label);
    if (st?.isSymbolicLink())
      throw new UserError(`${label}: ${path} is a symbolic link; remove it or give another folder (the report writes no file through a link)`);
    if (st?.isDirectory()) throw new UserError(`${label}: ${path} is a folder; remove it or give another folder (the report writes a file of that name)`);
  }
  checkOutputFiles(ownPaths, label);
  const charts = await allCharts(data);
  const files: Array<readonly [string, string]> = (['bytes', 'latency'] as const).map((kind) => [join(outDir, `pareto-${kind}.svg`), charts[kind]] as const);
  const teacherSize = join(outDir, 'teacher-size.svg');
  if (charts.teacherSize) files.push([teacherSize, charts.teacherSize]);
  for (const f of formats) {
    const text =
      f === 'html'
        ? toHtml(data, charts, { title: `Compression report: ${basename(source)}`, source: resolve(source), generatedAt: new Date().toISOString() })
        : renderText(data, f, () => charts.teacherSizePoints);
    files.push([join(outDir, `report.${f}`), text]);
  }
  const earlierRecord = readRecord(recordPath);
  if (!opts.force) {
    const edited: string[] = [];
    for (const [file] of files) {
      const st = lstatOrNull(file, label);
      if (!st?.isFile()) continue;
      const why = await whyKept(file, st, earlierRecord, label);
      if (why === undefined) continue;
      const entry = earlierRecord.files.get(basename(file));
      edited.push(
        `${basename(file)} (${entry ? why : earlierRecord.damaged ? `${REPORT_RECORD} is ${earlierRecord.damaged}, so nothing records it` : `no record of it in ${REPORT_RECORD}: your own, or an older report's`})`,
      );
    }
    if (edited.length > 0)
      throw new UserError(
        `${label}: would write over ${edited.join(', ')}; move ${them(edited.length)} away, give another folder, or pass --force to write over ${them(edited.length)}`,
      );
  }
  // the files of the report's names left from an earlier report (or the user) that this one does not rewrite: each
  // removed once the files are written where it wrote them and they are unchanged, else kept, and why
  const written = new Set(files.map(([file]) => file));
  const earlier: Array<{ file: string; kept: string | undefined }> = [];
  for (const file of [teacherSize, ...REPORT_FORMATS.map((f) => join(outDir, `report.${f}`))]) {
    const st = written.has(file) ? null : lstatOrNull(file, label);
    if (st) earlier.push({ file, kept: await whyKept(file, st, earlierRecord, label) });
  }
  const record = {
    written_by: 'compress report',
    about:
      'The files `compress report --out` wrote here: the last one, and those an earlier one wrote that it kept (edited since); the next one removes those it does not rewrite only while unchanged.',
    files: [
      ...files.map(([file, text]): RecordedFile => {
        const bytes = Buffer.from(text, 'utf8');
        return { name: basename(file), bytes: bytes.byteLength, sha256: sha256Bytes([bytes]) };
      }),
      // (a file kept as edited since keeps its entry, so that the next report says so of it again, not that no record lists it)
      ...earlier.flatMap(({ file, kept }) => {
        const entry = kept !== undefined ? earlierRecord.files.get(basename(file)) : undefined;
        return entry ? [entry] : [];
      }),
    ],
  };
  // (the temporaries a report killed while writing them left: Ctrl-C with no clean-up registered, SIGKILL)
  removeStaleTemporariesIn(outDir, [...new Set([...ownPaths, ...REPORT_FORMATS.map((f) => join(outDir, `report.${f}`))].map((p) => basename(p)))]);
  // all files or none: a full disk leaves the folder as it was
  try {
    writeFilesAtomic([...files, [recordPath, `${JSON.stringify(record, null, 2)}\n`]]);
  } catch (e) {
    throw fileSystemError(e, undefined, label) ?? e;
  }
  // not one left from an earlier report into the same folder, and nothing else: only what it wrote, unchanged
  for (const { file: stale, kept } of earlier) {
    if (kept) {
      onEarlier?.({ file: stale, removed: false, reason: kept });
      continue;
    }
    try {
      rmSync(stale);
    } catch (e) {
      throw fileSystemError(e, stale, label) ?? e;
    }
    onEarlier?.({ file: stale, removed: true, reason: "an earlier report's, not rewritten by this one" });
  }
  return files.map(([file]) => file);
}

/**
 * A stored point's `steps` with its sweep's seed written into each step that draws from it (a train or distill step
 * without a seed of its own, random head importance without one), as its plan says, so that a row shows the seed its
 * model was drawn with: a point stored by one sweep and shared by another writing the seed otherwise (key.ts
 * SeedForm) reads as that sweep wrote it no more. `steps` itself where no step draws from it or the plan cannot be read.
 */
function stepsAsDrawn(plan: unknown, steps: PassStep[]): PassStep[] {
  const p = plan as Partial<SweepPoint> | undefined;
  if (typeof p?.seed !== 'number') return steps;
  const seed = p.seed;
  registerAllPasses(); // (a report reads a store without parsing a sweep file, which registers them)
  const training = new Set((p.training?.steps ?? []).map((t) => t.index));
  let drawn = false;
  try {
    const out = steps.map((s, i) => {
      const pass = training.has(i) ? undefined : getPass(s.pass);
      if (!(pass ? pass.readsSeed(pass.check(s.settings)) : s.settings.seed === undefined)) return s;
      drawn = true;
      return { ...s, settings: { ...s.settings, seed } };
    });
    return drawn ? out : steps;
  } catch {
    return steps; // (written by code whose passes or settings this code no longer reads)
  }
}
