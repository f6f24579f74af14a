import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runSweep } from '../../src/sweep/run.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { staleLine } from '../../src/cli/commands/sweep.ts';
import { PRUNE_HEADS } from '../../src/prune/settings.ts';
import { getPass } from '../../src/pass/registry.ts';
import { DataError } from '../../src/errors.ts';
import { writeQuickSweep, writeTinySweep, type TinySweep } from './tiny-sweep.ts';
import { runMain } from '../helpers/cli.ts';

let t: TinySweep;
let file: string;
beforeAll(() => {
  t = writeTinySweep({ rows: 12 });
  file = writeQuickSweep(
    t.root,
    'stale',
    `models: [{path: models/tiny-sst2, tasks: [SST-2]}]
calibration: false
pipelines:
  - baseline
  - {name: heads, steps: [{pass: prune-heads, settings: {ratio: 0.5}}]}
`,
  );
});
afterAll(() => t?.cleanup());

/** Rewrites the stored 'heads' point as if prune-heads version `version` had computed it, under key `key`. */
function ageStoredPoint(store: string, key: string, version: number): string {
  return editStoredPoint(store, key, (point) => {
    point.versions.passes['prune-heads'] = version;
  });
}

/** Rewrites the stored 'heads' point with `edit`, under key `key`; returns its key before. */
function editStoredPoint(store: string, key: string, edit: (point: SweepPoint) => void): string {
  const db = new Database(store);
  try {
    db.pragma('foreign_keys = OFF');
    const row = db.prepare("SELECT key, point FROM points WHERE label = 'heads'").get() as { key: string; point: string };
    const point = JSON.parse(row.point) as SweepPoint;
    point.key = key;
    edit(point);
    db.transaction(() => {
      db.prepare('UPDATE points SET key = ?, point = ? WHERE key = ?').run(key, JSON.stringify(point), row.key);
      db.prepare('UPDATE results SET key = ? WHERE key = ?').run(key, row.key);
    })();
    return row.key;
  } finally {
    db.close();
  }
}

function storedKeys(store: string): string[] {
  const s = SweepStore.open(store, { readonly: true });
  try {
    return s
      .finished()
      .map((p) => p.key)
      .sort();
  } finally {
    s.close();
  }
}

