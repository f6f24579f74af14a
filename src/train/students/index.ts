/**
 * Students from a `--student` spec:
 * - a model path (any ONNX file or folder the project reads, e.g. the output of `compress --prune-heads 0.5`):
 *   rebuilt canonically (src/bert/canonical.ts), so its structure is kept (uneven heads, shared layers, a
 *   factorized embedding);
 * - `every-other`: the teacher's layers 0, 2, 4, … with everything else of the teacher (DistilBERT's init); of a
 *   teacher without a classifier (a pretrained BERT with its pooler), encoder-only, or with a new classifier for a
 *   --task;
 * - `bert:layers=L,hidden=H,heads=A,intermediate=I`: a BERT initialized at random (transformers' init) with the
 *   teacher's vocabulary, positions and labels;
 * - `bilstm:hidden=H[,embedding=E][,mlp=M]`: the Distilled BiLSTM (bilstm.ts), word embedding from the teacher's when the
 *   widths match.
 */
import { inlineLocalFunctions } from '../../onnx/inline.ts';
import type { StudentKind } from '../versions.ts';
import { quantizedFrom } from '../../bench/lineage.ts';
import { totalmem } from 'node:os';
import { dirname } from 'node:path';
import { gigabytes } from '../../units.ts';
import type { Model } from '../../onnx/graph.ts';
import { loadModel } from '../../onnx/load.ts';
import { canonicalBert, float32Epsilon, quantizedRebuildRefusal, type CanonicalBert } from '../../bert/canonical.ts';
import { buildBert, dropoutMasks, randomBertWeights } from '../../bert/build.ts';
import { findBert } from '../../bert/discover.ts';
import { quantizedWeight } from '../../bert/stored-quantized.ts';
import { anotherTasksLabels } from '../../eval/labels.ts';
import type { TaskDefinition } from '../../glue/tasks.ts';
import { RECURRENT_MODEL, recurrentModelLstm } from '../../bert/recurrent.ts';
import type { BertStructure, TaskHead } from '../../bert/structure.ts';
import { encoderOnlyNote, hasClassifierPlace, headInWords, isEncoderOnly, newHeadAdvice, noClassifierPlaceReason } from '../../bert/classifier.ts';
import {
  attentionHeadSize,
  configId2label,
  configJsonKey,
  countParameters,
  everyOtherLayers,
  familyOf,
  layerGroupOf,
  layerSizes,
  looksUpTokenTypes,
  type BertFamily,
  type ExtendedBertConfig,
} from '../../bert/config.ts';
import { classifierArchitecture, FAMILY_MODEL_TYPES } from '../../eval/output-config.ts';
import { locateModel } from '../../onnx/locate.ts';
import { MemoryRefusal, NotBertError, SettingsError, counted, groupedDigits, quotedText } from '../../errors.ts';
import { encoderOnly, newClassifier, withClassifier } from './classifier.ts';
import { readVocabulary, vocabularyDifference } from '../../eval/tokenizer.ts';
import { tableRowsProblem } from '../../eval/vocabulary-rows.ts';
import { TRAINING_OPSET } from '../../gradients/index.ts';
import { parseStudentSpec, studentFrame } from './spec.ts';
import { adoptParameters, withParameters, type MaskInput, type Student } from '../student.ts';
import {
  bilstmConfigJson,
  DEFAULT_BILSTM_EMBEDDING_SIZE,
  bilstmParameterCount,
  bilstmDropoutMasks,
  bilstmTrainingGraph,
  exportBilstm,
  importBilstm,
  parseBilstmSpec,
  randomBilstmParameter,
  randomBilstmWeights,
  resolveBilstmConfig,
  readWordEmbeddings,
  BILSTM_CLASSIFIER_WEIGHTS,
  type BilstmConfig,
} from './bilstm.ts';

const SYMBOLS: Record<string, 'batch' | 'sequence'> = { batch_size: 'batch', sequence_length: 'sequence', batch: 'batch', sequence: 'sequence' };

function maskInputs(dims: ReadonlyArray<{ name: string; dims: Array<number | string> }>): MaskInput[] {
  return dims.map((m) => ({
    name: m.name,
    dims: m.dims.map((d) => {
      if (typeof d === 'number') return d;
      const s = SYMBOLS[d];
      if (!s) throw new Error(`dropout mask ${quotedText(m.name)}: unknown dim ${quotedText(d)}`);
      return s;
    }),
  }));
}

/**
 * A canonical BERT student from a config and Hugging Face weights. `encoderOnly`: its classifier is a placeholder no
 * loss reads (general distillation with no classifier to size), and the model written is the encoder and its pooler
 * alone (classifier.ts encoderOnly), its config.json naming no labels.
 */
export function bertStudent(
  c: CanonicalBert | { config: ExtendedBertConfig; weights: Map<string, Float32Array> },
  description: string,
  opts: { encoderOnly?: boolean; identity?: string } = {},
): Student {
  const config = c.config; // (the closures below keep this, not `c`: its weights are a copy of what plain holds)
  const source = { kind: 'given' as const, tensors: c.weights };
  const plain = buildBert(config, source, { opset: TRAINING_OPSET });
  const withDropout = sharingInitializers(buildBert(config, source, { opset: TRAINING_OPSET, dropout: true }), plain);
  const structure = findBert(plain);
  const word = structure.embeddings.word.weight;
  const hasTypes = plain.graph.inputs.some((i) => i.name === 'token_type_ids');
  return {
    kind: 'bert',
    description,
    ...(opts.identity !== undefined ? { identity: opts.identity } : {}),
    numLabels: config.numLabels,
    forward: (dropout) => (dropout ? withDropout : plain),
    masks: maskInputs(dropoutMasks(withDropout)),
    sparse: [word],
    inputs: { ids: 'input_ids', mask: 'attention_mask', ...(hasTypes ? { types: 'token_type_ids' } : {}) },
    ...(opts.encoderOnly ? { encoderOnly: true } : {}),
    export: (params) => (opts.encoderOnly ? encoderOnly(withParameters(plain, params)) : withParameters(plain, params)),
    // (both graphs: they share one copy of the weights, which neither then holds)
    adopt: (params) => {
      adoptParameters(plain, params);
      adoptParameters(withDropout, params);
    },
    configJson: (given) => {
      const src = asFamilyConfigJson(given, config);
      return opts.encoderOnly ? encoderConfigJson(src, config) : { ...src, ...bertSizes(config) };
    },
  };
}

