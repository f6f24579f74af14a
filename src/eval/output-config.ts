/**
 * The config.json written beside an output model (`compress`, `--format transformers.js`, `train` / `distill`): the
 * source's config with every field that describes the model's shape read from the written graph, under the names
 * transformers gives them for the model's type, so a Hugging Face or transformers.js user reads the model that is
 * there, not the one it was made from:
 * - layers (`num_hidden_layers`; DistilBERT `n_layers`), widths (`hidden_size`, `vocab_size`,
 *   `max_position_embeddings`, `type_vocab_size`), FFN width (`intermediate_size`; DistilBERT `hidden_dim`);
 * - attention heads as transformers writes a model it pruned: `num_attention_heads` the full count (hidden size /
 *   head width, which transformers takes as the head width) and `pruned_heads` the heads each layer lacks (the last
 *   ones; transformers prunes them at load time, so the shapes match; keyed by parameter group for ALBERT);
 * - `embedding_size`: ALBERT's and ELECTRA's embedding width, and the rank of a factorized word embedding (the
 *   factorize-embeddings pass) of the other types, as the project's canonical config names it;
 * - ALBERT's `num_hidden_groups` for layers shared in its pattern.
 * What a config.json cannot say (FFN widths that differ between layers, layers sharing weights outside ALBERT's
 * pattern, a factorized word embedding of a type without one, a head width that does not divide the hidden size) is
 * listed in `graph_only`, and the ONNX graph stays the reference: discovery never reads these fields.
 *
 * The dtype it names (`torch_dtype`, `dtype`), where it names one, is the one the written graph's weights are stored
 * in (modelDtypeFields). A transformers.js source's `transformers.js_config` keeps none of the keys that name its
 * folder's files (withoutSourceFiles): they are not beside the output (`--format transformers.js` names its own).
 *
 * With the task a model was fine-tuned on (train / distill): `finetuning_task`, and the task's labels in the model's
 * output order (`id2label` names the source gives that already name the task's labels are kept), `num_labels` and
 * `problem_type`. A config-less source gets `model_type` and `architectures` from the graph.
 */
import { isDeepStrictEqual } from 'node:util';
import { albertLayerGroup } from '../bert/albert-config.ts';
import { aHead } from '../bert/classifier.ts';
import { findBert } from '../bert/discover.ts';
import { sharedLayerGroups } from '../bert/inspect.ts';
import type { BertStructure, HeadKind, ModelFamily } from '../bert/structure.ts';
import { configId2label, type Fail } from '../bert/config.ts';
import { NotBertError, SettingsError } from '../errors.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import type { Model } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { floatStorage } from '../onnx/size.ts';
import { isGenericLabel, withArticle } from './labels.ts';

/** config.json's names of the dtype its weights are stored in (transformers ≥ 4.56 writes `dtype`, earlier `torch_dtype`). */
const DTYPE_KEYS = ['torch_dtype', 'dtype'] as const;

/** The float types a config.json's dtype names, by ONNX data type. */
const DTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [DataType.FLOAT, 'float32'],
  [DataType.FLOAT16, 'float16'],
  [DataType.BFLOAT16, 'bfloat16'],
]);

/**
 * The dtype fields of `config` (torch_dtype, dtype) set to the float type holding most of `model`'s float weights'
 * bytes ('float32' for an export of a float16 checkpoint, which the graph holds in float32), where the config names
 * another: a loader (transformers, transformers.js) would read a float32 graph as float16. Only the fields the config
 * has; none when the model has no float weights.
 */
export function modelDtypeFields(config: Record<string, unknown>, model: Model): Record<string, unknown> {
  const most = floatStorage(model);
  if (most === undefined) return {};
  const name = DTYPE_NAMES.get(most)!;
  const out: Record<string, unknown> = {};
  for (const key of DTYPE_KEYS) if (typeof config[key] === 'string' && [...DTYPE_NAMES.values()].includes(config[key]) && config[key] !== name) out[key] = name;
  return out;
}

