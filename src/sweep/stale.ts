/**
 * Stale points: a point of this sweep that the store has results for, computed by other code. Its key differs only
 * by the versions in it (bert-compress's, a pass's, a training step's or its tokenizers' reading: see key.ts), so the same family. A sweep keeps the stale
 * result and says so (it is not silently reused, and a long sweep is not silently recomputed after an upgrade);
 * `--rerun-stale` recomputes the point and then forgets the stale rows it replaces.
 *
 * One rule decides it for the sweep and the report (`staleChange`): a stored point is stale when the key the code
 * running now gives its stored plan is not the key it is stored under.
 *
 * The report also marks stale a point whose data changed since (`dataChange`: a GLUE file, config.json or a
 * tokenizer file its plan hashed differs now, or a model it read: each hashed again only where its files' stamps say
 * it may have changed). A sweep needs no such rule: it hashes those files again as it plans, so
 * a rerun on changed data plans other points (other keys) and computes them, keeping the old results in the store.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { keptSha256Sync, stampsHold, type FileStamp } from '../files.ts';
import { modelSha256Sync } from '../onnx/identity.ts';
import { DataError } from '../errors.ts';
import { folderTokenizerJson } from '../eval/tokenizer.ts';
import {
  plannedDataFiles,
  plannedModels,
  plannedTokenizerFolders,
  pointTokenizerReading,
  pointTrainingLength,
  storedStudentKind,
  type PlannedModel,
  type SweepPoint,
} from './plan.ts';
import type { PointResult } from './point.ts';
import type { StoredPoint } from './store.ts';
import { canonicalJson, currentVersions, pointFamilies, pointFamily, pointKey, pointKeys, versionChange } from './key.ts';
import { registerAllPasses } from '../passes.ts';
import { STUDENT_KIND_NAMES, type StudentKind } from '../train/versions.ts';

/** Every kind of student, as STUDENT_KIND_NAMES lists them. */
const STUDENT_KINDS = Object.keys(STUDENT_KIND_NAMES) as StudentKind[];

export interface StaleMatch {
  point: SweepPoint;
  /** The stored points it replaces, oldest first (several when more than one older version left a result). */
  stored: StoredPoint[];
  /** The newest stored result. */
  result: PointResult;
  /** What changed since: 'prune-heads v1 → v2'. */
  change: string;
  /**
   * Where the code running now refuses an input the point reads (`refusedInput`: a tokenizer folder), that refusal:
   * `--rerun-stale` fails at the point, and its stored result stays stale; absent otherwise.
   */
  refused?: string;
}

/**
 * The stale points among `points` (those without a result under their own key): by key, the stored points of the
 * same family. `plans` are the stored points' planned points (any age) by key; a plan that no longer parses (a
 * pass or setting since removed) matches nothing. `modelHash`: storedPointNow's; `refusal`: refusedInput's (a report
 * passes the one it asks of its rows too, so that each refused folder is read once).
 */
