/**
 * Encoder-only models: what `distill --stage general` writes from a teacher without a classifier (transformers'
 * BertModel, outputs `last_hidden_state` and `pooler_output`). They have no classifier, so their first output is
 * hidden states, which evaluation, a loss on calibration data or a sweep point would otherwise read as class scores;
 * the task stage gives them one.
 */
import type { Model } from '../onnx/graph.ts';
import type { BertStructure } from './structure.ts';

/** How a user gives an encoder-only model its classifier. */
export const GIVE_CLASSIFIER = 'compress distill --stage task';

/** A head of kind `kind` as messages name it, with its article: 'a pretraining head', 'an unknown head'. */
export function aHead(kind: string): string {
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} head`;
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
 * A refusal's way to give the model at `path` the classifier of `task`: `compress train --new-head`; `sweep`: then
 * sweep that model. A model stored quantized (`quantized`: storedQuantized, in words), which training cannot read:
 * said, and the command is the float model's it was quantized from (`floatModel`, where its lineage names the file:
 * quantizedFrom; else FLOAT_MODEL), quantized again after.
 */
export function newHeadAdvice(task: string, path: string, quantized: string | undefined, sweep = false, floatModel?: string): string {
  if (!quantized) return `give it ${task}'s classifier first (compress train ${path} --task ${task} --new-head -o OUT)${sweep ? ' and sweep that model' : ''}`;
  const to = floatModel ? `${floatModel}, the float model it was quantized from,` : 'the float model it was quantized from';
  return `${quantized}, which training cannot read: give ${task}'s classifier to ${to} first (compress train ${floatModel ?? 'FLOAT_MODEL'} --task ${task} --new-head -o OUT), then quantize the result${sweep ? ' and sweep that' : ''}`;
}
