/**
 * `compress sweep SWEEP.yaml [--jobs N] [--store FILE]`: runs every point of a sweep file (models × pipelines:
 * compress, evaluate, bench) into a SQLite store, skipping points the store already has. Logic lives in src/sweep.
 *
 * With `--queue redis://HOST:PORT[/DB]` the points are queued for `compress worker`s on any number of machines
 * instead, and this process collects their results into the same store (`--follow`: only collect, for a sweep
 * already queued). Logic lives in src/queue.
 */
import { shellWord } from '../../shell-word.ts';
import { basename, extname, join } from 'node:path';
import type { Argv } from 'yargs';
import { counted, isAre, plural, shownFlagValue, them, UsageError } from '../../errors.ts';
import { integerFlags, numberFlags } from '../flag-values.ts';
import {
  createSweepProgress,
  planLine,
  planSweepFile,
  pointName,
  pointNames,
  RERUN_CONTENDED_JOBS,
  stoppedTrainingNote,
  type PointStage,
  type SweepEvent,
  type SweepSummary,
} from '../../sweep/index.ts';
// (runSweep naming the flags of compress sweep, not the library's options)
import { runSweep } from '../../sweep/run.ts';
import { abandonLeftovers, checkFolderFlags, commandLineCheck, listenForStop, out, err, type CliCommand } from '../command.ts';
import { checkOutputKinds } from '../../destination.ts';
import { ctrlC } from '../training.ts';
import type { QueuedSweepSummary } from '../../queue/index.ts';
import { FAILED_REFUSED_INPUT } from '../../report/table.ts';

interface SweepArgs {
  file: string;
  jobs: number;
  store?: string;
  'glue-dir'?: string;
  'work-dir'?: string;
  queue?: string;
  follow: boolean;
  'retry-delay'?: number;
  'rerun-stale': boolean;
  'rerun-contended': boolean;
  'dry-run': boolean;
}

/**
 * The line a sweep's first Ctrl-C (or SIGTERM, `how`) prints: what stops, by the stages its running points are in
 * (a training step after its optimizer step with a checkpoint, a benchmark at once, an evaluation between two
 * batches, passes at their end).
 */
export function stoppingLine(stages: Iterable<PointStage | null>, how: string): string {
  const running = new Set(stages);
  const parts = [
    ...(running.has('train') ? ['a training step after its step, writing a checkpoint'] : []),
    ...(running.has('bench') ? ['a benchmark at once'] : []),
    ...(running.has('compress') ? ['compressing at the end of its passes'] : []),
    ...(running.has('eval') ? ['an evaluation between two batches'] : []),
  ];
  return `stopping${parts.length > 0 ? ` the running points (${parts.join('; ')})` : ''}; ${how} again to quit at once`;
}

/** `runs/<sweep file name>.sqlite`. */
export function defaultStore(file: string): string {
  return join('runs', `${basename(file, extname(file))}.sqlite`);
}

