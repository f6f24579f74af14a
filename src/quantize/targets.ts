/**
 * What the quantize pass can rewrite, read off the discovered structure: every dense projection (Q/K/V, attention
 * output, feed-forward, pooler, task head), the embedding tables read by a Gather, and fused com.microsoft
 * Attention nodes with their packed Q/K/V weight. Each target has a stable id used in reports and plans.
 */
import type { BertStructure, EmbeddingTable, Linear } from '../bert/structure.ts';

export interface LinearTarget {
  kind: 'linear';
  /** e.g. 'layer0.attention.q', 'pooler', 'head.0'. */
  id: string;
  /** Encoder layer, for projections inside one. */
  layer?: number;
  linear: Linear;
}

export interface EmbeddingTarget {
  kind: 'embedding';
  id: 'embeddings.word' | 'embeddings.position' | 'embeddings.token_type';
  table: EmbeddingTable;
}

export interface AttentionTarget {
  kind: 'attention';
  /** e.g. 'layer0.attention.qkv'. */
  id: string;
  layer: number;
  /** The com.microsoft Attention node and its packed weight [hidden, 3·width] and bias. */
  node: string;
  weight: string;
  bias: string;
}

export type Target = LinearTarget | EmbeddingTarget | AttentionTarget;

/** Name of the node a target rewrites (undefined: an embedding table no Gather reads). */
export function targetNode(t: Target): string | undefined {
  switch (t.kind) {
    case 'linear':
      return t.linear.node;
    case 'embedding':
      return t.table.gather;
    case 'attention':
      return t.node;
  }
}

/** The weight initializer of a target. */
export function targetWeight(t: Target): string {
  switch (t.kind) {
    case 'linear':
      return t.linear.weight;
    case 'embedding':
      return t.table.weight;
    case 'attention':
      return t.weight;
  }
}

/** Every target of a structure, encoder layers first (in order), then pooler, head and embeddings. */
export function quantizationTargets(s: BertStructure): Target[] {
  const out: Target[] = [];
  const seen = new Set<string>();
  const linear = (id: string, lin: Linear | undefined, layer?: number) => {
    if (!lin || seen.has(lin.node)) return;
    seen.add(lin.node);
    out.push(layer === undefined ? { kind: 'linear', id, linear: lin } : { kind: 'linear', id, layer, linear: lin });
  };
  for (const l of s.layers) {
    const a = l.attention;
    const p = `layer${l.index}`;
    if (a) {
      if (a.kind === 'fused' && a.fused && !seen.has(a.fused.node)) {
        seen.add(a.fused.node);
        out.push({ kind: 'attention', id: `${p}.attention.qkv`, layer: l.index, ...a.fused });
      }
      linear(`${p}.attention.q`, a.q, l.index);
      linear(`${p}.attention.k`, a.k, l.index);
      linear(`${p}.attention.v`, a.v, l.index);
      linear(`${p}.attention.output`, a.output, l.index);
    }
    linear(`${p}.ffn.in`, l.ffn.in, l.index);
    linear(`${p}.ffn.out`, l.ffn.out, l.index);
  }
  linear('pooler', s.pooler?.dense);
  s.head?.linears.forEach((lin, i) => linear(`head.${i}`, lin));
  const e = s.embeddings;
  out.push({ kind: 'embedding', id: 'embeddings.word', table: e.word });
  if (e.position) out.push({ kind: 'embedding', id: 'embeddings.position', table: e.position });
  if (e.tokenType) out.push({ kind: 'embedding', id: 'embeddings.token_type', table: e.tokenType });
  return out;
}
