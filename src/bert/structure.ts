/**
 * What discovery (discover.ts) finds in an exporter's graph: the read-only map of a BERT-family encoder. Every
 * reference is by name: node names (unique after loading), initializer names and value names, so a structure
 * found on a graph stays valid on a `cloneGraph` copy of it. Passes read this to know what to rewrite.
 */

/** Which tool wrote the graph. */
export type ExporterKind = 'torch' | 'keras2onnx' | 'ort-fused' | 'bert-compress' | 'unknown';

/** Layout family of the encoder. */
export type ModelFamily = 'bert' | 'distilbert' | 'roberta' | 'electra' | 'albert';

/**
 * The feed-forward activation ('quick_gelu': x·Sigmoid(1.702x)); 'other': element-wise ops that compute none of the
 * others (a lone Sigmoid): the passes that do not depend on it take the graph, the canonical rebuild refuses it.
 */
export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'silu' | 'quick_gelu' | 'tanh' | 'other';

/**
 * How a quantized weight is stored and which nodes undo it. The quantize pass writes these forms (onnxruntime's
 * quantizer writes the same):
 * - 'dynamic-int8': com.microsoft DynamicQuantizeMatMul(x, W_int8 [in, out], scale[, zero point][, bias]);
 * - 'matmul-integer': DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_int8 [in, out], x_zp[, w_zp]) → Cast(float)
 *   → Mul(·, Mul(x_scale, w_scale));
 * - 'matmul-integer-to-float': DynamicQuantizeLinear(x) → com.microsoft MatMulIntegerToFloat(x_q, W_int8, x_scale,
 *   w_scale, x_zp, w_zp[, bias]) (what onnxruntime fuses the 'matmul-integer' form into);
 * - 'qdq': MatMul / Gemm reading DequantizeLinear(W_int8, scale, zero point[, axis]) as its weight, and (static
 *   quantization) DequantizeLinear(QuantizeLinear(x)) as its activation;
 * - 'matmul-nbits': com.microsoft MatMulNBits(x, B uint8 [N, K/block, block·bits/8], scales[, zero points]
 *   [, g_idx][, bias]) with attributes K, N, bits, block_size;
 * - 'qattention': com.microsoft QAttention (a fused Attention with an int8 packed QKV weight, input from
 *   DynamicQuantizeLinear);
 * - embedding tables: 'gather-dequantize', Gather(table_int8, ids) → DequantizeLinear(·, scale, zero point);
 *   'gather-scale', Gather(table_int8, ids) → Cast(float) → Mul(·, scale), the scale one per table, or one per row
 *   read by a second Gather(row_scales [rows, 1], ids).
 */
export type QuantizationKind =
  | 'dynamic-int8'
  | 'matmul-integer'
  | 'matmul-integer-to-float'
  | 'qdq'
  | 'matmul-nbits'
  | 'qattention'
  | 'gather-dequantize'
  | 'gather-scale';

export interface Quantization {
  kind: QuantizationKind;
  /**
   * Nodes of the pattern other than the product node (Linear.node, the fused attention node) or the table's Gather:
   * activation quantizers (DynamicQuantizeLinear, QuantizeLinear + DequantizeLinear — shared by every projection
   * that reads the same value), the weight's DequantizeLinear, the Cast and rescaling Muls, the scale Gather.
   */
  nodes: string[];
  /** Bits per stored weight (8, or MatMulNBits' `bits`). */
  bits: number;
  /** Initializer of the weight scale(s) (one, per channel, per block or per row). */
  scale?: string;
  /** Initializer of the weight zero point(s), when stored. */
  zeroPoint?: string;
  /** Weights per scale along the input axis (MatMulNBits' block_size). */
  blockSize?: number;
}

/**
 * A dense projection y = x·W + b. `weight` is an initializer (possibly reached through a Transpose / Identity /
 * DequantizeLinear the exporter put in front of it); `layout` says how the weight is stored. For a quantized
 * projection (`quantization` set), `weight` names the stored integer initializer (int8, or MatMulNBits' packed
 * uint8 blocks), and `layout`, `inFeatures` and `outFeatures` describe the logical matrix it stands for
 * (MatMulNBits blocks are output-major: 'out_in').
 */
