/**
 * From a sweep spec to the list of points to run: models × pipelines, each with its key, resolved bench shapes
 * and output folder. Baselines come first, so every model's reference is measured before its variants.
 */
import { inlineLocalFunctions } from '../onnx/inline.ts';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { counted, DataError, MemoryRefusal, NotBertError, quotedText, SettingsError } from '../errors.ts';
import { checkOptionKinds, checkOptions, checkStringOption, type OptionKind } from '../library-args.ts';
import { fileStamps, memoizedSha256, stampsHold, type FileStamp } from '../files.ts';
import { EMPTY_MODEL_CONFIG, floatFolderFile, readModelConfig, sideFilesRead } from '../eval/model-files.ts';
import { locateModel, type ModelLocation } from '../onnx/locate.ts';
import { modelSha256AndStamps } from '../onnx/identity.ts';
import { resolveModelSource, type ResolvedModelRef } from '../export/model-ref.ts';
import { DEFAULT_BATCH_SIZE, defaultMaxLength, prepareTask } from '../eval/evaluate.ts';
import { checkBatchFits } from '../eval/batching.ts';
import { folderTokenizerJson, loadTokenizer, tokenizerMaxLength, type TextTokenizer } from '../eval/tokenizer.ts';
import { tokenizerReadingVersion } from '../eval/tokenizer-reading.ts';
import { loadSplit, splitFile } from '../glue/dataset.ts';
import { getTask } from '../glue/registry.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import { anotherTasksLabels, ignoredLabelNames, ignoredLabelsNote, mapModelLabels } from '../eval/labels.ts';
import { stepName, structureShape, type PassShape, type PassStep } from '../pass/pass.ts';
import { getPass } from '../pass/registry.ts';
import { recurrentModelLstm } from '../bert/recurrent.ts';
import { recurrentRefusal } from '../pass/recurrent.ts';
import { rewriteBlocker } from '../onnx/fidelity.ts';
import { readsCalibrationLabels } from '../pass-declarations.ts';
import { canonicalJson, currentVersions, pointKey, pointStudentKind, type PointVersions } from './key.ts';
import { trainingLengthVersion, type DefaultTrainingLength, type StudentKind } from '../train/versions.ts';
import { labelValue } from './expand.ts';
import { settingText, type ModelShape } from '../pass/settings.ts';
import {
  bertStudentWidth,
  checkSizedStudentFits,
  checkStudentVocabulary,
  checkTaskTeacher,
  EVERY_OTHER_REBUILDS,
  int8BilstmRefusal,
  isStudentSpec,
  parseBertSpec,
  recurrentTeacherRefusal,
  storedQuantizedRefusal,
  studentSpecKind,
  studentSpecOn,
  teacherShape,
} from '../train/students/index.ts';
import type { BenchSpec, CalibrationSpec, EvalSpec, ModelSpec, PipelineSpec, SweepSpec } from './spec.ts';
import { GENERAL_STAGE_STUDENT, isTrainingStep, trainingSettingNames, type TrainingKind } from './train-step.ts';
import { loadModelShapes } from '../onnx/load.ts';
import type { Model } from '../onnx/graph.ts';
import { discovered, modelInputs } from '../bert/model-inputs.ts';
import { findBert } from '../bert/discover.ts';
import { encoderOnlyNote, hasClassifierPlace, isEncoderOnly, newHeadAdvice, noClassifierWay } from '../bert/classifier.ts';
import { quantizedWeight, storedQuantized } from '../bert/stored-quantized.ts';
import { quantizedFrom } from '../bench/lineage.ts';
import { checkBenchEnvironment } from '../bench/timing-lock.ts';
import type { BertStructure } from '../bert/structure.ts';
import { everyOtherLayers } from '../bert/config.ts';
import { headRebuildRefusal } from '../bert/canonical.ts';
import { checkStepCount, DEFAULT_TRAIN_SETTINGS, type TrainSettings } from '../train/trainer.ts';
import { projectionsPath, readProjections } from '../train/projections.ts';
import { loadWordVocab } from '../train/augment-words.ts';
import { wordEmbeddingsRefusal } from '../train/students/bilstm-config.ts';
import { type DropLayersOptions, dropLayers } from '../prune/layers.ts';
import { keptNeurons } from '../prune/ffn.ts';
import { factorizableTable } from '../factorize/embeddings.ts';
import { factorNames } from '../factorize/rewrite.ts';
import { quantizationTargets, targetNode, targetWeight, type Target } from '../quantize/targets.ts';
import { isFloatType } from '../onnx/dtype.ts';
import { optimizeModel } from '../optimize/pass.ts';
import { parseRewrites, type OptimizeOptions } from '../optimize/settings.ts';
import { RANDOM_IMPORTANCE_SEED } from '../prune/settings.ts';
import { inputLimits, largestActivationBytes, type InputLimits } from '../bert/input-limits.ts';
import { type BenchSubject, benchShapes, checkRepeats, checkShapesFit, fixedDimsConflict, incomparable, subjectOf } from '../bench/inputs.ts';
import {
  checkConfigLengthRoom,
  checkLengthRoom,
  checkTemplateTypes,
  checkModelLengthRoom,
  chooseMaxLength,
  evalLength,
  namedOtherHead,
  otherHeadLine,
  graphFacts,
  scoresOutput,
} from '../eval/graph-checks.ts';
import type { ModelConfig } from '../eval/model-files.ts';
import { BENCH_SETTING_NAMES, CALIBRATION_SETTING_NAMES, EVAL_SETTING_NAMES, passStepNames } from './setting-names.ts';
import { renameFlags } from '../flag-names.ts';
import { calibrationLabels, fewerThanBatch } from '../eval/calibration.ts';
import { checkFeature, checkMatch, noAttentionLeft, presetMatches } from '../train/intermediate.ts';
import { parseHeadList } from '../prune/settings.ts';
import { sharingGroups } from '../prune/sharing.ts';
import { sharedLayerGroups } from '../bert/inspect.ts';
import { layerGroups, parseShareSpec, parseSourceSpec } from '../share/spec.ts';
import { type RatioSoFar, ratioSoFarAfter, shareAfterRatioSoFar } from '../share/after-ratio.ts';
import {
  DEFAULT_DISTILL_SETTINGS,
  bilstmIntermediateRefusal,
  classifierFor,
  distillUse,
  type DistillSettings,
  type DistillUse,
  unreadAugmentation,
} from '../train/run.ts';
import { savedBilstmOutputs } from '../train/students/bilstm.ts';
import { checkTrainingTemplateTypes } from '../train/max-length.ts';
import { runMaxLength, type SizedModel } from '../eval/max-length.ts';
import { noClassifierPlace, noClassifierPlaceWords } from '../train/students/classifier.ts';
import { quantizedLstmRefusal } from '../quantize/bilstm.ts';
import { tableWithoutGather } from '../quantize/apply.ts';
import { keptAllLine, notFloat32Targets, plannedFloat, plannedKept } from '../quantize/pass.ts';
import { fullRangeInt8Products, modeName, parseMode, type QuantizeOptions } from '../quantize/settings.ts';
import { saturatingInt8Weights } from '../runtime/int8-products.ts';
import { floatWeights, noneLeft, quantizedOnShape, tablesLeftAfter, type KnownShape, type ShapeLeft } from './shape-quantize.ts';
import { int4StoresLess } from '../quantize/int4-blocks.ts';

/** Bench settings with the sequence lengths resolved for the point's model. */
export interface PointBench extends Omit<BenchSpec, 'seq'> {
  seq: number[];
}

/** Everything one point needs to run, JSON-able (it travels to worker processes). */
export interface SweepPoint {
  /** Hex SHA-256 identity (see key.ts). */
  key: string;
  /** bert-compress version that planned it (part of the key, as versions.tool). */
  toolVersion: string;
  /** The versions of the code that computes it: bert-compress's and each step's, graph pass or training (part of the key). */
  versions: PointVersions;
  sweep: string;
  /** `source`: for an hf: model, the reference pinned to the commit it resolved to (part of the key). */
  model: {
    name: string;
    onnx: string;
    dir: string;
    sha256: string;
    source?: string;
    /**
     * Its files' stamps (files.ts `fileStamps`: the .onnx's and its external data's), taken before the plan hashed it,
     * absent when it had just changed: `compress report` hashes it again only where they no longer hold. Not in the key.
     */
    stamps?: FileStamp[];
  };
  label: string;
  /** Empty for the baseline. */
  steps: PassStep[];
  tasks: string[];
  /** Null for the baseline, when calibration is off, or when no pass of the pipeline measures the model. */
  calibration: CalibrationSpec | null;
  /**
   * The sha256 of the files the point reads besides its model and its training steps' (theirs are in `training`):
   * each task's GLUE dev file, by task, the train file of its calibration examples when `calibration` is set, and the
   * model's config.json and tokenizer files. Part of the key, so that the sweep run on other data (another
   * --glue-dir, a file edited, a tokenizer fixed) is other points, not the stored ones. Absent from points planned
   * before it was (their keys hold no data hashes: see key.ts).
   */
  data?: PointData;
  /**
   * The stamps (files.ts `fileStamps`) of the files `data` and the training steps' train files hash (plannedDataFiles),
   * each taken before the plan hashed it; a file that had just changed has none. `compress report` hashes such a file
   * again only where its stamp no longer holds. Not in the key.
   */
  dataStamps?: FileStamp[];
  bench: PointBench;
  eval: EvalSpec;
  glueDir: string;
  /** Where the compressed model goes (null for the baseline, which is the input model). */
  outputDir: string | null;
  /** Keep the compressed .onnx after measuring it. */
  keepModel: boolean;
  seed?: number;
  /** Set when a step trains (train / distill): how, resolved for this point. */
  training?: PointTraining;
}

/** The hashes of the files a point reads besides its model and training steps' (SweepPoint.data). */
export interface PointData {
  /** By task: the sha256 of its dev file. */
  dev: Record<string, string>;
  /** The sha256 of the calibration task's train file, when the point calibrates. */
  calibration?: string;
  /**
   * By name: the sha256 of each of config.json and the tokenizer files beside the model (MODEL_SIDE_FILES) that it has
   * and reads (sideFilesRead: not a SentencePiece model beside a tokenizer.json):
   * the labels' order and the tokenization its evaluation reads, and every compressed point's folder copies.
   */
  model?: Record<string, string>;
  /**
   * By the index of a train / distill step: the same hashes of the folders it reads labels and a tokenizer from
   * besides the model's: its teacher's (distill) and its student's given as a model path; and `projections`, the sha256
   * of the projections file beside its student model (projectionsStudent), which its intermediate matches start from.
   */
  training?: Record<string, { teacher?: Record<string, string>; student?: Record<string, string>; projections?: string }>;
}

/**
 * The student model whose projections file (projections.ts) a training step reads: a distill step's with intermediate
 * matches, when its student is a model path, or the pipeline's model (`modelOnnx`) for a first step naming none;
 * undefined otherwise (a student spec, or the model the steps before made).
 */
export function projectionsStudent(t: Partial<PointTrainingStep> | undefined, modelOnnx: unknown): string | undefined {
  if (t?.kind !== 'distill' || t.distill?.intermediate === undefined) return undefined;
  if (t.studentSha256 !== undefined) return studentOnnx(t);
  return t.student === undefined && t.index === 0 && typeof modelOnnx === 'string' ? modelOnnx : undefined;
}

/**
 * By name: the sha256 of each model side file (config.json, the tokenizer files) that `dir` holds and its reading reads
 * (sideFilesRead: not a SentencePiece model beside a tokenizer.json).
 */
async function sideFileHashes(dir: string, hash: (file: string) => Promise<string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const holds = (name: string) => existsSync(join(dir, name));
  for (const name of sideFilesRead(holds)) if (holds(name)) out[name] = await hash(join(dir, name));
  return out;
}

/**
 * A file a planned point read besides its model, with the sha256 its plan holds: what `planSweep` hashes into the
 * point's key (SweepPoint.data, a training step's train file), so that hashing it again tells whether a sweep run now
 * would read the same data.
 */
export interface PlannedFile {
  file: string;
  /** What it is, in words: 'SST-2 dev', 'SST-2 train (calibration)', 'model folder', 'teacher folder of step 1 (distill)'. */
  what: string;
  /** Its sha256 when planned; undefined for a side file (config.json, a tokenizer file) its folder did not hold then. */
  sha256: string | undefined;
}

/**
 * The files `plan` (a stored point's plan, by any code) says its point read besides its model and teachers' .onnx
 * files (PlannedFile), each side file of a folder it read (MODEL_SIDE_FILES; its SentencePiece models only where the
 * plan hashed no tokenizer.json, vocab.txt or vocab.json with merges.txt there: sideFilesRead) listed whether or not
 * the folder held it then. Empty for a plan that holds none (planned before data hashes were kept); a part of the plan that is not as
 * this code writes it is skipped.
 */
export function plannedDataFiles(plan: unknown): PlannedFile[] {
  const out: PlannedFile[] = [];
  const p = (plan ?? {}) as Partial<SweepPoint>;
  const isHash = (v: unknown): v is string => typeof v === 'string';
  const record = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const sideFiles = (dir: unknown, hashes: unknown, what: string) => {
    if (typeof dir !== 'string') return;
    const held = record(hashes);
    for (const name of sideFilesRead((n) => isHash(held[n]))) {
      const sha256 = held[name];
      out.push({ file: join(dir, name), what, sha256: isHash(sha256) ? sha256 : undefined });
    }
  };
  const data = p.data && typeof p.data === 'object' ? p.data : undefined;
  const steps = Array.isArray(p.training?.steps) ? p.training.steps : [];
  const glueFile = (task: string, split: 'dev' | 'train'): string | undefined => {
    try {
      return typeof p.glueDir === 'string' ? splitFile(getTask(task), split, p.glueDir).file : undefined;
    } catch {
      return undefined; // a task this code no longer knows
    }
  };
  if (data) {
    for (const [task, sha256] of Object.entries(record(data.dev))) {
      const file = glueFile(task, 'dev');
      if (file !== undefined && isHash(sha256)) out.push({ file, what: `${task} dev`, sha256 });
    }
    const calibration = p.calibration?.task;
    const file = typeof calibration === 'string' && isHash(data.calibration) ? glueFile(calibration, 'train') : undefined;
    if (file !== undefined) out.push({ file, what: `${calibration} train (calibration)`, sha256: data.calibration });
    if (data.model !== undefined) sideFiles(p.model?.dir, data.model, 'model folder');
    for (const [index, read] of Object.entries(record(data.training))) {
      const step = steps.find((t) => String(t?.index) === index);
      const { teacher, student } = record(read);
      const of = stepWords(step?.kind, index);
      if (teacher !== undefined) sideFiles(located(step?.teacher)?.dir, teacher, `teacher folder of ${of}`);
      if (student !== undefined) sideFiles(located(step?.student)?.dir, student, `student folder of ${of}`);
    }
    // (listed whether or not the student had one then: one there now, or gone, is a change)
    for (const t of steps) {
      const onnx = projectionsStudent(t, p.model?.onnx);
      const sha256 = record(record(data.training)[String(t?.index)]).projections;
      if (onnx !== undefined)
        out.push({ file: projectionsPath(onnx), what: `student's projections of ${stepWords(t.kind, t.index)}`, sha256: isHash(sha256) ? sha256 : undefined });
    }
  }
  for (const t of steps) {
    if (typeof t?.data?.file === 'string' && isHash(t.data.sha256))
      out.push({ file: t.data.file, what: `${t.task} train of ${stepWords(t.kind, t.index)}`, sha256: t.data.sha256 });
  }
  return out;
}

/**
 * The reading version (src/eval/tokenizer-reading.ts) of the tokenizers `plan` (a stored point's plan, by any code, or
 * one being planned) reads, the highest of: its model folder's, each training step's teacher's and student model's
 * folder's, on sentence pairs where one of its tasks or training steps' tasks is a pair task (a task this code does not
 * know counts as one). A folder whose tokenizer cannot be read now (gone, moved), or whose side files no longer hash as
 * the plan hashed them (edited since: the report says its data changed), counts as the plan's own recorded version.
 */
export function pointTokenizerReading(plan: unknown): number {
  const p = (plan ?? {}) as Partial<SweepPoint>;
  const steps = Array.isArray(p.training?.steps) ? p.training.steps : [];
  const tasks = [...(Array.isArray(p.tasks) ? p.tasks : []), ...steps.map((t) => t?.task)];
  const pairs = tasks.some((task) => {
    try {
      return getTask(String(task)).textColumns.length > 1;
    } catch {
      return true;
    }
  });
  const recorded = typeof p.versions?.tokenizer === 'number' ? p.versions.tokenizer : 1;
  let version = 1;
  for (const { dir, planned } of plannedTokenizerFolders(plan)) version = Math.max(version, tokenizerReadingVersion(dir, pairs, planned) ?? recorded);
  return version;
}

/** The length the inputs of a model fix (inputLimits' fixedSequence), by its sha256: a model's inputs are its bytes'. */
const FIXED_BY_MODEL = new Map<string, number | undefined>();

/**
 * The version of the default length `plan`'s train and distill steps train at (TRAINING_LENGTH_READINGS), `plan` a
 * stored point's plan (by any code) or one being planned: of each step that takes the default (no maxLength of its
 * own, no eval.maxLength of the sweep, no max_length in the config.json it reads: its teacher's folder's, else its
 * student model's, else, for a first step, the point's model's; a later step training the model so far reads the one
 * the step before wrote, whose length is that step's), the shortest length the inputs of the models it runs at it fix
 * (its teacher, a student model given by path, and for a step training the model so far the point's model, whose
 * inputs passes and training keep) against the 128 capped at its tokenizer's model_max_length it took before. A model
 * read only where it is the file the plan hashed: `modelHash` (stale.ts currentModelHashes) hashes it where its stamps
 * no longer hold; without one the files are the plan's own (a plan being made, a worker's point, whose files hash as
 * the coordinator's). A model or config that cannot be read now (gone, moved, changed since: the report says its data
 * changed) counts as the plan's own recorded version.
 */
export function pointTrainingLength(plan: unknown, modelHash?: (onnx: string) => string | undefined): number {
  const p = (plan ?? {}) as Partial<SweepPoint>;
  const steps = Array.isArray(p.training?.steps) ? [...p.training.steps].sort((a, b) => a?.index - b?.index) : [];
  const recorded = typeof p.versions?.trainingLength === 'number' ? p.versions.trainingLength : 1;
  const evalLength = p.eval?.maxLength;
  type Read = { onnx?: unknown; sha256?: unknown; stamps?: unknown } | undefined;
  /** The length `m`'s inputs fix (undefined: none), or null where it cannot be told. */
  const fixedOf = (m: Read): number | undefined | null => {
    if (typeof m?.onnx !== 'string' || typeof m.sha256 !== 'string') return null;
    if (!FIXED_BY_MODEL.has(m.sha256)) {
      if (modelHash !== undefined && !stampsHold(m.stamps) && modelHash(m.onnx) !== m.sha256) return null;
      const read = readModel(m.onnx);
      if (!read) return null;
      FIXED_BY_MODEL.set(m.sha256, read.structure ? (inputLimits(read.graph, read.structure).fixedSequence ?? undefined) : undefined);
    }
    return FIXED_BY_MODEL.get(m.sha256);
  };
  const defaults: DefaultTrainingLength[] = [];
  try {
    for (const [i, t] of steps.entries()) {
      if (!t || typeof t !== 'object' || (t.maxLength ?? evalLength) !== undefined) continue;
      const student: Read = t.studentSha256 !== undefined ? { onnx: studentOnnx(t), sha256: t.studentSha256, stamps: t.studentStamps } : undefined;
      const from = t.teacher ?? (student?.onnx as string | undefined) ?? (i === 0 ? p.model?.onnx : undefined);
      if (from === undefined) continue;
      const dir = locateModel(from).dir;
      if (readModelConfig(dir).maxLength !== null) continue;
      const sized: Read[] = [
        t.teacher !== undefined ? { onnx: t.teacher, sha256: t.teacherSha256, stamps: t.teacherStamps } : undefined,
        student,
        t.student === undefined ? p.model : undefined,
      ];
      let fixed: number | undefined;
      for (const m of sized.filter((m) => m !== undefined)) {
        const f = fixedOf(m);
        if (f === null) return recorded;
        if (f !== undefined) fixed = Math.min(fixed ?? f, f);
      }
      defaults.push({ fixed, before: defaultMaxLength(tokenizerMaxLength(dir)) });
    }
  } catch {
    return recorded;
  }
  return trainingLengthVersion(defaults);
}

