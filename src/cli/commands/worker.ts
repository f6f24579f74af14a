/**
 * `compress worker --queue redis://HOST:PORT[/DB] [--concurrency N]`: runs the points that `compress sweep --queue`
 * queued, on this machine, until stopped (Ctrl-C or SIGTERM: the running points finish first). Start one on each
 * machine; a point's models and GLUE files are read at the coordinator's paths (a shared filesystem), or where
 * `--path-map` says (another mount point, or an http(s) URL fetched into the cache and checked by sha256).
 * Logic lives in src/queue.
 */
import type { Argv } from 'yargs';
import { counted, type NumberRange } from '../../errors.ts';
import { integerFlags, numberFlags } from '../flag-values.ts';
import type { WorkerSummary } from '../../queue/index.ts';
import { POOL_THREADS_RANGE } from '../../runtime/threads.ts';
import { pointLine, pointName, type SweepPoint } from '../../sweep/index.ts';
import { MAX_TIMER_MS } from '../../timers.ts';
import { abandonLeftovers, checkFolderFlags, commandLineCheck, err, listenForStop, type CliCommand } from '../command.ts';

/**
 * The log lines shown without --verbose: connection problems, fetches, what becomes of a point whose lock expired or
 * whose result the queue refused (jobErrorLine's 'point KEY: …'), the worker's copy of the code changed under it
 * (CODE_CHANGED_LINE), and where a point goes on from an earlier run of it (a point re-delivered after a worker died
 * reuses the stages that run finished, or resumes its training; a stage whose files changed since runs again, and the
 * line says why).
 */
