/**
 * Applying a quantization plan: every target is dispatched to the quantizer its format's table lists for the op of
 * its node; targets without a quantizer, or whose quantizer declines, stay float with the reason recorded. Then the
 * node list is re-sorted (shared activation quantizers are placed before their first reader) and the float tensors
 * nobody reads any more are dropped.
 */
import { attrFloat, type Graph, type Model, type Node } from '../onnx/graph.ts';
import { shapeBytes, tensorBytes } from '../onnx/tensor.ts';
import { modelBytesFromShapes } from '../onnx/size.ts';
import { DataType, dataTypeName, isFloatType } from '../onnx/dtype.ts';
import { attr, finishEdit, GraphEditor } from './graph-edit.ts';
import { opKey, type Assignment, type FloatRecord, type OpQuantizer, type RewriteContext, type TensorRecord, type WeightScheme } from './registry.ts';
import { REGISTRIES } from './tables.ts';
import { storedTable, tableKey } from './ops/embedding.ts';
import { targetNode, targetWeight, type Target } from './targets.ts';
import type { QuantizeOptions } from './settings.ts';
import type { ActivationRange } from './calibrate.ts';
import type { Storage } from './mixed.ts';
import { plural, quotedText } from '../errors.ts';

export interface PlanResult {
  model: Model;
  quantized: TensorRecord[];
  kept: FloatRecord[];
  notes: string[];
}

/** Why an embedding table that no Gather reads stays float. */
export function tableWithoutGather(graph: Graph, table: string): string {
  const fused = graph.nodes.find((n) => n.opType === 'EmbedLayerNormalization' && n.inputs.includes(table));
  return fused
    ? `the table is read by com.microsoft EmbedLayerNormalization ${quotedText(fused.name)}, which takes float tables (quantize before --optimize to store it int8)`
    : 'no Gather reads the table (folded or fused by the exporter)';
}

/**
 * The reason a target stays as it is because `graph` stores its weight quantized already (a quantized projection, or
 * an initializer of an integer type), or undefined when it is float (or not an initializer).
 */
export function alreadyQuantized(t: Target, graph: Graph): string | undefined {
  if (t.kind === 'linear' && t.linear.quantization) return `${ALREADY} (${t.linear.quantization.bits} bits, ${t.linear.quantization.kind})`;
  const dataType = graph.initializers.get(targetWeight(t))?.dataType;
  if (dataType !== undefined && !isFloatType(dataType)) {
    return `${ALREADY} (${dataTypeName(dataType)})`;
  }
  return undefined;
}

/** How a kept target's reason starts when its weight is stored quantized already. */
export const ALREADY = 'already quantized';

/** Per activation value, how many targets planned in the 'integer' format read it (embedding lookups excluded). */
function integerReaders(edit: GraphEditor, targets: readonly Target[], plan: ReadonlyMap<string, Assignment | undefined>): Map<string, number> {
  const readers = new Map<string, number>();
  for (const t of targets) {
    if (t.kind === 'embedding' || plan.get(t.id)?.format !== 'integer') continue;
    const x = edit.node(targetNode(t) ?? '')?.inputs[0];
    if (x) readers.set(x, (readers.get(x) ?? 0) + 1);
  }
  return readers;
}

/**
 * A fresh rewrite context on `model` (a GraphEditor of it, nothing quantized yet), as applyPlan rewrites it and
 * keptByPlan, storedBy and plannedBytes decide on it; `ranges`, int8-static's calibrated activation ranges.
 */
function rewriteContext(model: Model, options: QuantizeOptions, ranges: ReadonlyMap<string, ActivationRange> = new Map()): RewriteContext {
  return { edit: new GraphEditor(model), options, ranges, activations: new Map(), integerReaders: new Map(), weights: new Map(), notes: [] };
}

