/**
 * Whether a point's benchmark had the machine to itself in a sweep run by several workers (`--jobs N`). The
 * machine-wide timing lock (bench/timing-lock.ts) keeps two benchmarks from timing at once, but not a benchmark from
 * the compression, training or evaluation another worker of the sweep runs meanwhile: a speed-up timed beside a
 * training step is off, yet it held the lock. Rather than hold every worker's stages back while one benchmarks (a
 * training step can take hours), the pool records each worker's stage as it changes, and a benchmark during which
 * another worker was running any stage of a point is recorded as contended (its timing's `exclusive` is false),
 * which the report marks. Conservative: the other worker's stage may have overlapped only the benchmark's set-up.
 */
import type { PointResult, PointStage } from './point.ts';

export class StageTracker {
  /** The stage each busy worker is running, and of which point. */
  private readonly stages = new Map<number, { stage: PointStage; point: string }>();
  /** Per worker whose benchmark started: what the other workers ran while it benchmarked. */
  private readonly company = new Map<number, Set<string>>();

  /** Worker `worker` started `stage` of `point`, or (null) went idle. */
  set(worker: number, stage: PointStage | null, point: string): void {
    if (stage === null) {
      this.stages.delete(worker);
      return;
    }
    this.stages.set(worker, { stage, point });
    const doing = `${point} (${stage})`;
    if (stage === 'bench') {
      this.company.set(worker, new Set([...this.stages].filter(([w]) => w !== worker).map(([, s]) => `${s.point} (${s.stage})`)));
      return;
    }
    for (const [w, seen] of this.company) if (w !== worker && this.stages.get(w)?.stage === 'bench') seen.add(doing);
  }

  /** What the other workers ran during `worker`'s last benchmark (empty: it ran alone); forgets it. */
  takeCompany(worker: number): string[] {
    const seen = this.company.get(worker);
    this.company.delete(worker);
    return seen ? [...seen] : [];
  }
}

/** `result` with its benchmark recorded as contended when other workers ran `company` during it. */
export function markContended(result: PointResult, company: readonly string[]): PointResult {
  if (company.length === 0) return result;
  const timing = result.bench.timing ?? { exclusive: false, waitedSeconds: 0 };
  const why = `other workers of the sweep were running ${company.join(', ')}`;
  return {
    ...result,
    bench: { ...result.bench, timing: { ...timing, exclusive: false, reason: timing.reason ? `${timing.reason}; ${why}` : why } },
  };
}
