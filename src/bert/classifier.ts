/**
 * Encoder-only models: what `distill --stage general` writes from a teacher without a classifier (transformers'
 * BertModel, outputs `last_hidden_state` and `pooler_output`). They have no classifier, so their first output is
 * hidden states, which evaluation, a loss on calibration data or a sweep point would otherwise read as class scores;
 * the task stage gives them one.
 */
import type { Model } from '../onnx/graph.ts';
import type { BertStructure, HeadKind, TaskHead } from './structure.ts';
import { classifiesPooled } from './config.ts';
import { shellWord } from '../shell-word.ts';
import { quantizedWeight } from './stored-quantized.ts';

/** How a user gives an encoder-only model its classifier. */
export const GIVE_CLASSIFIER = 'compress distill --stage task';

/** A head of kind `kind` as messages name it, with its article: 'a pretraining head', 'an unknown head'. */
export function aHead(kind: string): string {
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} head`;
}

/**
 * A pretraining head in words: transformers' BertForPreTraining's MLM and NSP ('a pretraining head (MLM + NSP)'), or
 * with one output, BertForNextSentencePrediction's NSP alone (discover/head.ts reads it by its weight's name).
 */
export function aPretrainingHead(head: Pick<TaskHead, 'outputs'>): string {
  return head.outputs.length === 1 ? 'a pretraining head (NSP alone: is-next and not-next scores)' : 'a pretraining head (MLM + NSP)';
}

/** The heads whose first output is not one row of class scores per example, in words. */
const NOT_A_CLASSIFIER: Record<Exclude<HeadKind, 'sequence-classification' | 'pretraining'>, string> = {
  'multiple-choice': 'a multiple-choice head (one score per choice)',
  'question-answering': 'a question-answering head (span start and end scores per token)',
  'token-classification': 'a token-classification head (scores per token)',
  unknown: 'a head that is not a sequence classifier',
};

/**
 * A task head in words, with its article, as refusals name a head that is not a sequence classifier ('a
 * multiple-choice head (one score per choice)', aPretrainingHead's for a pretraining head); 'a sequence classifier'.
 */
export function headInWords(head: Pick<TaskHead, 'kind' | 'outputs'>): string {
  if (head.kind === 'sequence-classification') return 'a sequence classifier';
  return head.kind === 'pretraining' ? aPretrainingHead(head) : NOT_A_CLASSIFIER[head.kind];
}

/** Whether the model is encoder-only: no task head of any kind (transformers' BertModel and its kin). */
export function isEncoderOnly(s: BertStructure): boolean {
  return s.head === undefined;
}

/** 'encoder-only (outputs last_hidden_state, pooler_output; no classifier)', with the graph's own output names. */
export function encoderOnlyNote(model: Model): string {
  return `encoder-only (outputs ${model.graph.outputs.map((o) => o.name).join(', ')}; no classifier)`;
}

/**
 * The value the pooler's activation writes (its Tanh's output, or the output of onnxruntime's FusedGemm that applies
 * the Tanh itself), or undefined when the model has no tanh pooler.
 */
export function pooledOutput(model: Model, s: BertStructure): string | undefined {
  const dense = s.pooler?.dense;
  if (!dense || s.pooler!.activation !== 'tanh') return undefined;
  if (model.graph.nodes.find((n) => n.outputs[0] === dense.output)?.opType === 'FusedGemm') return dense.output;
  return model.graph.nodes.find((n) => n.opType === 'Tanh' && n.inputs[0] === dense.output)?.outputs[0];
}

/**
 * Whether a model (`s`: its structure) has a place for a new classifier, where training puts one (withClassifier,
 * src/train/students: GIVE_CLASSIFIER, --new-head): the tanh pooler of a BERT or ALBERT, whose classifiers read it.
 * The other families' classifiers read no pooler (RoBERTa's and ELECTRA's heads have a dense + tanh of their own,
 * DistilBERT's its pre_classifier): none is put on them. Reads the graph alone.
 */
export function hasClassifierPlace(model: Model, s: BertStructure): boolean {
  return pooledOutput(model, s) !== undefined && classifiesPooled(s.family);
}

/**
 * Why a model (`s`: its structure) that hasClassifierPlace says has no place for a new classifier has none, as every
 * refusal of such a model (eval's, the passes', training's of a student or teacher) words it: a tanh pooler that no
 * classifier of its family reads (RobertaModel's pooler_output, discover/head.ts, where RobertaForSequenceClassification's
 * head has a dense + tanh of its own), else no pooler to put one on.
 */
export function noClassifierPlaceReason(model: Model, s: BertStructure): string {
  return pooledOutput(model, s) !== undefined
    ? "its pooler (dense + tanh on the first token) is RobertaModel's, which no RoBERTa classifier reads (RobertaForSequenceClassification's head has a dense + tanh of its own)"
    : 'it has no pooler (dense + tanh on the first token) to put one on';
}

/**
 * The float model a model stored quantized was quantized from, where its lineage names the file (the caller's
 * quantizedFrom of its file, src/bench/lineage.ts, which reads the lineage and may hash the float model): asked only of
 * a model stored quantized, as the refusals below say it.
 */
export type FloatModel = () => string | undefined;

/**
 * What a refusal of an encoder-only model (`s`: its structure) that needs a classifier says where GIVE_CLASSIFIER
 * cannot give it one: why, and what to give instead; undefined where it can. It cannot where the model has no place
 * for one (hasClassifierPlace), nor where a weight is stored quantized (quantizedWeight: training, which refuses to
 * rebuild such a model, gives the float model it was quantized from the classifier: FloatModel's, where its lineage
 * names the file).
 */
export function noClassifierWay(model: Model, s: BertStructure, floatModel?: FloatModel): string | undefined {
  if (!hasClassifierPlace(model, s)) return `${noClassifierPlaceReason(model, s)}, so ${GIVE_CLASSIFIER} cannot give it one: give a sequence classifier`;
  const quantized = quantizedWeight(s);
  if (quantized === undefined) return undefined;
  const float = floatModel?.();
  const to = float ? `${float}, the float model it was quantized from,` : 'the float model it was quantized from';
  return `${quantized}, which training cannot read, so ${GIVE_CLASSIFIER} cannot give it one: give one to ${to} first (${GIVE_CLASSIFIER}), then quantize the result`;
}

/**
 * A refusal's way to give the model at `path` the classifier of `task`: `compress train --new-head`; `sweep`: then
 * sweep that model. A model stored quantized (`quantized`: storedQuantized, in words), which training cannot read:
 * said, and the command is the float model's it was quantized from (`floatModel`'s, where its lineage names the file;
 * else FLOAT_MODEL), quantized again after.
 */
export function newHeadAdvice(task: string, path: string, quantized: string | undefined, sweep = false, floatModel?: FloatModel): string {
  if (!quantized)
    return `give it ${task}'s classifier first (compress train ${shellWord(path)} --task ${task} --new-head -o OUT)${sweep ? ' and sweep that model' : ''}`;
  const float = floatModel?.();
  const to = float ? `${float}, the float model it was quantized from,` : 'the float model it was quantized from';
  return `${quantized}, which training cannot read: give ${task}'s classifier to ${to} first (compress train ${float === undefined ? 'FLOAT_MODEL' : shellWord(float)} --task ${task} --new-head -o OUT), then quantize the result${sweep ? ' and sweep that' : ''}`;
}

