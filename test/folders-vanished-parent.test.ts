/**
 * A folder whose parent another process removes meanwhile (empty: a failed command removing the folders it made, as
 * its clean-up does) between ensureFolder finding the parent and making the folder in it: the parent is made again,
 * not a failure of the command that was about to use it. The removal is made at that moment, deterministically, by
 * a wrapper of node:fs' mkdirSync.
 */
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ensureFolder } from '../src/folders.ts';

/** The folder whose mkdir finds its parent gone (and, with `back`, made again by the other process right after). */
const race = vi.hoisted(() => ({ at: undefined as string | undefined, back: false }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const mkdir = ((path: string, options?: unknown) => {
    if (path !== race.at) return fs.mkdirSync(path, options as never);
    race.at = undefined;
    fs.rmdirSync(dirname(path)); // the other process's clean-up, between ensureFolder's check of the parent and this mkdir
    try {
      return fs.mkdirSync(path, options as never);
    } finally {
      if (race.back) fs.mkdirSync(dirname(path)); // (and its next point making it again)
    }
  }) as typeof fs.mkdirSync;
  return { ...fs, default: { ...fs, mkdirSync: mkdir }, mkdirSync: mkdir };
});

const root = mkdtempSync(join(tmpdir(), 'vanished-parent-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ensureFolder, when another process removes the parent it is making a folder in', () => {
  it('makes the parent again and the folder in it, whether the parent stays gone or is made again meanwhile', () => {
    for (const back of [false, true]) {
      const shared = join(root, `shared-${back}`); // (another process's: made before, not by this one)
      mkdirSync(shared);
      const own = join(shared, 'point');
      Object.assign(race, { at: own, back });
      ensureFolder(own, `the point's work folder ${own}`);
      expect(race.at).toBeUndefined(); // (the removal happened)
      expect(existsSync(own)).toBe(true);
      rmdirSync(own);
    }
  });
});
