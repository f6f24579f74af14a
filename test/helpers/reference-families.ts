/**
 * A plain TypeScript forward pass (float64) of Hugging Face DistilBertForSequenceClassification,
 * RobertaForSequenceClassification / XLMRobertaForSequenceClassification and ElectraForSequenceClassification in
 * eval mode, written from transformers' modeling files and independent of the builder: it reads the config.json
 * object itself and the parameters by their state-dict names, and computes RoBERTa's positions from the ids.
 */
import type { TokenBatch } from './models.ts';
import { activation, encoderLayer, layerNorm, linear, type ReferenceLayerNames } from './reference-ops.ts';

/** The config.json keys the reference reads (the files the tests write give them all). */
export interface FamilyJson {
  model_type: 'distilbert' | 'roberta' | 'xlm-roberta' | 'electra';
  // DistilBERT
  dim?: number;
  n_layers?: number;
  n_heads?: number;
  activation?: string;
  // BERT layout (RoBERTa, XLM-R, ELECTRA)
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  hidden_act?: string;
  layer_norm_eps?: number;
  pad_token_id?: number;
  embedding_size?: number;
}

/** Rows `rows` of a [*, width] table, summed. */
function rowSum(width: number, parts: Array<[Float32Array, number]>): Float64Array {
  const v = new Float64Array(width);
  for (const [table, row] of parts) for (let j = 0; j < width; j++) v[j] += table[row * width + j];
  return v;
}

function layerNames(type: FamilyJson['model_type'], i: number): ReferenceLayerNames {
  if (type === 'distilbert') {
    const p = `distilbert.transformer.layer.${i}`;
    return {
      query: `${p}.attention.q_lin`,
      key: `${p}.attention.k_lin`,
      value: `${p}.attention.v_lin`,
      attentionOutput: `${p}.attention.out_lin`,
      attentionNorm: `${p}.sa_layer_norm`,
      intermediate: `${p}.ffn.lin1`,
      output: `${p}.ffn.lin2`,
      outputNorm: `${p}.output_layer_norm`,
    };
  }
  const p = `${type === 'electra' ? 'electra' : 'roberta'}.encoder.layer.${i}`;
  return {
    query: `${p}.attention.self.query`,
    key: `${p}.attention.self.key`,
    value: `${p}.attention.self.value`,
    attentionOutput: `${p}.attention.output.dense`,
    attentionNorm: `${p}.attention.output.LayerNorm`,
    intermediate: `${p}.intermediate.dense`,
    output: `${p}.output.dense`,
    outputNorm: `${p}.output.LayerNorm`,
  };
}

/**
 * Logits of the model_type's ForSequenceClassification for `batch` (token types are read for ELECTRA only; RoBERTa
 * reads type 0). `weight(name)` gives a parameter by its state-dict name (torch layout).
 */
export function referenceFamilyLogits(json: FamilyJson, weight: (name: string) => Float32Array, batch: TokenBatch): number[][] {
  const type = json.model_type;
  const distil = type === 'distilbert';
  const h = (distil ? json.dim : json.hidden_size)!;
  const L = (distil ? json.n_layers : json.num_hidden_layers)!;
  const heads = (distil ? json.n_heads : json.num_attention_heads)!;
  const hiddenAct = (distil ? json.activation : json.hidden_act) ?? 'gelu';
  const eps = distil ? 1e-12 : (json.layer_norm_eps ?? 1e-12);
  const root = distil ? 'distilbert' : type === 'electra' ? 'electra' : 'roberta';
  const e = type === 'electra' ? (json.embedding_size ?? h) : h;
  const lin = (name: string, x: Float64Array) => linear(weight(`${name}.weight`), weight(`${name}.bias`), x);
  const ln = (name: string, x: Float64Array) => layerNorm(x, weight(`${name}.weight`), weight(`${name}.bias`), eps);
  const word = weight(`${root}.embeddings.word_embeddings.weight`);
  const pos = weight(`${root}.embeddings.position_embeddings.weight`);
  const types = distil ? undefined : weight(`${root}.embeddings.token_type_embeddings.weight`);
  return batch.inputIds.map((ids, b) => {
    const mask = batch.attentionMask[b];
    // RoBERTa: create_position_ids_from_input_ids, cumsum(ids != pad) * (ids != pad) + pad.
    const pad = json.pad_token_id ?? 1;
    let count = 0;
    const positions = ids.map((id, s) => (type === 'roberta' || type === 'xlm-roberta' ? (id === pad ? pad : ++count + pad) : s));
    let x = ids.map((id, s) => {
      const parts: Array<[Float32Array, number]> = [
        [word, id],
        [pos, positions[s]],
      ];
      if (types) parts.push([types, type === 'electra' ? batch.tokenTypeIds[b][s] : 0]);
      const v = ln(`${root}.embeddings.LayerNorm`, rowSum(e, parts));
      return type === 'electra' && e !== h ? lin('electra.embeddings_project', v) : v;
    });
    for (let i = 0; i < L; i++) x = encoderLayer(x, mask, { names: layerNames(type, i), weight, numHeads: heads, act: hiddenAct, eps });
    const first = x[0];
    if (distil)
      return Array.from(
        lin(
          'classifier',
          lin('pre_classifier', first).map((a) => Math.max(0, a)),
        ),
      );
    // RobertaClassificationHead: tanh; ElectraClassificationHead: get_activation('gelu'), the exact GELU.
    const dense = lin('classifier.dense', first).map((a) => (type === 'electra' ? activation('gelu', a) : Math.tanh(a)));
    return Array.from(lin('classifier.out_proj', dense));
  });
}
