/**
 * Which inputs a model declares and how to fill them. Only declared inputs are fed (DistilBERT and XLM-R have no
 * token_type_ids), each cast to its declared element type (int64, or int32 for some TensorFlow exports).
 */
import { SettingsError } from '../errors.ts';
import type { Session } from '../runtime/session.ts';

/** What an input carries: token ids, the attention mask (1 = token, 0 = padding) or token types (segments). */
export type InputRole = 'ids' | 'mask' | 'types';
export type IdElementType = 'int64' | 'int32';

export interface ModelInput {
  readonly name: string;
  readonly role: InputRole;
  readonly elementType: IdElementType;
}

/** Input names used by BERT-family exporters, by role. */
const ROLE_PATTERNS: ReadonlyArray<[InputRole, RegExp]> = [
  ['ids', /^(input_ids|input_ids:0|input_word_ids|ids)$/i],
  ['mask', /^(attention_mask|attention_mask:0|input_mask|input_mask:0|mask)$/i],
  ['types', /^(token_type_ids|token_type_ids:0|segment_ids|segment_ids:0|input_type_ids)$/i],
];

/** The roles and element types of a session's inputs; SettingsError for an input we cannot fill. */
export function modelInputs(session: Pick<Session, 'inputNames' | 'inputTypes'>): ModelInput[] {
  const inputs = session.inputNames.map((name): ModelInput => {
    const role = ROLE_PATTERNS.find(([, re]) => re.test(name))?.[0];
    if (!role) {
      throw new SettingsError(
        `model input '${name}' is not one evaluation can fill (expected input_ids, attention_mask, token_type_ids)`,
      );
    }
    const declared = session.inputTypes[name] ?? 'int64';
    if (declared !== 'int64' && declared !== 'int32') {
      throw new SettingsError(`model input '${name}' has element type ${declared}; expected int64 or int32`);
    }
    return { name, role, elementType: declared };
  });
  if (!inputs.some((i) => i.role === 'ids')) {
    throw new SettingsError(`model has no input_ids input (inputs: ${session.inputNames.join(', ')})`);
  }
  return inputs;
}
