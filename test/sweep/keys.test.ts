/**
 * Sweep point keys: computed from the parsed settings (defaults applied), so equal pipelines are one point however
 * they are written; they include the code's versions (bert-compress's, each pass's and training step's), so a result computed by
 * other code is found as stale (same family, another key), including a point stored before versions existed.
 */
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSweep } from '../../src/sweep/spec.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { codeAge, currentVersions, pointFamily, pointKey, pointKeys, pointStudentKind, sameVersions, versionChange } from '../../src/sweep/key.ts';
import { TRAINING_VERSIONS } from '../../src/train/versions.ts';
import { adoptStoredKeys, findStale } from '../../src/sweep/stale.ts';
import type { StoredPoint } from '../../src/sweep/store.ts';
import type { PointResult } from '../../src/sweep/point.ts';
import { PRUNE_HEADS, RANDOM_SEEDS_DRAWN_AS_BEFORE } from '../../src/prune/settings.ts';
import { QUANTIZE } from '../../src/quantize/settings.ts';
import { toolVersion } from '../../src/version.ts';
import { encodeModel, loadModel, saveModel } from '../../src/onnx/index.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { sha256File } from '../../src/files.ts';
import { writeTinySst2, writeTinySweep, type TinySweep } from './tiny-sweep.ts';
import { runMain } from '../helpers/cli.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 4 });
});
afterAll(() => t?.cleanup());

/** The points of a one-model sweep whose pipelines are `steps` lists (named p0, p1, …), baseline first. */
async function plan(pipelines: Array<Array<{ pass: string; settings: Record<string, unknown> }>>, extra: Record<string, unknown> = {}): Promise<SweepPoint[]> {
  const doc = {
    models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
    pipelines: ['baseline', ...pipelines.map((steps, i) => ({ name: `p${i}`, steps }))],
    ...extra,
  };
  return planSweep(parseSweep(doc, t.sweepFile, 'keys.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work') });
}

const heads = (settings: Record<string, unknown>) => [{ pass: 'prune-heads', settings }];

