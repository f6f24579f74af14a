/**
 * Whether a point's benchmark had the machine to itself. The machine-wide timing lock (bench/timing-lock.ts) keeps
 * two benchmarks from timing at once, but not a benchmark from the compression, training or evaluation of another
 * point meanwhile: a speed-up timed beside a training step is off, yet it held the lock. Rather than hold every
 * other point's stages back while one benchmarks (a training step can take hours), each runner of points records
 * the stage each of its points is in, and a benchmark during which another point was in any stage is recorded as
 * contended (its timing's `exclusive` is false, the reason names what ran), which the report marks. Conservative:
 * the other point's stage may have overlapped only the benchmark's set-up.
 *
 * One definition, two reaches. A StageTracker follows the points of its own runner: the workers of `sweep --jobs N`
 * or of `compress worker --concurrency N` (pool.ts), the one point of `--jobs 1`. With a board (the folder beside
 * the timing lock, `machineStageBoard`), it also sees the points of every other runner on this machine (another
 * sweep, other queue workers) and shows them its own, through files:
 *
 * - `<owner>-<worker>.stage`: the stage a worker of a runner is in (removed when it goes idle);
 * - `<owner>-<worker>.bench`: created when that worker's benchmark starts; other runners append a line naming each
 *   stage they start while it exists, and it is taken when the benchmark ends.
 *
 * A runner publishes its own file before reading the others' (its stage before the benchmarks; its benchmark before
 * the stages), so of a stage and a benchmark starting at once, at least one sees the other. A benchmark is a stage
 * like the others to a benchmark already running (it opens and runs its sessions before it waits for the timing
 * lock, beside the other's timing): both are recorded as contended. `<owner>` starts with the runner's pid and,
 * where it can be read (Linux), the process's start time: the files of a process that is gone (killed, or its pid
 * since given to another process), and what it left half-written, are removed by whoever lists them. Any trouble
 * with the folder (not writable, full, another user's files that cannot be removed) leaves the benchmark with what
 * the tracker saw itself and could read: a point never fails for it.
 */
