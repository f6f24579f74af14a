/**
 * A distill step with intermediate-layer KD whose teacher and student depths training would refuse (tinybert's
 * uniform or pkd-skip's skip map on a teacher depth the student's does not divide; an explicit pair or match beyond
 * either depth) is refused by the sweep's plan, before any point runs, where the plan knows both depths: the
 * teacher's (the point's model, a named teacher), the student's (bert:layers=K, every-other of the teacher, a student
 * model, the model so far after drop-layers). One line naming the file, the pipeline, the model, the step and
 * distill.layerMap with pairs that run. Where a depth is not known (a drop-layers the model refuses), the point says.
 * So is a bert:… student whose width (its own, else its teacher's) its heads do not divide, attention matched on a layer
 * whose heads were all pruned (the teacher's, a student model's or the model so far's before any graph pass), and a
 * saved Distilled BiLSTM student given by path with intermediate KD; and a bert:… or bilstm:… student whose weights
 * alone would not fit in this machine's memory, in the point's line.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { exportBilstm, parseBilstmSpec, randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { planRefusal } from './plan-refusal.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { runMain } from '../helpers/cli.ts';
import { runTraining } from '../../src/train/run.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'layer-map-plan-'));
  for (const layers of [2, 3, 4]) writeModelFolder(join(root, 'models', `l${layers}`), tinyBert({ numLayers: layers }, { seed: layers }));
  writeModelFolder(join(root, 'models', 'w160'), tinyBert({ numLayers: 1, hiddenSize: 160, numHeads: 4, intermediateSize: 64 }, { seed: 5 }));
  // (layer 1 with all its heads pruned, as prune-heads writes it)
  const headless = {
    attentionHeadSize: 8,
    layers: [
      { numHeads: 0, intermediateSize: 64 },
      { numHeads: 4, intermediateSize: 64 },
    ],
  };
  writeModelFolder(join(root, 'models', 'headless'), buildBert({ ...tinyBertConfig(), ...headless }, { kind: 'random', seed: 6 }));
  const bilstm = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=8,embedding=8'), { vocabSize: 128, numLabels: 2, maxLength: 16 });
  writeModelFolder(join(root, 'models', 'bilstm'), exportBilstm(bilstm, randomBilstmWeights(bilstm, 1)));
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The sweep file planSweep names. */
const file = () => join(root, 'lm.yaml');

const KD = { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16 };

/** The one line planSweep refuses a sweep of `models` (folder names) and one pipeline `steps` with, or undefined when it plans. */
const refusal = (models: string[], steps: unknown[]) => planRefusal(root, 'lm', models, 'kd', steps);

const distill = (settings: Record<string, unknown>) => ({ pass: 'distill', settings: { ...KD, ...settings } });