export const sweepCommand: CliCommand<SweepArgs> = {
  command: 'sweep <file>',
  describe: 'Run a sweep file (models × pass pipelines: compress, evaluate on GLUE, bench) into a resumable SQLite store',
  builder: (y: Argv) =>
    numberFlags(integerFlags(y, { jobs: { min: 1 } }), { 'retry-delay': { min: 0, unit: 'seconds' } })
      .positional('file', { type: 'string', demandOption: true, describe: 'sweep file (YAML): models, pipelines, tasks, calibration, bench shapes' })
      .option('jobs', {
        alias: 'j',
        type: 'number',
        default: 1,
        describe:
          'points run at once, each in a worker process (they share the CPU: keep 1 for speed numbers you will quote; the report marks a speed-up timed while another worker was busy, which --jobs 1 --rerun-contended times again)',
      })
      .option('store', { type: 'string', describe: 'SQLite results store (default runs/<file name>.sqlite)' })
      .option('glue-dir', { type: 'string', describe: "GLUE data folder (default: the file's glueDir, $GLUE_DIR, ../shared/glue)" })
      .option('work-dir', { type: 'string', describe: 'folder for compressed models (default <store>-models)' })
      .option('queue', {
        type: 'string',
        describe:
          'redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (rediss:// for TLS): queue the points for `compress worker`s (BullMQ) and collect their results into the store',
      })
      .option('follow', { type: 'boolean', default: false, describe: 'with --queue: queue nothing, collect the results of a sweep already queued' })
      .option('retry-delay', {
        type: 'number',
        describe: 'with --queue: seconds before a failed point is retried (default 10; doubled each time; 3 runs in all)',
      })
      .option('rerun-stale', {
        type: 'boolean',
        default: false,
        describe: 'recompute stale points (stored by another version of bert-compress, of a pass or of a train / distill step), replacing their old results',
      })
      .option('rerun-contended', {
        type: 'boolean',
        default: false,
        describe:
          'recompute the points whose speed-up was timed while the machine was shared (marked † in the report), replacing their results; runs with --jobs 1 only: run nothing else meanwhile',
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'check and plan the sweep file, and list its points (models × pipelines, grids expanded), running none and creating nothing',
      }) as unknown as Argv<SweepArgs>,
  run: async (args) => {
    const store = args.store ?? defaultStore(args.file);
    // (a --store naming a folder or a device: the command line's mistake, as an -o naming one is)
    if (args.store !== undefined) commandLineCheck(() => checkOutputKinds([store], `--store ${store}`));
    checkFolderFlags({ '--work-dir': args['work-dir'] });
    // (before --dry-run: a dry run refuses what the run would)
    if (args.queue !== undefined && args['rerun-stale'])
      throw new UsageError('--rerun-stale: not available with --queue yet; recompute stale points with a local sweep');
    if (args.queue !== undefined && args['rerun-contended'])
      throw new UsageError('--rerun-contended: not available with --queue yet; time contended points again with a local sweep (--jobs 1)');
    if (args.queue === undefined && args.follow) throw new UsageError('--follow: follows a queued sweep; give --queue redis://HOST:PORT too');
    // (a local sweep runs a point once: the delay was taken and never used, as if failed points were retried)
    if (args.queue === undefined && args['retry-delay'] !== undefined)
      throw new UsageError(
        '--retry-delay: retries the failed points of a queued sweep; give --queue redis://HOST:PORT too (a local sweep runs each point once)',
      );
    if (args.queue === undefined && args['rerun-contended'] && args.jobs > 1) throw new UsageError(RERUN_CONTENDED_JOBS);
    // (a --follow run queues nothing, so its delay was taken and never used: a warning, not a refusal, so that the
    // queueing line with --follow added goes on collecting; the points retry as the run that queued them said)
    if (args.queue !== undefined && args.follow && args['retry-delay'] !== undefined)
      err(
        `warning: --retry-delay ${shownFlagValue('--retry-delay', args['retry-delay'])}: not used with --follow, which queues nothing; the queued points are retried after the delay of the run that queued them`,
      );
    // (a --queue that is no redis:// URL: the command line's mistake, as worker's and --base-url's are)
    if (args.queue !== undefined) {
      const { parseQueueUrl } = await import('../../queue/index.ts');
      commandLineCheck(() => parseQueueUrl(args.queue!));
    }
    if (args['dry-run']) return dryRun(args, store);
    if (args.queue !== undefined) return queuedSweep(args, store);
    const progress = createSweepProgress(process.stderr);
    const kept = `the points finished are kept in ${store}: rerun the same command to run the rest`;
    // Ctrl-C or SIGTERM: the first stops the sweep after the running points' training steps (in this process, or in
    // each worker with --jobs N), with checkpoints the rerun resumes from (a benchmark stops at once, waiting for the
    // timing lock or between timed runs; a point in its passes or eval at its next stage); the second quits at once
    // (workers exit with this process). Either way the terminal gets its cursor back and the user a line on what was
    // kept; exit 130 or 143. The first signal's line says what stops, by the running points' stages.
    const controller = new AbortController();
    const stages = new Map<string, PointStage | null>();
    const onEvent = (e: SweepEvent) => {
      if (e.type === 'stage') stages.set(e.point.key, e.stage);
      else if (e.type === 'finished' || e.type === 'failed') stages.delete(e.point.key);
      progress.listener(e);
    };
    const quit = () => {
      progress.stop();
      err(`compress: interrupted; ${kept}`);
    };
    const stop = ctrlC({
      abort: () => controller.abort(),
      log: note,
      quit: () => {
        quit();
        process.exit(signals.exitCode());
      },
      stopping: (how) => stoppingLine(stages.values(), how),
    });
    const signals = listenForStop(stop);
    let summary;
    try {
      summary = await runSweep({
        file: args.file,
        store,
        jobs: args.jobs,
        glueDir: args['glue-dir'],
        workDir: args['work-dir'],
        rerunStale: args['rerun-stale'],
        rerunContended: args['rerun-contended'],
        onEvent,
        planLog: note, // hf: models of the sweep file
        signal: controller.signal,
      });
    } finally {
      signals.remove();
      progress.stop();
    }
    if (summary.interrupted) {
      err(`compress: interrupted after ${counted(summary.ran, 'point')} run now; ${kept}${stoppedTrainingNote(summary.stoppedTraining ?? [])}`);
      return signals.exitCode();
    }
    out(localTotalLine(summary));
    // (a stale point recomputed with --rerun-stale that failed is the stale line's: a plain rerun keeps its stored
    // result rather than retry it, and one whose input the code running now refuses fails on every rerun)
    const stale = new Set(summary.stale.map((s) => s.point.key));
    for (const line of failedLines(
      summary.failed.filter((f) => !stale.has(f.point.key)),
      'rerun to retry',
    ))
      err(line);
    if (summary.stale.length > 0) {
      const { line, standing } = staleLine(summary.stale, args['rerun-stale'], summary.failed);
      (standing ? err : out)(line);
    }
    const contended = contendedLine(summary.contended);
    if (contended) {
      const { kept, again, first } = summary.contended;
      (kept.length + again.length + first.length > 0 ? err : out)(contended);
    }
    if (summary.int8Saturated?.length) err(int8SaturatedLine(summary.int8Saturated));
    out(`store: ${summary.store} (next: ${reportCommand(store, summary)})`);
    return summary.failed.length > 0 ? 1 : 0;
  },
};