export interface Linear {
  /**
   * Name of the node computing the product: MatMul or Gemm (or com.microsoft FusedGemm); for quantized weights the
   * node that reads the stored weight: MatMulInteger, DynamicQuantizeMatMul, MatMulIntegerToFloat, MatMulNBits,
   * or the MatMul / Gemm behind a weight DequantizeLinear.
   */
  node: string;
  /** Initializer holding W (the stored integer weight when quantized). */
  weight: string;
  /** 'in_out': W is [in, out] (MatMul x·W); 'out_in': W is [out, in] (Gemm with transB=1, or MatMul after Transpose). */
  layout: 'in_out' | 'out_in';
  /** Initializer holding b, if any. */
  bias?: string;
  /** The Add node that adds the bias (absent when the bias is Gemm's C input or fused into a later op). */
  biasNode?: string;
  inFeatures: number;
  outFeatures: number;
  /** Value name of the projection's output (after the bias). */
  output: string;
  /** Set when the weight is stored quantized. */
  quantization?: Quantization;
}

/** A LayerNormalization: a LayerNormalization op, a Reduce/Sub/Pow/Sqrt/Div pattern, or a fused skip-LN. */
export interface LayerNorm {
  kind: 'op' | 'pattern' | 'skip-op';
  /** Every node of the pattern (one for the op kinds). */
  nodes: string[];
  scale: string;
  bias: string;
  epsilon: number;
  /** Value name of the normalized output. */
  output: string;
}

/**
 * An int64 constant in the graph that encodes a head count or the total attention width (heads × head size),
 * e.g. the `4` and `64` of Reshape [0, 0, 4, 64], or the 256 of the merge Reshape. Pruning heads rewrites them.
 * The constant may be shared with other layers: a pass must give the layer its own copy before changing it.
 */
export interface HeadShapeConstant {
  /** 'initializer': an initializer; 'constant-node': the `value` tensor of a Constant node (by node name). */
  source: 'initializer' | 'constant-node';
  /** Initializer name or Constant node name. */
  name: string;
  /** Element index within the constant that holds the number. */
  index: number;
  /** What the number means. */
  meaning: 'num-heads' | 'all-head-size';
  /** The value found. */
  value: number;
  /**
   * Nodes of this layer that read the constant directly. When the constant is shared with other layers, a pass
   * gives these readers their own copy.
   */
  readers: string[];
  /**
   * The inputs of each reader (by name) that read the number: a reader may read the same constant at another input
   * for another number (a Concat reading one merged [8] as head count and head size), which keeps its value there.
   */
  readerInputs?: Record<string, number[]>;
}

export interface AttentionBlock {
  /** 'unfused': separate Q/K/V projections and a Softmax; 'fused': one com.microsoft Attention node. */
  kind: 'unfused' | 'fused';
  numHeads: number;
  headSize: number;
  q?: Linear;
  k?: Linear;
  v?: Linear;
  /**
   * The fused Attention (or QAttention) node with its packed weight [hidden, 3·heads·headSize] and bias
   * [3·heads·headSize]; for a QAttention, `quantization` says how the int8 weight is stored.
   */
  fused?: { node: string; weight: string; bias: string; quantization?: Quantization };
  /** Output projection (heads·headSize → hidden). */
  output: Linear;
  /** The Softmax node of the attention probabilities (unfused). */
  softmax?: string;
  /** Constants that hold the head count or attention width, to rewrite when heads are removed. */
  headShapeConstants: HeadShapeConstant[];
  /** Scaling: divide scores by this (sqrt(headSize) for BERT), when found. */
  scale?: number;
}

export interface FeedForward {
  in: Linear;
  out: Linear;
  activation: Activation;
  /** Nodes of the activation (the Erf GELU pattern, a Gelu/BiasGelu/FastGelu op, Relu…). */
  activationNodes: string[];
  intermediateSize: number;
}

