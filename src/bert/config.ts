/**
 * The shape of a BERT for sequence classification, as bert-compress builds it, and its mapping to Hugging Face's
 * `config.json` (the `BertConfig` of transformers). Every check throws a SettingsError whose one-line message names
 * the field (in the caller's vocabulary: `hiddenSize` for a BertConfig, `hidden_size` for a config.json).
 */
import { choiceRefusal, counted, integerProblem, type NumberRange, numberProblem, quotedText, SettingsError, valueAndKind, valueText } from '../errors.ts';
import { pythonInt } from '../python-int.ts';
import { jsonObjectKeys } from '../files.ts';
import type { ModelFamily } from './structure.ts';
import { albertConfigFromHuggingFace } from './albert-config.ts';

/**
 * Feed-forward activation: 'gelu' is the exact erf GELU; 'gelu_tanh' is the tanh approximation (HF gelu_new); 'silu'
 * is x · sigmoid(x) (HF silu / swish); 'quick_gelu' is x · sigmoid(1.702 · x); 'tanh' is tanh(x) (not the tanh GELU).
 */
export type BertActivation = 'gelu' | 'gelu_tanh' | 'relu' | 'silu' | 'quick_gelu' | 'tanh';

/** How Hugging Face trains the head; it does not change the graph (logits either way). */
export type ProblemType = 'regression' | 'single_label_classification' | 'multi_label_classification';

export interface BertConfig {
  /** Encoder layers (0 is allowed: embeddings straight into the pooler). */
  numLayers: number;
  /** Width of the residual stream. */
  hiddenSize: number;
  /** Attention heads per layer; must divide hiddenSize. */
  numHeads: number;
  /** Width of the feed-forward block. */
  intermediateSize: number;
  /** Rows of the word embedding table. */
  vocabSize: number;
  /** Rows of the position embedding table (the longest sequence the model accepts). */
  maxPositions: number;
  /** Rows of the token type (segment) embedding table. */
  typeVocabSize: number;
  /** Width of the logits (1 for regression). */
  numLabels: number;
  activation: BertActivation;
  /** LayerNorm epsilon (HF BERT: 1e-12). */
  layerNormEps: number;
  /** Label names by label id, numLabels of them. */
  id2label?: readonly string[];
  problemType?: ProblemType;
}

/** bert-base-uncased with a two-label classifier: 12 layers × 12 heads × 768 (FFN 3072), 110M parameters. */
export const BERT_BASE: Readonly<BertConfig> = Object.freeze({
  numLayers: 12,
  hiddenSize: 768,
  numHeads: 12,
  intermediateSize: 3072,
  vocabSize: 30522,
  maxPositions: 512,
  typeVocabSize: 2,
  numLabels: 2,
  activation: 'gelu',
  layerNormEps: 1e-12,
});

const ACTIVATIONS: readonly BertActivation[] = ['gelu', 'gelu_tanh', 'relu', 'silu', 'quick_gelu', 'tanh'];
const PROBLEM_TYPES: readonly ProblemType[] = ['regression', 'single_label_classification', 'multi_label_classification'];

/** Display names of the fields in error messages. */
type FieldNames = Record<keyof BertConfig, string>;

const TS_NAMES: FieldNames = {
  numLayers: 'numLayers',
  hiddenSize: 'hiddenSize',
  numHeads: 'numHeads',
  intermediateSize: 'intermediateSize',
  vocabSize: 'vocabSize',
  maxPositions: 'maxPositions',
  typeVocabSize: 'typeVocabSize',
  numLabels: 'numLabels',
  activation: 'activation',
  layerNormEps: 'layerNormEps',
  id2label: 'id2label',
  problemType: 'problemType',
};

/** The Hugging Face config.json key of each field. */
const HF_NAMES: FieldNames = {
  numLayers: 'num_hidden_layers',
  hiddenSize: 'hidden_size',
  numHeads: 'num_attention_heads',
  intermediateSize: 'intermediate_size',
  vocabSize: 'vocab_size',
  maxPositions: 'max_position_embeddings',
  typeVocabSize: 'type_vocab_size',
  numLabels: 'num_labels',
  activation: 'hidden_act',
  layerNormEps: 'layer_norm_eps',
  id2label: 'id2label',
  problemType: 'problem_type',
};

/** The layer norm epsilons a config takes. */
const LAYER_NORM_EPS_RANGE: NumberRange = { min: 0, above: true };

/**
 * `NAME: expected an integer from MIN to MAX, got V` (integerProblem's words, V as valueAndKind shows it) unless `v` is such an
 * integer, undefined when it is: every integer of a config (a config.json field, a BertConfig's) is refused so.
 */
function intProblem(name: string, v: unknown, min: number, max?: number): string | undefined {
  const problem = integerProblem(v, min, max);
  return problem === undefined ? undefined : `${name}: ${problem}, got ${valueAndKind(v)}`;
}

/**
 * `NAME: expected one of regression, single_label_classification, multi_label_classification, got V` (choiceRefusal) unless `v` is one
 * of them, or absent (undefined or null, as transformers' PretrainedConfig takes None); undefined when it is. Every
 * other value is refused, as transformers refuses it ("problem_type was not understood").
 */
export function problemTypeProblem(v: unknown, name = 'problem_type'): string | undefined {
  if (v === undefined || v === null || PROBLEM_TYPES.includes(v as ProblemType)) return undefined;
  return choiceRefusal(name, v, PROBLEM_TYPES, { from: 'code' });
}