/**
 * The folders whose tokenizers `plan` (a stored point's plan, by any code, or one being planned) reads: its model
 * folder, each training step's teacher's folder and its student model's (a student given as a model path), each with
 * the sha256 of its side files by name as the plan took them (`planned`; a teacher's or student's only where the plan
 * hashed that folder apart from the model's, else the model's), undefined in a plan without them. A part not as this
 * code writes it is skipped.
 */
export function plannedTokenizerFolders(plan: unknown): Array<{ dir: string; planned: Record<string, unknown> | undefined }> {
  const p = (plan ?? {}) as Partial<SweepPoint>;
  const steps = Array.isArray(p.training?.steps) ? p.training.steps : [];
  const record = (v: unknown): Record<string, unknown> | undefined =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const data = record(p.data);
  const read = (i: unknown) => record(record(data?.training)?.[String(i)]);
  // (each folder with the hashes its plan took of its side files, where it took them: a plan's own model folder, and a
  // teacher's or student's only where it is another folder than the model's)
  const folders: Array<[unknown, Record<string, unknown> | undefined]> = [
    [p.model?.dir, record(data?.model)],
    ...steps.flatMap(
      (t): Array<[unknown, Record<string, unknown> | undefined]> => [
        [located(t?.teacher)?.dir, record(read(t?.index)?.teacher) ?? record(data?.model)],
        [t?.studentSha256 !== undefined ? located(t.student)?.dir : undefined, record(read(t?.index)?.student) ?? record(data?.model)],
      ],
    ),
  ];
  return folders.flatMap(([dir, planned]) => (typeof dir === 'string' ? [{ dir, planned }] : []));
}

/** A model a planned point read (its own, a distill step's teacher, a student given as a model path), as PlannedFile. */
export interface PlannedModel {
  /** Its .onnx file. */
  onnx: string;
  /** What it is, in words: 'model', 'teacher of step 1 (distill)', 'student of step 1 (train)'. */
  what: string;
  /** Its identity when planned (modelSha256). */
  sha256: string;
  /** Its files' stamps when planned (FileStamp[], as read back: unchecked), absent in a plan without them. */
  stamps: unknown;
}

/** The models `plan` (a stored point's plan, by any code) says its point read (PlannedModel); a part not as this code writes it is skipped. */
export function plannedModels(plan: unknown): PlannedModel[] {
  const out: PlannedModel[] = [];
  const p = (plan ?? {}) as Partial<SweepPoint>;
  const add = (onnx: unknown, what: string, sha256: unknown, stamps: unknown) => {
    if (typeof onnx === 'string' && typeof sha256 === 'string') out.push({ onnx, what, sha256, stamps });
  };
  add(p.model?.onnx, 'model', p.model?.sha256, p.model?.stamps);
  for (const t of Array.isArray(p.training?.steps) ? p.training.steps : []) {
    const of = stepWords(t?.kind, t?.index);
    if (t?.teacher !== undefined) add(t.teacher, `teacher of ${of}`, t.teacherSha256, t.teacherStamps);
    if (t?.studentSha256 !== undefined) add(located(t.student)?.onnx, `student of ${of}`, t.studentSha256, t.studentStamps);
  }
  return out;
}

/** A stored plan's training step (as read back: unchecked) as a message names it (stepName), as PlannedFile.what says it: 'step 2 (distill)'. */
function stepWords(kind: unknown, index: unknown): string {
  return stepName(Number(index), typeof kind === 'string' ? kind : 'training');
}

/** The model at `path` (a plan's, as read back: unchecked) located, or undefined where it cannot be (gone: nothing to read again). */
function located(path: unknown): ModelLocation | undefined {
  try {
    return typeof path === 'string' ? locateModel(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `stored` (a stored point's plan, by any code) with where and how `now` (the same point planned now: its key) found
 * the files it read, where the stored plan no longer says so, or undefined when nothing is taken:
 * - a model it read (its own, a distill step's teacher, a student model path of the same step) with the same sha256
 *   at another path (the folder moved, renamed or copied): the path `now` read it at (for its own, its folder too,
 *   whose config.json and tokenizer files the point read), with the stamps `now` took;
 * - at the same path, the stamps `now` took where they still hold and the stored ones no longer do (a `touch`, the
 *   same bytes copied back);
 * - the GLUE folder and a training step's train file, where `now` read them elsewhere;
 * - the stamps `now` took of the data files it hashed (SweepPoint.dataStamps), where they differ.
 * So `compress report` compares the files there now (a model replaced in the moved folder reads as changed) and trusts
 * the stamps rather than hashing the model again. The key holds the hashes, not the paths: `now` read files that hash
 * as the stored ones did (`plan` hashed them after taking the stamps). The stored paths are replaced even where they
 * are still there (a sweep folder copied, its store with it, and run again in the copy): the copy's report compares
 * the copy's files, which the copy's runs read, not the original's; a store two sweeps share compares those of the
 * sweep run last.
 */
export function refreshedPlan(stored: unknown, now: SweepPoint): unknown {
  if (!stored || typeof stored !== 'object') return undefined;
  const p = structuredClone(stored) as Partial<SweepPoint>;
  let changed = false;
  /** Whether `now` read at `fresh` what the stored plan read at another path, `old`. */
  const moved = (old: unknown, fresh: string | undefined): fresh is string => typeof old === 'string' && fresh !== undefined && old !== fresh;
  /**
   * Where `now` read a model the stored plan's `old` record stands for (its path, sha256 and stamps under `keys`):
   * when the sha256 agrees and the path moved, or the path is the same and only the new stamps hold, `old` takes the
   * new path and stamps (none where none holds), in place; whether it did.
   */
  const refresh = (
    old: Record<string, unknown>,
    [path, sha256, stamps]: readonly [string, string, string],
    fresh: { path: string | undefined; sha256: string | undefined; stamps: FileStamp[] | undefined },
  ): boolean => {
    if (fresh.path === undefined || old[sha256] !== fresh.sha256) return false;
    const holds = fresh.stamps !== undefined && stampsHold(fresh.stamps);
    if (!moved(old[path], fresh.path) && !(old[path] === fresh.path && holds && !stampsHold(old[stamps]))) return false;
    old[path] = fresh.path;
    if (holds) old[stamps] = fresh.stamps;
    else delete old[stamps];
    changed = true;
    return true;
  };
  const record = (o: object) => o as Record<string, unknown>;
  if (p.model && refresh(record(p.model), ['onnx', 'sha256', 'stamps'], { path: now.model.onnx, sha256: now.model.sha256, stamps: now.model.stamps }))
    p.model.dir = now.model.dir;
  if (moved(p.glueDir, now.glueDir)) {
    p.glueDir = now.glueDir;
    changed = true;
  }
  // (the kind of student the plan knows now, for a stored plan that predates it: the same point trains the same kind)
  if (p.training && typeof p.training === 'object' && p.training.studentKind === undefined && now.training?.studentKind !== undefined) {
    p.training.studentKind = now.training.studentKind;
    changed = true;
  }
  const steps = Array.isArray(p.training?.steps) ? p.training.steps : [];
  for (const t of now.training?.steps ?? []) {
    const old = steps.find((s) => s?.index === t.index);
    if (!old) continue;
    refresh(record(old), ['teacher', 'teacherSha256', 'teacherStamps'], { path: t.teacher, sha256: t.teacherSha256, stamps: t.teacherStamps });
    if (t.studentSha256 !== undefined)
      refresh(record(old), ['student', 'studentSha256', 'studentStamps'], { path: t.student, sha256: t.studentSha256, stamps: t.studentStamps });
    if (old.data && old.data.sha256 === t.data.sha256 && moved(old.data.file, t.data.file)) {
      old.data.file = t.data.file;
      changed = true;
    }
  }
  // (the same data hashes, by the key: the stamps now taken of the files where this plan read them)
  if (now.dataStamps !== undefined && canonicalJson(now.dataStamps) !== canonicalJson(p.dataStamps)) {
    p.dataStamps = now.dataStamps;
    changed = true;
  }
  return changed ? p : undefined;
}

/** The train / distill steps of a point, resolved: everything `runTraining` needs besides the student file. */
export interface PointTraining {
  /** Teacher logits cache (`runTraining`'s cacheDir; absent: its default). */
  cacheDir?: string;
  steps: PointTrainingStep[];
  /**
   * The kind of model its steps train (trainedStudentKind), where the plan knew it: the key holds the steps' versions
   * for that kind (key.ts `pointStudentKind`). Absent in points planned before it was kept. Not in the key's identity.
   */
  studentKind?: StudentKind;
}

export interface PointTrainingStep {
  /** Index of the step in `SweepPoint.steps`. */
  index: number;
  kind: TrainingKind;
  /** Canonical task name. */
  task: string;
  /** A student spec or absolute model path that replaces the model so far (first step only). */
  student?: string;
  /** distill: the teacher's absolute .onnx path. */
  teacher?: string;
  teacherSha256?: string;
  /** distill: the teacher's files' stamps, as SweepPoint.model's (not in the key). */
  teacherStamps?: FileStamp[];
  /** When `student` is a model path: its file's hash (part of the key). */
  studentSha256?: string;
  /** When `student` is a model path: its files' stamps, as SweepPoint.model's (not in the key). */
  studentStamps?: FileStamp[];
  /** The task's train file and its hash (part of the key). */
  data: { file: string; sha256: string };
  settings: Partial<TrainSettings>;
  distill?: Partial<DistillSettings>;
  maxExamples?: number;
  maxLength?: number;
}

export interface PlanOptions {
  glueDir: string;
  /** Folder for compressed models (one subfolder per point). */
  workDir: string;
  /** Teacher logits cache for train / distill steps (default: runTraining's, ~/.cache/bert-compress). */
  cacheDir?: string;
  /** sha256 of a file, memoized (default: a `memoizedSha256()` of this call's own). */
  hash?: (file: string) => Promise<string>;
  /** Notes of hf: model downloads (one line each). */
  log?: (line: string) => void;
  /**
   * The points run on a queue's workers (`compress sweep --queue`, its --dry-run too), not on this machine: the plan
   * leaves to each point what only the machine that runs it knows, its memory (the eval batch, the bench shapes, a
   * student made from sizes: each point checks it as it runs) and its benchmark settings' environment
   * (checkBenchEnvironment: each worker checks its own before it connects), where a local plan judges both by this
   * machine's (os.totalmem(), this process's environment).
   */
  queued?: boolean;
}

/** Model paths and hf: references to local paths (each reference resolved once per plan: one commit for all its points). */
function modelResolver(log?: (line: string) => void): (ref: string) => Promise<ResolvedModelRef> {
  const resolved = new Map<string, Promise<ResolvedModelRef>>();
  return (ref) => {
    if (!resolved.has(ref)) resolved.set(ref, resolveModelSource(ref, log ? { log } : {}));
    return resolved.get(ref)!;
  };
}

export { memoizedSha256 } from '../files.ts';

/** A file-system-safe version of a label. */
export function slug(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9._=-]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 80) || 'point'
  );
}

/** How a step's seed is read (key.ts SeedForm 'canonical'), as the plan says it of two pipelines that differ only in how they write it. */
export const SEED_RULE = `a step draws with its own seed, else the sweep's, else its default: ${DEFAULT_TRAIN_SETTINGS.seed} for train and distill, ${RANDOM_IMPORTANCE_SEED} for random importance`;

/** The work folder of a point (with steps) stored under `key`: `WORK/<model>/<label>-<key's first 8>`. */
export function pointFolder(workDir: string, point: Pick<SweepPoint, 'model' | 'label'>, key: string): string {
  return join(workDir, slug(point.model.name), `${slug(point.label)}-${key.slice(0, 8)}`);
}

/**
 * `hash` (memoized) for the data files a plan hashes (SweepPoint.data, a training step's train file), each file's stamp
 * taken once per plan, before its first hash (a file that had just changed gets none); `stamps`: those of the files
 * a point's plan names (plannedDataFiles) that it hashed, for SweepPoint.dataStamps.
 */
function stampedHashes(hash: (file: string) => Promise<string>): {
  hash: (file: string) => Promise<string>;
  stamps: (point: SweepPoint) => FileStamp[];
} {
  const stamped = new Map<string, FileStamp | undefined>();
  return {
    hash: (file) => {
      if (!stamped.has(file)) stamped.set(file, fileStamps([file])?.[0]);
      return hash(file);
    },
    stamps: (point) => {
      const out = new Map<string, FileStamp>();
      for (const f of plannedDataFiles(point)) {
        const stamp = f.sha256 === undefined ? undefined : stamped.get(f.file);
        if (stamp) out.set(f.file, stamp);
      }
      return [...out.values()];
    },
  };
}

/** A model's identity (modelSha256) and its files' stamps (modelStamps), as a plan holds them. */
type ModelIdentity = (onnx: string) => Promise<{ sha256: string; stamps: FileStamp[] | undefined }>;

/**
 * modelSha256 by `hash` with the model's stamps taken before it, once per plan for each model (a model that is also a
 * teacher or a student path, or read by every pipeline, is stamped, walked for its external data files and hashed
 * once, where it is first read).
 */
function modelIdentity(hash: (file: string) => Promise<string>): ModelIdentity {
  const identities = new Map<string, ReturnType<ModelIdentity>>();
  return (onnx) => {
    if (!identities.has(onnx)) identities.set(onnx, modelSha256AndStamps(onnx, hash));
    return identities.get(onnx)!;
  };
}

/** PlanOptions' kinds, checked before any work (a JavaScript caller's misspelt workdir, queued 'no'). */
const PLAN_OPTION_KINDS = {
  glueDir: 'string',
  workDir: 'string',
  cacheDir: 'string',
  hash: 'function',
  log: 'function',
  queued: 'boolean',
} as const satisfies Record<keyof PlanOptions, OptionKind>;

/** Every point of the sweep, baselines first. Model hashes are computed here (one read of each model). */
export async function planSweep(spec: SweepSpec, opts: PlanOptions): Promise<SweepPoint[]> {
  checkOptionKinds('planSweep', checkOptions('planSweep', opts, '{glueDir, workDir, cacheDir, hash, log, queued}'), PLAN_OPTION_KINDS);
  checkStringOption('planSweep', 'glueDir', opts.glueDir, 'the GLUE data folder');
  checkStringOption('planSweep', 'workDir', opts.workDir, 'the folder of the compressed models');
  // (every point benchmarks: a value it does not take is refused before any point runs; a queued point's worker
  // refuses its own, and the coordinator benchmarks nothing)
  if (!opts.queued) checkBenchEnvironment();
  for (const m of spec.models) {
    for (const name of m.tasks) {
      const { file } = splitFile(getTask(name), 'dev', opts.glueDir);
      if (!existsSync(file)) throw new DataError(`${file}: file not found (GLUE ${name} dev for ${m.name}; set glueDir, --glue-dir or GLUE_DIR)`);
    }
  }
  if (opts.log) unreadAugmentationWarnings(spec, opts.log);
  const points: SweepPoint[] = [];
  const hash = opts.hash ?? memoizedSha256();
  const local = modelResolver(opts.log);
  const identity = modelIdentity(hash);
  const models = modelReader();
  const tokenizers = tokenizerReader();
  const memory = opts.queued ? Infinity : totalmem();
  const structureOf = (onnx: string) => models(onnx)?.structure;
  const { hash: dataHash, stamps: dataStamps } = stampedHashes(hash);
  for (const m of spec.models) {
    const source = await local(m.path);
    const where = locateModel(source.path);
    // (a transformers.js folder: its float onnx/model.onnx, whichever dtype its config.json names, as compress reads it)
    const folderFile = floatFolderFile(source.path, where.onnx);
    if (folderFile && opts.log) opts.log(`${m.path}: its points read ${where.onnx} ${folderFile}; give another file's path to sweep that one`);
    const model = models(where.onnx);
    const graph = model?.structure ? { graph: model.graph, structure: model.structure, limits: inputLimits(model.graph, model.structure) } : undefined;
    /** This model's points by their key on it (`onModel`), with what their steps are on it. */
    const alike = new Map<string, { point: SweepPoint; notes: string[] }>();
    refuseEncoderOnly(spec, m, graph, where.onnx);
    refuseUnfedInputs(spec, m, graph);
    const { sha256, stamps } = await identity(where.onnx);
    const config = readModelConfig(where.dir);
    refuseOtherHeads(spec, m, graph, source.path, config, where.onnx);
    refuseUnscorableTasks(spec, m, model, config, source.path, where.onnx);
    refuseNoTokenizer(spec, m, where.dir);
    // (by default the length the baseline is evaluated at: a default capped at the position table, as eval caps it)
    const limits = graph?.limits ?? null;
    const bench: PointBench = {
      ...spec.bench,
      seq: spec.bench.seq ?? [evalLength(spec.eval.maxLength, config, limits, defaultMaxLength(tokenizerMaxLength(where.dir)))],
    };
    checkShapes(spec, m, graph, config, bench, where, opts.glueDir, tokenizers, memory);
    if (opts.log) ignoredLabelsWarning(spec, m, config, opts.log);
    const dev: Record<string, string> = {};
    for (const name of m.tasks) dev[name] = await dataHash(splitFile(getTask(name), 'dev', opts.glueDir).file);
    const sideFiles = await sideFileHashes(where.dir, dataHash);
    for (const p of spec.pipelines) {
      if (!runsOn(p, m)) continue;
      const calibration = measures(p) ? m.calibration : null;
      const data: PointData = { dev, model: sideFiles };
      // (before any point runs, as a training step's train file: not a failed point saying '--calibrate', a CLI flag)
      if (calibration) {
        const { file } = splitFile(getTask(calibration.task), 'train', opts.glueDir);
        if (!existsSync(file))
          throw new DataError(
            `${file}: file not found (GLUE ${calibration.task} train, the calibration data of ${quotedText(p.label)} on ${m.name}; set glueDir, --glue-dir or GLUE_DIR, or name a task with a train split in calibration.task)`,
          );
        data.calibration = await dataHash(file);
        checkCalibrationLabels(spec, m, p, calibration.task, model, config, where.onnx);
      }
      const training = p.training ? await planTraining(p, m, where.onnx, opts, dataHash, identity, local) : undefined;
      checkSteps(spec, m, p, where.onnx, training ?? [], models, tokenizers, opts.glueDir, memory, opts.log);
      for (const t of training ?? []) {
        // (distill reads the teacher's labels and tokenizer, and a student model's labels; train a student model's)
        const read: NonNullable<PointData['training']>[string] = {};
        const teacherDir = t.teacher !== undefined ? locateModel(t.teacher).dir : where.dir;
        // (the model's own folder named by another path, through a symbolic link: its side files, hashed as the model's)
        if (realpathSync(teacherDir) !== realpathSync(where.dir)) read.teacher = await sideFileHashes(teacherDir, dataHash);
        // (a student model in the model's own folder, by whichever path: its side files are the model's, hashed as such)
        if (t.studentSha256 !== undefined) {
          const studentDir = locateModel(t.student!).dir;
          if (realpathSync(studentDir) !== realpathSync(where.dir)) read.student = await sideFileHashes(studentDir, dataHash);
        }
        // (and the projections beside its student model, which its matches start from: another file, another point)
        const projected = projectionsStudent(t, where.onnx);
        if (projected !== undefined && existsSync(projectionsPath(projected))) {
          // (read as the step reads it: a damaged file, or a folder there, is refused now naming the step, not by every
          // point that starts from it)
          try {
            readProjections(projectionsPath(projected));
          } catch (e) {
            throw stepRefusal(spec, m, p, t.index, e);
          }
          read.projections = await dataHash(projectionsPath(projected));
        }
        if (Object.keys(read).length > 0) (data.training ??= {})[String(t.index)] = read;
      }
      const versions = currentVersions(p.steps, spec.seed); // (with its tokenizers' reading and its student's kind, below, once it is planned)
      const point: SweepPoint = {
        key: '',
        toolVersion: versions.tool,
        versions,
        sweep: spec.name,
        model: { name: m.name, onnx: where.onnx, dir: where.dir, sha256, ...(source.hub ? { source: source.hub.pinned } : {}), ...(stamps ? { stamps } : {}) },
        label: p.label,
        steps: p.steps,
        tasks: m.tasks,
        calibration,
        data,
        bench,
        eval: pointEval(spec.eval, p.steps, model?.graph),
        glueDir: opts.glueDir,
        outputDir: null,
        keepModel: spec.keepModels,
      };
      if (spec.seed !== undefined) point.seed = spec.seed;
      if (training) {
        const studentKind = trainedStudentKind(training, where.onnx, models);
        point.training = { ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}), steps: training, ...(studentKind ? { studentKind } : {}) };
      }
      const stamped = dataStamps(point);
      if (stamped.length > 0) point.dataStamps = stamped;
      point.versions = currentVersions(p.steps, spec.seed, pointTokenizerReading(point), pointStudentKind(point), pointTrainingLength(point));
      point.key = pointKey(point);
      const same = points.find((q) => q.key === point.key);
      if (same) {
        // (the same file given twice under two names: every pipeline both get is one point, the baseline first)
        if (same.model.name !== m.name) {
          const other = spec.models.find((n) => n.name === same.model.name)!;
          throw new SettingsError(
            `${spec.display}: ${modelLabel(spec, m)} is the same model as ${modelLabel(spec, other)} (the same file, sha256 ${sha256.slice(0, 12)}…, and tasks), so their ${quotedText(p.label)} points are one; keep one of them`,
          );
        }
        // (a distill step naming this model as its teacher, or a first one as its student, is one with the default
        // teacher or student: on other models they differ)
        const ownRole = (q: SweepPoint) =>
          (q.training?.steps ?? []).flatMap((t) => [
            ...(q.steps[t.index]?.settings.teacher !== undefined && t.teacherSha256 === q.model.sha256 ? ['teacher'] : []),
            ...(t.studentSha256 === q.model.sha256 ? ['student'] : []),
          ]);
        const naming = [same, point].filter((q) => ownRole(q).length > 0);
        if (naming.length === 1)
          throw new SettingsError(
            `${spec.display}: pipelines ${quotedText(same.label)} and ${quotedText(p.label)} are the same point for model ${quotedText(m.name)} (${quotedText(naming[0]!.label)} names ${quotedText(m.name)} itself as its distill ${ownRole(naming[0]!).join(' and ')}, the default); keep one, or leave ${quotedText(m.name)} out of one of them (its models:)`,
          );
        // (one point only as each step draws its seed: written otherwise, as seed: 1 and none)
        const seeds = pointKey(same, 'written') !== pointKey(point, 'written') ? `; ${SEED_RULE}` : '';
        throw new SettingsError(
          `${spec.display}: pipelines ${quotedText(same.label)} and ${quotedText(p.label)} are the same point for model ${quotedText(m.name)} (the same steps and settings${seeds}); keep one`,
        );
      }
      const on = graph ? onModel(point, graph.structure, structureOf) : undefined;
      const twin = on ? alike.get(on.key) : undefined;
      if (on && twin) {
        const notes = [...twin.notes, ...on.notes].join('; ');
        throw new SettingsError(
          `${spec.display}: pipelines ${quotedText(twin.point.label)} and ${quotedText(p.label)} are the same point for model ${quotedText(m.name)} (their steps build the same model from it: ${notes}); keep one, or leave ${quotedText(m.name)} out of one of them (its models:)`,
        );
      }
      if (on) alike.set(on.key, { point, notes: on.notes });
      if (p.steps.length > 0) point.outputDir = pointFolder(opts.workDir, point, point.key);
      points.push(point);
    }
    // (its baseline point's benchmark, every sweep's, after the refusals of its pipelines' steps, which their points meet first)
    if (model?.notBert && !recurrentModelLstm(model.graph)) checkBenchInputs(spec, where.onnx, model.graph);
  }
  return points.sort((a, b) => Number(b.steps.length === 0) - Number(a.steps.length === 0));
}

