/**
 * Identity of a sweep point: a SHA-256 of canonical JSON (keys sorted) over everything that decides its result
 * (the model file's hash, the pipeline, the tasks, calibration, bench and eval settings, the hashes of the GLUE,
 * config and tokenizer files it reads) and the versions of the
 * code that computes it (bert-compress's, and each pass's and training step's own). Equal points in two sweep files, or in two runs of
 * one file, get the same key, so their results are shared.
 *
 * Graph passes enter the key with their canonical settings (parsed by the pass's schema: defaults applied, so
 * `{ratio: 0.4}` and `{ratio: 0.4, importance: magnitude}` are one point). Without the versions, the same hash is
 * the point's family: a stored point of the same family but another key was computed by other code (stale).
 *
 * Seeds enter the key as each step draws them (SeedForm 'canonical'): a training step's own seed, else the sweep's,
 * else its default (left out), so `seed: 7` in the step and `seed: 7` of the sweep are one point, as are `seed: 1`
 * and none; and a training step's `task` as the task it trains for, so `task: sst2`, `task: SST-2` and none on an
 * SST-2 model are one point. Keys computed before that (SeedForm 'written', seeds and tasks as the sweep file writes
 * them) are the same for a point without seeds or tasks written or with a step's own seed other than the default; a
 * point stored under its written key is that point still (pointKeys: the keys a store may hold it under; stale.ts
 * `currentKey`).
 */
import { createHash } from 'node:crypto';
import { getPass } from '../pass/registry.ts';
import { isTrainingStep, TRAINING_WORD_KEYS } from './train-step.ts';
import type { PointTrainingStep, SweepPoint } from './plan.ts';
import { toolVersion } from '../version.ts';
import { settingText } from '../pass/settings.ts';
import { DEFAULT_TRAIN_SETTINGS } from '../train/trainer.ts';
import { DEFAULT_DISTILL_SETTINGS } from '../train/run.ts';
import { canonicalStudentSpec, studentSpecKind } from '../train/students/index.ts';
import { SHARED_TRAINING_VERSION, trainingVersion, type StudentKind } from '../train/versions.ts';

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, (v as Record<string, unknown>)[k]]),
      );
    }
    return v;
  });
}

/** The hex SHA-256 of `value`'s canonical JSON. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** bert-compress's version, from package.json. */
export { toolVersion };

/** The versions of the code that computes a point: bert-compress's, and each step's of its pipeline. */
export interface PointVersions {
  tool: string;
  /** By step name: each graph pass's, and a train or distill step's (TRAINING_VERSIONS, for the kind of model it trains). */
  passes: Record<string, number>;
  /**
   * The reading version of the tokenizers the point reads (src/eval/tokenizer-reading.ts: the highest of its model's, a
   * distill step's teacher's, a student model's), absent for 1 (tokenizers no change touched, and points stored before).
   */
  tokenizer?: number;
  /**
   * The version of the default length the point's train and distill steps train at (TRAINING_LENGTH_READINGS,
   * src/train/versions.ts: the highest that touched one of its steps, plan.ts `pointTrainingLength`), absent for 1
   * (steps no change of that default touched, and points stored before).
   */
  trainingLength?: number;
}

/**
 * The versions the code running now gives a pipeline drawing from the sweep's seed `seed`: each pass's key version of
 * its settings (PassDeclaration.keyVersion; the highest where the pass runs twice), its version where its settings no
 * longer parse; a train or distill step's version for the kind of model it trains (`student`: pointStudentKind), its
 * code's where that is not known (trainingVersion); `tokenizer`, the reading version of the point's tokenizers
 * (plan.ts `pointTokenizerReading`), kept where it is not 1; `trainingLength`, the version of its training steps'
 * default length (plan.ts `pointTrainingLength`), kept where it is not 1.
 */
export function currentVersions(
  steps: SweepPoint['steps'],
  seed: number | undefined,
  tokenizer = UNRECORDED_TOKENIZER_READING,
  student?: StudentKind,
  trainingLength = UNRECORDED_TRAINING_LENGTH,
): PointVersions {
  const passes: Record<string, number> = {};
  for (const s of steps) {
    if (isTrainingStep(s.pass)) {
      passes[s.pass] = trainingVersion(s.pass, student);
      continue;
    }
    const pass = getPass(s.pass);
    let v: number;
    try {
      v = pass.keyVersion(pass.check(s.settings), seed);
    } catch {
      v = pass.version;
    }
    passes[s.pass] = Math.max(passes[s.pass] ?? 0, v);
  }
  return {
    tool: toolVersion(),
    passes,
    ...(tokenizer !== UNRECORDED_TOKENIZER_READING ? { tokenizer } : {}),
    ...(trainingLength !== UNRECORDED_TRAINING_LENGTH ? { trainingLength } : {}),
  };
}