export function findStale(
  points: readonly SweepPoint[],
  finished: readonly StoredPoint[],
  plans: ReadonlyMap<string, unknown>,
  modelHash = currentModelHashes(),
  refusal = tokenizerRefusals(),
): Map<string, StaleMatch> {
  const out = new Map<string, StaleMatch>();
  if (points.length === 0) return out;
  const planned = new Set(points.map((p) => p.key));
  // (only a stored point of the family of one of `points` can be its stale result: the others are not planned again;
  // of its families, with its settings as earlier code made them canonical too: pointFamilies)
  const familiesOf = new Map(points.map((p) => [p.key, pointFamilies(p)]));
  const families = new Set([...familiesOf.values()].flat());
  /** `data`: the stored plan's data hashes (canonical JSON), else the GLUE folder it read (planned before they were kept). */
  const byFamily = new Map<string, Array<{ stored: StoredPoint; order: number; change: string; data: { hashes: string } | { glueDir: unknown } }>>();
  for (const [order, s] of finished.entries()) {
    const plan = plans.get(s.key);
    if (planned.has(s.key) || plan === undefined) continue;
    let family: string;
    try {
      family = pointFamily(plan as SweepPoint);
    } catch {
      continue; // (a plan this code cannot read: not comparable, as storedPointNow says of it)
    }
    if (!families.has(family)) continue;
    const now = storedPointNow(plan, s.key, modelHash); // (staleChange's question, with one modelHash for every point)
    if (now === undefined || !('change' in now)) continue;
    const { change } = now;
    const { data, glueDir } = plan as SweepPoint;
    const entry = { stored: s, order, change, data: data === undefined ? { glueDir } : { hashes: canonicalJson(data) } };
    const same = byFamily.get(family);
    if (same) same.push(entry);
    else byFamily.set(family, [entry]);
  }
  if (byFamily.size === 0) return out;
  for (const p of points) {
    // A result computed on other data is not this point's, stale or not; one planned before data was hashed may be,
    // when it read the same GLUE folder.
    const data = canonicalJson(p.data ?? null);
    const stored = familiesOf
      .get(p.key)!
      .flatMap((family) => byFamily.get(family) ?? [])
      .sort((a, b) => a.order - b.order)
      .filter((s) => ('hashes' in s.data ? s.data.hashes === data : s.data.glueDir === p.glueDir));
    if (!stored.length) continue;
    const newest = stored[stored.length - 1]!;
    const match: StaleMatch = { point: p, stored: stored.map((s) => s.stored), result: newest.stored.result, change: newest.change };
    const refused = refusedInput(p, refusal);
    if (refused !== undefined) match.refused = refused;
    out.set(p.key, match);
  }
  return out;
}

/**
 * Whether the point stored under `key`, as its sweep planned it (`plan`, by any code), is stale, and why: what
 * changed between the code that computed it and the code running now ('quantize v4 → v5', 'a key without versions
 * (bert-compress 0.1.0)' for a plan stored before keys held versions), or undefined when it is current (the code
 * running now gives its plan the key it is stored under: a rerun of its sweep reuses it) or not comparable (a plan
 * this code cannot read, a pass or setting since removed: no rerun plans it again). A sweep's rerun would call it
 * stale (findStale), as `compress report` marks it.
 */
export function staleChange(plan: unknown, key: string): string | undefined {
  const now = plannedNow(plan, currentModelHashes());
  if (!now) return undefined; // written by code whose points or settings this code no longer reads: not comparable
  return now.keys.includes(key) ? undefined : changeOf(plan, key, now);
}

/**
 * What changed since the code that stored `plan` under `key` (versionChange), for a point `now` calls stale; where the
 * kind of its student is not known (`now.keysByKind`: the model it trained from gone or changed since, in a plan
 * stored before kinds were kept) and it would be current for some kind, saying so and what tells.
 */
function changeOf(plan: unknown, key: string, now: PlannedNow): string {
  const change = versionChange(plan as Partial<SweepPoint>, now.point);
  const current = [...(now.keysByKind ?? [])].filter(([, keys]) => keys.includes(key)).map(([kind]) => STUDENT_KIND_NAMES[kind]);
  if (current.length === 0) return change;
  return `${change} unless its student was a ${current.join(' or ')} (current then: the model it trained is gone or changed, which would tell; a rerun of its sweep where the model is records it)`;
}

/**
 * A stored plan as the code running now plans it (plannedNow); `keysByKind`: where the kind of student it trains cannot
 * be told (storedStudentKind), the keys a store may hold it under for each kind.
 */
interface PlannedNow {
  point: SweepPoint;
  keys: string[];
  keysByKind?: Map<StudentKind, string[]>;
}

/**
 * A stored plan (by any code) as the code running now plans it (its versions, its key) and the keys a store may hold
 * it under (pointKeys: its key, and its key with the seeds as written); undefined when this code cannot read it.
 * `modelHash` (currentModelHashes) hashes the model a plan stored before student kinds were kept trained from, and a
 * model whose inputs fix its training steps' default length (pointTrainingLength) whose stamps no longer hold.
 */
