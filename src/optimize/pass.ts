/**
 * The optimize pass: rewrites a discovered BERT for onnxruntime, one rewrite after another, each on the structure
 * discovered afresh from the previous one's output (so every intermediate form is one discovery understands):
 * - first-token: the last layer computes only the token the pooler reads (first-token.ts);
 * - attention: Attention, or QAttention over dynamic int8 Q/K/V (attention.ts);
 * - gelu: BiasGelu / Gelu / FastGelu (gelu.ts);
 * - embed-layernorm: EmbedLayerNormalization, float tables only (embeddings.ts);
 * - skip-layernorm: SkipLayerNormalization (skip-layer-norm.ts).
 * `--optimize` alone applies first-token and gelu, the ones measured not slower on onnxruntime 1.30's CPU provider
 * (settings.ts says why the others are left out); `--optimize all` applies every rewrite.
 * It works on float models and on the dynamic int8 form of the quantize pass (`--quantize int8 --optimize`); each
 * block that cannot be rewritten is left as it was, with the reason in the report. The output is an ordinary
 * ORT-fused graph to the other passes (quantize turns an Attention into QAttention; a table inside
 * EmbedLayerNormalization stays float).
 */
import type { Model } from '../onnx/graph.ts';
import { findBert } from '../bert/discover.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { Pass, PassResult } from '../pass/pass.ts';
import { finishEdit } from '../quantize/graph-edit.ts';
import { fuseAttention } from './attention.ts';
import { OptimizeContext, type SkippedRewrite } from './context.ts';
import { fuseEmbeddings } from './embeddings.ts';
import { firstTokenOnly } from './first-token.ts';
import { fuseGelus } from './gelu.ts';
import { OPTIMIZE, REWRITES, formatRewrites, type OptimizeOptions, type Rewrite } from './settings.ts';
import { fuseSkipLayerNorms } from './skip-layer-norm.ts';
import { someNames } from '../some-names.ts';

const APPLY: Record<Rewrite, (oc: OptimizeContext) => void> = {
  'first-token': firstTokenOnly,
  attention: (oc) => fuseAttention(oc, oc.structure.layers),
  gelu: (oc) => fuseGelus(oc, oc.structure.layers),
  'embed-layernorm': fuseEmbeddings,
  'skip-layernorm': (oc) => fuseSkipLayerNorms(oc, oc.structure.layers),
};

/** Rewrites `model` as `o` says (the pass's run, without the Pass wrapper). */
export function optimizeModel(model: Model, structure: BertStructure, o: OptimizeOptions): PassResult {
  let current = model;
  let s = structure;
  // the rewrite whose output `s` has not been discovered on yet (the caller discovers the last one's: the pipeline does)
  let undiscovered: Rewrite | undefined;
  const written: Record<string, number> = {};
  const skipped: SkippedRewrite[] = [];
  for (const rewrite of REWRITES) {
    if (!o.rewrites.has(rewrite)) continue;
    if (undiscovered) {
      s = findBert(current, { label: `optimize ${undiscovered}` });
      undiscovered = undefined;
    }
    const oc = new OptimizeContext(current, s);
    APPLY[rewrite](oc);
    skipped.push(...oc.skipped);
    if (!oc.written.size) continue;
    for (const [what, n] of oc.written) written[what] = (written[what] ?? 0) + n;
    current = finishEdit(oc.edit, `optimize ${rewrite}`);
    undiscovered = rewrite;
  }
  const parts = Object.entries(written).map(([what, n]) => `${n} ${what}`);
  const summary =
    (parts.length ? `wrote ${parts.join(', ')}` : 'nothing left to rewrite') +
    (skipped.length ? `; ${skipped.length} left as they were (${leftAsTheyWere(skipped)})` : '') +
    `; ${model.graph.nodes.length} → ${current.graph.nodes.length} nodes`;
  return {
    model: current,
    report: {
      pass: 'optimize',
      settings: { rewrites: formatRewrites(REWRITES.filter((r) => o.rewrites.has(r))) },
      summary,
      details: { written, leftAsTheyWere: skipped, nodesBefore: model.graph.nodes.length, nodesAfter: current.graph.nodes.length },
    },
  };
}

export const optimizePass: Pass<OptimizeOptions> = {
  ...OPTIMIZE,
  run: async (model, structure, options) => optimizeModel(model, structure, options),
};

/**
 * The blocks a rewrite left as they were, each reason once with where it applies ('layer 0, layer 1, attention: …;
 * embeddings, embed-layernorm: …'), capped by the one capper.
 */
function leftAsTheyWere(skipped: readonly SkippedRewrite[]): string {
  const groups = new Map<string, { rewrite: Rewrite; reason: string; wheres: string[] }>();
  for (const k of skipped) {
    const key = `${k.rewrite}\u0000${k.reason}`;
    const g = groups.get(key) ?? groups.set(key, { rewrite: k.rewrite, reason: k.reason, wheres: [] }).get(key)!;
    g.wheres.push(k.where);
  }
  return someNames(
    [...groups.values()].map((g) => `${someNames(g.wheres, 4)}, ${g.rewrite}: ${g.reason}`),
    4,
    '; ',
  );
}
