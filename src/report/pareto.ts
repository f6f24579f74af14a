/**
 * Pareto fronts, pure functions. A point is on the front when no other point is at least as good on both axes and
 * better on one; for a compressed model that means: nothing else is smaller (or faster) and as accurate or more, or as small
 * (as fast) and more accurate.
 */

export type Direction = 'min' | 'max';

export interface Objective<T> {
  value: (item: T) => number;
  direction: Direction;
}

/** Whether `a` dominates `b`: no worse on every objective and better on at least one. */
export function dominates<T>(a: T, b: T, objectives: readonly Objective<T>[]): boolean {
  let better = false;
  for (const o of objectives) {
    const va = o.value(a);
    const vb = o.value(b);
    const cmp = o.direction === 'min' ? vb - va : va - vb; // > 0: a is better
    if (cmp < 0) return false;
    if (cmp > 0) better = true;
  }
  return better;
}

/**
 * For each item, whether it is on the Pareto front of `items` under `objectives`. Items with a non-finite value
 * on any objective are never on the front and never dominate. Equal items are all on the front.
 */
export function paretoMask<T>(items: readonly T[], objectives: readonly Objective<T>[]): boolean[] {
  const finite = items.map((it) => objectives.every((o) => Number.isFinite(o.value(it))));
  return items.map((it, i) => finite[i]! && !items.some((other, j) => j !== i && finite[j]! && dominates(other, it, objectives)));
}

/** The items on the front, ordered by the first objective (for drawing the front as a line). */
export function paretoFront<T>(items: readonly T[], objectives: readonly Objective<T>[]): T[] {
  const mask = paretoMask(items, objectives);
  const first = objectives[0]!;
  return items.filter((_, i) => mask[i]).sort((a, b) => first.value(a) - first.value(b));
}

/** `paretoMask` computed separately within each group (e.g. per model: scores of different tasks do not compare). */
export function paretoMaskBy<T>(items: readonly T[], group: (item: T) => string, objectives: readonly Objective<T>[]): boolean[] {
  const out = new Array<boolean>(items.length).fill(false);
  const groups = new Map<string, number[]>();
  items.forEach((it, i) => groups.set(group(it), [...(groups.get(group(it)) ?? []), i]));
  for (const idx of groups.values()) {
    const mask = paretoMask(
      idx.map((i) => items[i]!),
      objectives,
    );
    idx.forEach((i, k) => (out[i] = mask[k]!));
  }
  return out;
}
