/**
 * `compress sweep SWEEP.yaml --queue redis://…` as a library call: the coordinator of a distributed sweep.
 *
 * It plans the points as a local sweep does and skips those the store has. Then, unless it only follows, it adds
 * the rest to the BullMQ queue, one job per point with the point key as job id (a point already queued is not
 * added again; one that failed before is queued afresh, its 3 runs with it, as a rerun of a local sweep retries
 * it, but for one whose input the code refuses, which fails again unqueued: failedAgain), and takes out of the queue the points an earlier run of the sweep queued that its plan no longer holds (the
 * file edited, a model changed) and no worker has started, and they are no longer the sweep's points (its report does
 * not list them as not finished). Then it collects: each finished job's result (or, after its 3 runs, its error) is written into the same
 * SQLite store a local sweep writes, so `compress report` reads it unchanged.
 *
 * Finished jobs stay in Redis with their result (job.ts), so a coordinator that was stopped, or one started later
 * with `follow`, collects what finished meanwhile. It learns of finished jobs from BullMQ's queue events, and
 * looks at every point it still waits for every few seconds as well: a job that vanished (a Redis restarted
 * without persistence) is queued again, unless a later run of the edited sweep took it out (its store record gone); a Redis that stays unreachable ends the call with one line, the store
 * keeping every point collected so far. A store removed or replaced meanwhile ends it at once, with the one line a
 * local sweep gives (SweepStore), not taken for a Redis problem; a store that cannot be written (a full disk, an I/O
 * error) ends it at once too, with one line. The workers go on, and the queue keeps their results. A point a worker
 * gave back (one it cannot run though another worker may: worker.ts) is said, naming the worker and why.
 */
import { resolve } from 'node:path';
import { Queue, QueueEvents, type QueueBase, type RedisQueueBackend } from 'bullmq';
import { QueueError, counted, isUserError, type UserError, quotedText } from '../errors.ts';
import { pauseUnlessAborted } from '../interrupt.ts';
import { timedContended } from '../sweep/contention.ts';
import type { PointResult } from '../sweep/point.ts';
import type { SweepPoint } from '../sweep/plan.ts';
import { pointName, pointNames } from '../sweep/progress.ts';
import { failedPoint, planAgainstStore, type StorePlan, type SweepOptions, type SweepSummary } from '../sweep/run.ts';
import { StoreWriteError } from '../sweep/store.ts';
import { codeFingerprint } from '../version.ts';
import { BLOCKING_MS, CALL_TIMEOUT_MS, QUEUE_NAME, checkRedisDriver, connectionLog, connectionProblem, parseQueueUrl, waitConnected } from './connection.ts';
import { pointFiles } from './files.ts';
import { ATTEMPTS, STALLED_TOO_OFTEN, failedJobError, givenBackOf, jobOptions, type PointJob } from './job.ts';

/**
 * `rerunStale` and `rerunContended` are left out: a coordinator keeps stale results (it does not forget the rows a
 * rerun replaces) and contended ones (it does not replace stored results).
 */
export interface QueuedSweepOptions extends Omit<SweepOptions, 'jobs' | 'rerunStale' | 'rerunContended'> {
  /** `redis://HOST:PORT[/DB]`. */
  queue: string;
  /** Only collect the points already queued (add none, retry none). */
  follow?: boolean;
  /** Delay before a failed point's first retry; doubled for each next one (default 10 s). */
  retryDelayMs?: number;
  /** How long Redis may stay unreachable before the call gives up (default 60 s). */
  unreachableMs?: number;
  /** How often the call looks at every point it waits for, besides the queue's events (default 5 s). */
  rescanMs?: number;
  /** Aborting stops collecting (the queued points stay queued; workers go on). */
  signal?: AbortSignal;
}