/** The field listing what config.json cannot say of the model (the graph says it). */
export const GRAPH_ONLY_KEY = 'graph_only';

/** The model_type of a graph's family, for a source without config.json's. */
export const FAMILY_MODEL_TYPES: Readonly<Record<ModelFamily, string>> = {
  bert: 'bert',
  distilbert: 'distilbert',
  roberta: 'roberta',
  electra: 'electra',
  albert: 'albert',
};

/** transformers' sequence-classification class of each model_type the project reads. */
export const CLASSIFIER_ARCHITECTURES: Readonly<Record<string, string>> = {
  bert: 'BertForSequenceClassification',
  distilbert: 'DistilBertForSequenceClassification',
  roberta: 'RobertaForSequenceClassification',
  'xlm-roberta': 'XLMRobertaForSequenceClassification',
  camembert: 'CamembertForSequenceClassification',
  electra: 'ElectraForSequenceClassification',
  albert: 'AlbertForSequenceClassification',
};

/**
 * transformers' sequence-classification class of config.json's `modelType`, else (a model_type the project does not
 * read, a name of Object.prototype such as 'constructor' included) of the graph's `family`.
 */
export function classifierArchitecture(modelType: string, family: ModelFamily): string {
  return Object.hasOwn(CLASSIFIER_ARCHITECTURES, modelType) ? CLASSIFIER_ARCHITECTURES[modelType]! : CLASSIFIER_ARCHITECTURES[FAMILY_MODEL_TYPES[family]]!;
}

/**
 * The fields of config.json that name a written model's head as transformers saves one (the transformers.js folder,
 * and a plain export whose head was seeded): `architectures` the model type's sequence classifier when the source
 * names none, or names another class for a sequence classifier (a base or pretraining checkpoint whose head was
 * seeded); `id2label` LABEL_i for each of `labels` scores and `label2id` when the source has none. Without a head
 * (`head` undefined: encoder-only), no labels, and the model type's base class (BertModel) when the source names none.
 * Another head (multiple-choice, pretraining, …) whose source names no class is an internal error: callers refuse it.
 * Only the fields that change are returned; `name` names the model in a SettingsError when the label count is unknown.
 */
export function headConfigFields(
  config: Record<string, unknown>,
  family: ModelFamily,
  head: HeadKind | undefined,
  labels: number | null,
  name: string,
): Record<string, unknown> {
  const modelType = typeof config.model_type === 'string' ? config.model_type : FAMILY_MODEL_TYPES[family];
  const named = Array.isArray(config.architectures) ? (config.architectures as unknown[]) : [];
  const classifier = classifierArchitecture(modelType, family);
  const out: Record<string, unknown> = {};
  if (head === undefined) {
    if (!named.length) out.architectures = [classifier.replace(/ForSequenceClassification$/, 'Model')];
    return out;
  }
  // (a head the graph shows to be another's has no class here to name it by: the callers refuse it first, the
  // transformers.js export in one line, and a plain export names only the classifier it seeded; 'unknown' is read as
  // the classifier its scores look like, as eval reads it)
  if (!named.length && head !== 'sequence-classification' && head !== 'unknown')
    throw new Error(`headConfigFields: ${aHead(head)} and no architectures in ${name}'s config.json: no class names it`);
  // (any other head keeps the source's class)
  if (!named.length || (head === 'sequence-classification' && !named.some((a) => /ForSequenceClassification$/.test(String(a))))) {
    out.architectures = [classifier];
  }
  if (config.id2label === undefined || config.id2label === null) out.id2label = idLabels(labels, name);
  if (config.label2id === undefined) {
    // (as transformers' PretrainedConfig makes it, dict(zip(id2label.values(), id2label.keys())) of the id2label it read
    // by int() of each key, a later key of the same id winning: configId2label)
    const fail: Fail = (msg) => {
      throw new SettingsError(`${name}: config.json: ${msg}`);
    };
    const ids = configId2label({ id2label: config.id2label ?? out.id2label }, fail)!;
    out.label2id = Object.fromEntries([...ids].map(([id, label]) => [label, id]));
  }
  return out;
}

