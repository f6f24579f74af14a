/**
 * A report of a store a running sweep is writing: its points are read as of one moment, so a point that finishes (or
 * fails) while the report reads is a row, a failure, or listed as not finished, never left out of all three.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadReport } from '../../src/report/write.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { fakePoint, storePoints } from './points.ts';

/** A planned point of sweep 'test' as its plan names it (what SweepStore's addToSweep, claim, finish and fail read). */
const planned = (label: string, key: string) =>
  ({
    key,
    sweep: 'test',
    model: { name: 'sst2', onnx: '/models/sst2/model.onnx', sha256: 'sha-sst2' },
    label,
    steps: [{ pass: 'prune-heads', settings: { ratio: 0.4 } }],
    tasks: ['SST-2'],
    toolVersion: '0.1.0',
  }) as unknown as SweepPoint;

describe('report of a store a sweep is writing', () => {
  afterEach(() => vi.restoreAllMocks());

  for (const ending of ['finishes', 'fails'] as const) {
    it(`lists a point that ${ending === 'finishes' ? 'finishes' : 'fails'} while the report reads the store (not left out of the table, the failures and the unfinished alike)`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'report-running-'));
      const path = join(dir, 'store.sqlite');
      try {
        const [baseline] = storePoints(path, [fakePoint({ model: 'sst2', label: 'baseline', bytes: 4e7, glue: 0.8 }, 0)]);
        // the sweep, still running: its store open (so a reader reads the live file and its WAL), one point claimed
        const sweep = SweepStore.open(path);
        try {
          const point = planned('heads-40%', '7'.repeat(64));
          sweep.addToSweep([{ ...planned('baseline', baseline!.key), steps: [] } as SweepPoint, point]);
          sweep.claim(point);
          // the point ends just after the report read the finished points (the failed ones): the sweep writes it then
          const end = () =>
            ending === 'finishes'
              ? sweep.finish(point, fakePoint({ model: 'sst2', label: 'heads-40%', bytes: 3e7, glue: 0.79, speedup: 1.2 }, 1).result)
              : sweep.fail(point.key, 'out of memory');
          const method = ending === 'finishes' ? 'finished' : 'failures';
          const read = SweepStore.prototype[method] as (this: SweepStore, sweep?: string) => unknown;
          vi.spyOn(SweepStore.prototype, method).mockImplementation(function (this: SweepStore, name?: string) {
            const out = read.call(this, name);
            if (this !== sweep) end();
            return out as never;
          });
          const data = loadReport({ store: path });
          const listed = [
            ...data.rows.map((r) => `row ${r.label}`),
            ...data.failed.map((f) => `failed ${f.label}`),
            ...(data.unfinished ?? []).map((u) => `unfinished ${u.label}`),
          ];
          expect(listed).toEqual(['row baseline', 'unfinished heads-40%']);
        } finally {
          sweep.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