function plannedNow(plan: unknown, modelHash: (onnx: string) => string | undefined): PlannedNow | undefined {
  registerAllPasses(); // (a report reads a store without parsing a sweep file, which registers them)
  try {
    const p = plan as SweepPoint;
    const trainingLength = pointTrainingLength(p, modelHash);
    const planned = (kind: StudentKind | undefined) => {
      const versions = currentVersions(p.steps, p.seed, pointTokenizerReading(p), kind, trainingLength);
      const point: SweepPoint = { ...p, toolVersion: versions.tool, versions };
      if (kind !== undefined && point.training && point.training.studentKind === undefined) point.training = { ...point.training, studentKind: kind };
      const keys = pointKeys(point);
      point.key = keys[0]!;
      return { point, keys };
    };
    // (the kind of its student as its plan says, else as the model it trained says: a plan stored before kinds were kept)
    const kind = storedStudentKind(p, modelHash);
    const now: PlannedNow = planned(kind);
    if (kind === undefined && Array.isArray(p.training?.steps) && p.training.steps.length > 0)
      now.keysByKind = new Map(STUDENT_KINDS.map((k) => [k, planned(k).keys]));
    return now;
  } catch {
    return undefined;
  }
}

/**
 * The point stored under `key` as `plan` (by any code) as the code running now reads it, planned once for both
 * questions: `{key}`, the key this code gives it, where it is current (`currentKey`); `{change}`, what changed since,
 * where it is stale (`staleChange`); undefined where this code cannot read its plan (not comparable). `modelHash`
 * (currentModelHashes): one for all the points a caller asks about, each model hashed once.
 */
export function storedPointNow(plan: unknown, key: string, modelHash = currentModelHashes()): { key: string } | { change: string } | undefined {
  const now = plannedNow(plan, modelHash);
  if (!now) return undefined;
  return now.keys.includes(key) ? { key: now.point.key } : { change: changeOf(plan, key, now) };
}

/**
 * The key the code running now gives the point stored under `key` as `plan` (by any code) when it is current (not
 * stale: `staleChange`), else undefined. Another key than `key` for a point stored under its seeds as written
 * (key.ts SeedForm), by earlier code, or under another form of the same seeds. `modelHash` as storedPointNow's.
 */
export function currentKey(plan: unknown, key: string, modelHash = currentModelHashes()): string | undefined {
  const now = plannedNow(plan, modelHash);
  return now?.keys.includes(key) ? now.point.key : undefined;
}

/**
 * Gives each of `points` that the store holds under another key the same point had (`currentKey` says it is this
 * point: its seeds written otherwise, by a sweep that wrote them so or by earlier code) that stored key, so the sweep
 * reuses its result and records it as its own, or goes on with it where it is unfinished (a run killed or stopped,
 * its stages and checkpoints in the work folder of that key: `outputDir`; one another sweep runs is waited for; a
 * failed one is retried). A point with a result under its own key keeps it; one without takes a stored result
 * (`finished`, `plans`: the store's points with results and their plans, by key), else an unfinished point
 * (`unfinished`: their plans, by key) unless it has one under its own key; of several, the one under the point's key
 * with its seeds as written, else the newest result. `plans` and `unfinished` are called only when some point lacks a
 * result under its key.
 */
export function adoptStoredKeys(
  points: SweepPoint[],
  finished: readonly StoredPoint[],
  plans: () => ReadonlyMap<string, unknown>,
  unfinished: () => ReadonlyMap<string, unknown>,
  outputDir: (point: SweepPoint, key: string) => string | null,
): void {
  const stored = new Set(finished.map((s) => s.key));
  let missing = points.filter((p) => !stored.has(p.key));
  if (missing.length === 0) return;
  const planned = new Set(points.map((p) => p.key));
  const modelHash = currentModelHashes();
  /** Stored keys (of `keys`, in their order) by the key of their point now, where the two differ. */
  const byCurrentKey = (keys: Iterable<string>, plan: ReadonlyMap<string, unknown>): Map<string, string[]> => {
    const out = new Map<string, string[]>();
    for (const key of keys) {
      if (planned.has(key)) continue;
      const now = currentKey(plan.get(key), key, modelHash);
      if (now === undefined || now === key) continue;
      const same = out.get(now);
      if (same) same.push(key);
      else out.set(now, [key]);
    }
    return out;
  };
  /**
   * Stored keys (of `keys`) by the key of the point of this sweep that a store may hold under them besides its own
   * (pointKeys: a stored plan that does not know its student's kind gives it the key of the shared training version).
   */
  const byPointKeys = (keys: ReadonlySet<string> | ReadonlyMap<string, unknown>): Map<string, string[]> =>
    new Map(
      missing.flatMap((p) => {
        const held = pointKeys(p).filter((k) => k !== p.key && !planned.has(k) && keys.has(k));
        return held.length > 0 ? [[p.key, held] as const] : [];
      }),
    );
  const adopt = (other: Map<string, string[]>) => {
    for (const p of missing) {
      const keys = other.get(p.key);
      if (!keys) continue;
      const written = pointKey(p, 'written');
      const key = keys.includes(written) ? written : keys[keys.length - 1]!;
      p.outputDir = outputDir(p, key);
      p.key = key;
      planned.add(key);
    }
  };
  // (finished in finishing order: the last of several is the newest result)
  adopt(byCurrentKey(stored, plans()));
  missing = missing.filter((p) => !stored.has(p.key));
  if (missing.length > 0) adopt(byPointKeys(stored));
  missing = missing.filter((p) => !stored.has(p.key));
  if (missing.length === 0) return;
  const rows = unfinished();
  missing = missing.filter((p) => !rows.has(p.key));
  if (missing.length === 0) return;
  adopt(byCurrentKey(rows.keys(), rows));
  missing = missing.filter((p) => !rows.has(p.key));
  adopt(byPointKeys(rows));
}

