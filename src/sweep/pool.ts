/**
 * Where points run: in this process (`--jobs 1`), or in a pool of forked worker processes (`--jobs N`), each
 * running one point at a time. Both are a `PointRunner`; the sweep loop (and a queue worker, which runs a pool)
 * does not care which. Both follow their points' stages, and record a point's benchmark as contended when another
 * point ran a stage during it: one of their own, or one of another runner on this machine (contention.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { errorMessage } from '../errors.ts';
import { childEntry } from '../processes.ts';
import { removeCreatedFolders } from '../folders.ts';
import { StageTracker, machineStageBoard, markContended } from './contention.ts';
import type { SweepPoint } from './plan.ts';
import type { TrainingStop } from '../train/run.ts';
import { PointInterrupted, runPoint, type PointResult, type PointStage } from './point.ts';
import { pointName } from './progress.ts';

export interface PointRunner {
  run(point: SweepPoint): Promise<PointResult>;
  close(): Promise<void>;
}

/** Parent → worker: a point to run, or the request to stop the running one as `--jobs 1` stops it (Ctrl-C). */
export type WorkerRequest = { type: 'run'; point: SweepPoint; threads: number; checkMemory?: boolean } | { type: 'stop' };

/** Worker → parent. */
export type WorkerReply =
  /** Sent first, where the pool asked (WorkerPoolOptions.onCode): the worker's code as it started (codeFingerprint). */
  | { type: 'code'; key?: undefined; code: string | undefined }
  | { type: 'log'; key: string; line: string }
  /** The point's next stage started (null: its benchmark ended). */
  | { type: 'stage'; key: string; stage: PointStage | null }
  | { type: 'done'; key: string; result: PointResult }
  | { type: 'interrupted'; key: string; message: string; training?: TrainingStop }
  /**
   * `inputRefused`: the point's error is a NonFiniteInputError (PointFailure.inputRefused); `tooLarge`: a MemoryRefusal
   * (PointFailure.tooLarge).
   */
  | { type: 'failed'; key: string; error: string; inputRefused?: true; tooLarge?: true };

/** Receives a point's own log lines, with the point they are of (several run at once in a pool). */
export type PointLog = (line: string, point: SweepPoint) => void;

/** Receives the stage a point runs now (null: its benchmark ended), with the point. */
export type PointStageLog = (stage: PointStage | null, point: SweepPoint) => void;

/** Runs points in this process; `signal` stops the running point (see RunPointOptions.signal). */
export function inProcessRunner(threads: number, log?: PointLog, signal?: AbortSignal, onStage?: PointStageLog): PointRunner {
  const stages = new StageTracker({ board: machineStageBoard() });
  return {
    async run(point) {
      const name = pointName(point);
      try {
        const result = await runPoint(point, {
          threads,
          ...(log ? { log: (line: string) => log(line, point) } : {}),
          ...(signal ? { signal } : {}),
          onStage: (stage) => {
            stages.set(0, stage, name);
            onStage?.(stage, point);
          },
        });
        return markContended(result, stages.takeCompany(0));
      } finally {
        stages.set(0, null, name);
        stages.takeCompany(0);
        // (the empty folders it made in its own folder, a point that failed before writing, as a worker removes them)
        if (point.outputDir !== null) removeCreatedFolders([point.outputDir]);
      }
    },
    close: async () => {},
  };
}

/**
 * The failure of a point in a worker, carrying the worker's one-line message and, where the pool asked for it
 * (WorkerPoolOptions.onCode), the fingerprint of the code that worker process started with (`runCode`);
 * `inputRefused` where the worker's error was a NonFiniteInputError (a refusal of the point's input files), `tooLarge`
 * where it was a MemoryRefusal (what the point asks would not fit in that machine's memory).
 */