/** Rewrites a copy of `model` as `plan` (target id → assignment) says. Targets absent from the plan stay float. */
export function applyPlan(
  model: Model,
  targets: readonly Target[],
  plan: ReadonlyMap<string, Assignment>,
  options: QuantizeOptions,
  ranges: ReadonlyMap<string, ActivationRange> = new Map(),
): PlanResult {
  const ctx = rewriteContext(model, options, ranges);
  const { edit } = ctx;
  const quantized: TensorRecord[] = [];
  const kept: FloatRecord[] = [];
  // the tables first: a projection tied to one (an MLM decoder reading the word table) then follows what became of it
  const { tables, rest } = byPlace(edit, targets);
  for (const t of tables) {
    const { assignment, decoder } = tableAssignment(t, plan, rest, ctx);
    apply(t, assignment);
    if (decoder && storedTable(ctx.weights, targetWeight(t))?.reduceRange)
      ctx.notes.push(`${t.id}: stored in 7 bits ([-64, 64], reduceRange) because ${decoder.id} reads it too (tied) and multiplies with it`);
  }
  const tied = new Map(rest.map((t) => [t.id, tiedAssignment(t, plan.get(t.id), tables, ctx)]));
  ctx.integerReaders = integerReaders(edit, rest, tied);
  for (const t of rest) apply(t, tied.get(t.id));
  for (const t of tables) readStoredTableWhole(t, ctx);
  return { model: finishEdit(edit, 'quantize'), quantized, kept, notes: ctx.notes };

  function apply(t: Target, assignment: Assignment | undefined): void {
    const d = decide(t, assignment, ctx);
    if ('reason' in d) {
      const init = edit.graph.initializers.get(targetWeight(t));
      kept.push(keptRecord(t, d, init ? tensorBytes(init) : 0));
    } else quantized.push(...d.quantizer.rewrite(d.node, t, d.scheme, ctx));
  }
}

/**
 * What applyPlan does with target `t` under `assignment` in the graph `ctx` edits: keeps it as it is (why, and the
 * node it checked), or rewrites `node` with `quantizer` (whose check took it) in `scheme`. Reads dims and data types
 * only.
 */
function decide(
  t: Target,
  assignment: Assignment | undefined,
  ctx: RewriteContext,
): { reason: string; node?: string } | { quantizer: OpQuantizer; node: Node; scheme: WeightScheme } {
  const { edit } = ctx;
  const weight = targetWeight(t);
  // a weight stored quantized already is reported so, whatever the plan says of it (not as "left float")
  const stored = alreadyQuantized(t, edit.graph);
  if (stored) return { reason: stored };
  const a = assignment ?? { format: 'float' as const, reason: 'not in the plan' };
  if (a.format === 'float') return { reason: a.reason };
  const nodeName = targetNode(t);
  const node = nodeName ? edit.node(nodeName) : undefined;
  if (!node) return { reason: nodeName ? `node ${quotedText(nodeName)} not found` : tableWithoutGather(edit.graph, weight) };
  const quantizer = REGISTRIES[a.format][opKey(node)];
  if (!quantizer) return { reason: `no ${a.format} quantizer for ${opKey(node)}`, node: node.name };
  const why = quantizer.check(node, t, a.scheme, ctx);
  return why ? { reason: why, node: node.name } : { quantizer, node, scheme: a.scheme };
}

/**
 * The targets applyPlan would keep as they are, with why (its PlanResult's `kept`, in its order), where it would
 * quantize none of them; undefined where it would quantize one. Decides each target as applyPlan does (decide),
 * rewriting nothing, so it reads dims and data types only (a sweep plan's model, read without weight values): until
 * the first target it would quantize, applyPlan has rewritten nothing either (a projection tied to a table follows
 * the table, which is kept).
 */
