/**
 * A point's finished stage is reused by a later run of the point only while every file it wrote that a later stage,
 * the evaluation or the benchmark reads is as it was written: the model, its external data, its lineage, config.json
 * and the tokenizer files (and none of those it did not write has appeared). Otherwise the stage runs again, says
 * why, and writes them all anew.
 */
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { runPoint, type PointResult } from '../../src/sweep/point.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

// The stages' models keep their weights in an external data file (as a model past 2 GB does), so that it can be
// tampered with; the tiny input models are written before this is switched on.
const external = vi.hoisted(() => ({ on: false }));
vi.mock('../../src/onnx/save.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/onnx/save.ts')>();
  return {
    ...orig,
    saveModel: (...[model, path, opts = {}]: Parameters<typeof orig.saveModel>) =>
      orig.saveModel(model, path, external.on && (opts.externalData ?? 'auto') === 'auto' ? { ...opts, externalData: true } : opts),
  };
});

let t: TinySweep;
let point: SweepPoint;
beforeAll(async () => {
  t = writeTinySweep({ rows: 8 });
  external.on = true;
  const doc = {
    models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
    pipelines: [{ name: 'ffn', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }],
    bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
    calibration: false,
    keepModels: true,
  };
  const points = await planSweep(parseSweep(doc, t.sweepFile, 'reuse.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work') });
  point = points.find((p) => p.label === 'ffn')!;
});
afterAll(() => {
  external.on = false;
  t?.cleanup();
});

async function run(): Promise<{ result: PointResult; logs: string[] }> {
  const logs: string[] = [];
  const result = await runPoint(point, { threads: 1, log: (l) => logs.push(l) });
  return { result, logs };
}

/** The same bytes but one, at `at` (a fraction of the file), changed. */
function changeOneByte(file: string, at = 0.5): void {
  const bytes = readFileSync(file);
  const i = Math.floor(bytes.length * at);
  bytes[i] = bytes[i]! ^ 0x20;
  writeFileSync(file, bytes);
}

describe('a finished stage of a point', () => {
  it('is reused while its files are as written, and runs again when any of them changed', async () => {
    const dir = point.outputDir!;
    const model = join(dir, 'model.onnx');
    const first = await run();
    expect(first.result.reused).toBeUndefined();
    expect(existsSync(`${model}.data`), 'the stage wrote its weights to an external data file').toBe(true);
    expect(existsSync(join(dir, 'tokenizer.json'))).toBe(false);
    const written = new Map(['config.json', 'vocab.txt', 'model.onnx.data'].map((f) => [f, readFileSync(join(dir, f))]));

    const untouched = await run();
    expect(untouched.result.reused).toBe(1);
    expect(untouched.logs).toContain(`reusing the output of stage 1 of 1 (prune-ffn) from an earlier run of ffn: ${model}`);

    const cases: Array<[string, () => void, string]> = [
      ['config.json', () => changeOneByte(join(dir, 'config.json')), 'config.json changed since (other bytes than written'],
      ['vocab.txt', () => changeOneByte(join(dir, 'vocab.txt')), 'vocab.txt changed since (other bytes than written'],
      ['model.onnx.data', () => changeOneByte(`${model}.data`), 'model.onnx.data changed since (other bytes than written'],
      ['model.onnx.data', () => truncateSync(`${model}.data`, statSync(`${model}.data`).size - 64), 'model.onnx.data changed since ('],
      ['model.onnx.json', () => changeOneByte(`${model}.json`, 0.9), 'model.onnx.json changed since (other bytes than written'],
      ['model.onnx', () => changeOneByte(model, 0.99), 'model.onnx changed since (other bytes than written'],
      ['config.json', () => writeFileSync(join(dir, 'config.json'), '{}'), 'config.json changed since (2 bytes, '],
      ['tokenizer.json', () => writeFileSync(join(dir, 'tokenizer.json'), '{}'), 'tokenizer.json appeared since'],
    ];
    for (const [name, tamper, why] of cases) {
      tamper();
      const redone = await run();
      expect(redone.result.reused, `${name}: ${why}`).toBeUndefined();
      const line = redone.logs.find((l) => l.startsWith('not reusing the output of stage 1 of 1 (prune-ffn) from an earlier run of ffn: '));
      expect(line, redone.logs.join('\n')).toContain(`: ${why}`);
      expect(redone.logs.filter((l) => l.startsWith('reusing'))).toEqual([]);
      // the stage wrote its files anew (the one that appeared is gone), and the next run reuses them
      for (const [f, bytes] of written) expect(readFileSync(join(dir, f)).equals(bytes), `${f} after ${name}`).toBe(true);
      expect(existsSync(join(dir, 'tokenizer.json'))).toBe(false);
      expect((await run()).result.reused, `after ${name}`).toBe(1);
    }
  });

  it('is reused from a record written before vocab.json and merges.txt were side files (stop 42), unless one appeared since', async () => {
    const record = join(point.outputDir!, '.sweep-stage.json');
    const older = () => {
      const json = JSON.parse(readFileSync(record, 'utf8'));
      delete json.files['vocab.json'];
      delete json.files['merges.txt'];
      writeFileSync(record, JSON.stringify(json));
    };
    await run();
    older();
    const reused = await run();
    expect(reused.result.reused, reused.logs.join('\n')).toBe(1);
    older();
    writeFileSync(join(point.outputDir!, 'merges.txt'), '#version: 0.2\n');
    const redone = await run();
    expect(redone.result.reused).toBeUndefined();
    expect(redone.logs).toContainEqual(expect.stringMatching(/^not reusing the output of stage 1 of 1 \(prune-ffn\) .*: merges\.txt appeared since/));
    expect(existsSync(join(point.outputDir!, 'merges.txt'))).toBe(false);
  });

  it('is not reused from a record that holds the model hash only (an older version wrote it)', async () => {
    const record = join(point.outputDir!, '.sweep-stage.json');
    await run();
    const json = JSON.parse(readFileSync(record, 'utf8'));
    delete json.files;
    json.sha256 = 'whatever an older version recorded';
    writeFileSync(record, JSON.stringify(json));
    const redone = await run();
    expect(redone.result.reused).toBeUndefined();
    expect(redone.logs).toContainEqual(expect.stringMatching(/^not reusing the output of stage 1 of 1 \(prune-ffn\) .*older version/));
    expect((await run()).result.reused).toBe(1);
  });
});
