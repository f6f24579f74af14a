/**
 * A machine-wide lock held while a benchmark times, so that benchmarks on one machine (two `compress bench`, two
 * sweeps, the workers of one sweep) do not time each other: two sweeps timing at once reported an FFN-pruned model
 * ×2.95 faster instead of ×1.18. The lock is a file in the temporary folder (or $BERT_COMPRESS_TIMING_LOCK) holding
 * the holder's pid (and, where it can be read, its start time: a pid given to another process since does not hold
 * it); a lock whose process is gone is stale and taken over, and so is one naming no holder (left empty by a writer
 * killed midway) after a few seconds. A benchmark that does not get the lock in time (or
 * cannot create the file, or remove a stale one) runs anyway and records that it may have shared the machine, and
 * the bench table and the sweep report say so. Only benchmarks of this project take it: other programs' load is
 * measured instead (machine-load.ts, recorded as `load`).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { environmentPath } from '../environment.ts';
import {
  UNWRITTEN_LOCK_GRACE_MS,
  createLockFile,
  holdsLockFile,
  lockIsStale,
  notLockFileError,
  readLockFile,
  takeOverStaleLock,
  type LockFileState,
} from '../file-lock.ts';
import { pauseUnlessAborted } from '../interrupt.ts';
import { describeMachineLoad, loadContended, machineLoadOff, type MachineLoad } from './machine-load.ts';
import { fsReason, UsageError } from '../errors.ts';
import { checkOptionKinds, checkOptions, type OptionKind } from '../library-args.ts';
import { kindOf, notFolderKind } from '../folders.ts';

/** Environment variable naming the lock file (default: `bert-compress-timing.lock` in the temporary folder). */
export const TIMING_LOCK_ENV = 'BERT_COMPRESS_TIMING_LOCK';

/** How long a benchmark waits for the lock before timing anyway (seconds). */
export const DEFAULT_LOCK_WAIT_SECONDS = 600;

/** Whether a benchmark had the machine to itself while timing. */
export interface TimingContention {
  /** true: it held the machine-wide timing lock while it timed. */
  exclusive: boolean;
  /** Seconds it waited for the lock. */
  waitedSeconds: number;
  /** Without the lock: the pid that held it when the wait ended, if known. */
  heldBy?: number;
  /** Without the lock: why ('busy' after the wait, or the error creating the file). */
  reason?: string;
  /**
   * Other work of this project on the machine while it timed, each as `WHAT (STAGE[, pid N])`: other points
   * compressing, training, evaluating or benchmarking, which the lock does not keep out (`exclusive` is then false).
   * Recorded from the machine's stage board by whoever ran the benchmark (a sweep's points, `compress bench`).
   */
  alongside?: string[];
  /**
   * What other programs (any, not only this project's) used of the machine's CPUs while it timed (machine-load.ts);
   * absent where it cannot be read. From OTHER_LOAD_LIMIT_CPUS on, `exclusive` is false.
   */
  load?: MachineLoad;
}

export interface TimingLock {
  readonly record: TimingContention;
  /** Removes the lock file if this process holds it. */
  release(): void;
}

export interface TimingLockOptions {
  /** The lock file (default: $BERT_COMPRESS_TIMING_LOCK, else in the temporary folder). */
  file?: string;
  /** Seconds to wait for a lock another live process holds (default 600). */
  waitSeconds?: number;
  /** Called once when the lock is busy and the wait begins. */
  onWait?: (holder: number | undefined) => void;
  /** Stops the wait (Ctrl-C, SIGTERM): acquireTimingLock then throws BenchStopped, holding nothing. */
  signal?: AbortSignal;
}

/** TimingLockOptions.waitSeconds' kind (benchModels' timingLock.waitSeconds' too). */
export const WAIT_SECONDS_OPTION = {
  is: (v: unknown) => typeof v === 'number' && v >= 0 && !Number.isNaN(v),
  expected: 'a number of seconds 0 or greater',
} as const;

/** TimingLockOptions' kinds, checked before the lock is taken (a JavaScript caller's waitSeconds 'x' waited without end for a busy lock). */
const TIMING_LOCK_OPTION_KINDS = {
  file: 'string',
  waitSeconds: WAIT_SECONDS_OPTION,
  onWait: 'function',
  signal: 'signal',
} as const satisfies Record<keyof TimingLockOptions, OptionKind>;

