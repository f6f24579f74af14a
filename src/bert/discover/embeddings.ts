/**
 * Matching the embeddings block behind the first encoder layer: a LayerNorm (pattern, op or SkipLayerNormalization)
 * of a sum of table lookups, or one com.microsoft EmbedLayerNormalization node. Lookups are told apart by where their
 * indices come from, not by names:
 * - indices that are a graph input (through Cast / Reshape / Unsqueeze): word ids, or token types (the smaller table,
 *   or the input named like token_type / segment when there are two), or positions when the input is named like
 *   position_ids (exports that take the position ids rather than computing them);
 * - indices computed with Range or CumSum (RoBERTa's padding-aware positions), or sliced from a constant arange:
 *   positions; sliced from a constant of zeros (the buffered token_type_ids of torch exports): token types;
 * - a constant [1, seq, hidden] added directly (keras folded the position lookup): positions.
 * A factorized table, MatMul(Gather(A, ids), B) (ALBERT layout, or the factorize-embeddings pass), is the lookup in
 * A with B as its projection. An int8 table is looked up and dequantized after the Gather: Gather → DequantizeLinear,
 * or Gather → Cast → Mul by the table's scale or by the row scales gathered with the same ids.
 */
import { attrFloat, type Node } from '../../onnx/graph.ts';
import { numElements, readNumbers } from '../../onnx/tensor.ts';
import type { EmbeddingTable, Embeddings, EncoderInputs, Quantization } from '../structure.ts';
import type { GraphContext } from './graph-context.ts';
import type { NormIndex } from './layer-norm.ts';
import { linearProducing, linearsReading } from './linear.ts';
import { quotedText } from '../../errors.ts';

export interface EmbeddingsMatch {
  embeddings: Embeddings;
  /** Ids and token types (the attention mask is found elsewhere). */
  inputs: Omit<EncoderInputs, 'attentionMask'> & { inputIds: string };
  /** Positions are computed from the ids with CumSum (RoBERTa's padding_idx scheme). */
  cumsumPositions: boolean;
}

/** Ops that carry ids unchanged (apart from shape or type). */
const ID_CARRIERS = new Set(['Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Identity', 'Flatten']);

type LookupRole = 'ids' | 'position' | 'token-type';

interface Lookup {
  table: EmbeddingTable;
  role: LookupRole;
  /** Graph input of the indices, when they are one. */
  idsInput?: string;
  cumsum: boolean;
  /** The summand value, for messages. */
  value: string;
}

/** The graph input the indices are, through id-carrying ops; undefined when they are computed. */
function directInput(ctx: GraphContext, value: string): string | undefined {
  let v = value;
  for (let i = 0; i < 8; i++) {
    if (ctx.isGraphInput(v)) return v;
    const p = ctx.producerOf(v);
    if (!p || !ID_CARRIERS.has(p.opType)) return undefined;
    v = p.inputs[0];
  }
  return undefined;
}

function isArange(values: number[]): boolean {
  return values.every((x, i) => x === i);
}

/** Role of computed indices: positions (Range, CumSum, constant arange) or token types (constant zeros). */
function computedRole(ctx: GraphContext, indices: string): { role?: LookupRole; cumsum: boolean } {
  const values = ctx.ancestorValues([indices], 400);
  let cumsum = false;
  let range = false;
  let arange = false;
  let zeros = false;
  for (const v of values) {
    const p = ctx.producer(v);
    if (p?.opType === 'CumSum') cumsum = true;
    if (p?.opType === 'Range') range = true;
    // torch.zeros(input_shape) (transformers before the token_type_ids buffer): ConstantOfShape of a zero
    if (p?.opType === 'ConstantOfShape' && p.domain === '' && constantOfShapeIsZero(p)) zeros = true;
    const c = ctx.constant(v);
    if (c && numElements(c.tensor.dims) > 2) {
      const nums = ctx.constNumbers(v);
      if (nums && isArange(nums)) arange = true;
      else if (nums?.every((x) => x === 0)) zeros = true;
    }
  }
  if (cumsum || range || arange) return { role: 'position', cumsum };
  if (zeros) return { role: 'token-type', cumsum };
  return { cumsum };
}

/** True when a ConstantOfShape fills with zero (its `value`, or the default float 0). */
function constantOfShapeIsZero(n: Node): boolean {
  const value = n.attributes.value;
  if (value === undefined) return true;
  if (value.type !== 'tensor') return false;
  try {
    return readNumbers(value.value).every((x) => x === 0);
  } catch {
    return false;
  }
}

