/** The plan tests' one question: what line a sweep's plan refuses a sweep with, if any. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { SettingsError } from '../../src/errors.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { runTraining } from '../../src/train/run.ts';
import { parseSweep } from '../../src/sweep/spec.ts';

/**
 * The one line planSweep refuses a sweep with (its message, checked to be a `kind`: a SettingsError unless given), or
 * undefined when it plans: the sweep `name`, its file `root`/`name`.yaml (its lines name it so, as a path given whole), of the model folders `models` (under
 * `root`/models, each on SST-2, or on the `tasks` given with its folder's name) and one pipeline `pipeline` of `steps`,
 * GLUE data from `root`/glue, its `calibration` setting (none unless given).
 */
export async function planRefusal(
  root: string,
  name: string,
  models: ReadonlyArray<string | { folder: string; tasks: string[] }>,
  pipeline: string,
  steps: unknown[],
  kind: abstract new (...args: never[]) => Error = SettingsError,
  calibration: unknown = false,
): Promise<string | undefined> {
  const spec = parseSweep(
    {
      name,
      models: models.map((m) => (typeof m === 'string' ? { path: `models/${m}`, tasks: ['SST-2'] } : { path: `models/${m.folder}`, tasks: m.tasks })),
      calibration,
      pipelines: [{ name: pipeline, steps }],
    },
    join(root, `${name}.yaml`),
  );
  try {
    await planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work') });
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    return (e as Error).message;
  }
}

/**
 * Training's own run of the distill step a planRefusal sweep names (the student model `root`/models/`student` taught by
 * `root`/models/teacher on SST-2 with `settings`, one thread): what a point would run, to show the plan refuses it in
 * training's words.
 */
export function distillStudent(root: string, student: string, settings: Record<string, unknown>): ReturnType<typeof runTraining> {
  return runTraining({
    task: 'SST-2',
    student: join(root, 'models', student),
    teacher: join(root, 'models', 'teacher'),
    glueDir: join(root, 'glue'),
    output: join(root, 'out', 'model.onnx'),
    settings: { ...settings, threads: 1 },
    distill: {},
    cacheDir: join(root, 'cache'),
  });
}

/**
 * A new folder (named from `prefix`) for planRefusal with the tiny BERT (2 layers of 4 heads, a 128 × 32 word
 * embedding) under models/tiny and SST-2 train and dev under glue/; the passes registered.
 */
export function writeTinyPlanFolder(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  writeModelFolder(join(root, 'models', 'tiny'), tinyBert());
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  registerAllPasses();
  return root;
}

/**
 * A new folder (named from `prefix`) for planRefusal with the tiny BERT under models/tiny and its quantized forms under
 * models/int8 (int8 dynamic), models/int4 (int4 blocks of 16) and models/fp16 (float16), and SST-2 train and dev under
 * glue/; the passes registered.
 */
export async function writeQuantizedModels(prefix: string): Promise<string> {
  const root = writeTinyPlanFolder(prefix);
  const input = join(root, 'models', 'tiny', 'model.onnx');
  for (const [folder, mode] of [
    ['int8', 'int8'],
    ['int4', 'int4-block:16'],
    ['fp16', 'float16'],
  ] as const) {
    await compressFile({ input, output: join(root, 'models', folder, 'model.onnx'), steps: [{ pass: 'quantize', settings: { mode } }] });
  }
  return root;
}
