/**
 * Recurrent models: a Distilled BiLSTM student (src/train/students/bilstm-export.ts) has one LSTM and no attention,
 * so discovery finds no BERT structure in it. The pipeline gives it to the passes that declare a `recurrent` form
 * (quantize, mode int8) and refuses the others in one line saying why, before any runs.
 */
import type { Model, Node } from '../onnx/graph.ts';
import { SettingsError } from '../errors.ts';

/** The op types of an LSTM node, float and quantized (com.microsoft DynamicQuantizeLSTM). */
const LSTM_OPS = new Set(['LSTM', 'DynamicQuantizeLSTM']);

/** Ops that make a graph an encoder (discovery's), not a recurrent model. */
const ATTENTION_OPS = new Set(['Softmax', 'Attention', 'QAttention', 'MultiHeadAttention']);

/**
 * The one LSTM (or DynamicQuantizeLSTM) node of a recurrent model without attention (a Distilled BiLSTM student),
 * undefined for any other graph.
 */
export function recurrentModelLstm(model: Model): Node | undefined {
  const nodes = model.graph.nodes;
  if (nodes.some((n) => ATTENTION_OPS.has(n.opType))) return undefined;
  const lstms = nodes.filter((n) => LSTM_OPS.has(n.opType));
  return lstms.length === 1 ? lstms[0] : undefined;
}

/** How a recurrent model is named in messages. */
export const RECURRENT_MODEL = 'a recurrent model (a Distilled BiLSTM student)';

/** Why the pass `pass` cannot rewrite a recurrent model, in one line. */
export function recurrentRefusal(pass: string): SettingsError {
  return new SettingsError(
    `${pass}: the model is ${RECURRENT_MODEL}: one LSTM and no attention heads, feed-forward blocks or encoder layers for ${pass} to rewrite; of the passes only quantize int8 (--quantize int8) applies to it`,
  );
}