/**
 * The key `point` would have were its steps named by what they do on its model (`structure`, as planSweep read it;
 * `structureOf`: a model's, its own or a distill step's teacher, read when needed), and what of them reads otherwise
 * there ('drop-layers keep=every-other is layers=1,3 on its 4 layers'): each graph pass's settings as they act on a model of its
 * depth (PassDeclaration.onModel: drop-layers by the layers it removes, share-layers from mean where each group is
 * one layer), the depth followed through them, and a bert:… student with the layers and width it leaves out taken
 * from its teacher; the steps after a training step are left as they are (its student's depth is not followed). Two
 * points of one model with equal such keys compute the same result, though their own keys differ: a point's key is
 * computed without the model (so that the report and a rerun of the sweep tell a stale point from the plan alone),
 * and putting these forms in it would change the keys of points stored under the others.
 */
function onModel(
  point: SweepPoint,
  structure: BertStructure,
  structureOf: (onnx: string) => BertStructure | undefined,
): { key: string; notes: string[] } | undefined {
  const notes: string[] = [];
  const text = (settings: Record<string, unknown>) =>
    Object.entries(settings)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : labelValue(v)}`)
      .join(' ');
  const training = new Map((point.training?.steps ?? []).map((t) => [t.index, t]));
  let shape: ModelShape | undefined = { numLayers: structure.numLayers };
  let students: Map<number, string> | undefined;
  try {
    const steps = point.steps.map((written, i): PassStep => {
      let s = written;
      const t = training.get(i);
      if (t) {
        shape = undefined;
        if (s.pass === 'distill') {
          const unused = unusedDistillSettings(s.settings, t.task);
          if (unused.note !== undefined) {
            notes.push(unused.note);
            s = { ...s, settings: unused.settings };
          }
        }
        const spec = t.student;
        if (spec === undefined || t.studentSha256 !== undefined || !spec.startsWith('bert:')) return s;
        const given = parseBertSpec(spec);
        if (given.layers !== undefined && given.hidden !== undefined) return s;
        const from = structureOf(t.teacher ?? point.model.onnx);
        if (!from) return s;
        const full = studentSpecOn(spec, from);
        (students ??= new Map()).set(i, full);
        notes.push(`${s.pass} student=${spec} is student=${full} of its teacher`);
        return { ...s, settings: { ...s.settings, student: full } };
      }
      if (!shape) return s;
      const pass = getPass(s.pass);
      const settings = pass.check(s.settings);
      const on = pass.onModel(settings, shape);
      if (canonicalJson(on.settings) !== canonicalJson(settings))
        notes.push(`${s.pass} ${text(settings)} is ${text(on.settings)} on its ${counted(shape.numLayers, 'layer')}`);
      shape = on.shape;
      return { ...s, settings: on.settings };
    });
    const resolved: SweepPoint = { ...point, steps };
    if (students && point.training)
      resolved.training = {
        ...point.training,
        steps: point.training.steps.map((t) => (students!.has(t.index) ? { ...t, student: students!.get(t.index)! } : t)),
      };
    return { key: pointKey(resolved), notes };
  } catch {
    return undefined; // (settings the model cannot take: the point says why when it runs)
  }
}

/**
 * A distill step's settings without the prediction-layer ones its loss does not read (distillUse, as the run's
 * lineage records them); `note` says which ones written there are unused, undefined when none is. Two steps that
 * differ only in them train the same model. (A sweep's distill step is the task stage: the general stage is none.)
 */
function unusedDistillSettings(settings: Record<string, unknown>, task: string): { settings: Record<string, unknown>; note?: string } {
  const value = <K extends 'alpha' | 'logitLoss'>(key: K) => settingText(settings[key] ?? DEFAULT_DISTILL_SETTINGS[key]) as DistillSettings[K];
  const use = distillUse({ alpha: value('alpha'), logitLoss: value('logitLoss'), stage: 'task' }, getTask(task));
  const written: string[] = use.unused.filter((k) => settings[k] !== undefined);
  if (written.length === 0) return { settings };
  const kept = Object.fromEntries(Object.entries(settings).filter(([k]) => !written.includes(k)));
  const reasons: Record<NonNullable<DistillUse['because']>, string> = {
    'general stage': 'in the general stage (intermediate layers only)',
    'alpha 1': 'with alpha=1 (no teacher term)',
    regression: `on ${task} (a regression task: the teacher's score by MSE)`,
    'logit mse': 'with logitLoss=mse',
  };
  const reason = reasons[use.because!];
  return { settings: kept, note: `distill ${written.map((k) => `${k}=${labelValue(settings[k])}`).join(' ')} is unused ${reason}` };
}

/**
 * One warning line for each distill step whose augmented examples add nothing to its loss (unreadAugmentation, the
 * run's own warning, with the step's settings named as the sweep file writes them), before any point runs.
 */
function unreadAugmentationWarnings(spec: SweepSpec, log: (line: string) => void): void {
  for (const p of spec.pipelines) {
    (p.training ?? []).forEach((t, i) => {
      if (t?.kind !== 'distill') return;
      const unread = unreadAugmentation({ ...DEFAULT_DISTILL_SETTINGS, ...t.distill, stage: 'task' }, 'settings');
      if (unread) log(`warning: pipeline ${quotedText(p.label)}, ${stepName(i, 'distill')}: ${unread}`);
    });
  }
}

/** A sweep model's graph, the structure discovery finds in it, where it finds one, and the inputs it takes (inputLimits). */
interface ModelGraph {
  graph: Model;
  structure: BertStructure;
  limits: InputLimits;
}

/**
 * A model the plan reads: its graph (without its weights' values), and the structure discovery finds in it (undefined
 * where it finds none: a Distilled BiLSTM, or `notBert`, discovery's refusal of it).
 */
interface PlanModel {
  graph: Model;
  structure: BertStructure | undefined;
  notBert?: NotBertError;
}

/** The model at an .onnx path as the plan reads it (PlanModel), read once per plan; undefined when it cannot be read (left to the points to report). */
type ModelReader = (onnx: string) => PlanModel | undefined;

/**
 * A ModelReader: each model (a sweep's, a named teacher, a student model) read the first time the plan asks for it.
 * Its weights are read only where their values are (loadModelShapes): discovery and the plan's checks read dims.
 */
function modelReader(): ModelReader {
  const models = new Map<string, PlanModel | undefined>();
  return (onnx) => {
    if (!models.has(onnx)) models.set(onnx, readModel(onnx));
    return models.get(onnx);
  };
}

/**
 * A plan's tokenizers by folder, each read the first time the plan asks for it (the points of one teacher or model
 * share it): `tokenizer`, undefined where it cannot be read (left to the points to report); `augmentRefusal`,
 * augmentation's refusal of its vocabulary (loadWordVocab's SettingsError: not a WordPiece one), undefined for none.
 */
interface TokenizerReader {
  tokenizer(dir: string): TextTokenizer | undefined;
  augmentRefusal(dir: string): SettingsError | undefined;
}

function tokenizerReader(): TokenizerReader {
  const tokenizers = new Map<string, TextTokenizer | undefined>();
  const refusals = new Map<string, SettingsError | undefined>();
  const tokenizer = (dir: string): TextTokenizer | undefined => {
    if (!tokenizers.has(dir)) {
      let read: TextTokenizer | undefined;
      try {
        read = loadTokenizer(dir);
      } catch {
        read = undefined;
      }
      tokenizers.set(dir, read);
    }
    return tokenizers.get(dir);
  };
  const augmentRefusal = (dir: string): SettingsError | undefined => {
    const source = tokenizer(dir)?.source;
    if (source === undefined) return undefined;
    try {
      loadWordVocab(source);
    } catch (e) {
      if (e instanceof SettingsError) return e;
    }
    return undefined;
  };
  return {
    tokenizer,
    augmentRefusal: (dir) => {
      if (!refusals.has(dir)) refusals.set(dir, augmentRefusal(dir));
      return refusals.get(dir);
    },
  };
}

/**
 * A point's eval settings: the sweep's, `exactInt8` kept only where it can change the point's scores (its steps store
 * full-range int8 products, or its input model `graph` holds them and no step stores the model in float: a float
 * point scores the same either way), so that setting it changes those points' keys alone.
 */
function pointEval(e: EvalSpec, steps: readonly PassStep[], graph: Model | undefined): EvalSpec {
  if (!e.exactInt8) return e;
  const trains = steps.some((s) => isTrainingStep(s.pass));
  if (fullRangeInt8Products(steps) || (!trains && graph !== undefined && saturatingInt8Weights(graph).length > 0)) return e;
  const { exactInt8: _exact, ...rest } = e;
  return rest;
}

function readModel(onnx: string): PlanModel | undefined {
  let graph: Model;
  try {
    graph = inlineLocalFunctions(loadModelShapes(onnx));
  } catch {
    return undefined;
  }
  try {
    return { graph, structure: findBert(graph) };
  } catch (e) {
    return { graph, structure: undefined, ...(e instanceof NotBertError ? { notBert: e } : {}) };
  }
}

/** How the plan's refusals name a model of the sweep: `models[1] 'tiny'`, where the sweep file lists it. */
function modelLabel(spec: SweepSpec, m: ModelSpec): string {
  return `models[${spec.models.indexOf(m)}] ${quotedText(m.name)}`;
}

/**
 * Refuses a model of the sweep whose folder (`dir`) holds no tokenizer: its baseline point, which every model has,
 * evaluates it on GLUE text read with that folder's tokenizer, as does every point whose output keeps the model's side
 * files, so each of them failed when it ran. (A point whose training step reads another folder's tokenizer, a teacher
 * elsewhere, could succeed; its baseline still fails.) A tokenizer there that cannot be read is left to the points.
 */
function refuseNoTokenizer(spec: SweepSpec, m: ModelSpec, dir: string): void {
  if (holdsNoTokenizer(dir))
    throw new DataError(
      `${spec.display}: ${modelLabel(spec, m)}: its folder ${dir} has no tokenizer (${TOKENIZER_FILES}), which its points' GLUE eval reads (its baseline's, and every point's whose steps keep the model's files): put the model's tokenizer files beside it`,
    );
}

/** The tokenizer files a folder's reading looks for (folderTokenizerJson), as a refusal lists them. */
const TOKENIZER_FILES = 'no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model';

/**
 * Whether folder `dir` holds none of the tokenizer files folderTokenizerJson reads: false for one there that cannot be
 * read (the points' to report).
 */
function holdsNoTokenizer(dir: string): boolean {
  try {
    return folderTokenizerJson(dir) === undefined;
  } catch {
    return false;
  }
}

/**
 * Refuses a model of the sweep that is encoder-only (general distillation's output from a teacher without a
 * classifier): every point evaluates its model, and eval needs a classifier, so every point would fail. Such a model
 * is a distill step's student instead, where it has a pooler to put a classifier on; one without (last_hidden_state
 * alone) is refused in training's words (noClassifierPlace), as it would be as a student. A graph that cannot be read
 * here is left to the points to report.
 */
function refuseEncoderOnly(spec: SweepSpec, m: ModelSpec, read: ModelGraph | undefined, onnx: string): void {
  if (!read || !isEncoderOnly(read.structure)) return;
  // (one without a pooler is refused as a distill step's student too, in training's words: no way to give it one; one
  // stored quantized, which training cannot read, is told to give the float model it was quantized from a classifier)
  const way = hasClassifierPlace(read.graph, read.structure)
    ? `; ${noClassifierWay(read.graph, read.structure, () => quantizedFrom(onnx)) ?? `give it as ${GENERAL_STAGE_STUDENT}`}`
    : `, and ${noClassifierPlaceWords(read.graph, read.structure)}`;
  throw new SettingsError(
    `${spec.display}: ${modelLabel(spec, m)} is ${encoderOnlyNote(read.graph)}: a sweep's model needs a classifier (every point evaluates it)${way}`,
  );
}

/**
 * Refuses a model of the sweep whose head is not a sequence classifier (a pretraining checkpoint's MLM and NSP heads,
 * a question-answering or token-classification head, or one config.json's architectures names as another's that the
 * graph does not show to be a sequence classifier) in eval's words: every point evaluates its model, the baseline
 * too, so every point would fail. A pretraining checkpoint or a multiple-choice export, with the way to give it a
 * classifier first (one stored quantized: to the float model its file `onnx` was quantized from, named where its
 * lineage tells it, as eval's and the other refusals of the plan name it).
 */
function refuseOtherHeads(spec: SweepSpec, m: ModelSpec, read: ModelGraph | undefined, path: string, config: ModelConfig, onnx: string): void {
  const head = read?.structure.head?.kind;
  if (head && head !== 'sequence-classification' && head !== 'unknown') {
    const task = m.tasks[0] ?? 'TASK';
    // (a pretraining or multiple-choice head is on a pooler, where train --new-head puts the task's classifier)
    const advice =
      head === 'pretraining' || head === 'multiple-choice'
        ? `: ${newHeadAdvice(task, path, quantizedWeight(read!.structure), true, () => quantizedFrom(onnx))}`
        : '';
    throw new SettingsError(
      `${spec.display}: ${modelLabel(spec, m)}: a ${head} head; GLUE tasks need a sequence classifier (one score per label, or one for regression); every point evaluates it, its baseline too${advice}`,
    );
  }
  // (config.json naming another head's class, BertForMultipleChoice, that the graph does not show to be a sequence
  // classifier by itself: refused as eval refuses it)
  const other = config.file ? namedOtherHead(config.architectures, read?.graph, read?.structure) : undefined;
  if (other) {
    throw new SettingsError(
      `${spec.display}: ${modelLabel(spec, m)}: ${otherHeadLine(config.file!, other)}; GLUE tasks need one (one score per label, or one for regression); every point evaluates it, its baseline too`,
    );
  }
}

/**
 * Refuses a model of the sweep that cannot be scored on one of its tasks: the label count its config.json (else its
 * scores, as eval reads them: graphFacts' scoreWidth, the classifier's where the scores output's shape does not say
 * it) gives is not the task's, or its id2label cannot be read as the task's labels, as eval checks before
 * it runs. Every point evaluates its model on its tasks, its baseline too, so every point would fail. Said as eval
 * says it, after the file and the model; where the count differs, with the way to give it the task's classifier first.
 */
