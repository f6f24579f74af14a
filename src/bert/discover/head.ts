/**
 * Matching what follows the last encoder layer: the pooler and the task head. For every graph output computed from
 * the encoder output, the projections on its path are listed; a path is "pooled" when it first selects one token
 * (Gather on the sequence axis, or a one-token Slice as keras writes it), "token-level" otherwise.
 * - BERT's (and ALBERT's) pooler is the first projection on a pooled path when a Tanh follows it (or a FusedGemm has a Tanh
 *   activation). DistilBERT (pre_classifier + ReLU), RoBERTa (dense + Tanh + out_proj) and ELECTRA (dense + GELU +
 *   out_proj) heads have no pooler:
 *   for those families every projection belongs to the head; but RoBERTa's encoder (RobertaModel) has a pooler, a
 *   dense + Tanh on the first token with no projection after it on any output, read as its pooler (no head).
 * - Head kinds: pooled outputs only → sequence classification; token-level outputs split from one 2-wide
 *   projection → question answering; other token-level outputs → token classification; a token-level projection
 *   to the vocabulary beside a pooled output → pretraining (MLM + NSP); pooled outputs only whose last projection's
 *   weight is transformers' next-sentence-prediction one (cls.seq_relationship.weight: a BertForNextSentencePrediction
 *   export, its 2 scores is-next and not-next) → pretraining too, though it looks like a 2-label classifier.
 */
import { attrInts, attrString, type Node } from '../../onnx/graph.ts';
import type { HeadKind, ModelFamily, Pooler, TaskHead } from '../structure.ts';
import { classifiesPooled } from '../config.ts';
import type { GraphContext } from './graph-context.ts';
import { linearAt, type LinearMatch } from './linear.ts';

export interface HeadMatch {
  pooler?: Pooler;
  head?: TaskHead;
}

interface OutputPath {
  output: string;
  linears: LinearMatch[];
  pooled: boolean;
  /** Last dimension of the graph output, when declared. */
  width?: number;
}

/** Slice parameters from inputs (opset ≥ 10) or attributes (older). */
function sliceParams(ctx: GraphContext, n: Node): { starts?: number[]; ends?: number[]; axes?: number[] } {
  if (n.inputs.length > 1) {
    return { starts: ctx.constNumbers(n.inputs[1]), ends: ctx.constNumbers(n.inputs[2]), axes: n.inputs[3] ? ctx.constNumbers(n.inputs[3]) : undefined };
  }
  return { starts: attrInts(n, 'starts'), ends: attrInts(n, 'ends'), axes: attrInts(n, 'axes') };
}

/** True for a node that picks one position of the sequence axis (axis 1). */
function selectsOneToken(ctx: GraphContext, n: Node): boolean {
  if (n.domain !== '') return false;
  if (n.opType === 'Gather') {
    const axis = n.attributes.axis?.type === 'int' ? n.attributes.axis.value : 0;
    const idx = ctx.constNumbers(n.inputs[1]);
    return axis === 1 && idx !== undefined && idx.length === 1;
  }
  if (n.opType === 'Slice') {
    const { starts, ends, axes } = sliceParams(ctx, n);
    if (!starts || !ends) return false;
    const ax = axes ?? starts.map((_, i) => i);
    const i = ax.indexOf(1);
    return i >= 0 && ends[i] - starts[i] === 1;
  }
  return false;
}

function followedByTanh(ctx: GraphContext, m: LinearMatch): boolean {
  if (m.node.opType === 'FusedGemm') return attrString(m.node, 'activation') === 'Tanh';
  return ctx.consumers(m.linear.output).some((c) => c.opType === 'Tanh');
}