/** The layout family of each config.json `model_type` the project reads (config.ts HF_MODEL_TYPES). */
const MODEL_TYPE_FAMILIES: Readonly<Record<string, BertFamily>> = {
  bert: 'bert',
  distilbert: 'distilbert',
  roberta: 'roberta',
  'xlm-roberta': 'roberta',
  camembert: 'roberta',
  electra: 'electra',
  albert: 'albert',
};

/**
 * The source's config.json for a student of a teacher of another family (a bert:… student of a DistilBERT, RoBERTa or
 * ELECTRA teacher is a BertForSequenceClassification; a DistilBERT student model of a BERT teacher a
 * DistilBertForSequenceClassification): the student family's model_type, architecture and keys (DistilBERT's
 * `activation`, no `layer_norm_eps` or `type_vocab_size`: it has no token types), with the source's labels, task,
 * max_length and pad_token_id (the student's own padding id where it has one: RoBERTa's positions read it); the other
 * family's keys (DistilBERT's dim, n_layers…, ELECTRA's embedding_size, a BERT's type_vocab_size) would describe the
 * teacher. A source of the student's family, or naming no model_type, is returned as it is.
 */
function asFamilyConfigJson(src: Record<string, unknown>, c: ExtendedBertConfig): Record<string, unknown> {
  const family = familyOf(c);
  const type = src.model_type;
  if (type === undefined || (typeof type === 'string' && Object.hasOwn(MODEL_TYPE_FAMILIES, type) && MODEL_TYPE_FAMILIES[type] === family)) return src;
  const kept = Object.fromEntries(Object.entries(src).filter(([k]) => [...CLASSIFIER_FIELDS, 'max_length', 'pad_token_id'].includes(k)));
  const modelType = FAMILY_MODEL_TYPES[family];
  return {
    architectures: [classifierArchitecture(modelType, family)],
    model_type: modelType,
    [configJsonKey(family, 'activation')]: c.activation === 'gelu_tanh' ? 'gelu_new' : c.activation,
    // (DistilBERT's LayerNorm epsilon is fixed, 1e-12, and it has no token types)
    ...(family === 'distilbert'
      ? {}
      : {
          layer_norm_eps: Number(c.layerNormEps.toPrecision(7)), // (a float32 epsilon read from the graph: 1e-12, not 9.99999996e-13)
          type_vocab_size: c.typeVocabSize,
        }),
    ...kept,
    ...(c.padTokenId !== undefined ? { pad_token_id: c.padTokenId } : {}),
  };
}

/**
 * `model` holding `from`'s initializer of each name both have with the same type and dims (the same values: two
 * builds of one student's weights), so the student's graphs with and without dropout keep one copy of its weights,
 * where each build's transposed matrices were a copy of their own.
 */
function sharingInitializers(model: Model, from: Model): Model {
  const inits = model.graph.initializers;
  for (const [name, t] of inits) {
    const same = from.graph.initializers.get(name);
    if (same && same.dataType === t.dataType && same.dims.length === t.dims.length && same.dims.every((d, i) => d === t.dims[i])) inits.set(name, same);
  }
  return model;
}

/** The config.json fields that say what a classifier's outputs mean (or which task it was trained on). */
const CLASSIFIER_FIELDS = ['id2label', 'label2id', 'num_labels', 'problem_type', 'finetuning_task'];

/** config.json of an encoder-only student: transformers' base model class, no labels. */
function encoderConfigJson(src: Record<string, unknown>, c: ExtendedBertConfig): Record<string, unknown> {
  const out = Object.fromEntries(Object.entries(src).filter(([k]) => !CLASSIFIER_FIELDS.includes(k)));
  // (the base class of its model_type, as headConfigFields names one: RobertaModel, XLMRobertaModel, DistilBertModel,
  // ElectraModel, where every family but ALBERT's was written BertModel beside its own model_type)
  const family = familyOf(c);
  const modelType = typeof out.model_type === 'string' ? out.model_type : FAMILY_MODEL_TYPES[family];
  const base = classifierArchitecture(modelType, family).replace(/ForSequenceClassification$/, 'Model');
  return { ...out, architectures: [base], ...bertSizes(c) };
}

/** The width of the placeholder classifier of an encoder-only student (never trained, never written). */
const PLACEHOLDER_LABELS = 1;

/**
 * The config.json size fields of a canonical config (per-layer sizes are in the graph itself). Pruned heads (evenly
 * or not) are written as Hugging Face writes a model it pruned: `num_attention_heads` the full count (hidden / head
 * size, which transformers takes as the head width) and `pruned_heads` the heads each layer lacks (the last ones;
 * which of the original heads they were is in the graph's lineage, not in its weights' order), keyed by parameter
 * group when layers are shared (ALBERT's `_prune_heads` indexes its groups). `intermediate_size` is the widest
 * layer's.
 */
