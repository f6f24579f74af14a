/**
 * EmbedLayerNormalization fusion: LayerNorm(word[ids] + position[0..seq) + token_type[types]) becomes
 * com.microsoft EmbedLayerNormalization(ids, types, word, position, token_type, γ, β) with the same epsilon (ids
 * and types cast to int32). It takes float tables only and counts positions from 0, so it is left out (with the
 * reason in the report) for int8 or factorized tables (quantize before --optimize keeps them int8 and unfused),
 * for RoBERTa's positions counted from the padding, for a position table added as a constant, for token types
 * that are a constant rather than an input, and for a sum with other terms. Not in `--optimize`'s default set: with
 * EmbedLayerNormalization in the graph, onnxruntime 1.30 fuses every residual Add + LayerNormalization into its
 * SkipLayerNormalization when it loads the model, which runs slower on the CPU provider.
 */
import { DataType } from '../onnx/dtype.ts';
import type { EmbeddingTable } from '../bert/structure.ts';
import { attr } from '../quantize/graph-edit.ts';
import type { OptimizeContext } from './context.ts';

/** Why a table cannot go into EmbedLayerNormalization, or undefined. */
function tableProblem(oc: OptimizeContext, name: string, t: EmbeddingTable): string | undefined {
  if (t.quantization) return `the ${name} table is stored int8 (EmbedLayerNormalization takes float tables)`;
  if (t.projection) return `the ${name} table is factorized`;
  if (!t.gather) return `the ${name} table is not looked up by a Gather`;
  const init = oc.view.graph.initializers.get(t.weight);
  return init?.dataType === DataType.FLOAT ? undefined : `the ${name} table is not float32`;
}

/** The terms of a tree of Adds. */
function summands(oc: OptimizeContext, value: string, depth = 0): string[] {
  const p = oc.view.producerOf(value);
  return depth < 6 && p && p.domain === '' && p.opType === 'Add' ? p.inputs.flatMap((v) => summands(oc, v, depth + 1)) : [oc.view.source(value)];
}

export function fuseEmbeddings(oc: OptimizeContext): void {
  const s = oc.structure;
  const e = s.embeddings;
  if (e.fusedNode) return;
  const skip = (reason: string) => oc.skip('embed-layernorm', 'embeddings', reason);
  if (s.family === 'roberta') return skip('RoBERTa counts positions from the padding id; EmbedLayerNormalization counts from 0');
  if (e.mapping) return skip('the embeddings are narrower than the encoder (mapped by a Linear after the LayerNorm), which discovery reads only unfused');
  if (!e.position) return skip('no position table is looked up (positions are added as a constant)');
  if (e.tokenType && !s.inputs.tokenTypeIds) return skip('the token types are a constant, not a graph input');
  if (e.norm.kind === 'skip-op') return skip('the embeddings LayerNorm is a SkipLayerNormalization');
  const tables: Array<[string, EmbeddingTable | undefined]> = [
    ['word', e.word],
    ['position', e.position],
    ['token type', e.tokenType],
  ];
  for (const [name, t] of tables) {
    const problem = t && tableProblem(oc, name, t);
    if (problem) return skip(problem);
  }
  const m = oc.norms.producing(e.norm.output);
  const terms = m ? summands(oc, m.input).sort() : [];
  const lookups = tables.flatMap(([, t]) => (t ? [oc.view.source(oc.inputNode(t.gather!)!.outputs[0])] : [])).sort();
  if (terms.length !== lookups.length || terms.some((v, i) => v !== lookups[i]))
    return skip('the LayerNorm normalizes a sum with terms other than the table lookups');
  const problem = oc.producerProblem(e.norm.output);
  if (problem) return skip(problem);
  const ids = oc.int32Input(s.inputs.inputIds);
  const types = e.tokenType ? oc.int32Input(s.inputs.tokenTypeIds!) : '';
  // (position ids given as an input: read as its input 8, which keeps the graph's inputs)
  const positions = s.inputs.positionIds ? ['', oc.int32Input(s.inputs.positionIds)] : [];
  const node = oc.replaceProducer(
    e.norm.output,
    'EmbedLayerNormalization',
    [ids, types, e.word.weight, e.position.weight, e.tokenType?.weight ?? '', e.norm.scale, e.norm.bias, ...positions],
    {
      epsilon: attr.float(e.norm.epsilon),
    },
  );
  // onnxruntime's type inference wants the mask_index output declared, though nothing reads it (Attention reads the raw mask).
  node.outputs.push(oc.edit.fresh(`${e.norm.output}_mask_index`));
}