/** Pooler and head after `encoderOutput`. */
export function matchHead(ctx: GraphContext, family: ModelFamily, encoderOutput: string, vocabSize: number): HeadMatch {
  const downstream = ctx.descendantNodes(encoderOutput);
  const paths: OutputPath[] = [];
  for (const o of ctx.graph.outputs) {
    const nodes = [...ctx.ancestorNodes(o.name)].filter((n) => downstream.has(n)).sort((a, b) => ctx.position(a) - ctx.position(b));
    const linears = nodes.map((n) => linearAt(ctx, n)).filter((m): m is LinearMatch => m !== undefined);
    if (!linears.length) continue;
    const first = ctx.position(linears[0].node);
    const pooled = nodes.some((n) => ctx.position(n) < first && selectsOneToken(ctx, n));
    const last = o.shape?.at(-1);
    paths.push({ output: o.name, linears, pooled, width: typeof last === 'number' ? last : undefined });
  }

  let pooler: Pooler | undefined;
  let poolerNode: Node | undefined;
  if (classifiesPooled(family)) {
    const candidate = paths.find((p) => p.pooled)?.linears[0];
    if (candidate && followedByTanh(ctx, candidate)) {
      pooler = { dense: candidate.linear, activation: 'tanh' };
      poolerNode = candidate.node;
    }
  } else if (family === 'roberta') {
    // (RobertaModel's pooler, pooler_output: one dense + Tanh on the first token and nothing after it, where a RoBERTa
    // classifier's dense + Tanh is followed by its out_proj; not read as a classifier of hidden-size outputs)
    const candidate = paths[0]?.linears[0];
    const alone = paths.every((p) => p.pooled && p.linears.length === 1 && p.linears[0].node === candidate?.node);
    if (candidate && alone && followedByTanh(ctx, candidate)) {
      pooler = { dense: candidate.linear, activation: 'tanh' };
      poolerNode = candidate.node;
    }
  }

  const headPaths = paths.map((p) => ({ ...p, linears: p.linears.filter((m) => m.node !== poolerNode) })).filter((p) => p.linears.length);
  if (!headPaths.length) return { pooler };
  const linears: LinearMatch[] = [];
  for (const p of headPaths) for (const m of p.linears) if (!linears.includes(m) && !linears.some((x) => x.node === m.node)) linears.push(m);
  const last = linears[linears.length - 1];
  const head: TaskHead = {
    kind: headKind(headPaths, vocabSize),
    linears: linears.map((m) => m.linear),
    outputs: headPaths.map((p) => p.output),
    numLabels: last.linear.outFeatures,
  };
  return { pooler, head };
}

/**
 * transformers' next-sentence-prediction projection (BertOnlyNSPHead's and BertPreTrainingHeads' `cls.seq_relationship`),
 * by the name its weight keeps in an export, or stored quantized by quantize (its int8 or 4-bit values named after it:
 * `_int8`, `_int4`, and a fresh name's `_1`, src/quantize/ops, graph-edit.ts fresh).
 */
const NSP_WEIGHT = /(^|\.)cls\.seq_relationship\.weight(_int[48](_\d+)?)?$/;

function headKind(paths: OutputPath[], vocabSize: number): HeadKind {
  const pooled = paths.filter((p) => p.pooled);
  const tokens = paths.filter((p) => !p.pooled);
  if (tokens.length === 0)
    return pooled.some((p) => NSP_WEIGHT.test(p.linears[p.linears.length - 1].linear.weight)) ? 'pretraining' : 'sequence-classification';
  // An MLM output: a projection to the vocabulary (its weight may be a product of factors, so also the declared width).
  const mlm = (p: OutputPath) => p.width === vocabSize || p.linears.some((m) => m.linear.outFeatures === vocabSize);
  if (pooled.length > 0) return tokens.some(mlm) ? 'pretraining' : 'unknown';
  const lastNodes = new Set(tokens.map((p) => p.linears[p.linears.length - 1].node));
  if (tokens.length >= 2 && lastNodes.size === 1) {
    const width = tokens[0].linears[tokens[0].linears.length - 1].linear.outFeatures;
    return width === tokens.length ? 'question-answering' : 'unknown';
  }
  if (tokens.some(mlm)) return 'unknown';
  return 'token-classification';
}
