/**
 * int8 embedding tables. The table is stored int8 (symmetric) with one scale per row (per-channel) or one for the
 * table, and the lookup dequantizes only the rows it reads:
 * - per row:    Gather(table_int8, ids) → Cast(float) → Mul(·, Gather(row_scales [rows, 1], ids));
 * - per tensor: Gather(table_int8, ids) → DequantizeLinear(·, scale) (opset >= 10; Cast → Mul below).
 * Both work at every opset onnxruntime runs (a per-row DequantizeLinear after the Gather would need the scale of
 * each gathered row, which DequantizeLinear cannot take). A lookup multiplies nothing in int8, so a table keeps the
 * full range [-127, 127] with reduceRange, unless the plan gives it a reduced range (a table an int8 MLM decoder
 * reads too: apply.ts).
 */
import { attrInt } from '../../onnx/graph.ts';
import { DataType } from '../../onnx/dtype.ts';
import { float32Tensor, int8Tensor, readFloat32 } from '../../onnx/tensor.ts';
import { attr } from '../graph-edit.ts';
import { int8Qmax, quantizeInt8 } from '../int8-weights.ts';
import { schemeName, type OpQuantizer, type RewriteContext, type TensorRecord, type WeightScheme } from '../registry.ts';
import { quotedText } from '../../errors.ts';

/** The weight-cache key of an int8 table: its name, per row or per table, full or reduced range. */
export function tableKey(name: string, perRow: boolean, reduceRange: boolean): string {
  return `emb|${name}|${perRow}${reduceRange ? '|reduced' : ''}`;
}

/** The int8 form the table `name` was stored in (by int8Gather, in `weights`), whichever it is; undefined when none. */
export function storedTable(weights: RewriteContext['weights'], name: string): { perRow: boolean; reduceRange: boolean; names: string[] } | undefined {
  for (const perRow of [true, false])
    for (const reduceRange of [false, true]) {
      const stored = weights.get(tableKey(name, perRow, reduceRange));
      if (stored) return { perRow, reduceRange, names: stored.names };
    }
  return undefined;
}

export const int8Gather: OpQuantizer = {
  check(node, target, scheme, ctx) {
    if (target.kind !== 'embedding') return 'not an embedding table';
    if (scheme.kind !== 'int8') return 'embedding tables are stored in int8 only';
    if (node.opType !== 'Gather' || node.domain !== '') return `${node.opType} is not a Gather`;
    if ((attrInt(node, 'axis', 0) ?? 0) !== 0) return 'Gather on an axis other than 0';
    if (node.inputs[0] !== target.table.weight) return `the Gather does not read ${quotedText(target.table.weight)} directly`;
    const t = ctx.edit.graph.initializers.get(target.table.weight);
    if (t?.dims.length !== 2) return 'the table is not a 2-D initializer';
    if (t.dataType !== DataType.FLOAT) return 'the table is not float32';
    return undefined;
  },
  rewrite(node, target, scheme, ctx) {
    if (target.kind !== 'embedding') throw new Error('int8Gather: not an embedding target');
    const { edit } = ctx;
    const s = scheme as WeightScheme & { kind: 'int8' };
    const name = target.table.weight;
    const t = edit.graph.initializers.get(name)!;
    const [rows, width] = t.dims;
    const perRow = s.granularity.kind !== 'tensor';
    const key = tableKey(name, perRow, s.reduceRange);
    const cached = ctx.weights.get(key);
    const q = cached ? undefined : quantizeInt8(readFloat32(t), rows, width, 0, perRow ? { kind: 'channel' } : { kind: 'tensor' }, int8Qmax(s.reduceRange));
    let names = cached?.names;
    if (!names) {
      names = [edit.addInitializer(`${name}_int8`, int8Tensor('', [rows, width], q!.values))];
      if (perRow) names.push(edit.addInitializer(`${name}_row_scale`, float32Tensor('', [rows, 1], q!.scales)));
      else names.push(edit.addInitializer(`${name}_scale`, float32Tensor('', [], q!.scales)));
      if (!perRow && edit.opset() >= 10) names.push(edit.addInitializer(`${name}_zero_point`, int8Tensor('', [], [0])));
    }
    const [table, scale, zero] = names;
    const ids = node.inputs[1];
    const out = node.outputs[0];
    const gathered = edit.fresh(`${out}_int8`);
    const nodes = [edit.makeNode('Gather', [table, ids], [gathered], { axis: attr.int(0) })];
    if (perRow) {
      const asFloat = edit.fresh(`${out}_float`);
      const rowScale = edit.fresh(`${out}_row_scale`);
      nodes.push(
        edit.makeNode('Cast', [gathered], [asFloat], { to: attr.int(DataType.FLOAT) }),
        edit.makeNode('Gather', [scale, ids], [rowScale], { axis: attr.int(0) }),
        edit.makeNode('Mul', [asFloat, rowScale], [out]),
      );
    } else if (zero) {
      nodes.push(edit.makeNode('DequantizeLinear', [gathered, scale, zero], [out]));
    } else {
      const asFloat = edit.fresh(`${out}_float`);
      nodes.push(edit.makeNode('Cast', [gathered], [asFloat], { to: attr.int(DataType.FLOAT) }), edit.makeNode('Mul', [asFloat, scale], [out]));
    }
    edit.replaceNode(node, nodes);
    if (cached) return [{ ...cached.record, target: target.id, node: nodes[0].name, bytesAfter: 0 }];
    const record: TensorRecord = {
      target: target.id,
      tensor: name,
      node: nodes[0].name,
      op: 'Gather',
      scheme: perRow
        ? `int8 per-row${s.reduceRange ? ' reduced-range' : ''}`
        : schemeName({ kind: 'int8', granularity: { kind: 'tensor' }, reduceRange: s.reduceRange }),
      dims: [rows, width],
      bytesBefore: 4 * rows * width,
      bytesAfter: q!.values.byteLength + 4 * q!.scales.length + (zero ? 1 : 0),
      maxAbsError: q!.maxAbsError,
      maxAbs: q!.maxAbs,
    };
    ctx.weights.set(key, { names, record });
    return [record];
  },
};
