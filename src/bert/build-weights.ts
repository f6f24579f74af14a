/**
 * The parameters of Hugging Face `BertForSequenceClassification`: their state-dict names and torch shapes (Linear
 * weights are [out, in]), how transformers initializes them, and where the builder gets their values: a seeded
 * PRNG, or arrays the caller gives (read from a safetensors file, or another model).
 */
import { DataError, counted, isAre, plural, quotedText } from '../errors.ts';
import { someNames } from '../some-names.ts';
import { type BertFamily, type ExtendedBertConfig, attentionHeadSize, configJsonKey, familyOf, layerSizes } from './config.ts';
import { Rng } from './random.ts';

/** How transformers' `_init_weights` fills a parameter. */
export type ParamInit = 'normal' | 'zeros' | 'ones' | 'embedding';

/** One parameter: its Hugging Face name, torch shape and initialization. */
export interface ParamSpec {
  name: string;
  dims: readonly number[];
  init: ParamInit;
  /** 'embedding' tables: the padding row transformers zeroes (default 0; RoBERTa's padding_idx). */
  paddingIdx?: number;
  /** The config field each dimension is, where it is one field's (a word table's rows: vocabSize), as a misshapen tensor's refusal names it. */
  sizedBy?: readonly (SizeField | undefined)[];
}

/**
 * The config fields a parameter's dimension may be (sizedBy): each one config.json key of the family's;
 * 'attentionWidth', a layer's Q, K and V width where no head of it is pruned: hidden_size's, or the heads less those
 * pruned (sizeKeys).
 */
export type SizeField = 'vocabSize' | 'maxPositions' | 'typeVocabSize' | 'hiddenSize' | 'intermediateSize' | 'embeddingSize' | 'attentionWidth';

/** The config.json key of a size field (configJsonKey's, DistilBERT's own names among them; embedding_size for ALBERT's and ELECTRA's). */
function sizeKey(family: BertFamily, field: SizeField): string {
  if (field === 'embeddingSize') return 'embedding_size';
  return configJsonKey(family, field === 'attentionWidth' ? 'hiddenSize' : field);
}

/** A parameter's values: a flat row-major array, optionally with its shape (checked against the config). */
export type WeightArray = Float32Array | { readonly dims: readonly number[]; readonly data: Float32Array };

/** Parameter values by Hugging Face name. */
export type NamedWeights = ReadonlyMap<string, WeightArray> | Readonly<Record<string, WeightArray>>;

/** Options of seeded weights. */
export interface RandomInit {
  /** PRNG seed (a safe integer). Each parameter has its own stream keyed by (seed, name). */
  seed: number;
  /** Standard deviation of matrices and embeddings (transformers' initializer_range, 0.02). */
  std?: number;
}

/**
 * Where the builder takes weights from: seeded random values initialized as transformers does (normal(0, std)
 * matrices and embeddings with the padding row 0 zeroed, zero biases, LayerNorm ones/zeros); or given arrays by
 * Hugging Face name, where `fillMissing` seeds the parameters left out (e.g. the classifier of a bare BertModel
 * checkpoint), as transformers does for newly initialized weights.
 */
export type WeightSource =
  | ({ kind: 'random' } & RandomInit)
  | {
      kind: 'given';
      tensors: NamedWeights;
      fillMissing?: RandomInit;
      /** What errors name the tensors' source by (default 'weights'; a Hugging Face folder's path). */
      label?: string;
      /** The file the config was read from (a Hugging Face folder's config.json): a misshapen tensor's refusal names its key of the size. */
      configFile?: string;
    };

/** Default transformers initializer_range. */
export const DEFAULT_INIT_STD = 0.02;

/** Each family's module prefix of its parameter names (`bert.embeddings.…`). */
export const FAMILY_PREFIX: Readonly<Record<BertFamily, string>> = {
  bert: 'bert',
  distilbert: 'distilbert',
  roberta: 'roberta',
  electra: 'electra',
  albert: 'albert',
};

