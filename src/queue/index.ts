/** Public API of distributed sweeps: the coordinator that queues a sweep's points on Redis (BullMQ) and stores their results, and the worker that runs them. */
export { runQueuedSweep, type QueuedSweepOptions, type QueuedSweepSummary } from './coordinator.ts';
export { runQueueWorker, workerName, defaultWorkerCacheDir, DEFAULT_LOCK_MS, type QueueWorkerOptions, type WorkerEvent, type WorkerSummary } from './worker.ts';
export { parseQueueUrl, checkRedisDriver, QUEUE_NAME, StoppedConnecting, type QueueAddress } from './connection.ts';
export { pointFiles, localizePoint, parsePathMapping, type FileTree, type ManifestFile, type PathMapping, type WorkerFiles } from './files.ts';
export { jobOptions, ATTEMPTS, DEFAULT_RETRY_DELAY_MS, KEEP_FINISHED_S, type PointJob } from './job.ts';