/**
 * `--dry-run`: the sweep file checked and planned as the run would plan it (hf: models downloaded), its points listed,
 * one a line (baselines first), after the count; no point runs, and no store or folder is created. An existing store
 * is read: each point under the key the run would give it (one the store holds under its seeds as written by earlier
 * code keeps that key), those it holds marked as the run would take them (reused, stale and kept or recomputed, a stale
 * one whose input the code running now refuses with the refusal, contended and timed again, failed before and failed
 * again unrun where its input is refused: failedAgain), and the count says how many it holds, as the run's first line
 * does.
 */
async function dryRun(args: SweepArgs, store: string): Promise<number> {
  const { spec, points, stored } = await planSweepFile({
    file: args.file,
    store,
    glueDir: args['glue-dir'],
    workDir: args['work-dir'],
    rerunStale: args['rerun-stale'],
    rerunContended: args['rerun-contended'],
    planLog: note,
    queued: args.queue !== undefined,
  });
  const { previous, stale, contended, refusedAgain } = stored;
  const staleKept = args['rerun-stale'] ? 0 : stale.size;
  const again = args['rerun-contended'] ? contended.size : 0;
  const held =
    previous.size > 0 || stale.size > 0 || again > 0
      ? `, ${previous.size - staleKept} already in the store${staleKept ? `, ${staleKept} stale (kept)` : ''}${stale.size && !staleKept ? `, ${stale.size} stale (to recompute)` : ''}${again ? `, ${again} more stored timed contended, to time again` : ''}`
      : '';
  out(`${planLine(spec, points.length)}${held}; dry run: none run, nothing written`);
  for (const p of points) {
    const s = stale.get(p.key);
    // (one whose input the code running now refuses: no rerun recomputes it, as the run's stale line says)
    const refused =
      s?.refused !== undefined ? `: no rerun recomputes it, --rerun-stale neither: the bert-compress running now refuses its input (${s.refused})` : '';
    const mark = s
      ? ` (stale: ${s.change}; ${args['rerun-stale'] ? (refused ? 'to recompute, which fails' : 'to recompute') : 'kept'}${refused})`
      : args['rerun-contended'] && contended.has(p.key)
        ? ' (in the store, timed contended: to time again)'
        : previous.has(p.key)
          ? ' (in the store)'
          : refusedAgain.has(p.key)
            ? ` (failed before: fails again, not run: the bert-compress running now refuses its input (${refusedAgain.get(p.key)!.refused}))`
            : '';
    out(`${p.key.slice(0, 12)} ${pointName(p)}${mark}`);
  }
  return 0;
}