/**
 * Training settings that read the same written out as their default or left out (the training library's defaults),
 * so that a step gives one key either way. Not `seed` (a step without one trains with the sweep's: SeedForm), nor
 * threads and checkpointEvery (left out of the key), nor `stage` (not a sweep setting).
 */
const TRAINING_DEFAULTS: Readonly<Record<string, unknown>> = (() => {
  const { seed: _s, threads: _t, checkpointEvery: _c, ...train } = DEFAULT_TRAIN_SETTINGS;
  const { stage: _stage, ...distill } = DEFAULT_DISTILL_SETTINGS;
  return { ...train, ...distill };
})();

/**
 * A train / distill step's settings as the key sees them: model paths replaced by the files' hashes (moving a
 * teacher keeps the key, changing it does not), without threads and checkpointEvery (the key names the recipe: the
 * thread count changes a trained model's bytes only where onnxruntime rounds a matrix product otherwise with it,
 * test/runtime/matmul-threads.test.ts, and a store keeps the bytes of the run that made each point), words as the
 * step reads them and defaults left out (TRAINING_DEFAULTS), a teacher that is the point's own model (`model`: its
 * sha256) among them: the default teacher; so too a student that is (a student is only a pipeline's first step's,
 * which trains the model itself without one).
 */
function trainingKeySettings(settings: Record<string, unknown>, t: PointTrainingStep, model: string): Record<string, unknown> {
  const { threads: _t, checkpointEvery: _c, ...given } = settings;
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(given)) {
    const value = TRAINING_WORD_KEYS.includes(k) ? settingText(v) : v;
    if (!(Object.hasOwn(TRAINING_DEFAULTS, k) && TRAINING_DEFAULTS[k] === value)) rest[k] = value;
  }
  if (rest.student !== undefined && t.studentSha256 === model) delete rest.student;
  else if (rest.student !== undefined && t.studentSha256 !== undefined) rest.student = `sha256:${t.studentSha256}`;
  else if (typeof rest.student === 'string') rest.student = canonicalStudentSpec(rest.student);
  if (rest.teacher !== undefined && t.teacherSha256 === model) delete rest.teacher;
  else if (rest.teacher !== undefined && t.teacherSha256 !== undefined) rest.teacher = `sha256:${t.teacherSha256}`;
  return rest;
}

/**
 * How a point's identity holds the seeds its steps draw from: 'canonical', the seed each step draws with in its own
 * settings (a training step's `seed`, else the sweep's, else the trainer's default, left out as other defaults are;
 * a graph pass's by PassDeclaration.seeded), the sweep's seed itself never; 'written', as earlier code computed
 * keys: a step's own seed in its settings as written, the sweep's where a step without one draws from it. So too a
 * training step's `task`: 'canonical' leaves it out of the step's settings (the task it trains for, resolved, is in
 * the identity's `training`), 'written' keeps it as written.
 */
export type SeedForm = 'canonical' | 'written';

/** A training step's settings without `task`, as written (`sst2`, or the model's one task written out). */
function withoutTask(settings: Record<string, unknown>): Record<string, unknown> {
  const { task: _task, ...rest } = settings;
  return rest;
}

/** A training step's settings with the seed it trains with written as its own (its default left out): SeedForm 'canonical'. */
function trainingSeed(settings: Record<string, unknown>, sweepSeed: number | undefined): Record<string, unknown> {
  const { seed: own, ...rest } = settings;
  const seed = own ?? sweepSeed ?? DEFAULT_TRAIN_SETTINGS.seed;
  return seed === DEFAULT_TRAIN_SETTINGS.seed ? rest : { ...rest, seed };
}

/**
 * What decides a point's result, without the code's versions, with its seeds in `form` (SeedForm). Computed from the
 * point alone (a point read back from a store, written by older code, included), so throws when its steps no longer
 * parse.
 */
