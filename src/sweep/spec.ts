/**
 * The sweep file (YAML): which models, which pass pipelines, which GLUE tasks, calibration and bench shapes.
 * `parseSweepFile` validates it completely before any work starts; every fault is a one-line SettingsError that
 * names the file and the field, e.g. `poster.yaml: pipelines[2].steps[0].pass: expected one of …, got string "quantise"`.
 *
 * ```yaml
 * name: poster                         # names the sweep in the store (default: the file name)
 * glueDir: ../glue                     # optional; default --glue-dir, $GLUE_DIR, ../shared/glue
 * models:                              # paths are relative to this file; hf:org/name[@revision] from the hub
 *   - path: ../../shared/teachers/sst2-L4H256
 *     tasks: [SST-2]                   # a teacher is trained for one task
 *     calibration: {task: SST-2, examples: 32}   # optional, overrides the top-level one
 * calibration: {examples: 64}          # task defaults to the model's first task, examples to 512 (as --calibration-examples); `calibration: false` for none
 * pipelines:
 *   - baseline                         # no passes (added for every model when absent)
 *   - name: heads-40                   # a list pipeline: steps run in order, settings as given (each pass's
 *     steps:                           #   settings, types and defaults: `compress passes`; unknown keys refused)
 *       - {pass: prune-heads, settings: {ratio: 0.4}}
 *   - name: heads-{ratio}              # a grid: every setting given as a list is expanded (all combinations);
 *     grid:                            #   {key} in the name is replaced by the point's value
 *       - {pass: prune-heads, settings: {ratio: [0.2, 0.4, 0.6]}}
 *   - name: ffn50+kd                   # train / distill steps (train-step.ts): the model so far is trained, with
 *     steps:                           #   the point's input model as teacher unless `teacher` names one
 *       - {pass: prune-ffn, settings: {ratio: 0.5}}
 *       - {pass: distill, settings: {epochs: 1, maxExamples: 20000, alpha: 0.5, temperature: 2}}
 *   - name: tiny-kd
 *     models: [sst2-L2H256]            # optional: only these models (by name) get this pipeline
 *     steps:
 *       - {pass: distill, settings: {student: 'bert:layers=1,hidden=128', teacher: ../teachers/sst2-L2H256}}
 * bench: {batch: [1, 8], seq: [64], repeats: 10, warmup: 2, threads: 1}   # seq defaults to max_length
 *                                    # optional maxTime: 30 (seconds, as compress bench --max-time): each shape's
 *                                    #   timed runs stop once its share of the 30 s is spent (fewer than repeats)
 * eval: {batchSize: 32}                # optional: batchSize, maxLength, threads, exactInt8 (int8 points scored as
 *                                    #   VNNI CPUs score them, on any CPU: compress eval --exact-int8)
 * keepModels: false                    # delete compressed .onnx files once measured (lineage kept)
 * seed: 1
 * x-kd: &kd {epochs: 1, alpha: 0.5}    # top-level keys starting with x- are ignored: they hold anchors (`<<: *kd`)
 * ```
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { parseYamlText } from '../files.ts';
import { SettingsError, UserError, choiceProblem, errorLine, errorMessage, integerProblem, numberProblem, quotedText, valueAndKind } from '../errors.ts';
import { BENCH_RANGES, MAX_TIME_RANGE } from '../bench/run.ts';
import { MAX_LENGTH_RANGE } from '../eval/graph-checks.ts';
import { isHubRef, parseHubRef } from '../hub/index.ts';
import { locateModel } from '../onnx/locate.ts';
import { lookupTasks } from '../glue/registry.ts';
import { DEFAULT_CALIBRATION_EXAMPLES, calibrationTask } from '../eval/calibration.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import { stepName, type PassStep } from '../pass/pass.ts';
import { getPass, passNames } from '../pass/registry.ts';
import { fileSettingsProblem } from '../pass/settings.ts';
import { POOL_THREADS_RANGE } from '../runtime/threads.ts';
import { registerAllPasses } from '../passes.ts';
import { modeName, parseMode, type QuantizeMode } from '../quantize/settings.ts';
import { BASELINE, autoLabel, expandPipeline, labelValue } from './expand.ts';
import {
  StepSettingError,
  TRAINING_STEPS,
  gridListHint,
  isTrainingStep,
  oneTrainingTask,
  parseTrainingStep,
  settingKeys,
  untrainableBefore,
  type TrainingStepSpec,
} from './train-step.ts';
import { DEFAULT_DISTILL_SETTINGS, checkTaskSettings } from '../train/run.ts';
import { sweepFilePath } from './file-path.ts';

export interface CalibrationSpec {
  /** GLUE task whose train split calibrates (default: the model's first task). */
  task: string;
  examples: number;
}

export interface ModelSpec {
  /** Display name (default: the folder or file name). */
  name: string;
  /** Absolute path of the .onnx file or model folder, or an `hf:org/name[@revision]` reference (resolved by the plan). */
  path: string;
  /** Canonical GLUE task names (MNLI expands to MNLI-m and MNLI-mm). */
  tasks: string[];
  /** Calibration for passes that measure the model; null for none. */
  calibration: CalibrationSpec | null;
}

