/**
 * The sequence length a training run (compress train / distill, a sweep's train or distill step) tokenizes its
 * examples at, checked as the run checks it before any data is read: one function for runTraining and a sweep's plan,
 * so that the plan refuses exactly the lengths its point would.
 */
import { checkConfigLengthRoom, checkLengthRoom, checkModelLengthRoom, checkPairTypes, chooseMaxLength } from '../eval/graph-checks.ts';
import { defaultMaxLength } from '../eval/evaluate.ts';
import type { ModelConfig } from '../eval/model-files.ts';
import type { TextTokenizer } from '../eval/tokenizer.ts';
import type { InputLimits } from '../bert/input-limits.ts';

/** A model the run feeds at its length: its input limits (null where none are read) and its path, for the refusals. */
export type SizedModel = readonly [Pick<InputLimits, 'fixedSequence' | 'maxSequence'> | null, string];

/**
 * The length a run tokenizes at: `asked` (--max-length), else `config`'s max_length (the teacher's config.json, else
 * the trained model's), else 128 capped at the tokenizer's model_max_length, capped at each of `sized`'s position
 * tables. Refused, each in its one line: a table that leaves no room for text after the special tokens of a single
 * text (`pair` false) or a sentence pair whatever the length (checkModelLengthRoom), a length beyond a table
 * (chooseMaxLength), config.json's max_length that leaves no room for text (checkConfigLengthRoom), and any other
 * length that leaves none (the tokenizer's refusal: checkLengthRoom).
 */
export function trainingMaxLength(
  asked: number | undefined,
  config: ModelConfig,
  sized: readonly SizedModel[],
  tokenizer: Pick<TextTokenizer, 'encode' | 'modelMaxLength'>,
  pair: boolean,
): number {
  // (a table no --max-length fits text in: the model's, named so, before a length is asked of it)
  for (const [limits, path] of sized) checkModelLengthRoom(limits, tokenizer, pair, path);
  let maxLength = asked ?? config.maxLength ?? defaultMaxLength(tokenizer.modelMaxLength);
  for (const [limits, path] of sized) maxLength = Math.min(maxLength, chooseMaxLength(asked, config, limits, maxLength, path));
  checkConfigLengthRoom(asked, config, maxLength, tokenizer, pair);
  checkLengthRoom(tokenizer, maxLength, pair);
  return maxLength;
}

/**
 * Throws the refusal (checkEncodings' DataError) of a model in `fed`, each with its input limits and its name, whose
 * token types are fewer than `tokenizer`'s pair template gives: a sentence pair's types at a length that cuts nothing,
 * so whatever length the run is asked for; checked by a run on a pair task before its length (trainingMaxLength), as
 * by a sweep's plan, so that both refuse the same step in the same line. A tokenizer that cannot encode a pair is left
 * to the data's encodings.
 */
export function checkTrainingPairTypes(tokenizer: Pick<TextTokenizer, 'encode' | 'source'>, fed: ReadonlyArray<readonly [InputLimits | null, string]>): void {
  for (const [limits, model] of fed) checkPairTypes(tokenizer, Number.MAX_SAFE_INTEGER, limits, model);
}