function bertSizes(c: ExtendedBertConfig): Record<string, unknown> {
  const headSize = attentionHeadSize(c);
  const fullHeads = headSize > 0 && Number.isInteger(c.hiddenSize / headSize) ? c.hiddenSize / headSize : undefined;
  const pruned: Record<string, number[]> = {};
  if (fullHeads !== undefined) {
    for (let i = 0; i < c.numLayers; i++) {
      const group = String(layerGroupOf(c, i));
      const n = layerSizes(c, i).numHeads;
      if (n < fullHeads && !(group in pruned)) pruned[group] = Array.from({ length: fullHeads - n }, (_, k) => n + k);
    }
  }
  const isPruned = Object.keys(pruned).length > 0;
  // (under the family's names: DistilBERT's n_layers, dim, n_heads, hidden_dim)
  const key = (field: 'numLayers' | 'hiddenSize' | 'numHeads' | 'intermediateSize') => configJsonKey(familyOf(c), field);
  return {
    [key('numLayers')]: c.numLayers,
    [key('hiddenSize')]: c.hiddenSize,
    [key('numHeads')]: isPruned ? fullHeads : c.numHeads,
    pruned_heads: isPruned ? pruned : undefined, // (undefined: a source's own list is not carried over)
    [key('intermediateSize')]: c.layers?.length ? Math.max(...c.layers.map((l) => l.intermediateSize)) : c.intermediateSize,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.maxPositions,
    ...(c.embeddingSize ? { embedding_size: c.embeddingSize } : {}),
  };
}

/**
 * The teacher's layers 0, 2, 4, … (DistilBERT's initialization), as a canonical student. `encoderOnly`: its
 * classifier is a placeholder (a teacher without one, no task to size it): written as the encoder and its pooler.
 * `note` ends the description (the classifier's origin).
 */
export function everyOtherStudent(teacher: CanonicalBert, opts: { encoderOnly?: boolean; note?: string } = {}): Student {
  const c = teacher.config;
  const keep = everyOtherLayers(c.numLayers);
  // a layer's parameters are stored under its group's index (the layer's own where none share): the kept layers'
  // groups, renumbered in order of first use, so layers that shared weights in the teacher share them in the student
  const renumber = new Map<number, number>();
  for (const i of keep) if (!renumber.has(layerGroupOf(c, i))) renumber.set(layerGroupOf(c, i), renumber.size);
  const groups = keep.map((i) => renumber.get(layerGroupOf(c, i))!);
  const weights = new Map<string, Float32Array>();
  const prefix = /^(.*\.(?:layer|albert_layer_groups)\.)(\d+)(\..*)$/;
  for (const [name, v] of teacher.weights) {
    const m = prefix.exec(name);
    const g = m ? renumber.get(Number(m[2])) : undefined;
    if (!m) weights.set(name, v);
    else if (g !== undefined) weights.set(`${m[1]}${g}${m[3]}`, v);
  }
  const { layerGroups: _, ...rest } = c;
  const config: ExtendedBertConfig = {
    ...rest,
    numLayers: keep.length,
    ...(c.layers ? { layers: keep.map((i) => c.layers![i]) } : {}),
    ...(c.layerGroups && (groups.some((g, j) => g !== j) || c.family === 'albert') ? { layerGroups: groups } : {}),
  };
  const description = `every-other layer of the teacher (${keep.length} of ${c.numLayers})${opts.encoderOnly ? ', encoder only' : (opts.note ?? '')}`;
  return bertStudent({ config, weights }, description, { encoderOnly: opts.encoderOnly });
}

/**
 * The every-other student of `teacher` (a graph): a teacher without a classifier (a pretrained BERT: an MLM head or
 * a bare encoder, with its pooler) gives an encoder-only student, or with `numLabels` one with a new classifier; so
 * does a classifier of another width than `numLabels` (general distillation with a --task: the stage trains no
 * head). The new classifier is seeded from `seed` as a from-scratch student's.
 */
function everyOtherOf(teacher: Model, structure: BertStructure | undefined, numLabels: number | undefined, seed: number): Student {
  const headless = teacherShape(teacher, structure).numLabels === undefined;
  const s = structure ?? findBert(teacher, { label: 'teacher' });
  if (headless && !hasClassifierPlace(teacher, s)) {
    throw new SettingsError(
      `--student every-other: the teacher has no classifier, and ${noClassifierPlaceReason(teacher, s)}; give a student from scratch (bert:layers=L,hidden=H,…) or a student model`,
    );
  }
  const read = headless
    ? rebuilt(withClassifier(teacher, numLabels ?? PLACEHOLDER_LABELS, 'the teacher'), EVERY_OTHER_REBUILDS)
    : rebuilt(teacher, EVERY_OTHER_REBUILDS, undefined, s);
  const fresh = numLabels !== undefined && (headless || read.config.numLabels !== numLabels);
  if (!fresh) return everyOtherStudent(read, { encoderOnly: headless });
  return everyOtherStudent(newClassifier(read, numLabels, seed), { note: `, with a new classifier (${counted(numLabels, 'output')})` });
}

const BERT_SPEC_KEYS = ['layers', 'hidden', 'heads', 'intermediate'] as const;

/**
 * Parses `bert:layers=L,hidden=H,heads=A,intermediate=I`, each optional, in the grammar of every student spec
 * (parseStudentSpec): layers and hidden default to the teacher's, heads to hidden / 64 (rounded, at least 1),
 * intermediate to 4 × hidden (scratchStudent).
 */
export function parseBertSpec(spec: string): Partial<Record<(typeof BERT_SPEC_KEYS)[number], number>> {
  return parseStudentSpec(spec, 'bert', BERT_SPEC_KEYS, 'bert:layers=L,hidden=H,heads=A,intermediate=I (each optional)');
}