export interface PipelineSpec {
  /** Unique label, used in the store, the table and the charts. */
  label: string;
  /** Empty for the baseline. */
  steps: PassStep[];
  /** The grid values of this pipeline (empty for a list pipeline), by axis name. */
  values: Record<string, unknown>;
  /** Set when a step trains: per step, its validated train/distill settings (null for a graph pass). */
  training?: Array<TrainingStepSpec | null>;
  /** Set when the pipeline is only for some models: their names. */
  models?: string[];
}

export interface BenchSpec {
  batch: number[];
  /** Sequence lengths; null: each model's max_length from config.json (else 128, capped at its tokenizer's model_max_length). */
  seq: number[] | null;
  repeats: number;
  warmup: number;
  /** onnxruntime threads; 0: the runner's share, one per physical core divided among the points run at once (POOL_THREADS_RANGE). */
  threads: number;
  /**
   * A time budget in seconds per benchmark (`compress bench --max-time`, BenchOptions.maxSeconds): each shape's timed
   * runs stop once its share is spent, so fewer than `repeats` may be taken. Absent without one (and from the point
   * keys of sweeps that give none).
   */
  maxTime?: number;
}

export interface EvalSpec {
  batchSize?: number;
  maxLength?: number;
  /** onnxruntime threads of eval (and train / distill steps setting none); 0, as unset: bench.threads 0's share. */
  threads?: number;
  /**
   * Score int8 models as CPUs with AVX-512 VNNI / AVX-VNNI do, on any CPU (evaluate's exactInt8); only `true` is
   * kept (false is the default), and a point keeps it only where it can change its scores (plan.ts pointEval), so
   * that it changes the keys of those points alone.
   */
  exactInt8?: true;
}

export interface SweepSpec {
  /** Absolute path of the sweep file. */
  file: string;
  /** The sweep file's path as given (the command line's), which every refusal and warning of the file names. */
  display: string;
  name: string;
  /** Absolute GLUE folder, when the file names one. */
  glueDir?: string;
  models: ModelSpec[];
  pipelines: PipelineSpec[];
  bench: BenchSpec;
  eval: EvalSpec;
  keepModels: boolean;
  seed?: number;
}

export { BASELINE };
const DEFAULT_BENCH: BenchSpec = { batch: [1, 8], seq: null, repeats: 10, warmup: 2, threads: 0 };

/** Reads and validates a sweep file. */
export function parseSweepFile(file: string): SweepSpec {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new SettingsError(`${file}: a folder, not a sweep file (give the sweep's YAML file)`);
    throw new SettingsError(`${file}: cannot read the sweep file: ${code === 'ENOENT' ? 'no such file' : errorMessage(e)}`);
  }
  let raw: unknown;
  try {
    raw = parseYamlText(text, { merge: true }); // `<<: *anchor` merge keys, to share settings between steps
  } catch (e) {
    throw new SettingsError(`${file}: ${errorLine(e)}`); // (parseYamlText's line: 'not valid YAML: …' only where it is not)
  }
  return parseSweep(raw, abs, file);
}

/** Top-level keys that start with this are ignored (docker-compose's extension fields): they hold YAML anchors. */
const EXTENSION_PREFIX = 'x-';

/** A control character (C0, DEL, C1) or Unicode's line and paragraph separators: what a name on one line cannot hold. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** The characters of CONTROL that break a line (LF, VT, FF, CR, NEL, LS, PS). */
const LINE_BREAKS = '\n\v\f\r\u0085\u2028\u2029';

/** Validates a parsed sweep document; `display` names the file in messages, paths resolve against `file`'s folder. */
export function parseSweep(raw: unknown, file: string, display = file): SweepSpec {
  const f = new Fields(display);
  const doc = f.object(raw, '(top level)');
  // `x-…` keys are ignored: they hold YAML anchors (`x-defaults: &d …`, then `<<: *d`), as in docker-compose files
  f.known(
    Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith(EXTENSION_PREFIX))),
    '',
    ['name', 'glueDir', 'models', 'pipelines', 'calibration', 'bench', 'eval', 'keepModels', 'seed'],
    `; top-level keys starting with ${quotedText(EXTENSION_PREFIX)} are ignored, to hold YAML anchors`,
  );
  const base = dirname(file);
  const calibration = parseCalibration(f, doc.calibration, 'calibration', { examples: DEFAULT_CALIBRATION_EXAMPLES });
  const models = f.list(doc.models, 'models').map((m, i) => parseModel(f, m, `models[${i}]`, base, calibration));
  f.unique(
    models.map((m) => m.name),
    (i) => `models[${i}].name`,
    'model name',
  );
  const spec: SweepSpec = {
    file,
    display,
    name:
      doc.name === undefined
        ? f.unspaced(f.oneLine(basename(file, extname(file)), 'name', 'the file name'), 'name', 'the file name')
        : f.unspaced(f.oneLine(f.string(doc.name, 'name'), 'name'), 'name'),
    models,
    pipelines: parsePipelines(f, doc.pipelines, base, models),
    bench: parseBench(f, doc.bench),
    eval: parseEval(f, doc.eval),
    keepModels: doc.keepModels === undefined ? true : f.boolean(doc.keepModels, 'keepModels'),
  };
  if (doc.glueDir !== undefined) spec.glueDir = sweepFilePath(base, f.string(doc.glueDir, 'glueDir'));
  if (doc.seed !== undefined) spec.seed = f.int(doc.seed, 'seed', 0);
  // (a pass step drawing from the sweep's seed takes it as its own: one it refuses, as random importance refuses a
  // seed of 2^32 or more, refuses the file, where every point of the pipeline failed when it ran)
  if (spec.seed !== undefined) {
    for (const pipeline of spec.pipelines) {
      pipeline.steps.forEach((step, i) => {
        if (pipeline.training?.[i]) return;
        const pass = getPass(step.pass);
        const settings = pass.check(step.settings);
        // (in a file's words, as the step's own seed: 'seed: expected an integer from 0 to 4294967295, got number …')
        const found = pass.readsSeed(settings) ? fileSettingsProblem(pass, pass.seeded(settings, spec.seed)) : undefined;
        if (found) f.fail('seed', `${found.problem} (pipeline ${quotedText(pipeline.label)}, ${stepName(i, step.pass)} draws its seed from it)`);
      });
    }
  }
  return spec;
}