/** transformers' default label names, LABEL_i for each of `count` scores. */
function idLabels(count: number | null, name: string): Record<string, string> {
  if (count === null) throw new SettingsError(`${name}: cannot tell how many labels the model scores (no id2label or num_labels in config.json)`);
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [String(i), `LABEL_${i}`]));
}

/** The config.json names of the shape fields, by family. */
interface ShapeKeys {
  layers: string;
  hidden: string;
  heads: string;
  ffn: string;
}
const BERT_KEYS: ShapeKeys = { layers: 'num_hidden_layers', hidden: 'hidden_size', heads: 'num_attention_heads', ffn: 'intermediate_size' };
const DISTILBERT_KEYS: ShapeKeys = { layers: 'n_layers', hidden: 'dim', heads: 'n_heads', ffn: 'hidden_dim' };

/**
 * Every field outputModelConfig may set from the graph (any family): two configs of the same model that differ only
 * in these describe two shapes of it, not two models.
 */
export const SHAPE_FIELDS: readonly string[] = [
  ...new Set([
    ...Object.values(BERT_KEYS),
    ...Object.values(DISTILBERT_KEYS),
    'vocab_size',
    'max_position_embeddings',
    'type_vocab_size',
    'embedding_size',
    'pruned_heads',
    'num_hidden_groups',
    'model_type',
    'architectures',
    ...DTYPE_KEYS,
    GRAPH_ONLY_KEY,
  ]),
];

/** True when two config.json objects are the same model's (equal but for SHAPE_FIELDS). */
export function sameModelConfig(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const strip = (c: Record<string, unknown>) => Object.fromEntries(Object.entries(c).filter(([k]) => !SHAPE_FIELDS.includes(k)));
  return isDeepStrictEqual(strip(a), strip(b));
}

/** The task a model was fine-tuned on, and the task label each of its outputs scores. */
export interface FineTuning {
  task: TaskDefinition;
  /** Model output j scores `task.labels[outputToLabel[j]]` (labels.ts mapModelLabels). */
  outputToLabel: readonly number[];
}

export interface OutputConfigOptions {
  /**
   * The task the written model was fine-tuned on: sets finetuning_task and the labels. null: it was trained on no
   * task (general distillation): a source's finetuning_task is dropped. Absent: the labels are the source's.
   */
  fineTuned?: FineTuning | null;
}

export interface OutputConfig {
  config: Record<string, unknown>;
  /** What config.json cannot say of the model (also its `graph_only` field); empty when it says everything. */
  graphOnly: string[];
}

/**
 * config.json for `model` (the written graph) from its source's `source` config: see the module comment. A graph
 * that is not a BERT-family encoder (a BiLSTM student) keeps the source's shape fields.
 */
export function outputModelConfig(source: Record<string, unknown>, model: Model, opts: OutputConfigOptions = {}): OutputConfig {
  const out: Record<string, unknown> = { ...source };
  let structure: BertStructure | undefined;
  try {
    structure = findBert(model);
  } catch (e) {
    if (!(e instanceof NotBertError)) throw e;
  }
  const graphOnly = structure ? writeShape(out, structure, model) : [];
  if (structure) {
    if (graphOnly.length) out[GRAPH_ONLY_KEY] = graphOnly;
    else delete out[GRAPH_ONLY_KEY];
  }
  if (opts.fineTuned) writeTask(out, opts.fineTuned);
  else if (opts.fineTuned === null) delete out.finetuning_task;
  Object.assign(out, modelDtypeFields(out, model));
  const section = out[TRANSFORMERS_JS_CONFIG];
  if (section && typeof section === 'object' && !Array.isArray(section)) {
    const kept = withoutSourceFiles(section as Record<string, unknown>);
    if (Object.keys(kept).length) out[TRANSFORMERS_JS_CONFIG] = kept;
    else delete out[TRANSFORMERS_JS_CONFIG];
  }
  return { config: out, graphOnly };
}