/** A from-scratch student's heads when the spec gives none: hidden / 64, rounded, at least 1 (BERT's head width). */
const defaultHeads = (hidden: number): number => Math.max(1, Math.round(hidden / 64));

/** A from-scratch student's FFN width when the spec gives none: 4 × hidden. */
const defaultIntermediate = (hidden: number): number => 4 * hidden;

/**
 * One text per student a spec builds: a bert:… spec with its keys in one order (`bert:hidden=128,layers=1` and
 * `bert:layers=1,hidden=128` are one student, so one sweep key), and without heads and intermediate where hidden is
 * given and they are its defaults (`bert:hidden=128,heads=2,intermediate=512` is `bert:hidden=128`); a bilstm:… spec as `bilstm:hidden=H`, then
 * `embedding=E` and `mlp=M` only where they are not the defaults (300, and H), whatever their order, case and spaces
 * (`bilstm:embedding=300,hidden=8,mlp=8` is `bilstm:hidden=8`); any other spec as given.
 */
export function canonicalStudentSpec(spec: string): string {
  if (spec.startsWith('bilstm:')) {
    const { hiddenSize: h, embeddingSize: e, mlpSize: m } = parseBilstmSpec(spec);
    return `bilstm:hidden=${h}${e !== undefined && e !== DEFAULT_BILSTM_EMBEDDING_SIZE ? `,embedding=${e}` : ''}${m !== undefined && m !== h ? `,mlp=${m}` : ''}`;
  }
  if (!spec.startsWith('bert:')) return spec;
  const parsed = parseBertSpec(spec);
  // (with hidden given, heads and intermediate at its defaults build the student without them; without it, their
  // defaults follow the teacher's width, which the spec does not say)
  const h = parsed.hidden;
  if (h !== undefined && parsed.heads === defaultHeads(h)) delete parsed.heads;
  if (h !== undefined && parsed.intermediate === defaultIntermediate(h)) delete parsed.intermediate;
  return `bert:${BERT_SPEC_KEYS.filter((k) => parsed[k] !== undefined)
    .map((k) => `${k}=${parsed[k]}`)
    .join(',')}`;
}

/**
 * A student spec as it builds a student of a teacher of `teacher`'s depth and width: a bert:… spec with the layers and
 * hidden size it leaves out taken from the teacher (as scratchStudent takes them; `bert:layers=2` of a 256-wide teacher
 * is `bert:layers=2,hidden=256`), in canonicalStudentSpec's form; any other spec as canonicalStudentSpec gives it.
 */
export function studentSpecOn(spec: string, teacher: { numLayers: number; hiddenSize: number }): string {
  if (!spec.startsWith('bert:')) return canonicalStudentSpec(spec);
  const s = parseBertSpec(spec);
  const full = { ...s, layers: s.layers ?? teacher.numLayers, hidden: s.hidden ?? teacher.hiddenSize };
  return canonicalStudentSpec(
    `bert:${BERT_SPEC_KEYS.filter((k) => full[k] !== undefined)
      .map((k) => `${k}=${full[k]}`)
      .join(',')}`,
  );
}

/** What a from-scratch student takes from its teacher (any discovered model, a pretraining graph too). */
export interface TeacherShape {
  numLayers: number;
  hiddenSize: number;
  vocabSize: number;
  maxPositions: number;
  typeVocabSize: number;
  activation: ExtendedBertConfig['activation'];
  layerNormEps: number;
  /** Logits of its classifier; undefined for a teacher without one (a pretraining graph). */
  numLabels?: number;
  /** Its task head, of any kind (undefined: encoder-only). */
  head?: TaskHead;
  /**
   * It takes no token types (no token_type_ids input: DistilBERT, RoBERTa, a BERT export computing zeros): a student
   * of it computes type 0 for every token too, which is what it will be given in its place.
   */
  zeroTokenTypes: boolean;
}

/** Training's refusal of a Distilled BiLSTM (float or int8) given as a teacher. */
export function recurrentTeacherRefusal(): SettingsError {
  return new SettingsError(`teacher: the model is ${RECURRENT_MODEL}: a teacher is a BERT-family encoder (distil from the encoder it was distilled from)`);
}

/** The shape of a teacher graph, read by discovery (`structure`: its findBert, where the caller has it). */
export function teacherShape(teacher: Model, structure?: BertStructure): TeacherShape {
  if (recurrentModelLstm(teacher)) throw recurrentTeacherRefusal();
  const s = structure ?? findBert(teacher, { label: 'teacher' });
  const act = s.layers[0]?.ffn.activation;
  return {
    numLayers: s.numLayers,
    hiddenSize: s.hiddenSize,
    vocabSize: s.vocabSize,
    maxPositions: s.maxPositions ?? 512,
    typeVocabSize: looksUpTokenTypes(s.family) ? (s.typeVocabSize ?? 2) : 2,
    activation: act === 'gelu' || act === 'gelu_tanh' || act === 'relu' || act === 'silu' || act === 'quick_gelu' || act === 'tanh' ? act : 'gelu',
    layerNormEps: s.layers[0] ? float32Epsilon(teacher, s.layers[0].outputNorm) : 1e-12,
    numLabels: s.head?.kind === 'sequence-classification' ? s.head.numLabels : undefined,
    ...(s.head ? { head: s.head } : {}),
    zeroTokenTypes: s.inputs.tokenTypeIds === undefined,
  };
}

/**
 * Refuses, in one line, a task-stage teacher that cannot teach `task`: its classifier (`head`: the teacher's, any kind)
 * of another width, or none (encoder-only, in eval's words for such a model: encoderOnlyTeacherRefusal, of `model`
 * and its `structure` where the caller has it; or another kind of head, named: a pretraining or a multiple-choice head);
 * or of the task's width with another GLUE task's labels (`id2label`, read from `file`: an SST-2 teacher for MRPC, not
 * 'fix id2label', whose LABEL_0… would distil its SST-2 outputs as MRPC's). Labels that fit no task are left to the
 * label check. `teacher`: the teacher as the user named it.
 */
