/**
 * A lock between processes on one machine: a file created exclusively that holds its owner's pid. A process that
 * finds the lock waits until it is gone, and takes over a lock whose process has died (a killed run), and one that
 * names no owner (left empty by an earlier version killed, or out of disk space, between creating and writing it)
 * once it is a few seconds old. Used where two runs would write the same partial file (a download resumed by both
 * at once corrupts it).
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from './processes.ts';

/**
 * How long a lock file naming no owner (empty or garbled) is taken for one being written, before it is taken for
 * stale and taken over.
 */
export const UNWRITTEN_FILE_LOCK_GRACE_MS = 5000;

/** Runs `fn` holding the lock file `lock`; `onWait(pid)` is called once if another live process holds it first. */
export async function withFileLock<T>(lock: string, onWait: (owner: number) => void, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lock), { recursive: true });
  let waiting = false;
  while (!tryCreate(lock)) {
    const found = readLock(lock);
    if (found === undefined) continue; // released between the two calls
    if (found.owner !== undefined && processAlive(found.owner)) {
      if (!waiting) onWait(found.owner);
      waiting = true;
      await sleep(200);
    } else if (found.owner !== undefined || found.ageMs >= UNWRITTEN_FILE_LOCK_GRACE_MS) {
      removeStale(lock, found.owner); // its process is gone, or it was never written
    } else {
      await sleep(50); // being written: read it again
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * What a lock file holds: its owner's pid, or (`owner` undefined) nothing an owner wrote (empty, garbled), with the
 * file's age in milliseconds; undefined when the file is gone.
 */
function readLock(lock: string): { owner?: number; ageMs: number } | undefined {
  let text: string;
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(lock).mtimeMs;
    text = readFileSync(lock, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const owner = /^\d+\n?$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(owner) && owner > 0 ? { owner, ageMs } : { ageMs };
}

/**
 * Creates `path` holding `content`, whole or not at all: written beside it first, then linked in place (a process
 * killed, or a disk full, midway leaves no empty file behind, as a lock file no one could tell stale); false when
 * `path` exists. Where the file system has no hard links, it is created in place and then written (removed again if
 * the write fails). Other errors propagate.
 */
export function createFileWhole(path: string, content: string): boolean {
  const written = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(written, content);
    try {
      linkSync(written, path);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw e;
    }
  } finally {
    rmSync(written, { force: true });
  }
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, content);
  } catch (e) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw e;
  }
  closeSync(fd);
  return true;
}

/** Creates the lock file with this process's pid in it (createFileWhole); false when it exists. */
function tryCreate(lock: string): boolean {
  return createFileWhole(lock, String(process.pid));
}

/**
 * Moves a stale lock aside (rename is atomic: of several processes taking it over, one moves it) and removes it. If
 * what was moved turns out to be another lock than the stale one (a live process's new lock that replaced it
 * meanwhile, or one still being written), it is put back. `stale`: the owner found gone, or undefined for a lock
 * that named none. A lock that cannot be moved (a read-only folder) throws.
 */
function removeStale(lock: string, stale: number | undefined): void {
  const aside = `${lock}.${process.pid}.stale`;
  try {
    renameSync(lock, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // another taker moved it first
    throw e;
  }
  try {
    const moved = readLock(aside);
    const another =
      moved?.owner !== undefined ? moved.owner !== stale && processAlive(moved.owner) : moved !== undefined && moved.ageMs < UNWRITTEN_FILE_LOCK_GRACE_MS;
    if (another) {
      try {
        linkSync(aside, lock);
      } catch {
        // someone created a new lock meanwhile: theirs stands
      }
    }
  } finally {
    rmSync(aside, { force: true });
  }
}