/** config.json's section that transformers.js reads its loading options from. */
export const TRANSFORMERS_JS_CONFIG = 'transformers.js_config';

/** The keys of a `transformers.js_config` (or one of its `device_config` entries) that name the source folder's files. */
const SOURCE_FILE_KEYS = ['dtype', 'use_external_data_format'];

/**
 * `section` (a `transformers.js_config`) without SOURCE_FILE_KEYS, in its `device_config` entries too (an entry left
 * empty dropped): the dtype made transformers.js load `onnx/model<suffix>.onnx` and the external data files it fetches,
 * files of the source's folder that an output's folder does not have (a q8 source's dtype had a float output's
 * loader look for onnx/model_quantized.onnx).
 */
function withoutSourceFiles(section: Record<string, unknown>): Record<string, unknown> {
  const out = Object.fromEntries(Object.entries(section).filter(([k]) => !SOURCE_FILE_KEYS.includes(k)));
  const devices = section.device_config;
  if (devices && typeof devices === 'object' && !Array.isArray(devices)) {
    const kept = Object.entries(devices).flatMap(([device, c]): Array<[string, unknown]> => {
      if (!c || typeof c !== 'object' || Array.isArray(c)) return [[device, c]];
      const rest = Object.fromEntries(Object.entries(c).filter(([k]) => !SOURCE_FILE_KEYS.includes(k)));
      return Object.keys(rest).length ? [[device, rest]] : [];
    });
    if (kept.length) out.device_config = Object.fromEntries(kept);
    else delete out.device_config;
  }
  return out;
}