export function keptByPlan(
  model: Model,
  targets: readonly Target[],
  plan: ReadonlyMap<string, Assignment>,
  options: QuantizeOptions,
): FloatRecord[] | undefined {
  const ctx = rewriteContext(model, options);
  const kept: FloatRecord[] = [];
  const { tables, rest } = byPlace(ctx.edit, targets);
  for (const t of tables) {
    const d = decide(t, tableAssignment(t, plan, rest, ctx).assignment, ctx);
    if (!('reason' in d)) return undefined;
    kept.push(keptRecord(t, d, 0));
  }
  for (const t of rest) {
    const d = decide(t, tiedAssignment(t, plan.get(t.id), tables, ctx), ctx);
    if (!('reason' in d)) return undefined;
    kept.push(keptRecord(t, d, 0));
  }
  return kept;
}

/**
 * How applyPlan would store each target of `plan` but the tables: in its scheme's kind ('int8', 'int4') where a
 * quantizer takes it, 'float' (and why) where it keeps it (decide), each decided alone, so for the targets no table
 * ties to (the encoder layers' projections and fused Attention weights). Reads dims and data types only.
 */
export function storedBy(
  model: Model,
  targets: readonly Target[],
  plan: ReadonlyMap<string, Assignment>,
  options: QuantizeOptions,
): Map<string, { stored: Storage; reason?: string }> {
  const ctx = rewriteContext(model, options);
  const stored = new Map<string, { stored: Storage; reason?: string }>();
  for (const t of targets) {
    if (t.kind === 'embedding') continue;
    const d = decide(t, plan.get(t.id), ctx);
    stored.set(t.id, 'reason' in d ? { stored: 'float', reason: d.reason } : { stored: d.scheme.kind });
  }
  return stored;
}

/** The record of target `t` kept as it is, of `bytes`, for why decide kept it (`reason`, the node it checked). */
function keptRecord(t: Target, d: { reason: string; node?: string }, bytes: number): FloatRecord {
  return { target: t.id, tensor: targetWeight(t), bytes, reason: d.reason, ...(d.node ? { node: d.node } : {}) };
}

/** The targets in the order applyPlan takes them: the tables, then the others, each by their node's place in the graph. */
function byPlace(edit: GraphEditor, targets: readonly Target[]): { tables: Target[]; rest: Target[] } {
  const position = new Map(edit.graph.nodes.map((n, i) => [n.name, i]));
  const byPosition = [...targets].sort((a, b) => (position.get(targetNode(a) ?? '') ?? Infinity) - (position.get(targetNode(b) ?? '') ?? Infinity));
  return { tables: byPosition.filter((t) => t.kind === 'embedding'), rest: byPosition.filter((t) => t.kind !== 'embedding') };
}

/**
 * A table stored int8 that nodes besides its lookups still read whole in float (the product MatMul(A, B) a tied MLM
 * decoder reads after factorize-embeddings) would be stored twice, int8 and float: those nodes read the int8 table
 * dequantized instead (Cast → Mul by the row scales, or DequantizeLinear), a constant subgraph onnxruntime folds
 * when the session opens, so the file stores the table once.
 */
function readStoredTableWhole(t: Target, ctx: RewriteContext): void {
  const name = targetWeight(t);
  const { edit } = ctx;
  const readers = edit.graph.nodes.filter((n) => n.inputs.includes(name));
  if (!readers.length) return;
  const found = storedTable(ctx.weights, name);
  if (!found) return;
  const [table, scale, zero] = found.names;
  const whole = edit.fresh(`${name}_dequantized`);
  const nodes: Node[] = [];
  if (!found.perRow && zero) nodes.push(edit.makeNode('DequantizeLinear', [table, scale, zero], [whole]));
  else {
    const asFloat = edit.fresh(`${name}_float`);
    nodes.push(edit.makeNode('Cast', [table], [asFloat], { to: attr.int(DataType.FLOAT) }), edit.makeNode('Mul', [asFloat, scale], [whole]));
  }
  edit.insertBefore(readers[0], nodes);
  for (const r of readers) r.inputs = r.inputs.map((x) => (x === name ? whole : x));
  const list = readers.map((r) => `${r.opType} ${quotedText(r.name)}`).join(', ');
  ctx.notes.push(
    `${t.id}: ${list} ${plural(readers.length, 'reads', 'read')} the whole table too (a tied decoder's product of the factorized table): ${plural(readers.length, 'it reads', 'they read')} the int8 table dequantized, so the file stores it once`,
  );
}