function refuseUnscorableTasks(spec: SweepSpec, m: ModelSpec, model: PlanModel | undefined, config: ModelConfig, path: string, onnx?: string): void {
  const width = model ? (model.structure ? graphFacts(model.graph, model.structure).scoreWidth : scoresOutput(model.graph).width) : null;
  const count = config.numLabels ?? width;
  if (count === null) return;
  for (const name of m.tasks) {
    const task = getTask(name);
    try {
      mapModelLabels(task, config.id2label, count, config.numLabels !== null ? (config.file ?? 'config.json') : undefined);
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      const wanted = task.regression ? 1 : task.labels.length;
      // (the task's width, with another GLUE task's labels: a classifier of that task, which no id2label makes this one's)
      const other = count === wanted ? anotherTasksLabels(task, config.id2label, count) : undefined;
      const quantized = model && storedQuantized(model.graph, model.structure);
      const advice =
        count === wanted && !other
          ? ''
          : `; ${other ? `its labels are ${other}: ` : ''}every point evaluates it on ${task.name}, its baseline too: ${newHeadAdvice(task.name, path, quantized, true, onnx === undefined ? undefined : () => quantizedFrom(onnx))}`;
      throw new SettingsError(`${spec.display}: ${modelLabel(spec, m)}: ${e.message}${advice}`);
    }
  }
}

/**
 * Refuses a model of the sweep whose inputs cannot be fed (modelInputs: an input no output depends on whose name is
 * none bert-compress feeds, an input of an element type other than int64 or int32): every point benchmarks its
 * baseline, which feeds the model so, and would fail the same way. Said as the point says it, after the file and the
 * model. A graph that cannot be read here is left to the points to report.
 */
function refuseUnfedInputs(spec: SweepSpec, m: ModelSpec, read: ModelGraph | undefined): void {
  if (!read) return;
  try {
    modelInputs(read.graph, read.structure);
  } catch (e) {
    if (e instanceof SettingsError) throw new SettingsError(`${spec.display}: ${modelLabel(spec, m)}: ${e.message}`);
    throw e;
  }
}

/**
 * One warning line for a model whose config.json names classes none of its tasks' labels are: each of its points is
 * evaluated with its outputs in the tasks' canonical order, as eval warns (a mismatch eval refuses is left to the
 * points to report); and one for its calibration task where that is not one of them and a pass of its pipelines reads
 * the calibration labels (PassSettings.readsLabels), as compress --calibrate warns: a sweep point does not.
 */
function ignoredLabelsWarning(spec: SweepSpec, m: ModelSpec, config: ModelConfig, log: (line: string) => void): void {
  const ignored = (task: TaskDefinition) => ignoredLabelNames(task, config.id2label, config.numLabels ?? task.labels.length);
  const ignoring: Array<{ task: TaskDefinition; names: readonly string[] }> = [];
  for (const name of m.tasks) {
    const task = getTask(name);
    const names = ignored(task);
    if (names) ignoring.push({ task, names });
  }
  if (ignoring.length > 0)
    log(
      `warning: ${m.name}: ${ignoredLabelsNote(
        ignoring.map((i) => i.task),
        config.file ?? 'config.json',
        ignoring[0]!.names,
      )}`,
    );
  // The calibration labels, read as the eval reads the model's outputs: said once more where the calibration task is
  // not one of those (as --calibrate says it), and only where a pass of the model's pipelines reads them.
  const calibration = m.calibration ? getTask(m.calibration.task) : undefined;
  if (!calibration || ignoring.some((i) => i.task === calibration)) return;
  if (!spec.pipelines.some((p) => runsOn(p, m) && measures(p) && readsCalibrationLabels(graphSteps(p)))) return;
  const names = ignored(calibration);
  if (names) log(`warning: ${m.name}: calibration ${ignoredLabelsNote([calibration], config.file ?? 'config.json', names)}`);
}

/**
 * Throws a SettingsError for the first step of `p` that measures the model against the labels of its calibration task
 * `task` (PassSettings.readsLabels: gradient importance, mixed precision) where they cannot be read as the model's
 * outputs (calibrationLabels' unlabelled: STS-B's regression scores on a 2-class model, another task's labels),
 * after the file, the pipeline, the model and the step: every such point failed when its pass began. A step after a
 * training step (which may give the model another classifier), or a model not read here, is left to the point.
 */
function checkCalibrationLabels(
  spec: SweepSpec,
  m: ModelSpec,
  p: PipelineSpec,
  task: string,
  model: PlanModel | undefined,
  config: ModelConfig,
  onnx: string,
): void {
  if (!model?.structure) return;
  const first = p.steps.findIndex((s, i) => p.training?.[i] || readsCalibrationLabels([s]));
  if (first < 0 || p.training?.[first]) return;
  const { unlabelled } = calibrationLabels(getTask(task), config, graphFacts(model.graph, model.structure).scoreWidth, onnx);
  if (unlabelled !== undefined)
    throw stepRefusal(
      spec,
      m,
      p,
      first,
      new SettingsError(`measures the model against the labels of calibration.task ${task}, which cannot be read as its outputs: ${unlabelled}`),
    );
}

/**
 * Refuses, before any point runs, an eval length, eval batch or bench shape that a sweep model cannot take: the
 * evaluation's maximum length beyond its position table or leaving no room for text in its tasks' examples, or in its
 * calibration task's, which its points' passes read at that length (a pair task calibrating a model of single texts) and an eval.batchSize whose batch would not fit in memory (the
 * model's baseline point evaluates it with these settings, as eval checks them: checkBatchFits), and a bench shape
 * beyond the table or whose activation would not fit in memory (every point of the model benchmarks it, as the
 * baseline of its variants), bench.repeats whose latencies could not be kept (checkRepeats), a token-type table the tokenizer's template overruns on a task's texts or its calibration task's (checkTemplateTypes: a pair, or a Funnel tokenizer's [CLS] of type 2), and calibration.examples fewer than the batch the graph fixes (fewerThanBatch).
 * Each point would otherwise fail the same way after compressing (and evaluating) it.
 * Named as the sweep file names them (`bench.seq`, `eval.maxLength`). A graph that cannot be read is left to the points.
 */
function checkShapes(
  spec: SweepSpec,
  m: ModelSpec,
  read: ModelGraph | undefined,
  config: ModelConfig,
  bench: PointBench,
  { dir, onnx }: ModelLocation,
  glueDir: string,
  tokenizers: TokenizerReader,
  memory: number,
): void {
  if (!read) return;
  const label = modelLabel(spec, m);
  try {
    const { limits } = read;
    const tokenizer = tokenizers.tokenizer(dir);
    // (the texts read at the eval length: the model's tasks', and its calibration task's where a pipeline calibrates)
    const calibrated = m.calibration && spec.pipelines.some((p) => runsOn(p, m) && measures(p)) ? [m.calibration.task] : [];
    const texts = [...m.tasks, ...calibrated];
    // (a graph that fixes its batch calibrates on whole batches of it: fewer examples make none, and every point that
    // calibrates failed so; a train split of fewer labelled rows than calibration.examples is left to the points)
    const fixedBatch = graphFacts(read.graph, read.structure).fixedBatch;
    const few =
      m.calibration && calibrated.length > 0 && fixedBatch !== null
        ? fewerThanBatch(m.calibration.examples, m.calibration.examples, fixedBatch, onnx, m.calibration.task)
        : undefined;
    if (few !== undefined) throw new SettingsError(renameFlags(few, CALIBRATION_SETTING_NAMES));
    // (a table no eval.maxLength fits text in: the model's, named so, before a length is asked of it)
    if (tokenizer)
      for (const pair of new Set(texts.map((name) => getTask(name).textColumns.length === 2))) checkModelLengthRoom(limits, tokenizer, pair, label);
    const maxLength = sweepEvalLength(spec.eval.maxLength, config, limits, dir, label);
    checkRoomForText(texts, tokenizer, maxLength, spec.eval.maxLength, config);
    checkEvalBatch(spec, m, read.structure, limits.fixedSequence ?? undefined, maxLength, dir, glueDir, label, memory);
    // (the calibration task's texts too, which its points' passes feed the model: a pair calibrating a model of single texts)
    if (tokenizer)
      for (const pair of new Set(texts.map((name) => getTask(name).textColumns.length === 2))) checkTemplateTypes(tokenizer, maxLength, limits, onnx, pair);
  } catch (e) {
    if (e instanceof SettingsError) throw new SettingsError(`${spec.display}: ${renameFlags(e.message, EVAL_SETTING_NAMES)}`);
    if (e instanceof DataError) throw new DataError(`${spec.display}: ${label}: ${e.message}`);
    throw e;
  }
  try {
    const subject = { path: label, model: read.graph, structure: read.structure };
    checkShapesFit(benchShapes(bench.batch, bench.seq, [subject]), [subject], memory);
    // (the latencies bench.repeats runs keep: a variant times its baseline beside it; beyond an array's length on any
    // machine, a queued plan's too)
    checkRepeats({ repeats: bench.repeats, maxSeconds: bench.maxTime }, spec.pipelines.some((p) => runsOn(p, m) && p.steps.length > 0) ? 2 : 1, memory);
  } catch (e) {
    if (e instanceof SettingsError) throw new SettingsError(`${spec.display}: ${renameFlags(e.message, BENCH_SETTING_NAMES)}`);
    throw e;
  }
}

/**
 * Throws the refusal of a sweep model discovery refuses (not a BERT-family encoder, nor a Distilled BiLSTM) whose
 * inputs its baseline point's benchmark cannot find either (subjectOf: no float16 weights cast to float32 whose float32
 * form discovery reads, no lineage naming a model it reads), where that point (a sweep's pipelines hold one always)
 * failed once evaluated, on every rerun.
 */
function checkBenchInputs(spec: SweepSpec, onnx: string, graph: Model): void {
  try {
    subjectOf(onnx, graph);
  } catch (e) {
    if (e instanceof SettingsError) throw new SettingsError(`${spec.display}: ${renameFlags(e.message, BENCH_SETTING_NAMES)}`);
    throw e;
  }
}

/**
 * The length the evaluation of a sweep model in `dir` (its config.json `config`, its graph's `limits`) runs at, as
 * compress eval chooses it (chooseMaxLength): eval.maxLength (`asked`), else config.json's max_length, else 128 capped
 * at its tokenizer's model_max_length (defaultMaxLength); a SettingsError naming the model (`label`) where its position
 * table or fixed length does not take it.
 */
function sweepEvalLength(asked: number | undefined, config: ModelConfig, limits: InputLimits, dir: string, label: string): number {
  return chooseMaxLength(asked, config, limits, defaultMaxLength(tokenizerMaxLength(dir)), label);
}

/**
 * Throws eval's SettingsError (checkConfigLengthRoom's, naming config.json's max_length where it gives the length and
 * no eval.maxLength (`asked`) is given; else the tokenizer's, naming --max-length and a tokenizer_config.json
 * model_max_length that gives the length) where `maxLength` leaves no room for text after the special tokens of one of `tasks` (a single
 * text's, or a sentence pair's), as each point's evaluation would on its first example. A tokenizer that could not be
 * read here is left to the points.
 */
function checkRoomForText(
  tasks: readonly string[],
  tokenizer: TextTokenizer | undefined,
  maxLength: number,
  asked: number | undefined,
  config: ModelConfig,
): void {
  if (!tokenizer) return;
  const pair = tasks.some((t) => getTask(t).textColumns.length === 2);
  const single = tasks.some((t) => getTask(t).textColumns.length === 1);
  // (config.json's max_length, where no eval.maxLength is given, named as such)
  if (single) checkConfigLengthRoom(asked, config, maxLength, tokenizer, false);
  if (pair) checkConfigLengthRoom(asked, config, maxLength, tokenizer, true);
  if (single) checkLengthRoom(tokenizer, maxLength, false);
  if (pair) checkLengthRoom(tokenizer, maxLength, true);
}

/**
 * Throws eval's SettingsError (checkBatchFits, naming --batch-size) when the eval batch of one of the model's tasks
 * would not fit in memory, as its baseline point's evaluation would. A batch holds at most eval.batchSize examples of
 * at most `maxLength` tokens (or `padTo`, a length the graph fixes): only when that bound does not fit (a batch size
 * near a dev set's size) are the dev sets read and tokenized, as eval reads them, to check the batch eval would build.
 * Data or a tokenizer that cannot be read here is left to the points to report.
 */
function checkEvalBatch(
  { eval: { batchSize: asked } }: Pick<SweepSpec, 'eval'>,
  { tasks }: Pick<ModelSpec, 'tasks'>,
  structure: BertStructure,
  padTo: number | undefined,
  maxLength: number,
  dir: string,
  glueDir: string,
  label: string,
  memory: number,
): void {
  const batchSize = asked ?? DEFAULT_BATCH_SIZE;
  if (largestActivationBytes(structure, batchSize, padTo ?? maxLength) <= memory) return;
  let tokenizer: TextTokenizer | undefined;
  for (const name of tasks) {
    const task = getTask(name);
    let lengths: number[];
    try {
      tokenizer ??= loadTokenizer(dir);
      lengths = prepareTask(task, 'dev', glueDir, tokenizer, maxLength).encodings.map((e) => e.ids.length);
    } catch {
      return;
    }
    checkBatchFits(structure, batchSize, lengths, padTo, { what: `${task.name} dev`, model: label }, memory);
  }
}

/**
 * Throws the MemoryRefusal a point's stages would throw on this machine (`memory`: its memory) where the plan's memory
 * rules tell it before the point runs, by the same checks a local plan makes of its model and steps: its baseline
 * evaluation's batch (checkEvalBatch; a variant evaluates the model its steps make, which its evaluation checks), the
 * bench shapes of its model, which every point times (its own, or as its variants' baseline: checkShapesFit), and a
 * student its training steps make from sizes (checkSizedStudent), and the latencies of its bench.repeats runs
 * (checkRepeats). For a queued point, whose plan left these to the
 * machine that runs it (PlanOptions.queued): its worker gives it back to the queue for one with more memory, not
 * failing it once compressed and evaluated. Every other refusal (and a model or tokenizer that cannot be read here) is
 * left to the point's stages, which say it as they do.
 */
export function checkPointMemory(point: SweepPoint, memory: number = totalmem()): void {
  const onlyMemory = (names: Readonly<Record<string, string>>, check: () => void): void => {
    try {
      check();
    } catch (e) {
      if (e instanceof MemoryRefusal) throw Object.assign(e, { message: renameFlags(e.message, names) });
    }
  };
  const read = modelReader();
  const model = read(point.model.onnx);
  const structure = model?.structure;
  if (model && structure) {
    const { dir, onnx } = point.model;
    const limits = inputLimits(model.graph, structure);
    if (point.outputDir === null)
      onlyMemory(EVAL_SETTING_NAMES, () => {
        const maxLength = sweepEvalLength(point.eval.maxLength, readModelConfig(dir), limits, dir, onnx);
        checkEvalBatch(point, point, structure, limits.fixedSequence ?? undefined, maxLength, dir, point.glueDir, onnx, memory);
      });
    const subject = { path: onnx, model: model.graph, structure };
    onlyMemory(BENCH_SETTING_NAMES, () => checkShapesFit(benchShapes(point.bench.batch, point.bench.seq, [subject]), [subject], memory));
  }
  // (the latencies its bench keeps: of its model, and of a variant's baseline timed beside it)
  onlyMemory(BENCH_SETTING_NAMES, () =>
    checkRepeats({ repeats: point.bench.repeats, maxSeconds: point.bench.maxTime }, point.outputDir !== null ? 2 : 1, memory),
  );
  for (const t of point.training?.steps ?? []) onlyMemory({}, () => checkSizedStudent(t, read, memory));
}

/**
 * Refuses, before any point runs, a step of `p` on model `onnx` (its .onnx) that the point would refuse on what the
 * plan knows of the models it reads, in one walk through the pipeline's steps with the model so far (SoFar) followed
 * through them: a graph step on a Distilled BiLSTM that has no recurrent form or whose settings that form refuses
 * (afterPass); a distill step's augment on a teacher whose word embeddings or tokenizer it cannot use (checkAugment); a bert:… student whose width its heads do not divide, or a bert:… or bilstm:… one too large for memory (checkSizedStudent), a model fed its teacher's tokenizer's
 * token types that has fewer than its template gives the task's texts (checkStepTypes), a student model whose id2label cannot be read as the
 * task's labels (checkStudentLabels), a maxLength beyond the position
 * table of a model the step runs at that length (checkStepLength), and a distill step's intermediate-layer matches
 * that do not fit the teacher's and student's depths or layers, or a student that has no layers to match
 * (checkLayerMatches); and share-layers after prune-heads by ratio where no choice of its heads leaves the layers
 * of each group as many (shareAfterRatio; where only some choices do, a warning line to `warn`). The models (the
 * point's, a teacher, a student model) are read by `read`, once per plan. Where
 * something is not known here (a graph that cannot be read, a bilstm:… student's depth, settings a pass refuses on
 * the model, the heads a graph pass leaves) the step is left to its point. Said as the point says it (stepRefusal),
 * after the file, the pipeline, the model and the step.
 */
function checkSteps(
  spec: SweepSpec,
  m: ModelSpec,
  p: PipelineSpec,
  onnx: string,
  training: readonly PointTrainingStep[],
  read: ModelReader,
  tokenizers: TokenizerReader,
  glueDir: string,
  memory: number,
  warn?: (line: string) => void,
): void {
  const steps = new Map(training.map((t) => [t.index, t]));
  let sofar = modelSoFar(read(onnx), onnx, onnx);
  p.steps.forEach((s, i) => {
    const t = steps.get(i);
    try {
      if (!t) {
        int4Refusal(s, sofar.int4Before);
        const uneven = s.pass === 'share-layers' ? shareAfterRatioSoFar(getPass(s.pass).check(s.settings), sofar, 'the point') : undefined;
        if (uneven)
          warn?.(`warning: ${spec.display}: pipeline ${quotedText(p.label)} on model ${quotedText(m.name)}, ${stepName(i, 'share-layers')}: ${uneven}`);
        sofar = afterPass(s, i, sofar);
        return;
      }
      checkTeacher(t, read);
      checkTeacherTokenizer(t, onnx);
      // (what no maxLength mends, before the lengths, as training checks it)
      checkStudentVocab(t, t === training[0] ? onnx : undefined, read);
      checkStepTypes(t, t === training[0] ? onnx : undefined, read, tokenizers);
      // (training is in step order; a later train step trains the student of the steps before it, whose position table is not read here)
      checkStepLength(t, t === training[0] ? onnx : undefined, spec.eval.maxLength, read, tokenizers);
      // (then, as training checks them once it has its length: the student it makes, its layer matches, its steps, its augmentation)
      checkSizedStudent(t, read, memory);
      checkStudentLabels(t, read);
      sofar = trainedModel(t, sofar, read);
      checkLayerMatches(t, sofar, read);
      // (its optimizer steps, which training counts before its augmentation begins)
      checkStepCounts(t, glueDir);
      checkAugment(t, read, tokenizers);
    } catch (e) {
      throw stepRefusal(spec, m, p, i, e);
    }
  });
  // (the last step that gives the trained model other inputs and vocabulary than the model so far's: the point's result has them)
  const last = training.filter((t) => studentOrigin(t) !== undefined).at(-1);
  try {
    if (last) checkBenchable(last, onnx, read);
  } catch (e) {
    throw stepRefusal(spec, m, p, last!.index, e);
  }
}

/**
 * The kind of model a point's training steps train (PointTraining.studentKind), as the first of them makes it (a
 * student is a first step's only; a later step trains what it made): a bilstm:… student, or a Distilled BiLSTM this
 * tool wrote given by path or as the model so far (`modelOnnx`: graph steps keep a model's kind), is 'bilstm';
 * every-other, a bert:… student or an encoder given so is 'bert'; undefined where the plan cannot read the model
 * (its point says why it cannot train it).
 */
