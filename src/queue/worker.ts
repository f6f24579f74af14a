/**
 * `compress worker` as a library call: a BullMQ worker that takes sweep points from the queue and runs them, up to
 * `concurrency` at once, each in a worker process of its own (sweep/pool.ts), so that a long synchronous pass never
 * keeps this process from renewing the job's lock. A point's files are found by path or fetched (files.ts).
 *
 * Failures and lost workers are BullMQ's business: a point that throws is retried with exponential backoff, up to
 * 3 runs (job.ts), but for one whose input the code refuses (refusedInput: every run fails alike), which fails at its
 * first run. A point this worker cannot run though another may (queued by other code, its files not found
 * here or not fetched, no worker process started for it: EAGAIN, ENOMEM) is given back to the queue instead, its
 * runs not counted, and a worker that gives back GIVE_BACKS_TO_STOP points in a row stops, saying why: a broken
 * worker does not use up the points' runs. Points queued by older code than this worker's (an older coordinator's,
 * during an upgrade) are not counted in that row: this worker is not the broken one; nor are points asking more memory
 * than this machine has (an eval batch, a bench shape, a student made from sizes: MemoryRefusal, checked before the
 * point runs as a local plan checks it, or at a stage), which a worker with more may run. A point given back
 * GIVE_BACKS_PER_POINT times (job.ts; but for this worker's own failures, which say nothing of the point: no process
 * started, this worker's code older than the point's) fails, with the last reason. A point given back for memory
 * records the worker (PointJob.tooLarge), which leaves it in the queue unrun whenever it takes it again (BullMQ gives a
 * job to whichever worker asks first), for a larger worker that is busy or not yet started; it fails once taken
 * GIVE_BACKS_PER_POINT times while every worker connected to the queue (connectedWorkers) has given it back for memory,
 * naming the refusal of the one with the most memory (addMemoryRefusal). A worker that dies (SIGKILL, power cut) stops renewing its locks, and
 * once a lock expires (`lockMs`) the stalled-job check of any live worker (4 times a lock: lockSettings) puts the job back in the queue for another worker. Its late
 * result, if any, is refused by BullMQ (the lock is gone), and the store keeps one row per key, so a point is
 * never counted twice.
 */
