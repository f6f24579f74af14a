/**
 * The learning rate of the word-embedding tables, as a parameter group of its own (torch's param groups): the
 * schedule's peak `lr` times a per-table factor. A number is the tables' own peak rate; 'scaled' gives each table
 * lr × RMS(table) / RMS(the student's weight matrices), so that a table moves, per step, by the same fraction of
 * its size as the matrices do.
 *
 * Why: AdamW moves every weight by about lr per step whatever its size. A table initialised as torch's
 * `nn.Embedding` does (N(0, 1), RMS ≈ 1) next to matrices of RMS ≈ 0.02 barely moves at a fine-tuning lr: at
 * 1e-4, 625 steps shift a row by at most 0.06 of entries near 1. 'scaled' then gives it ~50× the lr; a model whose
 * tables and matrices share one scale (BERT's N(0, 0.02) initialisation) gets ×~1, its usual training.
 */
import { SettingsError } from '../errors.ts';

export type EmbeddingLr = number | 'scaled';

/** `--embedding-lr` / `embeddingLr`: a positive number or 'scaled' (numbers may come as strings from the CLI). */
export function parseEmbeddingLr(v: unknown, flag = '--embedding-lr'): EmbeddingLr {
  if (v === 'scaled') return 'scaled';
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n === 'number' && Number.isFinite(n) && n > 0) return n;
  throw new SettingsError(`${flag} must be a positive number or 'scaled' (got ${typeof v === 'string' ? `'${v}'` : String(v)})`);
}

function rms(values: Float32Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s / Math.max(1, values.length));
}

/**
 * The lr factor of each table in `tables` (1 for none when `embeddingLr` is unset). `matrices` are the student's
 * other 2-D weights, whose RMS over all their values is the reference of 'scaled'; `params` are the values before
 * training (so a resumed run gets the same factors).
 */
export function embeddingLrScales(
  lr: number,
  embeddingLr: EmbeddingLr | undefined,
  tables: readonly string[],
  matrices: readonly string[],
  params: ReadonlyMap<string, Float32Array>,
): Map<string, number> {
  const scales = new Map<string, number>();
  if (embeddingLr === undefined) return scales;
  if (embeddingLr !== 'scaled') {
    for (const t of tables) scales.set(t, embeddingLr / lr);
    return scales;
  }
  let sum = 0;
  let count = 0;
  for (const name of matrices) {
    const v = params.get(name);
    if (!v) continue;
    for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
    count += v.length;
  }
  const reference = Math.sqrt(sum / Math.max(1, count));
  if (!(reference > 0)) throw new SettingsError('--embedding-lr scaled: the student has no non-zero weight matrix to scale against; give a number');
  for (const t of tables) {
    const v = params.get(t);
    if (!v) throw new RangeError(`embedding table '${t}' is not a parameter`);
    const r = rms(v);
    scales.set(t, r > 0 ? r / reference : 1);
  }
  return scales;
}
