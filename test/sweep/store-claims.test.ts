/**
 * A point claimed on this host is busy while the claiming process runs: its pid, and its start time as the claim
 * recorded it (as a lock file does, file-lock.ts). A pid since reused by another process (a long-lived one) holds no
 * claim, so the point is claimed again instead of staying busy for as long as that process lives. A store written
 * before claims recorded a start time still opens, and its claims are judged by their pid alone. A claim copied with
 * the store (copied while the point ran) is not a claim of the copy: its process writes the original.
 */
import { copyFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/processes.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
let point: SweepPoint;
/** A live process other than this one, which outlives the test: the test runner's. */
const other = process.ppid;
const otherStart = processStartTime(other);

beforeAll(async () => {
  t = writeTinySweep({ rows: 12 });
  point = (await planSweep(parseSweepFile(t.sweepFile), { glueDir: t.glueDir, workDir: join(t.root, 'out') }))[0]!;
});
afterAll(() => t?.cleanup());

/** Makes the point's claim in `store` look taken on this host by `pid`, recording `holder` (null: older code's claim). */
function fakeClaim(store: string, pid: number, holder: string | null | undefined): void {
  const db = new Database(store);
  try {
    const set = holder === undefined ? '' : ', holder = @holder';
    db.prepare(`UPDATE points SET status = 'running', pid = @pid, host = @host, heartbeat_ms = @now${set} WHERE key = @key`).run({
      pid,
      host: hostname(),
      now: Date.now(),
      key: point.key,
      ...(holder === undefined ? {} : { holder }),
    });
  } finally {
    db.close();
  }
}

/** A store holding the point claimed by this process (then made to look claimed by another: fakeClaim). */
function claimedStore(name: string): string {
  const path = join(t.root, name);
  const s = SweepStore.open(path);
  try {
    expect(s.claim(point)).toBe('claimed');
  } finally {
    s.close();
  }
  return path;
}

function claimIn(store: string): string {
  const s = SweepStore.open(store);
  try {
    return s.claim(point);
  } finally {
    s.close();
  }
}

describe.skipIf(otherStart === undefined)('same-host claims of a sweep store', () => {
  it('a claim whose pid now belongs to another process (another start time) is claimed again, not busy', () => {
    const store = claimedStore('reused.sqlite');
    fakeClaim(store, other, `${other} ${Number(otherStart) + 1}`);
    expect(claimIn(store)).toBe('claimed');
  });

  it('a claim of a process still running (its pid and start time) stays busy', () => {
    const store = claimedStore('live.sqlite');
    fakeClaim(store, other, `${other} ${otherStart}`);
    expect(claimIn(store)).toBe('busy');
  });

  it('a claim copied with the store, its process live and writing the original, is claimed in the copy; busy in the original still', () => {
    const store = claimedStore('original.sqlite');
    fakeClaim(store, other, `${other} ${otherStart}`);
    const copy = join(t.root, 'copy.sqlite');
    copyFileSync(store, copy);
    expect(claimIn(copy)).toBe('claimed');
    expect(claimIn(store)).toBe('busy');
  });

  it('a claim recorded without a start time, or whose recorded holder is another pid (rewritten by older code), is judged by its pid', () => {
    const store = claimedStore('no-start.sqlite');
    fakeClaim(store, other, null);
    expect(claimIn(store)).toBe('busy');
    fakeClaim(store, other, `${process.pid} 1`);
    expect(claimIn(store)).toBe('busy');
  });

  it('a store written before claims recorded a start time opens, and its live claim stays busy', () => {
    const store = claimedStore('old.sqlite');
    const db = new Database(store);
    db.exec('ALTER TABLE points DROP COLUMN holder');
    db.close();
    fakeClaim(store, other, undefined);
    const read = SweepStore.open(store, { readonly: true });
    expect(read.finished()).toEqual([]);
    read.close();
    expect(claimIn(store)).toBe('busy');
    // opened for writing, it gained the column: a claim made now records its start time
    fakeClaim(store, other, `${other} ${Number(otherStart) + 1}`);
    expect(claimIn(store)).toBe('claimed');
  });
});