export interface QueuedSweepSummary extends SweepSummary {
  /** Points added to the queue (or failed ones queued again) by this call. */
  added: number;
  /** Points this call found already queued (waiting, running, or finished and not yet collected). */
  alreadyQueued: number;
  /** With `follow`: points not in the queue, which this call did not wait for. */
  notQueued: SweepPoint[];
  /** Points still queued when the call was stopped (aborted). */
  left: number;
  /**
   * Points still to collect that the call neither queued nor found queued, stopped first (aborted while it planned or
   * queued): the same command queues them.
   */
  unqueued: number;
  /** Why Redis was out of reach when the call stopped (connectionProblem: ECONNREFUSED …), if it was: `left` is what it last saw queued. */
  unreachable?: string;
  /** Points an earlier run of the sweep queued that its plan no longer holds, taken out of the queue before any worker ran them. */
  withdrawn: number;
  /** Points this call waited for that a later run of the edited sweep took out of the queue or the sweep (its plan no longer holds them): let go, not collected. */
  letGo: number;
}

const DEFAULT_RESCAN_MS = 5_000;
/** Why Redis is out of reach (QueuedSweepSummary.unreachable) where the connection lost it and no try to reconnect failed yet. */
export const CONNECTION_LOST = 'connection lost';
/** The longest one look at a job (or add, or removal) may take before Redis counts as unreachable for it. */
export { CALL_TIMEOUT_MS };
const DEFAULT_UNREACHABLE_MS = 60_000;

/** The states of a job no worker has started yet (or is running now): those an edited sweep takes out of the queue. */
const WITHDRAWABLE = new Set(['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children']);

/** BullMQ's refusal to remove a job a worker holds (removeJob: 'could not be removed because it is locked by another worker'). */
const isLockedJob = (e: unknown): boolean => e instanceof Error && / is locked by another worker\b/.test(e.message);

/** A look given up on because the call was told to stop (withTimeout's `signal`): no Redis problem. */
class LookStopped extends Error {}

/** `p`, rejected once `ms` have passed without it settling, or at once (LookStopped) once `signal` aborts. */
function withTimeout<T>(p: Promise<T>, ms: number, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: () => void = () => {};
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
      onAbort = () => reject(new LookStopped('stopped'));
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  ]).finally(() => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  });
}

/**
 * Whether the connection of a BullMQ queue or queue-events object is ready (ioredis's status): not where it lost Redis
 * and waits to reconnect, which it does from Redis's going away, before any try of its fails (ECONNREFUSED, a second
 * later at the soonest: reconnectDelayMs) and so before the connection log has a problem to say.
 */
async function connectionReady(target: Pick<QueueBase<RedisQueueBackend>, 'backend'>): Promise<boolean> {
  const client = await withTimeout(target.backend.client, 100).catch(() => undefined);
  return client?.status === 'ready';
}

/**
 * Closes a BullMQ queue or queue-events object: gracefully, waiting at most `ms`, where Redis answers; where it is out
 * of reach (`unreachable`), its connection is not ready (connectionReady: it lost Redis a moment ago and waits to
 * reconnect, whatever the caller's connection log says yet), or the close is not confirmed by then, its connection is
 * dropped (disconnect), which stops ioredis's tries to reconnect. (Left to a close that waited for a Redis out of reach,
 * its QUIT waited through 20 tries to reconnect, 40 s, in which the call had returned, 5 s after it was told to stop,
 * and each try's refusal was written to stderr as '[ioredis] Unhandled error event: Error: connect ECONNREFUSED' with
 * its stack, keeping a library caller's process alive for as long; a queue-events object waiting to reconnect, closed
 * gracefully, waited its 5 s for an 'end' ioredis never gives such a connection, on every path of runQueuedSweep.)
 */
async function closeQueue(target: Pick<QueueBase<RedisQueueBackend>, 'close' | 'disconnect' | 'backend'>, unreachable: boolean, ms = 5_000): Promise<void> {
  const graceful = !unreachable && (await connectionReady(target));
  // (closing: BullMQ's loops, a queue-events object's reading, end; their commands held for Redis are dropped below)
  const closing = target.close().catch(() => {});
  if (
    graceful &&
    (await withTimeout(closing, ms).then(
      () => true,
      () => false,
    ))
  )
    return;
  // (the drop is made at once; its confirmation, the client's 'end', never comes from a client waiting to reconnect)
  await withTimeout(target.disconnect(), 100).catch(() => {});
}

/** What a store that cannot take a collected point keeps besides the points stored (SweepStore's StoreWriteError). */
const QUEUE_KEEPS = "and the queue keeps the workers' results";

