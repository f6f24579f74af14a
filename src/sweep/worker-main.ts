/**
 * The worker process of `compress sweep --jobs N` (started by pool.ts with `child_process.fork`): runs the points
 * it is sent, one at a time, and answers with the result; after each, the folders the point created and left empty
 * are removed. It exits when its parent goes away, so a sweep killed
 * with SIGKILL leaves no orphans working on (and then losing) points.
 */
import { fileSystemError, removeCreatedFolders } from '../destination.ts';
import { errorLine } from '../errors.ts';
import { runPoint } from './point.ts';
import type { WorkerReply, WorkerRequest } from './pool.ts';

const send = (reply: WorkerReply): void => {
  process.send?.(reply);
};

process.on('disconnect', () => process.exit(0));
process.on('message', (req: WorkerRequest) => {
  runPoint(req.point, { threads: req.threads, log: (line) => send({ type: 'log', key: req.point.key, line }) })
    .then((result) => send({ type: 'done', key: req.point.key, result }))
    .catch((e: unknown) => send({ type: 'failed', key: req.point.key, error: errorLine(fileSystemError(e) ?? e) }))
    // the folders this point created: empty ones (a point that failed before writing) go, and the list starts
    // afresh, so a long-running worker does not keep one entry per point
    .finally(removeCreatedFolders);
});