export function pointIdentity(p: SweepPoint, form: SeedForm = 'canonical'): Record<string, unknown> {
  const training = new Map<number, PointTrainingStep>((p.training?.steps ?? []).map((t) => [t.index, t]));
  let measures = false;
  let seeded = false; // (written: whether a step draws from the sweep's seed: a training step without its own, a pass that says so)
  const steps = p.steps.map((s, i) => {
    const t = training.get(i);
    if (t) {
      seeded ||= s.settings.seed === undefined;
      // (canonical: without the step's `task` as written, whose task, resolved, is the point's `training`)
      const settings = form === 'canonical' ? trainingSeed(withoutTask(s.settings), p.seed) : s.settings;
      return { pass: s.pass, settings: trainingKeySettings(settings, t, p.model.sha256) };
    }
    const pass = getPass(s.pass);
    const settings = pass.check(s.settings);
    measures ||= pass.needsCalibration(settings);
    seeded ||= pass.readsSeed(settings);
    return { pass: s.pass, settings: form === 'canonical' ? pass.seeded(settings, p.seed) : settings };
  });
  return {
    model: p.model.sha256,
    // An hf: model's commit (absent for local paths, so keys stored before hf: references existed still match).
    ...(p.model.source ? { source: p.model.source } : {}),
    steps,
    tasks: p.tasks,
    // Calibration data changes a result only through a pass that measures the model.
    calibration: measures ? p.calibration : null,
    // The data files' hashes (null in a point planned before they were: its key, computed again, is not the stored one)
    data: p.data ?? null,
    bench: p.bench,
    // (without threads, which change no score: a point's eval takes the machine's threads when the file names none)
    eval: evalKey(p.eval),
    // Written: the sweep's seed where a step draws from it. Canonical: in those steps' settings (null kept, so that a
    // point whose seeds read the same either way keeps its key).
    seed: form === 'written' && seeded ? (p.seed ?? null) : null,
    ...(p.training
      ? {
          training: p.training.steps.map((t) => ({
            step: t.index,
            task: t.task,
            teacher: t.teacherSha256 ?? null,
            student: studentIdentity(t, p.model.sha256),
            data: t.data.sha256,
          })),
        }
      : {}),
  };
}

/**
 * A training step's student in a point's identity: its model's sha256, its spec, or null for none or a model that is
 * the point's own (`model`: its sha256), the default, as trainingKeySettings reads it.
 */
function studentIdentity(t: PointTrainingStep, model: string): string | null {
  if (t.studentSha256 !== undefined) return t.studentSha256 === model ? null : t.studentSha256;
  return t.student !== undefined ? canonicalStudentSpec(t.student) : null;
}

/** A point's eval settings in its key: batchSize and maxLength, not threads (onnxruntime's scores do not depend on them). */
function evalKey(e: SweepPoint['eval']): SweepPoint['eval'] {
  const { threads: _threads, ...rest } = e ?? {};
  return rest;
}

/**
 * A training step's version where a point's versions name none: points stored before training steps had versions
 * were trained by their version 1 (TRAINING_VERSIONS: every kind's).
 */
const UNRECORDED_TRAINING_VERSION = 1;

/** The tokenizer reading version where a point's versions name none (tokenizer-reading.ts): tokenizers read so since before versions. */
const UNRECORDED_TOKENIZER_READING = 1;

/** The training length version where a point's versions name none (TRAINING_LENGTH_READINGS): steps trained at that default since before versions. */
const UNRECORDED_TRAINING_LENGTH = 1;

/**
 * Versions as a point's key holds them: without a train or distill step's version 1 (UNRECORDED_TRAINING_VERSION),
 * a tokenizer reading version 1 nor a training length version 1, so that a point trained by version 1 of tokenizers no
 * reading change touched, at a default length no change touched, has the key it had before steps, tokenizer readings
 * and training lengths had versions.
 */
function keyedVersions(v: PointVersions | undefined): PointVersions | undefined {
  if (v === undefined) return undefined;
  const passes = Object.fromEntries(Object.entries(v.passes).filter(([name, n]) => !(isTrainingStep(name) && n === UNRECORDED_TRAINING_VERSION)));
  const { tokenizer, trainingLength, ...rest } = v;
  return {
    ...rest,
    passes,
    ...(tokenizer !== undefined && tokenizer !== UNRECORDED_TOKENIZER_READING ? { tokenizer } : {}),
    ...(trainingLength !== undefined && trainingLength !== UNRECORDED_TRAINING_LENGTH ? { trainingLength } : {}),
  };
}

