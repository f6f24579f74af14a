/**
 * Hugging Face ALBERT `config.json` (transformers' AlbertConfig) read into the builder's terms: family 'albert',
 * `embeddingSize` = embedding_size (the word, position and token type tables and the embeddings LayerNorm are that
 * wide; `albert.encoder.embedding_hidden_mapping_in` maps them to hidden_size) and `layerGroups` = the group each
 * layer runs, as AlbertTransformer picks it: int(i / (num_hidden_layers / num_hidden_groups)). ALBERT checkpoints
 * are thus already "compressed" in bert-compress's terms (factorized embedding, shared layers) and stay so.
 */
import { SettingsError, quotedText } from '../errors.ts';
import { type ExtendedBertConfig, type Fail, type HfDefaults, bertKeys, hfInt, validateExtendedConfig } from './config.ts';

/** Defaults of transformers' AlbertConfig (albert-xxlarge) for the BERT-layout keys a config.json may leave out. */
const ALBERT_DEFAULTS: Readonly<HfDefaults> = {
  vocab_size: 30000,
  hidden_size: 4096,
  num_hidden_layers: 12,
  num_attention_heads: 64,
  intermediate_size: 16384,
  hidden_act: 'gelu_new',
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
};

/** The group AlbertTransformer runs as layer `i` of `layers`, with `groups` groups (float division, as in Python). */
export function albertLayerGroup(i: number, layers: number, groups: number): number {
  return Math.trunc(i / (layers / groups));
}

/**
 * Reads a Hugging Face ALBERT `config.json` (parsed JSON) into an ExtendedBertConfig of family 'albert'. Keys left out
 * take AlbertConfig's defaults; `label` names the file in error messages, which use the config.json key names.
 * Throws SettingsError for what the builder cannot write: inner_group_num other than 1, more hidden groups than
 * layers, relative position embeddings, unknown activations, bad sizes.
 */
export function albertConfigFromHuggingFace(json: Record<string, unknown>, label: string): ExtendedBertConfig {
  const fail: Fail = (msg: string): never => {
    throw new SettingsError(`${label}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not a JSON object');
  if (json.model_type !== undefined && json.model_type !== 'albert') fail(`model_type is ${quotedText(String(json.model_type))}, not 'albert'`);
  const embeddingSize = hfInt(json, 'embedding_size', 128, 1, fail);
  const groups = hfInt(json, 'num_hidden_groups', 1, 1, fail);
  const inner = hfInt(json, 'inner_group_num', 1, 1, fail);
  if (inner !== 1) {
    fail(`inner_group_num is ${inner}: only ALBERT with one layer per group (inner_group_num 1, as every released checkpoint) is supported`);
  }

  // The rest is BERT's config.json with ALBERT's defaults.
  const base = bertKeys(json, fail, label, ALBERT_DEFAULTS);
  const layers = base.numLayers;
  if (layers > 0 && groups > layers) fail(`num_hidden_groups (${groups}) is more than num_hidden_layers (${layers})`);
  const config: ExtendedBertConfig = { ...base, family: 'albert', embeddingSize };
  if (layers > 0) config.layerGroups = Array.from({ length: layers }, (_, i) => albertLayerGroup(i, layers, groups));
  try {
    return validateExtendedConfig(config);
  } catch (e) {
    if (e instanceof SettingsError) fail(e.message.replace(/^BERT config: /, ''));
    throw e;
  }
}