describe("a sweep's plan checks a distill step's layer matches on the depths it knows", () => {
  it('tinybert from a 3-layer model to bert:layers=2: refused naming the model, as the point would be (4 layers pass)', async () => {
    expect(await refusal(['l4', 'l3'], [distill({ student: 'bert:layers=2', intermediate: 'tinybert' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l3', step 1 (distill): layer map 'uniform': 3 teacher layers are not a multiple of 2 student layers: give teacher:student pairs with distill.layerMap, e.g. 0:0,2:1,3:2`,
    );
    // the pairs it gives plan
    expect(await refusal(['l3'], [distill({ student: 'bert:layers=2', intermediate: 'tinybert', layerMap: '0:0,2:1,3:2' })])).toBeUndefined();
  });

  it('pkd-skip with every-other of a 3-layer teacher (2 layers)', async () => {
    expect(await refusal(['l3'], [distill({ student: 'every-other', intermediate: 'pkd-skip' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l3', step 1 (distill): layer map 'skip': 3 teacher layers are not a multiple of 2 student layers: give teacher:student pairs with distill.layerMap, e.g. 2:1`,
    );
  });

  it('the model so far after drop-layers, a named teacher, a student model', async () => {
    expect(await refusal(['l4'], [{ pass: 'drop-layers', settings: { layers: '1' } }, distill({ intermediate: 'tinybert' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l4', step 2 (distill): layer map 'uniform': 4 teacher layers are not a multiple of 3 student layers: give teacher:student pairs with distill.layerMap, e.g. 0:0,1:1,3:2,4:3`,
    );
    expect(await refusal(['l2'], [distill({ teacher: 'models/l3', student: 'bert:layers=2', intermediate: 'tinybert' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l2', step 1 (distill): layer map 'uniform': 3 teacher layers are not a multiple of 2 student layers: give teacher:student pairs with distill.layerMap, e.g. 0:0,2:1,3:2`,
    );
    expect(await refusal(['l4'], [distill({ student: 'models/l3', intermediate: 'tinybert' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l4', step 1 (distill): layer map 'uniform': 4 teacher layers are not a multiple of 3 student layers: give teacher:student pairs with distill.layerMap, e.g. 0:0,1:1,3:2,4:3`,
    );
    // (keep every-other of 4 layers leaves 2, which divides 4)
    expect(await refusal(['l4'], [{ pass: 'drop-layers', settings: { keep: 'every-other' } }, distill({ intermediate: 'tinybert' })])).toBeUndefined();
  });

  it('an explicit layerMap pair or a match beyond either depth', async () => {
    expect(await refusal(['l2'], [distill({ student: 'bert:layers=1', intermediate: 'tinybert', layerMap: '0:0,3:1' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l2', step 1 (distill): layer map: teacher layer 3 is not in 0..2`,
    );
    expect(
      await refusal(['l2'], [distill({ student: 'bert:layers=1', intermediate: [{ teacherLayer: 2, studentLayer: 2, feature: 'hidden', loss: 'mse' }] })]),
    ).toBe(`${file()}: pipeline 'kd' on model 'l2', step 1 (distill): intermediate match 1: student layer 2 is not in 0..1`);
  });

  it('a drop-layers the model refuses, after a step the plan does not follow, is refused at its own step before the matches', async () => {
    // (drop-layers refuses layer 5 of 3 after prune-ffn, whose depth the plan knows: the step after it is not reached)
    const steps = [
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'drop-layers', settings: { layers: '5' } },
    ];
    expect(await refusal(['l3'], [...steps, distill({ teacher: 'models/l4', intermediate: 'tinybert' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l3', step 2 (drop-layers): drop-layers: layer 5 does not exist: the model has layers 0-2`,
    );
  });

  it('compress sweep --dry-run refuses it in one line, creating nothing', async () => {
    const file = join(root, 'dry.yaml');
    writeFileSync(
      file,
      `glueDir: glue\nmodels: [{path: models/l3, tasks: [SST-2]}]\ncalibration: false\npipelines:\n  - {name: tiny2, steps: [{pass: distill, settings: {student: 'bert:layers=2', intermediate: tinybert}}]}\n`,
    );
    const store = join(root, 'dry', 'dry.sqlite');
    const r = await runMain(['sweep', file, '--dry-run', '--store', store]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `compress: ${file}: pipeline 'tiny2' on model 'l3', step 1 (distill): layer map 'uniform': 3 teacher layers are not a multiple of 2 student layers: give teacher:student pairs with distill.layerMap, e.g. 0:0,2:1,3:2`,
    ]);
    expect(existsSync(join(root, 'dry'))).toBe(false);
  });
});

describe("a sweep's plan checks a distill step's layer matches on the layers it knows", () => {
  const attention = (layer: number) => [{ teacherLayer: layer, studentLayer: layer, feature: 'attention', loss: 'attention-mse' }];
  const hidden = [{ teacherLayer: 1, studentLayer: 1, feature: 'hidden', loss: 'mse' }];
  const noAttention = (who: string) =>
    `${who} layer 1 (compress inspect's layer 0) has no attention left to match: all its heads were pruned; match its hidden states only (matches of feature 'hidden' in distill.intermediate)`;

  it("attention of a teacher layer whose heads were all pruned (the point's model, a named teacher)", async () => {
    expect(await refusal(['headless'], [distill({ student: 'bert:layers=2', intermediate: 'tinybert' })])).toBe(
      `${file()}: pipeline 'kd' on model 'headless', step 1 (distill): ${noAttention('the teacher')}`,
    );
    expect(await refusal(['l2'], [distill({ teacher: 'models/headless', intermediate: attention(1) })])).toBe(
      `${file()}: pipeline 'kd' on model 'l2', step 1 (distill): ${noAttention('the teacher')}`,
    );
    // (its hidden states, and the attention of its other layer, are there)
    expect(await refusal(['headless'], [distill({ student: 'bert:layers=2', intermediate: hidden })])).toBeUndefined();
    expect(await refusal(['l2'], [distill({ teacher: 'models/headless', intermediate: attention(2) })])).toBeUndefined();
  });

  it('attention of a student layer whose heads were all pruned (a student model, the model so far)', async () => {
    expect(await refusal(['l2'], [distill({ student: 'models/headless', intermediate: 'tinybert' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l2', step 1 (distill): ${noAttention('the student')}`,
    );
    expect(await refusal(['headless'], [distill({ teacher: 'models/l2', intermediate: attention(1) })])).toBe(
      `${file()}: pipeline 'kd' on model 'headless', step 1 (distill): ${noAttention('the student')}`,
    );
    expect(await refusal(['l2'], [distill({ student: 'models/headless', intermediate: attention(2) })])).toBeUndefined();
    // (through prune-ffn, which keeps the heads)
    expect(await refusal(['headless'], [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, distill({ teacher: 'models/l2', intermediate: attention(1) })])).toBe(
      `${file()}: pipeline 'kd' on model 'headless', step 2 (distill): ${noAttention('the student')}`,
    );
  });

  it('attention of a layer a prune-heads step before it empties by its list, followed through drop-layers, and an every-other student', async () => {
    const prune = (heads: string) => ({ pass: 'prune-heads', settings: { heads } });
    expect(await refusal(['l2'], [prune('0:0,1,2,3'), distill({ intermediate: 'tinybert' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l2', step 2 (distill): ${noAttention('the student')}`,
    );
    // (three of its four heads: attention left)
    expect(await refusal(['l2'], [prune('0:0,1,2'), distill({ intermediate: 'tinybert' })])).toBeUndefined();
    // (by ratio the heads are chosen when it runs: left to the point)
    expect(await refusal(['l2'], [{ pass: 'prune-heads', settings: { ratio: 0.5 } }, distill({ intermediate: 'tinybert' })])).toBeUndefined();
    // (the emptied layer dropped: the layer left has its heads)
    const dropped = [prune('0:0,1,2,3'), { pass: 'drop-layers', settings: { layers: '0' } }];
    expect(await refusal(['l2'], [...dropped, distill({ teacher: 'models/l2', intermediate: attention(1) })])).toBeUndefined();
    expect(
      await refusal(
        ['l3'],
        [prune('2:0,1,2,3'), { pass: 'drop-layers', settings: { layers: '0' } }, distill({ teacher: 'models/l2', intermediate: attention(2) })],
      ),
    ).toBe(
      `${file()}: pipeline 'kd' on model 'l3', step 3 (distill): the student layer 2 (compress inspect's layer 1) has no attention left to match: all its heads were pruned; match its hidden states only (matches of feature 'hidden' in distill.intermediate)`,
    );
    // every-other of a teacher whose layer 0 has no heads copies it as its layer 1
    expect(
      await refusal(
        ['l2'],
        [
          distill({
            teacher: 'models/headless',
            student: 'every-other',
            intermediate: [{ teacherLayer: 2, studentLayer: 1, feature: 'attention', loss: 'attention-mse' }],
          }),
        ],
      ),
    ).toBe(`${file()}: pipeline 'kd' on model 'l2', step 1 (distill): ${noAttention('the student')}`);
  });

  it('a saved Distilled BiLSTM student given by path has no layers to match, as a bilstm:… spec', async () => {
    for (const intermediate of ['tinybert', hidden])
      expect(await refusal(['l2'], [distill({ student: 'models/bilstm', intermediate })])).toBe(
        `${file()}: pipeline 'kd' on model 'l2', step 1 (distill): distill.intermediate matches encoder layers, and a Distilled BiLSTM student has none: leave out distill.intermediate (prediction-layer KD)`,
      );
    expect(await refusal(['l2'], [distill({ student: 'models/bilstm' })])).toBeUndefined();
  });
});

describe("a sweep's plan checks a bert:… student's heads on the width it knows", () => {
  // (a width the spec gives is checked with its form, as the sweep file is read: test/sweep/train-steps.test.ts)
  it("a width its heads do not divide, its teacher's, is refused as the point would refuse it", async () => {
    // (the width of the point's model, 32)
    expect(await refusal(['l2'], [distill({ student: 'bert:layers=1,heads=5' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l2', step 1 (distill): student 'bert:layers=1,heads=5': hidden 32 (the teacher's: the spec gives no hidden=H) is not divisible by heads 5; give heads=A dividing 32, e.g. heads=4, or hidden=H divisible by 5, e.g. hidden=30`,
    );
    // (a named teacher's width, 160, whose default heads are 3)
    expect(await refusal(['l2'], [distill({ teacher: 'models/w160', student: 'bert:layers=1' })])).toBe(
      `${file()}: pipeline 'kd' on model 'l2', step 1 (distill): student 'bert:layers=1': hidden 160 (the teacher's: the spec gives no hidden=H) is not divisible by heads 3 (the default for hidden 160: hidden / 64, rounded); give heads=A, e.g. heads=4`,
    );
    expect(await refusal(['l2'], [distill({ teacher: 'models/w160', student: 'bert:layers=1,heads=4' })])).toBeUndefined();
    expect(await refusal(['l2'], [distill({ student: 'bert:layers=1,heads=4' })])).toBeUndefined();
  });
});

// (the plan passed them, and every point failed when it made its student)
describe("a sweep's plan refuses a student made from sizes too large for this machine's memory", () => {
  it.each(['bert:layers=64,hidden=16384,heads=16', 'bilstm:hidden=200000'])("%s: the point's line", async (student) => {
    const point = await runTraining({
      task: 'SST-2',
      student,
      teacher: join(root, 'models', 'l2'),
      glueDir: join(root, 'glue'),
      output: join(root, 'out', 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      maxLength: 16,
    }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(point).toMatch(/parameters would take .* as float32 weights alone, more than this machine's .* of memory; give smaller sizes$/);
    expect(await refusal(['l2'], [distill({ student })])).toBe(`${file()}: pipeline 'kd' on model 'l2', step 1 (distill): ${point}`);
    // (the sizes of a named teacher: its vocabulary, 128 rows, as the point's)
    expect(await refusal(['w160'], [distill({ teacher: 'models/l2', student })])).toBe(`${file()}: pipeline 'kd' on model 'w160', step 1 (distill): ${point}`);
  });

  it('a student that fits plans', async () => {
    expect(await refusal(['l2'], [distill({ student: 'bilstm:hidden=8' })])).toBeUndefined();
    expect(await refusal(['l2'], [distill({ student: 'bert:layers=1,hidden=16,heads=2' })])).toBeUndefined();
  });
});
