/**
 * A sweep store that cannot be written (a full disk, an I/O error, made read-only, locked past the busy timeout):
 * each write the store cannot make is one line naming the store and SQLite's reason, not SQLite's own error (an
 * internal error with a stack trace), and a sweep that meets it stops with that line, saying what the store keeps;
 * the same command run again once the store can be written goes on from there.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/errors.ts';
import type { PointResult } from '../../src/sweep/point.ts';
import { planAgainstStore, runSweep, type SweepEvent } from '../../src/sweep/run.ts';
import { StoreWriteError, SweepStore } from '../../src/sweep/store.ts';
import { failWrites, refuseWrites, watchStores } from './store-faults.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 4 });
});
afterAll(() => t?.cleanup());
let restore = () => {};
afterEach(() => {
  restore();
  restore = () => {};
});

const cannotWrite = (store: string, why: string, keeps = '') =>
  `${store}: cannot write to the store (${why});${keeps} run the same command again once the store can be written`;

/** The keys of the points a store has results of. */
function storedKeys(path: string): string[] {
  const store = SweepStore.open(path, { readonly: true });
  try {
    return store.finished().map((p) => p.key);
  } finally {
    store.close();
  }
}

describe('a sweep store that cannot be written', () => {
  it('says so in one line at each write, with SQLite’s reason', async () => {
    const path = join(t.root, 'refusing.sqlite');
    const { store, points } = await planAgainstStore({ file: t.sweepFile, store: path });
    try {
      const [point] = points;
      expect(store.claim(point!)).toBe('claimed');
      refuseWrites(store); // SQLite itself refuses: SQLITE_READONLY
      const result = { params: 1, bytes: 1, glue: null, speedup: 1, latencyMs: 1 } as unknown as PointResult;
      const writes: Array<[string, () => unknown]> = [
        ['claim', () => store.claim(points[1]!)],
        ['addToSweep', () => store.addToSweep(points)],
        ['dropFromSweep', () => store.dropFromSweep('tiny', [])],
        ['dequeuedDropped', () => store.dequeuedDropped('tiny')],
        ['heartbeat', () => store.heartbeat([point!.key])],
        ['finish', () => store.finish(point!, result)],
        ['fail', () => store.fail(point!.key, 'failed')],
        ['release', () => store.release(point!.key)],
        ['forget', () => store.forget([point!.key])],
      ];
      for (const [name, write] of writes) {
        let error: unknown;
        try {
          write();
        } catch (e) {
          error = e;
        }
        expect(error, name).toBeInstanceOf(StoreWriteError);
        expect(error, name).toBeInstanceOf(UserError);
        expect((error as Error).message, name).toBe(cannotWrite(path, 'SQLITE_READONLY: attempt to write a readonly database'));
      }
    } finally {
      store.close();
    }
    expect(storedKeys(path)).toEqual([]);
  });

  it('a store locked by another process past the busy timeout says how long it waited', async () => {
    const path = join(t.root, 'locked.sqlite');
    const { store, points } = await planAgainstStore({ file: t.sweepFile, store: path });
    try {
      failWrites(store, 'SQLITE_BUSY', 'database is locked');
      expect(() => store.claim(points[0]!)).toThrow(cannotWrite(path, 'SQLITE_BUSY: database is locked, by another process for over 30 s'));
    } finally {
      store.close();
    }
  });

  it('a sweep whose store cannot take its points stops in one line before any point, keeping what the store has', async () => {
    const store = join(t.root, 'plan.sqlite');
    // 3 points stored (the sweep stopped after them), then the disk fills up.
    const stop = new AbortController();
    let ran = 0;
    const first = await runSweep({
      file: t.sweepFile,
      store,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'finished' && ++ran === 3) stop.abort();
      },
    });
    expect(first.ran).toBe(3);
    const before = storedKeys(store);
    expect(before).toHaveLength(3);

    ({ restore } = watchStores((s) => failWrites(s)));
    const events: string[] = [];
    const full = runSweep({ file: t.sweepFile, store, onEvent: (e) => events.push(e.type) });
    await expect(full).rejects.toThrow(UserError);
    await expect(full).rejects.toThrow(cannotWrite(store, 'SQLITE_FULL: database or disk is full', ' it keeps the 3 points finished so far:'));
    expect(events).toEqual([]);
    restore();
    expect(storedKeys(store)).toEqual(before);

    // The same command once the store can be written goes on.
    const again = await runSweep({ file: t.sweepFile, store });
    expect([again.alreadyDone, again.ran, again.failed.length]).toEqual([3, t.points - 3, 0]);
  }, 120_000);
});

describe('a sweep whose store stops taking writes while points run', () => {
  for (const jobs of [1, 2]) {
    it(`--jobs ${jobs}: stops at once with one line saying what the store keeps; the same command goes on later`, async () => {
      const store = join(t.root, `running-${jobs}.sqlite`);
      let open: SweepStore | undefined;
      ({ restore } = watchStores((s) => (open = s)));
      const events: SweepEvent[] = [];
      let started = 0;
      const sweep = runSweep({
        file: t.sweepFile,
        store,
        jobs,
        onEvent: (e) => {
          events.push(e);
          // The disk fills up once the third point has started: its result (and any other's) cannot be stored.
          if (e.type === 'start' && ++started === 3) failWrites(open!);
        },
      });
      const error = await sweep.then(
        () => undefined,
        (e: unknown) => e,
      );
      restore();
      const finished = events.filter((e) => e.type === 'finished').map((e) => (e as { point: { key: string } }).point.key);
      expect(finished.length).toBeGreaterThanOrEqual(3 - jobs);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toBe(
        cannotWrite(
          store,
          'SQLITE_FULL: database or disk is full',
          ` it keeps the ${finished.length} point${finished.length === 1 ? '' : 's'} finished so far:`,
        ),
      );
      // No point is taken for failed for it, and none starts after it.
      expect(events.filter((e) => e.type === 'failed')).toEqual([]);
      expect(events.filter((e) => e.type === 'start').length).toBeLessThanOrEqual(3 + jobs - 1);
      expect(storedKeys(store).sort()).toEqual([...finished].sort());

      const again = await runSweep({ file: t.sweepFile, store, jobs });
      expect([again.alreadyDone, again.ran, again.failed.length]).toEqual([finished.length, t.points - finished.length, 0]);
    }, 180_000);
  }
});

describe('a new store on a full disk', () => {
  it('is the one line of a store that cannot be written, not an unusable store', () => {
    const path = join(t.root, 'new-on-full.sqlite');
    const pragma = Database.prototype.pragma;
    // SQLite's error on the first write of a new store (its format mark), as a full disk gives it.
    const spy = vi.spyOn(Database.prototype, 'pragma').mockImplementation(function (this: Database.Database, source: string, options?: Database.PragmaOptions) {
      if (source.startsWith('application_id =')) throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
      return pragma.call(this, source, options);
    });
    restore = () => spy.mockRestore();
    expect(() => SweepStore.open(path)).toThrow(cannotWrite(path, 'SQLITE_FULL: database or disk is full'));
  });
});