export function checkTaskTeacher(
  task: TaskDefinition,
  head: TaskHead | undefined,
  id2label: ReadonlyMap<number, string> | null,
  teacher: string,
  file: string,
  model: Model,
  structure?: BertStructure,
): void {
  const wanted = task.regression ? 1 : task.labels.length;
  const outputs = head?.kind === 'sequence-classification' ? head.numLabels : undefined;
  if (!head) throw encoderOnlyTeacherRefusal(task, teacher, model, structure);
  if (outputs !== wanted) {
    const has = outputs ?? `no classifier but ${headInWords(head)}`;
    throw new SettingsError(`${task.name} needs ${counted(wanted, 'output')}; the teacher has ${has}`);
  }
  const other = anotherTasksLabels(task, id2label, wanted);
  if (other) {
    throw new SettingsError(
      `--teacher ${teacher}: its labels (${file}: ${[...id2label!.values()].join(', ')}) are ${other}, not ${task.name}'s: distil ${task.name} from a teacher fine-tuned on it`,
    );
  }
}

/**
 * checkTaskTeacher's refusal of an encoder-only teacher `model` (at `teacher`, as the user named it; `structure`: its
 * findBert, where the caller has it) for the task stage of `task`, in eval's words for such a model (its path, what it
 * outputs, what needs a classifier, the way to give it one): a classifier given by compress train --new-head where it
 * has a pooler to put it on (newHeadAdvice), and general distillation, which such a teacher teaches as it is.
 */
function encoderOnlyTeacherRefusal(task: TaskDefinition, teacher: string, model: Model, structure?: BertStructure): SettingsError {
  const s = structure ?? findBert(model, { label: 'teacher' });
  const quantized = quantizedWeight(s);
  const general = 'a teacher without one teaches general distillation alone (--stage general)';
  const way = !hasClassifierPlace(model, s)
    ? `${noClassifierPlaceReason(model, s)}, and ${general}`
    : `${newHeadAdvice(task.name, teacher, quantized, false, () => quantizedFrom(locateModel(teacher).onnx))} and distil from that; ${general}`;
  return new SettingsError(`--teacher ${teacher}: ${encoderOnlyNote(model)}: distillation reads a teacher's class scores; ${way}`);
}

/** The divisor of `n` nearest to `target` (the larger of two as near). */
function nearestDivisor(n: number, target: number): number {
  let best = 1;
  for (let d = 1; d <= n; d++) if (n % d === 0 && Math.abs(d - target) <= Math.abs(best - target)) best = d;
  return best;
}

/**
 * The hidden width and heads of the bert:… student `spec` of a teacher `teacherHidden` wide (hidden: the spec's, else
 * the teacher's; heads: the spec's, else hidden / 64 rounded); a SettingsError naming the spec where the width is not
 * divisible by the heads, each number the user never wrote said where it comes from (the teacher's width, the default
 * heads) with what to give instead: heads=A dividing the width, or, beside heads the spec gives, hidden=H they divide.
 * What scratchStudent builds, and what a sweep's plan checks before any point runs.
 */
export function bertStudentWidth(spec: string, teacherHidden: number): { hidden: number; heads: number } {
  const s = parseBertSpec(spec);
  const hidden = s.hidden ?? teacherHidden;
  const heads = s.heads ?? defaultHeads(hidden);
  if (hidden % heads !== 0) {
    const width = s.hidden === undefined ? `hidden ${hidden} (the teacher's: the spec gives no hidden=H)` : `hidden ${hidden}`;
    const divisor = nearestDivisor(hidden, heads);
    const why =
      s.heads === undefined
        ? ` (the default for hidden ${hidden}: hidden / 64, rounded); give heads=A, e.g. heads=${divisor}`
        : s.hidden === undefined
          ? `; give heads=A dividing ${hidden}, e.g. heads=${divisor}, or hidden=H divisible by ${heads}, e.g. hidden=${Math.max(1, Math.round(hidden / heads)) * heads}`
          : '';
    throw new SettingsError(`${studentFrame(spec)}: ${width} is not divisible by heads ${heads}${why}`);
  }
  return { hidden, heads };
}

/**
 * A randomly initialized BERT with the teacher's vocabulary, positions and token types (none as an input where the
 * teacher takes none: type 0 for every token), and `numLabels` outputs
 * (default: the teacher's). With neither (general distillation from a teacher without a classifier, no --task) it is
 * encoder-only: trained with a placeholder classifier no loss reads, written without it.
 */
export function scratchStudent(t: TeacherShape, spec: string, seed: number, numLabels?: number): Student {
  const { config, bare } = scratchConfig(t, spec, numLabels);
  checkStudentFits(spec, countParameters(config));
  const weights = randomBertWeights(config, { seed });
  const description = `BERT ${config.numLayers}×${config.hiddenSize} (${counted(config.numHeads, 'head')}, FFN ${config.intermediateSize}) from scratch${bare ? ', encoder only' : ''}`;
  return bertStudent({ config, weights }, description, { encoderOnly: bare });
}