/**
 * Checks the BertConfig fields. `relaxedHeads` (extended configs with per-layer sizes or an explicit head size):
 * numHeads may be 0 and need not divide hiddenSize.
 */
function checkConfig(c: BertConfig, where: string, names: FieldNames, relaxedHeads = false): void {
  const fail = (msg: string): never => {
    throw new SettingsError(`${where}: ${msg}`);
  };
  const ints: Array<[keyof BertConfig, number]> = [
    ['numLayers', 0],
    ['hiddenSize', 1],
    ['numHeads', relaxedHeads ? 0 : 1],
    ['intermediateSize', 1],
    ['vocabSize', 1],
    ['maxPositions', 1],
    ['typeVocabSize', 1],
    ['numLabels', 1],
  ];
  for (const [k, min] of ints) {
    const problem = intProblem(names[k], c[k], min);
    if (problem !== undefined) fail(problem);
  }
  if (!relaxedHeads && c.hiddenSize % c.numHeads !== 0) {
    fail(`${names.hiddenSize} (${c.hiddenSize}) is not divisible by ${names.numHeads} (${c.numHeads})`);
  }
  if (!ACTIVATIONS.includes(c.activation)) fail(choiceRefusal(names.activation, c.activation, ACTIVATIONS, { from: 'code' }));
  // (the one number wording: 'expected a number greater than 0')
  const eps = numberProblem(c.layerNormEps, LAYER_NORM_EPS_RANGE);
  if (eps !== undefined) fail(`${names.layerNormEps}: ${eps}, got ${valueAndKind(c.layerNormEps)}`);
  if (c.id2label !== undefined) {
    if (!Array.isArray(c.id2label) || c.id2label.some((l) => typeof l !== 'string')) fail(`${names.id2label} must be a list of label names`);
    if (c.id2label.length !== c.numLabels) {
      fail(`${names.id2label} has ${c.id2label.length} labels but ${names.numLabels} is ${c.numLabels}`);
    }
  }
  const problem = problemTypeProblem(c.problemType, names.problemType);
  if (problem !== undefined) fail(problem);
}

/** Throws a SettingsError naming the first bad field of `config`; returns the config otherwise. */
export function validateBertConfig<C extends BertConfig>(config: C): C {
  checkConfig(config, 'BERT config', TS_NAMES);
  return config;
}

/** A validated config: `overrides` over bert-base (with numLabels 2). */
export function bertConfig(overrides: Partial<BertConfig> = {}): BertConfig {
  const c: BertConfig = { ...BERT_BASE };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v;
  return validateBertConfig(c);
}

/** Size of one attention head. */
export function headSize(config: BertConfig): number {
  return config.hiddenSize / config.numHeads;
}

/** Layout families the builder writes (discovery's ModelFamily): BERT, DistilBERT, RoBERTa / XLM-R, ELECTRA, ALBERT. */
export type BertFamily = ModelFamily;

export const BERT_FAMILIES: readonly BertFamily[] = ['bert', 'distilbert', 'roberta', 'electra', 'albert'];

/** Sizes of one encoder layer; numHeads 0 is a layer without attention (every head pruned). */
export interface LayerSizes {
  numHeads: number;
  intermediateSize: number;
}

/**
 * A BertConfig with the layouts that other exporters and the compression passes leave behind, so that any model
 * discovery reads can be rebuilt by `buildBert` (bert/canonical.ts). Every field is optional; a config without them
 * is a plain BertConfig and builds byte for byte as before.
 */
export interface ExtendedBertConfig extends BertConfig {
  /**
   * Layout family (default 'bert'): parameter names, graph inputs, embeddings and head follow Hugging Face's
   * BertForSequenceClassification, DistilBertForSequenceClassification (no token types, no pooler; head =
   * pre_classifier + ReLU + classifier; typeVocabSize is ignored) or RobertaForSequenceClassification / XLM-R
   * (padding-aware positions, no token_type_ids input: token type 0 for every token; head = dense + tanh + out_proj).
   * 'albert' (AlbertForSequenceClassification): `embeddingSize` is then required and is the width of the word,
   * position and token type tables and of the embeddings LayerNorm, followed by the biased Linear
   * `albert.encoder.embedding_hidden_mapping_in` to hiddenSize; layers are named
   * `albert.encoder.albert_layer_groups.<g>.albert_layers.0.…` by their group (layerGroups); head = pooler + Tanh +
   * classifier.
   * 'electra' (ElectraForSequenceClassification): BERT's embeddings and encoder under `electra.`; with `embeddingSize`
   * the word, position and token type tables and the embeddings LayerNorm are that wide, followed by the biased Linear
   * `electra.embeddings_project` to hiddenSize (transformers has it only when embedding_size ≠ hidden_size); head =
   * classifier.dense + exact GELU + classifier.out_proj on the first token, no pooler.
   */
  family?: BertFamily;
  /** Width of one attention head (default hiddenSize / numHeads); needed when heads were pruned. */
  attentionHeadSize?: number;
  /**
   * Per-layer sizes, numLayers of them (after pruning heads or FFN neurons unevenly); when given, numHeads and
   * intermediateSize above are only informational. A layer with numHeads 0 has no attention block: the residual
   * stream gets its `attention.output.dense.bias` added instead (what prune-heads writes).
   */
  layers?: readonly LayerSizes[];
  /**
   * Factorized word embedding (ALBERT, the factorize-embeddings pass): the word table is [vocabSize, E] and a
   * bias-free projection `<prefix>.embeddings.word_embeddings_projection.weight` [hidden, E] (torch Linear layout)
   * maps each looked-up row to the hidden width.
   */
  embeddingSize?: number;
  /**
   * Shared layers (ALBERT, the share-layers pass): layer i reads the parameters of group layerGroups[i], stored
   * under the layer names of index g (`bert.encoder.layer.<g>.…`). Group ids are 0…G−1, numbered in order of first
   * use; the layers of a group must have the same sizes.
   */
  layerGroups?: readonly number[];
  /** RoBERTa's padding_idx (default 1): positions are cumsum(ids ≠ pad) · (ids ≠ pad) + pad. */
  padTokenId?: number;
  /**
   * BERT, ALBERT, ELECTRA: no token_type_ids input; every token's type is 0, computed in the graph as
   * ConstantOfShape(Shape(input_ids)) of 0 (what transformers' torch.zeros(input_shape) exports), as the graph it was
   * read from computes it (an export without the input) or the teacher a student is made from takes none (DistilBERT,
   * RoBERTa). The other families take no token types anyway.
   */
  zeroTokenTypes?: boolean;
}