/**
 * The failed points' closing lines: those a rerun retries (`retry`: how, 'rerun to retry', followed by it or them), and
 * apart those whose input the code running now refuses (`refused`: a tokenizer folder), at which every rerun fails until
 * it is given as the refusal asks.
 */
function failedLines(failed: SweepSummary['failed'], retry: string): string[] {
  const refused = failed.filter((f) => f.refused !== undefined);
  const retried = failed.filter((f) => f.refused === undefined);
  const names = (points: SweepSummary['failed']) => pointNames(points.map((f) => f.point));
  return [
    ...(retried.length > 0 ? [`failed (errors above; ${retry} ${them(retried.length)}): ${names(retried)}`] : []),
    ...(refused.length > 0 ? [`failed (errors above; ${FAILED_REFUSED_INPUT}): ${names(refused)}`] : []),
  ];
}

/** The stale points whose input the code running now refuses (StaleMatch.refused): no rerun recomputes them, --rerun-stale fails at them. */
const refusedNow = (stale: SweepSummary['stale']) => stale.filter((s) => s.refused !== undefined);

/** Stale points of `refused` (refusedNow's) named with their refusal: what no rerun recomputes, and why. */
function noRerunRecomputes(refused: SweepSummary['stale']): string {
  const why = [...new Set(refused.map((s) => s.refused))].join('; ');
  return `no rerun recomputes ${pointNames(refused.map((s) => s.point))}, --rerun-stale neither: the bert-compress running now refuses ${refused.length > 1 ? 'their' : 'its'} input (${why})`;
}

/**
 * The stale points in one line: kept (the default), or recomputed with --rerun-stale, where those whose recompute
 * failed (of `failed`) are named apart: their stored results stand, still stale, and only --rerun-stale retries them
 * (a plain rerun keeps them; the sweep command's failed line leaves them to this one). Those whose input the code
 * running now refuses (refusedNow) are named apart too, kept or failed, with the refusal: --rerun-stale fails at them,
 * and no rerun helps. `standing`: some stale point's stored
 * result stands (kept, or its recompute failed), a line for stderr.
 */
