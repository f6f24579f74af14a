/**
 * A plain TypeScript forward pass (float64) of Hugging Face AlbertForSequenceClassification in eval mode, written
 * from transformers' modeling_albert.py and independent of the builder: it reads the config.json object itself and
 * the parameters by their ALBERT state-dict names, and picks each layer's group as AlbertTransformer does.
 */
import type { TokenBatch } from './models.ts';
import { encoderLayer, layerNorm, linear } from './reference-ops.ts';

/** The config.json keys the reference reads (AlbertConfig defaults where left out). */
export interface AlbertJson {
  embedding_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_hidden_groups?: number;
  num_attention_heads: number;
  hidden_act?: string;
  layer_norm_eps?: number;
}

/**
 * Logits of AlbertForSequenceClassification for `batch`: embeddings (word + token type + position, LayerNorm in E),
 * embedding_hidden_mapping_in, L layers where layer i runs group int(i / (L / G)), pooler + tanh on token 0,
 * classifier. `weight(name)` gives a parameter by its ALBERT name (torch layout).
 */
export function referenceAlbertLogits(json: AlbertJson, weight: (name: string) => Float32Array, batch: TokenBatch): number[][] {
  const e = json.embedding_size;
  const L = json.num_hidden_layers;
  const G = json.num_hidden_groups ?? 1;
  const heads = json.num_attention_heads;
  const eps = json.layer_norm_eps ?? 1e-12;
  const act = json.hidden_act ?? 'gelu_new';
  const lin = (name: string, x: Float64Array) => linear(weight(`${name}.weight`), weight(`${name}.bias`), x);
  const ln = (name: string, x: Float64Array) => layerNorm(x, weight(`${name}.weight`), weight(`${name}.bias`), eps);
  const word = weight('albert.embeddings.word_embeddings.weight');
  const pos = weight('albert.embeddings.position_embeddings.weight');
  const type = weight('albert.embeddings.token_type_embeddings.weight');
  return batch.inputIds.map((ids, b) => {
    const mask = batch.attentionMask[b];
    let x = ids.map((id, s) => {
      const t = batch.tokenTypeIds[b][s];
      const v = new Float64Array(e);
      for (let j = 0; j < e; j++) v[j] = word[id * e + j] + type[t * e + j] + pos[s * e + j];
      return lin('albert.encoder.embedding_hidden_mapping_in', ln('albert.embeddings.LayerNorm', v));
    });
    for (let i = 0; i < L; i++) {
      const group = Math.trunc(i / (L / G));
      const p = `albert.encoder.albert_layer_groups.${group}.albert_layers.0`;
      x = encoderLayer(x, mask, {
        names: {
          query: `${p}.attention.query`,
          key: `${p}.attention.key`,
          value: `${p}.attention.value`,
          attentionOutput: `${p}.attention.dense`,
          attentionNorm: `${p}.attention.LayerNorm`,
          intermediate: `${p}.ffn`,
          output: `${p}.ffn_output`,
          outputNorm: `${p}.full_layer_layer_norm`,
        },
        weight,
        numHeads: heads,
        act,
        eps,
      });
    }
    const pooled = lin('albert.pooler', x[0]).map(Math.tanh);
    return Array.from(lin('classifier', pooled));
  });
}