/**
 * A table's assignment: as planned, but with a reduced range when `reduceRange` is on and a quantized projection reads
 * the table too (an MLM decoder tied to the word table), so that the decoder's products stay within 7-bit weights
 * and the file still stores the table once (a lookup alone keeps the full range).
 */
function tableAssignment(
  t: Target,
  plan: ReadonlyMap<string, Assignment>,
  rest: readonly Target[],
  ctx: RewriteContext,
): { assignment: Assignment | undefined; decoder?: Target } {
  const a = plan.get(t.id);
  if (!ctx.options.reduceRange || !a || a.format === 'float' || a.scheme.kind !== 'int8' || a.scheme.reduceRange) return { assignment: a };
  const weight = targetWeight(t);
  const decoder = rest.find((r) => r.kind === 'linear' && r.linear.weight === weight && (plan.get(r.id)?.format ?? 'float') !== 'float');
  if (!decoder) return { assignment: a };
  return { assignment: { ...a, scheme: { ...a.scheme, reduceRange: true } }, decoder };
}

/**
 * The assignment of a projection whose weight is an embedding table (an MLM decoder tied to the word table), so that
 * the file stores the table once: a table left float keeps the projection float (a quantized copy would be stored
 * beside it); a table stored int8 is read by the projection as int8 with the table's scales, whatever int8
 * granularity or int4 the plan said (MatMulNBits cannot read it: it would store a second, 4-bit copy).
 */
function tiedAssignment(t: Target, a: Assignment | undefined, tables: readonly Target[], ctx: RewriteContext): Assignment | undefined {
  if (t.kind !== 'linear' || !a || a.format === 'float') return a;
  const table = tables.find((e) => targetWeight(e) === t.linear.weight);
  if (!table) return a;
  const reduceRange = ctx.options.reduceRange;
  const perRow = ctx.weights.has(tableKey(t.linear.weight, true, reduceRange));
  if (perRow || ctx.weights.has(tableKey(t.linear.weight, false, reduceRange))) {
    const granularity = perRow ? ({ kind: 'channel' } as const) : ({ kind: 'tensor' } as const);
    if (a.scheme.kind === 'int8' && a.scheme.granularity.kind === granularity.kind && a.scheme.reduceRange === reduceRange) return a;
    ctx.notes.push(
      `${t.id}: reads ${table.id} (tied), stored int8 ${perRow ? 'per row' : 'per tensor'}: quantized int8 ${perRow ? 'per channel' : 'per tensor'} from the same values instead of storing the table a second time${a.scheme.kind === 'int4' ? ' in int4' : ''}`,
    );
    return { format: a.format === 'nbits' ? 'integer' : a.format, scheme: { kind: 'int8', granularity, reduceRange } };
  }
  return { format: 'float', reason: `tied to ${table.id}, which stays float: a quantized copy would store the table twice` };
}

/**
 * What applyPlan(model, targets, plan, options) would write, for a plan that stores its projections int8 in the
 * 'integer' format (dynamic int8) or keeps them, and its tables int8 or float: the bytes of the model it would write
 * (modelSize) and the targets it would keep, with why. Decides each target as applyPlan does (decide), rewriting
 * nothing, so it reads dims and data types only: an int8 [in, out] weight and its scales (one, or one per output
 * channel) in place of a float weight no other node reads, a table's int8 values and its scales (per row [rows, 1],
 * or one and an int8 zero point at opset ≥ 10) in place of the float table, a tied decoder's scales only, a Gemm's
 * beta that the product op cannot take.
 */