/**
 * The name prefix of encoder layer (ALBERT: layer group) `i`'s parameters, `bert.encoder.layer.3.` (layerParamNames,
 * shortOfLayers).
 */
function layerPrefix(i: number, family: BertFamily): string {
  if (family === 'distilbert') return `distilbert.transformer.layer.${i}.`;
  if (family === 'albert') return `albert.encoder.albert_layer_groups.${i}.`;
  return `${FAMILY_PREFIX[family]}.encoder.layer.${i}.`;
}

/**
 * Hugging Face names (without `.weight` / `.bias`) of one encoder layer's parameters, by role. For DistilBERT the
 * roles map to `distilbert.transformer.layer.<i>.attention.{q,k,v,out}_lin`, `sa_layer_norm`, `ffn.lin1`, `ffn.lin2`
 * and `output_layer_norm`.
 */
export function layerParamNames(i: number, family: BertFamily = 'bert') {
  if (family === 'distilbert') {
    const p = layerPrefix(i, family);
    return {
      query: `${p}attention.q_lin`,
      key: `${p}attention.k_lin`,
      value: `${p}attention.v_lin`,
      attentionOutput: `${p}attention.out_lin`,
      attentionNorm: `${p}sa_layer_norm`,
      intermediate: `${p}ffn.lin1`,
      output: `${p}ffn.lin2`,
      outputNorm: `${p}output_layer_norm`,
    };
  }
  if (family === 'albert') {
    // Layer group i's only layer (inner_group_num 1).
    const p = `${layerPrefix(i, family)}albert_layers.0.`;
    return {
      query: `${p}attention.query`,
      key: `${p}attention.key`,
      value: `${p}attention.value`,
      attentionOutput: `${p}attention.dense`,
      attentionNorm: `${p}attention.LayerNorm`,
      intermediate: `${p}ffn`,
      output: `${p}ffn_output`,
      outputNorm: `${p}full_layer_layer_norm`,
    };
  }
  const p = layerPrefix(i, family);
  return {
    query: `${p}attention.self.query`,
    key: `${p}attention.self.key`,
    value: `${p}attention.self.value`,
    attentionOutput: `${p}attention.output.dense`,
    attentionNorm: `${p}attention.output.LayerNorm`,
    intermediate: `${p}intermediate.dense`,
    output: `${p}output.dense`,
    outputNorm: `${p}output.LayerNorm`,
  };
}

/**
 * Hugging Face names of the embeddings' parameters (full names, with `.weight`; `norm` without). `projection` is the
 * factorized word embedding's [hidden, E] projection (bert-compress's name); for ALBERT it is the weight of
 * `albert.encoder.embedding_hidden_mapping_in` (`mapping`, which has a bias and maps the whole normalized E-wide
 * embeddings). DistilBERT has no token type table.
 */
export function embeddingParamNames(family: BertFamily = 'bert') {
  const p = `${FAMILY_PREFIX[family]}.embeddings.`;
  const mapping = family === 'electra' ? 'electra.embeddings_project' : 'albert.encoder.embedding_hidden_mapping_in';
  return {
    word: `${p}word_embeddings.weight`,
    projection: family === 'albert' ? `${mapping}.weight` : `${p}word_embeddings_projection.weight`,
    mapping,
    position: `${p}position_embeddings.weight`,
    tokenType: `${p}token_type_embeddings.weight`,
    norm: `${p}LayerNorm`,
  };
}

/**
 * Hugging Face names (without `.weight` / `.bias`) of the layers after the encoder, in order: BERT's pooler and
 * classifier; DistilBERT's pre_classifier and classifier; RoBERTa's and ELECTRA's classifier.dense and
 * classifier.out_proj.
 */
export function headParamNames(family: BertFamily = 'bert'): { first: string; last: string } {
  switch (family) {
    case 'bert':
      return { first: 'bert.pooler.dense', last: 'classifier' };
    case 'distilbert':
      return { first: 'pre_classifier', last: 'classifier' };
    case 'roberta':
    case 'electra':
      return { first: 'classifier.dense', last: 'classifier.out_proj' };
    case 'albert':
      return { first: 'albert.pooler', last: 'classifier' };
  }
}