describe('point keys', () => {
  it('come from the parsed settings: defaults do not make another point', async () => {
    const key = async (settings: Record<string, unknown>) => (await plan([heads(settings)]))[1]!.key;
    const a = await key({ ratio: 0.4 });
    expect(await key({ ratio: 0.4, importance: 'magnitude', minHeadsPerLayer: 0 })).toBe(a);
    expect(await key({ ratio: 0.5 })).not.toBe(a);
  });

  it("share-layers' groups:1 (one group of every layer, on any model) is share all: one point", async () => {
    const key = async (share: string) => (await plan([[{ pass: 'share-layers', settings: { share } }]]))[1]!.key;
    const all = await key('all');
    expect(await key('groups:1')).toBe(all);
    expect(await key(' Groups: 1 ')).toBe(all);
    expect(await key('groups:2')).not.toBe(all);
  });

  it("quantize's int8-group:1 (a scale per output channel) is int8 per channel, the same model: one point; per tensor they differ", async () => {
    const key = async (settings: Record<string, unknown>) => (await plan([[{ pass: 'quantize', settings }]]))[1]!.key;
    const int8 = await key({ mode: 'int8' });
    expect(await key({ mode: 'int8-group:1' })).toBe(int8);
    expect(await key({ mode: ' INT8-Group: 1 ', perChannel: true })).toBe(int8);
    expect(await key({ mode: 'int8-group:2' })).not.toBe(int8);
    // (per tensor, int8 has one scale per weight and int8-group:1 still one per channel)
    expect(await key({ mode: 'int8-group:1', perChannel: false })).not.toBe(await key({ mode: 'int8', perChannel: false }));
    const written = async (mode: string) =>
      Buffer.from(encodeModel((await runPipeline(loadModel(join(t.root, 'models/tiny-sst2/model.onnx')), [{ pass: 'quantize', settings: { mode } }])).model));
    expect((await written('int8-group:1')).equals(await written('int8'))).toBe(true);
  });

  it("quantize's mixed:56.7% is mixed:0.567 (its decimal point moved), one point; a point stored under the name earlier code gave it (56.7 / 100: mixed:0.5670000000000001) is this point, reused", async () => {
    // (one plan each: a plan refuses two pipelines that are one point)
    const point = async (mode: string) => (await plan([[{ pass: 'quantize', settings: { mode } }]], { calibration: { examples: 4 } }))[1]!;
    const percent = await point('mixed:56.7%');
    expect(percent.key).toBe((await point('mixed:0.567')).key);
    // (planned by this code from its stored plan, mixed:0.5670000000000001 written out: its key as earlier code gave it)
    const earlier = await point('mixed:0.5670000000000001');
    expect(earlier.key).not.toBe(percent.key);
    expect(pointKeys(percent)).toEqual([percent.key, earlier.key]);
    // a sweep of mixed:56.7% takes the point stored under it as its own, as one stored under its seeds as written
    adoptStoredKeys(
      [percent],
      [{ key: earlier.key } as StoredPoint],
      () => new Map([[earlier.key, earlier]]),
      () => new Map(),
      () => null,
    );
    expect(percent.key).toBe(earlier.key);
    // (a fraction written alike either way has no other key)
    const fifth = await point('mixed:50%');
    expect(pointKeys(fifth)).toEqual([fifth.key]);
  });

  it("prune-heads' steps and target given as their defaults (which depend on importance and ratio) make no other point", async () => {
    // (one plan each: a plan refuses two pipelines that are one point)
    const keys = (...all: Array<Record<string, unknown>>) => Promise.all(all.map(async (settings) => (await plan([heads(settings)]))[1]!.key));
    const [magnitude, magnitudeOne, magnitudeTwo] = await keys({ ratio: 0.4 }, { ratio: 0.4, steps: 1 }, { ratio: 0.4, steps: 2 });
    expect(magnitudeOne).toBe(magnitude);
    expect(magnitudeTwo).not.toBe(magnitude);
    const [ablation, ...written] = await keys(
      { ratio: 0.4, importance: 'ablation' },
      { ratio: 0.4, importance: 'ablation', steps: 4 },
      { ratio: 0.4, importance: 'ablation', target: 'predictions' },
    );
    expect(written).toEqual([ablation, ablation]);
    const [labels, stepsOne] = await keys({ ratio: 0.4, importance: 'ablation', target: 'labels' }, { ratio: 0.4, importance: 'ablation', steps: 1 });
    expect(labels).not.toBe(ablation);
    expect(stepsOne).not.toBe(ablation);
    const [gradient, gradientLabels] = await keys({ ratio: 0.4, importance: 'gradient' }, { ratio: 0.4, importance: 'gradient', target: 'labels' });
    expect(gradientLabels).toBe(gradient);
    expect(PRUNE_HEADS.check({ ratio: 0.4, importance: 'ablation', steps: 4, target: 'predictions' })).toEqual(
      PRUNE_HEADS.check({ ratio: 0.4, importance: 'ablation' }),
    );
  });

  it('two pipelines that make the same point are refused in one line naming both', async () => {
    await expect(plan([heads({ ratio: 0.5 }), heads({ ratio: 0.4 }), heads({ ratio: 0.5, importance: 'magnitude' })])).rejects.toThrow(
      /^keys\.yaml: pipelines 'p0' and 'p2' are the same point for model 'tiny-sst2' \(the same steps and settings\); keep one$/,
    );
  });

  it('name the sweep file as the command line gives it, as the refusals of its fields do, where they named its absolute path', async () => {
    writeFileSync(
      join(t.root, 'dup.yaml'),
      `glueDir: glue
models: [{path: models/tiny-sst2, tasks: [SST-2]}]
pipelines:
  - {name: a, steps: [{pass: quantize, settings: {mode: int8}}]}
  - {name: b, steps: [{pass: quantize, settings: {mode: int8}}]}
`,
    );
    const r = await runMain(['sweep', 'dup.yaml', '--dry-run'], {}, t.root);
    expect([r.code, r.stderr]).toEqual([
      1,
      "compress: dup.yaml: pipelines 'a' and 'b' are the same point for model 'tiny-sst2' (the same steps and settings); keep one\n",
    ]);
    // (a field's refusal, at parsing, the same way)
    writeFileSync(join(t.root, 'dup.yaml'), 'models: 3\n');
    expect((await runMain(['sweep', 'dup.yaml', '--dry-run'], {}, t.root)).stderr).toMatch(/^compress: dup\.yaml: models: /);
  });

  it('two pipelines that are one point only as their steps draw their seeds are refused saying how a step draws it', async () => {
    const train = (settings: Record<string, unknown>) => [{ pass: 'train', settings: { epochs: 1, maxExamples: 8, ...settings } }];
    const refusal = (a: string, b: string) =>
      `keys.yaml: pipelines '${a}' and '${b}' are the same point for model 'tiny-sst2' (the same steps and settings; a step draws with its own seed, else the sweep's, else its default: 1 for train and distill, 0 for random importance); keep one`;
    await expect(plan([train({}), train({ seed: 2 }), train({ seed: 1 })])).rejects.toThrow(refusal('p0', 'p2'));
    await expect(plan([train({}), train({ seed: 7 })], { seed: 7 })).rejects.toThrow(refusal('p0', 'p1'));
    await expect(plan([heads({ ratio: 0.4, importance: 'random' }), heads({ ratio: 0.4, importance: 'random', seed: 0 })])).rejects.toThrow(
      refusal('p0', 'p1'),
    );
    // (written alike: the same steps and settings, as before)
    await expect(plan([train({ seed: 3 }), train({ seed: 3, epochs: 1 })])).rejects.toThrow(
      "keys.yaml: pipelines 'p0' and 'p1' are the same point for model 'tiny-sst2' (the same steps and settings); keep one",
    );
  });

  it("two pipelines that are one point only on the sweep's model (its depth, its width) are refused in one line saying why, their keys left as they were", async () => {
    // the tiny model: 2 layers, hidden 32
    const drop = (settings: Record<string, unknown>) => [{ pass: 'drop-layers', settings }];
    const share = (settings: Record<string, unknown>) => [{ pass: 'share-layers', settings }];
    const distill = (student: string) => [{ pass: 'distill', settings: { student, epochs: 1, maxExamples: 4 } }];
    const cases: Array<[Array<Array<{ pass: string; settings: Record<string, unknown> }>>, string]> = [
      [[drop({ keep: 'every-other' }), drop({ layers: '1' })], 'drop-layers keep=every-other is layers=1 on its 2 layers'],
      [[drop({ layers: '1' }), drop({ keep: '0' })], 'drop-layers keep=0 is layers=1 on its 2 layers'],
      [
        [share({ share: 'groups:2' }), share({ share: 'groups:2', from: 'layer:0' })],
        'share-layers share=groups:2 from=layer:0 is share=groups:2 from=mean on its 2 layers',
      ],
      [[distill('bert:layers=1'), distill('bert:layers=1,hidden=32')], 'distill student=bert:layers=1 is student=bert:layers=1,hidden=32 of its teacher'],
      [
        [distill('bert:hidden=32'), distill('bert:layers=2')],
        'distill student=bert:hidden=32 is student=bert:layers=2,hidden=32 of its teacher; distill student=bert:layers=2 is student=bert:layers=2,hidden=32 of its teacher',
      ],
    ];
    for (const [pipelines, why] of cases) {
      await expect(plan(pipelines), why).rejects.toThrow(
        `keys.yaml: pipelines 'p0' and 'p1' are the same point for model 'tiny-sst2' (their steps build the same model from it: ${why}); keep one, or leave 'tiny-sst2' out of one of them (its models:)`,
      );
      // each alone: its own key, as before (a key is computed without the model)
      const [a, b] = await Promise.all(pipelines.map(async (steps) => (await plan([steps]))[1]!.key));
      expect(a).not.toBe(b);
    }
    // where they differ on the model, or are not alike at all, they plan
    expect(await plan([drop({ keep: 'every-other' }), drop({ layers: '0' })])).toHaveLength(3);
    expect(await plan([share({ share: 'groups:2' }), share({ share: 'all', from: 'layer:1' })])).toHaveLength(3);
    expect(await plan([distill('bert:layers=1'), distill('bert:layers=1,hidden=16')])).toHaveLength(3);
    // a step after one that changes the depth is read on the depth it leaves (share all of one layer: from layer:0 is its mean)
    await expect(
      plan([
        [...drop({ layers: '1' }), ...share({ share: 'all' })],
        [...drop({ keep: '0' }), ...share({ share: 'groups:1', from: 'layer:0' })],
      ]),
    ).rejects.toThrow(
      '(their steps build the same model from it: drop-layers keep=0 is layers=1 on its 2 layers; share-layers share=all from=layer:0 is share=all from=mean on its 1 layer);',
    );
  });

  it('two distill steps that differ only in prediction-layer settings their loss does not read are refused as one model, their keys left as they were', async () => {
    const kd = (settings: Record<string, unknown>) => [
      { pass: 'distill', settings: { student: 'bert:layers=1,hidden=32', epochs: 1, maxExamples: 4, ...settings } },
    ];
    const refusal = (model: string, why: string) =>
      `keys.yaml: pipelines 'p0' and 'p1' are the same point for model '${model}' (their steps build the same model from it: ${why}); keep one, or leave '${model}' out of one of them (its models:)`;
    const cases: Array<[Array<Record<string, unknown>>, string]> = [
      [[{ logitLoss: 'mse' }, { logitLoss: 'mse', temperature: 3 }], 'distill temperature=3 is unused with logitLoss=mse'],
      [
        [
          { alpha: 1, temperature: 1 },
          { alpha: 1, temperature: 4 },
        ],
        'distill temperature=1 is unused with alpha=1 (no teacher term); distill temperature=4 is unused with alpha=1 (no teacher term)',
      ],
      [[{ alpha: 1 }, { alpha: 1, logitLoss: 'mse' }], 'distill logitLoss=mse is unused with alpha=1 (no teacher term)'],
    ];
    for (const [[a, b], why] of cases) {
      await expect(plan([kd(a!), kd(b!)]), why).rejects.toThrow(refusal('tiny-sst2', why));
      const [x, y] = await Promise.all([a!, b!].map(async (settings) => (await plan([kd(settings)]))[1]!.key));
      expect(x).not.toBe(y);
    }
    // a regression task distils its teacher's score by MSE, whatever logitLoss and temperature say
    const stsb = (pipelines: Array<Array<{ pass: string; settings: Record<string, unknown> }>>) =>
      planSweep(
        parseSweep(
          { models: [{ path: 'models/tiny-stsb', tasks: ['STS-B'] }], pipelines: ['baseline', ...pipelines.map((steps, i) => ({ name: `p${i}`, steps }))] },
          t.sweepFile,
          'keys.yaml',
        ),
        { glueDir: t.glueDir, workDir: join(t.root, 'work') },
      );
    await expect(stsb([kd({ temperature: 1 }), kd({ temperature: 4 })])).rejects.toThrow(
      refusal(
        'tiny-stsb',
        "distill temperature=1 is unused on STS-B (a regression task: the teacher's score by MSE); distill temperature=4 is unused on STS-B (a regression task: the teacher's score by MSE)",
      ),
    );
    // where the loss reads them, they plan
    expect(await plan([kd({ temperature: 1 }), kd({ temperature: 4 })])).toHaveLength(3);
    expect(await plan([kd({ alpha: 0.5, logitLoss: 'mse' }), kd({ alpha: 0.5 })])).toHaveLength(3);
    expect(await plan([kd({ alpha: 1 }), kd({ alpha: 0.9, temperature: 4 })])).toHaveLength(3);
  });

  it('one model file given twice under two names is refused in one line naming both models, not as two pipelines', async () => {
    const doc = {
      models: [
        { path: 'models/tiny-sst2', tasks: ['SST-2'] },
        { path: 'models/tiny-sst2/model.onnx', name: 'again', tasks: ['SST-2'] },
      ],
      pipelines: ['baseline'],
    };
    await expect(planSweep(parseSweep(doc, t.sweepFile, 'keys.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work') })).rejects.toThrow(
      /^keys\.yaml: models\[1\] 'again' is the same model as models\[0\] 'tiny-sst2' \(the same file, sha256 [0-9a-f]{12}…, and tasks\), so their 'baseline' points are one; keep one of them$/,
    );
  });

  it('hold the versions of bert-compress and of each pass of the pipeline', async () => {
    const [base, pruned] = await plan([heads({ ratio: 0.4 })]);
    // (the version magnitude importance is keyed with: 5, its output unchanged by version 6)
    expect(pruned!.versions).toEqual({ tool: toolVersion(), passes: { 'prune-heads': 5 } });
    expect(base!.versions).toEqual({ tool: toolVersion(), passes: {} });
    const bumped = { ...pruned!, versions: { ...pruned!.versions, passes: { 'prune-heads': PRUNE_HEADS.version + 1 } } };
    const released = { ...pruned!, versions: { ...pruned!.versions, tool: `${toolVersion()}-next` } };
    for (const other of [bumped, released]) {
      expect(pointKey(other)).not.toBe(pruned!.key);
      expect(pointFamily(other)).toBe(pointFamily(pruned!));
    }
    expect(pointKey(pruned!)).toBe(pruned!.key);
  });

  it("leave out eval.threads, which change no score (a point without them takes the machine's), and keep eval.batchSize and maxLength", async () => {
    const keysWith = async (evalSpec: Record<string, unknown>) => (await plan([heads({ ratio: 0.4 })], { eval: evalSpec })).map((p) => p.key);
    const none = await keysWith({});
    expect(await keysWith({ threads: 1 })).toEqual(none);
    expect(await keysWith({ threads: 4 })).toEqual(none);
    expect(await keysWith({ maxLength: 16 })).not.toEqual(none);
  });

  it("hold the sweep's seed only for a step that draws from it: another seed recomputes random importance, not the baseline or magnitude pruning", async () => {
    const pipelines = [heads({ ratio: 0.4 }), heads({ ratio: 0.4, importance: 'random' }), heads({ ratio: 0.4, importance: 'random', seed: 3 })];
    const [base1, magnitude1, random1, ownSeed1] = (await plan(pipelines, { seed: 1 })).map((p) => p.key);
    const [base2, magnitude2, random2, ownSeed2] = (await plan(pipelines, { seed: 2 })).map((p) => p.key);
    const unseeded = (await plan(pipelines)).map((p) => p.key);
    expect(base2).toBe(base1);
    expect(magnitude2).toBe(magnitude1);
    expect(ownSeed2).toBe(ownSeed1);
    expect(random2).not.toBe(random1);
    // (a sweep without a seed keeps its keys; a seed changes only the point that reads it)
    expect([base1, magnitude1, ownSeed1]).toEqual([unseeded[0], unseeded[1], unseeded[3]]);
    expect(random1).not.toBe(unseeded[2]);
  });

  it("hold the seed each step draws with, written in the step or as the sweep's: one point; the keys of points whose seeds read the same as written stay", async () => {
    const train = (settings: Record<string, unknown>) => [{ pass: 'train', settings: { epochs: 1, maxExamples: 8, ...settings } }];
    const random = (settings: Record<string, unknown>) => heads({ ratio: 0.4, importance: 'random', ...settings });
    // (one plan each: a plan refuses two pipelines that are one point)
    const point = async (steps: Array<{ pass: string; settings: Record<string, unknown> }>, seed?: number) =>
      (await plan([steps], seed === undefined ? {} : { seed }))[1]!;
    const key = async (steps: Array<{ pass: string; settings: Record<string, unknown> }>, seed?: number) => (await point(steps, seed)).key;
    // a training step: its own seed, else the sweep's, else 1
    expect(await key(train({}), 7)).toBe(await key(train({ seed: 7 })));
    expect(await key(train({ seed: 7 }), 3)).toBe(await key(train({ seed: 7 })));
    expect(await key(train({}), 1)).toBe(await key(train({})));
    expect(await key(train({}), 2)).not.toBe(await key(train({})));
    // random head importance: its own seed, else the sweep's, else 0
    expect(await key(random({}), 7)).toBe(await key(random({ seed: 7 })));
    expect(await key(random({ seed: 0 }))).toBe(await key(random({})));
    expect(await key(random({}), 0)).toBe(await key(random({})));
    expect(await key(random({}), 1)).not.toBe(await key(random({})));
    // without seeds, or with a step's own other than its default: the key as computed before (the seeds as written)
    for (const [steps, seed] of [
      [train({}), undefined],
      [train({ seed: 7 }), undefined],
      [train({ seed: 7 }), 3],
      [random({}), undefined],
      [random({ seed: 3 }), 5],
      [heads({ ratio: 0.4 }), 5],
    ] as const) {
      const p = await point([...steps], seed);
      expect(pointKey(p, 'written'), JSON.stringify([steps, seed])).toBe(p.key);
      expect(pointKeys(p)[0]).toBe(p.key);
    }
    // (then, for a BERT's training step, the keys of the shared training version: 'hold a train or distill step's version')
    const bySweep = await point(train({}), 7);
    expect(pointKeys(bySweep).slice(0, 2)).toEqual([bySweep.key, pointKey(bySweep, 'written')]);
    expect(pointKey(bySweep, 'written')).not.toBe(bySweep.key);
  });

  it('hold calibration only for a pipeline that measures the model', async () => {
    const pipelines = [heads({ ratio: 0.4 }), heads({ ratio: 0.4, importance: 'ablation' })];
    const few = await plan(pipelines, { calibration: { examples: 4 } });
    const many = await plan(pipelines, { calibration: { examples: 8 } });
    expect(few[1]!.calibration).toBeNull();
    expect(many[1]!.key).toBe(few[1]!.key);
    expect(few[2]!.calibration).toEqual({ task: 'SST-2', examples: 4 });
    expect(many[2]!.key).not.toBe(few[2]!.key);
  });

  it('hold the hashes of the GLUE files a point reads: other dev or calibration data (another --glue-dir) makes other points, a copy of the same files does not', async () => {
    const pipelines = [heads({ ratio: 0.4 }), heads({ ratio: 0.4, importance: 'ablation' })];
    const planOn = async (glueDir: string) => {
      const doc = {
        models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
        pipelines: ['baseline', ...pipelines.map((steps, i) => ({ name: `p${i}`, steps }))],
      };
      return (await planSweep(parseSweep(doc, t.sweepFile, 'keys.yaml'), { glueDir, workDir: join(t.root, 'work') })).map((p) => p.key);
    };
    const copy = (name: string) => {
      const dir = join(t.root, name);
      cpSync(t.glueDir, dir, { recursive: true });
      return dir;
    };
    const flip = (file: string) => {
      const [header, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\n');
      writeFileSync(file, [header, ...rows.map((r) => r.replace(/\t([01])$/, (_, l: string) => `\t${1 - Number(l)}`))].join('\n') + '\n');
    };
    const here = await planOn(t.glueDir);
    expect(await planOn(copy('glue-copy'))).toEqual(here);
    const otherDev = copy('glue-other-dev');
    flip(join(otherDev, 'SST-2', 'dev.tsv'));
    const onOtherDev = await planOn(otherDev);
    for (const [i, key] of onOtherDev.entries()) expect(key, `point ${i}`).not.toBe(here[i]);
    // the train file: read by a pipeline that measures the model (calibration), not by the others
    const otherTrain = copy('glue-other-train');
    flip(join(otherTrain, 'SST-2', 'train.tsv'));
    expect(await planOn(otherTrain)).toEqual([here[0], here[1], expect.not.stringMatching(here[2]!)]);
  });

  it("hold the hashes of the model's config.json and tokenizer files: a copy of the folder is the same points, one with another vocabulary or labels other points", async () => {
    const planOf = async (folder: string) =>
      (
        await planSweep(
          parseSweep(
            { models: [{ path: folder, tasks: ['SST-2'] }], pipelines: ['baseline', { name: 'p', steps: heads({ ratio: 0.4 }) }] },
            t.sweepFile,
            'keys.yaml',
          ),
          {
            glueDir: t.glueDir,
            workDir: join(t.root, 'work'),
          },
        )
      ).map((p) => p.key);
    const here = await planOf('models/tiny-sst2');
    const copy = join(t.root, 'models', 'side-copy');
    cpSync(join(t.root, 'models', 'tiny-sst2'), copy, { recursive: true });
    expect(await planOf(copy)).toEqual(here);
    const vocab = readFileSync(join(copy, 'vocab.txt'), 'utf8');
    writeFileSync(join(copy, 'vocab.txt'), vocab.replace('[UNK]\n', '[UNK]\nextra\n'));
    const otherVocab = await planOf(copy);
    writeFileSync(join(copy, 'vocab.txt'), vocab);
    const config = JSON.parse(readFileSync(join(copy, 'config.json'), 'utf8'));
    writeFileSync(join(copy, 'config.json'), JSON.stringify({ ...config, id2label: { 0: 'LABEL_1', 1: 'LABEL_0' } }));
    const otherLabels = await planOf(copy);
    for (const other of [otherVocab, otherLabels]) for (const [i, key] of other.entries()) expect(key).not.toBe(here[i]);
  });

  it('of a train / distill step: its defaults written out and words in another letter case make no other point, other values do', async () => {
    // (one plan each: a plan refuses two pipelines that are one point)
    const key = async (settings: Record<string, unknown>) => (await plan([[{ pass: 'distill', settings }]]))[1]!.key;
    const plain = await key({ epochs: 1, maxExamples: 8 });
    const written = {
      epochs: 1,
      maxExamples: 8,
      lr: 1e-4,
      batchSize: 32,
      maxGradNorm: 1.0,
      alpha: 0.5,
      temperature: 2,
      logitLoss: ' CE ',
      augment: 0,
      dropout: 0.1,
    };
    expect(await key(written)).toBe(plain);
    expect(await key({ epochs: 1, maxExamples: 8, checkpointEvery: 5, threads: 1 })).toBe(plain);
    // (seed 1 is the trainer's default: written out or not, one point)
    expect(await key({ epochs: 1, maxExamples: 8, seed: 1 })).toBe(plain);
    for (const other of [{ alpha: 0.7 }, { logitLoss: 'mse' }, { epochs: 3 }, { seed: 2 }])
      expect(await key({ epochs: 1, maxExamples: 8, ...other }), JSON.stringify(other)).not.toBe(plain);
    expect(await key({ maxExamples: 8 })).toBe(await key({ maxExamples: 8, epochs: 3 }));
  });

  it("of a distill step hold the hashes of its teacher's config.json and tokenizer files (its labels and vocabulary), wherever the teacher is", async () => {
    const key = async (teacher: string) => (await plan([[{ pass: 'distill', settings: { epochs: 1, maxExamples: 8, teacher } }]]))[1]!.key;
    const teacher = (name: string) => {
      const dir = join(t.root, 'models', name);
      cpSync(join(t.root, 'models', 'tiny-sst2'), dir, { recursive: true });
      return dir;
    };
    const here = await key(teacher('teacher-a'));
    expect(await key(teacher('teacher-b'))).toBe(here);
    const relabelled = teacher('teacher-c');
    const config = JSON.parse(readFileSync(join(relabelled, 'config.json'), 'utf8'));
    writeFileSync(join(relabelled, 'config.json'), JSON.stringify({ ...config, id2label: { 0: 'LABEL_1', 1: 'LABEL_0' } }));
    expect(await key(relabelled)).not.toBe(here);
  });

  it("of a distill step naming the point's own model as its teacher are those of the step without a teacher (its default): one point", async () => {
    const distill = (settings: Record<string, unknown>) => [
      { pass: 'distill', settings: { student: 'bert:layers=1', epochs: 1, maxExamples: 8, ...settings } },
    ];
    const key = async (settings: Record<string, unknown>) => (await plan([distill(settings)]))[1]!.key;
    const own = await key({});
    expect(await key({ teacher: 'models/tiny-sst2' })).toBe(own);
    expect(await key({ teacher: 'models/tiny-sst2/model.onnx' })).toBe(own);
    // (the model's folder through a symbolic link: its own folder, whichever path names it)
    symlinkSync(join(t.root, 'models', 'tiny-sst2'), join(t.root, 'models', 'tiny-sst2-link'));
    expect(await key({ teacher: 'models/tiny-sst2-link' })).toBe(own);
    expect(await key({ teacher: 'models/tiny-sst2-link/model.onnx' })).toBe(own);
    // (another SST-2 teacher: another point)
    writeTinySst2(join(t.root, 'models', 'tiny-sst2-seed3'), 3);
    expect(await key({ teacher: 'models/tiny-sst2-seed3' })).not.toBe(own);
    // (both in one sweep: one point, refused as such, saying why and that on other models they differ)
    await expect(plan([distill({}), distill({ teacher: 'models/tiny-sst2' })])).rejects.toThrow(
      "keys.yaml: pipelines 'p0' and 'p1' are the same point for model 'tiny-sst2' ('p1' names 'tiny-sst2' itself as its distill teacher, the default); keep one, or leave 'tiny-sst2' out of one of them (its models:)",
    );
  });

  it("of a first distill step naming the point's own model as its student are those of the step without a student (its default): one point", async () => {
    const distill = (settings: Record<string, unknown>) => [{ pass: 'distill', settings: { epochs: 1, maxExamples: 8, ...settings } }];
    const planned = async (settings: Record<string, unknown>) => (await plan([distill(settings)]))[1]!;
    const own = await planned({});
    for (const student of ['models/tiny-sst2', 'models/tiny-sst2/model.onnx']) {
      const p = await planned({ student });
      expect(p.key, student).toBe(own.key);
      // (its side files are the model's: not hashed again as a student's)
      expect(p.data?.training).toBeUndefined();
    }
    // (the model's folder through a symbolic link: its own folder, whichever path names it)
    symlinkSync(join(t.root, 'models', 'tiny-sst2'), join(t.root, 'models', 'tiny-sst2-own-student'));
    expect((await planned({ student: 'models/tiny-sst2-own-student' })).key).toBe(own.key);
    // (another model as the student: another point)
    writeTinySst2(join(t.root, 'models', 'tiny-sst2-student3'), 3);
    expect((await planned({ student: 'models/tiny-sst2-student3' })).key).not.toBe(own.key);
    // (both in one sweep: one point, refused as such, saying why and that on other models they differ)
    await expect(plan([distill({}), distill({ student: 'models/tiny-sst2' })])).rejects.toThrow(
      "keys.yaml: pipelines 'p0' and 'p1' are the same point for model 'tiny-sst2' ('p1' names 'tiny-sst2' itself as its distill student, the default); keep one, or leave 'tiny-sst2' out of one of them (its models:)",
    );
  });

  it('refuse a pipeline that measures the model when its calibration task has no train file, before any point runs', async () => {
    const pipelines = [heads({ ratio: 0.4 }), heads({ ratio: 0.4, importance: 'ablation' })];
    await expect(plan(pipelines.slice(0, 1), { calibration: { task: 'RTE', examples: 4 } })).resolves.toHaveLength(2);
    await expect(plan(pipelines, { calibration: { task: 'RTE', examples: 4 } })).rejects.toThrow(
      /^\S*RTE\/train\.tsv: file not found \(GLUE RTE train, the calibration data of 'p1' on tiny-sst2; set glueDir, --glue-dir or GLUE_DIR, or name a task with a train split in calibration\.task\)$/,
    );
  });

  it('of a model with external data change with its weights (the same .onnx, other .data); an inline model keeps its file hash', async () => {
    const dir = join(t.root, 'models', 'external');
    cpSync(join(t.root, 'models', 'tiny-sst2'), dir, { recursive: true });
    saveModel(loadModel(join(dir, 'model.onnx')), join(dir, 'model.onnx'), { externalData: true });
    const planOf = async () =>
      (
        await planSweep(parseSweep({ models: [{ path: 'models/external', tasks: ['SST-2'] }], pipelines: ['baseline'] }, t.sweepFile, 'keys.yaml'), {
          glueDir: t.glueDir,
          workDir: join(t.root, 'work'),
        })
      )[0]!;
    const before = await planOf();
    const onnx = readFileSync(join(dir, 'model.onnx'));
    const data = readFileSync(join(dir, 'model.onnx.data'));
    for (let i = 0; i + 4 <= data.length; i += 4) data.writeFloatLE(data.readFloatLE(i) * 1.5, i);
    writeFileSync(join(dir, 'model.onnx.data'), data);
    expect(readFileSync(join(dir, 'model.onnx')).equals(onnx)).toBe(true);
    const after = await planOf();
    expect(after.model.sha256).not.toBe(before.model.sha256);
    expect(after.key).not.toBe(before.key);
    const inline = (await plan([]))[0]!;
    expect(inline.model.sha256).toBe(await sha256File(join(t.root, 'models', 'tiny-sst2', 'model.onnx')));
  });
});