/** The summands of a (tree of) Add(s). */
function summands(ctx: GraphContext, value: string, depth = 0): string[] {
  const p = ctx.producerOf(value);
  if (depth < 6 && p && p.domain === '' && p.opType === 'Add') {
    return p.inputs.flatMap((i) => summands(ctx, i, depth + 1));
  }
  return [value];
}

/** A Gather of rows of a constant table (axis 0), default domain. */
function tableGather(ctx: GraphContext, n: Node | undefined): Node | undefined {
  if (n?.opType !== 'Gather' || n.domain !== '' || (n.attributes.axis?.type === 'int' && n.attributes.axis.value !== 0)) return undefined;
  const table = ctx.initializer(n.inputs[0]);
  return table && table.tensor.dims.length === 2 ? n : undefined;
}

/**
 * The Gather whose looked-up rows are `value`: its producer, or the Gather of an int8 table behind the
 * dequantization (Gather → DequantizeLinear(scale, zero point); Gather → Cast → Mul(scale | Gather(row scales))).
 */
export function lookupGather(ctx: GraphContext, value: string): { gather: Node; quantization?: Quantization } | undefined {
  const p = ctx.producerOf(value);
  if (p?.domain !== '') return undefined;
  const direct = tableGather(ctx, p);
  if (direct) return { gather: direct };
  const param = (v: string | undefined) => (v ? ctx.initializer(v)?.name : undefined);
  if (p.opType === 'DequantizeLinear') {
    const g = tableGather(ctx, ctx.producerOf(p.inputs[0]));
    if (!g) return undefined;
    const q: Quantization = { kind: 'gather-dequantize', nodes: [p.name], bits: 8 };
    const scale = param(p.inputs[1]);
    const zero = param(p.inputs[2]);
    if (scale) q.scale = scale;
    if (zero) q.zeroPoint = zero;
    return { gather: g, quantization: q };
  }
  if (p.opType !== 'Mul') return undefined;
  for (const [a, b] of [
    [p.inputs[0], p.inputs[1]],
    [p.inputs[1], p.inputs[0]],
  ]) {
    const cast = ctx.producerOf(a);
    const g = cast?.opType === 'Cast' && cast.domain === '' ? tableGather(ctx, ctx.producerOf(cast.inputs[0])) : undefined;
    if (!cast || !g) continue;
    const q: Quantization = { kind: 'gather-scale', nodes: [cast.name], bits: 8 };
    const rowScales = ctx.producerOf(b);
    const scale =
      param(b) ??
      (rowScales && tableGather(ctx, rowScales) && ctx.source(rowScales.inputs[1]) === ctx.source(g.inputs[1]) ? param(rowScales.inputs[0]) : undefined);
    if (!scale) continue;
    if (rowScales && !param(b)) q.nodes.push(rowScales.name);
    q.nodes.push(p.name);
    q.scale = scale;
    return { gather: g, quantization: q };
  }
  return undefined;
}

function lookupOf(ctx: GraphContext, value: string): Lookup {
  const c = ctx.initializer(value);
  if (c && (c.tensor.dims.length === 3 || c.tensor.dims.length === 2)) {
    const rows = c.tensor.dims.at(-2)!;
    return { table: { weight: c.name, rows }, role: 'position', cumsum: false, value };
  }
  const g = ctx.producerOf(value);
  const found = lookupGather(ctx, value);
  const direct = found && gatherLookup(ctx, found.gather, value, found.quantization);
  if (direct) return direct;
  // A factorized table: MatMul(Gather(A, ids), B).
  const proj = linearProducing(ctx, value);
  const inner = proj && !proj.linear.bias ? lookupGather(ctx, proj.input) : undefined;
  const factorized = inner && gatherLookup(ctx, inner.gather, value, inner.quantization);
  if (factorized) {
    factorized.table.projection = proj!.linear;
    return factorized;
  }
  return ctx.refuse(
    `embeddings: summand ${quotedText(value)} (${g ? `${g.opType} ${quotedText(g.name)}` : 'no producer'}) is not a lookup in a constant table`,
  );
}

