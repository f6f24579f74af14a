/**
 * A lock between processes on one machine: a file created exclusively that holds its owner's pid (and start time,
 * where it can be read). The one lock-file mechanism of the project: downloads wait on it here, a training run's work
 * folder is refused while another run holds it (tryFileLock), and the benchmarks' timing lock (bench/timing-lock.ts)
 * builds its waiting policy on the same primitives. A process that
 * finds the lock waits until it is gone, and takes over a lock whose process has died (a killed run), and one that
 * names no owner (left empty by an earlier version killed, or out of disk space, between creating and writing it)
 * once it is a few seconds old. Used where two runs would write the same partial file (a download resumed by both
 * at once corrupts it).
 */
import { closeSync, linkSync, lstatSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processStartTime, processStillRunning } from './processes.ts';
import { ensureFolder } from './folders.ts';
import { onInterrupt } from './interrupt.ts';

/**
 * How long a lock file naming no holder (empty or garbled: its writer was killed, or the disk was full, between
 * creating and writing it, as earlier versions could leave it) is taken for one being written, before it is taken
 * for stale and taken over.
 */
export const UNWRITTEN_LOCK_GRACE_MS = 5000;

/** A lock's holder: its pid, and its start time where it was recorded (tells it from a later process given the pid). */
export interface LockHolder {
  pid: number;
  start?: string;
}

/** What a lock file holds: its holder, or (`holder` undefined) nothing a holder wrote, and the file's age. */
export interface LockFileState {
  holder?: LockHolder;
  ageMs: number;
}

/** This process as a lock names its holder: its pid, and its start time where it can be read. */
const START = processStartTime(process.pid);
export const THIS_PROCESS: LockHolder = START !== undefined ? { pid: process.pid, start: START } : { pid: process.pid };
/** This process as a lock file names it: `PID START\n`. */
const ME = `${holderText(THIS_PROCESS)}\n`;

/** A lock's holder as text: `PID START`, or `PID` where its start time was not read (as lock files and store claims record it). */
export function holderText(holder: LockHolder): string {
  return holder.start !== undefined ? `${holder.pid} ${holder.start}` : `${holder.pid}`;
}

/** The holder a `PID[ START]` text (holderText) names; undefined when it names none (empty, garbled). */
export function parseHolder(text: string): LockHolder | undefined {
  const m = /^(\d+)(?:[ \t]+(\d+))?$/.exec(text);
  const pid = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return m![2] !== undefined ? { pid, start: m![2] } : { pid };
}

/**
 * Runs `fn` holding the lock file `lock`; `onWait(pid)` is called once if another live process holds it first. The lock
 * is removed when `fn` ends, and when the process is stopped (Ctrl-C, SIGTERM) meanwhile (see ./interrupt.ts).
 */
export async function withFileLock<T>(lock: string, onWait: (owner: number) => void, fn: () => Promise<T>): Promise<T> {
  ensureFolder(dirname(lock), lock);
  let waiting = false;
  for (let held = tryFileLock(lock); held !== undefined; held = tryFileLock(lock)) {
    if (held.holder !== undefined) {
      if (!waiting) onWait(held.holder.pid);
      waiting = true;
      await sleep(200);
    } else {
      await sleep(50); // being written: read it again
    }
  }
  // Ctrl-C or SIGTERM while it is held removes it too: a stale lock left in the user's folder is taken over by the
  // next run, but it is a file the stopped command half-did (a GLUE folder, a Hub cache, a model's folder)
  const forget = onInterrupt(() => rmSync(lock, { force: true }));
  try {
    return await fn();
  } finally {
    forget();
    rmSync(lock, { force: true });
  }
}

/**
 * Takes the lock file `lock` (its folder exists) for this process without waiting, over a stale one (its process gone,
 * or never written): undefined when taken, else who holds it, a live process (`holder`) or one still writing it (none).
 * Released by removing the file.
 */
export function tryFileLock(lock: string): { holder?: LockHolder } | undefined {
  for (;;) {
    if (createLockFile(lock)) return undefined;
    const found = readLockFile(lock);
    if (found === undefined) continue; // released between the two calls
    if (!lockIsStale(found)) return found.holder !== undefined ? { holder: found.holder } : {};
    const error = takeOverStaleLock(lock, found.holder); // its process is gone, or it was never written
    if (error) throw error;
  }
}

/**
 * The error for a lock path that holds something other than a file (a folder, a device such as /dev/null, a pipe: a
 * `$BERT_COMPRESS_TIMING_LOCK` naming one), which no lock reads, takes over or removes; undefined for a file or
 * nothing. A symbolic link is judged by what it names; one that names nothing (or a loop) is no lock either: a lock
 * file cannot be created at its path (createFileWhole finds the name taken), and reading it found no lock, so a
 * taker tried again without end (tryFileLock, a training run's work folder: at full CPU, never ending) and a benchmark
 * waited the full wait for a holder that was none. One that names a file is no lock either: a lock is created at its
 * own name, never through a link (createFileWhole finds the name taken), so no process could hold it; its file was
 * read as the lock, and once that read as stale (a pid gone, or text naming none: a link to a user's own file) the
 * link was moved aside and removed as a stale lock, the user's link gone.
 */