/**
 * Every parameter of the family's ForSequenceClassification model for `config`, in transformers' state-dict order:
 * one set of layer parameters per layer group (see ExtendedBertConfig.layerGroups), sized by the group's layer.
 */
export function bertParameters(c: ExtendedBertConfig): ParamSpec[] {
  const h = c.hiddenSize;
  const family = familyOf(c);
  const specs: ParamSpec[] = [];
  const linear = (name: string, out: number, inp: number, by: Sizes = ['hiddenSize', 'hiddenSize']) => {
    specs.push({ name: `${name}.weight`, dims: [out, inp], init: 'normal', sizedBy: by });
    specs.push({ name: `${name}.bias`, dims: [out], init: 'zeros', sizedBy: [by[0]] });
  };
  const norm = (name: string, width = h, by: SizeField = 'hiddenSize') => {
    specs.push({ name: `${name}.weight`, dims: [width], init: 'ones', sizedBy: [by] });
    specs.push({ name: `${name}.bias`, dims: [width], init: 'zeros', sizedBy: [by] });
  };
  const emb = embeddingParamNames(family);
  if (family === 'albert' || (family === 'electra' && c.embeddingSize !== undefined)) albertEmbeddingParameters(c, specs, linear, norm);
  else {
    // RoBERTa's word and position tables both have padding_idx = pad_token_id.
    const pad = family === 'roberta' ? { paddingIdx: c.padTokenId ?? 1 } : {};
    // (an ELECTRA whose embedding_size is its hidden_size has no projection, but its tables and LayerNorm are still
    // sized by embedding_size, the one key ElectraEmbeddings reads: a misshapen one names it, not hidden_size)
    const tables: SizeField = family === 'electra' ? 'embeddingSize' : 'hiddenSize';
    const width: SizeField = c.embeddingSize === undefined ? tables : 'embeddingSize';
    specs.push({ name: emb.word, dims: [c.vocabSize, c.embeddingSize ?? h], init: 'embedding', ...pad, sizedBy: ['vocabSize', width] });
    if (c.embeddingSize !== undefined)
      specs.push({ name: emb.projection, dims: [h, c.embeddingSize], init: 'normal', sizedBy: ['hiddenSize', 'embeddingSize'] });
    specs.push({
      name: emb.position,
      dims: [c.maxPositions, h],
      init: family === 'roberta' ? 'embedding' : 'normal',
      ...pad,
      sizedBy: ['maxPositions', tables],
    });
    if (family !== 'distilbert') specs.push({ name: emb.tokenType, dims: [c.typeVocabSize, h], init: 'normal', sizedBy: ['typeVocabSize', tables] });
    norm(emb.norm, h, tables);
  }
  const hs = attentionHeadSize(c);
  const seen = new Set<number>();
  for (let i = 0; i < c.numLayers; i++) {
    const group = c.layerGroups?.[i] ?? i;
    if (seen.has(group)) continue;
    seen.add(group);
    const n = layerParamNames(group, family);
    const { numHeads, intermediateSize } = layerSizes(c, i);
    const width = numHeads * hs;
    // (heads pruned, or a head size of its own: the width is no one key's)
    const wide = numHeads === c.numHeads && width === h ? 'attentionWidth' : undefined;
    if (numHeads > 0) {
      linear(n.query, width, h, [wide, 'hiddenSize']);
      linear(n.key, width, h, [wide, 'hiddenSize']);
      linear(n.value, width, h, [wide, 'hiddenSize']);
      linear(n.attentionOutput, h, width, ['hiddenSize', wide]);
    } else {
      specs.push({ name: `${n.attentionOutput}.bias`, dims: [h], init: 'zeros', sizedBy: ['hiddenSize'] });
    }
    norm(n.attentionNorm);
    // (a layer's own FFN width, pruned: no key's)
    const ffn = intermediateSize === c.intermediateSize ? 'intermediateSize' : undefined;
    linear(n.intermediate, intermediateSize, h, [ffn, 'hiddenSize']);
    linear(n.output, h, intermediateSize, ['hiddenSize', ffn]);
    norm(n.outputNorm);
  }
  const head = headParamNames(family);
  linear(head.first, h, h);
  linear(head.last, c.numLabels, h, [undefined, 'hiddenSize']);
  return specs;
}