/** A benchmark stopped by its signal (Ctrl-C, SIGTERM): while waiting for the timing lock, or between timed runs. */
export class BenchStopped extends Error {
  override name = 'BenchStopped';
}

/**
 * The line that says a benchmark waits for the timing lock (the `onWait` of TimingLockOptions): which process
 * holds it, and what happens at the end of the wait.
 */
export function timingLockWaitLine(holder: number | undefined, waitSeconds: number = DEFAULT_LOCK_WAIT_SECONDS): string {
  const who = holder !== undefined ? `held by process ${holder}` : 'held by another process';
  const wait = waitSeconds % 60 === 0 ? `${waitSeconds / 60} min` : `${waitSeconds} s`;
  return `waiting for the timing lock ${who} (another benchmark timing on this machine; after ${wait} this one times without it, marked as timed on a shared machine)…`;
}

const POLL_MS = 200;

/**
 * The timing lock file: $BERT_COMPRESS_TIMING_LOCK (environmentPath: a `~`, `~user` or `$NAME` a shell did not expand,
 * expanded, as bert-compress's other folder variables are), else `bert-compress-timing.lock` in the temporary folder.
 * A value naming what is not a file (a folder, a device: notLockFileError), or a file in no folder (its folder
 * missing, or a file), is a one-line UsageError (a bad value of the user's setting: exit 2), where a folder was waited
 * on as a lock another benchmark held, and a lock that could not be created timed every benchmark without it.
 */
export function defaultLockFile(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const given = environmentPath(env, TIMING_LOCK_ENV);
  if (given === undefined) return join(tmpdir(), 'bert-compress-timing.lock');
  const refuse = (why: string) => new UsageError(`${TIMING_LOCK_ENV}: ${why}; name a file (or unset it: a file in the temporary folder)`);
  const notLock = notLockFileError(given);
  if (notLock) throw refuse(notLock.message);
  // (no lock file can be made in no folder: every benchmark timed without the lock, each saying so in a warning
  // naming the file's temporary name and Node's error, where a typo in the variable is the user's to mend)
  const folder = dirname(resolve(given));
  const kind = kindOf(folder);
  if (kind !== 'folder') throw refuse(`${given} is in no folder (${folder} ${kind === null ? 'does not exist' : `is ${notFolderKind(kind)}`})`);
  return given;
}

/**
 * Refuses the environment's benchmark settings it does not take, each in one line (a UsageError: exit 2):
 * BERT_COMPRESS_MACHINE_LOAD (machineLoadOff) and BERT_COMPRESS_TIMING_LOCK (defaultLockFile). What a benchmark, a
 * sweep's plan and a queue worker ask before they run anything, not a point's benchmark once compressed and evaluated.
 */
export function checkBenchEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): void {
  machineLoadOff(env);
  defaultLockFile(env);
}

/** (The lock file's format, staleness and take-over are file-lock.ts's: one mechanism for every lock.) */
export { UNWRITTEN_LOCK_GRACE_MS };

/** What the lock file holds; undefined when it is gone or cannot be read (a benchmark never fails for its lock). */
function readLock(file: string): LockFileState | undefined {
  try {
    return readLockFile(file);
  } catch {
    return undefined;
  }
}

/**
 * Takes the machine-wide timing lock, waiting for a live holder up to `waitSeconds`. Throws when `signal` aborts
 * (BenchStopped, holding nothing), and, where no `file` is given, when $BERT_COMPRESS_TIMING_LOCK names what is no
 * file (defaultLockFile's UsageError: a folder put at its path since the run's start was checked, checkBenchEnvironment,
 * fails the benchmark in that line, a sweep's point with it, which its next run does again). A lock it cannot take
 * otherwise (busy past the wait, a `file` that is a folder, one it cannot create or whose stale holder's it cannot
 * remove) is recorded, not thrown.
 */