export function plannedBytes(
  model: Model,
  targets: readonly Target[],
  plan: ReadonlyMap<string, Assignment>,
  options: QuantizeOptions,
): { bytes: number; kept: FloatRecord[] } {
  const ctx = rewriteContext(model, options);
  const { edit } = ctx;
  const g = edit.graph;
  const kept: FloatRecord[] = [];
  let bytes = modelBytesFromShapes(model);
  const floatBytes = (name: string) => {
    const t = g.initializers.get(name);
    return t ? shapeBytes(t) : 0;
  };
  // per float weight, the nodes the rewrite takes it from (the weight goes where every reader is rewritten)
  const rewritten = new Map<string, Set<string>>();
  const done = new Set<string>();
  const { tables, rest } = byPlace(edit, targets);
  for (const t of tables) {
    const d = decide(t, tableAssignment(t, plan, rest, ctx).assignment, ctx);
    if ('reason' in d) {
      kept.push(keptRecord(t, d, floatBytes(targetWeight(t))));
      continue;
    }
    const scheme = d.scheme as WeightScheme & { kind: 'int8' };
    const perRow = scheme.granularity.kind !== 'tensor';
    const key = tableKey(targetWeight(t), perRow, scheme.reduceRange);
    if (ctx.weights.has(key)) continue;
    const [rows, width] = g.initializers.get(targetWeight(t))!.dims;
    // (the float table goes: its lookups read the int8 one, and any other reader the int8 one dequantized)
    bytes += rows * width + (perRow ? 4 * rows : 4 + (edit.opset() >= 10 ? 1 : 0)) - floatBytes(targetWeight(t));
    ctx.weights.set(key, {
      names: [],
      record: {
        target: t.id,
        tensor: targetWeight(t),
        node: d.node.name,
        op: 'Gather',
        scheme: '',
        dims: [rows, width],
        bytesBefore: 0,
        bytesAfter: 0,
        maxAbsError: 0,
        maxAbs: 0,
      },
    });
  }
  for (const t of rest) {
    const d = decide(t, tiedAssignment(t, plan.get(t.id), tables, ctx), ctx);
    if ('reason' in d) {
      kept.push(keptRecord(t, d, floatBytes(targetWeight(t))));
      continue;
    }
    if (t.kind !== 'linear' || d.quantizer !== REGISTRIES.integer.MatMul || d.scheme.kind !== 'int8')
      throw new Error(`plannedBytes: ${t.id} planned other than dynamic int8`);
    const lin = t.linear;
    const node = d.node;
    const alpha = node.opType === 'Gemm' ? (attrFloat(node, 'alpha') ?? 1) : 1;
    const beta = node.opType === 'Gemm' && node.inputs[2] ? (attrFloat(node, 'beta') ?? 1) : 1;
    if (beta !== 1) bytes += 4;
    const channel = d.scheme.granularity.kind !== 'tensor';
    const key = `int8|${lin.weight}|${lin.layout}|${channel}|${d.scheme.reduceRange}|${alpha}`;
    if (!done.has(key)) {
      done.add(key);
      const table = ctx.weights.has(tableKey(lin.weight, d.scheme.granularity.kind === 'channel', d.scheme.reduceRange))
        ? g.initializers.get(lin.weight)
        : undefined;
      const tied = lin.layout === 'out_in' && alpha === 1 && table && table.dims[0] === lin.outFeatures && table.dims[1] === lin.inFeatures;
      if (tied) bytes += channel ? 4 * lin.outFeatures : 0;
      else bytes += lin.inFeatures * lin.outFeatures + 4 * (channel ? lin.outFeatures : 1);
      if (!tied) rewritten.set(lin.weight, (rewritten.get(lin.weight) ?? new Set()).add(node.name));
    }
    rewritten.get(lin.weight)?.add(node.name);
  }
  for (const [weight, nodes] of rewritten) {
    if (g.nodes.every((n) => nodes.has(n.name) || !n.inputs.includes(weight)) && !g.outputs.some((o) => o.name === weight)) bytes -= floatBytes(weight);
  }
  return { bytes, kept };
}
