/**
 * A BERT student's classifier, when it has none or none for the task (TinyBERT's workflow: a general-distilled
 * encoder, then task distillation):
 * - `encoderOnly`: the model written by general distillation from a teacher without a classifier (a pretrained
 *   BERT: an MLM head or a bare encoder) and with no --task: Hugging Face's BertModel, the encoder and its pooler,
 *   outputs `last_hidden_state` [batch, seq, hidden] and `pooler_output` [batch, hidden], no classifier;
 * - `withClassifier`: a bare encoder with a pooler (BERT, ALBERT) given a classifier Gemm on the pooler's output, so
 *   that the canonical rebuild (src/bert/canonical.ts, which rebuilds sequence classifiers only) reads it;
 * - `newClassifier`: a canonical student whose classifier is replaced by a new one of `numLabels` outputs,
 *   initialised as a from-scratch student's is (transformers' init, seeded by the parameter's name and the run's
 *   --seed); the pooler (or DistilBERT's pre_classifier, RoBERTa's dense) is kept, as transformers keeps what a
 *   checkpoint has and initialises the rest.
 */
import { cloneModel, graphValueNames, type Model } from '../../onnx/graph.ts';
import { DataType } from '../../onnx/dtype.ts';
import { float32Tensor } from '../../onnx/tensor.ts';
import { removeDeadNodes, removeUnusedInitializers, renameValue } from '../../onnx/analysis.ts';
import { attr } from '../../bert/build-graph.ts';
import { bertParameters, headParamNames, randomParameter } from '../../bert/build-weights.ts';
import type { CanonicalBert } from '../../bert/canonical.ts';
import { hasClassifierPlace, noClassifierPlaceReason, pooledOutput } from '../../bert/classifier.ts';
import { findBert } from '../../bert/discover.ts';
import type { BertStructure } from '../../bert/structure.ts';
import { SettingsError } from '../../errors.ts';

/** The outputs of an encoder-only model, as transformers' BertModel names them. */
export const ENCODER_OUTPUTS = ['last_hidden_state', 'pooler_output'] as const;

/**
 * `model` (a BERT with a pooler; its classifier, if any, dropped) as transformers' BertModel: outputs
 * `last_hidden_state` and `pooler_output`, nothing the classifier read kept.
 */
export function encoderOnly(model: Model): Model {
  const m = cloneModel(model);
  const s = findBert(m, { label: 'student' });
  const pooled = pooledOutput(m, s);
  const last = s.layers.at(-1)?.output;
  if (!pooled || !last) throw new Error('encoderOnly: the student has no encoder layer or no tanh pooler');
  const hidden = s.hiddenSize;
  const batch = m.graph.inputs[0]?.shape?.[0] ?? 'batch_size';
  const seq = m.graph.inputs[0]?.shape?.[1] ?? 'sequence_length';
  m.graph.outputs = [
    { name: last, elemType: DataType.FLOAT, shape: [batch, seq, hidden] },
    { name: pooled, elemType: DataType.FLOAT, shape: [batch, hidden] },
  ];
  removeDeadNodes(m.graph);
  removeUnusedInitializers(m.graph);
  renameValue(m.graph, last, ENCODER_OUTPUTS[0]);
  renameValue(m.graph, pooled, ENCODER_OUTPUTS[1]);
  return m;
}

/**
 * withClassifier's refusal of a bare encoder `model` (`s`: its structure) that has no place for a classifier: no tanh
 * pooler (or not a BERT or ALBERT, whose classifiers read one), naming it `label`; undefined where it has one. Reads
 * the graph alone (a sweep's plan asks it of a student read without weight values).
 */
export function noClassifierPlace(model: Model, s: BertStructure, label: string): SettingsError | undefined {
  if (hasClassifierPlace(model, s)) return undefined;
  return new SettingsError(`${label} has no classifier, and ${noClassifierPlaceWords(model, s)}`);
}

/**
 * Why a bare encoder (`s`: its structure) with no place for a classifier (hasClassifierPlace) has none, and what to give
 * instead: noClassifierPlace's words after the model's name, and a sweep model's refusal's (refuseEncoderOnly).
 */
export function noClassifierPlaceWords(model: Model, s: BertStructure): string {
  return `${noClassifierPlaceReason(model, s)}: give a BERT or ALBERT encoder with its pooler, or a sequence classifier`;
}

/**
 * A bare encoder (no head) with a classifier Gemm of `numLabels` outputs (zero weights: `newClassifier` sets them)
 * on its pooler's output, writing `logits`; refused in one line when it has no tanh pooler to put it on
 * (noClassifierPlace).
 */
export function withClassifier(model: Model, numLabels: number, label: string): Model {
  const m = cloneModel(model);
  const s = findBert(m, { label });
  const refusal = noClassifierPlace(m, s, label);
  if (refusal) throw refusal;
  const pooled = pooledOutput(m, s)!;
  const weight = uniqueName(m, 'classifier.weight');
  const bias = uniqueName(m, 'classifier.bias');
  m.graph.initializers.set(weight, float32Tensor(weight, [numLabels, s.hiddenSize], new Float32Array(numLabels * s.hiddenSize)));
  m.graph.initializers.set(bias, float32Tensor(bias, [numLabels], new Float32Array(numLabels)));
  const logits = uniqueName(m, 'logits');
  m.graph.nodes.push({
    name: '/classifier/Gemm',
    opType: 'Gemm',
    domain: '',
    inputs: [pooled, weight, bias],
    outputs: [logits],
    attributes: { alpha: attr.float(1), beta: attr.float(1), transB: attr.int(1) },
  });
  const batch = m.graph.inputs[0]?.shape?.[0] ?? 'batch_size';
  m.graph.outputs = [{ name: logits, elemType: DataType.FLOAT, shape: [batch, numLabels] }];
  removeDeadNodes(m.graph);
  removeUnusedInitializers(m.graph);
  return m;
}

/** `name`, or `name_1`, `name_2`… when the graph already has a value of that name. */
function uniqueName(m: Model, name: string): string {
  const taken = graphValueNames(m.graph);
  let out = name;
  for (let i = 1; taken.has(out); i++) out = `${name}_${i}`;
  return out;
}

/**
 * `c` with a new classifier of `numLabels` outputs: the family's last head projection (BERT's `classifier`,
 * RoBERTa's `classifier.out_proj`…) seeded as a from-scratch student's (normal(0, 0.02) by the parameter's name and
 * `seed`, bias zero); every other weight kept.
 */
export function newClassifier(c: CanonicalBert, numLabels: number, seed: number): CanonicalBert {
  const config = { ...c.config, numLabels };
  const last = headParamNames(c.family).last;
  const weights = new Map(c.weights);
  for (const spec of bertParameters(config)) {
    if (spec.name === `${last}.weight` || spec.name === `${last}.bias`) weights.set(spec.name, randomParameter(spec, { seed }));
  }
  return { ...c, config, weights };
}
