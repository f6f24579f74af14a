/** The `--threads` check, apart from session.ts so that the CLI can make it without loading onnxruntime. */
import { SettingsError } from '../errors.ts';

/** The most intra-op threads a session may be given: more only oversubscribes the cores (and can hang). */
export const MAX_THREADS = 256;

/** Throws a one-line SettingsError unless `threads` (a `--threads` value) is an integer in [0, MAX_THREADS]. */
export function checkThreads(threads: number | undefined): void {
  if (threads === undefined) return;
  if (!Number.isInteger(threads) || threads < 0) throw new SettingsError(`--threads ${threads}: expected an integer ≥ 0`);
  if (threads > MAX_THREADS) throw new SettingsError(`--threads ${threads}: at most ${MAX_THREADS} (0 lets onnxruntime use one per core)`);
}
