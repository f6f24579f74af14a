/**
 * Since d790addc a train or distill step without a length (no maxLength of its own, no eval.maxLength, no max_length in
 * config.json) trains at the length its models' inputs fix, where it cut at 128: a static-shape model of more than
 * 128 tokens trains to other bytes. Its sweep points, stored by the older code, are stale (TRAINING_LENGTH_READINGS:
 * the point's versions' trainingLength), kept in the sweep's line, --dry-run and the report, recomputed with
 * --rerun-stale, while the points of a dynamic-shape model (the shared teachers'), or of a step given its length, keep
 * their keys and results: no bump of TRAINING_VERSIONS, which would stale every BERT training point.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSweep } from '../../src/sweep/spec.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { pointKey } from '../../src/sweep/key.ts';
import { staleChange } from '../../src/sweep/stale.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { staleLine } from '../../src/cli/commands/sweep.ts';
import { loadReport } from '../../src/report/write.ts';
import { TRAINING_LENGTH_READINGS } from '../../src/train/versions.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { storedPoints } from '../helpers/stored-points.ts';

const CONFIG = { model_type: 'bert', num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } };

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'training-length-version-'));
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  // a static-shape export of 160 tokens, and a dynamic-shape model, neither of whose config.json names a max_length
  const fixed = tinyBert({ maxPositions: 256 }, { seed: 1, std: 0.2 });
  for (const input of fixed.graph.inputs) input.shape = ['batch', 160];
  fixed.graph.outputs[0]!.shape = ['batch', 2];
  for (const [name, model] of [
    ['fixed-160', fixed],
    ['dynamic', tinyBert({ maxPositions: 256 }, { seed: 2, std: 0.2 })],
  ] as const) {
    const dir = writeModelFolder(join(root, 'models', name), model);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG));
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The readings of the code running now, put back after a test that plays the code before them. */
const readings = TRAINING_LENGTH_READINGS as Array<(typeof TRAINING_LENGTH_READINGS)[number]>;
const released = [...readings];
afterEach(() => readings.splice(0, readings.length, ...released));

const TRAIN = { epochs: 1, batchSize: 4, maxExamples: 4, evalEachEpoch: false, dropout: 0, threads: 1 };

const sweep = (name: string, pipelines: unknown[]) => ({
  name,
  models: [
    { path: 'models/fixed-160', tasks: ['SST-2'] },
    { path: 'models/dynamic', tasks: ['SST-2'] },
  ],
  calibration: false,
  pipelines,
  bench: { batch: [1], repeats: 1, warmup: 0, threads: 1 },
  eval: { threads: 1 },
  keepModels: false,
});

/** `p`'s plan as the code before d790addc stored it (no training length version), and the key it stored it under. */
function older(p: SweepPoint): { plan: SweepPoint; key: string } {
  const { trainingLength: _t, ...versions } = p.versions;
  const plan = { ...p, versions };
  return { plan, key: pointKey(plan) };
}

