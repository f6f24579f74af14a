/**
 * The worker process of `compress sweep --jobs N` (started by pool.ts with `child_process.fork`): runs the points
 * it is sent, one at a time, and answers with the result; after each, the folders the point created in its own
 * folder and left empty are removed. It exits when its parent goes away, so a sweep killed with SIGKILL leaves no orphans working on (and
 * then losing) points; asked to stop (Ctrl-C in the parent), it stops the running point as `--jobs 1` does.
 */
import { fileSystemError, removeCreatedFolders } from '../destination.ts';
import { errorLine, MemoryRefusal, NonFiniteInputError } from '../errors.ts';
import { sendToParent } from '../processes.ts';
import { codeFingerprint } from '../version.ts';
import { PointInterrupted, runPoint } from './point.ts';
import { REPORT_CODE, type WorkerReply, type WorkerRequest } from './pool.ts';

// (a reply sent once the parent has quit, as on a second Ctrl-C, is dropped: this worker then ends on 'disconnect')
const send = (reply: WorkerReply): void => sendToParent(reply);

process.on('disconnect', () => process.exit(0));
// (the code as this process loaded it: files changed after, as by a `git pull`, are not what it runs)
if (process.argv.includes(REPORT_CODE)) send({ type: 'code', code: codeFingerprint() });
// The terminal's Ctrl-C reaches every process of the group (unless the pool started this worker in a group of its
// own, as `compress worker` does: its running points finish): the parent decides (it sends 'stop', and quits on a
// second Ctrl-C, which disconnects and so ends this worker). A signal sent to this worker alone stops its point too.
let running: AbortController | undefined;
const stopRunning = () => running?.abort();
process.on('SIGINT', stopRunning);
process.on('SIGTERM', stopRunning);
process.on('message', (req: WorkerRequest) => {
  if (req.type === 'stop') return stopRunning();
  const controller = new AbortController();
  running = controller;
  const key = req.point.key;
  runPoint(req.point, {
    threads: req.threads,
    log: (line) => send({ type: 'log', key, line }),
    signal: controller.signal,
    onStage: (stage) => send({ type: 'stage', key, stage }),
    ...(req.checkMemory ? { checkMemory: true } : {}),
  })
    .then((result) => send({ type: 'done', key, result }))
    .catch((e: unknown) =>
      send(
        e instanceof PointInterrupted
          ? { type: 'interrupted', key, message: e.message, ...(e.training ? { training: e.training } : {}) }
          : {
              type: 'failed',
              key,
              error: errorLine(fileSystemError(e) ?? e),
              ...(e instanceof NonFiniteInputError ? { inputRefused: true as const } : {}),
              ...(e instanceof MemoryRefusal ? { tooLarge: true as const } : {}),
            },
      ),
    )
    // the folders this point created in its own folder: empty ones (a point that failed before writing) go, and are
    // forgotten, so a long-running worker does not keep one entry per point. Those it created outside (its model's
    // work folder, the cache folder) stay: another worker's point may be about to make its folder there
    .finally(() => {
      if (running === controller) running = undefined;
      removeCreatedFolders(req.point.outputDir !== null ? [req.point.outputDir] : []);
    });
});