export async function acquireTimingLock(opts: TimingLockOptions = {}): Promise<TimingLock> {
  checkOptionKinds('acquireTimingLock', checkOptions('acquireTimingLock', opts, '{file, waitSeconds, onWait, signal}'), TIMING_LOCK_OPTION_KINDS);
  const file = opts.file ?? defaultLockFile();
  const waitMs = 1000 * (opts.waitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS);
  const start = performance.now();
  const waited = () => (performance.now() - start) / 1000;
  let told = false;
  for (;;) {
    if (opts.signal?.aborted) throw new BenchStopped('stopped while waiting for the timing lock');
    let created: boolean;
    try {
      created = createLockFile(file);
    } catch (e) {
      // (in words, as every file error: Node's message names the lock's temporary file, 'open '/x/lock.123.tmp'')
      return { record: { exclusive: false, waitedSeconds: waited(), reason: `cannot create ${file}: ${fsReason(e)}` }, release: () => {} };
    }
    if (created) {
      return {
        record: { exclusive: true, waitedSeconds: waited() },
        release: () => {
          try {
            if (holdsLockFile(file)) rmSync(file, { force: true });
          } catch {
            // (a lock file left behind is stale once this process is gone, and taken over)
          }
        },
      };
    }
    // (a folder or a device at the lock's path is no lock another benchmark holds: not waited for, never removed)
    const notLock = notLockFileError(file);
    if (notLock) return { record: { exclusive: false, waitedSeconds: waited(), reason: notLock.message }, release: () => {} };
    const lock = readLock(file);
    const found = lock?.holder;
    const holder = found?.pid;
    if (lock !== undefined && lockIsStale(lock)) {
      const error = takeOverStaleLock(file, found);
      // (one that cannot be removed now never will be by this process: waiting for it would be in vain)
      if (error) {
        const what = found !== undefined ? `of pid ${found.pid}, gone` : 'that names no holder';
        return {
          record: { exclusive: false, waitedSeconds: waited(), reason: `cannot remove the stale lock ${file} ${what}: ${error.message}` },
          release: () => {},
        };
      }
      continue;
    }
    if (performance.now() - start >= waitMs) {
      return { record: { exclusive: false, waitedSeconds: waited(), ...(holder !== undefined ? { heldBy: holder } : {}), reason: 'busy' }, release: () => {} };
    }
    if (!told) {
      opts.onWait?.(holder);
      told = true;
    }
    await pauseUnlessAborted(POLL_MS, opts.signal);
  }
}

/**
 * `timing` with `alongside` (other work that ran on the machine while it timed) added to what it recorded: not
 * exclusive when there was any.
 */
export function timingAlongside(timing: TimingContention | undefined, alongside: readonly string[]): TimingContention {
  const t = timing ?? { exclusive: false, waitedSeconds: 0 };
  return { ...t, exclusive: t.exclusive && alongside.length === 0, alongside: [...(t.alongside ?? []), ...alongside] };
}

/** `timing` with the machine's `load` while it timed recorded (none: unknown, as it was): not exclusive when contended. */
export function timingWithLoad(timing: TimingContention, load: MachineLoad | undefined): TimingContention {
  if (load === undefined) return timing;
  return { ...timing, exclusive: timing.exclusive && !loadContended(load), load };
}

/**
 * One line for a benchmark that did not have the machine to itself; undefined when it did (or is unknown). `measured`
 * names what may be off: the speed-ups of a benchmark against a baseline, the latencies of one without.
 */
export function describeContention(c: TimingContention | undefined, measured: 'speed-ups' | 'latencies' = 'speed-ups'): string | undefined {
  if (!c || c.exclusive) return undefined;
  const alongside = c.alongside?.length ? `other work ran on this machine (${c.alongside.join(', ')})` : undefined;
  const loaded = loadContended(c.load) ? describeMachineLoad(c.load!) : undefined;
  // (with other work alongside or other programs' load and no reason, it held the lock)
  const withoutLock = c.heldBy !== undefined || c.reason !== undefined || (!alongside && !loaded);
  const who = c.heldBy !== undefined ? `another benchmark (pid ${c.heldBy}) was timing` : (c.reason ?? 'the timing lock was not taken');
  const parts = [
    ...(withoutLock ? [`timed without the machine-wide timing lock (${who}, after waiting ${c.waitedSeconds.toFixed(0)} s)`] : []),
    ...(alongside ? [`timed while ${alongside}`] : []),
    ...(loaded ? [loaded] : []),
  ];
  return `${parts.join('; ')}: ${measured} may be off`;
}