/** The sizes of scratchStudent's BERT, and whether it is encoder-only (`bare`: no outputs to size its classifier by). */
function scratchConfig(t: TeacherShape, spec: string, numLabels: number | undefined): { config: ExtendedBertConfig; bare: boolean } {
  const s = parseBertSpec(spec);
  const { hidden, heads } = bertStudentWidth(spec, t.hiddenSize);
  // no classifier to size (general distillation, no --task, a teacher without one): an encoder-only student
  const labels = numLabels ?? t.numLabels ?? PLACEHOLDER_LABELS;
  const bare = numLabels === undefined && t.numLabels === undefined;
  const config: ExtendedBertConfig = {
    numLayers: s.layers ?? t.numLayers,
    hiddenSize: hidden,
    numHeads: heads,
    intermediateSize: s.intermediate ?? defaultIntermediate(hidden),
    vocabSize: t.vocabSize,
    maxPositions: t.maxPositions,
    typeVocabSize: t.typeVocabSize,
    numLabels: labels,
    activation: t.activation,
    layerNormEps: t.layerNormEps,
    ...(t.zeroTokenTypes ? { zeroTokenTypes: true } : {}),
  };
  return { config, bare };
}

/**
 * Refuses a student made from sizes of a teacher of shape `t` (`spec` bert:… or bilstm:…, with `numLabels` outputs,
 * else the teacher's) whose float32 weights alone would not fit in the machine's memory (checkStudentFits), as
 * makeStudent does before it allocates them: what a sweep's plan checks before any point runs (`memoryBytes`: the memory
 * its points run in). Other specs pass.
 */
export function checkSizedStudentFits(spec: string, t: TeacherShape, numLabels: number | undefined, memoryBytes: number = totalmem()): void {
  if (spec.startsWith('bert:')) checkStudentFits(spec, countParameters(scratchConfig(t, spec, numLabels).config), memoryBytes);
  const labels = numLabels ?? t.numLabels;
  if (spec.startsWith('bilstm:') && labels !== undefined) checkStudentFits(spec, bilstmParameterCount(bilstmConfigOf(spec, t, labels)), memoryBytes);
}

/** The sizes of the bilstm:… student `spec` of a teacher of shape `t`, with `numLabels` outputs (and a length that sizes no weight). */
function bilstmConfigOf(spec: string, t: Pick<TeacherShape, 'vocabSize'>, numLabels: number, maxLength = 1): BilstmConfig {
  return resolveBilstmConfig(parseBilstmSpec(spec), { vocabSize: t.vocabSize, numLabels, maxLength });
}

/** The Distilled BiLSTM student. */
export function bilstmStudent(config: BilstmConfig, weights: Map<string, Float32Array>): Student {
  const plain = bilstmTrainingGraph(config, weights);
  const withDropout = bilstmTrainingGraph(config, weights, { dropout: true });
  return {
    kind: 'bilstm',
    description: `BiLSTM hidden ${config.hiddenSize}, embedding ${config.embeddingSize}, MLP ${config.mlpSize}`,
    numLabels: config.numLabels,
    forward: (dropout) => (dropout ? withDropout : plain),
    masks: maskInputs(bilstmDropoutMasks(config).map((m) => ({ name: m.name, dims: m.shape }))),
    sparse: ['embedding.weight'],
    inputs: { ids: 'input_ids', mask: 'attention_mask' },
    fixedLength: config.maxLength,
    export: (params) => exportBilstm(config, new Map([...weights, ...params])),
    configJson: (src) => ({ ...bilstmConfigJson(config, { id2label: id2labelOf(src), problemType: src.problem_type as never }) }),
  };
}

/** The label names of the source's config.json in id order, its keys read as transformers reads them (configId2label). */
function id2labelOf(src: Record<string, unknown>): string[] | undefined {
  const m = configId2label(src, (msg) => {
    throw new SettingsError(`config.json: ${msg}`);
  });
  return m ? [...m.keys()].sort((a, b) => a - b).map((k) => m.get(k)!) : undefined;
}

/** Student specs the library builds from the teacher (every-other, bert:…, bilstm:…), as opposed to model paths. */
/** The kind of model a student spec makes: a bilstm:… spec a Distilled BiLSTM; every-other and bert:… a BERT. */
export function studentSpecKind(spec: string): StudentKind {
  return spec.startsWith('bilstm:') ? 'bilstm' : 'bert';
}

export function isStudentSpec(spec: string): boolean {
  return spec === 'every-other' || spec.startsWith('bert:') || spec.startsWith('bilstm:');
}

/**
 * Checks the form of a bert:… or bilstm:… spec before any model is read (SettingsError naming the spec), a bert:…
 * spec's heads against the hidden width it gives (the teacher's width, where it gives none, is checked once read).
 * `frame` names the spec before the fault as the caller names it (default studentFrame's `student 'bert:…'`; the
 * command line `--student 'bert:…'`, as its other refusals of the flag; a sweep file the value alone, its place
 * naming the setting).
 */
export function checkStudentSpec(spec: string, frame = studentFrame(spec)): void {
  try {
    if (spec.startsWith('bert:')) {
      const { hidden } = parseBertSpec(spec);
      if (hidden !== undefined) bertStudentWidth(spec, hidden);
    } else if (spec.startsWith('bilstm:')) parseBilstmSpec(spec);
  } catch (e) {
    const own = `${studentFrame(spec)}: `;
    if (!(e instanceof SettingsError) || !e.message.startsWith(own)) throw e;
    throw new SettingsError(`${frame}: ${e.message.slice(own.length)}`, { cause: e });
  }
}

export interface StudentSource {
  /** The student spec (path, every-other, bert:…, bilstm:…). */
  spec: string;
  /** The teacher, for every-other / bert: / bilstm:. */
  teacher?: Model;
  /** The teacher's structure, when the caller has discovered it already (findBert of `teacher`). */
  teacherStructure?: BertStructure;
  /** Max length (BiLSTM's unrolled length). */
  maxLength: number;
  seed: number;
  /** Outputs of a from-scratch student (default: the teacher's classifier width), or of a new classifier. */
  numLabels?: number;
  /**
   * A student model path: its classifier replaced by a new one of `numLabels` outputs, seeded by `seed`
   * (classifier.ts newClassifier): it has none for the task. A bare encoder gets one whenever numLabels is given,
   * and is trained encoder-only (general distillation) when it is not.
   */
  newClassifier?: boolean;
  /** The student model, when the caller has read it already. */
  model?: Model;
  /** `model`'s structure, when the caller has discovered it already (findBert of `model`). */
  modelStructure?: BertStructure;
}

