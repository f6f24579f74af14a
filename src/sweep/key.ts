/**
 * Identity of a sweep point: a SHA-256 of canonical JSON (keys sorted) over everything that decides its result
 * (the model file's hash, the pipeline, the tasks, calibration, bench and eval settings, the tool version). Equal
 * points in two sweep files, or in two runs of one file, get the same key, so their results are shared.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

/** The hex SHA-256 of `value`'s canonical JSON. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** bert-compress's version, from package.json. */
export { toolVersion } from '../version.ts';
