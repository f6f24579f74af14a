/**
 * runSweep's checks before any point runs: a file in the way of the work folder is one line, not an ENOTDIR at
 * each point. What it records of its plan before any point runs: the points of an edited sweep it no longer plans
 * are no longer its own.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { runSweep, type SweepEvent } from '../../src/sweep/run.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 4 });
});
afterAll(() => t?.cleanup());

describe('runSweep', () => {
  it('refuses a work folder that is a file, or under one, before running any point or creating the store', async () => {
    const file = join(t.root, 'a-file');
    writeFileSync(file, 'x');
    const store = join(t.root, 'store.sqlite');
    for (const workDir of [file, join(file, 'models')]) {
      const events: SweepEvent['type'][] = [];
      const run = runSweep({ file: t.sweepFile, store, workDir, onEvent: (e) => events.push(e.type) });
      await expect(run).rejects.toThrow(UserError);
      await expect(run).rejects.toThrow(new RegExp(`^--work-dir ${workDir}: ${file} is a file, not a folder$`));
      expect(events).toEqual([]);
      expect(existsSync(store)).toBe(false);
    }
    // The default work folder (<store>-models) too, named as such.
    writeFileSync(join(t.root, 'other-models'), 'x');
    const other = join(t.root, 'other.sqlite');
    await expect(runSweep({ file: t.sweepFile, store: other })).rejects.toThrow(/^work folder .*other-models: .*other-models is a file, not a folder$/);
    expect(existsSync(other)).toBe(false);
  });

  it('of an edited sweep (a pipeline removed) no longer holds its points that had no result as not finished (about 2 s: two plans)', async () => {
    const store = join(t.root, 'edited.sqlite');
    const stopped = () => AbortSignal.abort(); // (the plan recorded, no point run)
    const unfinished = () => {
      const s = SweepStore.open(store, { readonly: true });
      try {
        return new Set(s.unfinished('tiny').map((p) => `${p.model} ${p.label}`));
      } finally {
        s.close();
      }
    };
    expect(await runSweep({ file: t.sweepFile, store, signal: stopped() })).toMatchObject({ total: 16, ran: 0, interrupted: true });
    expect(unfinished()).toContain('tiny-sst2 shared');
    const original = readFileSync(t.sweepFile, 'utf8');
    try {
      writeFileSync(t.sweepFile, original.replace(/ {2}- name: shared\n.*\n.*\n/, ''));
      expect(await runSweep({ file: t.sweepFile, store, signal: stopped() })).toMatchObject({ total: 14, ran: 0, interrupted: true });
      const left = unfinished();
      expect([left.size, [...left].filter((p) => p.endsWith(' shared'))]).toEqual([14, []]);
    } finally {
      writeFileSync(t.sweepFile, original);
    }
  });
});
