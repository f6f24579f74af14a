/**
 * Showing a sweep's progress: on a terminal, a bar with points done, ETA and the current best variant; otherwise
 * (logs, pipes, CI) one line per finished point. The best variant is the one keeping the highest share of its
 * model's baseline GLUE score (ties: the smaller one).
 */
import cliProgress from 'cli-progress';
import type { SweepPoint } from './plan.ts';
import type { PointResult } from './point.ts';
import type { SweepEvent } from './run.ts';
import { shareOfBaseline } from '../eval/glue-score.ts';
import { counted, plural } from '../errors.ts';
import { someNames } from '../some-names.ts';
import { formatMB, percent, times100 } from '../units.ts';
import { SHARED_MARK, timedContended } from './contention.ts';
import type { TrainingStop } from '../train/run.ts';

export interface SweepProgress {
  readonly listener: (event: SweepEvent) => void;
  stop(): void;
}

/**
 * The baseline a variant is compared with: its model's, evaluated at the same max length (a train or distill step's
 * student keeps its maxLength, at which a sweep file without eval.maxLength evaluates it), as the report compares.
 */
const sameLength = (base: PointResult | undefined, r: PointResult): PointResult | undefined =>
  base && base.eval?.maxLength === r.eval?.maxLength ? base : undefined;

/** Tracks each model's baseline and the best variant so far. */
export class BestTracker {
  private baselines = new Map<string, PointResult>();
  private best: { point: SweepPoint; kept: number; bytes: number } | undefined;

  /** Adds a finished point; baselines must be added before their variants to count them. */
  add(point: SweepPoint, result: PointResult): void {
    if (point.steps.length === 0) {
      this.baselines.set(point.model.name, result);
      return;
    }
    const kept = shareOfBaseline(result.glue, sameLength(this.baselines.get(point.model.name), result)?.glue);
    if (kept === null) return;
    if (!this.best || kept > this.best.kept || (kept === this.best.kept && result.bytes < this.best.bytes)) this.best = { point, kept, bytes: result.bytes };
  }

  baseline(model: string): PointResult | undefined {
    return this.baselines.get(model);
  }

  /** 'sst2-L4H256 int8: 99.6% of GLUE at 11.4 MB', or '-'. */
  describe(): string {
    return this.best ? `${this.best.point.model.name} ${this.best.point.label}: ${percent(this.best.kept)} of GLUE at ${formatMB(this.best.bytes)}` : '-';
  }
}

/**
 * What the sweep's closing line after a stop says of its training steps (SweepSummary.stoppedTraining): a step stopped
 * in its loop resumes from its checkpoint; one stopped while its teacher's outputs or its augmented examples were
 * computed, before its first step, has no checkpoint and computes them again. '' when none was.
 */
export function stoppedTrainingNote(stops: Iterable<TrainingStop>): string {
  let resumes = false;
  const again = new Set<string>();
  for (const stop of stops) {
    if ('checkpoint' in stop) resumes = true;
    else again.add(stop.recomputes);
  }
  const notes = [
    ...(resumes ? ['a training step resumes from its checkpoint'] : []),
    ...(again.size ? [`a training step stopped before its first checkpoint computes ${[...again].join(' and ')} again`] : []),
  ];
  return notes.length ? ` (${notes.join('; ')})` : '';
}

/** 'sst2 · heads-0.4': a point in messages. */
export function pointName(point: SweepPoint): string {
  return `${point.model.name} · ${point.label}`;
}

/** Points by name, the first four: 'tiny-sst2 · ffn, tiny-sst2 · heads, … (3 more)'. */
export function pointNames(points: readonly SweepPoint[]): string {
  return someNames(
    points.map((p) => pointName(p)),
    4,
  );
}

/**
 * One line for a finished point, relative to its model's baseline when known and evaluated at the same max length. A
 * baseline GLUE score of 0 or below (a weak CoLA model's Matthews correlation) gives no share, as in the report's '%
 * of original' (-127% would read as a loss where the variant gained). A speed-up timed while the machine was shared
 * is marked † as in the report.
 */
