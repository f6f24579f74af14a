/** Telling which tool wrote a graph and which encoder layout it has. Names are only hints here; structure decides. */
import type { Model } from '../../onnx/graph.ts';
import type { ExporterKind, ModelFamily } from '../structure.ts';
import type { EmbeddingsMatch } from './embeddings.ts';

/** Contrib ops the ORT graph optimizer writes for BERT. */
const ORT_FUSED_OPS = new Set(['Attention', 'SkipLayerNormalization', 'EmbedLayerNormalization', 'BiasGelu', 'FastGelu', 'FusedGemm']);

/** ORT-fused when the graph holds com.microsoft fusions; otherwise the producer name decides. */
export function detectExporter(model: Model): ExporterKind {
  if (model.graph.nodes.some((n) => n.domain === 'com.microsoft' && ORT_FUSED_OPS.has(n.opType))) return 'ort-fused';
  const producer = model.producerName.toLowerCase();
  if (producer === 'pytorch') return 'torch';
  if (producer === 'keras2onnx') return 'keras2onnx';
  if (producer === 'bert-compress') return 'bert-compress';
  return 'unknown';
}

/**
 * The layout family. Hints first (Hugging Face names initializers `albert.*` / `distilbert.*` / `electra.*` / `roberta.*`), then structure:
 * positions computed with CumSum from the ids (padding-aware) mean RoBERTa; no token type table means DistilBERT.
 */
export function detectFamily(model: Model, emb: EmbeddingsMatch): ModelFamily {
  const names = [...model.graph.initializers.keys()];
  if (names.some((n) => /(^|[./_])albert[./_]/i.test(n))) return 'albert';
  if (names.some((n) => /(^|[./_])distilbert[./_]/i.test(n))) return 'distilbert';
  if (names.some((n) => /(^|[./_])electra[./_]/i.test(n))) return 'electra';
  if (names.some((n) => /(^|[./_])(xlm[-_]?)?roberta[./_]|camembert[./_]/i.test(n))) return 'roberta';
  if (emb.cumsumPositions) return 'roberta';
  if (!emb.embeddings.tokenType) return 'distilbert';
  return 'bert';
}
