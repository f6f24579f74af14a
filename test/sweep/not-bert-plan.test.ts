/**
 * A graph step on a sweep model that discovery refuses (not a BERT-family encoder, and not a Distilled BiLSTM) fails
 * at its point with discovery's line, each run again, where the plan knew it: the plan refuses it before any point
 * runs, in that line after the file, the pipeline, the model and the step. So does a train or distill step that trains
 * such a model, or distils from such a teacher, which the plan let through after d6e6fb54: in training's own line. And
 * its baseline point, which every sweep holds, evaluated and then failed at its benchmark, which finds no inputs of such
 * a model: the plan refuses it in the benchmark's line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tableClassifier, tinyBert } from '../helpers/models.ts';
import { castFloat16Weights } from '../helpers/float16.ts';
import { planRefusal } from './plan-refusal.ts';
import { NotBertError } from '../../src/errors.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { benchSubject } from '../../src/bench/inputs.ts';
import { SettingsError } from '../../src/errors.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { runTraining, type TrainRunOptions } from '../../src/train/run.ts';

/** A bag-of-embeddings classifier (the mean of its ids' rows, one product): it runs, and has no encoder to find. */
const bag = tableClassifier(128);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'not-bert-plan-'));
  writeModelFolder(join(root, 'models', 'bag'), bag);
  writeModelFolder(join(root, 'models', 'bert'), tinyBert());
  // (float16 weights a Cast reads: discovery refuses the graph, a benchmark reads it as its float32 form)
  writeModelFolder(join(root, 'models', 'cast'), castFloat16Weights(tinyBert()));
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  registerAllPasses();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a sweep's plan on a model discovery refuses", () => {
  it("refuses its graph steps in the point's own line", async () => {
    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }];
    const point = await runPipeline(bag, steps).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(point).toBeInstanceOf(NotBertError);
    expect(point!.message).toMatch(/not a BERT-family encoder/);
    expect(await planRefusal(root, 'b', ['bag'], 'p', steps, NotBertError)).toBe(
      `${join(root, 'b.yaml')}: pipeline 'p' on model 'bag', step 1 (prune-ffn): ${point!.message}`,
    );
    expect(await planRefusal(root, 'b', ['bag'], 'p', [{ pass: 'quantize', settings: { mode: 'int8' } }], NotBertError)).toMatch(
      /step 1 \(quantize\): .*not a BERT-family encoder$/,
    );
  });

  it("refuses a train or distill step training such a model, or distilling from such a teacher, in training's own line", async () => {
    const bagDir = join(root, 'models', 'bag');
    const bertDir = join(root, 'models', 'bert');
    /** Training's refusal of the step a point runs (one epoch, one thread). */
    const trained = (o: Pick<TrainRunOptions, 'student' | 'teacher'>) =>
      runTraining({
        task: 'SST-2',
        ...o,
        output: join(root, 'out', `${Math.random()}`, 'model.onnx'),
        settings: { epochs: 1, threads: 1 },
        ...(o.teacher ? { distill: {} } : {}),
        glueDir: join(root, 'glue'),
        workDir: join(root, 'work-train'),
      }).then(
        () => undefined,
        (e: Error) => e,
      );
    const cases: Array<[string, unknown, Pick<TrainRunOptions, 'student' | 'teacher'>]> = [
      ['train', { pass: 'train', settings: { epochs: 1 } }, { student: bagDir }],
      ['distill', { pass: 'distill', settings: { epochs: 1, student: 'every-other' } }, { student: 'every-other', teacher: bagDir }],
      ['distill', { pass: 'distill', settings: { epochs: 1, teacher: bertDir } }, { student: bagDir, teacher: bertDir }],
    ];
    for (const [kind, step, run] of cases) {
      const point = await trained(run);
      expect(point, JSON.stringify(step)).toBeInstanceOf(NotBertError);
      expect(point!.message).toMatch(/not a BERT-family encoder$/);
      expect(await planRefusal(root, 'b', ['bag'], 'p', [step], NotBertError)).toBe(
        `${join(root, 'b.yaml')}: pipeline 'p' on model 'bag', step 1 (${kind}): ${point!.message}`,
      );
    }
    // (a step training a BERT student from a BERT teacher plans, as it runs)
    expect(await planRefusal(root, 'b', ['bert'], 'p', [{ pass: 'train', settings: { epochs: 1 } }], NotBertError)).toBeUndefined();
  });

  it("refuses its baseline point, whose benchmark finds no inputs of it, in the benchmark's line", async () => {
    const onnx = join(root, 'models', 'bag', 'model.onnx');
    const point = (() => {
      try {
        benchSubject(onnx); // (what the point's benchmark reads it with)
        return undefined;
      } catch (e) {
        return e as Error;
      }
    })();
    expect(point).toBeInstanceOf(SettingsError);
    expect(point!.message).toMatch(/cannot find the encoder's inputs/);
    const plan = (models: string) =>
      planSweep(
        parseSweep(
          { name: 'b', models: [{ path: `models/${models}`, tasks: ['SST-2'] }], calibration: false, pipelines: ['baseline'] },
          join(root, 'b.yaml'),
          'b.yaml',
        ),
        {
          glueDir: join(root, 'glue'),
          workDir: join(root, 'work'),
        },
      ).then(
        () => undefined,
        (e: Error) => e,
      );
    const refused = await plan('bag');
    expect(refused).toBeInstanceOf(SettingsError);
    expect(refused!.message).toBe(`b.yaml: ${point!.message}`);
    expect(await plan('bert')).toBeUndefined();
    expect(await plan('cast')).toBeUndefined();
  });
});
