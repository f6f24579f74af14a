/**
 * Recurrent models (recurrentModelLstm, src/bert/recurrent.ts: a Distilled BiLSTM student, one LSTM and no attention):
 * the pipeline gives one to the passes that declare a `recurrent` form (quantize, mode int8) and refuses the others in
 * one line saying why, before any runs.
 */
import { RECURRENT_MODEL } from '../bert/recurrent.ts';
import { SettingsError } from '../errors.ts';

/** Why the pass `pass` cannot rewrite a recurrent model, in one line. */
export function recurrentRefusal(pass: string): SettingsError {
  return new SettingsError(
    `${pass}: the model is ${RECURRENT_MODEL}: one LSTM and no attention heads, feed-forward blocks or encoder layers for ${pass} to rewrite; of the passes only quantize int8 (--quantize int8) applies to it`,
  );
}