export function staleLine(stale: SweepSummary['stale'], rerun: boolean, failed: SweepSummary['failed'] = []): { line: string; standing: boolean } {
  const changes = [...new Set(stale.map((s) => s.change))].join('; ');
  const n = counted(stale.length, 'point');
  if (!rerun) {
    const kept = `${n} stale: stored by other code (${changes}) and kept, not recomputed: ${pointNames(stale.map((s) => s.point))}`;
    const refused = refusedNow(stale);
    if (refused.length === 0) return { line: `${kept}; rerun with --rerun-stale to recompute ${them(stale.length)}`, standing: true };
    const others = refused.length < stale.length ? `; rerun with --rerun-stale to recompute the ${plural(stale.length - refused.length, 'other')}` : '';
    return { line: `${kept}; ${noRerunRecomputes(refused)}${others}`, standing: true };
  }
  const failedKeys = new Set(failed.map((f) => f.point.key));
  const done = stale.filter((s) => !failedKeys.has(s.point.key)).map((s) => s.point);
  const notDone = stale.filter((s) => failedKeys.has(s.point.key));
  const refused = refusedNow(notDone);
  // (only --rerun-stale retries the others: a plain rerun keeps their stored results)
  const retry = notDone.filter((s) => s.refused === undefined).map((s) => s.point);
  const allRetried = retry.length === notDone.length ? `; rerun with --rerun-stale to retry ${them(notDone.length)}` : '';
  const stand = notDone.length === 1 ? 'its stored result stands' : 'their stored results stand';
  const parts = [
    ...(done.length > 0 ? [`recomputed: ${pointNames(done)}`] : []),
    ...(notDone.length > 0 ? [`failed (errors above; ${stand}, still stale${allRetried}): ${pointNames(notDone.map((s) => s.point))}`] : []),
    ...(refused.length > 0 ? [noRerunRecomputes(refused)] : []),
    ...(retry.length > 0 && allRetried === '' ? [`rerun with --rerun-stale to retry ${pointNames(retry)}`] : []),
  ];
  return { line: `${n} stale (${changes}), ${parts.join('; ')}`, standing: notDone.length > 0 };
}

/**
 * The points timed contended (their speed-up measured while the machine was shared, marked † in the report) in one
 * line: those this run finished for the first time (`first`, whose lines above mark them †), those stored so and
 * recomputed with --rerun-contended (and which were timed contended again, whose lines above mark them † too), and
 * kept (the default, or where the recompute failed: stored, so no line of this run shows them); undefined when there
 * were none. A queued sweep's (`queued`) says to rerun it locally: --queue refuses --rerun-contended.
 */
export function contendedLine(contended: SweepSummary['contended'], queued = false): string | undefined {
  const { kept, recomputed, again, first } = contended;
  const parts: string[] = [];
  if (first.length > 0)
    parts.push(
      `${counted(first.length, 'point')} run now timed contended (the machine was shared while benchmarking; † above and in the report): ${pointNames(first)}`,
    );
  if (recomputed.length > 0) parts.push(`${counted(recomputed.length, 'point')} timed contended, recomputed: ${pointNames(recomputed)}`);
  if (again.length > 0)
    parts.push(`${again.length} of them timed contended again (other work ran on this machine meanwhile; † above and in the report): ${pointNames(again)}`);
  if (kept.length > 0) {
    parts.push(
      `${counted(kept.length, 'point')} timed contended (the machine was shared while benchmarking, † in the report) and kept, not recomputed: ${pointNames(kept)}`,
    );
  }
  if (parts.length === 0) return undefined;
  const rerun = `rerun${queued ? ' as a local sweep (without --queue)' : ''} with --jobs 1 --rerun-contended, nothing else running`;
  if (kept.length > 0 || first.length > 0) parts.push(`${rerun}, to time ${them(kept.length + first.length)} alone`);
  else if (again.length > 0) parts.push(rerun);
  return parts.join('; ');
}

/** A local sweep's closing line: where each of its points went. */
export function localTotalLine(summary: Pick<SweepSummary, 'total' | 'alreadyDone' | 'ran' | 'byOthers' | 'contended' | 'failed' | 'seconds'>): string {
  const others = summary.byOthers > 0 ? `, ${summary.byOthers} finished by another sweep` : '';
  const timedAgain = summary.contended.recomputed.length > 0 ? ` (${summary.contended.recomputed.length} of them stored timed contended, timed again)` : '';
  return `${counted(summary.total, 'point')}: ${summary.alreadyDone} already in the store, ${summary.ran} run now${timedAgain}${others}, ${summary.failed.length} failed (${summary.seconds.toFixed(1)} s)`;
}