/** Sets the shape fields of `out` from the graph; returns what config.json cannot say. */
function writeShape(out: Record<string, unknown>, s: BertStructure, model: Model): string[] {
  const notes: string[] = [];
  const family = s.family;
  const keys = family === 'distilbert' ? DISTILBERT_KEYS : BERT_KEYS;
  const modelType = typeof out.model_type === 'string' ? out.model_type : FAMILY_MODEL_TYPES[family];
  if (out.model_type === undefined) out.model_type = modelType;
  if (out.architectures === undefined && s.head?.kind === 'sequence-classification') {
    out.architectures = [classifierArchitecture(modelType, family)];
  }
  const layers = s.layers;
  const groups = sharedLayerGroups(s);
  const groupCount = new Set(groups).size;

  out[keys.layers] = s.numLayers;
  out[keys.hidden] = s.hiddenSize;
  out.vocab_size = s.vocabSize;
  if (s.maxPositions !== undefined) out.max_position_embeddings = s.maxPositions;
  if (s.typeVocabSize !== undefined && family !== 'distilbert') out.type_vocab_size = s.typeVocabSize;

  // layers shared: ALBERT's num_hidden_groups when they follow its pattern, else not expressible
  if (family === 'albert') {
    const pattern = groups.every((g, i) => g === albertLayerGroup(i, groups.length, groupCount));
    if (groups.length) out.num_hidden_groups = groupCount;
    if (!pattern) notes.push(`layers share weights as groups ${groups.join(', ')}, which ALBERT's num_hidden_groups cannot say`);
  } else if (groupCount < groups.length) {
    notes.push(`layers share weights (parameter groups ${groups.join(', ')}); ${withArticle(modelType)} config cannot say so`);
  }

  // FFN width: uniform, else the widest (as a config must name one)
  const ffn = layers.map((l) => l.ffn.intermediateSize);
  if (ffn.length) {
    out[keys.ffn] = Math.max(...ffn);
    if (new Set(ffn).size > 1) notes.push(`${keys.ffn} differs between layers (${ffn.join(', ')}); ${keys.ffn} gives the widest`);
  }

  // attention heads: the full count and pruned_heads, as transformers writes a pruned model
  const heads = layers.map((l) => l.attention?.numHeads ?? 0);
  const headSize = s.headSize;
  const given = out[keys.heads];
  const full =
    headSize > 0
      ? s.hiddenSize % headSize === 0
        ? s.hiddenSize / headSize
        : undefined
      : typeof given === 'number' && Number.isSafeInteger(given) && given > 0
        ? given
        : undefined;
  if (full === undefined) {
    delete out.pruned_heads;
    if (headSize > 0) {
      out[keys.heads] = Math.max(...heads);
      notes.push(`attention heads per layer ${heads.join(', ')} of width ${headSize}, which does not divide ${keys.hidden} ${s.hiddenSize}`);
    } else {
      notes.push(`no layer has attention heads left; ${keys.heads} is not known`);
    }
  } else {
    out[keys.heads] = full;
    const pruned: Record<string, number[]> = {};
    heads.forEach((n, i) => {
      const key = String(family === 'albert' ? groups[i] : i);
      if (n < full && !(key in pruned)) pruned[key] = Array.from({ length: full - n }, (_, k) => n + k);
    });
    if (Object.keys(pruned).length) out.pruned_heads = pruned;
    else delete out.pruned_heads;
  }

  // embedding width: ALBERT / ELECTRA's narrow embeddings, or the rank of a factorized word table
  const rank = s.embeddings.word.projection?.inFeatures;
  if (family === 'albert' || family === 'electra') {
    out.embedding_size = s.embeddings.mapping?.inFeatures ?? (rank === undefined ? tableWidth(model, s.embeddings.word.weight) : s.hiddenSize);
    if (rank !== undefined)
      notes.push(`the word embedding is factorized to rank ${rank} (V×${rank} then ${rank}×E), which ${withArticle(modelType)} config cannot say`);
  } else if (rank !== undefined) {
    out.embedding_size = rank;
    notes.push(
      `embedding_size ${rank}: the word embedding is factorized (V×${rank} then ${rank}×${s.hiddenSize}); transformers' ${modelType} config has no such field`,
    );
  } else {
    delete out.embedding_size;
  }
  return notes;
}

/** The width (second dim) of an embedding table, or undefined when it is not an initializer. */
function tableWidth(model: Model, name: string): number | undefined {
  return model.graph.initializers.get(name)?.dims[1];
}

/** finetuning_task and the task's labels in the model's output order. */
function writeTask(out: Record<string, unknown>, { task, outputToLabel }: FineTuning): void {
  out.finetuning_task = task.modelTask.toLowerCase();
  const given = out.id2label && typeof out.id2label === 'object' && !Array.isArray(out.id2label) ? (out.id2label as Record<string, unknown>) : {};
  let names: string[];
  if (task.regression) {
    // one rule for every 1-output head written (a distilled student given its teacher's id2label, a new one of
    // --new-head): transformers' name LABEL_0, as a config of num_labels 1 gets, unless the source names its score
    // ('similarity'); a generic name ('0', 'LABEL_0') is no name
    const only = Object.keys(given).length === 1 ? given['0'] : undefined;
    names = [typeof only === 'string' && !isGenericLabel(only) ? only : 'LABEL_0'];
    out.problem_type = 'regression';
  } else {
    names = outputToLabel.map((label, j) => {
      const name = given[String(j)];
      return typeof name === 'string' && !isGenericLabel(name) ? name : task.labels[label]!;
    });
    out.problem_type = 'single_label_classification';
  }
  out.num_labels = names.length;
  out.id2label = Object.fromEntries(names.map((n, j) => [String(j), n]));
  out.label2id = Object.fromEntries(names.map((n, j) => [n, j]));
}
