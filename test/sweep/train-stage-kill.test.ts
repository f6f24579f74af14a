/**
 * A sweep point killed after its train step wrote the trained model but before the stage was recorded (while its
 * files are hashed for the record: seconds for a large model): the rerun must not train again from scratch. The step's
 * checkpoints stay until the stage is recorded, so the rerun resumes from the last one ("all epochs were done") and
 * writes the same model. The kill is modelled by the record's write failing, as the process dying there leaves it
 * (its temporary too, which the rerun's record removes).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { runPoint } from '../../src/sweep/point.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

const killAtRecord = vi.hoisted(() => ({ on: false }));
vi.mock('../../src/files.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/files.ts')>();
  return {
    ...orig,
    writeFileAtomic: (...[path, data]: Parameters<typeof orig.writeFileAtomic>) => {
      if (killAtRecord.on && path.endsWith('.sweep-stage.json')) {
        // (killed while writing it: its temporary stays, of a process that is gone, unwritten for an hour)
        const left = `${path}.${spawnSync(process.execPath, ['-e', '']).pid}.k1ll3d00.tmp`;
        writeFileSync(left, '{"key": ');
        utimesSync(left, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
        throw new Error('killed before the stage was recorded');
      }
      return orig.writeFileAtomic(path, data);
    },
  };
});

let t: TinySweep;
let point: SweepPoint;
beforeAll(async () => {
  t = writeTinySweep({ rows: 40 });
  const doc = {
    models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
    pipelines: [
      {
        name: 't-q',
        steps: [
          { pass: 'train', settings: { epochs: 2, batchSize: 8, evalEachEpoch: false } },
          { pass: 'quantize', settings: { mode: 'int8' } },
        ],
      },
    ],
    bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
    eval: { threads: 1 },
    calibration: false,
    keepModels: true,
  };
  const points = await planSweep(parseSweep(doc, t.sweepFile, 'kill.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work') });
  point = points.find((p) => p.label === 't-q')!;
});
afterAll(() => {
  killAtRecord.on = false;
  t?.cleanup();
});

describe('a sweep point killed between its train step and the stage record', () => {
  it('the rerun resumes from the step’s last checkpoint, writes the same model, and removes the checkpoints once recorded', async () => {
    const dir = point.outputDir!;
    const trained = join(dir, 'stage-1', 'model.onnx');
    killAtRecord.on = true;
    await expect(runPoint(point, { threads: 1 })).rejects.toThrow('killed before the stage was recorded');
    killAtRecord.on = false;
    expect(existsSync(trained), 'the train step wrote its model before the kill').toBe(true);
    const first = readFileSync(trained);

    const logs: string[] = [];
    await runPoint(point, { threads: 1, log: (l) => logs.push(l) });
    expect(logs.filter((l) => /^resuming from step \d+: all 2 epochs were done/.test(l)).length, logs.join('\n')).toBe(1);
    expect(logs.filter((l) => /^resuming from step \d+ \(epoch/.test(l))).toEqual([]);
    // (the intermediate model's weights are dropped once the point ends: its lineage holds the model's sha256)
    const lineage = JSON.parse(readFileSync(`${trained}.json`, 'utf8')) as { output: { sha256: string } };
    const { createHash } = await import('node:crypto');
    expect(lineage.output.sha256).toBe(createHash('sha256').update(first).digest('hex'));
    expect(readdirSync(dir).filter((f) => f.startsWith('train-'))).toEqual([]);
    // (the killed write's temporary of the record is removed when the stage is recorded)
    expect(readdirSync(join(dir, 'stage-1')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);
});