function trainedStudentKind(training: readonly PointTrainingStep[], modelOnnx: string, read: ModelReader): StudentKind | undefined {
  const first = training[0];
  if (first === undefined) return undefined;
  if (first.student !== undefined && first.studentSha256 === undefined) return studentSpecKind(first.student);
  return modelKind(read(studentOnnx(first) ?? modelOnnx));
}

/** The kind of student `model` is (as a plan read it): a BERT where its structure is found, a Distilled BiLSTM this tool wrote; else undefined. */
function modelKind(model: PlanModel | undefined): StudentKind | undefined {
  if (model?.structure) return 'bert';
  return model && savedBilstmOutputs(model.graph) !== undefined ? 'bilstm' : undefined;
}

/** Kinds of the models storedStudentKind read, by identity (modelSha256): a model's kind is its bytes'. */
const KINDS_BY_MODEL = new Map<string, StudentKind | undefined>();

/**
 * The kind of model a stored point's training steps train (`plan`: by any code, as read back, unchecked), as
 * pointStudentKind says; else, in a plan stored before the kind was kept whose first training step trains a student
 * model given by path or the model so far, that model's kind (as the plan finds it: trainedStudentKind) where the
 * file is still the model the plan read: its stamps hold, or it hashes as the plan recorded (`modelHash`: stale.ts
 * currentModelHashes). Undefined where neither tells: the model gone, unreadable or changed since (its point's data
 * change says so), or a point that does not train.
 */
export function storedStudentKind(plan: unknown, modelHash: (onnx: string) => string | undefined): StudentKind | undefined {
  const p = (plan ?? {}) as Partial<SweepPoint>;
  const known = pointStudentKind(p as SweepPoint);
  if (known !== undefined || !p.training || !Array.isArray(p.training.steps)) return known;
  const first = [...p.training.steps].sort((a, b) => a?.index - b?.index)[0];
  if (!first) return undefined;
  const read = first.studentSha256 !== undefined ? { onnx: studentOnnx(first), sha256: first.studentSha256, stamps: first.studentStamps } : p.model;
  if (typeof read?.onnx !== 'string' || typeof read.sha256 !== 'string') return undefined;
  if (!KINDS_BY_MODEL.has(read.sha256)) {
    if (!stampsHold(read.stamps) && modelHash(read.onnx) !== read.sha256) return undefined;
    KINDS_BY_MODEL.set(read.sha256, modelKind(readModel(read.onnx)));
  }
  return KINDS_BY_MODEL.get(read.sha256);
}

/**
 * The model whose inputs (and vocabulary) the student a distill step trains is written with: a student model given
 * by path (a first step's), else its teacher for a student it builds (every-other, bert:…, bilstm:…, which have
 * the teacher's vocabulary), by the setting that names it; undefined for a step training the model so far.
 */
function studentOrigin(t: PointTrainingStep): { onnx: string; setting: string } | undefined {
  if (t.kind !== 'distill' || t.student === undefined || t.teacher === undefined) return undefined;
  const onnx = studentOnnx(t);
  if (onnx !== undefined) return { onnx, setting: '--student' };
  return t.studentSha256 === undefined ? { onnx: t.teacher, setting: '--teacher' } : undefined;
}

/**
 * Throws a SettingsError for a distill step whose trained student cannot be benchmarked against `model`, the point's
 * model, which every point's bench compares it with (--baseline): its inputs, written as the model it takes them from
 * reads them (studentOrigin), are inputs `model` does not have or of other element types, or its vocabulary is
 * another size (bench's incomparable; a bilstm:… student's too, whose table is its teacher's size), or its inputs fix
 * another batch size or sequence length than `model`'s (fixedDimsConflict; training keeps a student's fixed inputs),
 * where the point failed when it benchmarked the model it had trained. A model not read here is left to the point.
 */
function checkBenchable(t: PointTrainingStep, model: string, read: ModelReader): void {
  const origin = studentOrigin(t)!;
  const from = read(origin.onnx);
  const to = read(model);
  if (origin.onnx === model || !from || !to) return;
  const student: BenchSubject = { path: origin.onnx, model: from.graph, ...(from.structure ? { structure: from.structure } : {}) };
  const baseline: BenchSubject = { path: model, model: to.graph, ...(to.structure ? { structure: to.structure } : {}) };
  const why = incomparable(student, baseline, false) ?? fixedDimsConflict([student, baseline]);
  if (why)
    throw new SettingsError(
      `the student it trains takes its inputs and vocabulary from ${origin.onnx} (${origin.setting}), and each point benchmarks it with ${model} as its baseline, and bench compares no such models: ${why}`,
    );
}

/**
 * Throws training's refusal of a distill step's teacher that is a Distilled BiLSTM (recurrentTeacherRefusal), or that
 * discovery refuses (not a BERT-family encoder: its NotBertError, named 'teacher'), or whose classifier cannot teach
 * the step's task (checkTaskTeacher: another width, none, another GLUE task's labels), where the point failed when it
 * ran.
 */
function checkTeacher(t: PointTrainingStep, read: ModelReader): void {
  const teacher = t.teacher === undefined ? undefined : read(t.teacher);
  if (teacher && !teacher.structure && recurrentModelLstm(teacher.graph)) throw recurrentTeacherRefusal();
  // (discovery's refusal, as training's teacherShape words it)
  if (teacher?.notBert) findBert(teacher.graph, { label: 'teacher' });
  if (t.kind !== 'distill' || !teacher?.structure) return;
  const task = getTask(t.task);
  const dir = locateModel(t.teacher!).dir;
  const config = task.regression ? EMPTY_MODEL_CONFIG : readModelConfig(dir);
  checkTaskTeacher(task, teacher.structure.head, config.id2label, t.teacher!, config.file ?? join(dir, 'config.json'), teacher.graph, teacher.structure);
}

/**
 * Throws training's refusal (checkEncodings' DataError, as the point checks its training set) of a model a distill
 * step feeds its teacher's tokenizer's token types that has fewer token types than that tokenizer's template gives
 * the task's texts (a sentence pair's second sentence, a Funnel tokenizer's [CLS] of type 2): the teacher, a student
 * model given by path, and `model`, the point's model a first distill step without a student trains (graph steps
 * before it keep its token types). Each is named after its file by the setting that gives it ('(distill.teacher)').
 * Checked as training checks them (checkTrainingTemplateTypes), before the step's length, whatever it is; a model or
 * tokenizer not read here is left to the point.
 */
function checkStepTypes(t: PointTrainingStep, model: string | undefined, read: ModelReader, tokenizers: TokenizerReader): void {
  if (t.kind !== 'distill' || t.teacher === undefined) return;
  const pair = getTask(t.task).textColumns.length === 2;
  const dir = locateModel(t.teacher).dir;
  const fed: Array<[string | undefined, string]> = [
    [t.teacher, '--teacher'],
    [studentOnnx(t), '--student'],
    [t.student === undefined ? model : undefined, 'the model the step trains'],
  ];
  for (const [onnx, who] of fed) {
    const graph = onnx === undefined ? undefined : read(onnx);
    const tokenizer = graph?.structure ? tokenizers.tokenizer(dir) : undefined;
    if (!graph?.structure || !tokenizer) continue;
    checkTrainingTemplateTypes(tokenizer, [[inputLimits(graph.graph, graph.structure), `${onnx} (${who})`]], pair);
  }
}

/**
 * Throws a DataError for a distill step whose teacher, named in another folder than the point's model `onnx`, has no
 * tokenizer in its folder (a teacher .onnx file alone in one, or a link to one from elsewhere): the step reads its
 * examples with its teacher's tokenizer, and every point of it failed when it began. A tokenizer there that cannot be
 * read is left to the point; the model's own is its baseline's too.
 */
function checkTeacherTokenizer(t: PointTrainingStep, onnx: string): void {
  if (t.kind !== 'distill' || t.teacher === undefined) return;
  const dir = locateModel(t.teacher).dir;
  if (realpathSync(dir) === realpathSync(locateModel(onnx).dir)) return;
  if (holdsNoTokenizer(dir))
    throw new DataError(
      `the teacher ${t.teacher} (--teacher) has no tokenizer in its folder ${dir} (${TOKENIZER_FILES}), which the step reads its examples with: name the teacher's folder, or put its tokenizer beside it`,
    );
}

/**
 * Throws augmentation's refusals of a distill step with augment, in the order the point makes them when its
 * augmentation begins: a teacher whose word embeddings, which give the neighbours, cannot be read as one table
 * (wordEmbeddingsRefusal: quantized, factorized); a tokenizer, its teacher's folder's, as the point reads it, without a
 * WordPiece vocabulary (loadWordVocab's: a byte-level BPE or Unigram one, XLM-R, RoBERTa). A teacher or tokenizer
 * that cannot be read here, or a vocabulary that cannot (a DataError), is left to the point.
 */
function checkAugment(t: PointTrainingStep, read: ModelReader, tokenizers: TokenizerReader): void {
  if (t.kind !== 'distill' || !(t.distill?.augment ?? 0) || t.teacher === undefined) return;
  const teacher = read(t.teacher);
  const refused = teacher?.structure && wordEmbeddingsRefusal(teacher.graph, teacher.structure.embeddings.word);
  if (refused) throw new SettingsError(refused);
  // (the teacher's tokenizer and vocabulary read once per plan, where every augmenting point read them again)
  const vocabulary = tokenizers.augmentRefusal(locateModel(t.teacher).dir);
  if (vocabulary) throw vocabulary;
}

/**
 * The model so far in a pipeline's steps, as the plan knows it: its depth, and (RatioSoFar, followed by
 * ratioSoFarAfter) the heads of each of its layers, or the most each has after prune-heads by ratio, the last prune by
 * ratio, and its layers reading one copy of their attention weights, by group (PassShape.shared).
 */
interface SoFar extends RatioSoFar {
  layers: number | undefined;
  /** Its widths (PassShape's hidden, ffn, attention and embedding), each where known: see widthsAfter. */
  widths?: Widths;
  /** The weights quantize targets stored float16, bfloat16 or float64 (PassShape.notFloat32 the first), where known: see notFloat32After. */
  notFloat32?: NotFloat32;
  /**
   * Set where layers of the model read here share their attention weights but not every weight matrix (not as
   * share-layers shares them): a training step's rebuild gives such layers their own weights (canonical.ts
   * layerGroups), so `shared` is not carried through one.
   */
  partlyShared?: true;
  /**
   * Set when it is a Distilled BiLSTM (recurrentModelLstm, float or int8): `read`, its graph as read here from `file`
   * (as a refusal names it) while no step has changed it since (the pass's recurrent form and training check it);
   * `int8`, its LSTM stored in int8 by a graph step before (quantize int8, the one pass with a recurrent form).
   */
  recurrent?: { read: { graph: Model; file: string } | undefined; int8?: boolean };
  /**
   * Set on a model read here that discovery refuses (not a Distilled BiLSTM) and the passes could otherwise rewrite
   * (rewriteBlocker): discovery's refusal, which a graph step on it fails with when its point runs (runPipeline).
   */
  notBert?: NotBertError;
  /**
   * The encoder as read here (its graph, weights' dims and data types, and structure) while no step has changed it
   * since but those the plan follows (FOLLOWED: drop-layers, optimize, whose rewrite of it is here instead): each graph
   * step on it is asked whether it would refuse it (Pass.checkModel: weights stored quantized or in float16, which the
   * passes that rewrite float weights refuse), and a train / distill step training it whether its weights are stored
   * quantized (storedQuantizedRefusal, naming it by `file`, or after a followed step by that step: `made`, its index
   * in the pipeline and its pass).
   */
  // (onnx: the model's file, where the quantized-training refusal finds the float model its lineage names: quantizedFrom)
  read?: { graph: Model; structure: BertStructure; file: string; onnx?: string; made?: { index: number; pass: string } };
  /**
   * The model as read here where it stores weights of its layers quantized (widthsOf knows none of its widths then)
   * and no step since changed it but factorize-embeddings, which rewrites its word embedding only (and the steps
   * the plan follows, FOLLOWED, as it rewrites them): each step reading
   * only its layers (asksLayers) is asked whether it would refuse them (Pass.checkModel: weights stored quantized, which the
   * passes that rewrite float weights of the layers refuse), as it would have been asked of the model before; and a
   * second factorize-embeddings is refused as the table is `factorized` (PassShape's) by the first.
   */
  layersRead?: ReadModel & { factorized: NonNullable<PassShape['factorized']> };
  /**
   * Set by a quantize step on the model as read that stores every weight quantize targets in integers there
   * (leftFloatBy 'none': int8-static or int4-block on a model without a fused Attention; int8 and int8-group are
   * refused in the sweep file, on any model): that step's mode, which a quantize step right after it (or after passes
   * that write no float weight but in place of one: KEEPS_QUANTIZED) finds nothing to quantize after. `leftFloat` where it kept some
   * weights float, each an embedding table (embeddings: false) or a fused Attention's packed weight (int8-static,
   * int4-block: ORT's fused models; a table no Gather reads, in every mode), and stored every other weight so:
   * `left`, those weights of the model read (`graph`, `structure`), or of it as the steps since left it (keptQuantized:
   * drop-layers' layers dropped, optimize's embeddings fused); a quantize step after it that leaves them float too
   * (plannedFloat: any mode but mixed and float16) quantizes no weight.
   */
  quantizedAll?: { mode: string; leftFloat?: LeftFloat };
  /**
   * Set by a quantize step on a model no longer read here (after a step the plan does not follow) where the widths
   * the plan knows tell what it left float, some weights (every one stored quantized: quantizedAll): those weights
   * (shape-quantize.ts), which a quantize step right after it that leaves them float too is refused for.
   */
  shapeLeft?: ShapeLeft;
  /**
   * Set by a quantize int4-block step, which the sweep file lets prune-heads and prune-ffn follow (spec.ts
   * quantizedBefore): its mode, its step (counted from 1) and the widths and heads of the model it quantized where known
   * (`at`), kept through the prune steps after it (they slice only float weights) and optimize (which fuses only float
   * weights) and forgotten at any other step (the plan
   * cannot tell then): MatMulNBits stores a projection quantized where its blocks take fewer bytes than float
   * (int4StoresLess), and leaves it float otherwise, so that those passes run on a model narrower than the blocks.
   */
  int4Before?: { mode: string; step: number; blockSize: number; symmetric: boolean; at?: Pick<SoFar, 'heads' | 'headsAtMost' | 'widths'> };
}

const UNKNOWN: SoFar = { layers: undefined, heads: undefined };

/** A weight quantize refuses as stored float16, bfloat16 or float64 (PassShape.notFloat32). */
type StoredWeight = NonNullable<PassShape['notFloat32']>;

/**
 * The weights quantize targets that a model stores float16, bfloat16 or float64, as the plan carries them through the
 * steps it does not follow (notFloat32After) to tell a quantize step the first (firstNotFloat32, PassShape.notFloat32,
 * which quantize refuses): by encoder layer, the first of its attention's targets and the first of its FFN's
 * (`target` without the layer's 'layerN.', which drop-layers renumbers), and the first outside the layers (`rest`:
 * pooler, head, embedding tables; `restUnknown` where a step may have rewritten them).
 */
interface NotFloat32 {
  layers: readonly { attention?: StoredWeight; ffn?: StoredWeight }[];
  rest?: StoredWeight;
  restUnknown?: true;
}

/** The weights quantize targets that `graph` of structure `s` stores float16, bfloat16 or float64 (NotFloat32), or undefined where none. */
function notFloat32Of(graph: Model, s: BertStructure): NotFloat32 | undefined {
  const stored = notFloat32Targets(graph, s);
  if (!stored.length) return undefined;
  const layers: { attention?: StoredWeight; ffn?: StoredWeight }[] = s.layers.map(() => ({}));
  let rest: StoredWeight | undefined;
  for (const w of stored) {
    const inLayer = /^layer(\d+)\.((attention|ffn)\..*)$/.exec(w.target);
    const layer = inLayer && layers[Number(inLayer[1])];
    if (!layer) rest ??= w;
    else layer[inLayer[3] as 'attention' | 'ffn'] ??= { ...w, target: inLayer[2]! };
  }
  return { layers, ...(rest ? { rest } : {}) };
}

/** The first weight of `n` quantize refuses (PassShape.notFloat32: its target named by its layer), where known. */
function firstNotFloat32(n: NotFloat32 | undefined): PassShape['notFloat32'] {
  if (!n) return undefined;
  for (const [i, l] of n.layers.entries()) {
    const w = l.attention ?? l.ffn;
    if (w) return { ...w, target: `layer${i}.${w.target}` };
  }
  return n.restUnknown ? undefined : n.rest;
}

/**
 * The widths of a model as PassShape gives them to a pass's checkShape; `embeddingOf`, where `embedding` is known, the
 * model read here whose embeddings the model so far still has (no step since changed them), which says whether a later
 * optimize fuses its word embedding (embedLayerNormNode); `attentionOf`, the model read here whose layers' attention
 * the model so far still has (no step since but prune-ffn and factorize-embeddings), which says which layers a later
 * optimize fuses Q, K and V of (fusedLayers).
 */
type Widths = Pick<PassShape, 'hidden' | 'ffn' | 'attention' | 'embedding' | 'factorized' | 'fusedEmbedding' | 'embeddingMapping'> &
  Pick<KnownShape, 'outside'> & {
    embeddingOf?: ReadModel;
    attentionOf?: ReadModel;
  };

/** A model read here: its graph (dims and data types) and structure. */
type ReadModel = { graph: Model; structure: BertStructure };

/**
 * The widths of a model read here, `graph` of structure `s` (structureShape's), where every weight quantize targets is
 * stored in a float type (float32, or float16, bfloat16, float64, which every pass but quantize rewrites, and quantize
 * refuses first: PassShape.notFloat32): a model stored quantized is refused for that first by the passes whose
 * checkShape reads them, or by the plan before (training).
 */
function widthsOf(graph: Model, s: BertStructure): Widths | undefined {
  if (quantizationTargets(s).some((t) => storedNotFloat(graph, t))) return undefined;
  const { hidden, ffn, attention } = structureShape(s);
  const embedding = factorizableTable(graph, s);
  // (a word embedding factorized already, as factorize-embeddings finds it after a fused table and ALBERT's mapping)
  const { word, fusedNode, mapping } = s.embeddings;
  const factorized = !fusedNode &&
    word.gather &&
    !mapping &&
    word.projection && { weight: word.weight, projection: word.projection.weight, rank: word.projection.inFeatures };
  // (the input widths of the projections outside the layers, which no pass but quantize rewrites)
  const outside = quantizationTargets(s).flatMap((t) => (t.kind === 'linear' && t.layer === undefined ? [{ id: t.id, input: t.linear.inFeatures }] : []));
  return {
    hidden,
    ffn,
    outside,
    ...(attention ? { attention, attentionOf: { graph, structure: s } } : {}),
    ...(embedding ? { embedding, embeddingOf: { graph, structure: s } } : {}),
    ...(factorized ? { factorized } : {}),
    ...(fusedNode ? { fusedEmbedding: fusedNode } : {}),
    ...(mapping ? { embeddingMapping: { inFeatures: mapping.inFeatures, outFeatures: mapping.outFeatures } } : {}),
  };
}

/** optimizedModel's answers, by the graph it rewrote and the rewrites (their list, as parseRewrites gives them). */
const OPTIMIZED = new WeakMap<Model, Map<string, ReadModel | undefined>>();