/** A point's key: its identity and the versions it was (or is to be) computed with. */
export function pointKey(p: SweepPoint, form: SeedForm = 'canonical'): string {
  return hashOf({ identity: pointIdentity(p, form), versions: keyedVersions(p.versions) });
}

/** Whether two points' versions key them alike (a training step's version 1 written or not). */
export function sameVersions(a: PointVersions | undefined, b: PointVersions | undefined): boolean {
  return canonicalJson(keyedVersions(a) ?? null) === canonicalJson(keyedVersions(b) ?? null);
}

/**
 * The keys a store may hold `p` under: its key, then its key with the seeds as written (SeedForm 'written', as earlier
 * code computed it) where that differs; then both with its training steps' versions as code that gave every kind of
 * student one version keyed them (SHARED_TRAINING_VERSION), where its student's kind is known and its steps' versions
 * for it are no higher (trained since as that code trained them); then each of those with its passes' settings as
 * earlier code made them canonical, where it made them otherwise (earlierSteps).
 */
export function pointKeys(p: SweepPoint): string[] {
  const forms = [p];
  const shared = sharedVersions(p);
  if (shared) forms.push({ ...p, versions: shared });
  const earlier = earlierSteps(p);
  if (earlier) forms.push(...forms.map((q) => ({ ...q, steps: earlier })));
  return [...new Set(forms.flatMap((q) => [pointKey(q), pointKey(q, 'written')]))];
}

/**
 * `p`'s steps with each graph pass's settings as earlier code made them canonical where it made them otherwise
 * (PassDeclaration.earlierSettings: quantize's mixed:1.1%, named mixed:0.011000000000000001); undefined where none did.
 */
function earlierSteps(p: SweepPoint): SweepPoint['steps'] | undefined {
  let earlier = false;
  const steps = p.steps.map((s) => {
    if (isTrainingStep(s.pass)) return s;
    let settings: Record<string, unknown> | undefined;
    try {
      const pass = getPass(s.pass);
      settings = pass.earlierSettings(pass.check(s.settings));
    } catch {
      return s; // (settings this code does not read: pointIdentity's to refuse)
    }
    if (settings === undefined) return s;
    earlier = true;
    return { ...s, settings };
  });
  return earlier ? steps : undefined;
}

/**
 * `p`'s versions as the code of SHARED_TRAINING_VERSION gave them (each training step that version), where `p` is of
 * a known kind of student whose steps' versions are no higher and one of them is lower; undefined otherwise.
 */
function sharedVersions(p: SweepPoint): PointVersions | undefined {
  if (p.versions === undefined || pointStudentKind(p) === undefined) return undefined;
  const training = Object.entries(p.versions.passes).filter(([name]) => isTrainingStep(name));
  if (training.length === 0 || training.some(([, v]) => v > SHARED_TRAINING_VERSION) || training.every(([, v]) => v === SHARED_TRAINING_VERSION))
    return undefined;
  return { ...p.versions, passes: { ...p.versions.passes, ...Object.fromEntries(training.map(([name]) => [name, SHARED_TRAINING_VERSION])) } };
}

/**
 * The kind of model `p`'s training steps train (the key's training versions are that kind's): as its plan recorded it
 * (PointTraining.studentKind), else as its first step's student spec says (a plan stored before kinds were kept: a
 * bilstm:… spec, or every-other or bert:…); undefined where neither says (a student model given by path, or the model
 * so far, in such a plan), or for a point that does not train.
 */
export function pointStudentKind(p: Pick<SweepPoint, 'training'>): StudentKind | undefined {
  const training = p.training;
  if (!training || !Array.isArray(training.steps)) return undefined;
  if (training.studentKind === 'bert' || training.studentKind === 'bilstm') return training.studentKind;
  const first = [...training.steps].sort((a, b) => a.index - b.index)[0];
  return first?.student !== undefined && first.studentSha256 === undefined ? studentSpecKind(first.student) : undefined;
}

/**
 * A point's family: the hash of its identity without the data files' hashes, equal for points that differ only by the
 * code's versions (or by those hashes, which a point planned before they were lacks: findStale tells data apart).
 */
export function pointFamily(p: SweepPoint): string {
  const { data: _data, ...identity } = pointIdentity(p);
  return hashOf(identity);
}

/**
 * `p`'s family (pointFamily), then that of its passes' settings as earlier code made them canonical where it made
 * them otherwise (earlierSteps, as pointKeys gives their keys): the families its stale results may be stored under.
 */