/** True when `value` is rows looked up in a constant table (float or int8, possibly factorized). */
export function isTableLookup(ctx: GraphContext, value: string): boolean {
  if (lookupGather(ctx, value)) return true;
  const proj = linearProducing(ctx, value);
  return !!proj && !proj.linear.bias && lookupGather(ctx, proj.input) !== undefined;
}

/** The lookup done by Gather `g` in a constant 2-D table (rows along axis 0), or undefined. */
function gatherLookup(ctx: GraphContext, g: Node, value: string, quantization?: Quantization): Lookup | undefined {
  const table = tableGather(ctx, g) && ctx.initializer(g.inputs[0]);
  if (!table) return undefined;
  const entry: EmbeddingTable = { weight: table.name, gather: g.name, rows: table.tensor.dims[0] };
  if (quantization) entry.quantization = quantization;
  const idsInput = directInput(ctx, g.inputs[1]);
  if (idsInput) return { table: entry, role: POSITION_NAME.test(idsInput) ? 'position' : 'ids', idsInput, cumsum: false, value };
  const { role, cumsum } = computedRole(ctx, g.inputs[1]);
  if (!role)
    ctx.refuse(`embeddings: cannot tell what the indices of Gather ${quotedText(g.name)} are (not a graph input, not positions, not constant token types)`);
  return { table: entry, role, cumsum, value };
}

const TOKEN_TYPE_NAME = /token[_-]?type|segment/i;
/** The name of a graph input that carries position ids. */
const POSITION_NAME = /position|^pos[_-]?ids/i;

/**
 * The output of the embeddings block found without the encoder layers: the first EmbedLayerNormalization, or the
 * first LayerNorm (in graph order) that normalizes a sum with a table lookup in it. Undefined when there is none.
 */
export function findEmbeddingsOutput(ctx: GraphContext, norms: NormIndex): string | undefined {
  const fused = ctx.graph.nodes.find((n) => n.domain === 'com.microsoft' && n.opType === 'EmbedLayerNormalization');
  const candidates: Array<{ at: number; output: string }> = [];
  if (fused) candidates.push({ at: ctx.position(fused), output: fused.outputs[0] });
  for (const m of norms.all()) {
    const parts = [m.input, ...(m.skip !== undefined ? [m.skip] : [])].flatMap((v) => summands(ctx, v));
    if (!parts.some((v) => isTableLookup(ctx, v))) continue;
    const last = ctx.producerOf(m.norm.output);
    candidates.push({ at: last ? ctx.position(last) : -1, output: m.norm.output });
    break;
  }
  candidates.sort((a, b) => a.at - b.at);
  return candidates[0]?.output;
}

/** The embeddings whose output is `layerInput` (the first encoder layer's input). */
export function matchEmbeddings(ctx: GraphContext, norms: NormIndex, layerInput: string): EmbeddingsMatch {
  const p = ctx.producerOf(layerInput);
  if (p && p.domain === 'com.microsoft' && p.opType === 'EmbedLayerNormalization') return fusedEmbeddings(ctx, p);
  const nm = norms.producing(layerInput);
  if (!nm) {
    ctx.refuse(
      `embeddings: the first encoder layer reads ${quotedText(layerInput)} (${p ? `${p.opType} ${quotedText(p.name)}` : 'a graph input'}), not the output of an embeddings LayerNorm`,
    );
  }
  const parts = [nm.input, ...(nm.skip !== undefined ? [nm.skip] : [])].flatMap((v) => summands(ctx, v));
  const lookups = parts.map((v) => lookupOf(ctx, v));
  const ids = lookups.filter((l) => l.role === 'ids');
  if (ids.length === 0) ctx.refuse('embeddings: no lookup reads a graph input (no word embedding)');
  if (ids.length > 2) ctx.refuse(`embeddings: ${ids.length} lookups read graph inputs directly (expected word ids and token types)`);
  let word = ids[0];
  let tokenType: Lookup | undefined = lookups.find((l) => l.role === 'token-type');
  if (ids.length === 2) {
    const named = ids.find((l) => TOKEN_TYPE_NAME.test(l.idsInput!));
    const tt = named ?? (ids[0].table.rows < ids[1].table.rows ? ids[0] : ids[1]);
    if (tokenType) ctx.refuse('embeddings: two token type lookups');
    tokenType = tt;
    word = ids.find((l) => l !== tt)!;
  }
  const positions = lookups.filter((l) => l.role === 'position');
  if (positions.length > 1) ctx.refuse(`embeddings: ${positions.length} position lookups`);
  if (lookups.filter((l) => l.role === 'token-type').length > 1) ctx.refuse('embeddings: two token type lookups');
  const embeddings: Embeddings = { word: word.table, norm: nm.norm, output: nm.norm.output };
  if (positions[0]) embeddings.position = positions[0].table;
  if (tokenType) embeddings.tokenType = tokenType.table;
  const inputs: EmbeddingsMatch['inputs'] = { inputIds: word.idsInput! };
  if (tokenType?.idsInput) inputs.tokenTypeIds = tokenType.idsInput;
  if (positions[0]?.idsInput) inputs.positionIds = positions[0].idsInput;
  return { embeddings, inputs, cumsumPositions: positions.some((l) => l.cumsum) };
}