/**
 * `of` (a model read here, or one a followed step left) after optimize with `rewrites`: the pass's own rewrite of its
 * graph, and its structure discovered again; undefined where the rewrite fails or leaves no encoder found. Rewritten
 * once per graph and rewrites (OPTIMIZED): a sweep's points ask it of the model they read here, point after point.
 */
function optimizedModel(of: ReadModel, rewrites: readonly string[]): ReadModel | undefined {
  const key = rewrites.join(',');
  const answers = OPTIMIZED.get(of.graph) ?? new Map<string, ReadModel | undefined>();
  OPTIMIZED.set(of.graph, answers);
  if (!answers.has(key))
    answers.set(
      key,
      rewrittenModel(of, (graph, structure) => optimizeModel(graph, structure, { rewrites: new Set(rewrites) as OptimizeOptions['rewrites'] }).model),
    );
  return answers.get(key);
}

/** The structure of optimizedModel's answer. */
function optimizedStructure(of: ReadModel, rewrites: readonly string[]): BertStructure | undefined {
  return optimizedModel(of, rewrites)?.structure;
}

/**
 * By encoder layer, whether optimize with `rewrites` leaves its attention fused (PassShape's attention.fused: a
 * first-token last layer, or a layer it cannot fuse, stays unfused) on a model whose layers' attention is that of
 * `of` (optimizedStructure); undefined where the rewrite fails.
 */
function fusedLayers(of: ReadModel, rewrites: readonly string[]): readonly boolean[] | undefined {
  const s = optimizedStructure(of, rewrites);
  return s && s.numLayers === of.structure.numLayers ? structureShape(s).attention?.fused : undefined;
}

/**
 * The EmbedLayerNormalization node optimize's embed-layernorm rewrite reads the word embedding of `of` by
 * (optimizedStructure), or undefined where it leaves the embeddings unfused.
 */
function embedLayerNormNode(of: ReadModel): string | undefined {
  return optimizedStructure(of, ['embed-layernorm'])?.embeddings.fusedNode;
}

/** The one step that leaves a model's layers as they were and is not followed (SoFar.layersRead). */
const KEEPS_LAYERS = 'factorize-embeddings';

/**
 * Whether step `s`'s checkModel reads of a model stored quantized only its layers, their depth, heads and weights as
 * stored (SoFar.layersRead): prune-heads, prune-ffn and share-layers, and quantize float16, which refuses the first
 * weight stored quantized (the word embedding, which factorize-embeddings rewrites, float where it does).
 */
function asksLayers(s: PassStep): boolean {
  return (
    ['prune-heads', 'prune-ffn', 'share-layers'].includes(s.pass) ||
    (s.pass === 'quantize' && parseMode(getPass(s.pass).check(s.settings).mode).kind === 'float16')
  );
}

/** Whether `m`, a model read here, stores a weight quantize targets in its layers in an integer type (quantized). */
function storesLayersQuantized(m: ReadModel): boolean {
  return quantizationTargets(m.structure).some((t) => t.kind !== 'embedding' && t.layer !== undefined && storedNotFloat(m.graph, t));
}

/** Whether `graph` stores the weight of target `t` in other than a float type: an integer type (quantized), or none (not an initializer). */
function storedNotFloat(graph: Model, t: Target): boolean {
  // (0: UNDEFINED, a weight that is not an initializer)
  return !isFloatType(graph.graph.initializers.get(targetWeight(t))?.dataType ?? 0);
}

/**
 * The weights of the model read (its `graph` and `structure`) that a quantize step of `options` left float
 * (SoFar.quantizedAll's leftFloat).
 */
type LeftFloat = ReadModel & { left: readonly Target[]; options: QuantizeOptions };

/**
 * SoFar.quantizedAll's leftFloat of quantize with options `o` on the model read, `m`, from one plannedFloat: 'none'
 * where it stores every weight it targets quantized (int8, int8-group, int8-static and int4-block with embeddings on a
 * model without a fused Attention whose tables Gathers read); the weights it leaves float (one at least, not all) where
 * each is a fused Attention's packed weight, an embedding table or a projection int4-block's blocks would store in more
 * bytes than float (a model narrower than the blocks: planInt4); undefined where it leaves another float, targets
 * nothing, or cannot tell (mixed: its budget decides on the weights; float16; settings it refuses).
 */
function leftFloatBy(m: ReadModel, o: QuantizeOptions): LeftFloat | 'none' | undefined {
  const left = plannedFloat(m.structure, o);
  const targets = quantizationTargets(m.structure).length;
  if (left === undefined || targets === 0) return undefined;
  if (left.length === 0) return 'none';
  if (!left.every((t) => t.kind === 'attention' || t.kind === 'embedding' || (t.kind === 'linear' && o.mode.kind === 'int4-block'))) return undefined;
  return left.length < targets ? { graph: m.graph, structure: m.structure, left, options: o } : undefined;
}

/**
 * SoFar.quantizedAll's leftFloat `f` after optimize with `rewrites` (OptimizeOptions'), as the point's rewrite leaves
 * the model, on the model read (optimizedModel) where it fuses weights `f` left float: the attention rewrite fuses Q,
 * K and V into one Attention where they are float (int4-block's on a model narrower than its blocks: all three read
 * the encoder's width, so it left every layer's float, or none), whose packed weight a quantize step after leaves
 * float in int4-block and int8-static (plannedFloat); embed-layernorm fuses the embeddings, which it does of float
 * tables only, so where `f` left every table float, whose tables no Gather reads then, and which a quantize step after
 * leaves float in every mode, whatever its embeddings setting. `f` where it fuses none (optimize fuses no weight stored
 * quantized); undefined where `f` left some layers' Q, K and V float and not others' (the plan cannot tell), or where
 * the rewrite fails.
 */
function leftFloatAfterOptimize(f: LeftFloat, rewrites: readonly string[]): LeftFloat | undefined {
  const isLeft = (t: Target) => f.left.some((l) => l.id === t.id);
  const qkv = quantizationTargets(f.structure).filter((t) => t.kind === 'linear' && /\.attention\.[qkv]$/.test(t.id));
  const qkvLeft = qkv.filter(isLeft).length;
  const attention = rewrites.includes('attention') && qkvLeft > 0;
  if (attention && qkvLeft < qkv.length) return undefined;
  const tables = quantizationTargets(f.structure).filter((t) => t.kind === 'embedding');
  const gathered = tables.length > 0 && tables.every((t) => targetNode(t) !== undefined && isLeft(t));
  const embed = gathered && rewrites.includes('embed-layernorm');
  if (!attention && !embed) return f;
  // (the rewrites as the point applies them: first-token leaves the last layer's attention unfused; embed-layernorm
  // only where it fuses float tables)
  const fused = optimizedModel(f, attention ? rewrites.filter((r) => r !== 'embed-layernorm' || embed) : ['embed-layernorm']);
  if (!fused) return undefined;
  if (!attention && !fused.structure.embeddings.fusedNode) return f;
  // (the weights left float, as the fused model names them: a fused Attention's packed weight of Q, K and V left float)
  const left = quantizationTargets(fused.structure).filter((t) => (attention && t.kind === 'attention') || isLeft(t));
  return attention || left.length === f.left.length ? { ...fused, left, options: f.options } : f;
}

/**
 * SoFar.quantizedAll's leftFloat `f` after drop-layers with `options`: the model read with those layers dropped (as
 * the point renumbers them) and, of its weights, the fused Attentions' (where `f` left them float: int8-static and
 * int4-block leave every one so, in whichever layers are kept), the tables `f` left float and the projections of the
 * layers kept that `f`'s quantize step leaves float (int4-block's, by their widths) where it left some (none: every
 * weight stored quantized); undefined where the rewrite fails (the point says why).
 */
function leftFloatAfterDrop(f: LeftFloat, options: DropLayersOptions): LeftFloat | undefined {
  const m = rewrittenModel(f, (graph, structure) => dropLayers(graph, structure, options).model);
  if (!m) return undefined;
  const fused = f.left.some((t) => t.kind === 'attention');
  const projections = f.left.some((t) => t.kind === 'linear') ? plannedFloat(m.structure, f.options)?.filter((t) => t.kind === 'linear') : [];
  if (!projections) return undefined;
  const left = quantizationTargets(m.structure).filter(
    (t) => (fused && t.kind === 'attention') || (t.kind === 'embedding' && f.left.some((l) => l.id === t.id)) || projections.some((p) => p.id === t.id),
  );
  return { ...m, left, options: f.options };
}

/** The passes the sweep file lets follow quantize int4-block (SoFar.int4Before), which slice float weights. */
const SLICE_AFTER_INT4: ReadonlySet<string> = new Set(['prune-heads', 'prune-ffn']);

/** SoFar.int4Before after step `s` (at `index`, of options `options`: the pass's) of a model so far `sofar`. */
function int4After(s: PassStep, index: number, sofar: SoFar, options: unknown): Pick<SoFar, 'int4Before'> {
  if (s.pass === 'quantize') {
    const o = options as QuantizeOptions;
    if (o.mode.kind !== 'int4-block') return {};
    const at = { heads: sofar.heads, ...(sofar.headsAtMost ? { headsAtMost: sofar.headsAtMost } : {}), widths: sofar.widths };
    return { int4Before: { mode: modeName(o.mode), step: index + 1, blockSize: o.mode.blockSize, symmetric: o.symmetric, at } };
  }
  const before = sofar.int4Before;
  if (!before) return {};
  // (optimize keeps them: it fuses float weights only, Q, K and V into an Attention whose packed weight stays float, so
  // that what int4-block stored quantized is as it was)
  return { int4Before: SLICE_AFTER_INT4.has(s.pass) || s.pass === 'optimize' ? before : { ...before, at: undefined } };
}

/**
 * Refuses step `s`, prune-heads or prune-ffn, after quantize int4-block (`before`) where that step stored a weight it
 * slices quantized (a layer's Q, K, V or output projection, or its FFN's), or where the plan cannot tell (the model's
 * widths unknown there, or its heads known only at most, headsAtMost, where those would store one quantized), as the
 * point refuses a weight stored quantized. Fewer heads store none quantized where the most do not: int4StoresLess
 * grows with the input width (the output projection's, heads × head size), whatever the output width (Q, K and V's);
 * so where the most store Q, K and V quantized (input width: the encoder's), any heads do, which is said so.
 */
function int4Refusal(s: PassStep, before: SoFar['int4Before']): void {
  if (!before || !SLICE_AFTER_INT4.has(s.pass)) return;
  const { hidden, ffn, attention } = before.at?.widths ?? {};
  const heads = before.at?.heads ?? before.at?.headsAtMost;
  const fix = `put ${s.pass} before quantize`;
  const quantized = (K: number, N: number) => int4StoresLess(K, N, before.blockSize, before.symmetric);
  let found: { layer: number; what: string; K: number; qkv?: true } | undefined;
  let known = hidden !== undefined;
  if (s.pass === 'prune-heads') {
    known &&= heads !== undefined && attention !== undefined;
    heads?.forEach((h, l) => {
      if (found || !known || h === 0) return;
      const width = h * attention!.headSize;
      // (a fused Attention's packed Q, K and V stay float: MatMulNBits replaces MatMul and Gemm only)
      if (!attention!.fused?.[l] && quantized(hidden!, width)) found = { layer: l, what: 'attention', K: hidden!, qkv: true };
      else if (quantized(width, hidden!)) found = { layer: l, what: 'attention', K: width };
    });
  } else {
    known &&= ffn !== undefined;
    ffn?.forEach((width, l) => {
      if (found || !known) return;
      if (quantized(hidden!, width)) found = { layer: l, what: 'feed-forward', K: hidden! };
      else if (quantized(width, hidden!)) found = { layer: l, what: 'feed-forward', K: width };
    });
  }
  const by = `quantize ${before.mode} before it (step ${before.step})`;
  // (the most heads storing one quantized: the heads chosen may not; a prune-ffn's widths are known whatever the heads)
  if (found && s.pass === 'prune-heads' && before.at?.heads === undefined) {
    // (but Q, K and V read the encoder's width whatever the heads, and 4-bit blocks store them in fewer bytes whatever
    // their output width: where no layer's attention is known fused, those of each layer the ratio left heads, one at
    // least, are stored quantized)
    const fused = attention!.fused;
    if (found.qkv && fused && !heads!.some((h, l) => h > 0 && fused[l]))
      throw new SettingsError(
        `${s.pass}: ${by} stores the Q, K and V weights of each layer with heads quantized (4-bit blocks of ${before.blockSize} on their input width ${hidden}, whichever heads the prune-heads by ratio before it left), and ${s.pass} slices float weights: ${fix}`,
      );
    known = false;
  }
  if (!known)
    throw new SettingsError(
      `${s.pass}: ${by} stores a projection quantized where its 4-bit blocks take fewer bytes than float, which the plan cannot tell of the model there, and ${s.pass} slices float weights: ${fix}`,
    );
  if (found)
    throw new SettingsError(
      `${s.pass}: ${by} stores layer ${found.layer}'s ${found.what} weights quantized (4-bit blocks of ${before.blockSize} on its input width ${found.K}), and ${s.pass} slices float weights: ${fix}`,
    );
}

/**
 * The passes after which a model whose quantize targets are stored quantized (but those left float) still is so
 * (SoFar.quantizedAll): prune-heads and prune-ffn among them, which follow a quantize step only where int4-block left
 * float the projections they slice (SLICE_AFTER_INT4), and narrow those projections' inputs, so that a later
 * int4-block leaving them float on the wider model leaves them float on the narrower (int4StoresLess grows with the
 * input width, whatever the output width).
 */
const KEEPS_QUANTIZED: ReadonlySet<string> = new Set(['drop-layers', 'optimize', 'factorize-embeddings', ...SLICE_AFTER_INT4]);

/**
 * SoFar.quantizedAll `q` after step `s` (of KEEPS_QUANTIZED), of options `options`: its leftFloat as optimize
 * (leftFloatAfterOptimize) or drop-layers (leftFloatAfterDrop: none left, every weight stored quantized) leaves it,
 * as it was after factorize-embeddings and the prune steps (the weights left float on the wider model: see
 * KEEPS_QUANTIZED); none where the plan cannot tell (a rewrite failing, optimize's attention rewrite after Q, K and V
 * left float in some layers only).
 */
function keptQuantized(s: PassStep, options: unknown, q: NonNullable<SoFar['quantizedAll']>): Pick<SoFar, 'quantizedAll'> {
  const f = q.leftFloat;
  if (!f || s.pass === KEEPS_LAYERS || SLICE_AFTER_INT4.has(s.pass)) return { quantizedAll: q };
  const left =
    s.pass === 'optimize' ? leftFloatAfterOptimize(f, [...(options as OptimizeOptions).rewrites]) : leftFloatAfterDrop(f, options as DropLayersOptions);
  return !left ? {} : { quantizedAll: left.left.length ? { ...q, leftFloat: left } : { mode: q.mode } };
}

/**
 * A model read here from `onnx` (undefined: not read), named `file` (the sweep's model file, or a student's path as
 * given), as SoFar: its depth and heads, or a Distilled BiLSTM.
 */
function modelSoFar(model: PlanModel | undefined, file: string, onnx: string): SoFar {
  const widths = model?.structure && widthsOf(model.graph, model.structure);
  const notFloat32 = model?.structure && notFloat32Of(model.graph, model.structure);
  if (model?.structure) {
    const shared = sharingGroups(model.structure, 'attention');
    const whole = sharedLayerGroups(model.structure);
    return {
      layers: model.structure.numLayers,
      heads: headsOf(model.structure),
      shared,
      ...(shared.some((g) => g.some((l) => whole[l] !== whole[g[0]!])) ? { partlyShared: true as const } : {}),
      ...(widths ? { widths } : {}),
      ...(notFloat32 ? { notFloat32 } : {}),
      read: { graph: model.graph, structure: model.structure, file, onnx },
    };
  }
  if (model && recurrentModelLstm(model.graph)) return { ...UNKNOWN, recurrent: { read: { graph: model.graph, file } } };
  return model?.notBert && !rewriteBlocker(model.graph) ? { ...UNKNOWN, notBert: model.notBert } : UNKNOWN;
}

/**
 * How a refusal names the model SoFar's `read` holds: its file, or after a followed step the output of that step (a
 * file in the point's work folder when it runs), 'the output of step 1 (drop-layers) from FILE'.
 */
function readName(read: NonNullable<SoFar['read']>): string {
  return read.made ? `the output of ${stepName(read.made.index, read.made.pass)} from ${read.file}` : read.file;
}

/** The heads of each encoder layer of a discovered model (0 where it has no attention). */
function headsOf(s: BertStructure | undefined): readonly number[] | undefined {
  return s && structureShape(s).heads;
}

/**
 * The model so far after graph step `s`. On a Distilled BiLSTM, refuses the step as the point would: a pass without
 * a recurrent form (all but quantize), or settings that form refuses (quantize modes other than int8, format
 * standard; on a model read here, or after a step that quantized it, its LSTM stored in int8 already). On an encoder
 * as read here (or as a followed step before left it: FOLLOWED), what the pass refuses in it (Pass.checkModel: weights
 * stored quantized or in float16, fused ops); after a followed step, the model it leaves. On an encoder of a known
 * depth no longer read here (after a step the plan does not follow), what the pass refuses of that depth and its
 * heads where known (Pass.checkShape: a layer or head it lacks, more groups than its layers, or groups that mix layers of
 * other heads). On an encoder of a known depth, its depth through the pass's settings as they act on it (onModel) and
 * its heads where headsAfter knows them; unknown after settings the model cannot take (the point says why).
 */
function afterPass(s: PassStep, index: number, sofar: SoFar): SoFar {
  const pass = getPass(s.pass);
  if (sofar.recurrent) {
    if (!pass.recurrent) throw recurrentRefusal(pass.name);
    const options = pass.options(pass.check(s.settings));
    // (a step after quantize int8: its model's LSTM is int8, which the recurrent form refuses first, as on a model read so)
    if (sofar.recurrent.int8) throw quantizedLstmRefusal(options as QuantizeOptions);
    pass.recurrent.check(options, sofar.recurrent.read?.graph);
    return { ...UNKNOWN, recurrent: { read: undefined, int8: true } };
  }
  // (the step's settings checked and its options worked out once, for every question below: the model read here's
  // checks, quantize's targets, drop-layers' rewrite, int4-block's mode)
  const settings = pass.check(s.settings);
  // (a model discovery refuses: the point's pipeline refuses it after the steps' settings, before any pass runs)
  if (sofar.notBert) throw sofar.notBert;
  const stepOptions = pass.options(settings);
  // (after a quantize step that stored every weight quantized: quantize's own refusal when the point runs, after its
  // settings, naming its mode)
  const quantizedBefore = s.pass === 'quantize' ? sofar.quantizedAll : undefined;
  if (quantizedBefore && !quantizedBefore.leftFloat)
    throw new SettingsError(
      `quantize ${modeName((stepOptions as QuantizeOptions).mode)}: every weight is already quantized (by quantize ${quantizedBefore.mode} before it): quantize the float model instead`,
    );
  return { ...encoderAfter(s, index, sofar, settings, stepOptions), ...int4After(s, index, sofar, stepOptions) };
}