/**
 * ALBERT's embeddings: word, position and token type tables [rows, E], the E-wide LayerNorm, then
 * `albert.encoder.embedding_hidden_mapping_in` (E → hidden, with a bias), in AlbertForSequenceClassification's
 * state-dict order (the mapping is the encoder's first parameter).
 */
function albertEmbeddingParameters(
  c: ExtendedBertConfig,
  specs: ParamSpec[],
  linear: (name: string, out: number, inp: number, by: Sizes) => void,
  norm: (name: string, width: number, by: SizeField) => void,
): void {
  const e = c.embeddingSize ?? c.hiddenSize;
  const by: SizeField = c.embeddingSize === undefined ? 'hiddenSize' : 'embeddingSize';
  // ELECTRA (embeddingSize set) has the same layout: `electra.embeddings.*` E-wide, then `electra.embeddings_project`.
  const emb = embeddingParamNames(familyOf(c));
  specs.push({ name: emb.word, dims: [c.vocabSize, e], init: 'embedding', sizedBy: ['vocabSize', by] });
  specs.push({ name: emb.position, dims: [c.maxPositions, e], init: 'normal', sizedBy: ['maxPositions', by] });
  specs.push({ name: emb.tokenType, dims: [c.typeVocabSize, e], init: 'normal', sizedBy: ['typeVocabSize', by] });
  norm(emb.norm, e, by);
  linear(emb.mapping, c.hiddenSize, e, ['hiddenSize', by]);
}

/** The size fields of a Linear's [out, in] dimensions (sizedBy). */
type Sizes = readonly [SizeField | undefined, SizeField | undefined];

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Seeded values of one parameter, as transformers initializes it. */
export function randomParameter(spec: ParamSpec, init: RandomInit): Float32Array {
  const out = new Float32Array(product(spec.dims));
  switch (spec.init) {
    case 'ones':
      out.fill(1);
      break;
    case 'zeros':
      break;
    case 'normal':
    case 'embedding':
      new Rng(init.seed, spec.name).fillNormal(out, 0, init.std ?? DEFAULT_INIT_STD);
      // nn.Embedding(padding_idx=pad_token_id): transformers zeroes the padding row.
      if (spec.init === 'embedding') {
        const row = spec.paddingIdx ?? 0;
        out.fill(0, row * spec.dims[1], (row + 1) * spec.dims[1]);
      }
      break;
  }
  return out;
}

/**
 * The fixed position table of a DistilBERT whose config.json says `sinusoidal_pos_embds: true`, [nPos, dim] row-major,
 * as transformers' create_sinusoidal_embeddings fills it: angle pos / 10000^(2·⌊j/2⌋/dim) in float64, its sine in
 * the even columns and its cosine in the odd ones, each rounded to float32.
 */