const EXTENSION_KEYS = ['family', 'attentionHeadSize', 'layers', 'embeddingSize', 'layerGroups', 'padTokenId'] as const;

/** True when the config uses any extended field. */
export function isExtendedConfig(c: ExtendedBertConfig): boolean {
  return EXTENSION_KEYS.some((k) => c[k] !== undefined);
}

/**
 * Whether the family looks up token types in a table of its own (BERT, ALBERT, ELECTRA), read from a token_type_ids
 * input or computed as zeros (`zeroTokenTypes`); DistilBERT has no table, and RoBERTa's single row is added as is.
 */
export function looksUpTokenTypes(family: BertFamily): boolean {
  return family === 'bert' || family === 'albert' || family === 'electra';
}

/**
 * Whether the family's sequence classifier reads a pooler (BERT's and ALBERT's: a dense + tanh on the first token, then
 * the classifier), as discovery reads its head, the canonical rebuild rebuilds it and training puts a new classifier on
 * it (hasClassifierPlace); the other families' heads have a projection of their own (RoBERTa's and ELECTRA's dense,
 * DistilBERT's pre_classifier).
 */
export function classifiesPooled(family: BertFamily): boolean {
  return family === 'bert' || family === 'albert';
}

/** The layout family (default 'bert'). */
export function familyOf(c: ExtendedBertConfig): BertFamily {
  return c.family ?? 'bert';
}

/** The sizes of layer `i`. */
export function layerSizes(c: ExtendedBertConfig, i: number): LayerSizes {
  return c.layers?.[i] ?? { numHeads: c.numHeads, intermediateSize: c.intermediateSize };
}

/** The width of one attention head (0 when no layer has heads and none is given). */
export function attentionHeadSize(c: ExtendedBertConfig): number {
  return c.attentionHeadSize ?? (c.numHeads > 0 ? c.hiddenSize / c.numHeads : 0);
}

/**
 * The layers `every-other` keeps of a model of `numLayers` encoder layers: 0, 2, 4, … (DistilBERT's initialization),
 * what drop-layers `keep: every-other` keeps and an every-other student copies.
 */
export function everyOtherLayers(numLayers: number): number[] {
  return Array.from({ length: numLayers }, (_, i) => i).filter((i) => i % 2 === 0);
}

/** The parameter group layer `i` reads (its own index unless layers are shared). */
export function layerGroupOf(c: ExtendedBertConfig, i: number): number {
  return c.layerGroups?.[i] ?? i;
}

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** The checks of the extended fields (the BertConfig fields are checked first). */
function checkExtensions(c: ExtendedBertConfig, fail: (msg: string) => never): void {
  if (c.family !== undefined && !BERT_FAMILIES.includes(c.family)) fail(choiceRefusal('family', c.family, BERT_FAMILIES, { from: 'code' }));
  const problem = (name: string, v: unknown, min: number, max?: number) => {
    const p = intProblem(name, v, min, max);
    if (p !== undefined) fail(p);
  };
  if (c.attentionHeadSize !== undefined) problem('attentionHeadSize', c.attentionHeadSize, 1);
  if (c.embeddingSize !== undefined) problem('embeddingSize', c.embeddingSize, 1);
  if (c.family === 'albert' && c.embeddingSize === undefined) fail('embeddingSize is required for family albert (its embeddings are that wide)');
  if (c.padTokenId !== undefined) problem('padTokenId', c.padTokenId, 0, c.vocabSize - 1);
  if (c.layers !== undefined) {
    if (!Array.isArray(c.layers) || c.layers.length !== c.numLayers) fail(`layers must list numLayers (${c.numLayers}) layer sizes`);
    c.layers.forEach((l, i) => {
      problem(`layers[${i}].numHeads`, l?.numHeads, 0);
      problem(`layers[${i}].intermediateSize`, l.intermediateSize, 1);
    });
  }
  const withHeads = Array.from({ length: c.numLayers }, (_, i) => layerSizes(c, i).numHeads).some((h) => h > 0);
  if (withHeads && c.attentionHeadSize === undefined && (c.numHeads === 0 || c.hiddenSize % c.numHeads !== 0)) {
    fail(`hiddenSize (${c.hiddenSize}) is not divisible by numHeads (${c.numHeads}): give attentionHeadSize`);
  }
  if (c.layerGroups !== undefined) checkLayerGroups(c, c.layerGroups, fail);
}