/** afterPass on an encoder: the model so far after graph step `s`, of `settings` (checked) and `stepOptions` (the pass's options). */
function encoderAfter(s: PassStep, index: number, sofar: SoFar, settings: Record<string, unknown>, stepOptions: unknown): SoFar {
  const pass = getPass(s.pass);
  const quantizedBefore = s.pass === 'quantize' ? sofar.quantizedAll : undefined;
  const read = sofar.read && { ...sofar.read, options: stepOptions };
  // (on the model as read: what the pass refuses in it, as the point would before any work; else on its depth and
  // heads where known, what the pass refuses of them)
  if (read) pass.checkModel?.(read.graph, read.structure, read.options);
  else if (sofar.layersRead && asksLayers(s)) pass.checkModel?.(sofar.layersRead.graph, sofar.layersRead.structure, stepOptions);
  else if (sofar.layersRead && s.pass === KEEPS_LAYERS)
    pass.checkShape?.(stepOptions, { numLayers: sofar.layersRead.structure.numLayers, factorized: sofar.layersRead.factorized });
  else if (sofar.layers !== undefined) {
    const notFloat32 = firstNotFloat32(sofar.notFloat32);
    pass.checkShape?.(stepOptions, {
      numLayers: sofar.layers,
      ...(sofar.heads ? { heads: sofar.heads } : {}),
      ...(sofar.shared ? { shared: sofar.shared } : {}),
      ...sofar.widths,
      ...(notFloat32 ? { notFloat32 } : {}),
    });
    if (s.pass === 'prune-heads' && typeof settings.heads === 'string' && !sofar.heads && sofar.headsAtMost)
      listedAfterRatio(settings.heads, sofar.headsAtMost);
  }
  // (after one that kept some weights float, a quantize step leaving them float too quantizes no weight, which the
  // point refuses after its checks of the settings)
  const before = quantizedBefore?.leftFloat;
  // (what this one leaves float of those, and why, as the point keeps them: none, every weight stored quantized)
  const keptAgain = before && plannedKept(before.structure, stepOptions as QuantizeOptions)?.filter((k) => before.left.some((l) => l.id === k.target.id));
  const stillFloat = keptAgain?.map((k) => k.target);
  if (before && keptAgain?.length === before.left.length) {
    // (a table no Gather reads stays float whatever the setting: tableWithoutGather says why, as the point does)
    const kept = keptAgain.map((k) => ({ target: k.target.id, reason: k.reason ?? tableWithoutGather(before.graph.graph, targetWeight(k.target)) }));
    throw new SettingsError(keptAllLine(stepOptions as QuantizeOptions, kept, quantizedBefore.mode));
  }
  const options = s.pass === 'quantize' && read ? (read.options as QuantizeOptions) : undefined;
  const leftFloat = options && leftFloatBy(sofar.read!, options);
  // (on a model no longer read here, what it leaves float as the widths known there tell: see shapeQuantized)
  const shapeLeft = s.pass === 'quantize' && !read && !sofar.layersRead && !before ? shapeQuantized(sofar, stepOptions as QuantizeOptions) : undefined;
  const leftByShape = shapeLeft && !noneLeft(shapeLeft) ? { shapeLeft } : {};
  // (kept through a pass that writes no float weight but in place of one: drop-layers removes layers, optimize fuses
  // no integer weight back, factorize-embeddings rewrites the word table, which it refuses unless left float, into
  // float factors that quantize's embeddings.word names alike)
  const mode = s.pass === 'quantize' ? modeName((stepOptions as QuantizeOptions).mode) : '';
  const quantizedAll = before
    ? stillFloat
      ? { quantizedAll: stillFloat.length ? { mode, leftFloat: { ...before, left: stillFloat, options: stepOptions as QuantizeOptions } } : { mode } }
      : {}
    : options && leftFloat === 'none'
      ? { quantizedAll: { mode: modeName(options.mode) } }
      : options && leftFloat !== undefined && leftFloat !== 'none'
        ? { quantizedAll: { mode: modeName(options.mode), leftFloat } }
        : shapeLeft && noneLeft(shapeLeft)
          ? { quantizedAll: { mode } }
          : sofar.quantizedAll !== undefined && KEEPS_QUANTIZED.has(s.pass)
            ? keptQuantized(s, stepOptions, sofar.quantizedAll)
            : {};
  // (drop-layers and optimize rewrite the graph, storing the weights as they were: the model each leaves is followed,
  // and asked as the one read here was)
  const rewrite = read && FOLLOWED[s.pass];
  const followed = rewrite ? rewrittenRead(read, { index, pass: s.pass }, (graph, structure) => rewrite(graph, structure, read.options)) : {};
  // (factorize-embeddings leaves the layers of a model stored quantized as they were, to be asked as read, and the
  // followed steps after it rewrite them as they rewrite a model read here, leaving its word embedding factorized)
  const layersRewrite = sofar.layersRead && FOLLOWED[s.pass];
  const factors = s.pass === KEEPS_LAYERS && sofar.read && factorNames(sofar.read.structure.embeddings.word.weight);
  const layersRead =
    factors && storesLayersQuantized(sofar.read!)
      ? {
          layersRead: {
            graph: sofar.read!.graph,
            structure: sofar.read!.structure,
            factorized: { weight: factors.a, projection: factors.b, rank: (settings as { rank: number }).rank },
          },
        }
      : layersRewrite
        ? rewrittenLayers(sofar.layersRead!, (graph, structure) => layersRewrite(graph, structure, stepOptions))
        : {};
  if (sofar.layers === undefined) return { layers: undefined, heads: undefined, ...quantizedAll, ...leftByShape, ...followed, ...layersRead };
  try {
    const on = pass.onModel(settings, { numLayers: sofar.layers });
    // (its heads, attention sharing and the last prune-heads by ratio, as runPipeline follows them too: ratioSoFarAfter)
    const { heads, headsAtMost, shared, ratioHeads } = on.shape
      ? ratioSoFarAfter(s.pass, on.settings, index, on.shape.numLayers, sofar)
      : ({ heads: undefined } as RatioSoFar);
    // (a followed step's widths are those of the model it leaves, as read here)
    const widths = !on.shape
      ? undefined
      : followed.read
        ? widthsOf(followed.read.graph, followed.read.structure)
        : sofar.widths && widthsAfter(s.pass, on.settings, sofar.widths);
    const notFloat32 = !on.shape
      ? undefined
      : followed.read
        ? notFloat32Of(followed.read.graph, followed.read.structure)
        : sofar.notFloat32 && notFloat32After(s.pass, on.settings, sofar.notFloat32, heads, sofar.partlyShared ? undefined : sofar.shared);
    // (the tables a quantize step on a model no longer read here left float, through drop-layers and optimize: fused
    // by its embed-layernorm where the widths after it name the node reading the word table)
    const tablesFused = widths?.fusedEmbedding !== undefined ? true : widths?.embedding ? false : undefined;
    const kept = sofar.shapeLeft && s.pass !== 'quantize' ? tablesLeftAfter(s.pass, sofar.shapeLeft, tablesFused) : undefined;
    const keptByShape = !kept ? {} : noneLeft(kept) ? { quantizedAll: { mode: kept.by! } } : { shapeLeft: kept };
    return {
      layers: on.shape?.numLayers,
      heads,
      ...(headsAtMost ? { headsAtMost } : {}),
      ...(ratioHeads ? { ratioHeads } : {}),
      ...(shared ? { shared } : {}),
      ...(sofar.partlyShared ? { partlyShared: sofar.partlyShared } : {}),
      ...(widths ? { widths } : {}),
      ...(notFloat32 ? { notFloat32 } : {}),
      ...quantizedAll,
      ...leftByShape,
      ...keptByShape,
      ...followed,
      ...layersRead,
    };
  } catch {
    return UNKNOWN;
  }
}

/**
 * What quantize step of options `o` leaves float of a model so far `sofar` that the plan no longer reads (after a step
 * it does not follow), as the widths known there tell (shape-quantize.ts): of the weights a quantize step right before
 * left float (SoFar.shapeLeft), or of every weight (a model stored quantized before but for those is stored quantized
 * after it alike, and one that quantizes none of a float model's quantizes none of it); refuses the step where it
 * quantizes none of them, as the point does. Undefined where the plan cannot tell.
 */
function shapeQuantized(sofar: SoFar, o: QuantizeOptions): ShapeLeft | undefined {
  const left =
    sofar.shapeLeft ??
    (sofar.widths &&
      floatWeights({ ...sofar.widths, ...(sofar.heads ? { heads: sofar.heads } : {}), ...(sofar.headsAtMost ? { headsAtMost: sofar.headsAtMost } : {}) }));
  return left && quantizedOnShape(left, o);
}

/**
 * The graph steps whose model the plan follows from the model as read here (SoFar's `read`), each by the pass's own
 * rewrite of the graph read without weight values: drop-layers (dropLayers, which reads none) and optimize
 * (optimizeModel, which reads the values of the weights it fuses, Q, K and V into one Attention's). The other graph
 * passes rewrite float weights, which a model stored quantized or in float16 (what the plan's checks refuse) does not
 * let them do, or (quantize) leave no float weight for the next check to find.
 */
const FOLLOWED: Readonly<Record<string, (graph: Model, structure: BertStructure, options: unknown) => Model>> = {
  'drop-layers': (graph, structure, options) => dropLayers(graph, structure, options as DropLayersOptions).model,
  optimize: (graph, structure, options) => optimizeModel(graph, structure, options as OptimizeOptions).model,
};

/**
 * SoFar's `read` after a followed step (FOLLOWED), `made` (its index in the pipeline and its pass), on the model
 * `read` as read here: `rewrite` of its graph and its structure discovered again, as the next step finds them when the
 * point runs (drop-layers' layers renumbered, optimize's fused ops; their weights stored as they were). Empty where
 * either fails (settings the model cannot take: the point says why).
 */
function rewrittenRead(
  read: NonNullable<SoFar['read']>,
  made: { index: number; pass: string },
  rewrite: (graph: Model, structure: BertStructure) => Model,
): Pick<SoFar, 'read'> {
  const m = rewrittenModel(read, rewrite);
  return m ? { read: { ...m, file: read.file, made } } : {};
}

/** SoFar's `layersRead` after a followed step (FOLLOWED): `rewrite` of `layers`, as rewrittenRead; empty where it fails. */
function rewrittenLayers(layers: NonNullable<SoFar['layersRead']>, rewrite: (graph: Model, structure: BertStructure) => Model): Pick<SoFar, 'layersRead'> {
  const m = rewrittenModel(layers, rewrite);
  return m ? { layersRead: { ...m, factorized: layers.factorized } } : {};
}

/**
 * `m` (a model read here, or one a step left) after `rewrite` of its graph, its structure discovered again, as the next
 * step finds them when the point runs; undefined where the rewrite fails or leaves no encoder found (settings the model
 * cannot take: the point says why). The one rewrite of a model the plan follows: rewrittenRead, rewrittenLayers,
 * optimizedModel and leftFloatAfterDrop ask it.
 */
function rewrittenModel(m: ReadModel, rewrite: (graph: Model, structure: BertStructure) => Model): ReadModel | undefined {
  try {
    const graph = rewrite(m.graph, m.structure);
    const structure = discovered(graph);
    return structure && { graph, structure };
  } catch {
    return undefined;
  }
}

/**
 * Refuses prune-heads' list `heads` on a model whose heads are known only at most (`atMost`: after prune-heads by
 * ratio, which chooses the heads it removes when it runs and numbers those it keeps anew), where the point would
 * remove heads the plan cannot tell of, or fail on a head the layer no longer has.
 */
function listedAfterRatio(heads: string, atMost: readonly number[]): void {
  const [layer, listed] = Object.entries(parseHeadList(heads))[0] ?? [];
  if (layer === undefined || !listed) return;
  const most = atMost[Number(layer)];
  throw new SettingsError(
    `prune-heads: it lists heads of layer ${layer} (${listed.join(', ')}) after prune-heads by ratio, which chooses the heads it removes when it runs and numbers those it keeps anew, so the plan cannot tell which heads layer ${layer} has there${most === undefined ? '' : ` (at most ${most})`}: list the heads before pruning by ratio, or prune by ratio alone`,
  );
}

/**
 * The widths of the model so far (PassShape's) after graph pass `pass` (its `settings` as they act on the model:
 * onModel) on a model of `widths`, where the plan knows them: prune-ffn keeps its share of each layer's FFN neurons
 * (keptNeurons, as it prunes), drop-layers removes its layers', prune-heads and share-layers keep them
 * (share-layers' groups have the same widths, as it asks), factorize-embeddings leaves its word embedding factorized
 * (into the factors it names: factorNames)
 * and optimize may fuse Q, K and V by its attention rewrite (its head size kept, which layers not known after it; as
 * they were without that rewrite) and, by its embed-layernorm, the
 * word embedding (the node reading it is known after it, where it fuses that of the model read here: fusedEmbedding,
 * embedLayerNormNode; a table it leaves unfused is known as before); embeddings mapped to the encoder's width
 * (embeddingMapping) and a factorized word embedding stay so; quantize stores its weights in other types, their dims
 * kept (quantizedWidths). Undefined otherwise.
 */
function widthsAfter(pass: string, settings: Record<string, unknown>, widths: Widths): Widths | undefined {
  const { hidden, ffn, attention, attentionOf, ...rest } = widths;
  // (the widths but the model read here whose attention the model so far has: the pass rewrites the layers)
  const rewritten = { hidden, ffn, ...(attention ? { attention } : {}), ...rest };
  if (pass === 'prune-heads' || pass === 'share-layers') return rewritten;
  if (pass === 'quantize') return quantizedWidths(settings, rewritten);
  if (pass === 'prune-ffn') return { ...widths, ...(ffn ? { ffn: ffn.map((n) => keptNeurons(n, settings.ratio as number)) } : {}) };
  if (pass === 'drop-layers') {
    const drop = Array.isArray(settings.layers) ? (settings.layers as number[]) : [];
    const kept = <T>(byLayer: readonly T[]) => byLayer.filter((_, i) => !drop.includes(i));
    return {
      ...rewritten,
      ...(ffn ? { ffn: kept(ffn) } : {}),
      ...(attention ? { attention: { headSize: attention.headSize, ...(attention.fused ? { fused: kept(attention.fused) } : {}) } } : {}),
    };
  }
  if (pass === 'factorize-embeddings') {
    const { embedding } = widths;
    const factorized = embedding && { ...factorNames(embedding.weight), rank: settings.rank as number };
    return {
      hidden,
      ffn,
      ...(widths.outside ? { outside: widths.outside } : {}),
      ...(attention ? { attention } : {}),
      ...(attentionOf ? { attentionOf } : {}),
      ...(factorized ? { factorized: { weight: factorized.a, projection: factorized.b, rank: factorized.rank } } : {}),
    };
  }
  if (pass === 'optimize') {
    const rewrites = parseRewrites(settings.rewrites as string);
    const fusing = rewrites.includes('embed-layernorm');
    const fused = widths.fusedEmbedding ?? (fusing && widths.embeddingOf ? embedLayerNormNode(widths.embeddingOf) : undefined);
    // (a table left unfused is as it was: its rows and width, and the model it was read in; unknown where it may be fused)
    const unfused = fused === undefined && widths.embedding && (!fusing || widths.embeddingOf);
    // (its attention rewrite fuses Q, K and V of the layers it fuses of the model read here whose attention the model
    // so far has, where known; without it, they stay as they were, fused or not)
    const fusedAfter = rewrites.includes('attention') && attentionOf ? fusedLayers(attentionOf, rewrites) : undefined;
    return {
      hidden,
      ffn,
      ...(widths.outside ? { outside: widths.outside } : {}),
      ...(attention
        ? { attention: rewrites.includes('attention') ? { headSize: attention.headSize, ...(fusedAfter ? { fused: fusedAfter } : {}) } : attention }
        : {}),
      ...(fused !== undefined
        ? { fusedEmbedding: fused }
        : unfused
          ? { embedding: widths.embedding, ...(widths.embeddingOf ? { embeddingOf: widths.embeddingOf } : {}) }
          : {}),
      ...(widths.embeddingMapping ? { embeddingMapping: widths.embeddingMapping } : {}),
      // (a factorized table stays so: embed-layernorm leaves it unfused)
      ...(widths.factorized ? { factorized: widths.factorized } : {}),
    };
  }
  return undefined;
}

/**
 * The widths of a model of `widths` after quantize with `settings` (checked): the encoder's, its projections' dims
 * kept in every mode, and its word embedding where factorize-embeddings still finds it a float table (embeddings:
 * false, which keeps the tables float32; float16, which stores them in float16 and factorizes as in float32) or
 * factorized there (factorize-embeddings finds it so whatever stores its projection), and the tables read here,
 * `embeddingOf`, where kept float32 (a later optimize fuses them as it would have). Undefined after mixed, whose budget decides on the weights which
 * layers it stores quantized, and so whether the passes after it refuse the model first.
 */
function quantizedWidths(settings: Record<string, unknown>, widths: Widths): Widths | undefined {
  const mode = parseMode(settings.mode).kind;
  if (mode === 'mixed') return undefined;
  const { embedding, factorized, embeddingOf, ...layers } = widths;
  const float32 = mode !== 'float16' && settings.embeddings === false;
  return {
    ...layers,
    ...(embedding && (mode === 'float16' || float32) ? { embedding } : {}),
    ...(embeddingOf && float32 ? { embeddingOf } : {}),
    ...(factorized && (mode === 'float16' || float32) ? { factorized } : {}),
  };
}

/**
 * The weights quantize targets stored float16, bfloat16 or float64 (NotFloat32), `n`, after graph pass `pass` (its
 * `settings` as they act on the model: onModel) on a model stored so, where the plan knows them still so stored and so
 * named: prune-ffn slices the weights it keeps under their names (prune/edit.ts replaceInitializerFor), storing them as
 * they were; prune-heads too, but for a layer left without attention (`heads`, headsAfter's), which has no attention
 * weights then (by ratio, where it may leave one so: not known); factorize-embeddings rewrites the word embedding
 * only; drop-layers removes its layers' and numbers the others from 0; share-layers gives each group of layers that
 * read weights of their own one copy of each, stored as the first's, named 'shared.layersA-B.ROLE' (share/layers.ts),
 * where every layer of the group is stored alike (a group whose layers read one copy already, `shared`, keeps it; where
 * the sharing is not known, or not of every weight, not known); optimize keeps them without
 * its attention rewrite (which fuses Q, K and V anew), and the tables but for embed-layernorm's. Undefined otherwise
 * (quantize is refused on such a model).
 */
function notFloat32After(
  pass: string,
  settings: Record<string, unknown>,
  n: NotFloat32,
  heads: readonly number[] | undefined,
  shared: readonly number[][] | undefined,
): NotFloat32 | undefined {
  const { layers } = n;
  const restUnknown = (unknown: boolean): NotFloat32 => ({ ...n, ...(unknown ? { restUnknown: true as const } : {}) });
  if (pass === 'prune-ffn') return n;
  if (pass === 'factorize-embeddings') return restUnknown(n.rest?.target.startsWith('embeddings.') ?? false);
  if (pass === 'prune-heads') {
    if (heads) return { ...n, layers: layers.map((l, i) => (heads[i] === 0 ? { ...(l.ffn ? { ffn: l.ffn } : {}) } : l)) };
    return typeof settings.minHeadsPerLayer === 'number' && settings.minHeadsPerLayer > 0 ? n : undefined;
  }
  if (pass === 'drop-layers') {
    const drop = Array.isArray(settings.layers) ? (settings.layers as number[]) : [];
    return { ...n, layers: layers.filter((_, i) => !drop.includes(i)) };
  }
  if (pass === 'optimize') {
    const rewrites = parseRewrites(settings.rewrites as string);
    if (rewrites.includes('attention')) return undefined;
    return restUnknown(rewrites.includes('embed-layernorm') && (n.rest?.target.startsWith('embeddings.') ?? false));
  }
  if (pass !== 'share-layers' || !shared) return undefined;
  const out = [...layers];
  for (const g of layerGroups(layers.length, parseShareSpec(settings.share), parseSourceSpec(settings.from))) {
    if (shared.some((copy) => g.every((l) => copy.includes(l)))) continue;
    const first = layers[g[0]!]!;
    const alike = (a: StoredWeight | undefined, b: StoredWeight | undefined) => a?.target === b?.target && a?.dataType === b?.dataType;
    if (g.some((l) => !alike(layers[l]!.attention, first.attention) || !alike(layers[l]!.ffn, first.ffn))) return undefined;
    const named = (w: StoredWeight | undefined) => w && { ...w, weight: `shared.layers${g[0]}-${g.at(-1)}.${w.target}.weight` };
    const attention = named(first.attention);
    const ffn = named(first.ffn);
    for (const l of g) out[l] = { ...(attention ? { attention } : {}), ...(ffn ? { ffn } : {}) };
  }
  return { ...n, layers: out };
}

