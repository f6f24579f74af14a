import Database from 'better-sqlite3';
import type { SweepPoint } from '../../src/sweep/plan.ts';

/** A sweep store's points that hold a result: their keys and versions, by `model name · label`. */
export function storedPoints(store: string): Map<string, { key: string; versions: SweepPoint['versions'] }> {
  const db = new Database(store, { readonly: true });
  try {
    const rows = db.prepare('SELECT p.key, p.point FROM points p JOIN results r ON r.key = p.key').all() as Array<{ key: string; point: string }>;
    return new Map(
      rows.map((r) => {
        const point = JSON.parse(r.point) as SweepPoint;
        return [`${point.model.name} · ${point.label}`, { key: r.key, versions: point.versions }];
      }),
    );
  } finally {
    db.close();
  }
}