/**
 * A file's sha256 now, memoized by path (each file hashed once however many points read it; keptSha256Sync: not again
 * where this process hashed it as it is, such as a tokenizer file its reading version hashed): null when there is no
 * file there, undefined when there is one this process cannot read (a folder, no permission: it cannot tell).
 */
export function currentHashes(): (file: string) => string | null | undefined {
  const hashes = new Map<string, string | null | undefined>();
  return (file) => {
    if (!hashes.has(file)) {
      let sha256: string | null | undefined;
      try {
        sha256 = keptSha256Sync(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        sha256 = code === 'ENOENT' || code === 'ENOTDIR' ? null : undefined;
      }
      hashes.set(file, sha256);
    }
    return hashes.get(file);
  };
}

/**
 * Why the code running now refuses the tokenizer of a folder (folderTokenizerJson's refusal: an XLM or FlauBERT folder
 * of vocab.json and merges.txt), memoized by folder (each read once however many points read it); undefined where it
 * reads it, or where there is none to read (gone, moved: nothing says a rerun fails).
 */
export function tokenizerRefusals(): (dir: string) => string | undefined {
  const refusals = new Map<string, string | undefined>();
  return (dir) => {
    if (!refusals.has(dir)) {
      let why: string | undefined;
      try {
        folderTokenizerJson(dir);
      } catch (e) {
        if (e instanceof DataError) why = e.message;
      }
      refusals.set(dir, why);
    }
    return refusals.get(dir);
  };
}

/**
 * Why no rerun of its sweep can compute the point stored under `plan` (by any code) again: the code running now refuses
 * a tokenizer folder it reads (plannedTokenizerFolders; `refusal`: tokenizerRefusals, one per report or sweep), in that
 * refusal's words; undefined otherwise. A stale point so refused stays stale: `--rerun-stale` fails at it.
 */
export function refusedInput(plan: unknown, refusal: (dir: string) => string | undefined): string | undefined {
  for (const { dir } of plannedTokenizerFolders(plan)) {
    const why = refusal(dir);
    if (why !== undefined) return why;
  }
  return undefined;
}

/**
 * A point that failed before whose input a rerun refuses again: the refusal, what it fails again with (stored and shown
 * as its error, as a run of it would fail), not the stored error of the run before, which may be another fault (a full
 * disk, an error of the code that ran it).
 */
export interface RefusedAgain {
  refused: string;
  /** The tool version that refused its input files (SweepStore.fail's), stored again with the failure; none for a refusal judged now. */
  refusedBy?: string;
}

/**
 * What a rerun of its sweep does with a point that failed before (`before`: its stored failure), one rule for the sweep
 * (run.ts failedAgain: the points it plans) and its report (the failures a store holds): it fails the point again unrun
 * with the refusal where the code running now refuses its input (refusedInput of `plan`: the point as planned now, or
 * as stored; `refusal`: tokenizerRefusals), or where `before` was a refusal of its input files (a model holding or
 * computing NaN) by the tool version running now (`version`, its refusedBy) and `modelsAsRefused()` says its models are
 * read as that run read them (the sweep: the same key, the same paths; the report: no model changed at its path,
 * changedModels); undefined where a rerun runs it (another point where the files changed, or read elsewhere).
 */
export function refusalAgain(
  before: { error: string; refusedBy?: string | null },
  plan: unknown,
  version: string,
  modelsAsRefused: () => boolean,
  refusal: (dir: string) => string | undefined,
): RefusedAgain | undefined {
  const now = refusedInput(plan, refusal);
  if (now !== undefined) return { refused: now };
  if (before.refusedBy === version && modelsAsRefused()) return { refused: before.error, refusedBy: before.refusedBy };
  return undefined;
}

/**
 * The models the point stored under `plan` read (plannedModels: its model, a distill step's teacher, a student model
 * path) whose files' stamps no longer hold and whose bytes now (`modelHash`: currentModelHashes) are not those the plan
 * hashed; a model gone or that cannot be read is not compared (nothing says it changed: the store read on another
 * machine). dataChange's models, and what refusalAgain's report caller asks of a refused point's models.
 */
export function changedModels(plan: unknown, modelHash: (onnx: string) => string | undefined): PlannedModel[] {
  return plannedModels(plan).filter((m) => {
    if (stampsHold(m.stamps)) return false; // (not written or replaced since it was hashed: not read again)
    const now = modelHash(m.onnx);
    return typeof now === 'string' && now !== m.sha256;
  });
}

/**
 * A model's identity now (modelSha256), memoized by its .onnx path (each model hashed once however many points read
 * it, its files through `hash`); undefined when it cannot be read whole (gone, a missing external data file, no
 * permission): nothing says it changed.
 */
export function currentModelHashes(hash: (file: string) => string | null | undefined = currentHashes()): (onnx: string) => string | undefined {
  const hashes = new Map<string, string | undefined>();
  const known = (file: string): string => {
    const h = hash(file);
    if (typeof h !== 'string') throw new Error(`${file}: cannot be hashed`);
    return h;
  };
  return (onnx) => {
    if (!hashes.has(onnx)) {
      try {
        hashes.set(onnx, modelSha256Sync(onnx, known));
      } catch {
        hashes.set(onnx, undefined);
      }
    }
    return hashes.get(onnx);
  };
}

/**
 * Whether the data the point stored under `plan` (by any code) read changed since, and how: the files its plan names
 * besides its model (plannedDataFiles: GLUE dev and train files, config.json and tokenizer files) hashed again
 * (`hash`: currentHashes) where their stamps (SweepPoint.dataStamps) no longer hold, and the models it read whose files' stamps no longer hold (plannedModels: its model, a
 * distill step's teacher, a student model path) hashed again (`modelHash`: currentModelHashes, one per report), in
 * words ('data changed: /m/model.onnx (model) changed, /glue/SST-2/dev.tsv (SST-2 dev) edited'), or undefined when
 * none did. A sweep run now would read other data, so plan another point (another key) and compute it anew: the
 * stored result is not the current one. A file whose folder is gone (the store read on another machine, the data
 * moved) or that cannot be read is not compared: nothing says it changed.
 */
export function dataChange(
  plan: unknown,
  hash: (file: string) => string | null | undefined,
  modelHash: (onnx: string) => string | undefined = currentModelHashes(hash),
): string | undefined {
  const changes = changedModels(plan, modelHash).map((m) => `${m.onnx} (${m.what}) changed`);
  const stamped = (plan as Partial<SweepPoint> | null)?.dataStamps;
  const holding = new Set((Array.isArray(stamped) ? stamped : []).filter((s) => stampsHold([s])).map((s: FileStamp) => s.file));
  for (const f of plannedDataFiles(plan)) {
    if (f.sha256 !== undefined && holding.has(f.file)) continue; // (not written or replaced since it was hashed)
    const now = hash(f.file);
    if (now === undefined) continue;
    if (f.sha256 === undefined) {
      if (now !== null) changes.push(`${f.file} (${f.what}) added`);
    } else if (now === null) {
      if (existsSync(dirname(f.file))) changes.push(`${f.file} (${f.what}) removed`);
    } else if (now !== f.sha256) changes.push(`${f.file} (${f.what}) edited`);
  }
  return changes.length > 0 ? `data changed: ${changes.join(', ')}` : undefined;
}
