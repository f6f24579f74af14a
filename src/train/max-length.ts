/**
 * The check of a text's token types a training run (compress train / distill, a sweep's train or distill step) makes
 * before its length (runMaxLength, src/eval/max-length.ts): one function for runTraining and a sweep's plan.
 */
import { checkTemplateTypes } from '../eval/graph-checks.ts';
import type { TextTokenizer } from '../eval/tokenizer.ts';
import type { InputLimits } from '../bert/input-limits.ts';

/**
 * Throws the refusal (checkEncodings' DataError) of a model in `fed`, each with its input limits and its name, whose
 * token types are fewer than `tokenizer`'s template gives the run's texts (`pair` true: a sentence pair, false: a
 * single text, a Funnel tokenizer's [CLS] of type 2) at a length that cuts nothing, so whatever length the run is asked
 * for; checked by a run before its length (runMaxLength), as by a sweep's plan, so that both refuse the same step in
 * the same line. A tokenizer that cannot encode the texts is left to the data's encodings.
 */
export function checkTrainingTemplateTypes(
  tokenizer: Pick<TextTokenizer, 'encode' | 'source'>,
  fed: ReadonlyArray<readonly [InputLimits | null, string]>,
  pair: boolean,
): void {
  for (const [limits, model] of fed) checkTemplateTypes(tokenizer, Number.MAX_SAFE_INTEGER, limits, model, pair);
}
