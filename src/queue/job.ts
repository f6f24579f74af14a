/**
 * A sweep point as a BullMQ job: its id is the point key (so adding a point that is already queued adds nothing),
 * its data the point and the files it reads, its return value the point's result. Retries, backoff and how long
 * finished jobs stay in Redis are BullMQ job options, set here once for every coordinator.
 */
import type { JobsOptions } from 'bullmq';
import { UserError, quotedText } from '../errors.ts';
import type { SweepPoint } from '../sweep/plan.ts';
import type { FileTree } from './files.ts';

/** What a queued point carries to a worker. */
export interface PointJob {
  point: SweepPoint;
  /** The coordinator's folders and the files of them the point reads (files.ts). */
  files: FileTree[];
  /**
   * The coordinator's code (codeFingerprint), which a worker's failure compares with its own (worker.ts); absent
   * where an older coordinator queued the point.
   */
  code?: string;
  /** Times workers gave the point back, not counting runs (worker.ts); absent for none. */
  giveBacks?: number;
  /**
   * The workers (by name) that gave the point back asking more memory than their machines have (MemoryRefusal), the
   * reason of the one with the most memory, and the times one of them took it again and left it in the queue unrun
   * (worker.ts); absent for none.
   */
  tooLarge?: TooLarge;
  /**
   * Set by the worker whose run failed at a refusal of the point's input files (a model holding or computing NaN:
   * PointFailure.inputRefused) by the coordinator's code on the coordinator's files: every run fails alike, so the
   * coordinator stores the failure as that refusal (SweepStore.fail's `refusedBy`) and its rerun fails it again unrun.
   */
  inputRefused?: true;
}

/** A point's memory give-backs (PointJob.tooLarge). */
export interface TooLarge {
  workers: string[];
  /** The refusal of the machine with the most memory among the workers' (the last of those with as much). */
  error: string;
  /** That machine's memory in bytes (os.totalmem, which the refusal compared with); absent where an older worker wrote `error`. */
  memory?: number;
  retakes: number;
}

/**
 * A point's memory give-backs (`before`) once worker `worker`, on a machine of `memory` bytes, gave it back for `error`:
 * the worker added, and the reason kept that of the machine with the most memory, the one a failure names (the others
 * refused it for less), where a smaller worker's later refusal replaced it.
 */
export function addMemoryRefusal(before: TooLarge | undefined, worker: string, error: string, memory: number): TooLarge {
  const workers = [...new Set([...(before?.workers ?? []), worker])];
  const retakes = before?.retakes ?? 0;
  return before?.memory !== undefined && before.memory > memory
    ? { workers, error: before.error, memory: before.memory, retakes }
    : { workers, error, memory, retakes };
}

/** What a failure calls the refusal it names (TooLarge.error) of `workers` workers that gave a point back for memory. */
export function memoryRefusalLabel(workers: number): string {
  return workers > 1 ? 'the one with the most memory' : 'the last';
}

/**
 * Whose failure a give-back is (worker.ts): 'worker', this worker's own (its code older than the point's), which counts
 * towards its stopping and not towards the point's GIVE_BACKS_PER_POINT; 'point', the point's (queued by older code
 * than this worker's: an older coordinator's, during an upgrade; or asking more memory than this worker's machine has,
 * which a larger one may hold), the other way round; 'either', both (its files not
 * found here: not here only, or gone for every worker).
 */
export type GiveBackFault = 'worker' | 'point' | 'either';

/**
 * Why this worker cannot run a point that another worker may run (queued by other code, its files not found here or
 * not fetched; a point too large for its memory is given back so too: worker.ts), so the point is given back to the queue without counting a run (worker.ts); `fault` says whose it is.
 */
export class NotForThisWorker extends UserError {
  override name = 'NotForThisWorker';
  constructor(
    message: string,
    readonly fault: GiveBackFault = 'either',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * What a worker writes as a job's progress once it has given the point back (worker.ts): its name and why. BullMQ's
 * queue events carry it to the coordinator, which says it (a worker of older code writes none: nothing is said).
 */
export interface GivenBack {
  givenBack: { worker: string; error: string };
}

/** The give-back a job's progress (`data`) says, if it says one. */
export function givenBackOf(data: unknown): GivenBack['givenBack'] | undefined {
  const back = data !== null && typeof data === 'object' ? (data as Partial<GivenBack>).givenBack : undefined;
  return back !== null && typeof back === 'object' && typeof back.worker === 'string' && typeof back.error === 'string' ? back : undefined;
}

/**
 * Give-backs of a point after which it fails as a failed run with the last reason (worker.ts), so that a point no
 * worker can run (its file deleted after queueing, or not served at a --path-map URL) is not given back for ever while
 * every worker stops: more than one worker's GIVE_BACKS_TO_STOP, so one broken worker alone seldom fails it.
 */
export const GIVE_BACKS_PER_POINT = 5;

/** Runs of a point before it is stored as failed. */
export const ATTEMPTS = 3;

/**
 * BullMQ's failedReason of a job whose worker was lost (its lock no longer renewed: killed, out of memory, cut off from
 * Redis) in more runs than the workers' `maxStalledCount` allows (worker.ts: all of its runs).
 */
export const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

/**
 * The error a failed job's point is stored and reported with: its own (the point's error, as the worker threw it), or
 * where BullMQ failed it for its lost workers, what happened in this tool's words and what to do.
 */
export function failedJobError(failedReason: string | undefined, attemptsMade: number): string {
  if (failedReason === STALLED_TOO_OFTEN) {
    return `its worker was lost while running it ${ATTEMPTS} times (killed, out of memory, or cut off from Redis; BullMQ: ${quotedText(STALLED_TOO_OFTEN)}): a rerun of the coordinator (the same command, without --follow) queues it again`;
  }
  return failedReason || `failed after ${attemptsMade} runs`;
}

/** The first retry's delay; each next one doubles it (BullMQ's exponential backoff). */
export const DEFAULT_RETRY_DELAY_MS = 10_000;

/**
 * How long finished jobs (result or final error) stay in Redis for a coordinator to collect: one that was away for
 * less finds them there; after that a point not yet in the store is simply queued and run again.
 */
export const KEEP_FINISHED_S = 7 * 24 * 3600;

/** The BullMQ options of a point's job. */
export function jobOptions(key: string, retryDelayMs = DEFAULT_RETRY_DELAY_MS): JobsOptions {
  return {
    jobId: key,
    attempts: ATTEMPTS,
    backoff: { type: 'exponential', delay: retryDelayMs },
    removeOnComplete: { age: KEEP_FINISHED_S },
    removeOnFail: { age: KEEP_FINISHED_S },
  };
}