describe("a sweep point's training length version", () => {
  it('marks the points of a static-shape model past 128 tokens whose steps take the default length; others keep their keys', async () => {
    const pipelines = [
      { name: 'ft', steps: [{ pass: 'train', settings: TRAIN }] },
      { name: 'ft-64', steps: [{ pass: 'train', settings: { ...TRAIN, maxLength: 64 } }] },
      { name: 'kd', steps: [{ pass: 'distill', settings: { ...TRAIN, student: 'bert:layers=1,hidden=16,heads=2,intermediate=32' } }] },
    ];
    const points = await planSweep(parseSweep(sweep('plan', pipelines), join(root, 'plan.yaml'), 'plan.yaml'), {
      glueDir: join(root, 'glue'),
      workDir: join(root, 'work'),
    });
    const byName = new Map(points.map((p) => [`${p.model.name} · ${p.label}`, p]));
    expect([...byName.keys()].sort()).toEqual([
      'dynamic · baseline',
      'dynamic · ft',
      'dynamic · ft-64',
      'dynamic · kd',
      'fixed-160 · baseline',
      'fixed-160 · ft',
      'fixed-160 · ft-64',
      'fixed-160 · kd',
    ]);
    for (const [name, p] of byName) {
      const was = older(p);
      if (name === 'fixed-160 · ft' || name === 'fixed-160 · kd') {
        // trained at 160 now, at 128 by the older code: another key, and its stored point stale
        expect(p.versions.trainingLength, name).toBe(2);
        expect(was.key, name).not.toBe(p.key);
        expect(staleChange(was.plan, was.key), name).toBe('training length v1 → v2');
      } else {
        // (a dynamic-shape model's, a step given its length, a baseline: as before, under the key it had)
        expect(p.versions, name).not.toHaveProperty('trainingLength');
        expect(was.key, name).toBe(p.key);
        expect(staleChange(was.plan, was.key), name).toBeUndefined();
      }
    }
  });

  it("leaves a step of a static-shape model its key where the sweep's eval.maxLength or the model's config.json max_length gives its length", async () => {
    // (the same export of 160 tokens, its config.json naming the length it was trained at)
    const dir = join(root, 'models', 'fixed-160-config');
    cpSync(join(root, 'models', 'fixed-160'), dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...CONFIG, max_length: 160 }));
    const pipelines = [
      { name: 'ft', steps: [{ pass: 'train', settings: TRAIN }] },
      { name: 'kd', steps: [{ pass: 'distill', settings: { ...TRAIN, student: 'bert:layers=1,hidden=16,heads=2,intermediate=32' } }] },
    ];
    const planned = async (doc: Record<string, unknown>) =>
      (await planSweep(parseSweep(doc, join(root, 'given.yaml'), 'given.yaml'), { glueDir: join(root, 'glue'), workDir: join(root, 'work') })).filter(
        (p) => p.training !== undefined,
      );
    const byEval = await planned({
      ...sweep('by-eval', pipelines),
      models: [{ path: 'models/fixed-160', tasks: ['SST-2'] }],
      eval: { threads: 1, maxLength: 160 },
    });
    const byConfig = await planned({ ...sweep('by-config', pipelines), models: [{ path: 'models/fixed-160-config', tasks: ['SST-2'] }] });
    expect([...byEval, ...byConfig].map((p) => `${p.model.name} · ${p.label}`)).toEqual([
      'fixed-160 · ft',
      'fixed-160 · kd',
      'fixed-160-config · ft',
      'fixed-160-config · kd',
    ]);
    for (const p of [...byEval, ...byConfig]) {
      expect(p.versions, `${p.model.name} · ${p.label}`).not.toHaveProperty('trainingLength');
      expect(older(p).key, `${p.model.name} · ${p.label}`).toBe(p.key);
    }
  });

  it('is stale in a store the older code wrote (kept, reported, recomputed with --rerun-stale); a dynamic-shape model keeps its point', async () => {
    const file = join(root, 'run.yaml');
    writeFileSync(file, JSON.stringify(sweep('run', [{ name: 'ft', steps: [{ pass: 'train', settings: TRAIN }] }])));
    const store = join(root, 'run.sqlite');
    const stored = () => storedPoints(store);
    // the code before the default changed: no step's default length had a version
    readings.splice(0, readings.length);
    expect(await runSweep({ file, store })).toMatchObject({ total: 4, ran: 4, failed: [] });
    const before = stored();
    for (const v of before.values()) expect(v.versions).not.toHaveProperty('trainingLength');
    readings.splice(0, readings.length, ...released);

    const change = 'training length v1 → v2';
    const kept = await runSweep({ file, store });
    expect(kept).toMatchObject({ total: 4, alreadyDone: 3, ran: 0, failed: [] });
    expect(kept.stale.map((s) => [s.point.model.name, s.stored.map((o) => o.key), s.change])).toEqual([
      ['fixed-160', [before.get('fixed-160 · ft')!.key], change],
    ]);
    expect(staleLine(kept.stale, false).line).toMatch(
      `1 point stale: stored by other code (${change}) and kept, not recomputed: fixed-160 · ft; rerun with --rerun-stale`,
    );
    const rows = () => loadReport({ store }).rows.map((r) => [r.model, r.label, r.stale]);
    expect(rows()).toEqual([
      ['dynamic', 'baseline', null],
      ['dynamic', 'ft', null],
      ['fixed-160', 'baseline', null],
      ['fixed-160', 'ft', change],
    ]);

    const rerun = await runSweep({ file, store, rerunStale: true });
    expect(rerun).toMatchObject({ total: 4, alreadyDone: 3, ran: 1, failed: [] });
    const after = stored();
    expect(after.get('fixed-160 · ft')!.versions.trainingLength).toBe(2);
    expect(after.get('fixed-160 · ft')!.key).not.toBe(before.get('fixed-160 · ft')!.key);
    for (const name of ['dynamic · ft', 'dynamic · baseline', 'fixed-160 · baseline']) expect(after.get(name), name).toEqual(before.get(name));
    expect(rows().map(([, , stale]) => stale)).toEqual([null, null, null, null]);
  });
});
