/**
 * The Distilled BiLSTM student (Tang et al. 2019, "Distilling Task-Specific Knowledge from BERT into Simple Neural
 * Networks"): word embedding → one bidirectional LSTM layer → max-pool over time (padding excluded) → MLP
 * (Linear 2H → M, ReLU, Linear M → numLabels) → `logits`. Sentence pairs (MRPC, STS-B, …) are encoded as the one
 * token sequence `[CLS] a [SEP] b [SEP]` the tokenizer makes.
 *
 * - bilstm-config.ts: `BilstmConfig`, `parseBilstmSpec('bilstm:hidden=H[,embedding=E][,mlp=M]')`, weight names, shapes
 *   and initialisation;
 * - bilstm-graph.ts: `bilstmTrainingGraph`, unrolled over L with differentiable standard ops, and its dropout masks;
 * - bilstm-export.ts: `exportBilstm`, one ONNX LSTM node over any sequence length, and the model folder writer.
 */
export {
  BILSTM_DIRECTIONS,
  BILSTM_GATE_ORDER,
  DEFAULT_BILSTM_EMBEDDING_SIZE,
  bilstmParameterCount,
  bilstmWeightShapes,
  checkBilstmConfig,
  checkBilstmWeights,
  parseBilstmSpec,
  randomBilstmParameter,
  randomBilstmWeights,
  resolveBilstmConfig,
  readWordEmbeddings,
  teacherWordEmbeddings,
  BILSTM_CLASSIFIER_WEIGHTS,
  type BilstmConfig,
  type BilstmDirection,
  type BilstmInitOptions,
} from './bilstm-config.ts';
export {
  BILSTM_OPSET,
  BILSTM_POOL_MASK_VALUE,
  bilstmDropoutMasks,
  bilstmTrainingGraph,
  describeBilstm,
  type BilstmDropoutMask,
  type BilstmGraphOptions,
} from './bilstm-graph.ts';
export { bilstmConfigJson, exportBilstm, importBilstm, onnxLstmWeights, savedBilstmOutputs } from './bilstm-export.ts';