/**
 * What a queued sweep that stopped collecting says of its points still queued (`again` collects them) and those it did
 * not queue; stopped while Redis was out of reach (`unreachable`), that its points were queued there, which it cannot
 * know still holds (a Redis restarted without its data lost them), and `rerun`, the command that collects them or
 * queues them again, whichever Redis then holds, or for a `follow` run `again`, which goes on following them and says
 * those it then finds not queued; stopped before it queued some (`unqueued`), `rerun` queues them, or for a `follow`
 * run, which queues nothing, `again` goes on following them. (A --follow run is not told `rerun`, the command without
 * --follow: it queues afresh the points that had failed, where the user only meant to collect.)
 */
export function queuedLeftLines(
  summary: Pick<QueuedSweepSummary, 'left' | 'notQueued' | 'unreachable'> & Partial<Pick<QueuedSweepSummary, 'unqueued'>>,
  again: string,
  rerun = again,
  follow = false,
): string[] {
  const lines: string[] = [];
  if (summary.left > 0 && summary.unreachable !== undefined)
    lines.push(
      `stopped with Redis out of reach (${summary.unreachable}): ${counted(summary.left, 'point')} queued there ${isAre(summary.left)} not collected (still queued unless Redis restarts without its data); once it answers, go on with: ${follow ? again : rerun}`,
    );
  else if (summary.left > 0)
    lines.push(
      `stopped: ${counted(summary.left, 'point')} ${isAre(summary.left)} still queued and the workers go on; collect ${them(summary.left)} with: ${again}`,
    );
  const unqueued = summary.unqueued ?? 0;
  // (a --follow run queues nothing: stopped before it found them queued, it says so and the command that goes on
  // following, which also says those it then finds not queued; 'queue them', the command without --follow, retried
  // what had failed, where the user only meant to collect)
  if (unqueued > 0)
    lines.push(
      follow
        ? `stopped before finding ${counted(unqueued, 'point')} in the queue; follow ${them(unqueued)} with: ${again}`
        : `stopped before queueing ${counted(unqueued, 'point')}; queue ${them(unqueued)} with: ${rerun}`,
    );
  const n = summary.notQueued.length;
  if (n > 0) lines.push(`${counted(n, 'point')} ${plural(n, 'was', 'were')} not queued: run without --follow to queue ${them(n)}`);
  return lines;
}

/**
 * The closing line on the points run now whose int8 products were added in saturating 16-bit pairs (SweepSummary
 * int8Saturated): their scores are this kind of CPU's, and the setting that scores them as VNNI CPUs do.
 */
export function int8SaturatedLine(points: NonNullable<SweepSummary['int8Saturated']>): string {
  return (
    `warning: ${counted(points.length, 'point')} (${pointNames(points)}) ${plural(points.length, 'was', 'were')} scored on a CPU without AVX-512 VNNI / AVX-VNNI, ` +
    "whose int8 kernels add products in saturating 16-bit pairs: their scores can differ from a VNNI CPU's; eval: {exactInt8: true} in the sweep file scores int8 points as VNNI CPUs do, on any CPU (slower; those points get new keys)"
  );
}

/** A queued sweep's closing line: where each of its points went. */
export function queuedTotalLine(summary: Pick<QueuedSweepSummary, 'total' | 'alreadyDone' | 'ran' | 'byOthers' | 'letGo' | 'failed' | 'seconds'>): string {
  const others = summary.byOthers > 0 ? `, ${summary.byOthers} stored by another coordinator` : '';
  const letGo = summary.letGo > 0 ? `, ${summary.letGo} let go (taken out by a later run of the edited sweep)` : '';
  return `${counted(summary.total, 'point')}: ${summary.alreadyDone} already in the store, ${summary.ran} collected from the queue now${others}${letGo}, ${summary.failed.length} failed (${summary.seconds.toFixed(1)} s)`;
}

