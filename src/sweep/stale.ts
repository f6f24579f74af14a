/**
 * Stale points: a point of this sweep that the store has results for, computed by other code. Its key differs only
 * by the versions in it (bert-compress's, or a pass's: see key.ts), so the same family. A sweep keeps the stale
 * result and says so (it is not silently reused, and a long sweep is not silently recomputed after an upgrade);
 * `--rerun-stale` recomputes the point and then forgets the stale rows it replaces.
 */
import type { SweepPoint } from './plan.ts';
import type { PointResult } from './point.ts';
import type { StoredPoint } from './store.ts';
import { pointFamily, versionChange } from './key.ts';

export interface StaleMatch {
  point: SweepPoint;
  /** The stored points it replaces, oldest first (several when more than one older version left a result). */
  stored: StoredPoint[];
  /** The newest stored result. */
  result: PointResult;
  /** What changed since: 'prune-heads v1 → v2'. */
  change: string;
}

/**
 * The stale points among `points` (those without a result under their own key): by key, the stored points of the
 * same family. `plans` are the stored points' planned points (any age) by key; a plan that no longer parses (a
 * pass or setting since removed) matches nothing.
 */
export function findStale(points: readonly SweepPoint[], finished: readonly StoredPoint[], plans: ReadonlyMap<string, unknown>): Map<string, StaleMatch> {
  const out = new Map<string, StaleMatch>();
  if (points.length === 0) return out;
  const planned = new Set(points.map((p) => p.key));
  const byFamily = new Map<string, StoredPoint[]>();
  for (const s of finished) {
    const plan = plans.get(s.key);
    if (planned.has(s.key) || plan === undefined) continue;
    const family = familyOf(plan);
    if (family === undefined) continue;
    const same = byFamily.get(family);
    if (same) same.push(s);
    else byFamily.set(family, [s]);
  }
  if (byFamily.size === 0) return out;
  for (const p of points) {
    const stored = byFamily.get(pointFamily(p));
    if (!stored) continue;
    const newest = stored[stored.length - 1]!;
    out.set(p.key, { point: p, stored, result: newest.result, change: versionChange(plans.get(newest.key) as Partial<SweepPoint>, p) });
  }
  return out;
}

/** The family of a stored plan; undefined when it cannot be read by the code running now. */
function familyOf(plan: unknown): string | undefined {
  try {
    return pointFamily(plan as SweepPoint);
  } catch {
    return undefined; // written by code whose points or settings this code no longer reads: not comparable
  }
}