/**
 * transformers' head classes that are not sequence classifiers, by the end of the class name (BertForMultipleChoice,
 * RobertaForMaskedLM, ElectraForPreTraining…), each in words.
 */
const OTHER_HEAD_CLASSES: ReadonlyArray<readonly [suffix: string, words: string]> = [
  ['ForMultipleChoice', 'a multiple-choice head (one score per choice)'],
  ['ForTokenClassification', 'a token-classification head (scores per token)'],
  ['ForQuestionAnswering', 'a question-answering head (span start and end scores per token)'],
  ['ForPreTraining', 'a pretraining head'],
  ['ForMaskedLM', 'a masked-LM head (scores over the vocabulary per token)'],
  ['ForNextSentencePrediction', 'a next-sentence-prediction head'],
  ['ForCausalLM', 'a causal-LM head'],
];

/**
 * The first class config.json's `architectures` names whose head is not a sequence classifier (transformers'
 * BertForMultipleChoice, …ForTokenClassification, …ForQuestionAnswering, …ForPreTraining, …ForMaskedLM,
 * …ForNextSentencePrediction, …ForCausalLM), with its head in words; undefined when it names none (a base model, an
 * unknown class, or no `architectures` list) or also names a sequence classifier.
 */
export function otherHeadClass(architectures: unknown): { name: string; head: string } | undefined {
  if (!Array.isArray(architectures)) return undefined;
  if (architectures.some((name) => typeof name === 'string' && name.endsWith('ForSequenceClassification'))) return undefined;
  for (const name of architectures) {
    if (typeof name !== 'string') continue;
    const found = OTHER_HEAD_CLASSES.find(([suffix]) => name.endsWith(suffix));
    if (found) return { name, head: found[1] };
  }
  return undefined;
}