/**
 * The command that collects a queued sweep's points still queued: `compress sweep FILE --queue URL --store STORE
 * --follow`, each word as a shell takes it (shellWord, as reportCommand writes its own: 'my sweep.yaml'); without
 * `follow`, the one that also queues again those the queue no longer holds.
 */
export function followCommand(file: string, queue: string, store: string, follow = true): string {
  return `compress sweep ${shellWord(file)} --queue ${shellWord(queue)} --store ${shellWord(store)}${follow ? ' --follow' : ''}`;
}

/**
 * The report command to run next: `compress report STORE`, with `--sweep NAME` when the store holds other sweeps
 * too (so that the report shows this sweep's points only).
 */
export function reportCommand(store: string, summary: Pick<SweepSummary, 'sweep' | 'sweeps'>): string {
  const others = summary.sweeps.some((s) => s !== summary.sweep);
  return `compress report ${shellWord(store)}${others ? ` --sweep ${shellWord(summary.sweep)}` : ''}`;
}

/** Writes a line above the progress bar (which redraws itself below it) on a TTY, else as a line of the log. */
function note(line: string): void {
  process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`);
}

/** `--queue`: the coordinator of a distributed sweep (src/queue). */
async function queuedSweep(args: SweepArgs, store: string): Promise<number> {
  // (quoted as typed: '--jobs 2e0', '-j2.0')
  if (args.jobs !== 1)
    throw new UsageError(
      `-j/--jobs ${shownFlagValue('-j/--jobs', args.jobs)}: points of a queued sweep run on workers; give each 'compress worker' --concurrency instead`,
    );
  const { runQueuedSweep, parseQueueUrl, StoppedConnecting } = await import('../../queue/index.ts');
  const queue = parseQueueUrl(args.queue!).display;
  const progress = createSweepProgress(process.stderr);
  const onEvent = (e: SweepEvent) => (e.type === 'log' ? note(e.line) : progress.listener(e));
  // Ctrl-C or SIGTERM: the first stops collecting (the queued points stay queued; the workers go on), the second
  // quits at once; exit 130 or 143
  const controller = new AbortController();
  const signals = listenForStop(() => {
    if (controller.signal.aborted) process.exit(signals.exitCode());
    controller.abort();
  });
  let summary;
  abandonLeftovers(); // (BullMQ's and ioredis's timers once its work is done: the process ends with its last line)
  try {
    summary = await runQueuedSweep({
      file: args.file,
      store,
      queue: args.queue!,
      follow: args.follow,
      ...(args['retry-delay'] === undefined ? {} : { retryDelayMs: args['retry-delay'] * 1000 }),
      glueDir: args['glue-dir'],
      workDir: args['work-dir'],
      onEvent,
      planLog: note, // (the plan's warnings, as a local sweep's; hf: models of the sweep file)
      signal: controller.signal,
    });
  } catch (e) {
    // (stopped before Redis answered: nothing planned against the store or queued, a stop as any other)
    if (!(e instanceof StoppedConnecting)) throw e;
    err(`compress: ${e.message}; nothing planned or queued`);
    return signals.exitCode();
  } finally {
    progress.stop();
    signals.remove();
  }
  out(queuedTotalLine(summary));
  for (const line of failedLines(summary.failed, 'rerun without --follow to retry')) err(line);
  const again = followCommand(args.file, queue, store);
  for (const line of queuedLeftLines(summary, again, followCommand(args.file, queue, store, false), args.follow)) err(line);
  if (summary.stale.length > 0) err(staleLine(summary.stale, false).line);
  const contended = contendedLine(summary.contended, true);
  if (contended) err(contended);
  if (summary.int8Saturated?.length) err(int8SaturatedLine(summary.int8Saturated));
  out(`store: ${summary.store} (next: ${reportCommand(store, summary)})`);
  if (summary.left > 0 || summary.unqueued > 0) return signals.exitCode();
  return summary.failed.length > 0 || summary.notQueued.length > 0 ? 1 : 0;
}