import { randomBytes } from 'node:crypto';
import { hostname, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { checkBenchEnvironment } from '../bench/timing-lock.ts';
import { checkOutputFolder, folderLabel } from '../destination.ts';
import { QueueError, counted, errorLine } from '../errors.ts';
import { pauseUnlessAborted } from '../interrupt.ts';
import { threadShare } from '../runtime/threads.ts';
import { codeFingerprint } from '../version.ts';
import { PointFailure, WorkerNotStarted, workerPool } from '../sweep/pool.ts';
import type { PointResult } from '../sweep/point.ts';
import { pointTokenizerReading, pointTrainingLength, type SweepPoint } from '../sweep/plan.ts';
import { refusedInput, tokenizerRefusals } from '../sweep/stale.ts';
import { registerAllPasses } from '../passes.ts';
import { passNames } from '../pass/registry.ts';
import { isTrainingStep } from '../sweep/train-step.ts';
import { userCacheDir } from '../train/run.ts';
import { codeAge, currentVersions, pointStudentKind, sameVersions, versionChange } from '../sweep/key.ts';
import {
  BLOCKING_MS,
  CALL_TIMEOUT_MS,
  NO_ANSWER,
  QUEUE_NAME,
  StoppedConnecting,
  answerWithin,
  checkRedisDriver,
  connectionLog,
  parseQueueUrl,
  waitConnected,
} from './connection.ts';
import { localizePoint, type PathMapping } from './files.ts';
import {
  ATTEMPTS,
  DEFAULT_RETRY_DELAY_MS,
  GIVE_BACKS_PER_POINT,
  type GiveBackFault,
  NotForThisWorker,
  STALLED_TOO_OFTEN,
  type TooLarge,
  addMemoryRefusal,
  failedJobError,
  memoryRefusalLabel,
  type GivenBack,
  type PointJob,
} from './job.ts';

export interface QueueWorkerOptions {
  /** `redis://HOST:PORT[/DB]`. */
  queue: string;
  /** Points run at once, each in its own process (default 1). */
  concurrency?: number;
  /** onnxruntime threads of a point when the sweep file does not set them (default and 0: workerThreads). */
  threads?: number;
  /** Fetched files and training caches (default: $BERT_COMPRESS_CACHE or ~/.cache/bert-compress, + /worker). */
  cacheDir?: string;
  /** Compressed models of the points run here (default: <cacheDir>/models). */
  workDir?: string;
  /** Where this machine finds the coordinator's folders that are not at the same path here. */
  pathMap?: readonly PathMapping[];
  /**
   * How long a job's lock lasts without renewal (default 30 s), rounded to the millisecond: a dead worker's point is
   * rerun between half of this and 1¼ of this after it died (lockSettings).
   */
  lockMs?: number;
  /**
   * Aborting stops taking points; the call returns once the running ones have finished and the queue took their
   * results, or once it waited a lock (`lockMs`, at most a minute: stopWaitMs) for that after the last one finished
   * (Redis out of reach: stoppedWithin).
   */
  signal?: AbortSignal;
  onEvent?: (event: WorkerEvent) => void;
  /** This worker's name, its own (default: workerName()): `compress worker` makes it, to say it in its own lines. */
  name?: string;
}

export type WorkerEvent =
  /** Connected; `name`: this worker's (workerName), as the coordinator's lines and a failed point's error name it. */
  | { type: 'ready'; queue: string; concurrency: number; threads: number; name: string }
  | { type: 'start'; point: SweepPoint; attempt: number }
  /** A point's result, taken by the queue (one it refused is said by a 'log' line instead). */
  | { type: 'finished'; point: SweepPoint; result: PointResult }
  | { type: 'failed'; point: SweepPoint; attempt: number; error: string }
  /** A point this worker cannot run though another may (NotForThisWorker): back in the queue, the run not counted. */
  | { type: 'given-back'; point: SweepPoint; error: string; delayMs: number }
  /** A connection problem (logged once until it changes), or a point's own log line (with the point). */
  | { type: 'log'; line: string; point?: SweepPoint };

export interface WorkerSummary {
  ran: number;
  failed: number;
}

/**
 * The default cache of a worker: `worker` in training's default cache (userCacheDir): `$BERT_COMPRESS_CACHE/worker`,
 * else `$XDG_CACHE_HOME/bert-compress/worker`, else `~/.cache/bert-compress/worker`.
 */
export function defaultWorkerCacheDir(): string {
  return join(userCacheDir(), 'worker');
}

const INTERRUPTED = /^interrupted at step (\d+); rerun the same command to resume from (.+)$/;

/**
 * A point's log line as a queue worker says it: a training step stopped with a checkpoint (its worker process sent
 * SIGTERM) is not for the user to rerun, the queue runs the point again, and a worker that finds the checkpoint
 * (this one, or one with the same --work-dir) resumes from it.
 */
export function queuePointLine(line: string): string {
  const m = INTERRUPTED.exec(line);
  return m ? `interrupted at step ${m[1]} with a checkpoint in ${m[2]}; the queue runs the point again, resuming from it where a worker finds it` : line;
}

/**
 * BullMQ's errors about one job a worker holds: its lock not renewed (Redis answered that the lock is gone: expired, or
 * another worker's since; a Redis out of reach is a connection error), or its result refused (the job no longer its:
 * gone, its lock gone or another's, or its lock still this worker's but the job moved out of the active list, as a
 * stalled-job check or another client moved it on; finished-errors.js).
 */
const LOCK_NOT_RENEWED = /^could not renew lock for job (\S+)$/;
const RESULT_REFUSED =
  /^(?:(?:Missing key|Missing lock|Lock mismatch) for job (\S+?)\.?|Job (\S+) is not in the active state\.) (?:Cmd )?(?:moveToFinished|moveToDelayed|retryJob)\b/;

/** A point as the worker's lines about its job name it: 'point ' and the key's first 12 characters. */
const pointTag = (key: string) => `point ${key.slice(0, 12)}`;

/**
 * A worker 'error' of BullMQ's about one of its points, as a line saying what happens to the point; undefined for
 * any other error (a connection problem, for connectionLog). A result refused (Redis lost the job, restarted without
 * its data, or the lock expired while the worker paused or Redis was away, and the point was given out again, maybe
 * finished by another worker already) is not lost work: the point runs again, from the stages this run kept where it
 * lands on a worker with the same --work-dir, unless another run finished it.
 */
export function jobErrorLine(e: unknown): string | undefined {
  const message = e instanceof Error ? e.message : String(e);
  const renew = LOCK_NOT_RENEWED.exec(message);
  if (renew)
    return `${pointTag(renew[1]!)}: its lock expired before this worker renewed it (the worker paused, or Redis out of reach or restarted, for longer than the lock): the queue gives the point to another worker and refuses this run's result`;
  const refused = refusedJobId(e);
  return refused === undefined ? undefined : refusedResultLine(refused);
}

/**
 * What a worker says of a point whose result the queue refused (jobErrorLine; or, stopping, BullMQ's pause keeping the
 * refusal to itself, a point whose outcome the queue took neither as a result nor as a failure: stoppedWithin).
 */
export function refusedResultLine(key: string): string {
  return `${pointTag(key)}: the queue refused its result (the job is no longer this worker's: its lock expired while the worker paused or Redis was out of reach, or Redis lost the job); another run of the point gives its result, or gave it already`;
}

/** The job id of a result (or failure, or give-back) the queue refused (RESULT_REFUSED), else undefined. */
export function refusedJobId(e: unknown): string | undefined {
  const refused = RESULT_REFUSED.exec(e instanceof Error ? e.message : String(e));
  return refused ? (refused[1] ?? refused[2]) : undefined;
}

/**
 * The names of the BullMQ workers of queue `clientName` (QueueBase.clientName: `bull:` and the queue's name in base64)
 * on database `db` in Redis's CLIENT LIST text `list`: BullMQ names each worker's blocking connection `CLIENTNAME:w:NAME`
 * (its `name` option); the queue of the same name on another database is another queue.
 */
export function connectedWorkerNames(list: string, clientName: string, db: number): Set<string> {
  const names = new Set<string>();
  const prefix = `${clientName}:w:`;
  for (const line of list.split(/\r?\n/)) {
    const fields = new Map(line.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
    const client = fields.get('name');
    if (client?.startsWith(prefix) && fields.get('db') === String(db)) names.add(client.slice(prefix.length));
  }
  return names;
}

/**
 * The failure of a point given back for memory by every worker connected to the queue (`connected` of them) and by
 * `gone` workers no longer connected (stopped, or restarted under a new name), the refusal of the one with the most
 * memory of them all `error` (TooLarge): no worker there can run it. (Counted together, a worker restarted after its
 * refusal made '2 workers gave it back' of one machine's worker, where no second worker was connected.)
 */
export function tooLargeFailure(connected: number, gone: number, error: string): string {
  const others = gone > 0 ? `, as did ${counted(gone, 'worker')} no longer connected` : '';
  return `no worker connected to the queue has memory enough for it: ${counted(connected, 'worker')} gave it back${others} (${memoryRefusalLabel(connected + gone)}: ${error}); a rerun of the coordinator (the same command, without --follow) queues it again, for a worker with more memory`;
}

/**
 * The failure of a point given back `times` times by the workers that took it, for `error`: the last reason, or where
 * `which` says so, another (memoryRefusalLabel).
 */
function givenBackFailure(times: number, error: string, which = 'the last'): string {
  return `given back by the workers that took it ${times} times, none of which could run it (${which}: ${error}); a rerun of the coordinator (the same command, without --follow) queues it again`;
}

/**
 * A name for a worker starting now, its own: the machine's hostname and the process's id, which two workers may share
 * (in containers: pid 1 in each, a hostname given by --hostname or a replica's template; two workers run by one
 * process), and a random suffix. It identifies the worker to BullMQ (its connection's client name, which
 * connectedWorkerNames reads) and in a point's record of the workers that gave it back for memory (PointJob.tooLarge),
 * and names it in the coordinator's lines and a failed point's error.
 */
export function workerName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * The least delay before a worker takes again a point it gave back for memory once the point waits for a larger worker
 * connected to the queue (taken GIVE_BACKS_PER_POINT times): the coordinator's retry delay may be 0 (--retry-delay 0),
 * with which the worker took it again and again at once while the larger one was busy, thousands of times a second,
 * a core and Redis kept busy for as long as the larger worker's point ran.
 */
export const WAITING_RETAKE_MS = 1000;

/** Points given back in a row (none run or failed between them) after which a worker stops: it is the broken one. */
export const GIVE_BACKS_TO_STOP = 3;

/**
 * Refuses a point queued by other code than this worker's, saying what differs (versionChange): bert-compress's and
 * the steps' versions, a step this code does not have among them (a pass added since), the tokenizers' reading
 * version `tokenizer` and the version of its training steps' default length `trainingLength` (by default the point's
 * own: not compared).
 */
function refuseOtherCode(point: SweepPoint, tokenizer = point.versions?.tokenizer, trainingLength = point.versions?.trainingLength): void {
  const known = new Set(passNames());
  const here = currentVersions(
    point.steps.filter((s) => isTrainingStep(s.pass) || known.has(s.pass)),
    point.seed,
    tokenizer,
    pointStudentKind(point),
    trainingLength,
  );
  if (!sameVersions(here, point.versions)) {
    // (older code's point: this worker is not the broken one; newer code's: it is)
    const age = point.versions ? codeAge(point.versions, here) : 'older';
    throw new NotForThisWorker(
      `queued by other code than this worker's (${versionChange(point, { ...point, versions: here })}): run workers of the coordinator's version`,
      age === 'older' ? 'point' : age === 'newer' ? 'worker' : 'either',
    );
  }
}

/**
 * What a point's failure adds where the code that ran it (`ran`: of the worker process that ran the point, else of
 * this worker as it started, `started`) is not the coordinator's (`queued`) though their versions are the same
 * (codeFingerprint: a copy not updated, or edited), which may be why it failed; and where that code is not this
 * worker's as it started, that its copy changed under it (a `git pull` of it: worker processes started since run the
 * newer code). Empty where either fingerprint is unknown.
 */
export function otherCopyNote(queued: string | undefined, started: string | undefined, ran: string | undefined): string {
  if (queued === undefined || ran === undefined || ran === queued) return '';
  const changed = started !== undefined && ran !== started ? ', changed since the worker started (its worker process started after)' : '';
  return ` (this worker's copy of bert-compress differs from the coordinator's${changed}, though their versions are the same: give this machine the coordinator's copy and start the worker again)`;
}

/** Said once by a worker whose worker process started with other code than the worker's as it started. */
export const CODE_CHANGED_LINE =
  "this worker's copy of bert-compress changed since it started (its worker processes started since run the changed code, and their points' results are stored with no remark): restart it";

/** Default lock duration: BullMQ's own. */
export const DEFAULT_LOCK_MS = 30_000;

/**
 * BullMQ's lock settings of a worker whose job locks last `lockMs`: the lock in whole milliseconds (Redis takes no
 * fraction of one, which --lock-seconds 1.005 gives: 1004.9999999999999), renewed every half of it (BullMQ's
 * default), and the check for lost workers' points 4 times a lock. A dead worker's lock expires half a lock to a lock
 * after its death, and the first check after that (any live worker's: BullMQ runs one per interval for the queue)
 * puts its point back in the queue: within 1¼ locks of the death, where a check once a lock (BullMQ's default) took
 * up to 2. A check takes only a point whose lock is gone, never a live worker's, however often it runs; each costs
 * Redis one short script.
 */
export function lockSettings(lockMs: number): { lockDuration: number; stalledInterval: number } {
  const lockDuration = Math.round(lockMs);
  return { lockDuration, stalledInterval: Math.max(1, Math.round(lockDuration / 4)) };
}

/**
 * The onnxruntime threads of a worker's points whose sweep file sets none: `threads` as given, or where none or 0
 * (POOL_THREADS_RANGE: as a sweep file's bench.threads 0), the physical cores divided among the `concurrency` points
 * run at once, at least 1.
 */
export function workerThreads(threads: number | undefined, concurrency: number): number {
  return threads || threadShare(concurrency);
}

/** How often a stopping worker looks whether its running points have finished and the queue took their results. */
const STOP_POLL_MS = 100;

/** The longest a stopping worker waits for Redis to take its points' outcomes, whatever its lock (a coordinator waits as long for Redis). */
export const STOP_WAIT_MAX_MS = 60_000;

/**
 * How long a stopping worker waits for the queue to take its points' outcomes once they finished (stoppedWithin): a
 * lock (`lockMs`), after which the queue refuses them anyway, but at most STOP_WAIT_MAX_MS (a --lock-seconds of an
 * hour, for points that long, made a stop with Redis out of reach take an hour).
 */
export function stopWaitMs(lockMs: number): number {
  return Math.min(lockMs, STOP_WAIT_MAX_MS);
}

/**
 * The line of a stopping worker about a point whose result (or failure) the queue had not taken `seconds` after the
 * point finished here (Redis out of reach): the run is lost to the queue, which gives the point out again once its lock
 * expires, and the stages this run kept are reused where it lands on a worker with the same --work-dir.
 */
export function untakenResultLine(key: string, seconds: number): string {
  return `${pointTag(key)}: the queue did not take this run's outcome within ${seconds} s of its end (Redis out of reach); the queue gives the point out again once its lock expires, to continue from the stages this run finished where it lands on a worker with the same --work-dir`;
}

/**
 * The line of a worker whose point's outcome (its result, or its failure) Redis has not taken `seconds` after the point
 * ended here: a Redis that keeps the connection but answers nothing (paused, stuck) left the worker silent for as long.
 * BullMQ's command stays sent, and the worker waits for it (a stop, a lock at most: stoppedWithin).
 */
export function unansweredOutcomeLine(key: string, seconds: number): string {
  return `${pointTag(key)}: no answer from Redis within ${seconds} s to this run's outcome (Redis paused, busy or out of reach); waiting for it: once Redis answers, the queue takes it, or refuses it where the point's lock expired meanwhile`;
}

/**
 * The line of a worker that gave a point back to the queue (a point it cannot run, or one taken as it stopped) and had
 * no answer from Redis within `seconds`: not waited for longer (the worker went on, or stopped, silently for as long as
 * Redis held the command); the point goes back once Redis carries the command out, or once its lock expires.
 */
export function unansweredGiveBackLine(key: string, seconds: number): string {
  return `${pointTag(key)}: no answer from Redis within ${seconds} s to this worker's giving it back (Redis paused, busy or out of reach); the queue gives it out again once Redis takes it back, or once its lock expires`;
}

/** Runs a worker until `signal` aborts: see the module comment. */
export async function runQueueWorker(opts: QueueWorkerOptions): Promise<WorkerSummary> {
  checkRedisDriver();
  registerAllPasses(); // for the pass versions a point is checked against
  const address = parseQueueUrl(opts.queue);
  // (every point it takes benchmarks, in a process of this environment: a benchmark setting's value it does not take
  // is refused here, as a sweep's plan refuses it, not by each point once compressed and evaluated)
  checkBenchEnvironment();
  const emit = opts.onEvent ?? (() => {});
  const concurrency = opts.concurrency ?? 1;
  const threads = workerThreads(opts.threads, concurrency);
  const cacheDir = resolve(opts.cacheDir ?? defaultWorkerCacheDir());
  const files = {
    cacheDir,
    workDir: resolve(opts.workDir ?? join(cacheDir, 'models')),
    pathMap: opts.pathMap ?? [],
    log: (line: string) => emit({ type: 'log', line }),
  };
  // Both folders are written by every point: checked (created, writable) before the worker takes one.
  checkOutputFolder(files.cacheDir, folderLabel('--cache-dir', opts.cacheDir, 'cache folder', files.cacheDir));
  checkOutputFolder(files.workDir, folderLabel('--work-dir', opts.workDir, 'work folder', files.workDir));
  const lockMs = opts.lockMs ?? DEFAULT_LOCK_MS;
  /**
   * This worker's code as it started (the files may change under a running worker: a `git pull` of its copy; each
   * worker process of the pool says its own, PointFailure.runCode).
   */
  const code = codeFingerprint();
  /** This worker as BullMQ and the coordinator's lines name it. */
  const name = opts.name ?? workerName();
  const summary: WorkerSummary = { ran: 0, failed: 0 };
  let changedSaid = false;
  // (the terminal's Ctrl-C stops taking points, and the running ones finish: it must not reach the workers)
  const runner = workerPool(concurrency, threads, (line, point) => emit({ type: 'log', line: queuePointLine(line), point }), undefined, {
    ownProcessGroup: true,
    // (the coordinator's plan left the points' memory to the machine that runs them: each checks this one's first)
    checkMemory: true,
    // (a point that succeeds there is stored as any other: only this line says the copy changed under the worker)
    onCode: (ran) => {
      if (changedSaid || ran === undefined || code === undefined || ran === code) return;
      changedSaid = true;
      emit({ type: 'log', line: CODE_CHANGED_LINE });
    },
  });

  /**
   * The lines said about points' jobs (jobErrorLine), each once per run of its point here: BullMQ repeats them (a lock
   * renewal fails every quarter of the lock until the point ends; a refused result is refused on completing, then on failing).
   */
  const jobLines = new Set<string>();
  /** Points whose worker process runs now (runner.run). */
  let computing = 0;
  /**
   * The points taken here (by job id) whose outcome the queue has not yet taken: a result ('completed'), a failure
   * ('failed'), a give-back (moveToDelayed), or its refusal (jobErrorLine's refused result). A stopping worker waits
   * for them, at most a lock once no point runs (stoppedWithin).
   */
  const untaken = new Map<string, SweepPoint>();
  /** When the run of each point taken here ended (its processor returned or threw), by the point (untaken's values). */
  const runEnds = new WeakMap<SweepPoint, number>();
  /** Set once the worker was told to stop (its signal, or giving back too many points): it takes no more points. */
  let stopRequested = false;
  /** Resolves once the worker is told to stop (requestStop). */
  let stopAsked: () => void = () => {};
  const stopRequest = new Promise<void>((res) => (stopAsked = res));
  /**
   * Tells the worker to stop: it takes no more points (BullMQ's pause, which waits for nothing; its close() would
   * wait for the running points and then for its connections, which a Redis out of reach never ends: stoppedWithin).
   */
  const requestStop = (): void => {
    if (stopRequested) return;
    stopRequested = true;
    void worker.pause(true).catch(() => {});
    stopAsked();
  };
  /**
   * Once told to stop: waits for the points running here to finish, then for the queue to take their outcomes, at
   * most `waitMs` after the last one finished, and says which it did not take; returns early once `over` aborts
   * (BullMQ's loop ended: every outcome taken or refused). A result waits for Redis for ever (BullMQ queues its
   * command until Redis answers), and BullMQ's close() then waits for a connection that ioredis never ends while it
   * reconnects (BullMQ #4656): the worker stops within a lock of its last point's end instead, a result not taken by
   * then being one the queue refuses anyway once the point's lock has expired. The lock is counted from the run's end
   * (runEnds), however long before the stop that was (counted from the stop, a stop a lock after a run's end whose
   * result Redis had not taken waited a whole lock more, 30 s by default, for a result the queue refuses anyway, and
   * said it had waited a lock from the end); a point whose run has not ended (its files being fetched, its give-back
   * under way) from the moment no point computes here, as before.
   */
  const stoppedWithin = async (waitMs: number, over: AbortSignal): Promise<void> => {
    let idleSince: number | undefined;
    while ((computing > 0 || untaken.size > 0) && !over.aborted) {
      if (computing > 0) idleSince = undefined;
      else {
        const idle = (idleSince ??= Date.now());
        const lastEnd = Math.max(...[...untaken.values()].map((point) => runEnds.get(point) ?? idle));
        if (lastEnd + waitMs <= Date.now()) {
          for (const key of untaken.keys()) files.log(untakenResultLine(key, Math.round(waitMs / 1000)));
          untaken.clear();
          return;
        }
      }
      await pauseUnlessAborted(STOP_POLL_MS, over);
    }
  };
  /** Points given back in a row; the last one's reason. */
  let givenBack = 0;
  let stopping: QueueError | undefined;
  /**
   * The names of the workers connected to the queue now (connectedWorkerNames), or undefined where Redis does not say
   * (CLIENT LIST refused, as some hosted Redis refuse it, or this worker not among them: its connection's name not set).
   */
  const connectedWorkers = async (): Promise<Set<string> | undefined> => {
    try {
      // (a Redis that does not answer says nothing either)
      const lists = await answerWithin(worker.backend.getClientList());
      if (lists === NO_ANSWER) return undefined;
      const names = connectedWorkerNames(lists.join('\n'), worker.backend.clientName(), address.db);
      return names.has(name) ? names : undefined;
    } catch {
      return undefined;
    }
  };
  /**
   * Gives the job back to the queue (delayed by its retry delay, so that other workers take it first), not counting
   * a run; stops the worker once it has given back GIVE_BACKS_TO_STOP points in a row. `memory`: given back asking more
   * memory than this machine has ('refused': the worker is recorded in PointJob.tooLarge), or taken again by a worker
   * that did so ('retaken': left unrun, and said by no line, this worker's refusal said already); such a point fails
   * once taken GIVE_BACKS_PER_POINT times while no worker connected to the queue is one that has not refused it.
   */
  const giveBack = async (
    job: Job<PointJob, PointResult>,
    token: string | undefined,
    error: string,
    fault: GiveBackFault,
    memory?: 'refused' | 'retaken',
  ): Promise<never> => {
    const backoff = job.opts.backoff;
    const delayMs = typeof backoff === 'object' ? (backoff.delay ?? DEFAULT_RETRY_DELAY_MS) : DEFAULT_RETRY_DELAY_MS;
    // (a give-back of this worker's own fault says nothing of the point, nor does a retake of a point it refused: not counted)
    const countsGiveBack = fault !== 'worker' && memory !== 'retaken';
    const giveBacks = (job.data.giveBacks ?? 0) + (countsGiveBack ? 1 : 0);
    const before = job.data.tooLarge;
    const tooLarge: TooLarge | undefined =
      memory === 'refused'
        ? addMemoryRefusal(before, name, error, totalmem())
        : memory === 'retaken' && before
          ? { ...before, retakes: before.retakes + 1 }
          : before;
    const times = giveBacks + (memory && tooLarge ? tooLarge.retakes : 0);
    let failure: string | undefined;
    if (memory && tooLarge && times >= GIVE_BACKS_PER_POINT) {
      // (a larger worker connected, maybe busy, runs it once it takes it; where Redis does not say, the count decides)
      const live = await connectedWorkers();
      if (live === undefined) failure = givenBackFailure(times, tooLarge.error, memoryRefusalLabel(tooLarge.workers.length));
      else if ([...live].every((w) => tooLarge.workers.includes(w))) failure = tooLargeFailure(live.size, tooLarge.workers.length - live.size, tooLarge.error);
    } else if (!memory && countsGiveBack && times >= GIVE_BACKS_PER_POINT) failure = givenBackFailure(times, error);
    if (failure !== undefined) {
      // (no worker ran it in as many tries: the point's failure, stored as the coordinator stores any other)
      givenBack = 0;
      summary.failed++;
      emit({ type: 'failed', point: job.data.point, attempt: job.attemptsMade + 1, error: failure });
      throw new UnrecoverableError(failure);
    }
    // the count and the move in one step, which Redis makes only while the point is still this worker's (its lock): a
    // move refused (the lock lost, and the stalled-job check puts the point back or another worker has it) counts nothing
    const data: PointJob = { ...job.data, giveBacks, ...(tooLarge ? { tooLarge } : {}) };
    // (a point left for a larger worker, busy: retaken here no more often than WAITING_RETAKE_MS, whatever --retry-delay)
    const waitMs = memory === 'retaken' && times >= GIVE_BACKS_PER_POINT ? Math.max(delayMs, WAITING_RETAKE_MS) : delayMs;
    const moved = await answerWithin(
      worker.backend.moveToDelayed(job.id!, Date.now(), waitMs, token, {
        skipAttempt: true,
        fieldsToUpdate: countsGiveBack || memory ? { data: JSON.stringify(data) } : undefined,
      }),
    );
    if (moved === NO_ANSWER) {
      // (Redis holding the move: said, not waited for; counted neither as the point's give-back nor as this worker's)
      files.log(unansweredGiveBackLine(job.data.point.key, CALL_TIMEOUT_MS / 1000));
      untaken.delete(job.id!);
      throw new DelayedError();
    }
    if (memory === 'retaken') {
      untaken.delete(job.id!);
      throw new DelayedError();
    }
    // (for the coordinator to say: best effort, the point is back in the queue either way)
    await answerWithin(job.updateProgress({ givenBack: { worker: name, error } } satisfies GivenBack)).catch(() => {});
    emit({ type: 'given-back', point: job.data.point, error, delayMs });
    // (the point's own failure neither counts towards this worker's stopping nor ends a row of its own failures)
    if (fault !== 'point' && ++givenBack >= GIVE_BACKS_TO_STOP && !stopping) {
      stopping = new QueueError(
        `this worker stopped after giving back ${givenBack} points in a row that it cannot run (the last: ${error}); their runs are not counted: mend this machine and start the worker again`,
      );
      requestStop();
    }
    untaken.delete(job.id!);
    throw new DelayedError(); // (BullMQ: the job was moved out of the active list by the processor)
  };
  /** The timers of watchOutcome, cleared as the worker returns. */
  const outcomeWatches = new Set<NodeJS.Timeout>();
  /**
   * Once the processor of the run of `point` (job `id`) returned or threw: says so where its outcome, which BullMQ hands
   * in to Redis, is not taken CALL_TIMEOUT_MS later (unansweredOutcomeLine). A run given back has no outcome to hand in.
   */
  const watchOutcome = (id: string, point: SweepPoint): void => {
    if (untaken.get(id) !== point) return;
    const timer = setTimeout(() => {
      outcomeWatches.delete(timer);
      if (untaken.get(id) === point) files.log(unansweredOutcomeLine(point.key, CALL_TIMEOUT_MS / 1000));
    }, CALL_TIMEOUT_MS);
    timer.unref();
    outcomeWatches.add(timer);
  };
  const processor = async (job: Job<PointJob, PointResult>, token?: string): Promise<PointResult> => {
    try {
      return await runPoint(job, token);
    } finally {
      runEnds.set(job.data.point, Date.now());
      watchOutcome(job.id!, job.data.point);
    }
  };
  const runPoint = async (job: Job<PointJob, PointResult>, token?: string): Promise<PointResult> => {
    const { point, files: trees } = job.data;
    untaken.set(job.id!, point);
    if (stopRequested) {
      // (taken by a fetch already under way when the worker was told to stop: back to the queue at once, not run, not counted)
      const moved = await answerWithin(worker.backend.moveToDelayed(job.id!, Date.now(), 0, token, { skipAttempt: true }));
      if (moved === NO_ANSWER) files.log(unansweredGiveBackLine(point.key, CALL_TIMEOUT_MS / 1000));
      untaken.delete(job.id!);
      throw new DelayedError();
    }
    // (a point this worker gave back for memory: left in the queue for a larger worker, not run again here)
    if (job.data.tooLarge?.workers.includes(name)) return await giveBack(job, token, job.data.tooLarge.error, 'point', 'retaken');
    const attempt = job.attemptsMade + 1;
    for (const line of jobLines) if (line.startsWith(`${pointTag(point.key)}:`)) jobLines.delete(line);
    emit({ type: 'start', point, attempt });
    /** The point as this machine reads it, once its files are found here. */
    let local: SweepPoint | undefined;
    try {
      // bert-compress's and the steps' versions before the point's files are looked for (or fetched: another code's
      // coordinator may list others), and its tokenizers' reading and training length versions from the files here, which hash as the coordinator's
      refuseOtherCode(point);
      local = await localizePoint(point, trees, files);
      refuseOtherCode(point, pointTokenizerReading(local), pointTrainingLength(local));
      // (said once the queue takes the result: see 'completed' below)
      computing++;
      const result = await runner.run(local).finally(() => computing--);
      givenBack = 0;
      return result;
    } catch (e) {
      const error = errorLine(e);
      // (a worker process that could not be started ran nothing of the point: this machine's failure too)
      if (e instanceof NotForThisWorker || e instanceof WorkerNotStarted)
        return await giveBack(job, token, error, e instanceof NotForThisWorker ? e.fault : 'worker');
      // (a point asking more memory than this machine has, before it ran or at a stage: another worker's may hold it,
      // and this worker, which runs the points that fit, is not the broken one)
      if (e instanceof PointFailure && e.tooLarge) return await giveBack(job, token, error, 'point', 'refused');
      givenBack = 0;
      summary.failed++;
      // (a failure in a worker process: of the code that process started with, which a `git pull` since this worker
      // started may have changed; one here, before the point reached a worker process: of this worker's)
      const ran = e instanceof PointFailure && e.runCode !== undefined ? e.runCode : code;
      const note = otherCopyNote(job.data.code, code, ran);
      const why = `${error}${note}`;
      emit({ type: 'failed', point, attempt, error: why });
      // (the queue stores the run's failure: the coordinator's lines and the report say which worker it was)
      const failure = `worker ${name}: ${why}`;
      // An input the code refuses (refusedInput, as the coordinator's closing lines judge it: its files hash as the
      // coordinator's, and this code is the coordinator's) fails every run alike: not retried. Anything else may
      // not recur (a crashed process, a lost connection, another worker's machine): retried.
      if (local !== undefined && note === '' && refusedInput(local, tokenizerRefusals()) !== undefined) throw new UnrecoverableError(failure);
      // (a refusal of the files by the code that read them, as a local sweep stores it: PointJob.inputRefused)
      if (local !== undefined && note === '' && e instanceof PointFailure && e.inputRefused) {
        // (bounded: the failure's own command follows it on the same connection, which Redis carries out after it)
        await answerWithin(job.updateData({ ...job.data, inputRefused: true }));
        throw new UnrecoverableError(failure);
      }
      throw new Error(failure);
    }
  };

  const worker = new Worker<PointJob, PointResult>(QUEUE_NAME, processor, {
    connection: address.connection,
    concurrency,
    autorun: false,
    ...lockSettings(lockMs),
    // A point whose worker died is rerun; one that kills every worker it lands on fails after as many runs as retries allow.
    maxStalledCount: ATTEMPTS - 1,
    drainDelay: BLOCKING_MS / 1000,
    name,
  });
  // A point is done, and run here, once the queue took its result: one it refused (the job no longer this worker's) is
  // said by jobErrorLine, on 'error', and another run of the point gives the result.
  worker.on('completed', (job, result) => {
    untaken.delete(job.id!);
    summary.ran++;
    emit({ type: 'finished', point: job.data.point, result });
  });
  // A point BullMQ fails for its lost workers (the last stall allowed) never reaches the processor: it is said here.
  worker.on('failed', (job, e) => {
    if (job) untaken.delete(job.id!);
    if (!job || e.message !== STALLED_TOO_OFTEN) return; // a point's own failure: said by the processor
    summary.failed++;
    // its runs: those that failed (attemptsMade, less this failure, which ran nothing) and those whose worker was lost
    const runs = Math.max(1, job.attemptsMade - 1 + job.stalledCounter);
    emit({ type: 'failed', point: job.data.point, attempt: runs, error: failedJobError(STALLED_TOO_OFTEN, job.attemptsMade) });
  });
  const connection = connectionLog(address, files.log);
  worker.on('error', (e) => {
    const line = jobErrorLine(e);
    const refused = refusedJobId(e);
    if (refused !== undefined) untaken.delete(refused);
    if (line === undefined) connection.onError(e);
    else if (!jobLines.has(line)) {
      jobLines.add(line);
      files.log(line);
    }
  });
  try {
    try {
      await waitConnected(worker, address, undefined, opts.signal);
    } catch (e) {
      if (e instanceof StoppedConnecting) return summary; // (told to stop before Redis answered: nothing taken)
      throw e;
    }
    connection.connected(worker);
    emit({ type: 'ready', queue: address.display, concurrency, threads, name });
    const running = worker.run();
    if (opts.signal?.aborted) requestStop();
    opts.signal?.addEventListener('abort', requestStop, { once: true });
    const over = new AbortController();
    try {
      await Promise.race([running, stopRequest.then(() => stoppedWithin(stopWaitMs(lockMs), over.signal))]);
    } finally {
      over.abort();
    }
    // (BullMQ's loop ended: the outcomes of the points it ran are taken, or refused, which a paused BullMQ does not say)
    for (const key of untaken.keys()) files.log(refusedResultLine(key));
  } finally {
    for (const timer of outcomeWatches) clearTimeout(timer);
    // (by force: the points are done, or given up on; a graceful close waits for ever on a Redis out of reach)
    await worker.close(true).catch(() => {});
    await runner.close();
  }
  if (stopping) throw stopping;
  return summary;
}