import { closeSync, constants, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { defaultLockFile, timingAlongside, type TimingContention } from '../bench/timing-lock.ts';
import { loadContended } from '../bench/machine-load.ts';
import { THIS_PROCESS, holderText, lockHolderRuns, parseHolder, type LockHolder } from '../file-lock.ts';
import type { PointResult, PointStage } from './point.ts';

/**
 * The folder where the runners of points on this machine publish their stages: beside the timing lock file (a
 * UsageError where $BERT_COMPRESS_TIMING_LOCK names what is no file: defaultLockFile).
 */
export function machineStageBoard(): string {
  return `${defaultLockFile()}.stages`;
}

export interface StageTrackerOptions {
  /** The machine's stage board (`machineStageBoard()`); without it, the tracker sees its own workers only. */
  board?: string;
}

/** Whether `path` is a folder (false when it is missing or cannot be read). */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Numbers the trackers of this process, so that two of them (two runners in one process) tell their files apart. */
let trackers = 0;

/**
 * `<pid>[@<start>]-<n>-<worker>.<kind>`, and what a write or a take left of it (`.<random>.tmp`, `.taken`): `<start>`,
 * the process's start time where it can be read (processStartTime), tells it from a later process given its pid.
 */
const BOARD_FILE = /^(\d+)(?:@(\d+))?-(\d+)-(\d+)\.(stage|bench)(\.[a-z0-9]+\.tmp|\.taken)?$/;

/**
 * A process as board file names name it: as a lock names its holder (file-lock.ts's holderText, `PID START`), with
 * `@` for the space (`PID@START`), as earlier versions wrote it too.
 */
const boardHolder = (holder: LockHolder): string => holderText(holder).replace(' ', '@');

/** This process on the board: its pid, and its start time where it can be read. */
const ME = boardHolder(THIS_PROCESS);

export class StageTracker {
  /** The stage each busy worker is running, and of which point. */
  private readonly stages = new Map<number, { stage: PointStage; point: string }>();
  /** Per worker whose benchmark started: what the other points ran while it benchmarked. */
  private readonly company = new Map<number, Set<string>>();
  private readonly board: string | undefined;
  /** `<pid>[@<start>]-<n>`: this tracker's files on the board. */
  private readonly owner = `${ME}-${trackers++}`;
  /** false once the board folder could not be created. */
  private boardUsable = true;

  constructor(opts: StageTrackerOptions = {}) {
    this.board = opts.board;
  }

  /** Worker `worker` started `stage` of `point`, or (null) went idle. */
  set(worker: number, stage: PointStage | null, point: string): void {
    const was = this.stages.get(worker)?.stage;
    if (was === 'bench' && stage !== 'bench') this.takeBench(worker);
    if (stage === null) {
      this.stages.delete(worker);
      this.publish(worker, null);
      return;
    }
    this.stages.set(worker, { stage, point });
    // This stage is company to every benchmark running now, a benchmark too: it opens and runs its sessions before
    // it waits for the timing lock, beside the other's timing. Of this runner's workers first...
    const doing = `${point} (${stage})`;
    for (const [w, seen] of this.company) if (w !== worker && this.stages.get(w)?.stage === 'bench') seen.add(doing);
    if (stage === 'bench') {
      this.company.set(worker, new Set([...this.stages].filter(([w]) => w !== worker).map(([, s]) => `${s.point} (${s.stage})`)));
      this.openBench(worker);
    }
    this.publish(worker, { stage, point });
    // ...then of the other runners on the machine
    const line = `${point} (${stage}, pid ${process.pid})\n`;
    for (const other of this.others('bench')) appendExisting(other.path, line);
    if (stage === 'bench') {
      const seen = this.company.get(worker)!;
      for (const other of this.others('stage')) {
        const s = readJson(other.path) as { stage?: string; point?: string } | undefined;
        if (s?.stage && s.point) seen.add(`${s.point} (${s.stage}, pid ${other.pid})`);
      }
    }
  }

  /** What other points ran during `worker`'s last benchmark (empty: it ran alone); forgets it. */
  takeCompany(worker: number): string[] {
    if (this.stages.get(worker)?.stage === 'bench') this.takeBench(worker);
    const seen = this.company.get(worker);
    this.company.delete(worker);
    return seen ? [...seen] : [];
  }

  private file(worker: number, kind: 'stage' | 'bench'): string {
    return join(this.board!, `${this.owner}-${worker}.${kind}`);
  }

  /**
   * Whether the board folder is there, made where missing. Only the board itself is made, not its parents (TMPDIR,
   * or the folder of $BERT_COMPRESS_TIMING_LOCK): a missing one is not this tool's to create, and Node's recursive
   * mkdir under a folder that takes no new entries (TMPDIR=/proc) spins for ever.
   */
  private usable(): boolean {
    if (this.board === undefined || !this.boardUsable) return false;
    if (isFolder(this.board)) return true;
    try {
      mkdirSync(this.board);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !isFolder(this.board)) this.boardUsable = false;
    }
    return this.boardUsable;
  }

  /** Writes (null: removes) the worker's stage file. */
  private publish(worker: number, entry: { stage: PointStage; point: string } | null): void {
    if (!this.usable()) return;
    const file = this.file(worker, 'stage');
    if (entry === null) return removeQuietly(file);
    const tmp = `${file}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(entry));
      renameSync(tmp, file);
    } catch {
      removeQuietly(tmp); // (a full disk): see the module comment, the board is a best effort
    }
  }

  private openBench(worker: number): void {
    if (!this.usable()) return;
    try {
      writeFileSync(this.file(worker, 'bench'), '');
    } catch {
      // see the module comment
    }
  }

  /** Moves what other runners appended to the worker's bench file into its company, and removes the file. */
  private takeBench(worker: number): void {
    if (this.board === undefined || !this.boardUsable) return;
    const file = this.file(worker, 'bench');
    const taken = `${file}.taken`;
    let text: string;
    try {
      renameSync(file, taken); // (a line being appended still lands in it)
      text = readFileSync(taken, 'utf8');
    } catch {
      return;
    }
    removeQuietly(taken);
    const seen = this.company.get(worker) ?? new Set<string>();
    this.company.set(worker, seen);
    for (const line of text.split('\n')) if (line) seen.add(line);
  }

  /**
   * The board's files of other trackers of this kind whose process still runs. The files of processes that are gone
   * (killed; or whose pid now belongs to another process: the start time in the name differs) are removed, with what
   * they left half-done (`.tmp`, `.taken`); one that cannot be removed (another user's, a read-only folder) is
   * ignored all the same.
   */
  private others(kind: 'stage' | 'bench'): Array<{ path: string; pid: number }> {
    if (!this.usable()) return [];
    let names: string[];
    try {
      names = readdirSync(this.board!);
    } catch {
      return [];
    }
    const found: Array<{ path: string; pid: number }> = [];
    for (const name of names) {
      const m = BOARD_FILE.exec(name);
      const holder = m ? parseHolder(m[2] !== undefined ? `${m[1]} ${m[2]}` : m[1]!) : undefined;
      if (!m || !holder || `${boardHolder(holder)}-${m[3]}` === this.owner) continue;
      const leftover = m[6] !== undefined;
      if (!leftover && m[5] !== kind) continue;
      const path = join(this.board!, name);
      if (!lockHolderRuns(holder)) removeQuietly(path);
      else if (!leftover) found.push({ path, pid: holder.pid });
    }
    return found;
  }
}

/** Removes a board file; one that cannot be removed (another user's, a read-only folder) stays: see others(). */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // the board is a best effort (see the module comment)
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined; // gone meanwhile (its worker went idle)
  }
}

/** Appends `line` to `path` if it exists (never creates it: a benchmark that ended took its file away). */
function appendExisting(path: string, line: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND);
  } catch {
    return;
  }
  try {
    writeSync(fd, line);
  } catch {
    // see the module comment
  } finally {
    closeSync(fd);
  }
}

/** Marks a speed-up timed while the machine was shared (timedContended), in the report's table and a sweep's lines. */
export const SHARED_MARK = '†';

/**
 * Whether a stored result's benchmark was timed without the machine to itself (its timing's `exclusive` false: the
 * timing lock was busy, or other points ran meanwhile), as the report marks it †; `sweep --rerun-contended` times
 * such points again.
 */
export function timedContended(result: Pick<PointResult, 'bench'>): boolean {
  return result.bench?.timing?.exclusive === false;
}

/** How results stored before `alongside` was recorded named the other points in their timing's reason. */
const COMPANY_REASON = 'other points on this machine were running ';
const REASON_SEPARATOR = '; ';

/** The stage an `alongside` entry (`POINT (STAGE)` or `POINT (STAGE, pid N)`, as StageTracker writes it) names. */
const COMPANY_STAGE = /\((compress|train|eval|bench)(?:, pid \d+)?\)$/;

/** What the timing lock's own record says shared the machine ('busy': another benchmark held the lock). */
function lockOverlap(timing: TimingContention): Overlap[] {
  if (timing.exclusive !== false || !timing.reason) return [];
  return [timing.reason === 'busy' ? 'another benchmark' : 'no timing lock'];
}

/**
 * `result` with the other points that ran `company` during its benchmark recorded in its timing's `alongside` (as
 * `compress bench` records them: see timingAlongside), contended when there were any. A benchmark the sweep saw
 * alone gets an empty `alongside` too when it is contended by the timing lock only, so contendedBy reads it as this
 * version's record, not an older one's reason text.
 */
export function markContended(result: PointResult, company: readonly string[]): PointResult {
  const timing = result.bench.timing;
  if (company.length === 0 && (timing?.exclusive !== false || Array.isArray(timing.alongside))) return result;
  return { ...result, bench: { ...result.bench, timing: timingAlongside(timing, company) } };
}

/** What timed beside a contended benchmark, as `contendedBy` names it. */
export type Overlap = 'another benchmark' | 'no timing lock' | PointStage | 'other programs';

/** The kinds of Overlap, in the order they are named. */
export const OVERLAPS: readonly Overlap[] = ['another benchmark', 'no timing lock', 'compress', 'train', 'eval', 'bench', 'other programs'];

/**
 * What a stored result's benchmark shared the machine with, by kind: 'another benchmark' (it held the timing lock),
 * 'no timing lock' (the lock file could not be made), the stages other points ran meanwhile (its `alongside`
 * entries), and 'other programs' (its `load`: any program's CPU use, see bench/machine-load.ts). Empty for a benchmark that had the machine to itself, or whose record does not say. A result stored
 * before `alongside` was recorded is read from its timing's reason (where a point name holding '; ' or '(eval)'
 * could mislead it).
 */
export function contendedBy(result: Pick<PointResult, 'bench'>): Overlap[] {
  const timing = result.bench?.timing;
  if (timing?.exclusive !== false) return [];
  const found = new Set<Overlap>();
  if (loadContended(timing.load)) found.add('other programs');
  if (Array.isArray(timing.alongside)) {
    for (const o of lockOverlap(timing)) found.add(o);
    for (const entry of timing.alongside) {
      const m = COMPANY_STAGE.exec(String(entry));
      if (m) found.add(m[1] as PointStage);
    }
  } else {
    for (const part of timing.reason?.split(REASON_SEPARATOR) ?? []) {
      if (part.startsWith(COMPANY_REASON)) for (const m of part.matchAll(/\((compress|train|eval|bench)(?:, pid \d+)?\)/g)) found.add(m[1] as PointStage);
      else found.add(part === 'busy' ? 'another benchmark' : 'no timing lock');
    }
  }
  return OVERLAPS.filter((o) => found.has(o));
}
