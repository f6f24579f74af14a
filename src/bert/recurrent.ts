/**
 * Recurrent models: a Distilled BiLSTM student (src/train/students/bilstm-export.ts) has one LSTM and no attention,
 * so discovery finds no BERT structure in it. Every layer reads a graph as one here (recurrentModelLstm), below the
 * passes, which give it to those that declare a `recurrent` form and refuse the others (src/pass/recurrent.ts).
 */
import type { Model, Node } from '../onnx/graph.ts';

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