/**
 * Narrow embeddings (ALBERT's embedding_hidden_mapping_in, ELECTRA's embeddings_project): when no attention block
 * reads the embeddings LayerNorm's output but one reads the output of a Linear (with a bias) that reads it, or when
 * no attention block reads either (no attention at all, or none in layer 0) and the one such Linear feeds a residual
 * Add, that Linear is the embeddings' `mapping` and its output the embeddings output. Leaves `emb` as it is otherwise.
 */
export function matchEmbeddingsMapping(ctx: GraphContext, emb: EmbeddingsMatch, attention: ReadonlyArray<{ input: string }>): void {
  const e = emb.embeddings;
  if (e.fusedNode) return;
  const inputs = new Set(attention.map((a) => ctx.source(a.input)));
  if (inputs.has(ctx.source(e.output))) return;
  const linears = linearsReading(ctx, e.output).filter((m) => m.linear.bias !== undefined);
  // Without attention, the first layer's residual Add (or SkipLayerNormalization) must read the Linear's output.
  const residual = (m: (typeof linears)[number]) => ctx.consumers(m.linear.output).some((n) => n.opType === 'Add' || n.opType === 'SkipLayerNormalization');
  // With attention, the Linear one reads; else (no attention, or none in the first layers: every head of layer 0
  // pruned) the one Linear whose output the first layer's residual Add reads.
  const mapping =
    (attention.length ? linears.find((m) => inputs.has(ctx.source(m.linear.output))) : undefined) ??
    (linears.length === 1 && residual(linears[0]) ? linears[0] : undefined);
  if (!mapping) return;
  e.mapping = mapping.linear;
  e.output = mapping.linear.output;
}

/** com.microsoft EmbedLayerNormalization(input_ids, segment_ids, word, position, segment, γ, β, mask, position_ids). */
function fusedEmbeddings(ctx: GraphContext, node: Node): EmbeddingsMatch {
  const where = `EmbedLayerNormalization ${quotedText(node.name)}`;
  const table = (i: number): EmbeddingTable | undefined => {
    const t = node.inputs[i] ? ctx.initializer(node.inputs[i]) : undefined;
    return t && t.tensor.dims.length === 2 ? { weight: t.name, rows: t.tensor.dims[0] } : undefined;
  };
  const word = table(2);
  const position = table(3);
  const tokenType = table(4);
  const gamma = ctx.initializer(node.inputs[5]);
  const beta = ctx.initializer(node.inputs[6]);
  if (!word || !position || !gamma || !beta) ctx.refuse(`${where}: word/position tables, scale and bias must be initializers`);
  const inputIds = directInput(ctx, node.inputs[0]);
  if (!inputIds) ctx.refuse(`${where}: input ids are not a graph input`);
  const embeddings: Embeddings = {
    word,
    position,
    norm: {
      kind: 'op',
      nodes: [node.name],
      scale: gamma.name,
      bias: beta.name,
      epsilon: attrFloat(node, 'epsilon', 1e-12)!,
      output: node.outputs[0],
    },
    output: node.outputs[0],
    fusedNode: node.name,
  };
  if (tokenType) embeddings.tokenType = tokenType;
  const inputs: EmbeddingsMatch['inputs'] = { inputIds };
  const tt = node.inputs[1] ? directInput(ctx, node.inputs[1]) : undefined;
  if (tt) inputs.tokenTypeIds = tt;
  const positionIds = node.inputs[8] ? directInput(ctx, node.inputs[8]) : undefined;
  if (positionIds) inputs.positionIds = positionIds;
  return { embeddings, inputs, cumsumPositions: false };
}
