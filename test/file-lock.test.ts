/**
 * The download lock (file-lock.ts) and a lock file that names no owner: one left empty or garbled (an earlier version
 * killed, or out of disk space, between creating and writing it) used to be waited on without end, hanging every
 * later download into that folder; it is taken over once a few seconds old. The lock is written whole, so a full
 * disk leaves none behind.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readLockFile, takeOverStaleLock, tryFileLock, UNWRITTEN_LOCK_GRACE_MS, withFileLock } from '../src/file-lock.ts';
import { processStartTime } from '../src/processes.ts';

/** The lock as this process writes it: its pid and, where it can be read, its start time. */
const ME = `${process.pid}${processStartTime(process.pid) !== undefined ? ` ${processStartTime(process.pid)}` : ''}\n`;

/** A full disk: writing a file under `full.under` (or to an open file) fails with ENOSPC. */
const full = vi.hoisted(() => ({ under: undefined as string | undefined }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const { fullDiskFs } = await import('./helpers/full-disk.ts');
  const mocked = fullDiskFs(fs, full);
  return { ...fs, default: { ...fs, ...mocked }, ...mocked };
});

const dir = mkdtempSync(join(tmpdir(), 'file-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A fresh folder for one test's lock. */
const folder = () => {
  const sub = join(dir, `case-${n++}`);
  mkdirSync(sub);
  return sub;
};

/** Runs withFileLock on `lock`, recording what the folder held while it ran and whether it waited. */
async function locked(lock: string): Promise<{ during: string[]; content: string; waitedFor?: number }> {
  let waitedFor: number | undefined;
  return withFileLock(
    lock,
    (owner) => {
      waitedFor = owner;
    },
    async () => ({ during: readdirSync(join(lock, '..')).sort(), content: readFileSync(lock, 'utf8'), waitedFor }),
  );
}

describe('withFileLock', () => {
  it('leaves no file but the lock beside it while it runs, and nothing after', async () => {
    const sub = folder();
    const lock = join(sub, '.lock');
    const seen = await locked(lock);
    expect(seen.during).toEqual(['.lock']);
    expect(seen.content).toBe(ME);
    expect(readdirSync(sub)).toEqual([]);
  });

  it('a lock left empty or garbled and old: taken over at once', async () => {
    for (const content of ['', 'garbage', '12 garbage']) {
      const sub = folder();
      const lock = join(sub, '.lock');
      writeFileSync(lock, content);
      const old = (Date.now() - UNWRITTEN_LOCK_GRACE_MS - 60_000) / 1000;
      utimesSync(lock, old, old);
      const seen = await locked(lock);
      expect(seen).toEqual({ during: ['.lock'], content: ME, waitedFor: undefined });
      expect(readdirSync(sub)).toEqual([]);
    }
  });

  it('an empty lock just created (maybe being written): waited for, not taken over', async () => {
    const sub = folder();
    const lock = join(sub, '.lock');
    writeFileSync(lock, '');
    let ran = false;
    const done = withFileLock(
      lock,
      () => {},
      async () => {
        ran = true;
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(ran).toBe(false);
    expect(readFileSync(lock, 'utf8')).toBe('');
    rmSync(lock); // its writer finishes and releases it
    await done;
    expect(ran).toBe(true);
  });

  it('a lock of a process that is gone: taken over', async () => {
    const sub = folder();
    const lock = join(sub, '.lock');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(lock, `${dead}\n`);
    const seen = await locked(lock);
    expect(seen).toEqual({ during: ['.lock'], content: ME, waitedFor: undefined });
  });

  it('a lock of a live process: waited for', async () => {
    const sub = folder();
    const lock = join(sub, '.lock');
    writeFileSync(lock, `${process.ppid}\n`);
    let waitedFor: number | undefined;
    let ran = false;
    const done = withFileLock(
      lock,
      (owner) => {
        waitedFor = owner;
      },
      async () => {
        ran = true;
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(ran).toBe(false);
    expect(waitedFor).toBe(process.ppid);
    rmSync(lock);
    await done;
    expect(ran).toBe(true);
  });

  it('a disk full while the lock is made: the error, and no empty lock left behind (it would be waited on)', async () => {
    const sub = folder();
    const lock = join(sub, '.lock');
    full.under = sub;
    try {
      await expect(
        withFileLock(
          lock,
          () => {},
          async () => 'ran',
        ),
      ).rejects.toThrow(/ENOSPC/);
    } finally {
      full.under = undefined;
    }
    expect(readdirSync(sub)).toEqual([]);
  });
});

// (a device at the path, /dev/null as $BERT_COMPRESS_TIMING_LOCK, read as an old lock naming no holder, was moved
// aside and removed as a stale lock: a root user's /dev/null gone; a folder was moved aside and left there)
describe('a lock path that holds no file', () => {
  it('is not read as a lock, nor taken over: an error naming what it is, and it stays', () => {
    const sub = folder();
    const path = join(sub, 'lock');
    mkdirSync(path);
    expect(() => readLockFile(path)).toThrow(`${path} is a folder, not a lock file`);
    expect(takeOverStaleLock(path, undefined)?.message).toBe(`${path} is a folder, not a lock file`);
    expect(readdirSync(sub)).toEqual(['lock']);
  });

  // (a lock file cannot be created at a link's name, and reading it found no lock: tryFileLock tried again without
  // end, at full CPU, a training run's work folder never started)
  it('a symbolic link that names nothing, or a loop: an error naming it, never a lock taken or waited for, and the link stays', () => {
    const sub = folder();
    const dangling = join(sub, 'lock');
    symlinkSync(join(sub, 'nowhere', 'x'), dangling);
    const said = `${dangling} is a symbolic link to nothing (${join(sub, 'nowhere', 'x')}), not a lock file`;
    expect(() => readLockFile(dangling)).toThrow(said);
    expect(takeOverStaleLock(dangling, undefined)?.message).toBe(said);
    expect(() => tryFileLock(dangling)).toThrow(expect.objectContaining({ message: said, code: 'EDANGLING' }));
    const loop = join(sub, 'loop');
    symlinkSync(loop, loop);
    expect(() => tryFileLock(loop)).toThrow(
      expect.objectContaining({ message: `${loop} is a symbolic link loop (to ${loop}), not a lock file`, code: 'ELOOP' }),
    );
    expect(readdirSync(sub).sort()).toEqual(['lock', 'loop']);
  });

  // (no lock can be made through a link: its file was read as the lock, and once stale (a pid gone, or a file naming
  // none: a user's own file) the link was moved aside and removed, the user's link gone; a live holder's was waited on)
  it('a symbolic link that names a file: an error naming it, never a lock taken over or waited for, the link and its file as they were', () => {
    const sub = folder();
    for (const [name, text] of [
      ['gone', '999999999\n'],
      ['notes', 'my notes\n'],
      ['mine', ME],
    ] as const) {
      const target = join(sub, `${name}.txt`);
      writeFileSync(target, text);
      utimesSync(target, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
      const link = join(sub, `${name}.lock`);
      symlinkSync(target, link);
      const said = `${link} is a symbolic link (to ${target}), not a lock file`;
      expect(() => readLockFile(link)).toThrow(said);
      expect(takeOverStaleLock(link, undefined)?.message).toBe(said);
      expect(() => tryFileLock(link)).toThrow(expect.objectContaining({ message: said, code: 'ESYMLINK' }));
      expect(readFileSync(link, 'utf8')).toBe(text);
      expect(readFileSync(target, 'utf8')).toBe(text);
    }
    expect(readdirSync(sub).sort()).toEqual(['gone.lock', 'gone.txt', 'mine.lock', 'mine.txt', 'notes.lock', 'notes.txt']);
  });
});
