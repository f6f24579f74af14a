/**
 * Tiny DistilBERT, RoBERTa, XLM-R and ELECTRA Hugging Face folders for tests: config.json objects as transformers
 * writes them, config.json + model.safetensors written from given weights, padded batches (RoBERTa pads with
 * pad_token_id) and the logits of a graph fed only the inputs it has.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bertParameters } from '../../src/bert/build-weights.ts';
import type { ExtendedBertConfig } from '../../src/bert/config.ts';
import { type SafetensorsInput, writeSafetensors } from '../../src/bert/safetensors.ts';
import type { Model } from '../../src/onnx/index.ts';
import { batchLogits, paddedBatch, type TokenBatch } from './models.ts';
import type { FamilyJson } from './reference-families.ts';

const bertKeys = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, vocab_size: 128 };

/** Tiny config.json objects of each family, as transformers writes them (the keys the reference reads included). */
export const FAMILY_JSONS: Record<string, FamilyJson & Record<string, unknown>> = {
  distilbert: {
    model_type: 'distilbert',
    architectures: ['DistilBertForSequenceClassification'],
    dim: 32,
    n_layers: 2,
    n_heads: 4,
    hidden_dim: 64,
    activation: 'gelu',
    vocab_size: 128,
    max_position_embeddings: 64,
    sinusoidal_pos_embds: false,
    pad_token_id: 0,
    id2label: { 0: 'neg', 1: 'neu', 2: 'pos' },
  },
  roberta: {
    model_type: 'roberta',
    architectures: ['RobertaForSequenceClassification'],
    ...bertKeys,
    hidden_act: 'gelu',
    max_position_embeddings: 66,
    type_vocab_size: 1,
    layer_norm_eps: 1e-5,
    pad_token_id: 1,
    num_labels: 2,
  },
  'xlm-roberta': {
    model_type: 'xlm-roberta',
    architectures: ['XLMRobertaForSequenceClassification'],
    ...bertKeys,
    hidden_act: 'gelu_new',
    max_position_embeddings: 40,
    type_vocab_size: 1,
    layer_norm_eps: 1e-5,
    pad_token_id: 1,
    num_labels: 1,
    problem_type: 'regression',
  },
  'electra E<H': {
    model_type: 'electra',
    architectures: ['ElectraForSequenceClassification'],
    ...bertKeys,
    embedding_size: 16,
    hidden_act: 'gelu',
    max_position_embeddings: 64,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    num_labels: 2,
  },
  'electra E=H': {
    model_type: 'electra',
    architectures: ['ElectraForSequenceClassification'],
    ...bertKeys,
    embedding_size: 32,
    hidden_act: 'relu',
    max_position_embeddings: 64,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    num_labels: 3,
  },
};

/** A padded batch for the family: RoBERTa pads with pad_token_id and never uses it for a real token. */
export function familyBatch(json: FamilyJson, lengths = [7, 4, 1, 6], seed = 7): TokenBatch {
  const b = paddedBatch(lengths, 128, seed, json.model_type === 'electra' ? 2 : 1);
  if (json.model_type === 'roberta' || json.model_type === 'xlm-roberta') {
    const pad = json.pad_token_id ?? 1;
    b.inputIds = b.inputIds.map((row, i) => row.map((id, j) => (b.attentionMask[i][j] ? (id === pad ? pad + 1 : id) : pad)));
  }
  return b;
}

/** The `logits` of a model on a batch, feeding only the inputs the graph has. */
export async function familyLogits(model: Model | string, batch: TokenBatch): Promise<number[][]> {
  return (await batchLogits(model, batch)).rows;
}

/**
 * Writes config.json and model.safetensors into a fresh folder under `root`: the weights (shaped as `config`'s
 * parameters, 1-D if not one) under their names or `rename`d (undefined leaves one out), plus `extra` tensors.
 */
export function writeFamilyFolder(
  root: string,
  json: object,
  weights: ReadonlyMap<string, Float32Array>,
  config: ExtendedBertConfig,
  extra: ReadonlyMap<string, SafetensorsInput> = new Map(),
  rename: (key: string) => string | undefined = (k) => k,
): string {
  const dir = mkdtempSync(join(root, 'hf-'));
  const dims = new Map(bertParameters(config).map((p) => [p.name, p.dims]));
  const tensors = new Map<string, SafetensorsInput>();
  for (const [k, v] of weights) {
    const to = rename(k);
    if (to !== undefined) tensors.set(to, { dims: dims.get(k) ?? [v.length], data: v });
  }
  for (const [k, v] of extra) tensors.set(k, v);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return dir;
}