export function notLockFileError(file: string): Error | undefined {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch (e) {
    return danglingLinkError(file, e);
  }
  if (isSymbolicLink(file)) return lockPathError(file, `a symbolic link (to ${readlinkSync(file)})`, 'ESYMLINK');
  if (st.isFile()) return undefined;
  const [code, what] = st.isDirectory() ? ['EISDIR', 'a folder'] : ['EFTYPE', 'not a file (a device, a pipe or a socket)'];
  return lockPathError(file, what, code);
}

/** Whether `file` is a symbolic link (false when nothing is there). */
function isSymbolicLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * notLockFileError's error: `FILE is WHAT, not a lock file`, shaped as the fs error of creating the lock (its `code` in
 * FS_REASONS, syscall open, `path`), so that a caller naming the lock by FS_REASONS says 'cannot write the lock …: is a
 * folder' and the CLI (fileSystemError) 'cannot write FILE: is a folder', in one line, where a withFileLock caller (an
 * output's lock, a download's) failed with an internal error and its stack.
 */
function lockPathError(file: string, what: string, code: string): Error {
  return Object.assign(new Error(`${file} is ${what}, not a lock file`), { code, syscall: 'open', path: file });
}

/**
 * notLockFileError's error for a lock path `file` that stat failed on (`error`) where it is a symbolic link (naming
 * nothing, or a loop: ELOOP); undefined where nothing is there.
 */
function danglingLinkError(file: string, error: unknown): Error | undefined {
  let target: string;
  try {
    target = readlinkSync(file);
  } catch {
    return undefined; // (not a symbolic link: nothing there, or a path that cannot hold one)
  }
  const loop = (error as NodeJS.ErrnoException).code === 'ELOOP';
  const what = loop ? `a symbolic link loop (to ${target})` : `a symbolic link to nothing (${target})`;
  return lockPathError(file, what, loop ? 'ELOOP' : 'EDANGLING');
}

/**
 * What the lock file `file` holds (`PID[ START]\n`); undefined when it is gone. A path holding something other than a
 * file is an error (notLockFileError: never read, so never taken for a stale lock and removed); other errors reading
 * it propagate.
 */
export function readLockFile(file: string): LockFileState | undefined {
  let text: string;
  let ageMs: number;
  try {
    const notLock = notLockFileError(file);
    if (notLock) throw notLock;
    ageMs = Date.now() - statSync(file).mtimeMs;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const line = /^([^\n]*)\n/.exec(text)?.[1]; // a holder is written whole, with its newline
  const holder = line !== undefined ? parseHolder(line) : undefined;
  return holder ? { holder, ageMs } : { ageMs };
}

/** Whether a lock's holder still runs (false: gone, or its pid now another process's). */
export function lockHolderRuns(holder: LockHolder): boolean {
  return processStillRunning(holder.pid, holder.start);
}

/** Whether a lock is stale: its holder is gone, or it names none and is older than UNWRITTEN_LOCK_GRACE_MS. */
export function lockIsStale(found: LockFileState): boolean {
  return found.holder !== undefined ? !lockHolderRuns(found.holder) : found.ageMs >= UNWRITTEN_LOCK_GRACE_MS;
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

/** Creates the lock file naming this process (createFileWhole); false when it exists. */
export function createLockFile(file: string): boolean {
  return createFileWhole(file, ME);
}

/** Whether the lock file `file` names this process (so it is this process's to remove). */
export function holdsLockFile(file: string): boolean {
  try {
    const h = readLockFile(file)?.holder;
    return h !== undefined && h.pid === process.pid && (START === undefined || h.start === START);
  } catch {
    return false;
  }
}

/**
 * Moves a stale lock aside (rename is atomic: of several processes taking it over, one moves it) and removes it. If
 * what was moved turns out to be another lock than the stale one (a live process's new lock that replaced it
 * meanwhile: another pid, or the same pid with another start time; or one still being written), it is put back.
 * `stale`: the holder found gone, or undefined for a lock that named none. The error when the lock cannot be moved
 * (another user's in a shared temporary folder, a read-only folder); undefined when it was, or another taker moved
 * it first.
 */
export function takeOverStaleLock(file: string, stale: LockHolder | undefined): Error | undefined {
  // (what is not a file is no lock, stale or not: moving a device such as /dev/null aside removes it)
  const notLock = notLockFileError(file);
  if (notLock) return notLock;
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : (e as Error);
  }
  try {
    let moved: LockFileState | undefined;
    try {
      moved = readLockFile(aside);
    } catch {
      moved = undefined;
    }
    const h = moved?.holder;
    const another =
      h !== undefined
        ? (stale === undefined || h.pid !== stale.pid || h.start !== stale.start) && lockHolderRuns(h)
        : moved !== undefined && moved.ageMs < UNWRITTEN_LOCK_GRACE_MS;
    if (another) {
      try {
        linkSync(aside, file);
      } catch {
        // someone created a new lock meanwhile: theirs stands
      }
    }
  } finally {
    try {
      rmSync(aside, { force: true });
    } catch {
      // (a lock left aside is no lock: nothing waits on it)
    }
  }
  return undefined;
}