function parseModel(f: Fields, raw: unknown, at: string, base: string, calibration: Partial<CalibrationSpec> | null): ModelSpec {
  const m = typeof raw === 'string' ? { path: raw } : f.object(raw, at);
  f.known(m, at, ['path', 'name', 'tasks', 'calibration']);
  // (where the file wrote the path alone, `models: [teacher]`, its faults are placed at the item, models[0], not at a
  // `path` key the file does not hold)
  const pathAt = typeof raw === 'string' ? at : `${at}.path`;
  const given = f.string(m.path, pathAt);
  // An hf:org/name[@revision] reference stays as written; the plan downloads it (and records its commit).
  const path = isHubRef(given) ? f.attempt(pathAt, () => parseHubRef(given)).text : sweepFilePath(base, given);
  if (!isHubRef(path)) f.attempt(pathAt, () => locateModel(path));
  // (a model written as its path alone names no tasks, which every model needs: said in the form the file gave it)
  if (typeof raw === 'string') {
    f.fail(at, `a path alone (${valueAndKind(raw, 'file')}) names no GLUE tasks: write {path: …, tasks: [SST-2]}, with the tasks its points are scored on`);
  }
  const tasks = f
    .list(m.tasks, `${at}.tasks`)
    .flatMap((t, i) => f.attempt(`${at}.tasks[${i}]`, () => lookupTasks(f.string(t, `${at}.tasks[${i}]`)).map(sweptTask)));
  const own = m.calibration === undefined ? calibration : parseCalibration(f, m.calibration, `${at}.calibration`, calibration ?? {});
  const spec: ModelSpec = {
    name:
      m.name === undefined
        ? f.unspaced(f.oneLine(defaultModelName(path), pathAt, 'its path'), pathAt, 'its path')
        : f.unspaced(f.oneLine(f.string(m.name, `${at}.name`), `${at}.name`), `${at}.name`),
    path,
    tasks: [...new Set(tasks)],
    calibration: own ? { task: own.task ?? tasks[0]!, examples: own.examples ?? DEFAULT_CALIBRATION_EXAMPLES } : null,
  };
  // (a task given is checked in parseCalibration, where it is written; one defaulted to the model's first task is checked here)
  if (spec.calibration && own?.task === undefined) {
    spec.calibration.task = f.attempt(`${at}.tasks[0]`, () => calibrationTask(spec.calibration!.task).name);
  }
  return spec;
}

/** A model's task in a sweep, which scores every point on dev: AX (test only) is refused here, where the file names it. */
function sweptTask(task: TaskDefinition): string {
  if (!task.splits.dev) {
    throw new SettingsError(
      `task ${task.name} has no dev split (it has: ${Object.keys(task.splits).join(', ')}); a sweep scores its points on dev (predict ${task.name} with compress eval --split test --submission DIR)`,
    );
  }
  return task.name;
}

/** The repo name (with its revision) of an hf: reference; the folder name for a model folder or a `model.onnx` file, else the file name without `.onnx`. */
function defaultModelName(path: string): string {
  if (isHubRef(path)) {
    const ref = parseHubRef(path);
    return ref.repo.split('/').pop()! + (path.includes('@') ? `@${ref.revision}` : '');
  }
  const name = basename(path, '.onnx');
  return name === 'model' ? basename(dirname(path)) : name;
}

function parseCalibration(f: Fields, raw: unknown, at: string, inherited: Partial<CalibrationSpec>): Partial<CalibrationSpec> | null {
  if (raw === undefined) return inherited;
  if (raw === false || raw === null) return null;
  const c = f.object(raw, at);
  f.known(c, at, ['task', 'examples']);
  const out: Partial<CalibrationSpec> = { ...inherited };
  // (read as --calibrate reads it, where it is written: one task with a train split, so not MNLI, which names two)
  if (c.task !== undefined) {
    const task = f.string(c.task, `${at}.task`);
    out.task = f.attempt(`${at}.task`, () => calibrationTask(task).name);
  }
  if (c.examples !== undefined) out.examples = f.int(c.examples, `${at}.examples`, 1);
  return out;
}

