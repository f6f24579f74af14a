/**
 * A sweep point as a BullMQ job: its id is the point key (so adding a point that is already queued adds nothing),
 * its data the point and the files it reads, its return value the point's result. Retries, backoff and how long
 * finished jobs stay in Redis are BullMQ job options, set here once for every coordinator.
 */
import type { JobsOptions } from 'bullmq';
import type { SweepPoint } from '../sweep/plan.ts';
import type { FileTree } from './files.ts';

/** What a queued point carries to a worker. */
export interface PointJob {
  point: SweepPoint;
  /** The coordinator's folders and the files of them the point reads (files.ts). */
  files: FileTree[];
}

/** Runs of a point before it is stored as failed. */
export const ATTEMPTS = 3;

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
