/**
 * Applying a quantization plan: every target is dispatched to the quantizer its format's table lists for the op of
 * its node; targets without a quantizer, or whose quantizer declines, stay float with the reason recorded. Then the
 * node list is re-sorted (shared activation quantizers are placed before their first reader) and the float tensors
 * nobody reads any more are dropped.
 */
import type { Model } from '../onnx/graph.ts';
import { tensorBytes } from '../onnx/tensor.ts';
import { dataTypeName, isFloatType } from '../onnx/dtype.ts';
import { finishEdit, GraphEditor } from './graph-edit.ts';
import { opKey, type Assignment, type FloatRecord, type RewriteContext, type TensorRecord } from './registry.ts';
import { REGISTRIES } from './tables.ts';
import { targetNode, targetWeight, type Target } from './targets.ts';
import type { QuantizeOptions } from './settings.ts';
import type { ActivationRange } from './calibrate.ts';

export interface PlanResult {
  model: Model;
  quantized: TensorRecord[];
  kept: FloatRecord[];
  notes: string[];
}

/** Why an embedding table that no Gather reads stays float. */
function tableWithoutGather(edit: GraphEditor, table: string): string {
  const fused = edit.graph.nodes.find((n) => n.opType === 'EmbedLayerNormalization' && n.inputs.includes(table));
  return fused
    ? `the table is read by com.microsoft EmbedLayerNormalization '${fused.name}', which takes float tables (quantize before --optimize to store it int8)`
    : 'no Gather reads the table (folded or fused by the exporter)';
}

/** The reason a target stays as it is because its weight is stored quantized already, or undefined when it is float. */
export function alreadyQuantized(t: Target, dataType: number | undefined): string | undefined {
  if (t.kind === 'linear' && t.linear.quantization) return `${ALREADY} (${t.linear.quantization.bits} bits, ${t.linear.quantization.kind})`;
  if (dataType !== undefined && !isFloatType(dataType)) {
    return `${ALREADY} (${dataTypeName(dataType)})`;
  }
  return undefined;
}

/** How a kept target's reason starts when its weight is stored quantized already. */
export const ALREADY = 'already quantized';

/** Per activation value, how many targets planned in the 'integer' format read it (embedding lookups excluded). */
function integerReaders(edit: GraphEditor, targets: readonly Target[], plan: ReadonlyMap<string, Assignment>): Map<string, number> {
  const readers = new Map<string, number>();
  for (const t of targets) {
    if (t.kind === 'embedding' || plan.get(t.id)?.format !== 'integer') continue;
    const x = edit.node(targetNode(t) ?? '')?.inputs[0];
    if (x) readers.set(x, (readers.get(x) ?? 0) + 1);
  }
  return readers;
}

/** Rewrites a copy of `model` as `plan` (target id → assignment) says. Targets absent from the plan stay float. */
export function applyPlan(
  model: Model,
  targets: readonly Target[],
  plan: ReadonlyMap<string, Assignment>,
  options: QuantizeOptions,
  ranges: ReadonlyMap<string, ActivationRange> = new Map(),
): PlanResult {
  const edit = new GraphEditor(model);
  const ctx: RewriteContext = {
    edit,
    options,
    ranges,
    activations: new Map(),
    integerReaders: integerReaders(edit, targets, plan),
    weights: new Map(),
    notes: [],
  };
  const quantized: TensorRecord[] = [];
  const kept: FloatRecord[] = [];
  const position = new Map(edit.graph.nodes.map((n, i) => [n.name, i]));
  const ordered = [...targets].sort((a, b) => (position.get(targetNode(a) ?? '') ?? Infinity) - (position.get(targetNode(b) ?? '') ?? Infinity));
  for (const t of ordered) {
    const weight = targetWeight(t);
    const init = edit.graph.initializers.get(weight);
    const keep = (reason: string, node?: string) =>
      kept.push({ target: t.id, tensor: weight, bytes: init ? tensorBytes(init) : 0, reason, ...(node ? { node } : {}) });
    // a weight stored quantized already is reported so, whatever the plan says of it (not as "left float")
    const stored = alreadyQuantized(t, init?.dataType);
    if (stored) {
      keep(stored);
      continue;
    }
    const a = plan.get(t.id) ?? { format: 'float' as const, reason: 'not in the plan' };
    if (a.format === 'float') {
      keep(a.reason);
      continue;
    }
    const nodeName = targetNode(t);
    const node = nodeName ? edit.node(nodeName) : undefined;
    if (!node) {
      keep(nodeName ? `node '${nodeName}' not found` : tableWithoutGather(edit, weight));
      continue;
    }
    const q = REGISTRIES[a.format][opKey(node)];
    if (!q) {
      keep(`no ${a.format} quantizer for ${opKey(node)}`, node.name);
      continue;
    }
    const why = q.check(node, t, a.scheme, ctx);
    if (why) {
      keep(why, node.name);
      continue;
    }
    quantized.push(...q.rewrite(node, t, a.scheme, ctx));
  }
  return { model: finishEdit(edit, 'quantize'), quantized, kept, notes: ctx.notes };
}