export function pointFamilies(p: SweepPoint): string[] {
  const earlier = earlierSteps(p);
  return earlier ? [pointFamily(p), pointFamily({ ...p, steps: earlier })] : [pointFamily(p)];
}

/** -1, 0 or 1 as bert-compress version `a` is older than, the same as or newer than `b` (semver order); NaN where it cannot tell. */
function compareToolVersions(a: string, b: string): number {
  if (a === b) return 0;
  const parse = (v: string) => /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(v);
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return Number.NaN;
  for (const k of [1, 2, 3]) if (Number(x[k]) !== Number(y[k])) return Math.sign(Number(x[k]) - Number(y[k]));
  if (x[4] === y[4]) return 0;
  // (a pre-release is older than its release; two pre-releases: not told apart here)
  return x[4] === undefined ? 1 : y[4] === undefined ? -1 : Number.NaN;
}

/**
 * Whether the code that keyed `was` is older or newer than the code that keyed `now`: 'older' where every version that
 * differs (bert-compress's, a step's, the tokenizers' reading, the training length's) is lower in `was` (a step `now` does not have: higher),
 * 'newer' where every one is higher, 'same' where none differs, 'mixed' otherwise (another branch, a pre-release).
 */
export function codeAge(was: PointVersions, now: PointVersions): 'older' | 'newer' | 'same' | 'mixed' {
  const signs = new Set<number>();
  signs.add(compareToolVersions(was.tool, now.tool));
  const training = (pass: string) => (isTrainingStep(pass) ? UNRECORDED_TRAINING_VERSION : undefined);
  for (const pass of new Set([...Object.keys(was.passes), ...Object.keys(now.passes)])) {
    const a = was.passes[pass] ?? training(pass);
    const b = now.passes[pass] ?? training(pass);
    signs.add(a === undefined ? -1 : b === undefined ? 1 : Math.sign(a - b));
  }
  signs.add(Math.sign((was.tokenizer ?? UNRECORDED_TOKENIZER_READING) - (now.tokenizer ?? UNRECORDED_TOKENIZER_READING)));
  signs.add(Math.sign((was.trainingLength ?? UNRECORDED_TRAINING_LENGTH) - (now.trainingLength ?? UNRECORDED_TRAINING_LENGTH)));
  signs.delete(0);
  if (signs.size === 0) return 'same';
  if (signs.size > 1 || signs.has(Number.NaN)) return 'mixed';
  return signs.has(-1) ? 'older' : 'newer';
}

/** What changed between the code that computed `old` and the code of `now`: 'bert-compress 0.1.0 → 0.2.0, prune-heads v1 → v2'. */
export function versionChange(old: Partial<SweepPoint>, now: SweepPoint): string {
  const was = old.versions ?? { tool: old.toolVersion ?? 'unknown', passes: {} };
  const changes: string[] = [];
  if (was.tool !== now.versions.tool) changes.push(`bert-compress ${was.tool} → ${now.versions.tool}`);
  for (const [pass, v] of Object.entries(now.versions.passes)) {
    const before = was.passes[pass] ?? (isTrainingStep(pass) ? UNRECORDED_TRAINING_VERSION : undefined);
    if (before !== v) changes.push(`${pass} ${before === undefined ? 'unversioned' : `v${before}`} → v${v}`);
  }
  // (a step the code of `now` does not have: a queue worker older than its coordinator)
  for (const [pass, v] of Object.entries(was.passes)) if (!(pass in now.versions.passes)) changes.push(`${pass} v${v} → not in this code`);
  const tokenizerWas = was.tokenizer ?? UNRECORDED_TOKENIZER_READING;
  const tokenizerNow = now.versions.tokenizer ?? UNRECORDED_TOKENIZER_READING;
  if (tokenizerWas !== tokenizerNow) changes.push(`tokenizer reading v${tokenizerWas} → v${tokenizerNow}`);
  const lengthWas = was.trainingLength ?? UNRECORDED_TRAINING_LENGTH;
  const lengthNow = now.versions.trainingLength ?? UNRECORDED_TRAINING_LENGTH;
  if (lengthWas !== lengthNow) changes.push(`training length v${lengthWas} → v${lengthNow}`);
  if (changes.length) return changes.join(', ');
  if (old.versions === undefined) return `a key without versions (bert-compress ${was.tool})`;
  return old.data === undefined ? 'a key without the hashes of its GLUE data, config and tokenizer files' : 'an earlier key format';
}