/** The refusal of a coordinator whose Redis has not answered for `seconds` (`why`), with the points its store keeps. */
export function unreachableLine(queue: string, seconds: number, why: string, finished: number): string {
  return `${queue}: no answer for ${seconds} s (${why}); the store keeps the ${counted(finished, 'point')} finished so far: run the same command again to go on`;
}

/** The refusal of `--follow` where none of the `pending` points of sweep `sweep` still to do is in the queue. */
export function noneQueuedLine(queue: string, sweep: string, pending: number): string {
  const which =
    pending === 1
      ? `the 1 point of sweep ${quotedText(sweep)} still to do is not queued there: run without --follow to queue it`
      : `none of the ${pending} points of sweep ${quotedText(sweep)} still to do is queued there: run without --follow to queue them`;
  return `${queue}: ${which}`;
}

/** Runs the coordinator: see the module comment. */
export async function runQueuedSweep(opts: QueuedSweepOptions): Promise<QueuedSweepSummary> {
  const start = performance.now();
  checkRedisDriver();
  /** This coordinator's code as it started, which it queues the points with (the files may change while it runs). */
  const code = codeFingerprint();
  const address = parseQueueUrl(opts.queue);
  const emit = opts.onEvent ?? (() => {});
  const log = (line: string) => emit({ type: 'log', line });
  const unreachableMs = opts.unreachableMs ?? DEFAULT_UNREACHABLE_MS;
  const connection = connectionLog(address, log);
  // Redis first: an unreachable queue is reported before any planning, and leaves no store behind.
  const queue = new Queue<PointJob, PointResult>(QUEUE_NAME, { connection: address.connection });
  queue.on('error', connection.onError);
  try {
    await waitConnected(queue, address, undefined, opts.signal);
  } catch (e) {
    await closeQueue(queue, true); // (no answer, or told to stop first)
    throw e;
  }
  // Created once Redis answers: BullMQ's QueueEvents cannot be closed before its first connection.
  const events = new QueueEvents(QUEUE_NAME, { connection: address.connection, blockingTimeout: BLOCKING_MS });
  events.on('error', connection.onError);
  let plan: StorePlan;
  try {
    await waitConnected(events, address, undefined, opts.signal);
    connection.connected(queue);
    plan = await planAgainstStore({ ...opts, queued: true });
  } catch (e) {
    await Promise.all([closeQueue(events, connection.problem !== ''), closeQueue(queue, connection.problem !== '')]);
    throw e;
  }
  const { spec, points, previous, stale, contended, hash, store, refusal, refusedAgain } = plan;
  const summary: QueuedSweepSummary = {
    store: resolve(opts.store),
    total: points.length,
    alreadyDone: previous.size - stale.size,
    stale: [...stale.values()],
    contended: { kept: [...contended.values()], recomputed: [], again: [], first: [] },
    sweep: spec.name,
    sweeps: [],
    ran: 0,
    byOthers: 0,
    failed: [],
    seconds: 0,
    added: 0,
    alreadyQueued: 0,
    notQueued: [],
    left: 0,
    withdrawn: 0,
    letGo: 0,
    unqueued: 0,
  };

  /** Points still to collect, by key. */
  const pending = new Map(points.filter((p) => !previous.has(p.key)).map((p) => [p.key, p]));
  /** Points of `pending` not queued by this call nor found in the queue yet (a stop may come first: summary.unqueued). */
  const unqueued = new Set(pending.keys());
  const started = new Set<string>();
  /**
   * Per key, the worker holding the point as this call last saw it active (BullMQ's processedBy; '' where the worker
   * gave no name), looked up at each look that finds it active, and forgotten once the point stalled or was collected:
   * a stall names it, where the job's own processedBy is the next taker's once one took it. (Looked up on the 'active'
   * event alone, a take whose event was missed, or whose look failed, left the previous holder, which the next stall named.)
   */
  const holders = new Map<string, string>();
  /** Per key, the failed runs already reported. */
  const reportedRuns = new Map<string, number>();

  /**
   * The call's commands Redis has not answered yet, given up on by their bound or a stop: its close is not waited for
   * then, the connection is dropped (closeQueue), where the close's QUIT, held behind them (a paused or busy Redis), kept
   * the call from returning for the close's 5 s.
   */
  let unanswered = 0;
  /**
   * Redis's answer to one of this call's commands (a look at a job, an add, a removal), waited for at most
   * CALL_TIMEOUT_MS, and no longer once the call is told to stop (LookStopped). Each answer is a contact with Redis, as
   * the connection's handshake is: connection.answeredAt, from which a rescan counts Redis's silence.
   */
  const answered = <T>(command: Promise<T>): Promise<T> => {
    unanswered++;
    command.then(
      () => unanswered--,
      () => unanswered--,
    );
    return withTimeout(command, CALL_TIMEOUT_MS, opts.signal).then((answer) => {
      connection.answeredAt = Date.now();
      return answer;
    });
  };

  /**
   * Queues one point, its files listed first (hashed: as long as the files take, no Redis wait). The add waits for
   * Redis's answer at most CALL_TIMEOUT_MS, as a look does, and ends at once on a stop (LookStopped): a Redis that keeps
   * the connection but holds writes (CLIENT PAUSE WRITE, as a failover pauses them; a busy or stuck Redis) left the
   * coordinator queueing its points silent for as long, and deaf to Ctrl-C. (A late answer adds the job all the same:
   * its id is the point key, and a later look finds it queued.)
   */
  const add = async (point: SweepPoint): Promise<void> => {
    const files = await pointFiles(point, hash);
    await answered(queue.add(pointName(point), { point, files, code }, jobOptions(point.key, opts.retryDelayMs)));
  };

  /**
   * Writes one collected point into the store. A store that cannot be written (a full disk, an I/O error, made
   * read-only) throws a one-line UserError, which ends the call at once: the point stays to collect, by the next run.
   * A point another live process holds this moment (another coordinator of the sweep writing the same result, a local
   * sweep running it) stays to collect: a later look finds it stored by that process, or claims it.
   */
  const record = (point: SweepPoint, outcome: { result: PointResult } | { error: string; refusedBy?: string }): void => {
    let skipped = false;
    try {
      const claim = store.claim(point);
      if (claim === 'busy') return;
      if (claim === 'done') skipped = true;
      else if ('result' in outcome) store.finish(point, outcome.result);
      else store.fail(point.key, outcome.error, outcome.refusedBy);
    } catch (e) {
      // (SweepStore says a write it could not make in one line, to which this adds what is kept)
      if (e instanceof StoreWriteError) throw e.keeping(summary.ran + previous.size, QUEUE_KEEPS);
      throw e; // (the store removed or replaced meanwhile: one line too)
    }
    pending.delete(point.key);
    holders.delete(point.key);
    if (skipped) {
      summary.byOthers++;
      emit({ type: 'skipped', point });
    } else if ('result' in outcome) {
      summary.ran++;
      if (outcome.result.eval.int8Saturated === true) (summary.int8Saturated ??= []).push(point);
      if (timedContended(outcome.result)) summary.contended.first.push(point);
      emit({ type: 'finished', point, result: outcome.result });
    } else {
      summary.failed.push(failedPoint(point, outcome.error, refusal, outcome.refusedBy));
      emit({ type: 'failed', point, error: outcome.error });
    }
  };

  /** Lets go a point a later run of the edited sweep took out of the sweep (its plan no longer holds it): not collected. */
  const letGo = (point: SweepPoint, how: string): void => {
    pending.delete(point.key);
    holders.delete(point.key);
    summary.letGo++;
    log(`${pointName(point)}: ${how} by a later run of sweep ${quotedText(spec.name)}, whose plan no longer holds it; not collected`);
  };

  /**
   * Looks at one point's job and acts on what it finds; `removed`, on the queue's word that it was removed: a job not
   * there is then let go where a later run of the edited sweep dropped the point, and left to the rescan otherwise;
   * a point found active has the worker holding it looked up again (holders).
   */
  const check = async (point: SweepPoint, removed = false): Promise<void> => {
    if (!pending.has(point.key)) return;
    const state = await answered(queue.getJobState(point.key));
    if (!pending.has(point.key)) return; // collected meanwhile (an event and a rescan at once)
    if (state === 'unknown') {
      if (!store.holds(spec.name, point.key)) {
        // (taken out of the queue by a run of the edited sweep started after this one: not to queue again)
        letGo(point, 'taken out of the queue');
        return;
      }
      if (removed) return;
      if (opts.follow) {
        pending.delete(point.key);
        summary.notQueued.push(point);
        return;
      }
      log(`${pointName(point)}: no longer in the queue (Redis restarted without its data?): queued again`);
      await add(point);
      return;
    }
    if (state === 'active') {
      const job = await answered(queue.getJob(point.key));
      if (job && pending.has(point.key)) holders.set(point.key, job.processedBy ?? '');
    }
    if (state === 'active' && !started.has(point.key)) {
      started.add(point.key);
      emit({ type: 'start', point });
    }
    if (state !== 'completed' && state !== 'failed' && state !== 'delayed') return;
    const job = await answered(queue.getJob(point.key));
    if (!job || !pending.has(point.key)) return;
    // (a run a worker had started when a later run of the edited sweep dropped the point: its result is no longer the sweep's)
    if (state !== 'delayed' && !store.holds(spec.name, point.key)) return letGo(point, 'taken out of the sweep');
    if (state === 'completed') record(point, { result: job.returnvalue });
    else if (state === 'failed')
      record(point, { error: failedJobError(job.failedReason, job.attemptsMade), ...(job.data.inputRefused ? { refusedBy: point.toolVersion } : {}) });
    else if (job.attemptsMade > (reportedRuns.get(point.key) ?? 0)) {
      reportedRuns.set(point.key, job.attemptsMade);
      const delay = typeof job.opts.backoff === 'object' ? (job.opts.backoff.delay ?? 0) * 2 ** (job.attemptsMade - 1) : 0;
      log(`${pointName(point)}: run ${job.attemptsMade} of ${ATTEMPTS} failed (${job.failedReason}); retried in ${(delay / 1000).toFixed(1)} s`);
    }
  };

  /** Whether a look failed since the last rescan whose looks all had Redis's answer. */
  let lookFailed = false;
  /**
   * Looks at every pending point; a QueueError once Redis has not answered for `unreachableMs`, counted from its last
   * answer to a look or to the connection's handshake: a look that fails just after 'connected again' (its command sent
   * in the outage) is no minute without an answer, where it gave up saying 'no answer for 62 s'. A look that fails once
   * the call was told to stop ends it as stopped, where past `unreachableMs` it threw the refusal (exit 1, not 130).
   */
  const rescan = async (): Promise<void> => {
    try {
      for (const point of [...pending.values()]) {
        if (opts.signal?.aborted) return;
        await check(point);
      }
      // (Redis answers every look again after a look of its failed: a problem still held is over, though the connection,
      // which a Redis too busy or paused to answer (CLIENT PAUSE) never lost, says no 'connected again'; kept, it was the
      // closing line's 'stopped with Redis out of reach' and the reason given for a later look's failure)
      if (lookFailed && connection.problem) {
        log(`queue ${address.display}: answering again`);
        connection.problem = '';
      }
      lookFailed = false;
    } catch (e) {
      // (told to stop while a look waited for Redis: the stop is not held up by the look's wait, up to CALL_TIMEOUT_MS)
      if (e instanceof LookStopped) return;
      lookFailed = true;
      if (isUserError(e)) throw e; // the store (removed while the sweep ran), a file of a point queued again: no Redis problem
      // (a look that failed while the connection has a problem failed of it: its own timeout, or ioredis giving up on the
      // commands it held, is no other problem)
      const why = connection.problem || connectionProblem(e);
      if (why !== connection.problem) log(`queue ${address.display}: ${why}; waiting for it`);
      connection.problem = why;
      // (told to stop while the look waited: a stop with Redis out of reach, as any other, not a refusal of Redis's silence)
      if (opts.signal?.aborted) return;
      const silentMs = Date.now() - connection.answeredAt;
      if (silentMs > unreachableMs) throw new QueueError(unreachableLine(address.display, Math.round(silentMs / 1000), why, summary.ran + previous.size));
    }
  };

  let wake: () => void = () => {};
  /** A UserError met while checking a point on a queue event (the store removed meanwhile, or not writable): it ends the call at once. */
  let fatal: UserError | undefined;
  const onJobEvent = (jobId: string, removed = false) => {
    const point = pending.get(jobId);
    if (point)
      void check(point, removed).then(
        () => (pending.size === 0 ? wake() : undefined),
        (e: unknown) => {
          // A Redis problem is the next rescan's to see and report.
          if (!isUserError(e)) return;
          fatal ??= e;
          wake();
        },
      );
  };
  for (const name of ['completed', 'failed', 'delayed', 'active'] as const) events.on(name, ({ jobId }: { jobId: string }) => onJobEvent(jobId));
  // (a point removed from the queue: one a later run of the edited sweep dropped is let go now; the rescan queues again
  // one that vanished otherwise, where a failed point queued afresh, removed and added at once, is back meanwhile)
  events.on('removed', ({ jobId }) => onJobEvent(jobId, true));
  // A point a worker gave back (one it cannot run, though another worker may): said, the queue holds it for another.
  events.on('progress', ({ jobId, data }) => {
    const point = pending.get(jobId);
    const back = givenBackOf(data);
    if (point && back) log(`${pointName(point)}: worker ${back.worker} gave it back (${back.error}); queued again for another worker, its run not counted`);
  });
  events.on('stalled', ({ jobId }) => {
    const point = pending.get(jobId);
    if (!point) return;
    // (the worker seen holding it: the job's processedBy may be the next taker's by the time it is read)
    const holder = holders.get(jobId);
    holders.delete(jobId); // (it holds the point no longer: the next taker is looked up as it is seen)
    const lost = `${pointName(point)}: its worker${holder ? ` ${holder}` : ''} stopped renewing the lock (killed, or cut off)`;
    // the last stall BullMQ allows fails the point (deferred to the next worker that takes it) rather than requeueing it
    void withTimeout(queue.getJob(jobId), CALL_TIMEOUT_MS).then(
      (job) =>
        log(
          job?.deferredFailure === STALLED_TOO_OFTEN || job?.failedReason === STALLED_TOO_OFTEN
            ? `${lost}: failed, ${failedJobError(STALLED_TOO_OFTEN, job.attemptsMade)}`
            : `${lost}: queued again for another worker`,
        ),
      () => log(lost), // Redis not answering: the next rescan says so, and collects what became of the point
    );
  });

  try {
    emit({ type: 'plan', spec, points, previous, staleKept: stale.size });
    // Add what is not queued, retry what failed before (unless following); count what is already there.
    for (const point of [...pending.values()]) {
      if (opts.signal?.aborted) break;
      const before = refusedAgain.get(point.key);
      if (before !== undefined) {
        // (failed before, its input refused by this code, as its workers refuse it: every run fails alike, so it is
        // not queued again but fails again at once, as a local sweep's rerun fails it; the closing lines say what to give)
        record(point, { error: before.refused, refusedBy: before.refusedBy });
        continue;
      }
      try {
        const state = await answered(queue.getJobState(point.key));
        if (state === 'unknown') {
          if (opts.follow) continue; // the first rescan counts it as not queued
          await add(point);
          summary.added++;
        } else if (state === 'failed' && !opts.follow) {
          // queued afresh, not retried: BullMQ's retry keeps the job's count of lost workers (its stalls), so one more
          // lost worker would fail it again, where the point is given its 3 runs again as a new point is
          const failed = await answered(queue.getJob(point.key));
          if (failed) await answered(failed.remove());
          await add(point);
          summary.added++;
        } else summary.alreadyQueued++;
        unqueued.delete(point.key);
      } catch (e) {
        // (told to stop while the look waited for Redis: stopped at once, as a rescan's look is, not a refusal of Redis 5 s later)
        if (e instanceof LookStopped) break;
        if (isUserError(e)) throw e; // a file of the point (pointFiles)
        throw new QueueError(`${address.display}: ${connectionProblem(e)} while queueing the points; nothing is lost: run the same command again`, {
          cause: e,
        });
      }
    }
    if (!opts.follow && !opts.signal?.aborted) {
      // the points an earlier run of this sweep queued that it no longer plans are no longer its own (first: so that an
      // earlier coordinator still collecting them, which finds them gone, does not queue them again), and those not run
      // yet are taken out of the queue (those a worker runs finish, and their results expire from Redis uncollected)
      const forget = (e: unknown): never => {
        if (e instanceof StoreWriteError) throw e.keeping(previous.size, QUEUE_KEEPS);
        throw e; // (the store removed or replaced meanwhile: one line too)
      };
      try {
        store.dropFromSweep(spec.name, points);
      } catch (e) {
        forget(e);
      }
      try {
        for (const key of store.droppedKeys(spec.name, points)) {
          const job = await answered(queue.getJob(key));
          if (!job || !WITHDRAWABLE.has(await answered(job.getState()))) continue;
          // (a worker may take it meanwhile: BullMQ then refuses to remove it, and it runs)
          if (
            await answered(
              job.remove().then(
                () => true,
                (e: unknown) => (isLockedJob(e) ? false : Promise.reject(e)),
              ),
            )
          )
            summary.withdrawn++;
        }
      } catch (e) {
        if (isUserError(e)) throw e; // (the store, removed meanwhile)
        // (told to stop while a look waited for Redis: stopped at once, those not taken out yet left for the next run)
        if (!(e instanceof LookStopped))
          throw new QueueError(`${address.display}: ${connectionProblem(e)} while queueing the points; nothing is lost: run the same command again`, {
            cause: e,
          });
      }
      try {
        // (once out of the queue: a run stopped before finds them again)
        if (!opts.signal?.aborted) store.dequeuedDropped(spec.name);
      } catch (e) {
        forget(e);
      }
      if (summary.withdrawn > 0)
        log(
          `took ${counted(summary.withdrawn, 'point')} out of the queue that an earlier run of sweep ${quotedText(spec.name)} queued and its plan no longer holds (no worker had started them)`,
        );
    }
    if (opts.follow && pending.size > 0 && summary.alreadyQueued === 0 && !opts.signal?.aborted) {
      throw new QueueError(noneQueuedLine(address.display, spec.name, pending.size));
    }
    // (nothing queued or found, stopped first: the closing lines say so)
    if (pending.size > 0 && !(opts.signal?.aborted && summary.added + summary.alreadyQueued === 0)) {
      log(
        opts.follow
          ? `following ${counted(summary.alreadyQueued, 'point')} queued at ${address.display}`
          : `queued ${counted(summary.added, 'point')} at ${address.display}${summary.alreadyQueued ? ` (and found ${summary.alreadyQueued} already there)` : ''}; start workers with: compress worker --queue ${address.display}`,
      );
    }
    while (pending.size > 0 && !opts.signal?.aborted && !fatal) {
      await rescan();
      if (pending.size === 0 || fatal) break;
      await new Promise<void>((res) => {
        wake = res;
        void pauseUnlessAborted(opts.rescanMs ?? DEFAULT_RESCAN_MS, opts.signal).then(res);
      });
    }
    if (fatal) throw fatal;
    if (summary.notQueued.length > 0)
      log(`${counted(summary.notQueued.length, 'point')} not in the queue (run without --follow to queue them): ${pointNames(summary.notQueued)}`);
  } finally {
    // (what the stop left unqueued is not 'still queued': a rescan would have queued it again, or found it not queued)
    summary.unqueued = [...pending.keys()].filter((k) => unqueued.has(k)).length;
    summary.left = pending.size - summary.unqueued;
    // (a connection that lost Redis and waits to reconnect, none of its tries failed yet: a Redis gone away a moment ago,
    // out of reach as any other, said so; closeQueue drops such a connection whatever it is told)
    const [queueReady, eventsReady] = await Promise.all([connectionReady(queue), connectionReady(events)]);
    if (connection.problem) summary.unreachable = connection.problem;
    else if (!queueReady || !eventsReady) summary.unreachable = CONNECTION_LOST;
    await Promise.all([closeQueue(events, summary.unreachable !== undefined), closeQueue(queue, summary.unreachable !== undefined || unanswered > 0)]);
    try {
      summary.sweeps = store.sweeps();
    } finally {
      store.close();
    }
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}