describe('stale points', () => {
  const stored = (point: unknown, key: string): { row: StoredPoint; plan: [string, unknown] } => ({
    row: { key, result: { glue: 0.5 } as PointResult } as StoredPoint,
    plan: [key, point],
  });

  it('are found by family: a result of another pass version, or stored before versions existed', async () => {
    const points = await plan([heads({ ratio: 0.4 }), heads({ ratio: 0.5 })]);
    const p = points[1]!;
    // (the version its settings are keyed with: PRUNE_HEADS.keyVersion)
    const now = p.versions.passes['prune-heads']!;
    const older = { ...p, versions: { ...p.versions, passes: { 'prune-heads': now - 1 } } };
    // as code before pass versions stored it: no versions, raw settings, another key
    const { versions: _v, ...legacy } = { ...p, steps: [{ pass: 'prune-heads', settings: { ratio: 0.4, importance: 'magnitude' } }] };
    const rows = [stored(older, 'older-key'), stored(legacy, 'legacy-key'), stored(points[2], points[2]!.key)];
    const stale = findStale(
      points,
      rows.map((r) => r.row),
      new Map(rows.map((r) => r.plan)),
    );
    expect([...stale.keys()]).toEqual([p.key]);
    expect(stale.get(p.key)!.stored.map((s) => s.key)).toEqual(['older-key', 'legacy-key']);
    expect(stale.get(p.key)!.change).toBe(`prune-heads unversioned → v${now}`);
    expect(findStale(points, [rows[0]!.row], new Map([rows[0]!.plan])).get(p.key)!.change).toBe(`prune-heads v${now - 1} → v${now}`);
  });

  it('are found under the settings earlier code made canonical otherwise: mixed:56.7% stored by an older quantize as mixed:0.5670000000000001', async () => {
    const point = async (mode: string) => (await plan([[{ pass: 'quantize', settings: { mode } }]], { calibration: { examples: 4 } }))[1]!;
    const percent = await point('mixed:56.7%');
    const earlier = await point('mixed:0.5670000000000001');
    const now = earlier.versions.passes.quantize!;
    const older = { ...earlier, versions: { ...earlier.versions, passes: { quantize: now - 1 } } };
    const rows = [stored(older, 'older-key')];
    const stale = findStale(
      [percent],
      rows.map((r) => r.row),
      new Map(rows.map((r) => r.plan)),
    );
    expect(stale.get(percent.key)?.stored.map((s) => s.key)).toEqual(['older-key']);
    expect(stale.get(percent.key)!.change).toBe(`quantize v${now - 1} → v${now}`);
  });

  it('read only the stored points of the families asked about: one of another family is not planned again (its model not hashed), where every stored point was', async () => {
    const [baseline, ft] = await plan([[{ pass: 'train', settings: { epochs: 1, maxExamples: 4, batchSize: 4 } }]]);
    // a train point stored before student kinds were kept, whose model's stamps do not hold: planning it again hashes its model
    const { studentKind: _kind, ...training } = ft!.training!;
    const old = { ...ft!, training, model: { ...ft!.model, sha256: 'f'.repeat(64), stamps: undefined } };
    const row = stored(old, 'old-train');
    const hashed: string[] = [];
    const modelHash = (onnx: string) => (hashed.push(onnx), undefined);
    expect(findStale([baseline!], [row.row], new Map([row.plan]), modelHash).size).toBe(0);
    expect(hashed).toEqual([]);
    // (the family it is of: planned again, its model hashed)
    findStale([{ ...old, key: 'now' }], [row.row], new Map([row.plan]), modelHash);
    expect(hashed).toEqual([ft!.model.onnx]);
  });

  it("key a pass's settings with the version that last changed what it writes for them (keyVersion): prune-heads 6 only for importance random past the seeds it drew as before", () => {
    const v = (settings: Record<string, unknown>, seed?: number) => currentVersions([{ pass: 'prune-heads', settings }], seed).passes['prune-heads'];
    const last = RANDOM_SEEDS_DRAWN_AS_BEFORE;
    expect(PRUNE_HEADS.version).toBe(6);
    expect(v({ ratio: 0.5 })).toBe(5);
    expect(v({ ratio: 0.5, importance: 'ablation' }, 2 ** 31)).toBe(5);
    expect(v({ heads: '0:1' })).toBe(5);
    expect(v({ ratio: 0.5, importance: 'random' })).toBe(5);
    expect(v({ ratio: 0.5, importance: 'random', seed: last })).toBe(5);
    expect(v({ ratio: 0.5, importance: 'random', seed: last + 1 })).toBe(6);
    // the sweep's seed, where the step gives none; its own where it gives one
    expect(v({ ratio: 0.5, importance: 'random' }, last + 1)).toBe(6);
    expect(v({ ratio: 0.5, importance: 'random', seed: 7 }, last + 1)).toBe(5);
    // a pass twice in a pipeline: the higher
    const twice = currentVersions(
      [
        { pass: 'prune-heads', settings: { ratio: 0.2 } },
        { pass: 'prune-heads', settings: { ratio: 0.2, importance: 'random', seed: 2 ** 31 } },
      ],
      undefined,
    );
    expect(twice.passes['prune-heads']).toBe(6);
    // the seeds up to `last` draw as versions 5 and earlier drew them: their float product was exact
    expect(last * 2654435761).toBeLessThanOrEqual(2 ** 53);
    expect((last + 1) * 2654435761).toBeGreaterThan(2 ** 53);
  });

  it('key quantize 9 and 10 (float16 keeps a decomposed LayerNorm’s variance float32; its value_info) for mode float16 only, 17 (int8 weight codes as onnxruntime rounds them) for every other mode, 18 (4-bit blocks as onnxruntime writes them) for int4-block and mixed only, where 11 to 16 changed int8-static and mixed with attention false only', () => {
    const v = (settings: Record<string, unknown>) => currentVersions([{ pass: 'quantize', settings }], undefined).passes.quantize;
    expect(QUANTIZE.version).toBe(18);
    expect(v({ mode: 'float16' })).toBe(10);
    expect(v({ mode: 'int8', attention: false })).toBe(17);
    for (const calibration of ['minmax', 'percentile:99.9', 'entropy']) expect(v({ mode: 'int8-static', calibration })).toBe(17);
    for (const mode of ['int8', 'int8-group:8']) expect(v({ mode })).toBe(17);
    for (const mode of ['int4-block:32', 'mixed:0.5']) expect(v({ mode })).toBe(18);
    expect(v({ mode: 'mixed:0.5', attention: false })).toBe(18);
    expect(v({ mode: 'int4-block:16', symmetric: false })).toBe(18);
  });

  it("hold a train or distill step's version for the kind of student it trains (TRAINING_VERSIONS), version 1 as the key of a point stored before steps had one", async () => {
    const [, ft, kd, lstm] = await plan([
      [{ pass: 'train', settings: { epochs: 1, maxExamples: 8 } }],
      [{ pass: 'distill', settings: { epochs: 1, maxExamples: 8 } }],
      [{ pass: 'distill', settings: { epochs: 1, maxExamples: 8, student: 'bilstm:hidden=8' } }],
    ]);
    expect(TRAINING_VERSIONS).toEqual({ train: { bert: 1, bilstm: 2 }, distill: { bert: 1, bilstm: 2 } });
    expect([ft, kd, lstm].map((p) => p!.training!.studentKind)).toEqual(['bert', 'bert', 'bilstm']);
    expect(ft!.versions).toEqual({ tool: toolVersion(), passes: { train: 1 } });
    expect(kd!.versions).toEqual({ tool: toolVersion(), passes: { distill: 1 } });
    expect(lstm!.versions).toEqual({ tool: toolVersion(), passes: { distill: 2 } });
    // a BERT's: the key of a point stored before steps had versions, for a queue worker too
    const unversioned = { ...kd!, versions: { tool: toolVersion(), passes: {} } };
    expect(pointKey(unversioned)).toBe(kd!.key);
    expect(sameVersions(unversioned.versions, kd!.versions)).toBe(true);
    // and a store written by the code of version 2 for every kind (a BiLSTM's change) holds it under that version's key
    const shared = { ...kd!, versions: { tool: toolVersion(), passes: { distill: 2 } } };
    expect(pointKeys(kd!)).toEqual([kd!.key, pointKey(shared)]);
    expect(pointFamily(shared)).toBe(pointFamily(kd!));
    // a BiLSTM's version 1 (its LSTM biases decayed): another key of the same family, other code, said as such
    const v1 = { ...lstm!, versions: { tool: toolVersion(), passes: { distill: 1 } } };
    expect(pointKeys(lstm!)).toEqual([lstm!.key]);
    expect(pointKey(v1)).not.toBe(lstm!.key);
    expect(pointFamily(v1)).toBe(pointFamily(lstm!));
    expect(sameVersions(lstm!.versions, v1.versions)).toBe(false);
    expect(versionChange(v1, lstm!)).toBe('distill v1 → v2');
    expect(versionChange(lstm!, v1)).toBe('distill v2 → v1');
    // a plan stored without the kind of its student: its spec's (the BiLSTM's); none said, the step's code's version
    const { studentKind: _k, ...planned } = lstm!.training!;
    expect(pointStudentKind({ training: planned })).toBe('bilstm');
    const { studentKind: _b, ...unknown } = kd!.training!;
    expect(pointStudentKind({ training: unknown })).toBeUndefined();
    expect(currentVersions(kd!.steps, undefined, undefined, pointStudentKind({ training: unknown })).passes).toEqual({ distill: 2 });
  });

  it('are not matched across different settings, nor from a plan this code cannot read', async () => {
    const points = await plan([heads({ ratio: 0.4 })]);
    const p = points[1]!;
    const other = { ...p, steps: heads({ ratio: 0.45 }), versions: { ...p.versions, tool: 'old' } };
    const unreadable = { ...p, steps: [{ pass: 'prune-heads', settings: { ratio: 0.4, removedSetting: 1 } }], versions: { ...p.versions, tool: 'old' } };
    const rows = [stored(other, 'a'), stored(unreadable, 'b'), stored({ nothing: true }, 'c')];
    expect(
      findStale(
        points,
        rows.map((r) => r.row),
        new Map(rows.map((r) => r.plan)),
      ).size,
    ).toBe(0);
  });
});

