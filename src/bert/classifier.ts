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

/** Whether the model is encoder-only: no task head of any kind (transformers' BertModel and its kin). */
export function isEncoderOnly(s: BertStructure): boolean {
  return s.head === undefined;
}

/** 'encoder-only (outputs last_hidden_state, pooler_output; no classifier)', with the graph's own output names. */
export function encoderOnlyNote(model: Model): string {
  return `encoder-only (outputs ${model.graph.outputs.map((o) => o.name).join(', ')}; no classifier)`;
}