describe('stale points', () => {
  it('are kept and reported by default, recomputed and replaced with rerunStale', async () => {
    const store = join(t.root, 'stale.sqlite');
    const first = await runSweep({ file, store });
    expect(first.failed).toEqual([]);
    expect(first.ran).toBe(2);
    // (the version the heads pipeline's settings are keyed with: PRUNE_HEADS.keyVersion)
    const now = PRUNE_HEADS.keyVersion(PRUNE_HEADS.check({ ratio: 0.5 }), undefined);
    const fresh = ageStoredPoint(store, 'key-of-older-code', now - 1);
    const change = `prune-heads v${now - 1} → v${now}`;

    const kept = await runSweep({ file, store });
    expect(kept).toMatchObject({ total: 2, alreadyDone: 1, ran: 0, failed: [] });
    expect(kept.stale.map((s) => [s.point.label, s.point.key, s.stored.map((o) => o.key), s.change])).toEqual([
      ['heads', fresh, ['key-of-older-code'], change],
    ]);
    expect(storedKeys(store)).toContain('key-of-older-code');
    expect(staleLine(kept.stale, false).line).toBe(
      `1 point stale: stored by other code (${change}) and kept, not recomputed: tiny-sst2 · heads; rerun with --rerun-stale to recompute it`,
    );

    // compress sweep --dry-run marks it as the run takes it, kept or (--rerun-stale) to recompute
    const dry = (...flags: string[]) => runMain(['sweep', file, '--dry-run', '--store', store, ...flags]);
    for (const [flags, first, mark] of [
      [[], '1 already in the store, 1 stale (kept)', 'kept'],
      [['--rerun-stale'], '1 already in the store, 1 stale (to recompute)', 'to recompute'],
    ] as const) {
      const r = await dry(...flags);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual([
        `sweep stale: 2 points (1 model × 2 pipelines), ${first}; dry run: none run, nothing written`,
        expect.stringMatching(/^[0-9a-f]{12} tiny-sst2 · baseline \(in the store\)$/),
        `${fresh.slice(0, 12)} tiny-sst2 · heads (stale: ${change}; ${mark})`,
      ]);
    }

    const rerun = await runSweep({ file, store, rerunStale: true });
    expect(rerun).toMatchObject({ total: 2, alreadyDone: 1, ran: 1, failed: [] });
    expect(rerun.stale.map((s) => s.point.key)).toEqual([fresh]);
    const keys = storedKeys(store);
    expect(keys).toHaveLength(2);
    expect(keys).toContain(fresh);
    expect(keys).not.toContain('key-of-older-code');

    const again = await runSweep({ file, store });
    expect(again).toMatchObject({ alreadyDone: 2, ran: 0, stale: [] });
  });

  it('whose recompute (--rerun-stale) failed are named with the flag that retries them, not under "rerun to retry it": a plain rerun keeps them (one point: it, its stored result)', async () => {
    const store = join(t.root, 'stale-failed.sqlite');
    expect((await runSweep({ file, store })).ran).toBe(2);
    const now = PRUNE_HEADS.keyVersion(PRUNE_HEADS.check({ ratio: 0.5 }), undefined);
    ageStoredPoint(store, 'key-of-older-code', now - 1);
    const change = `prune-heads v${now - 1} → v${now}`;
    const pass = getPass('prune-heads');
    const fail = vi.spyOn(pass, 'run').mockRejectedValue(new DataError('prune-heads: the disk is full'));
    let rerun: Awaited<ReturnType<typeof runMain>>;
    try {
      rerun = await runMain(['sweep', file, '--store', store, '--rerun-stale']);
    } finally {
      fail.mockRestore();
    }
    expect(rerun.code).toBe(1);
    expect(rerun.stdout).toContain(', 1 failed (');
    expect(rerun.stderr).not.toContain('rerun to retry');
    expect(rerun.stderr).toContain(
      `1 point stale (${change}), failed (errors above; its stored result stands, still stale; rerun with --rerun-stale to retry it): tiny-sst2 · heads\n`,
    );
    // (as it says: a plain rerun keeps the stored result, stale, and --rerun-stale computes it)
    const kept = await runSweep({ file, store });
    expect(kept).toMatchObject({ ran: 0, failed: [], stale: [{ change }] });
    // beside one whose input is refused now (no rerun retries that one): each named with what a rerun does
    const [heads] = kept.stale;
    const refused = { ...heads!, point: { ...heads!.point, key: 'refused', label: 'xlm' }, refused: 'xlm: refused' };
    expect(staleLine([heads!, refused], true, [{ point: heads!.point }, { point: refused.point }] as never).line).toBe(
      `2 points stale (${change}), failed (errors above; their stored results stand, still stale): tiny-sst2 · heads, tiny-sst2 · xlm; ` +
        'no rerun recomputes tiny-sst2 · xlm, --rerun-stale neither: the bert-compress running now refuses its input (xlm: refused); ' +
        'rerun with --rerun-stale to retry tiny-sst2 · heads',
    );
    // (kept, not rerun: the one a rerun recomputes is 'the other', as the one kept point is 'it' above)
    expect(staleLine([heads!, refused], false).line).toBe(
      `2 points stale: stored by other code (${change}) and kept, not recomputed: tiny-sst2 · heads, tiny-sst2 · xlm; ` +
        'no rerun recomputes tiny-sst2 · xlm, --rerun-stale neither: the bert-compress running now refuses its input (xlm: refused); ' +
        'rerun with --rerun-stale to recompute the other',
    );
    expect(await runSweep({ file, store, rerunStale: true })).toMatchObject({ ran: 1, failed: [] });
  });

  it("a point stored before keys held the GLUE files' hashes is stale (kept, and said why); one computed on other data is not this point's, stale or not", async () => {
    const store = join(t.root, 'stale-data.sqlite');
    expect((await runSweep({ file, store })).ran).toBe(2);
    const fresh = editStoredPoint(store, 'key-without-data', (point) => {
      delete point.data;
    });
    const kept = await runSweep({ file, store });
    expect(kept).toMatchObject({ alreadyDone: 1, ran: 0, failed: [] });
    expect(kept.stale.map((s) => [s.point.key, s.stored.map((o) => o.key), s.change])).toEqual([
      [fresh, ['key-without-data'], 'a key without the hashes of its GLUE data, config and tokenizer files'],
    ]);
    // nor when it read another GLUE folder (whose files may differ from this one's)
    editStoredPoint(store, 'key-without-data', (point) => {
      point.glueDir = join(t.root, 'another-glue');
    });
    expect((await runSweep({ file, store, signal: AbortSignal.abort() })).stale).toEqual([]);
    editStoredPoint(store, 'key-without-data', (point) => {
      point.glueDir = join(t.root, 'glue');
    });
    // computed by older code on other dev data: neither reused nor stale, computed now
    editStoredPoint(store, 'key-of-other-data', (point) => {
      point.versions.passes['prune-heads'] = PRUNE_HEADS.keyVersion(PRUNE_HEADS.check({ ratio: 0.5 }), undefined) - 1;
      point.data = { dev: { 'SST-2': '0'.repeat(64) } };
    });
    const rerun = await runSweep({ file, store });
    expect(rerun).toMatchObject({ alreadyDone: 1, ran: 1, failed: [], stale: [] });
    expect(storedKeys(store)).toContain(fresh);
  });
});