describe('codeAge: which of two codes keyed a point first', () => {
  const v = (tool: string, passes: Record<string, number> = {}, tokenizer?: number) => ({ tool, passes, ...(tokenizer ? { tokenizer } : {}) });
  it('says older or newer only where every version that differs agrees, mixed otherwise', () => {
    expect(codeAge(v('0.1.0', { 'prune-heads': 2 }), v('0.1.0', { 'prune-heads': 2 }))).toBe('same');
    expect(codeAge(v('0.0.9', { 'prune-heads': 2 }), v('0.1.0', { 'prune-heads': 2 }))).toBe('older');
    expect(codeAge(v('0.10.0'), v('0.9.1'))).toBe('newer'); // (numbers, not text)
    expect(codeAge(v('0.1.0-rc.1'), v('0.1.0'))).toBe('older');
    expect(codeAge(v('0.1.0-rc.1'), v('0.1.0-rc.2'))).toBe('mixed');
    expect(codeAge(v('0.1.0', { 'prune-heads': 1 }), v('0.1.0', { 'prune-heads': 2 }))).toBe('older');
    expect(codeAge(v('0.1.0', { 'prune-future': 1 }), v('0.1.0'))).toBe('newer'); // (a step the other code does not have)
    expect(codeAge(v('0.1.0', { train: 1 }), v('0.1.0'))).toBe('same'); // (training version 1 written or not)
    expect(codeAge(v('0.1.0', {}, 2), v('0.1.0'))).toBe('newer'); // (the tokenizers' reading)
    // (the training steps' default length: TRAINING_LENGTH_READINGS, version 1 written or not)
    expect(codeAge({ ...v('0.1.0'), trainingLength: 2 }, v('0.1.0'))).toBe('newer');
    expect(codeAge(v('0.1.0'), { ...v('0.1.0'), trainingLength: 2 })).toBe('older');
    expect(codeAge({ ...v('0.1.0'), trainingLength: 1 }, v('0.1.0'))).toBe('same');
    expect(codeAge({ ...v('0.1.0', { 'prune-heads': 2 }), trainingLength: 1 }, { ...v('0.1.0', { 'prune-heads': 1 }), trainingLength: 2 })).toBe('mixed');
    expect(codeAge(v('0.2.0', { 'prune-heads': 1 }), v('0.1.0', { 'prune-heads': 2 }))).toBe('mixed');
    expect(codeAge(v('my-build'), v('0.1.0'))).toBe('mixed');
  });
});
