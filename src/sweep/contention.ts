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
 * the stages), so of a stage and a benchmark starting at once, at least one sees the other. `<owner>` starts with
 * the runner's pid: the files of a process that is gone (killed) are removed by whoever lists them. Any trouble
 * with the folder (not writable, full) leaves the benchmark with what the tracker saw itself: a point never fails
 * for it.
 */
import { closeSync, constants, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { defaultLockFile } from '../bench/timing-lock.ts';
import { processAlive } from '../processes.ts';
import type { PointResult, PointStage } from './point.ts';

/** The folder where the runners of points on this machine publish their stages: beside the timing lock file. */
export function machineStageBoard(): string {
  return `${defaultLockFile()}.stages`;
}

export interface StageTrackerOptions {
  /** The machine's stage board (`machineStageBoard()`); without it, the tracker sees its own workers only. */
  board?: string;
}

/** Numbers the trackers of this process, so that two of them (two runners in one process) tell their files apart. */
let trackers = 0;

const BOARD_FILE = /^(\d+)-(\d+)-(\d+)\.(stage|bench)$/;

export class StageTracker {
  /** The stage each busy worker is running, and of which point. */
  private readonly stages = new Map<number, { stage: PointStage; point: string }>();
  /** Per worker whose benchmark started: what the other points ran while it benchmarked. */
  private readonly company = new Map<number, Set<string>>();
  private readonly board: string | undefined;
  /** `<pid>-<n>`: this tracker's files on the board. */
  private readonly owner = `${process.pid}-${trackers++}`;
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
    const doing = `${point} (${stage})`;
    if (stage === 'bench') {
      const seen = new Set([...this.stages].filter(([w]) => w !== worker).map(([, s]) => `${s.point} (${s.stage})`));
      this.company.set(worker, seen);
      this.openBench(worker);
      this.publish(worker, { stage, point });
      for (const other of this.others('stage')) {
        const s = readJson(other.path) as { stage?: string; point?: string } | undefined;
        if (s?.stage && s.point) seen.add(`${s.point} (${s.stage}, pid ${other.pid})`);
      }
      return;
    }
    for (const [w, seen] of this.company) if (w !== worker && this.stages.get(w)?.stage === 'bench') seen.add(doing);
    this.publish(worker, { stage, point });
    const line = `${point} (${stage}, pid ${process.pid})\n`;
    for (const other of this.others('bench')) appendExisting(other.path, line);
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

  private usable(): boolean {
    if (this.board === undefined || !this.boardUsable) return false;
    try {
      mkdirSync(this.board, { recursive: true });
    } catch {
      this.boardUsable = false;
    }
    return this.boardUsable;
  }

  /** Writes (null: removes) the worker's stage file. */
  private publish(worker: number, entry: { stage: PointStage; point: string } | null): void {
    if (!this.usable()) return;
    const file = this.file(worker, 'stage');
    try {
      if (entry === null) rmSync(file, { force: true });
      else {
        const tmp = `${file}.${Math.random().toString(36).slice(2)}.tmp`;
        writeFileSync(tmp, JSON.stringify(entry));
        renameSync(tmp, file);
      }
    } catch {
      // see the module comment: the board is a best effort
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
      rmSync(taken, { force: true });
    } catch {
      return;
    }
    const seen = this.company.get(worker) ?? new Set<string>();
    this.company.set(worker, seen);
    for (const line of text.split('\n')) if (line) seen.add(line);
  }

  /** The board's files of other trackers of this kind whose process is alive; those of dead processes are removed. */
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
      if (!m || m[4] !== kind || `${m[1]}-${m[2]}` === this.owner) continue;
      const pid = Number(m[1]);
      const path = join(this.board!, name);
      if (processAlive(pid)) found.push({ path, pid });
      else rmSync(path, { force: true });
    }
    return found;
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

/**
 * Whether a stored result's benchmark was timed without the machine to itself (its timing's `exclusive` false: the
 * timing lock was busy, or other points ran meanwhile), as the report marks it †; `sweep --rerun-contended` times
 * such points again.
 */
export function timedContended(result: Pick<PointResult, 'bench'>): boolean {
  return result.bench?.timing?.exclusive === false;
}

/** `result` with its benchmark recorded as contended when other points ran `company` during it. */
export function markContended(result: PointResult, company: readonly string[]): PointResult {
  if (company.length === 0) return result;
  const timing = result.bench.timing ?? { exclusive: false, waitedSeconds: 0 };
  const why = `other points on this machine were running ${company.join(', ')}`;
  return {
    ...result,
    bench: { ...result.bench, timing: { ...timing, exclusive: false, reason: timing.reason ? `${timing.reason}; ${why}` : why } },
  };
}