export class PointFailure extends Error {
  override name = 'PointFailure';
  constructor(
    message: string,
    readonly runCode?: string,
    readonly inputRefused = false,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/**
 * The pool's own failure, not the point's: the worker process that was to run it could not be started (spawn:
 * EAGAIN, ENOMEM …), so nothing of the point ran. A sweep fails the point as any other (its rerun retries it); a
 * queue worker gives it back to the queue, its run not counted (queue/worker.ts).
 */
export class WorkerNotStarted extends PointFailure {
  override name = 'WorkerNotStarted';
}

const WORKER = childEntry(import.meta.url, 'worker-main');

/** The worker process's argument asking it to send its code's fingerprint first (WorkerPoolOptions.onCode). */
export const REPORT_CODE = '--report-code';

interface Slot {
  /** Numbers the worker for the stage tracker. */
  id: number;
  child: ChildProcess;
  busy: boolean;
  /** The code it started with, once it said (WorkerPoolOptions.onCode). */
  code?: string;
  /** While it runs a point: fails it (the worker process could not be started, or reached). */
  fail?: (error: PointFailure) => void;
}

export interface WorkerPoolOptions {
  /**
   * Starts each worker in a process group of its own, out of the terminal's reach: its Ctrl-C (and a signal sent to
   * the caller's group) reaches the caller only, which decides. For `compress worker`, whose running points finish
   * on a first Ctrl-C; without it, the terminal's Ctrl-C reaches the workers too, which stop their running points
   * as `--jobs 1` does (a signal sent to one worker alone stops its point either way).
   */
  ownProcessGroup?: boolean;
  /** Told each stage a point starts in its worker (as inProcessRunner's `onStage`). */
  onStage?: PointStageLog;
  /**
   * Given: each worker process takes the fingerprint of its code as it starts (codeFingerprint) and says it, before it
   * runs a point, to this, and a point's failure there carries it (PointFailure.runCode): for `compress worker`, whose
   * copy of the code may change under it (a `git pull`) before the pool starts a worker process, which then runs the
   * newer code.
   */
  onCode?: (code: string | undefined) => void;
  /** Each point checks first what this machine's memory cannot take (RunPointOptions.checkMemory): a queue worker's. */
  checkMemory?: boolean;
}

/**
 * A pool of up to `size` worker processes. When `signal` aborts (Ctrl-C, SIGTERM), every worker is asked to stop its
 * running point as `--jobs 1` does: a train / distill step stops after its optimizer step with a checkpoint, and the
 * point is interrupted (PointInterrupted), not failed.
 */
export function workerPool(size: number, threads: number, log?: PointLog, signal?: AbortSignal, opts: WorkerPoolOptions = {}): PointRunner {
  const slots: Slot[] = [];
  const stages = new StageTracker({ board: machineStageBoard() });
  let spawned = 0;
  signal?.addEventListener('abort', () => {
    for (const s of slots) if (s.child.connected) s.child.send({ type: 'stop' } satisfies WorkerRequest, () => {});
  });
  const spawn = (): Slot => {
    const child = fork(WORKER.path, opts.onCode ? [REPORT_CODE] : [], {
      execArgv: WORKER.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(opts.ownProcessGroup && process.platform !== 'win32' ? { detached: true } : {}),
    });
    const slot: Slot = { id: spawned++, child, busy: false };
    const { onCode } = opts;
    if (onCode)
      child.on('message', (reply: WorkerReply) => {
        if (reply.type !== 'code') return;
        slot.code = reply.code;
        onCode(reply.code);
      });
    const drop = () => {
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
    };
    child.on('exit', drop);
    // A worker that could not be started (spawn: EAGAIN, ENOMEM …) has no 'exit' to wait for; a message that could
    // not be sent (the worker died meanwhile) is followed by its 'exit'. Either fails the point it runs, if any.
    child.on('error', (e) => {
      if (child.pid === undefined) drop();
      slot.fail?.(
        child.pid === undefined
          ? new WorkerNotStarted(`cannot start a worker process: ${errorMessage(e)}`)
          : new PointFailure(`worker process: ${errorMessage(e)}`, slot.code),
      );
    });
    slots.push(slot);
    return slot;
  };
  return {
    run(point) {
      const slot = slots.find((s) => !s.busy && s.child.connected) ?? (slots.length < size ? spawn() : undefined);
      if (!slot) return Promise.reject(new Error('worker pool: every worker is busy'));
      slot.busy = true;
      return new Promise<PointResult>((resolve, reject) => {
        const onMessage = (reply: WorkerReply) => {
          if (reply.type === 'code' || reply.key !== point.key) return;
          if (reply.type === 'log') {
            log?.(reply.line, point);
            return;
          }
          if (reply.type === 'stage') {
            stages.set(slot.id, reply.stage, pointName(point));
            opts.onStage?.(reply.stage, point);
            return;
          }
          cleanup();
          if (reply.type === 'done') resolve(markContended(reply.result, stages.takeCompany(slot.id)));
          else if (reply.type === 'interrupted') reject(new PointInterrupted(reply.message, reply.training));
          else reject(new PointFailure(reply.error, slot.code, reply.inputRefused === true, reply.tooLarge === true));
        };
        const onExit = (code: number | null, signal: string | null) => {
          cleanup();
          reject(new PointFailure(`worker process exited (${signal ?? `code ${code}`}) while running the point`, slot.code));
        };
        slot.fail = (error) => {
          cleanup();
          reject(error);
        };
        const cleanup = () => {
          stages.set(slot.id, null, pointName(point));
          slot.child.off('message', onMessage);
          slot.child.off('exit', onExit);
          slot.fail = undefined;
          slot.busy = false;
        };
        slot.child.on('message', onMessage);
        slot.child.on('exit', onExit);
        try {
          slot.child.send({ type: 'run', point, threads, ...(opts.checkMemory ? { checkMemory: true } : {}) } satisfies WorkerRequest);
          if (signal?.aborted) slot.child.send({ type: 'stop' } satisfies WorkerRequest, () => {});
        } catch (e) {
          cleanup();
          reject(new PointFailure(`cannot send the point to a worker: ${errorMessage(e)}`, slot.code));
        }
      });
    },
    async close() {
      await Promise.all(
        slots.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
              s.child.once('exit', () => resolve());
              s.child.disconnect();
            }),
        ),
      );
    },
  };
}