export function pointLine(point: SweepPoint, r: PointResult, baseline: PointResult | undefined): string {
  const base = sameLength(baseline, r);
  // (none scored: -; undefined, e.g. Pearson of constant STS-B predictions: says why, as the report does)
  const score = r.glue != null && Number.isFinite(r.glue) ? r.glue : null;
  const kept = shareOfBaseline(r.glue, base?.glue);
  const share = kept !== null ? ` (${percent(kept)})` : '';
  const undefinedWhy = r.eval.glueScoreUndefined;
  const glue = score !== null ? `GLUE ${times100(score, '-')}${share}` : undefinedWhy ? `GLUE undefined (${undefinedWhy})` : 'GLUE -';
  const size = `${formatMB(r.bytes)}${base && point.steps.length > 0 ? ` (${percent(r.bytes / base.bytes)})` : ''}`;
  const shared = timedContended(r) ? SHARED_MARK : '';
  return `${pointName(point)}: ${glue}, ${size}, ×${r.speedup.toFixed(2)}${shared}, ${r.seconds.total.toFixed(1)} s`;
}

/**
 * The plan's first words, as a run and `--dry-run` print them: 'sweep poster: 16 points (2 models × 8 pipelines)',
 * with the model × pipeline pairs that pipelines' models lists leave out.
 */
export function planLine(spec: { name: string; models: readonly unknown[]; pipelines: readonly unknown[] }, points: number): string {
  const pairs = spec.models.length * spec.pipelines.length;
  const left = pairs - points;
  const some = left > 0 ? `; ${counted(left, 'model × pipeline pair')} left out by ${plural(left, "a pipeline's models list", "pipelines' models lists")}` : '';
  return `sweep ${spec.name}: ${counted(points, 'point')} (${counted(spec.models.length, 'model')} × ${counted(spec.pipelines.length, 'pipeline')}${some})`;
}

/** Progress on `stream`: a bar when it is a TTY, lines otherwise. */
export function createSweepProgress(stream: NodeJS.WriteStream = process.stderr): SweepProgress {
  const best = new BestTracker();
  let total = 0;
  let finished = 0;
  const bar = stream.isTTY
    ? new cliProgress.SingleBar(
        { stream, format: 'points [{bar}] {value}/{total} | ETA {eta_formatted} | best: {best}', barsize: 24, hideCursor: true, etaBuffer: 6, fps: 5 },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const write = (line: string) => {
    if (!bar) stream.write(line + '\n');
  };
  const listener = (e: SweepEvent): void => {
    switch (e.type) {
      case 'plan': {
        total = e.points.length;
        for (const p of e.points) {
          const r = e.previous.get(p.key);
          if (r) best.add(p, r);
        }
        finished = e.previous.size;
        write(
          `${planLine(e.spec, total)}, ${finished - e.staleKept} already in the store${e.staleKept ? `, ${e.staleKept} stale (kept)` : ''}${e.recomputing ? `, ${e.recomputing} more stored timed contended, to time again` : ''}`,
        );
        bar?.start(total, finished, { best: best.describe() });
        return;
      }
      case 'finished':
        finished++;
        best.add(e.point, e.result);
        write(`[${String(finished).padStart(String(total).length)}/${total}] ${pointLine(e.point, e.result, best.baseline(e.point.model.name))}`);
        bar?.update(finished, { best: best.describe() });
        return;
      case 'skipped':
        finished++;
        bar?.update(finished);
        write(`[${finished}/${total}] ${pointName(e.point)}: finished by another sweep`);
        return;
      case 'failed':
        finished++; // done for this run too: the count reaches the total
        if (bar) bar.stop();
        stream.write(`[${String(finished).padStart(String(total).length)}/${total}] FAILED ${pointName(e.point)}: ${e.error}\n`);
        if (bar) bar.start(total, finished, { best: best.describe() });
        return;
      case 'log':
        // of the points' own log, only where a training step stopped or resumed from its checkpoint, or a point
        // went on from the stages an earlier run of it had finished (or did not, their files changed since), or its
        // benchmark waits for the machine-wide timing lock
        if (/^(resuming from step|interrupted at step|(not )?reusing the output of stage|waiting for the timing lock)/.test(e.line)) {
          if (bar) bar.stop();
          stream.write(`${e.point ? `${pointName(e.point)}: ` : ''}${e.line}\n`); // (of which point: --jobs N runs several)
          if (bar) bar.start(total, finished, { best: best.describe() });
        }
        return;
      default:
        return;
    }
  };
  return { listener, stop: () => bar?.stop() };
}
