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
import type { BenchSpec, CalibrationSpec, EvalSpec, SweepSpec } from './spec.ts';

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
}

export interface PlanOptions {
  glueDir: string;
  /** Folder for compressed models (one subfolder per point). */
  workDir: string;
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
  for (const m of spec.models) {
    const where = locateModel(m.path);
    const sha256 = await sha256File(where.onnx);
    const config = readModelConfig(where.dir);
    const bench: PointBench = { ...spec.bench, seq: spec.bench.seq ?? [spec.eval.maxLength ?? config.maxLength ?? DEFAULT_MAX_LENGTH] };
    for (const p of spec.pipelines) {
      const calibration = p.steps.length > 0 ? m.calibration : null;
      const identity = { tool: toolVersion(), model: sha256, steps: p.steps, tasks: m.tasks, calibration, bench, eval: spec.eval, seed: spec.seed ?? null };
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
      points.push(point);
    }
  }
  return points.sort((a, b) => Number(b.steps.length === 0) - Number(a.steps.length === 0));
}