/**
 * The model a train / distill step trains, as the steps after it see it: the model so far for a step without a
 * student; every-other's layers of its teacher's (everyOtherLayers, their heads too); a bert:… spec's depth (the
 * teacher's where it gives none; its heads are not followed: it has them in every layer); a student model's depth and
 * heads, or a Distilled BiLSTM (modelSoFar); a bilstm:… spec's Distilled BiLSTM. Trained, a Distilled BiLSTM is no
 * longer the graph read here. Throws training's refusal of a model it cannot read, as the point would: a Distilled
 * BiLSTM stored in int8 (int8BilstmRefusal) or an encoder with weights stored quantized (int8, int4: the canonical
 * rebuild's storedQuantizedRefusal), as a student model, the model so far as read here that a step without a student
 * trains, or every-other's teacher, whose layers it rebuilds; such a model that discovery refuses (SoFar.notBert: not
 * a BERT-family encoder, nor a Distilled BiLSTM), in discovery's line; a float student model without a classifier that
 * has no pooler to put one on (noClassifierPlace); and a head the rebuild cannot read (headRebuildRefusal: a
 * BertForMaskedLM's or token classifier's, no pooler) where a distill step would not put a new classifier on a pooler. A quantized teacher of a bert:… or bilstm:… student is not
 * refused: training runs only its forward pass, which onnxruntime does on it.
 */
function trainedModel(t: PointTrainingStep, sofar: SoFar, read: ModelReader): SoFar {
  const student = t.student;
  const trained = (model: SoFar): SoFar => {
    // (a model discovery refuses, not a Distilled BiLSTM: training's rebuild refuses it in that line, each point on every
    // rerun; a student made from its teacher is the teacher's, checkTeacher)
    if (model.notBert) throw model.notBert;
    const held = model.recurrent?.read;
    if (held && recurrentModelLstm(held.graph)?.opType === 'DynamicQuantizeLSTM') throw int8BilstmRefusal(held.file, held.file);
    const stored = model.read && storedQuantizedRefusal(readName(model.read), model.read.structure, model.read.made ? undefined : model.read.onnx);
    if (stored) throw stored;
    // (a student model without a classifier: one is put on its pooler, which it must have, as training says)
    const place =
      model.read &&
      student !== undefined &&
      isEncoderOnly(model.read.structure) &&
      noClassifierPlace(model.read.graph, model.read.structure, `student ${student}`);
    if (place) throw place;
    // (a head the rebuild reads: a classifier, or another head without a pooler, where a distill step would put a new
    // classifier in its place; a train step refuses another head on a pooler, naming --new-head, when it runs)
    const head = model.read?.structure.head;
    const pooled = head && head.kind !== 'sequence-classification' && hasClassifierPlace(model.read!.graph, model.read!.structure);
    const rebuilt = head && !pooled && headRebuildRefusal(model.read!.structure);
    if (rebuilt) throw new SettingsError(`${readName(model.read!)}: ${rebuilt}`);
    if (model.recurrent) return { ...model, recurrent: { read: undefined } };
    // (the rebuild keeps layers sharing every weight matrix shared, and the widths, writing Q, K and V unfused)
    const shared = model.partlyShared ? undefined : model.shared;
    const attention = model.widths?.attention;
    // (a factorized word embedding is not followed through the rebuild, nor is a fused one: the rebuild writes it unfused,
    // and what a later optimize fuses of the model it writes is not known)
    const { factorized: _, fusedEmbedding: _fused, embeddingOf: _of, attentionOf: _attention, ...kept } = model.widths ?? {};
    // (a classifier put on the pooler of a model without one, or in place of another head: the trained model's
    // projections outside the layers are the pooler and that classifier, on the encoder's width)
    const read = model.read?.structure;
    const newHead = read !== undefined && (isEncoderOnly(read) || Boolean(pooled));
    const outside =
      newHead && kept.outside && read ? [...kept.outside.filter((p) => p.id === 'pooler'), { id: 'head.0', input: read.hiddenSize }] : kept.outside;
    const widths = model.widths && {
      ...kept,
      ...(outside ? { outside } : {}),
      ...(attention ? { attention: { ...attention, fused: (attention.fused ?? model.widths.ffn ?? []).map(() => false) } } : {}),
    };
    return { layers: model.layers, heads: model.heads, ...(shared ? { shared } : {}), ...(widths ? { widths } : {}) };
  };
  if (student === undefined) return trained(sofar);
  const teacher = () => (t.teacher === undefined ? undefined : read(t.teacher)?.structure);
  if (student === 'every-other') {
    // (the teacher rebuilt, which a teacher stored quantized cannot be; its forward pass alone, a spec's, takes one)
    const structure = teacher();
    const stored = structure && storedQuantizedRefusal(EVERY_OTHER_REBUILDS, structure);
    if (stored) throw stored;
    // (its layers copy the teacher's every other one, heads as they are)
    const heads = headsOf(structure);
    const kept = heads && everyOtherLayers(heads.length);
    return { layers: kept?.length, heads: kept?.map((i) => heads![i]!) };
  }
  if (student.startsWith('bert:')) return { layers: parseBertSpec(student).layers ?? teacher()?.numLayers, heads: undefined };
  if (student.startsWith('bilstm:')) return { ...UNKNOWN, recurrent: { read: undefined } };
  const onnx = studentOnnx(t);
  return trained(modelSoFar(onnx === undefined ? undefined : read(onnx), student, onnx ?? student));
}

/**
 * Throws training's refusal (checkStudentVocabulary) of a distill step's student whose vocabulary is not its
 * teacher's (another number of word-embedding rows, or tokenizer files beside it of other tokens), where the point
 * failed when it made the student: a student model given by path, or `model`, the point's model a first distill step
 * without a student trains from a teacher it names (graph steps before it keep its rows and its tokenizer files). A
 * model not read here as an encoder (a Distilled BiLSTM), or tokenizer files that cannot be read (a DataError), are
 * left to the point.
 */
function checkStudentVocab(t: PointTrainingStep, model: string | undefined, read: ModelReader): void {
  const onnx = studentOnnx(t) ?? (t.student === undefined ? model : undefined);
  if (t.kind !== 'distill' || onnx === undefined || t.teacher === undefined) return;
  const student = read(onnx)?.structure;
  const teacher = read(t.teacher)?.structure;
  if (!student || !teacher) return;
  try {
    checkStudentVocabulary(teacher.vocabSize, student.vocabSize, { student: locateModel(onnx).dir, teacher: locateModel(t.teacher).dir });
  } catch (e) {
    if (e instanceof SettingsError) throw e;
  }
}

/**
 * Throws training's refusal (classifierFor's) of a distill step's student model, given by path, whose classifier is
 * as wide as the step's task needs but whose config.json id2label cannot be read as its labels (a label named twice, a
 * name of neither the task's labels nor generic ones), as `compress eval` refuses them, where the point failed when it
 * read the student. A classifier of another width, or of another GLUE task's labels, is given a new one (said when the
 * point runs); a model or config.json not read here is left to the point.
 */
function checkStudentLabels(t: PointTrainingStep, read: ModelReader): void {
  const onnx = studentOnnx(t);
  const student = onnx === undefined ? undefined : read(onnx);
  if (t.kind !== 'distill' || !student) return;
  try {
    classifierFor(student.graph, locateModel(onnx!).dir, getTask(t.task), 'task');
  } catch (e) {
    if (e instanceof SettingsError) throw e;
  }
}

/** The .onnx of a student given as a model path; undefined for a student spec, or a path it cannot be located at. */
function studentOnnx(t: Pick<Partial<PointTrainingStep>, 'student' | 'studentSha256'>): string | undefined {
  return t.studentSha256 === undefined ? undefined : located(t.student)?.onnx;
}

/**
 * Throws training's SettingsError for a distill step's intermediate-layer matches that training would refuse on its
 * teacher and `student` (trainedModel), where the plan knows them: the matches of its preset under its layer map
 * (presetMatches: tinybert's uniform map or pkd-skip's skip map on a teacher depth the student's does not divide, a
 * layerMap pair beyond either depth) or its list of matches, each checked as training checks it (checkMatch), then
 * against the teacher's and the student's layers (attention of a layer whose heads were all pruned: noAttentionLeft;
 * the teacher's first-token or fused attention layers: checkFeature); and for a saved Distilled BiLSTM student given
 * by path, which has no layers to match (bilstmIntermediateRefusal; a bilstm:… spec is refused with intermediate when
 * the sweep file is read).
 */
function checkLayerMatches(t: PointTrainingStep, student: SoFar, read: ModelReader): void {
  const intermediate = t.distill?.intermediate;
  if (intermediate === undefined) return;
  const onnx = studentOnnx(t);
  const saved = onnx === undefined ? undefined : read(onnx);
  if (saved && !saved.structure && savedBilstmOutputs(saved.graph) !== undefined) throw bilstmIntermediateRefusal({ stage: 'task' });
  const teacher = t.teacher === undefined ? undefined : read(t.teacher)?.structure;
  const teacherLayers = teacher?.numLayers;
  const studentLayers = student.layers;
  if (teacherLayers === undefined || studentLayers === undefined) return;
  const matches =
    typeof intermediate === 'string'
      ? presetMatches(intermediate, teacherLayers, studentLayers, { pkdWeight: t.distill!.pkdWeight, layerMap: t.distill!.layerMap })
      : intermediate;
  matches.forEach((match, k) => {
    checkMatch(match, k, teacherLayers, studentLayers);
    checkFeature(teacher!, match.feature, match.teacherLayer, 'the teacher');
    // (training rebuilds the student as the plain graph: of its attention, only a layer without heads is not there)
    const attention = match.feature === 'attention' || match.feature === 'attention-scores';
    if (attention && student.heads?.[match.studentLayer - 1] === 0) throw noAttentionLeft('the student', match.studentLayer);
  });
}

/**
 * Throws training's refusals of the length a step runs at (runMaxLength, the one check runTraining makes): the
 * step's maxLength, else the sweep's eval.maxLength (`evalLength`: the point trains at it), else the trained model's
 * config.json max_length (its teacher's folder's, else the model's it trains: trainingLabelSource), else the length
 * those models' inputs fix, else 128 capped at the tokenizer's model_max_length, against the position tables of the models the step runs at that length: its
 * teacher (a distill step's, the point's model by default or a named one), a student given as a model path, and
 * `model`, the point's model a first train or distill step without a student trains (a distill step's student is then
 * the model so far, fed the teacher's ids at that length, whatever teacher it names). A table that leaves no room for text after
 * the special tokens of the step's tokenizer (that folder's) whatever the length (no maxLength mends it), a length
 * beyond a table, a config.json max_length or any other length that leaves no room for text, each in training's line.
 * A model not read here is left out (its point says what is wrong with it); without the step's tokenizer (a later
 * train step's model, made by the steps before it, or one that cannot be read) the step is left to its point.
 */
function checkStepLength(
  t: PointTrainingStep,
  model: string | undefined,
  evalLength: number | undefined,
  read: ModelReader,
  tokenizers: TokenizerReader,
): void {
  const trained = t.student === undefined ? model : undefined;
  const from = t.teacher ?? studentOnnx(t) ?? trained;
  const tokenizer = from === undefined ? undefined : tokenizers.tokenizer(locateModel(from).dir);
  if (!tokenizer) return;
  const sized = [t.teacher, studentOnnx(t), trained].flatMap((onnx): SizedModel[] => {
    const graph = onnx === undefined ? undefined : read(onnx);
    return graph?.structure ? [[inputLimits(graph.graph, graph.structure), onnx!]] : [];
  });
  runMaxLength(t.maxLength ?? evalLength, readModelConfig(locateModel(from!).dir), sized, tokenizer, getTask(t.task).textColumns.length === 2);
}

/**
 * Throws training's SettingsError (checkStepCount's) for a train or distill step whose epochs (and a distill step's
 * intermediateEpochs, the epochs of its intermediate phase) make more optimizer steps than 2^53 − 1 over the
 * examples it trains on: its task's train split as training reads it (rows of an empty label left out), at most
 * maxExamples of them, each with its augment variants, where its point failed only once it ran (every rerun again).
 * The split is read only where a bound the file's size gives (a row takes a byte or more) could be past it; one
 * that cannot be read is left to the point.
 */
function checkStepCounts(t: PointTrainingStep, glueDir: string): void {
  const batchSize = t.settings.batchSize ?? DEFAULT_TRAIN_SETTINGS.batchSize;
  const phases = [
    { epochs: t.settings.epochs ?? DEFAULT_TRAIN_SETTINGS.epochs },
    ...(t.distill?.intermediateEpochs !== undefined ? [{ epochs: t.distill.intermediateEpochs, epochsKey: 'intermediateEpochs' }] : []),
  ];
  const variants = t.kind === 'distill' ? (t.distill?.augment ?? DEFAULT_DISTILL_SETTINGS.augment) : 0;
  const most = (rows: number) => Math.min(rows, t.maxExamples ?? Number.POSITIVE_INFINITY) * (1 + variants);
  const past = (examples: number) => phases.some((p) => !Number.isSafeInteger(Math.ceil(examples / batchSize) * p.epochs));
  let bytes: number;
  try {
    bytes = statSync(t.data.file).size;
  } catch {
    return;
  }
  if (!past(most(bytes))) return;
  let rows: number;
  try {
    rows = loadSplit(getTask(t.task), 'train', glueDir).examples.length;
  } catch {
    return;
  }
  for (const p of phases) checkStepCount(most(rows), { epochs: p.epochs, batchSize }, p.epochsKey, { file: t.data.file, variants });
}

/**
 * Throws training's SettingsErrors of a student made from sizes, as the point makes it: a bert:… student whose hidden
 * width is not divisible by its heads (bertStudentWidth, as the point builds it: `bert:hidden=160` takes hidden / 64 = 3
 * heads), where the plan knows the width: the spec's, else its teacher's; a bert:… or bilstm:… student whose float32
 * weights alone would not fit in `memory` (this machine's, Infinity for a queued plan: PlanOptions.queued; checkSizedStudentFits: its sizes, its teacher's vocabulary and
 * positions, the task's outputs). A teacher not read here leaves a spec without hidden, and the sizes, to its point.
 */
function checkSizedStudent(t: PointTrainingStep, read: ModelReader, memory: number): void {
  const student = t.student;
  if (student === undefined || !isStudentSpec(student)) return;
  const teacher = t.teacher === undefined ? undefined : read(t.teacher);
  const given = student.startsWith('bert:') ? parseBertSpec(student).hidden : undefined;
  const hidden = given ?? teacher?.structure?.hiddenSize;
  if (student.startsWith('bert:') && hidden !== undefined) bertStudentWidth(student, hidden);
  if (!teacher?.structure) return;
  const task = getTask(t.task);
  checkSizedStudentFits(student, teacherShape(teacher.graph, teacher.structure), task.regression ? 1 : task.labels.length, memory);
}

/**
 * A step's SettingsError, DataError or NotBertError `e` as the plan's refusal (of the same class): after the sweep
 * file, the pipeline, the model and step `index`, a training step's flags named as the sweep file names its settings
 * (distill.layerMap), as the point would say it. Anything else is given back as it is.
 */
function stepRefusal(spec: SweepSpec, m: ModelSpec, p: PipelineSpec, index: number, e: unknown): unknown {
  if (!(e instanceof SettingsError) && !(e instanceof DataError) && !(e instanceof NotBertError)) return e;
  const training = p.training?.[index];
  const message = training
    ? renameFlags(e.message, trainingSettingNames(training.kind, training.maxLength === undefined && spec.eval.maxLength !== undefined))
    : renameFlags(e.message, passStepNames(p.steps, p.steps[index]));
  const line = `${spec.display}: pipeline ${quotedText(p.label)} on model ${quotedText(m.name)}, ${stepName(index, p.steps[index]!.pass)}: ${message}`;
  return e instanceof DataError ? new DataError(line) : e instanceof NotBertError ? new NotBertError(line) : new SettingsError(line);
}

/** Whether a graph step of the pipeline measures the model on calibration data (else it needs none). */
function measures(p: PipelineSpec): boolean {
  return graphSteps(p).some((s) => getPass(s.pass).needsCalibration(getPass(s.pass).check(s.settings)));
}

/** The graph steps of a pipeline: its steps but its train / distill ones. */
function graphSteps(p: PipelineSpec): PassStep[] {
  return p.steps.filter((_, i) => !p.training?.[i]);
}

/** Whether pipeline `p` runs on model `m` (its models:, where it lists them). */
function runsOn(p: PipelineSpec, m: ModelSpec): boolean {
  return !p.models || p.models.includes(m.name);
}

/**
 * The train / distill steps of one pipeline on one model, resolved: task, teacher (default: the model), the train
 * file and the hashes of the files they read (which key.ts puts in the point key).
 */
async function planTraining(
  p: PipelineSpec,
  m: ModelSpec,
  modelOnnx: string,
  opts: PlanOptions,
  hash: (file: string) => Promise<string>,
  identity: ModelIdentity,
  local: (ref: string) => Promise<ResolvedModelRef>,
): Promise<PointTrainingStep[]> {
  const steps: PointTrainingStep[] = [];
  for (const [index, t] of p.training!.entries()) {
    if (!t) continue;
    const task = getTask(t.task ?? m.tasks[0]!);
    const { file } = splitFile(task, 'train', opts.glueDir);
    if (!existsSync(file))
      throw new DataError(
        `${file}: file not found (GLUE ${task.name} train, for the ${t.kind} step of ${quotedText(p.label)} on ${m.name}; set glueDir, --glue-dir or GLUE_DIR)`,
      );
    const data = { file, sha256: await hash(file) };
    const step: PointTrainingStep = { index, kind: t.kind, task: task.name, data, settings: t.settings };
    if (t.distill) step.distill = t.distill;
    if (t.maxExamples !== undefined) step.maxExamples = t.maxExamples;
    if (t.maxLength !== undefined) step.maxLength = t.maxLength;
    if (t.student !== undefined) {
      step.student = t.studentIsPath ? (await local(t.student)).path : t.student;
      if (t.studentIsPath) {
        const { sha256, stamps } = await identity(locateModel(step.student).onnx);
        step.studentSha256 = sha256;
        if (stamps) step.studentStamps = stamps;
      }
    }
    if (t.kind === 'distill') {
      step.teacher = t.teacher ? locateModel((await local(t.teacher)).path).onnx : modelOnnx;
      const { sha256, stamps } = await identity(step.teacher);
      step.teacherSha256 = sha256;
      if (stamps) step.teacherStamps = stamps;
    }
    steps.push(step);
  }
  return steps;
}
