/**
 * The sequence length a run that feeds models tokenizes its examples at, checked before any data is read: one function
 * for calibration (compress --calibrate, a sweep's calibration), a training run (compress train / distill) and a
 * sweep's plan of a train or distill step, so that the plan refuses exactly the lengths its point would.
 */
import { checkConfigLengthRoom, checkLengthRoom, checkModelLengthRoom, chooseMaxLength } from './graph-checks.ts';
import { defaultMaxLength } from './evaluate.ts';
import type { ModelConfig } from './model-files.ts';
import type { TextTokenizer } from './tokenizer.ts';
import type { InputLimits } from '../bert/input-limits.ts';

/** A model the run feeds at its length: its input limits (null where none are read) and its path, for the refusals. */
export type SizedModel = readonly [Pick<InputLimits, 'fixedSequence' | 'maxSequence'> | null, string];

/**
 * The length a run tokenizes at: `asked` (--max-length), else `config`'s max_length (the teacher's config.json, else
 * the trained model's), else the shortest length `sized`'s inputs fix (a static-shape export's, as evaluation reads
 * it: evalLength), else 128 capped at the tokenizer's model_max_length, capped at each of `sized`'s position tables
 * and fixed lengths. Refused, each in
 * its one line: a table that leaves no room for text after the special tokens of a single text (`pair` false) or a
 * sentence pair whatever the length (checkModelLengthRoom), a length beyond a table (chooseMaxLength), config.json's
 * max_length that leaves no room for text (checkConfigLengthRoom), and any other length that leaves none (the
 * tokenizer's refusal: checkLengthRoom).
 */
export function runMaxLength(
  asked: number | undefined,
  config: ModelConfig,
  sized: readonly SizedModel[],
  tokenizer: Pick<TextTokenizer, 'encode' | 'modelMaxLength'>,
  pair: boolean,
): number {
  // (a table no --max-length fits text in: the model's, named so, before a length is asked of it)
  for (const [limits, path] of sized) checkModelLengthRoom(limits, tokenizer, pair, path);
  const fixed = Math.min(...sized.map(([limits]) => limits?.fixedSequence ?? Infinity));
  let maxLength = asked ?? config.maxLength ?? (fixed < Infinity ? fixed : defaultMaxLength(tokenizer.modelMaxLength));
  for (const [limits, path] of sized) maxLength = Math.min(maxLength, chooseMaxLength(asked, config, limits, maxLength, path));
  checkConfigLengthRoom(asked, config, maxLength, tokenizer, pair);
  checkLengthRoom(tokenizer, maxLength, pair);
  return maxLength;
}