function parsePipelines(f: Fields, raw: unknown, base: string, models: readonly ModelSpec[]): PipelineSpec[] {
  registerAllPasses();
  const out: PipelineSpec[] = [];
  // (each pipeline's place in the file, by out's index: where a label clash is refused; the baseline the sweep adds has none)
  const places: Array<{ at: string; named: boolean } | undefined> = [];
  f.list(raw, 'pipelines').forEach((p, i) => {
    const at = `pipelines[${i}]`;
    if (p === BASELINE) {
      out.push({ label: BASELINE, steps: [], values: {} });
      places.push({ at, named: false });
      return;
    }
    const o = f.object(p, at, `a pipeline ({name, steps} or {name, grid}) or ${quotedText(BASELINE)}`);
    f.known(o, at, ['name', 'steps', 'grid', 'models']);
    if ((o.steps === undefined) === (o.grid === undefined)) f.fail(at, "give either 'steps' (a list pipeline) or 'grid' (expanded)");
    const kind = o.steps !== undefined ? 'steps' : 'grid';
    const steps = f.list(o[kind], `${at}.${kind}`).map((s, j) => parseStep(f, s, `${at}.${kind}[${j}]`));
    const name = o.name === undefined ? undefined : f.unspaced(f.string(o.name, `${at}.name`), `${at}.name`);
    const only = o.models === undefined ? undefined : parsePipelineModels(f, o.models, `${at}.models`, models);
    if (kind === 'grid') checkGridValues(f, steps, at);
    checkLabelValues(f, steps, `${at}.${kind}`, kind === 'grid', name !== undefined);
    const expanded: PipelineSpec[] =
      kind === 'steps' ? [{ label: name ?? autoLabel(steps), steps, values: {} }] : f.attempt(at, () => expandPipeline(steps, name));
    for (const [k, pipeline] of expanded.entries()) {
      if (name !== undefined) f.oneLine(pipeline.label, `${at}.name`);
      else f.oneLine(pipeline.label, `${at}.${kind}`, 'its settings');
      const grid = expanded.length > 1 ? ` (grid point ${k + 1}: ${pipeline.label})` : '';
      const training = pipeline.steps.map((step, j) => {
        const where = `${at}.${kind}[${j}]`;
        if (!isTrainingStep(step.pass)) {
          const pass = getPass(step.pass);
          // (refused in a file's words, as a train step's settings: the pass's check frames a flag's value)
          const found = fileSettingsProblem(pass, step.settings);
          if (found) f.fail(`${where}.settings${found.field === undefined ? '' : `.${found.field}`}${grid}`, found.problem);
          const settings = pass.check(step.settings);
          if (pass.needsCalibration(settings)) {
            const off = models.find((m) => m.calibration === null && (!only || only.includes(m.name)));
            if (off)
              f.fail(
                `${where}.settings${grid}`,
                `${pass.name} with these settings measures the model on calibration data, but model ${quotedText(off.name)} has calibration: false`,
              );
          }
          return null;
        }
        try {
          return parseTrainingStep(step.pass, step.settings, base, j === 0);
        } catch (e) {
          if (e instanceof StepSettingError) {
            const key = e.field.replace(/[[.].*$/, '');
            const hint = kind === 'grid' && Array.isArray(steps[j]!.settings[key]) ? gridListHint(key, step.settings[key]) : undefined;
            f.fail(`${where}.settings${e.field ? `.${e.field}` : ''}${grid}`, hint ? `${e.message}; ${hint}` : e.message);
          }
          throw e;
        }
      });
      for (const rule of ORDER_RULES) {
        pipeline.steps.forEach((_, j) => {
          const o = rule(pipeline.steps, j, training[j] ?? null);
          if (o) f.fail(`${at}.${kind}[${j}]${grid}`, `${o.step} cannot follow ${o.before.pass} (${kind}[${o.before.index}]): ${o.why}; ${o.fix}`);
        });
      }
      if (training.some((t) => t !== null)) {
        pipeline.training = training;
        checkTrainingTasks(f, pipeline, only ?? models.map((m) => m.name), models, `${at}.${kind}`);
      }
      if (only) pipeline.models = only;
    }
    // (once each point's settings are read: a value of another kind that reads as one listed before it, '0.4' beside 0.4,
    // is refused for its kind, where two points' one label told the name to name the axis it named)
    if (kind === 'grid' && name !== undefined) checkGridLabels(f, expanded, name, `${at}.name`);
    out.push(...expanded);
    places.push(...expanded.map(() => ({ at, named: name !== undefined })));
  });
  if (!out.some((p) => p.steps.length === 0)) {
    out.unshift({ label: BASELINE, steps: [], values: {} });
    places.unshift(undefined);
  }
  out.forEach((p, j) => {
    const i = out.findIndex((q) => q.label === p.label);
    if (i === j) return;
    const [first, again] = [places[i], places[j]!];
    const at = again.named ? `${again.at}.name` : again.at;
    // (a pipeline of passes named baseline is the one to rename, listed before or after the baseline: the first of the
    // two has a place, as the baseline the sweep adds has no passes)
    const passes = p.label !== BASELINE ? undefined : p.steps.length > 0 ? again : out[i]!.steps.length > 0 ? first : undefined;
    if (passes)
      f.fail(
        passes.named ? `${passes.at}.name` : passes.at,
        `${quotedText(BASELINE)} names the pipeline without passes, which every sweep has (added where not listed): give this one another name`,
      );
    f.fail(at, `pipeline label ${quotedText(p.label)} is used twice${first && first.at !== again.at ? ` (${first.at} has it too)` : ''}`);
  });
  return out;
}

/**
 * A grid's lists of values, refused where one would give no point (an empty list) or the same point twice (a value
 * listed twice), each at its setting.
 */
function checkGridValues(f: Fields, steps: readonly PassStep[], at: string): void {
  steps.forEach((step, j) => {
    for (const [key, values] of Object.entries(step.settings)) {
      if (!Array.isArray(values)) continue;
      const where = `${at}.grid[${j}].settings.${key}`;
      if (values.length === 0) f.fail(where, 'the list of values is empty');
      const seen = values.map((v) => JSON.stringify(v));
      seen.forEach((v, k) => {
        if (seen.indexOf(v) !== k) f.fail(where, `${labelValue(values[k])} is listed twice: the grid would run its points twice`);
      });
    }
  });
}

/**
 * The string values a pipeline's labels show (labelValue: a grid's values, `grid`; and every setting of a pipeline
 * without a name, `named` false, whose label lists them), refused at their setting where one begins or ends with a
 * space (`mode: [' int8']`, quoted in YAML), as names are (Fields.unspaced): progress lines and the report's table
 * show labels unquoted, `q- int8` and `prune-heads 0:1 ` with spaces the reader cannot tell apart. Refused, not
 * trimmed, as names are: a label is never read as another (the point's key holds the settings as the pass reads them).
 */
function checkLabelValues(f: Fields, steps: readonly PassStep[], at: string, grid: boolean, named: boolean): void {
  steps.forEach((step, j) => {
    for (const [key, value] of Object.entries(step.settings)) {
      const shown = grid && Array.isArray(value) ? value : named ? [] : [value];
      for (const v of shown) {
        if (typeof v !== 'string' || v.trim() === v || v.trim() === '') continue;
        const ends = [v.startsWith(v.trim()) ? '' : 'begins', v.endsWith(v.trim()) ? '' : 'ends'].filter(Boolean).join(' and ');
        f.fail(
          `${at}[${j}].settings.${key}`,
          `the value ${quotedText(v)} ${ends} with a space, which the ${grid && Array.isArray(value) ? "grid points' labels show" : "pipeline's label shows"} unseen in progress lines and the report's table: write ${quotedText(v.trim())}`,
        );
      }
    }
  });
}

/**
 * A grid's `name` with {axis} placeholders, refused where it leaves out an axis that varies: two grid points would
 * share a label (and the first such clash says which axes to name).
 */
function checkGridLabels(f: Fields, expanded: readonly PipelineSpec[], name: string, at: string): void {
  expanded.forEach((p, j) => {
    const i = expanded.findIndex((q) => q.label === p.label);
    if (i === j) return;
    const left = Object.keys(p.values).filter((axis) => JSON.stringify(p.values[axis]) !== JSON.stringify(expanded[i]!.values[axis]));
    f.fail(
      at,
      `${quotedText(name)} gives grid points ${i + 1} and ${j + 1} the same label ${quotedText(p.label)}: name every axis that varies (${left.map((a) => `{${a}}`).join(', ')})`,
    );
  });
}

/** A step that cannot follow an earlier one: what it is, that step, why, and the order to give instead. */
interface OrderProblem {
  step: string;
  before: { index: number; pass: string };
  why: string;
  fix: string;
}

/**
 * The orders of steps a pipeline is refused for, checked in turn over its steps (each finds, for step `j`, the earlier
 * step it cannot follow): a train or distill step after a pass whose output training cannot read (train-step.ts),
 * a pass that slices weights after a quantize step, and a quantize step after one it refuses (float16's).
 */
const ORDER_RULES: ReadonlyArray<(steps: readonly PassStep[], j: number, training: TrainingStepSpec | null) => OrderProblem | undefined> = [
  (steps, j, t) => {
    // (a quantize step named by its mode, as the sweep file gives it)
    const before = t ? untrainableBefore(steps, j, (s) => (s.pass === 'quantize' ? quantizeStep(s) : s.pass)) : undefined;
    if (!t || !before) return undefined;
    const { index, pass } = before;
    // (a float16 model trains, but in float32: the point would be named float16 and store float32)
    const why =
      steps[index]!.pass === 'quantize' && quantizeMode(steps[index]!).kind === 'float16'
        ? `training computes and writes float32, so ${pass}'s storage would not reach the trained model`
        : before.why;
    return { step: `a ${t.kind} step`, before: { index, pass }, why, fix: `put ${pass} after the ${t.kind} step` };
  },
  (steps, j) => {
    const q = quantizedBefore(steps, j);
    const pass = steps[j]!.pass;
    if (q === undefined) return undefined;
    const quantize = quantizeStep(steps[q]!);
    return {
      step: pass,
      before: { index: q, pass: quantize },
      why: `${pass} ${FLOAT_WEIGHT_PASSES[pass]} float weights, and ${quantize} stores them quantized`,
      fix: `put ${pass} before ${quantize}`,
    };
  },
  (steps, j) => {
    const q = requantizedBefore(steps, j);
    if (q === undefined) return undefined;
    const [first, then] = [modeName(quantizeMode(steps[q]!)), modeName(quantizeMode(steps[j]!))];
    return {
      step: `quantize ${then}`,
      before: { index: q, pass: `quantize ${first}` },
      why:
        first === 'float16'
          ? `quantize reads float32 weights, and quantize float16 stores them in float16`
          : then === 'float16'
            ? `quantize float16 converts float32 weights, and quantize ${first} stores them quantized`
            : quantizeMode(steps[j]!).kind === 'mixed'
              ? `quantize ${then} chooses the bits of every layer of a float model, and quantize ${first} stores weights quantized`
              : `quantize reads float32 weights, and quantize ${first} stores them quantized`,
      fix: 'keep one quantize step, in the mode you want',
    };
  },
];

/**
 * The passes that rewrite float weights (what they do to them), which refuse a model whose projections are stored
 * quantized (prune/float-weights.ts; share-layers' checkGroupShapes): after a quantize step they would fail at every
 * point, once the steps before them had run.
 */
const FLOAT_WEIGHT_PASSES: Readonly<Record<string, string>> = {
  'prune-heads': 'slices',
  'prune-ffn': 'slices',
  'share-layers': 'combines',
  'factorize-embeddings': 'factorizes',
};

/**
 * Whether a quantize step stores the word table in integers, on any model: every mode but float16, with embeddings
 * (what factorize-embeddings reads; mixed's budget decides the layers' bits, and stores the tables int8 whatever it decides).
 */
function quantizesWordTable(step: PassStep): boolean {
  const settings = getPass(step.pass).check(step.settings);
  return parseMode(settings.mode).kind !== 'float16' && settings.embeddings === true;
}

/**
 * Whether a quantize step stores every weight quantize targets in integers on any model, the word table included: a
 * dynamic int8 mode with embeddings (its QAttention quantizes a fused Attention too). int4-block and int8-static keep a
 * fused Attention's weight float (an ORT-fused model), which a later quantize quantizes: the plan judges those on the
 * model it reads (sweep/plan.ts, leftFloatBy); mixed may keep layers float, float16 stores float.
 */
function quantizesAll(step: PassStep): boolean {
  const settings = getPass(step.pass).check(step.settings);
  return ['int8', 'int8-group'].includes(parseMode(settings.mode).kind) && settings.embeddings === true;
}

/**
 * The index of a quantize step before step `index` when that step rewrites float weights; undefined otherwise. A mixed:
 * quantize is let through: it may keep every layer in float, as its budget decides on the model; so is a float16 one:
 * its weights are float, which the passes slice and combine in float16; and an int4-block one before prune-heads or
 * prune-ffn: it keeps float the projections its blocks would store in more bytes (a model narrower than the blocks),
 * which the plan judges on the model (sweep/plan.ts, int4Refusal).
 */
function quantizedBefore(steps: readonly PassStep[], index: number): number | undefined {
  const pass = steps[index]!.pass;
  if (!Object.hasOwn(FLOAT_WEIGHT_PASSES, pass)) return undefined;
  const judgedOnModel = (s: PassStep) => quantizeMode(s).kind === 'int4-block' && (pass === 'prune-heads' || pass === 'prune-ffn');
  // (factorize-embeddings reads only the word table, which quantize keeps float with embeddings: false)
  const q = steps.findIndex(
    (s, i) =>
      i < index &&
      s.pass === 'quantize' &&
      (pass === 'factorize-embeddings' ? quantizesWordTable(s) : !['mixed', 'float16'].includes(quantizeMode(s).kind) && !judgedOnModel(s)),
  );
  return q < 0 ? undefined : q;
}

/**
 * The index of a quantize step before quantize step `index` that step would refuse (quantize.ts: a float16 model's
 * weights for any mode, quantized weights for modes float16 and mixed, a model whose every weight is quantized:
 * quantizesAll); undefined otherwise. A mixed: quantize before float16 or mixed is let through: it may keep every
 * layer in float.
 */
function requantizedBefore(steps: readonly PassStep[], index: number): number | undefined {
  if (steps[index]!.pass !== 'quantize') return undefined;
  const to = quantizeMode(steps[index]!).kind;
  const q = steps.findIndex((s, i) => {
    if (i >= index || s.pass !== 'quantize') return false;
    const from = quantizeMode(s).kind;
    return from === 'float16' || ((to === 'float16' || to === 'mixed') && from !== 'mixed') || quantizesAll(s);
  });
  return q < 0 ? undefined : q;
}

/** A quantize step as messages name it: 'quantize ' and its mode (modeName: int8, int4-block:32, float16). */
function quantizeStep(step: PassStep): string {
  return `quantize ${modeName(quantizeMode(step))}`;
}

/** The mode of a quantize step (its settings checked); modeName writes it as messages do (int8, int4-block:32, float16). */
function quantizeMode(step: PassStep): QuantizeMode {
  return parseMode(getPass(step.pass).check(step.settings).mode);
}

/** A pipeline's `models`: names of models of the file. */
function parsePipelineModels(f: Fields, raw: unknown, at: string, models: readonly ModelSpec[]): string[] {
  const names = (Array.isArray(raw) ? raw : [raw]).map((v, i) => f.string(v, Array.isArray(raw) ? `${at}[${i}]` : at));
  if (names.length === 0) f.fail(at, 'the list is empty');
  names.forEach((n, i) => {
    if (!models.some((m) => m.name === n))
      f.fail(Array.isArray(raw) ? `${at}[${i}]` : at, `no model named ${quotedText(n)} (models: ${models.map((m) => m.name).join(', ')})`);
  });
  return [...new Set(names)];
}

/**
 * A train/distill step trains on one task: the model's one task, unless the step names one of the model's tasks (a
 * model with several, MNLI's two halves included, needs it named).
 */
function checkTrainingTasks(f: Fields, pipeline: PipelineSpec, names: readonly string[], models: readonly ModelSpec[], at: string): void {
  for (const [j, t] of pipeline.training!.entries()) {
    if (!t) continue;
    for (const m of models.filter((m) => names.includes(m.name))) {
      const defs = m.tasks.map((name) => lookupTasks(name)[0]!);
      let trained: TaskDefinition;
      if (t.task !== undefined) {
        trained = lookupTasks(t.task)[0]!;
        const trainFile = trained.splits.train!.path;
        if (!defs.some((d) => d.splits.train?.path === trainFile)) {
          f.fail(
            `${at}[${j}].settings.task`,
            `${t.task} is not a task of model ${quotedText(m.name)} (${m.tasks.join(', ')}); the ${t.kind} step trains it for one of its tasks`,
          );
        }
      } else if (defs.length > 1) {
        // (MNLI-m and MNLI-mm train on one file, but each one's dev set picks the best epoch: as compress train /
        // distill --task, the step names the one it is for)
        const which = oneTrainingTask(defs)
          ? `: they train on one file, but each one's dev set picks its own best epoch; name the one to ${t.kind} for with settings.task`
          : `: pick the one to ${t.kind} on with settings.task`;
        f.fail(
          `${at}[${j}].settings`,
          `model ${quotedText(m.name)} has several tasks (${m.tasks.join(', ')})${which} (or list this pipeline for other models with 'models')`,
        );
      } else if (!defs[0]!.splits.train) {
        f.fail(`${at}[${j}]`, `${defs[0]!.name} has no train split to ${t.kind} on (model ${quotedText(m.name)})`);
      } else {
        trained = defs[0]!;
      }
      if (t.distill) {
        try {
          checkTaskSettings(trained, { ...DEFAULT_DISTILL_SETTINGS, ...t.distill });
        } catch (e) {
          if (!(e instanceof SettingsError)) throw e;
          f.fail(`${at}[${j}].settings`, `model ${quotedText(m.name)}: ${settingKeys(e.message)}`);
        }
      }
    }
  }
}

function parseStep(f: Fields, raw: unknown, at: string): PassStep {
  const s = f.object(raw, at, 'a step {pass, settings}');
  f.known(s, at, ['pass', 'settings']);
  const pass = f.string(s.pass, `${at}.pass`);
  // (a pass, or a training step, in the words of every value outside its choices, as the file gives it)
  if (!isTrainingStep(pass) && !passNames().includes(pass)) f.fail(`${at}.pass`, choiceProblem(pass, [...passNames(), ...TRAINING_STEPS], { from: 'file' }));
  const settings = s.settings === undefined ? {} : f.object(s.settings, `${at}.settings`);
  return { pass, settings };
}

function parseBench(f: Fields, raw: unknown): BenchSpec {
  if (raw === undefined) return { ...DEFAULT_BENCH };
  const b = f.object(raw, 'bench');
  f.known(b, 'bench', ['batch', 'seq', 'repeats', 'warmup', 'threads', 'maxTime']);
  const ints = (v: unknown, at: string, min: number): number[] =>
    (Array.isArray(v) ? f.list(v, at) : [v]).map((x, i) => f.int(x, Array.isArray(v) ? `${at}[${i}]` : at, min));
  return {
    batch: b.batch === undefined ? DEFAULT_BENCH.batch : ints(b.batch, 'bench.batch', BENCH_RANGES.batch.min),
    seq: b.seq === undefined ? null : ints(b.seq, 'bench.seq', BENCH_RANGES.seq.min),
    repeats: b.repeats === undefined ? DEFAULT_BENCH.repeats : f.int(b.repeats, 'bench.repeats', BENCH_RANGES.repeats.min),
    warmup: b.warmup === undefined ? DEFAULT_BENCH.warmup : f.int(b.warmup, 'bench.warmup', BENCH_RANGES.warmup.min),
    // (at most --threads' limit, as eval.threads: onnxruntime makes the threads it is given, and a million fails every
    // point, with std::bad_alloc)
    threads: b.threads === undefined ? 0 : f.int(b.threads, 'bench.threads', POOL_THREADS_RANGE.min, POOL_THREADS_RANGE.max, POOL_THREADS_RANGE.note),
    ...(b.maxTime === undefined ? {} : { maxTime: seconds(f, b.maxTime, 'bench.maxTime') }),
  };
}

/** A benchmark's time budget: a number of seconds greater than 0 (MAX_TIME_RANGE, as --max-time's). */
function seconds(f: Fields, v: unknown, at: string): number {
  const problem = numberProblem(v, MAX_TIME_RANGE);
  if (problem !== undefined) f.fail(at, `${problem}, got ${valueAndKind(v, 'file')}`);
  return v as number;
}

function parseEval(f: Fields, raw: unknown): EvalSpec {
  if (raw === undefined) return {};
  const e = f.object(raw, 'eval');
  f.known(e, 'eval', ['batchSize', 'maxLength', 'threads', 'exactInt8']);
  const out: EvalSpec = {};
  if (e.batchSize !== undefined) out.batchSize = f.int(e.batchSize, 'eval.batchSize', 1);
  if (e.maxLength !== undefined) out.maxLength = f.int(e.maxLength, 'eval.maxLength', MAX_LENGTH_RANGE.min);
  if (e.threads !== undefined) out.threads = f.int(e.threads, 'eval.threads', POOL_THREADS_RANGE.min, POOL_THREADS_RANGE.max, POOL_THREADS_RANGE.note);
  if (e.exactInt8 !== undefined && f.boolean(e.exactInt8, 'eval.exactInt8')) out.exactInt8 = true;
  return out;
}

/** Typed reads of YAML values; every failure names the file and the field. */
class Fields {
  constructor(private readonly file: string) {}

  fail(at: string, message: string): never {
    throw new SettingsError(`${this.file}: ${at ? `${at}: ` : ''}${message}`);
  }

  /** Runs `fn`, re-throwing a UserError from it with the file and field in front. */
  attempt<T>(at: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof UserError) this.fail(at, e.message);
      throw e;
    }
  }

  object(v: unknown, at: string, what = 'a mapping'): Record<string, unknown> {
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(at, `expected ${what}, got ${valueAndKind(v, 'file')}`);
    return v as Record<string, unknown>;
  }

  /** A non-empty list. */
  list(v: unknown, at: string): unknown[] {
    if (!Array.isArray(v)) this.fail(at, v === undefined ? 'missing (a list)' : `expected a list, got ${valueAndKind(v, 'file')}`);
    if (v.length === 0) this.fail(at, 'the list is empty');
    return v;
  }

  /**
   * `name` (the sweep's, a model's or a pipeline's; taken `from` something where not given), refused at `at` where it
   * holds a line break or another control character: progress lines, the store and the report show each name on a line.
   */
  oneLine(name: string, at: string, from?: string): string {
    const c = CONTROL.exec(name)?.[0];
    if (c === undefined) return name;
    const code = (x: string) => `U+${x.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    const shown = name.replace(new RegExp(CONTROL.source, 'gu'), (x) => `\\u${code(x).slice(2)}`);
    const what = LINE_BREAKS.includes(c) ? 'a line break' : 'a control character';
    this.fail(
      at,
      `the name ${quotedText(shown)}${from ? ` (from ${from})` : ''} holds ${what} (${code(c)}): a name must be one line of text${from ? ': give one with name:' : ''}`,
    );
  }

  /**
   * `name` (the sweep's, a model's or a pipeline's as written, a grid's with its {axis} placeholders; taken `from`
   * something where not given), refused at `at` where it begins or ends with a space (`name: ' x '`, quoted in YAML):
   * progress lines and the report's table show names unquoted, the spaces unseen, beside the name without them as
   * another. Refused, not trimmed, so that no name a store holds is read as another.
   */
  unspaced(name: string, at: string, from?: string): string {
    const trimmed = name.trim();
    // (a line break or control character at an end is oneLine's to refuse)
    if (trimmed === name || CONTROL.test(name)) return name;
    const ends = [name.startsWith(trimmed) ? '' : 'begins', name.endsWith(trimmed) ? '' : 'ends'].filter(Boolean).join(' and ');
    this.fail(
      at,
      `the name ${quotedText(name)}${from ? ` (from ${from})` : ''} ${ends} with a space, which progress lines and the report's table show unseen: ${from ? 'give a name with name:' : `write ${quotedText(trimmed)}`}`,
    );
  }

  string(v: unknown, at: string): string {
    if (typeof v !== 'string' || v.trim() === '')
      this.fail(at, v === undefined ? 'missing (a string)' : `expected a non-empty string, got ${valueAndKind(v, 'file')}`);
    return v;
  }

  /**
   * An integer from `min` to `max` (2^53 − 1 where not given: YAML reads a larger integer rounded, 2^53 + 1 as 2^53,
   * which valueAndKind names), checked and worded by integerProblem; `note` follows the range, as a flag's
   * (POOL_THREADS_RANGE's '(0: one per physical core, divided among the points run at once)').
   */
  int(v: unknown, at: string, min: number, max?: number, note?: string): number {
    const problem = integerProblem(v, min, max);
    if (problem !== undefined) this.fail(at, `${problem}${note ? ` ${note}` : ''}, got ${valueAndKind(v, 'file')}`);
    return v as number;
  }

  boolean(v: unknown, at: string): boolean {
    if (typeof v !== 'boolean') this.fail(at, `expected true or false, got ${valueAndKind(v, 'file')}`);
    return v;
  }

  /** Refuses a key of `o` not in `keys`; `hint` ends the message's parenthesis. */
  known(o: Record<string, unknown>, at: string, keys: readonly string[], hint = ''): void {
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(at ? `${at}.${k}` : k, `unknown field (known: ${keys.join(', ')}${hint})`);
  }

  unique(values: readonly string[], at: (i: number) => string, what: string): void {
    values.forEach((v, i) => {
      if (values.indexOf(v) !== i) this.fail(at(i), `${what} ${quotedText(v)} is used twice`);
    });
  }
}
