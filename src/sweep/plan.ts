/**
 * From a sweep spec to the list of points to run: models × pipelines, each with its key, resolved bench shapes
 * and output folder. Baselines come first, so every model's reference is measured before its variants.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.ts';
import { sha256File } from '../export/compress.ts';
import { locateModel, readModelConfig } from '../eval/model-files.ts';
import { DEFAULT_MAX_LENGTH } from '../eval/evaluate.ts';
import { splitFile } from '../glue/dataset.ts';
import { getTask } from '../glue/registry.ts';
import type { PassStep } from '../pass/pass.ts';
import { hashOf, toolVersion } from './key.ts';
import type { BenchSpec, CalibrationSpec, EvalSpec, ModelSpec, PipelineSpec, SweepSpec } from './spec.ts';
import type { TrainingKind } from './train-step.ts';
import type { TrainSettings } from '../train/trainer.ts';
import type { DistillSettings } from '../train/run.ts';

/** Bench settings with the sequence lengths resolved for the point's model. */
export interface PointBench extends Omit<BenchSpec, 'seq'> {
  seq: number[];
}

/** Everything one point needs to run, JSON-able (it travels to worker processes). */
export interface SweepPoint {
  /** Hex SHA-256 identity (see key.ts). */
  key: string;
  /** bert-compress version that planned it (part of the key). */
  toolVersion: string;
  sweep: string;
  model: { name: string; onnx: string; dir: string; sha256: string };
  label: string;
  /** Empty for the baseline. */
  steps: PassStep[];
  tasks: string[];
  /** Null for the baseline or when calibration is off. */
  calibration: CalibrationSpec | null;
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

/** The train / distill steps of a point, resolved: everything `runTraining` needs besides the student file. */
export interface PointTraining {
  /** Teacher logits cache (`runTraining`'s cacheDir; absent: its default). */
  cacheDir?: string;
  steps: PointTrainingStep[];
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
}

/** A file-system-safe version of a label. */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._=-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 80) || 'point';
}

/** Every point of the sweep, baselines first. Model hashes are computed here (one read of each model). */
export async function planSweep(spec: SweepSpec, opts: PlanOptions): Promise<SweepPoint[]> {
  for (const m of spec.models) {
    for (const name of m.tasks) {
      const { file } = splitFile(getTask(name), 'dev', opts.glueDir);
      if (!existsSync(file)) throw new DataError(`${file}: file not found (GLUE ${name} dev for ${m.name}; set glueDir, --glue-dir or GLUE_DIR)`);
    }
  }
  const points: SweepPoint[] = [];
  const hashes = new Map<string, Promise<string>>();
  const hash = (file: string): Promise<string> => {
    if (!hashes.has(file)) hashes.set(file, sha256File(file));
    return hashes.get(file)!;
  };
  for (const m of spec.models) {
    const where = locateModel(m.path);
    const sha256 = await hash(where.onnx);
    const config = readModelConfig(where.dir);
    const bench: PointBench = { ...spec.bench, seq: spec.bench.seq ?? [spec.eval.maxLength ?? config.maxLength ?? DEFAULT_MAX_LENGTH] };
    for (const p of spec.pipelines) {
      if (p.models && !p.models.includes(m.name)) continue;
      const calibration = p.steps.length > 0 ? m.calibration : null;
      const training = p.training ? await planTraining(p, m, where.onnx, opts, hash) : undefined;
      const identity = {
        tool: toolVersion(), model: sha256, steps: training ? training.keySteps : p.steps, tasks: m.tasks, calibration, bench, eval: spec.eval, seed: spec.seed ?? null,
        ...(training ? { training: training.identity } : {}),
      };
      const key = hashOf(identity);
      const point: SweepPoint = {
        key,
        toolVersion: identity.tool,
        sweep: spec.name,
        model: { name: m.name, onnx: where.onnx, dir: where.dir, sha256 },
        label: p.label,
        steps: p.steps,
        tasks: m.tasks,
        calibration,
        bench,
        eval: spec.eval,
        glueDir: opts.glueDir,
        outputDir: p.steps.length > 0 ? join(opts.workDir, slug(m.name), `${slug(p.label)}-${key.slice(0, 8)}`) : null,
        keepModel: spec.keepModels,
      };
      if (spec.seed !== undefined) point.seed = spec.seed;
      if (training) point.training = { ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}), steps: training.steps };
      points.push(point);
    }
  }
  return points.sort((a, b) => Number(b.steps.length === 0) - Number(a.steps.length === 0));
}

/**
 * The train / distill steps of one pipeline on one model, resolved: task, teacher (default: the model), the train
 * file. Also what they add to the point key: the steps with model paths replaced by the files' hashes (so moving a
 * teacher keeps the key, changing it does not) and without threads and checkpointEvery (which change nothing),
 * and per training step the teacher's, student's and data's hashes.
 */
async function planTraining(
  p: PipelineSpec, m: ModelSpec, modelOnnx: string, opts: PlanOptions, hash: (file: string) => Promise<string>,
): Promise<{ steps: PointTrainingStep[]; keySteps: PassStep[]; identity: unknown[] }> {
  const steps: PointTrainingStep[] = [];
  const keySteps: PassStep[] = p.steps.map((s, i) => {
    if (!p.training![i]) return s;
    // Settings that do not change the trained model stay out of the key (as the trainer's own job key does).
    const { threads: _t, checkpointEvery: _c, ...settings } = s.settings;
    return { pass: s.pass, settings };
  });
  const identity: unknown[] = [];
  for (const [index, t] of p.training!.entries()) {
    if (!t) continue;
    const task = getTask(t.task ?? m.tasks[0]!);
    const { file } = splitFile(task, 'train', opts.glueDir);
    if (!existsSync(file)) throw new DataError(`${file}: file not found (GLUE ${task.name} train, for the ${t.kind} step of '${p.label}' on ${m.name}; set glueDir, --glue-dir or GLUE_DIR)`);
    const data = { file, sha256: await hash(file) };
    const step: PointTrainingStep = { index, kind: t.kind, task: task.name, data, settings: t.settings };
    if (t.distill) step.distill = t.distill;
    if (t.maxExamples !== undefined) step.maxExamples = t.maxExamples;
    if (t.maxLength !== undefined) step.maxLength = t.maxLength;
    let studentSha: string | null = null;
    if (t.student !== undefined) {
      step.student = t.student;
      if (t.studentIsPath) {
        studentSha = await hash(locateModel(t.student).onnx);
        keySteps[index]!.settings.student = `sha256:${studentSha}`;
      }
    }
    if (t.kind === 'distill') {
      step.teacher = t.teacher ? locateModel(t.teacher).onnx : modelOnnx;
      step.teacherSha256 = await hash(step.teacher);
      if (t.teacher) keySteps[index]!.settings.teacher = `sha256:${step.teacherSha256}`;
    }
    identity.push({ step: index, task: task.name, teacher: step.teacherSha256 ?? null, student: studentSha ?? t.student ?? null, data: data.sha256 });
    steps.push(step);
  }
  return { steps, keySteps, identity };
}
