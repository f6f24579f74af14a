/**
 * The learning rate of the word-embedding tables, as a parameter group of its own (torch's param groups): the
 * schedule's peak `lr` times a per-table factor. A number is the tables' own peak rate; 'scaled' gives each table
 * lr × RMS(table) / RMS(the student's weight matrices), so that a table moves, per step, by the same fraction of
 * its size as the matrices do.
 *
 * Why: AdamW moves every weight by about lr per step whatever its size. A table initialised as torch's
 * `nn.Embedding` does (N(0, 1), RMS ≈ 1) next to matrices of RMS ≈ 0.03 barely moves at a fine-tuning lr: at
 * 1e-4, 625 steps shift an entry near 1 by at most 0.06. 'scaled' then gives it ~30× the lr (×29.5 for the shared
 * SST-2 teachers); a model whose tables and matrices share one scale (BERT's N(0, 0.02) initialisation) gets ×~1.
 */
import { numberOfText, numberProblem, SettingsError, shownFlagValue, TOO_SMALL_TO_HOLD, tooSmallToHold, typedValueText, quotedText } from '../errors.ts';
import { settingText } from '../pass/settings.ts';
import { sumOfSquares } from './optimizer.ts';

export type EmbeddingLr = number | 'scaled';

/**
 * What `--embedding-lr` / `embeddingLr` takes, said of the refused value `n` in the one number wording (numberProblem):
 * 'expected a number greater than 0 or 'scaled'', of an infinite one (1e400, .inf) 'expected a finite number greater
 * than 0 or 'scaled'', as --lr's refusal says.
 */
export function embeddingLrExpected(n: unknown): string {
  const range = { min: 0, above: true };
  return `${numberProblem(typeof n === 'number' ? n : Number.NaN, range) ?? numberProblem(Number.NaN, range)} or 'scaled'`;
}

/**
 * `--embedding-lr` / `embeddingLr`: a number greater than 0 or 'scaled' (numbers may come as strings from the CLI). A
 * refused number is shown bare as typed (`--embedding-lr 0`, as `--lr 0`), other text quoted (`--embedding-lr 'fast'`);
 * one too small to hold is refused saying so, as a number flag's is (tooSmallToHold: `--embedding-lr 1e-400`, which reads as 0).
 */
export function parseEmbeddingLr(v: unknown): EmbeddingLr {
  if (settingText(v) === 'scaled') return 'scaled'; // read as every word value is: ' Scaled ' is scaled
  const n = typeof v === 'string' ? numberOfText(v) : v;
  if (typeof n === 'number' && Number.isFinite(n) && n > 0) return n;
  const tiny = typeof v === 'string' && tooSmallToHold(v) ? `${TOO_SMALL_TO_HOLD}; ` : '';
  throw new SettingsError(`--embedding-lr ${typedValueText(v)}: ${tiny}${embeddingLrExpected(n)}`);
}

/**
 * A number `embeddingLr` (checked by parseEmbeddingLr) with the schedule's `lr` (checked > 0): refused in one line
 * where the tables' factor, their lr over the schedule's, is not a finite number greater than 0 (--lr 1e-300 with
 * --embedding-lr 1e300), which the optimizer cannot apply.
 */
export function checkEmbeddingLrFactor(embeddingLr: number, lr: number): void {
  const factor = embeddingLr / lr;
  if (Number.isFinite(factor) && factor > 0) return;
  throw new SettingsError(
    `--embedding-lr ${shownFlagValue('--embedding-lr', embeddingLr)}: its ratio to --lr ${shownFlagValue('--lr', lr)} is ${factor} (the tables' lr factor), not a finite number greater than 0: give rates nearer each other`,
  );
}

/** The RMS of all values of `arrays` together. */
function rms(arrays: readonly Float32Array[]): number {
  const count = arrays.reduce((n, a) => n + a.length, 0);
  return Math.sqrt(sumOfSquares(arrays) / Math.max(1, count));
}

/**
 * The lr factor of each table in `tables` (none when `embeddingLr` is unset). `matrices` are the student's other
 * 2-D weights, whose RMS over all their values together is the reference of 'scaled'; `params` are the values
 * before training (so a resumed run gets the same factors).
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
  const value = (name: string): Float32Array => {
    const v = params.get(name);
    if (!v) throw new RangeError(`${quotedText(name)} is not a parameter`);
    return v;
  };
  const reference = rms(matrices.map(value));
  if (!(reference > 0)) throw new SettingsError('--embedding-lr scaled: the student has no non-zero weight matrix to scale against; give a number');
  for (const t of tables) {
    const r = rms([value(t)]);
    scales.set(t, r > 0 ? r / reference : 1);
  }
  return scales;
}