/** Group ids 0…G−1 in order of first use, one per layer; layers of a group have the same sizes. */
function checkLayerGroups(c: ExtendedBertConfig, groups: readonly number[], fail: (msg: string) => never): void {
  if (!Array.isArray(groups) || groups.length !== c.numLayers) fail(`layerGroups must list numLayers (${c.numLayers}) group ids`);
  const first = new Map<number, number>();
  groups.forEach((g, i) => {
    if (!isInt(g, 0) || g > first.size) fail(`layerGroups[${i}]: expected a known group id or the next new one, ${first.size}, got ${valueAndKind(g)}`);
    if (!first.has(g)) first.set(g, i);
    const a = layerSizes(c, first.get(g)!);
    const b = layerSizes(c, i);
    if (a.numHeads !== b.numHeads || a.intermediateSize !== b.intermediateSize) {
      fail(`layers ${first.get(g)} and ${i} share group ${g} but have different sizes`);
    }
  });
}

/**
 * Throws a SettingsError naming the first bad field of an extended config; returns the config otherwise. A config
 * without extended fields is checked exactly as validateBertConfig checks it.
 */
export function validateExtendedConfig<C extends ExtendedBertConfig>(config: C): C {
  const where = 'BERT config';
  const ext = isExtendedConfig(config);
  checkConfig(config, where, TS_NAMES, ext && (config.layers !== undefined || config.attentionHeadSize !== undefined));
  if (ext) {
    checkExtensions(config, (msg: string): never => {
      throw new SettingsError(`${where}: ${msg}`);
    });
  }
  return config;
}

/**
 * Parameters of BertForSequenceClassification with this plain config (embeddings, encoder, pooler, classifier); for
 * an ExtendedBertConfig, sum the sizes of bertParameters (build-weights.ts).
 */
export function countParameters(c: BertConfig): number {
  const h = c.hiddenSize;
  const ln = 2 * h;
  const embeddings = (c.vocabSize + c.maxPositions + c.typeVocabSize) * h + ln;
  const layer = 4 * (h * h + h) + (h * c.intermediateSize + c.intermediateSize) + (c.intermediateSize * h + h) + 2 * ln;
  return embeddings + c.numLayers * layer + (h * h + h) + (c.numLabels * h + c.numLabels);
}

/** HF `hidden_act` values and the activation each means. */
const HF_ACTIVATIONS: Record<string, BertActivation> = {
  gelu: 'gelu',
  gelu_python: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  // AccurateGELUActivation: 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))), gelu_new's formula.
  gelu_accurate: 'gelu_tanh',
  relu: 'relu',
  // SiLUActivation / nn.SiLU: x · sigmoid(x); transformers' ACT2FN names it silu and swish.
  silu: 'silu',
  swish: 'silu',
  // QuickGELUActivation: x · sigmoid(1.702 · x).
  quick_gelu: 'quick_gelu',
  // nn.Tanh (not a GELU)
  tanh: 'tanh',
};

/** BERT-layout keys of a config.json and transformers' defaults for those a file leaves out. */
export interface HfDefaults {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
}

/** Defaults of transformers' BertConfig for keys a config.json may leave out. */
const HF_DEFAULTS: Readonly<HfDefaults> = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
};

/** RobertaConfig's defaults (XLMRobertaConfig keeps BertConfig's vocab_size); both default pad_token_id to 1. */
const ROBERTA_DEFAULTS: Readonly<HfDefaults> = { ...HF_DEFAULTS, vocab_size: 50265 };

/** ElectraConfig's defaults (electra-small); embedding_size defaults to 128. */
const ELECTRA_DEFAULTS: Readonly<HfDefaults> = { ...HF_DEFAULTS, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 };

/** DistilBertConfig's keys and defaults (its LayerNorms use eps 1e-12, not a config key). */
const DISTILBERT_DEFAULTS = {
  vocab_size: 30522,
  max_position_embeddings: 512,
  n_layers: 6,
  n_heads: 12,
  dim: 768,
  hidden_dim: 3072,
  activation: 'gelu',
} as const;

/** DistilBertConfig's names of the fields, for error messages. */
const DISTILBERT_NAMES: FieldNames = {
  ...HF_NAMES,
  numLayers: 'n_layers',
  hiddenSize: 'dim',
  numHeads: 'n_heads',
  intermediateSize: 'hidden_dim',
  activation: 'activation',
};

/** The config.json key of `field` in a config of `family` (DistilBertConfig's own names: n_layers, dim, …). */
export function configJsonKey(family: BertFamily, field: keyof BertConfig): string {
  return (family === 'distilbert' ? DISTILBERT_NAMES : HF_NAMES)[field];
}

/** The `model_type` values configFromHuggingFace reads. */
export const HF_MODEL_TYPES = ['bert', 'distilbert', 'roberta', 'xlm-roberta', 'camembert', 'electra', 'albert'] as const;

export type Fail = (msg: string) => never;

/**
 * Reads a Hugging Face `config.json` (parsed JSON) by its `model_type` (left out: bert; null refused): BERT, DistilBERT,
 * RoBERTa, XLM-RoBERTa, CamemBERT, ELECTRA and ALBERT (albert-config.ts), into the config of the family's
 * ForSequenceClassification model (`family` set for all but BERT, which reads exactly as a plain BertConfig). Keys
 * left out take the defaults of transformers' config class; the label count comes from `id2label`, else
 * `num_labels`, else 2 (as transformers does: configLabels). `label` names the file in error messages, which use
 * the config.json key names. `text`, the file's text (`json` parsed), gives pruned_heads' keys in the file's order, as
 * transformers takes them (withPrunedHeads); without it they are taken in the object's order. Throws SettingsError for
 * configs bert-compress cannot build (other model types, relative position embeddings, decoders, unknown activations,
 * bad sizes).
 */