/** A head of a model with weights stored quantized (quantizedWeight: what, in words), which training cannot read. */
interface StoredQuantized {
  quantized?: string;
}

/**
 * What a student model's head is, by discovery: none (a bare encoder), a sequence classifier of that width, another
 * head (pretraining, MLM, question answering: the rebuild refuses it, --new-head replaces it where a pooler is there
 * to put a classifier on), or undefined (not a BERT-family encoder).
 */
export function studentClassifier(
  model: Model,
  structure?: BertStructure,
): { kind: 'none' } | (({ kind: 'classifier'; numLabels: number } | { kind: 'other'; head: string; pooled: boolean }) & StoredQuantized) | undefined {
  let s: BertStructure;
  try {
    s = structure ?? findBert(model, { label: 'student' });
  } catch (e) {
    if (e instanceof NotBertError) return undefined;
    throw e;
  }
  if (isEncoderOnly(s)) return { kind: 'none' };
  const quantized = quantizedWeight(s);
  const stored = quantized ? { quantized } : {};
  if (s.head?.kind === 'sequence-classification') return { kind: 'classifier', numLabels: s.head.numLabels, ...stored };
  // (pooled: a tanh pooler a new classifier goes on, withClassifier)
  return s.head ? { kind: 'other', head: s.head.kind, pooled: hasClassifierPlace(model, s), ...stored } : undefined;
}

/**
 * A student model of `own` word-embedding rows distilled from a teacher of `teacherVocab`: the same size, or, where
 * the folders are given (`dirs`: the teacher's, its tokenizer's, and the student's), each holding every token id their
 * tokenizer gives (tableRowsProblem: a teacher padded to 30528 rows beside a 30522-row student of bert-base's
 * tokenizer); and a student folder with tokenizer files holds the teacher's vocabulary; else a one-line SettingsError
 * (distillation feeds both the teacher's token ids), naming the tables too small for them. Also a sweep's plan's check.
 */
export function checkStudentVocabulary(teacherVocab: number, own: number, dirs?: { student: string; teacher: string }): void {
  const tables = [
    { who: 'the student', rows: own },
    { who: 'the teacher', rows: teacherVocab },
  ];
  const problem = tableRowsProblem(tables, dirs ? [dirs.teacher, dirs.student] : []);
  if (problem) {
    const differ = `student vocabulary (${own}) differs from the teacher's (${teacherVocab})`;
    throw new SettingsError(
      problem.past === undefined
        ? `${differ}: distillation needs the same tokenizer`
        : `${differ}, and ${problem.past}: distillation feeds both the tokenizer's ids`,
    );
  }
  if (dirs) checkSameVocabulary(dirs.student, dirs.teacher);
}

/** A student folder with tokenizer files must hold the teacher's vocabulary (the same tokens, the same ids). */
function checkSameVocabulary(studentDir: string, teacherDir: string): void {
  const student = readVocabulary(studentDir);
  const teacher = readVocabulary(teacherDir);
  if (!student || !teacher) return;
  const diff = vocabularyDifference(student.vocab, teacher.vocab);
  if (diff) {
    throw new SettingsError(
      `student vocabulary (${student.file}) differs from the teacher's (${teacher.file}): ${diff}; distillation needs the same tokenizer`,
    );
  }
}

/**
 * Refuses, in one line, a student made from sizes (`bert:`, `bilstm:`) whose float32 weights alone would take more
 * than `memoryBytes` (the machine's memory), before any of them is allocated (where a typed array of that length
 * fails as an internal error, or the process runs out of memory).
 */
export function checkStudentFits(spec: string, params: number, memoryBytes: number = totalmem()): void {
  const bytes = 4 * params;
  if (bytes <= memoryBytes) return;
  throw new MemoryRefusal(
    `${studentFrame(spec)}: ${groupedDigits(params)} parameters would take ${gigabytes(bytes)} as float32 weights alone, more than this machine's ${gigabytes(memoryBytes)} of memory; give smaller sizes`,
  );
}

/** Who every-other's refusals of its teacher's rebuild name (rebuilt). */
export const EVERY_OTHER_REBUILDS = "--student every-other copies the teacher's layers";

/**
 * Training's refusal of a model it rebuilds for `who` (rebuilt's words: a student's path, EVERY_OTHER_REBUILDS for
 * every-other's teacher) whose structure `s` has a weight stored quantized (quantizedRebuildRefusal), which a sweep's
 * plan says before any point runs; undefined for a float model. It names the float model the file `onnx` was quantized
 * from where its lineage tells it (quantizedFrom).
 */
export function storedQuantizedRefusal(who: string, s: BertStructure, onnx?: string): SettingsError | undefined {
  const refusal = quantizedRebuildRefusal(s, onnx === undefined ? undefined : () => quantizedFrom(onnx));
  return refusal === undefined ? undefined : new SettingsError(`${who}: ${refusal}`);
}

/**
 * canonicalBert, its one-line refusal naming the model it was about (`who`: the student's path, or every-other's
 * teacher), as a student and a teacher refused alike ('canonical rebuild: the word embedding is stored quantized')
 * could not be told apart; one stored quantized names the float model its file `onnx` was quantized from where known.
 */