export interface EncoderLayer {
  index: number;
  /** Value entering the layer (the residual stream) and leaving it. */
  input: string;
  output: string;
  /**
   * Set when the layer computes its output for the first token only (the optimize pass's first-token rewrite of
   * the last layer, whose output only the pooler's token-0 selection reads): the value holding input[:, 0:1], which
   * the queries and the attention residual read (keys and values still read every token). The output is then
   * [batch, 1, hidden].
   */
  firstToken?: string;
  /**
   * The self-attention block; absent when the layer has none (every head was pruned: prune-heads then adds a
   * constant, the old output projection's bias, to the residual stream in its place).
   */
  attention?: AttentionBlock;
  /**
   * Layers without attention: the float initializer [hidden] added to the layer input in place of the attention
   * output (the removed output projection's bias), when there is one. It is an operand of the residual Add, of an
   * Add after a Mul(input, 0), or the bias input of the SkipLayerNormalization.
   */
  attentionBias?: string;
  /** LayerNorm after attention (+ residual); for a layer without attention, the LayerNorm of input + attentionBias. */
  attentionNorm: LayerNorm;
  ffn: FeedForward;
  /** LayerNorm after the FFN (+ residual). */
  outputNorm: LayerNorm;
}

/** An embedding table read by a Gather. */
export interface EmbeddingTable {
  /** Initializer [rows, hidden] (int8 when `quantization` is set). */
  weight: string;
  /** The Gather node reading it (absent when fused into EmbedLayerNormalization). */
  gather?: string;
  rows: number;
  /**
   * Set when the table is factorized (ALBERT layout, or the factorize-embeddings pass): `weight` is then
   * [rows, rank] and this projection (a MatMul after the Gather) maps each looked-up row to the hidden width.
   */
  projection?: Linear;
  /** Set when the table is stored int8 and the looked-up rows are dequantized after the Gather. */
  quantization?: Quantization;
}

export interface Embeddings {
  word: EmbeddingTable;
  position?: EmbeddingTable;
  tokenType?: EmbeddingTable;
  norm: LayerNorm;
  /**
   * Set when the tables and the LayerNorm are narrower than the encoder (ALBERT's
   * `encoder.embedding_hidden_mapping_in`, ELECTRA's `embeddings_project`): the Linear (with a bias) that maps the
   * normalized E-wide embeddings to the hidden width. `output` is then its output.
   */
  mapping?: Linear;
  /** Value name of the embeddings output (after LayerNorm, and after `mapping` when there is one): layer 0's input. */
  output: string;
  /** Set when an EmbedLayerNormalization node holds the whole block. */
  fusedNode?: string;
}

export interface Pooler {
  dense: Linear;
  activation: 'tanh' | 'relu' | 'none';
}

/**
 * What follows the encoder (discover/head.ts): 'multiple-choice' is a one-score pooled head whose token ids input is
 * [batch, choices, sequence] (transformers' BertForMultipleChoice export: the ids flattened to one row per choice, the
 * scores reshaped to [batch, choices]).
 */
export type HeadKind = 'sequence-classification' | 'multiple-choice' | 'question-answering' | 'pretraining' | 'token-classification' | 'unknown';

export interface TaskHead {
  kind: HeadKind;
  /** Dense layers of the head, in order (e.g. DistilBERT's pre_classifier then classifier). */
  linears: Linear[];
  /** Graph outputs the head produces. */
  outputs: string[];
  /** Output width of the last linear (labels; 1 for regression). */
  numLabels: number;
}

/** The graph inputs an encoder reads. */
export interface EncoderInputs {
  inputIds: string;
  attentionMask?: string;
  tokenTypeIds?: string;
  /** Position ids given as an input (some exports take them rather than computing them in the graph). */
  positionIds?: string;
  /**
   * With `positionIds`: RoBERTa's padding_idx when they are RoBERTa's padding-aware positions (Hugging Face's
   * create_position_ids_from_input_ids: padding_idx + cumsum(ids ≠ padding_idx) · (ids ≠ padding_idx)); absent when
   * they are BERT's arange(seq).
   */
  positionPadding?: number;
}

export interface BertStructure {
  family: ModelFamily;
  exporter: ExporterKind;
  /** ai.onnx opset. */
  opset: number;
  inputs: EncoderInputs;
  hiddenSize: number;
  numLayers: number;
  /**
   * Heads and head size of the first layer that has attention (layers may differ after pruning: see
   * layers[i].attention); 0 when no layer has attention left.
   */
  numHeads: number;
  headSize: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions?: number;
  typeVocabSize?: number;
  embeddings: Embeddings;
  layers: EncoderLayer[];
  pooler?: Pooler;
  head?: TaskHead;
}