export function configFromHuggingFace(json: unknown, label = 'config.json', text?: string): ExtendedBertConfig {
  const fail: Fail = (msg: string): never => {
    throw new SettingsError(`${label}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not a JSON object');
  const j = json as Record<string, unknown>;
  const order = text === undefined ? undefined : jsonObjectKeys(text, 'pruned_heads');
  const config = familyConfig(j, fail, label);
  refuseQuantized(j, fail);
  return withPrunedHeads(config, j, fail, order);
}

/**
 * Refuses a quantized checkpoint, one whose config.json has a `quantization_config` (GPTQ, AWQ, bitsandbytes, FP8,
 * compressed-tensors, …): transformers reads its weights through the quantizer it names (packed integers, their scales
 * beside them, as transformers' from_pretrained does for any quantization_config not null), where read as float
 * weights they are not the model's (an FP8 weight without its scale, a GPTQ layer's float bias beside its packed weight).
 */
function refuseQuantized(j: Record<string, unknown>, fail: Fail): void {
  const q = j.quantization_config;
  if (q === undefined || q === null) return;
  const method = (q as { quant_method?: unknown }).quant_method;
  const named = typeof method === 'string' ? ` (quant_method ${quotedText(method)})` : '';
  fail(
    `quantization_config${named}: a quantized checkpoint, whose weights transformers reads through its quantizer (packed integers and their scales), where bert-compress reads float weights: give the float model it was quantized from, or save it dequantized (transformers' model.dequantize(), then save_pretrained)`,
  );
}

/** configFromHuggingFace's config of the family config.json's `model_type` names, before its pruned_heads. */
function familyConfig(j: Record<string, unknown>, fail: Fail, label: string): ExtendedBertConfig {
  // (left out: bert; null is refused as transformers' AutoConfig refuses it, a model type of None it does not know)
  const type = j.model_type === undefined ? 'bert' : j.model_type;
  switch (type) {
    case 'bert':
      return bertKeys(j, fail, label, HF_DEFAULTS);
    case 'distilbert':
      return distilbertConfig(j, fail, label);
    case 'roberta':
    case 'xlm-roberta':
    case 'camembert': // CamemBERT is RoBERTa's model under the same `roberta.` names, with a SentencePiece vocabulary
      return robertaConfig(j, fail, label, type === 'roberta' ? ROBERTA_DEFAULTS : HF_DEFAULTS);
    case 'electra':
      return electraConfig(j, fail, label);
    case 'albert':
      return albertConfigFromHuggingFace(j, label);
    default:
      return fail(choiceRefusal('model_type', type, HF_MODEL_TYPES, { from: 'file', note: '(those supported)' }));
  }
}

/**
 * The config with config.json's `pruned_heads` (the heads transformers prunes as it builds the model, before the
 * checkpoint's weights, which are saved pruned, are loaded: PreTrainedModel.init_weights): each layer's head count
 * less its group's pruned heads (a key is a layer, an ALBERT parameter group, read as transformers reads it: Python's
 * int(), a later key of the same number in place of an earlier one, a negative key counted from the last as Python
 * indexes a list; a head listed twice is pruned once; a negative head counted from the last, as torch indexes the
 * head mask transformers prunes by), the head width num_attention_heads' (hidden_size / num_attention_heads). Two keys
 * of one layer ('3' and '-1' of 4 layers) prune it one after the other, as transformers' prune_heads does
 * (find_pruneable_heads_and_indices): the second list less the heads the first listed (as written), each shifted down
 * by those listed before it that are less, and indexed in the heads left ({'3': [3], '-1': [-1]} prunes two heads).
 * An absent, null or empty pruned_heads leaves the config as it is; a key that names no layer (group), a head that is
 * not one of num_attention_heads or past the heads a layer has left, or two heads of one list that name one head (3
 * and -1 of 4: transformers counts it twice and removes it once, the checkpoint does not load) is refused through
 * `fail`, as transformers fails to build such a model. The keys are taken in `order` (the file's: jsonObjectKeys), else
 * in the object's, where JSON.parse puts a number key ('1') before the others ('-1', '01') and Python's json keeps the
 * file's order: the head counts are the same in either order, but the order decides whether a negative head is past
 * the heads left ({"-1": [-4], "1": [3]} of 2 layers of 4 heads, which transformers builds, fails with '1' first).
 */
function withPrunedHeads(config: ExtendedBertConfig, j: Record<string, unknown>, fail: Fail, order?: readonly string[]): ExtendedBertConfig {
  const given = j.pruned_heads;
  if (given === undefined || given === null) return config;
  if (typeof given !== 'object' || Array.isArray(given)) fail('pruned_heads must be an object of layer to the heads pruned in it');
  const entries = (order ?? Object.keys(given)).map((k): [string, unknown] => [k, (given as Record<string, unknown>)[k]]);
  if (!entries.length) return config;
  const groups = config.layerGroups ? Math.max(...config.layerGroups) + 1 : config.numLayers;
  const what = familyOf(config) === 'albert' ? 'layer group' : 'layer';
  // (transformers reads the keys as int(key) into a dict, where a later key of the same number wins, and indexes its
  // layers by each as Python indexes a list: -1 the last; a key from the end and its index prune one layer's heads)
  const byKey = new Map<number, [string, unknown]>();
  const countKey = configJsonKey(familyOf(config), 'numHeads');
  for (const [k, heads] of entries) {
    const g = pythonInt(k) ?? Number.NaN;
    if (!Number.isSafeInteger(g) || g < -groups || g >= groups)
      fail(`pruned_heads key ${quotedText(k)} is not a ${what} (0 to ${groups - 1}, or -${groups} to -1 from the last)`);
    byKey.set(g, [k, heads]);
  }
  // (each layer's heads listed so far, as written (transformers' attention.pruned_heads), its heads left, and its keys)
  const pruned = new Map<number, { listed: Set<number>; left: number; keys: string[] }>();
  const n = config.numHeads;
  for (const [key, [k, heads]] of byKey) {
    const g = key < 0 ? key + groups : key;
    if (!Array.isArray(heads)) fail(`pruned_heads[${quotedText(k)}] must be a list of heads`);
    for (const h of heads as unknown[])
      if (!isInt(h, -n) || h >= n) fail(`pruned_heads[${quotedText(k)}]: expected a head of the ${n} (${countKey}), got ${valueAndKind(h, 'file')}`);
    const layer = pruned.get(g) ?? { listed: new Set<number>(), left: n, keys: [] };
    const fresh = [...new Set(heads as number[])].filter((h) => !layer.listed.has(h));
    // (the row of the heads left each names: shifted down by the heads listed before that are less, a negative one
    // from the last, as torch indexes the mask)
    const rows = new Map<number, number>();
    for (const h of fresh) {
      let index = h;
      for (const p of layer.listed) if (p < h) index--;
      if (index < -layer.left || index >= layer.left)
        fail(
          `pruned_heads[${quotedText(k)}]: head ${h} is past the ${counted(layer.left, 'head')} ${what} ${g} has left after ${layer.keys.map((x) => `pruned_heads[${quotedText(x)}]`).join(' and ')} (transformers indexes it as head ${index} of those)`,
        );
      const row = index < 0 ? index + layer.left : index;
      const other = rows.get(row);
      // (transformers counts the two as two pruned heads but removes one head's weights: the layer's head count
      // then disagrees with its weights, and the checkpoint does not load)
      if (other !== undefined)
        fail(`pruned_heads[${quotedText(k)}]: ${other} and ${h} are the same head of the ${layer.left}, which transformers counts twice`);
      rows.set(row, h);
    }
    for (const h of fresh) layer.listed.add(h);
    layer.left -= fresh.length;
    layer.keys.push(k);
    pruned.set(g, layer);
  }
  const layers = Array.from({ length: config.numLayers }, (_, i) => ({
    numHeads: pruned.get(layerGroupOf(config, i))?.left ?? config.numHeads,
    intermediateSize: layerSizes(config, i).intermediateSize,
  }));
  return validateExtendedConfig({ ...config, attentionHeadSize: attentionHeadSize(config), layers });
}

/** The activation a config.json names under `key`. */
function hfActivation(value: unknown, key: string, fail: Fail): BertActivation {
  if (typeof value !== 'string' || !Object.hasOwn(HF_ACTIVATIONS, value)) {
    fail(choiceRefusal(key, value, Object.keys(HF_ACTIVATIONS), { from: 'file' }));
  }
  return HF_ACTIVATIONS[value as string];
}

/**
 * The label warnings already written (configLabels), by what each says after its file: once per process, naming the
 * first file that holds it, as a sweep reads its model's config.json and then each point's copy of it.
 */
const warnedLabels = new Set<string>();

/** Writes `warning: FILE: WHAT` on stderr unless a config.json already warned `what` (warnedLabels). */
function warnLabelsOnce(file: string, what: string): void {
  if (warnedLabels.has(what)) return;
  warnedLabels.add(what);
  process.stderr.write(`warning: ${file}: ${what}\n`);
}

/**
 * The labels of a config.json (parsed JSON `j`, named `file` in the warning), as transformers' PretrainedConfig reads
 * them: `id2label` (absent or null: none), each key read as Python's int() reads it (`int(key)`: ' 1', '01' are 1; a
 * later key of the same id wins), each name a string; its size is the label count, a `num_labels` that differs
 * (whatever it holds: `"2"`, 0) overwritten, with one warning line on stderr (once per process: warnLabelsOnce). An empty id2label is
 * refused (transformers reads it as no labels, a classifier of no outputs), and so is a num_labels that is not a
 * positive integer without one (transformers fails on `"2"` and on null, and builds no classifier for 0); with one, num_labels
 * null is ignored, as transformers pops it. Without either, the count
 * is null (2 by transformers' default: the caller's). The model's own classifier (graph output or weights) is checked
 * against the count by its readers. A `label2id` that disagrees with id2label is warned of (so too): id2label
 * is read. `fail` throws the reader's one-line error.
 */
export function configLabels(j: Record<string, unknown>, file: string, fail: Fail): { id2label: ReadonlyMap<number, string> | null; numLabels: number | null } {
  const n = j.num_labels;
  const id2label = configId2label(j, fail);
  if (id2label === null) {
    if (n === undefined) return { id2label: null, numLabels: null };
    // (null without id2label: transformers' num_labels setter fails on range(None), refused naming the key: hfValue)
    hfValue(j, 'num_labels', 2, fail);
    const problem = intProblem('num_labels', n, 1);
    if (problem !== undefined) fail(problem);
    return { id2label: null, numLabels: n as number };
  }
  if (n !== undefined && n !== null && n !== id2label.size)
    warnLabelsOnce(
      file,
      `num_labels is ${typeof n === 'number' ? n : valueAndKind(n, 'file')} but id2label has ${id2label.size} labels: reading ${id2label.size}, as transformers does`,
    );
  const crossed = label2idDisagreement(j.label2id, id2label);
  if (crossed !== undefined)
    warnLabelsOnce(file, `${crossed}: reading id2label, as transformers' pipelines do (its run_glue maps a task's label names by label2id)`);
  return { id2label, numLabels: id2label.size };
}

/**
 * "label2id gives 'positive' id 0 but id2label[0] is 'negative'" for the first entry of config.json's `label2id` (an
 * object of name to id, the id read as Python's int() reads it) that `id2label` does not give back; undefined when
 * every entry agrees, or label2id is no such object (transformers writes it as id2label's inverse).
 */
function label2idDisagreement(label2id: unknown, id2label: ReadonlyMap<number, string>): string | undefined {
  if (!label2id || typeof label2id !== 'object' || Array.isArray(label2id)) return undefined;
  for (const [name, v] of Object.entries(label2id)) {
    const id = typeof v === 'number' ? v : typeof v === 'string' ? pythonInt(v) : undefined;
    if (id === undefined || id2label.get(id) === name) continue;
    const given = id2label.get(id);
    return `label2id gives ${quotedText(name)} id ${id} but ${given === undefined ? `id2label has no ${id}` : `id2label[${id}] is ${quotedText(given)}`}`;
  }
  return undefined;
}

/**
 * A config.json's `id2label` (absent or null: null) as transformers' PretrainedConfig reads it (configLabels, without
 * its num_labels warning): each key read as Python's int() reads it, a later key of the same id winning; an empty
 * one, a key that is no label id or a name that is not a string refused through `fail`.
 */
export function configId2label(j: Record<string, unknown>, fail: Fail): ReadonlyMap<number, string> | null {
  if (j.id2label === undefined || j.id2label === null) return null;
  if (typeof j.id2label !== 'object' || Array.isArray(j.id2label)) fail('id2label must be an object of label id to name');
  const id2label = new Map<number, string>();
  for (const [k, v] of Object.entries(j.id2label as Record<string, unknown>)) {
    const id = pythonInt(k) ?? Number.NaN;
    if (!Number.isSafeInteger(id) || id < 0) fail(`id2label key ${quotedText(k)} is not a label id (a whole number from 0)`);
    if (typeof v !== 'string') fail(`id2label[${quotedText(k)}] must be a string`);
    id2label.set(id, v as string);
  }
  if (id2label.size === 0) {
    fail("id2label is empty: transformers reads it as no labels (a classifier of no outputs); give it the classifier's labels, or remove it");
  }
  return id2label;
}

/** Label names, label count and problem type of a config.json (configLabels; its id2label must name each id 0…n−1). */
function hfLabels(j: Record<string, unknown>, fail: Fail, label: string): Pick<BertConfig, 'numLabels' | 'id2label' | 'problemType'> {
  const labels = configLabels(j, label, fail);
  const out: Pick<BertConfig, 'numLabels' | 'id2label' | 'problemType'> = { numLabels: labels.numLabels ?? 2 };
  if (labels.id2label) {
    const names = Array.from({ length: labels.id2label.size }, (_, i) => labels.id2label!.get(i));
    const extra = [...labels.id2label.keys()].find((id) => id >= names.length);
    if (extra !== undefined) fail(`id2label keys must be the label ids 0..${names.length - 1} (got ${quotedText(String(extra))})`);
    out.id2label = names as string[];
  }
  if (j.problem_type !== undefined && j.problem_type !== null) out.problemType = j.problem_type as ProblemType;
  return out;
}

/** The BERT-layout keys (BERT, RoBERTa / XLM-R, ELECTRA) with `defaults` for those left out, checked. */
export function bertKeys(j: Record<string, unknown>, fail: Fail, label: string, defaults: Readonly<HfDefaults>): BertConfig {
  const pet = j.position_embedding_type;
  // (null is not the default: transformers' embeddings add positions only where it is 'absolute', so null adds none)
  if (pet === null)
    fail(
      "position_embedding_type: null, with which transformers adds no position embeddings (only 'absolute' adds them, the one supported): give 'absolute' or leave the key out",
    );
  if (pet !== undefined && pet !== 'absolute') fail(`position_embedding_type: expected 'absolute' (the one supported), got ${valueAndKind(pet, 'file')}`);
  if (j.is_decoder === true) fail('is_decoder is true: only BERT encoders are supported');

  const get = <K extends keyof HfDefaults>(k: K): unknown => hfValue(j, k, defaults[k], fail);
  const activation = hfActivation(get('hidden_act'), 'hidden_act', fail);
  const labels = hfLabels(j, fail, label);
  const config: BertConfig = {
    numLayers: get('num_hidden_layers') as number,
    hiddenSize: get('hidden_size') as number,
    numHeads: get('num_attention_heads') as number,
    intermediateSize: get('intermediate_size') as number,
    vocabSize: get('vocab_size') as number,
    maxPositions: get('max_position_embeddings') as number,
    typeVocabSize: get('type_vocab_size') as number,
    numLabels: labels.numLabels,
    activation,
    layerNormEps: get('layer_norm_eps') as number,
  };
  if (labels.id2label) config.id2label = labels.id2label;
  if (labels.problemType) config.problemType = labels.problemType;
  checkConfig(config, label, HF_NAMES);
  return config;
}

/** DistilBertConfig: dim, n_layers, n_heads, hidden_dim, activation; LayerNorm eps 1e-12; no token types. */
function distilbertConfig(j: Record<string, unknown>, fail: Fail, label: string): ExtendedBertConfig {
  const get = <K extends keyof typeof DISTILBERT_DEFAULTS>(k: K): unknown => hfValue(j, k, DISTILBERT_DEFAULTS[k], fail);
  const activation = hfActivation(get('activation'), 'activation', fail);
  // (true: fixed sinusoids where the checkpoint has no position table, build-hf.ts sinusoidalPositions; text such as
  // "false", which Python reads as true, refused)
  const sinusoids = j.sinusoidal_pos_embds;
  if (sinusoids !== undefined && sinusoids !== null && typeof sinusoids !== 'boolean')
    fail(`sinusoidal_pos_embds: expected true or false, got ${valueAndKind(sinusoids, 'file')}`);
  const config: ExtendedBertConfig = {
    numLayers: get('n_layers') as number,
    hiddenSize: get('dim') as number,
    numHeads: get('n_heads') as number,
    intermediateSize: get('hidden_dim') as number,
    vocabSize: get('vocab_size') as number,
    maxPositions: get('max_position_embeddings') as number,
    typeVocabSize: 1,
    ...hfLabels(j, fail, label),
    activation,
    layerNormEps: 1e-12,
    family: 'distilbert',
  };
  checkConfig(config, label, DISTILBERT_NAMES);
  return validateExtendedConfig(config);
}

/**
 * `key` of a config.json, `fallback` (the default of transformers' config class) when left out; null refused through
 * `fail` naming the key: transformers' config classes keep a null (None) as the value, not the default, and the model
 * then fails to build or run (ACT2FN[None], nn.LayerNorm's eps None, nn.Linear of None features).
 */
function hfValue(j: Record<string, unknown>, key: string, fallback: unknown, fail: Fail): unknown {
  if (j[key] === null)
    fail(
      `${key}: null, which transformers keeps as None, not as its default (${valueText(fallback)}), and then fails to build or run the model: give a value or leave the key out`,
    );
  return j[key] === undefined ? fallback : j[key];
}

/** `key` of a config.json as an integer ≥ `min` (0 or 1), `fallback` when left out (null refused: hfValue). */
export function hfInt(j: Record<string, unknown>, key: string, fallback: number, min: number, fail: Fail): number {
  const v = hfValue(j, key, fallback, fail);
  const problem = intProblem(key, v, min);
  if (problem !== undefined) fail(problem);
  return v as number;
}

/** RobertaConfig / XLMRobertaConfig: BERT's keys, padding-aware positions from pad_token_id (default 1). */
function robertaConfig(j: Record<string, unknown>, fail: Fail, label: string, defaults: Readonly<HfDefaults>): ExtendedBertConfig {
  const config: ExtendedBertConfig = { ...bertKeys(j, fail, label, defaults), family: 'roberta' };
  const pad = hfInt(j, 'pad_token_id', 1, 0, fail);
  if (pad >= config.vocabSize) fail(`pad_token_id (${pad}) is not below vocab_size (${config.vocabSize})`);
  if (pad + 1 >= config.maxPositions) fail(`max_position_embeddings (${config.maxPositions}) leaves no position after pad_token_id + 1 (${pad + 1})`);
  config.padTokenId = pad;
  return validateExtendedConfig(config);
}

/** ElectraConfig: BERT's keys and embedding_size (default 128); embeddingSize is set only when it differs from hidden_size. */
function electraConfig(j: Record<string, unknown>, fail: Fail, label: string): ExtendedBertConfig {
  const config: ExtendedBertConfig = { ...bertKeys(j, fail, label, ELECTRA_DEFAULTS), family: 'electra' };
  const e = hfInt(j, 'embedding_size', 128, 1, fail);
  if (e !== config.hiddenSize) config.embeddingSize = e;
  return validateExtendedConfig(config);
}

/**
 * A Hugging Face `config.json` object for a BertForSequenceClassification with this config, which transformers
 * loads as is. 'gelu_tanh' is written as 'gelu_new'; labels without names are written as LABEL_0, LABEL_1…
 */
export function configToHuggingFace(config: BertConfig): Record<string, unknown> {
  if (isExtendedConfig(config)) {
    throw new SettingsError(
      `BERT config: ${EXTENSION_KEYS.filter((k) => (config as ExtendedBertConfig)[k] !== undefined).join(', ')} cannot be written as a Hugging Face BertConfig`,
    );
  }
  const c = validateBertConfig(config);
  const names = c.id2label ?? Array.from({ length: c.numLabels }, (_, i) => `LABEL_${i}`);
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  names.forEach((n, i) => {
    id2label[String(i)] = n;
    label2id[n] = i;
  });
  const out: Record<string, unknown> = {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize,
    hidden_act: c.activation === 'gelu_tanh' ? 'gelu_new' : c.activation,
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: c.maxPositions,
    type_vocab_size: c.typeVocabSize,
    initializer_range: 0.02,
    layer_norm_eps: c.layerNormEps,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    num_labels: c.numLabels,
    id2label,
    label2id,
  };
  if (c.problemType) out.problem_type = c.problemType;
  return out;
}