export function sinusoidalPositionTable(nPos: number, dim: number): Float32Array {
  const out = new Float32Array(nPos * dim);
  for (let j = 0; j < dim; j++) {
    const rate = 10000 ** ((2 * Math.floor(j / 2)) / dim);
    for (let pos = 0; pos < nPos; pos++) {
      const angle = pos / rate;
      out[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

/** All parameters of `config`, seeded (HF names, torch layout). 110M values for BERT-base: about a second. */
export function randomBertWeights(config: ExtendedBertConfig, init: RandomInit): Map<string, Float32Array> {
  return new Map(bertParameters(config).map((s) => [s.name, randomParameter(s, init)]));
}

/** The top-level modules of each family's base model: a bare base-model checkpoint has their keys unprefixed. */
const BASE_MODULES: Record<BertFamily, RegExp> = {
  bert: /^(embeddings|encoder|pooler)\./,
  distilbert: /^(embeddings|transformer)\./,
  roberta: /^(embeddings|encoder|pooler)\./,
  electra: /^(embeddings|embeddings_project|encoder)\./,
  albert: /^(embeddings|encoder|pooler)\./,
};

/**
 * The Hugging Face name a checkpoint key stands for: base-model checkpoints (BertModel, DistilBertModel,
 * RobertaModel, ElectraModel, AlbertModel) leave out the family's prefix (`bert.`, `distilbert.`…), and old ones
 * call LayerNorm parameters gamma/beta.
 */
export function canonicalParamName(key: string, family: BertFamily = 'bert'): string {
  let k = key;
  if (BASE_MODULES[family].test(k)) k = `${FAMILY_PREFIX[family]}.${k}`;
  if (k.includes('LayerNorm.')) k = k.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
  return k;
}

/** Given weights resolved against a config: a value for each parameter, and what was left over or seeded. */
export interface ResolvedWeights {
  /** The values of a parameter (HF name, torch layout); seeded ones are made on demand, each call anew. */
  get(name: string): Float32Array;
  /** Given keys that are not parameters of the model (e.g. `bert.embeddings.position_ids`, MLM heads). */
  unused: string[];
  /** Parameters that were not given and were seeded (with `fillMissing`). */
  seeded: string[];
}

function entriesOf(w: NamedWeights): Iterable<[string, WeightArray]> {
  return w instanceof Map ? w.entries() : Object.entries(w as Record<string, WeightArray>);
}

/**
 * Checks a weight source against `config` and gives each parameter's values. Given arrays must have the
 * parameter's shape (when they carry one) and element count; a missing parameter is a DataError unless
 * `fillMissing` is set.
 */
export function resolveWeights(config: ExtendedBertConfig, source: WeightSource): ResolvedWeights {
  const specs = bertParameters(config);
  const byName = new Map(specs.map((s) => [s.name, s]));
  if (source.kind === 'random') {
    const init = { seed: source.seed, std: source.std };
    new Rng(init.seed); // validates the seed now rather than at the first parameter
    return {
      get: (name) => randomParameter(specOf(byName, name), init),
      unused: [],
      seeded: specs.map((s) => s.name),
    };
  }
  const given = new Map<string, Float32Array>();
  const unused: string[] = [];
  const label = source.label ?? 'weights';
  for (const [key, value] of entriesOf(source.tensors)) {
    const name = canonicalParamName(key, familyOf(config));
    const spec = byName.get(name);
    if (!spec || given.has(name)) {
      unused.push(key);
      continue;
    }
    const data = value instanceof Float32Array ? value : value.data;
    if (!(data instanceof Float32Array)) throw new DataError(`${label}: ${quotedText(key)} is not a Float32Array`);
    if (!(value instanceof Float32Array) && !sameDims(value.dims, spec.dims)) {
      const keys = source.configFile === undefined ? '' : sizeKeys(spec, value.dims, config, source.configFile);
      throw new DataError(`${label}: ${quotedText(key)} has shape [${value.dims.join(', ')}] but the config needs [${spec.dims.join(', ')}]${keys}`);
    }
    if (data.length !== product(spec.dims)) {
      throw new DataError(`${label}: ${quotedText(key)} has ${data.length} values but the config needs [${spec.dims.join(', ')}] = ${product(spec.dims)}`);
    }
    given.set(name, data);
  }
  const missing = specs.filter((s) => !given.has(s.name)).map((s) => s.name);
  const fill = source.fillMissing;
  if (missing.length && !fill) {
    const names = someNames(missing.map(quotedText), 4);
    const short = source.configFile === undefined ? '' : shortOfLayers(config, specs, new Set(missing), source.configFile);
    throw new DataError(`${label}: ${plural(missing.length, 'parameter')} ${names} ${isAre(missing.length)} missing${short}`);
  }
  return {
    get: (name) => given.get(name) ?? randomParameter(specOf(byName, name), fill!),
    unused,
    seeded: missing,
  };
}

function specOf(byName: Map<string, ParamSpec>, name: string): ParamSpec {
  const s = byName.get(name);
  if (!s) throw new RangeError(`${quotedText(name)} is not a parameter of this BERT`);
  return s;
}

/**
 * ' (config.json's vocab_size 100)': the keys of `file` (the config's) that size the dimensions of `spec` that
 * `dims` (the tensor's, of the same rank) does not match, each with its value; '' where none is one key's (pruned
 * heads, another rank). An attention width of whole heads, fewer than the config's, is heads pruned without
 * pruned_heads saying so (transformers' prune_heads writes it; other pruners may not): said so, beside hidden_size
 * where the tensor does not show that to be right (a bias).
 */
function sizeKeys(spec: ParamSpec, dims: readonly number[], config: ExtendedBertConfig, file: string): string {
  if (dims.length !== spec.dims.length) return '';
  const family = familyOf(config);
  const keys = spec.dims.flatMap((d, i) => {
    const field = spec.sizedBy?.[i];
    if (d === dims[i] || field === undefined) return [];
    const key = `${sizeKey(family, field)} ${d}`;
    const hs = attentionHeadSize(config);
    const g = dims[i]!;
    if (field !== 'attentionWidth' || g % hs !== 0 || g >= d || g === 0) return [key];
    // (the tensor's hidden_size dimensions: wrong too, the width is hidden_size's; right, it is not)
    const hidden = spec.dims.flatMap((e, j) => (spec.sizedBy?.[j] === 'hiddenSize' ? [e === dims[j]] : []));
    if (hidden.includes(false)) return [key];
    const heads = `${configJsonKey(family, 'numHeads')} ${config.numHeads} less pruned_heads (${g} is ${counted(g / hs, 'head')} of ${hs})`;
    return [hidden.length ? heads : `${key}, or ${heads}`];
  });
  return keys.length ? ` (${file}'s ${[...new Set(keys)].join(', ')})` : '';
}

/**
 * ': the checkpoint has encoder layers 0 to 5 only, where config.json's num_hidden_layers is 12' where the parameters
 * `missing` (of `specs`, the config's) are every parameter of the last layers (ALBERT: layer groups) and none of the
 * first, and the checkpoint has some (a 6-layer model's weights under a 12-layer model's config.json, which
 * transformers loads with the missing layers newly initialized): the count to mend is config.json's key of it (`file`:
 * DistilBERT's n_layers, ALBERT's num_hidden_groups), not the tensors; '' otherwise.
 */
function shortOfLayers(config: ExtendedBertConfig, specs: readonly ParamSpec[], missing: ReadonlySet<string>, file: string): string {
  const family = familyOf(config);
  const count = config.layerGroups ? Math.max(...config.layerGroups) + 1 : config.numLayers;
  const layerOf = (name: string) => {
    for (let i = 0; i < count; i++) if (name.startsWith(layerPrefix(i, family))) return i;
    return undefined;
  };
  const held = new Set<number>();
  const lacking = new Set<number>();
  for (const s of specs) {
    const i = layerOf(s.name);
    if (i !== undefined) (missing.has(s.name) ? lacking : held).add(i);
  }
  if (!lacking.size) return '';
  const first = Math.min(...lacking);
  // (each layer from the first lacking one wholly missing, each before it whole)
  const whole = (i: number) => (i < first ? !lacking.has(i) : !held.has(i));
  if (first === 0 || !Array.from({ length: count }, (_, i) => i).every(whole)) return '';
  const what = family === 'albert' ? 'layer group' : 'encoder layer';
  const key = family === 'albert' ? 'num_hidden_groups' : configJsonKey(family, 'numLayers');
  const has = first === 1 ? `${what} 0` : `${plural(first, what)} 0 to ${first - 1}`;
  return `: the checkpoint has ${has} only, where ${file}'s ${key} is ${count}`;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