const SHOWN_LOG =
  /^(queue |fetching |this worker's copy |point [0-9a-f]{12}: |(not )?reusing the output of stage|resuming from step|interrupted at step|waiting for the timing lock)/;

/**
 * A log line as the worker shows it: a point's own (several run at once) after the point's key and name, as `start`
 * names it; undefined for one shown only with `verbose` (SHOWN_LOG).
 */
export function workerLogLine(e: { line: string; point?: SweepPoint }, verbose = false): string | undefined {
  if (!verbose && !SHOWN_LOG.test(e.line)) return undefined;
  return e.point ? `${e.point.key.slice(0, 12)} ${pointName(e.point)}: ${e.line}` : e.line;
}

/**
 * The worker's closing line: the points it finished here (their results taken by the queue) and its failed runs (a
 * point retried elsewhere counts one per run), each counted in the singular when one.
 */
export function workerStoppedLine(name: string, summary: WorkerSummary): string {
  return `worker ${name}: stopped after ${counted(summary.ran, 'point')} done here and ${counted(summary.failed, 'failed run')}`;
}

/** The worker's first line: its queue, how many points it runs at once and their threads, each counted (counted). */
export function workerReadyLine(name: string, e: { queue: string; concurrency: number; threads: number }): string {
  return `worker ${name} on ${e.queue}: ${counted(e.concurrency, 'point')} at once, ${counted(e.threads, 'thread')} each; Ctrl-C to stop`;
}

/**
 * The seconds --lock-seconds takes: 1 at least, and at most the longest delay of a Node timer (2^31 − 1 ms) in whole
 * seconds (BullMQ waits a lock's length between its checks for lost workers: a Node timer, which fires after 1 ms
 * when given more).
 */
const LOCK_SECONDS_RANGE: NumberRange = { min: 1, max: Math.floor(MAX_TIMER_MS / 1000), unit: 'seconds', note: '(about 24 days at most)' };

interface WorkerArgs {
  queue: string;
  concurrency: number;
  threads?: number;
  'cache-dir'?: string;
  'work-dir'?: string;
  'path-map'?: string[];
  'lock-seconds': number;
}

export const workerCommand: CliCommand<WorkerArgs> = {
  command: 'worker',
  describe: 'Run the points of sweeps queued with `compress sweep --queue` (BullMQ on Redis), until stopped',
  builder: (y: Argv) =>
    // (at most MAX_THREADS, as eval, bench and training refuse more, which would fail every point this worker takes;
    // 0 as a sweep file's bench.threads: the default)
    numberFlags(integerFlags(y, { concurrency: { min: 1 }, threads: POOL_THREADS_RANGE }), { 'lock-seconds': LOCK_SECONDS_RANGE })
      .option('queue', {
        type: 'string',
        demandOption: true,
        describe: 'redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (rediss:// for TLS): the queue the coordinator used',
      })
      .option('concurrency', {
        alias: 'c',
        type: 'number',
        default: 1,
        describe: 'points run at once, each in its own process (about one per core for single-threaded points)',
      })
      .option('threads', {
        type: 'number',
        describe: 'onnxruntime threads per point when the sweep file sets none (default and 0: physical cores / concurrency)',
      })
      .option('cache-dir', {
        type: 'string',
        describe:
          'fetched models and data, training caches (default $BERT_COMPRESS_CACHE/worker, else $XDG_CACHE_HOME/bert-compress/worker, else ~/.cache/bert-compress/worker)',
      })
      .option('work-dir', { type: 'string', describe: 'compressed models of the points run here (default <cache-dir>/models)' })
      .option('path-map', { type: 'string', array: true, describe: 'FROM=TO: find the coordinator folder FROM at the folder or http(s) URL TO (repeatable)' })
      .option('lock-seconds', {
        type: 'number',
        default: 30,
        describe: "a job's lock; a dead worker's point is rerun elsewhere once it expires, within 1¼ times this after it died",
      }) as unknown as Argv<WorkerArgs>,
  run: async (args) => {
    const { runQueueWorker, parsePathMapping, parseQueueUrl, workerName } = await import('../../queue/index.ts');
    commandLineCheck(() => parseQueueUrl(args.queue)); // (a --queue that is no redis:// URL: a usage mistake, exit 2)
    const pathMap = commandLineCheck(() => (args['path-map'] ?? []).map(parsePathMapping));
    checkFolderFlags({ '--cache-dir': args['cache-dir'], '--work-dir': args['work-dir'] });
    // Ctrl-C or SIGTERM: the first stops taking points and waits for the running ones, the second quits at once; exit
    // 130 or 143 (as every command stopped by a signal)
    const controller = new AbortController();
    const signals = listenForStop(() => {
      if (controller.signal.aborted) {
        err('worker: quit; its running points go back to the queue when their locks expire');
        process.exit(signals.exitCode()); // told twice to stop: its running points go back to the queue
      }
      err('worker: stopping after the running points (Ctrl-C again to quit at once)');
      controller.abort();
    });
    let summary;
    // (as the coordinator's lines and a failed point's error name this worker)
    const name = workerName();
    abandonLeftovers(); // (BullMQ's and ioredis's timers once its work is done: the process ends with its last line)
    try {
      summary = await runQueueWorker({
        queue: args.queue,
        concurrency: args.concurrency,
        threads: args.threads,
        cacheDir: args['cache-dir'],
        workDir: args['work-dir'],
        pathMap,
        lockMs: args['lock-seconds'] * 1000,
        signal: controller.signal,
        name,
        onEvent: (e) => {
          switch (e.type) {
            case 'ready':
              return err(workerReadyLine(name, e));
            case 'start':
              return err(`start ${e.point.key.slice(0, 12)} ${pointName(e.point)}${e.attempt > 1 ? ` (run ${e.attempt})` : ''}`);
            case 'finished':
              return err(`done  ${e.point.key.slice(0, 12)} ${pointLine(e.point, e.result, undefined)}`);
            case 'failed':
              return err(`FAILED ${e.point.key.slice(0, 12)} ${pointName(e.point)} (run ${e.attempt}): ${e.error}`);
            case 'given-back':
              return err(
                `back  ${e.point.key.slice(0, 12)} ${pointName(e.point)}: ${e.error}; given back to the queue for another worker (in ${e.delayMs / 1000} s), its run not counted`,
              );
            case 'log': {
              const line = workerLogLine(e, args.verbose);
              return line === undefined ? undefined : err(line);
            }
          }
        },
      });
    } finally {
      signals.remove();
    }
    err(workerStoppedLine(name, summary));
    return controller.signal.aborted ? signals.exitCode() : 0;
  },
};