function rebuilt(model: Model, who: string, onnx?: string, structure?: BertStructure): CanonicalBert {
  try {
    const s = structure ?? findBert(model);
    const stored = quantizedRebuildRefusal(s, onnx === undefined ? undefined : () => quantizedFrom(onnx));
    if (stored) throw new SettingsError(stored);
    return canonicalBert(model, s);
  } catch (e) {
    if (e instanceof SettingsError) throw new SettingsError(`${who}: ${e.message}`);
    throw e;
  }
}

/**
 * Why training refuses the student (or model) `spec`, a Distilled BiLSTM student stored in int8: one line saying what
 * to train, naming the float student's file where the lineage of `onnx` (spec's model file) finds it (quantizedFrom).
 */
export function int8BilstmRefusal(spec: string, onnx?: string): SettingsError {
  const float = onnx === undefined ? undefined : quantizedFrom(onnx);
  return new SettingsError(
    `${spec}: a Distilled BiLSTM student stored in int8 (compress --quantize int8: DynamicQuantizeLSTM), which training cannot read: train the float student it was quantized from${float ? ` (${float})` : ''}, then quantize the result`,
  );
}

/** A saved BiLSTM student with a new classifier of `numLabels` outputs (its last MLP layer), seeded as a new student's. */
function newBilstmClassifier(
  saved: { config: BilstmConfig; weights: Map<string, Float32Array> },
  numLabels: number,
  seed: number,
): { config: BilstmConfig; weights: Map<string, Float32Array> } {
  const config = { ...saved.config, numLabels };
  const weights = new Map(saved.weights);
  for (const name of BILSTM_CLASSIFIER_WEIGHTS) weights.set(name, randomBilstmParameter(config, name, seed));
  return { config, weights };
}

/** Loads or makes the student a spec names. */
export function makeStudent(src: StudentSource): { student: Student; folder?: string } {
  const { spec } = src;
  const teacher = (): Model => {
    if (!src.teacher) throw new SettingsError(`--student ${spec} needs a teacher`);
    return src.teacher;
  };
  if (spec === 'every-other') return { student: everyOtherOf(teacher(), src.teacherStructure, src.numLabels, src.seed) };
  if (spec.startsWith('bert:')) return { student: scratchStudent(teacherShape(teacher(), src.teacherStructure), spec, src.seed, src.numLabels) };
  if (spec.startsWith('bilstm:')) {
    const shape = teacherShape(teacher(), src.teacherStructure);
    const numLabels = src.numLabels ?? shape.numLabels;
    if (numLabels === undefined) throw new SettingsError(`--student ${spec}: the teacher has no classifier; give --task so the student gets one`);
    const config = bilstmConfigOf(spec, shape, numLabels, src.maxLength);
    checkStudentFits(spec, bilstmParameterCount(config));
    // The teacher's table initialises the student's when their widths agree; a table that cannot be read as one
    // (quantized, factorized) is not copied: the student then starts from random embeddings, as with any other width.
    const table = readWordEmbeddings(teacher());
    const emb = 'refused' in table ? undefined : table;
    const weights = randomBilstmWeights(config, src.seed, emb?.width === config.embeddingSize ? { embedding: emb.data } : {});
    return { student: bilstmStudent(config, weights) };
  }
  const where = locateModel(spec);
  const model = src.model ?? inlineLocalFunctions(loadModel(where.onnx));
  // A Distilled BiLSTM this tool wrote trains further as one; anything else is rebuilt as a canonical BERT.
  const saved = importBilstm(model, src.maxLength, where.onnx);
  if (!saved && recurrentModelLstm(model)?.opType === 'DynamicQuantizeLSTM') throw int8BilstmRefusal(spec, where.onnx);
  // a bare encoder (a general-distilled student) is read with a classifier put on its pooler: a new one, or with no
  // outputs to size, a placeholder (trained encoder-only)
  // (so is a model of another head, a pretraining graph's MLM and NSP, given a new classifier: --new-head drops it)
  const found = src.model ? src.modelStructure : undefined; // (the structure of the model given, not of one read here)
  const head = saved ? undefined : studentClassifier(model, found)?.kind;
  const bare = head === 'none' || (head === 'other' && src.newClassifier === true && src.numLabels !== undefined);
  const keepBare = bare && src.numLabels === undefined;
  const fresh = !saved && src.numLabels !== undefined && (bare || src.newClassifier === true);
  // (one stored quantized: the rebuild's refusal, its first check, before a place for the classifier is looked for, so
  // that a quantized encoder without a pooler is refused as quantized, as a sweep's plan refuses it)
  const stored = bare ? storedQuantizedRefusal(spec, found ?? findBert(model, { label: `student ${spec}` }), where.onnx) : undefined;
  if (stored) throw stored;
  const read = bare
    ? rebuilt(withClassifier(model, src.numLabels ?? PLACEHOLDER_LABELS, `student ${spec}`), spec)
    : saved
      ? undefined
      : rebuilt(model, spec, where.onnx, found);
  const canon = read && fresh ? newClassifier(read, src.numLabels!, src.seed) : read;
  const how = keepBare ? ', encoder only' : fresh ? ` with a new classifier (${counted(src.numLabels!, 'output')})` : '';
  const description = `canonical rebuild of ${spec}${how}`;
  // (a saved BiLSTM given a new classifier: its last MLP layer seeded for numLabels outputs, as a new student's is)
  const bilstm = saved && src.newClassifier === true && src.numLabels !== undefined ? newBilstmClassifier(saved, src.numLabels, src.seed) : saved;
  const student = bilstm
    ? bilstmStudent(bilstm.config, bilstm.weights)
    : bertStudent(canon!, description, { encoderOnly: keepBare, identity: `canonical rebuild of a model file${how}` });
  return { student, folder: dirname(where.onnx) };
}
