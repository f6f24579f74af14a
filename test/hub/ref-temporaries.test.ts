/**
 * A process killed while writing a cache's ref (`refs/main`) leaves its temporary where huggingface_hub's
 * scan_cache_dir (`hf cache ls`, `huggingface-cli scan-cache`) does not take it for a ref: that scan reads every file
 * under `refs/` as a ref, so a temporary there was listed as a ref named `main.PID.RANDOM.tmp`, or, empty, as a ref
 * to a missing commit, for which the scan calls the whole repo corrupted. The kill comes at a deterministic point: a
 * child process whose rename (the write's last step) kills it. The next write of a ref removes what dead writers left,
 * there and under `refs/` (where earlier versions wrote it).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoCache, writeRef } from '../../src/hub/cache.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-hub-ref-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COMMIT = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);

/** Every file under `dir`, as paths relative to it: what scan_cache_dir reads as refs when `dir` is `refs/`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** Runs writeRef(revision → commit) in a child process killed (SIGKILL) as it renames the written temporary; its pid. */
function killedWritingRef(cacheDir: string, revision: string, commit: string): number {
  const script = join(root, 'writer.mts');
  writeFileSync(
    script,
    `
    import fs from 'node:fs';
    import { syncBuiltinESMExports } from 'node:module';
    fs.renameSync = () => process.kill(process.pid, 'SIGKILL');
    syncBuiltinESMExports();
    const { repoCache, writeRef } = await import(${JSON.stringify(resolve('src/hub/cache.ts'))});
    writeRef(repoCache(process.argv[2], 'org/tiny'), process.argv[3], process.argv[4]);
  `,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, cacheDir, revision, commit], { encoding: 'utf8' });
  expect(r.signal).toBe('SIGKILL');
  return r.pid!;
}

/** Makes the files (paths) look unwritten for an hour, as a dead writer's are taken to be after a minute. */
function aged(...files: string[]): void {
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const f of files) utimesSync(f, hourAgo, hourAgo);
}

describe("a cache's ref written by a process killed mid-write", () => {
  it('leaves nothing under refs/ that a scan reads as a ref; the next write removes what it left', () => {
    const cacheDir = join(root, 'a');
    const cache = repoCache(cacheDir, 'org/tiny');
    mkdirSync(join(cache.snapshots, COMMIT), { recursive: true });
    for (const revision of ['main', 'refs/pr/1']) {
      const pid = killedWritingRef(cacheDir, revision, COMMIT);
      // (killed: its temporary is somewhere in the repo's folder, never under refs/)
      expect(filesUnder(cache.root).filter((f) => f.includes(`.${pid}.`))).toHaveLength(1);
      expect(filesUnder(cache.root).some((f) => f.startsWith('refs/'))).toBe(false);
    }
    aged(...filesUnder(cache.root).map((f) => join(cache.root, f)));
    writeRef(cache, 'main', COMMIT);
    writeRef(cache, 'refs/pr/1', COMMIT);
    expect(filesUnder(cache.refs)).toEqual(['main', 'refs/pr/1']);
    expect(filesUnder(cache.root).filter((f) => !f.startsWith('snapshots/'))).toEqual(['refs/main', 'refs/refs/pr/1']);
    expect(readFileSync(join(cache.refs, 'main'), 'utf8')).toBe(COMMIT);
  });

  it("removes a dead writer's temporary that an earlier version left under refs/, and keeps a live writer's", () => {
    const cache = repoCache(join(root, 'b'), 'org/tiny');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // (exited: no process has that pid now)
    mkdirSync(cache.refs, { recursive: true });
    const left = join(cache.refs, `main.${dead}.k1ll3d.tmp`);
    const live = join(cache.refs, `main.${process.pid}.l1ve0000.tmp`);
    writeFileSync(left, '');
    writeFileSync(live, '');
    aged(left, live);
    writeRef(cache, 'main', COMMIT);
    expect(filesUnder(cache.refs)).toEqual(['main', `main.${process.pid}.l1ve0000.tmp`]);
    writeRef(cache, 'main', OTHER);
    expect(readFileSync(join(cache.refs, 'main'), 'utf8')).toBe(OTHER);
  });
});
