/**
 * The quantize pass's report: initializer bytes before and after, every quantized tensor with its scheme, bytes and
 * max abs quantization error, every target left in float with the reason, and the float tensors that remain
 * (biases, LayerNorm parameters, constants) summarized.
 */
import type { Model } from '../onnx/graph.ts';
import { isFloatType } from '../onnx/dtype.ts';
import { tensorBytes } from '../onnx/tensor.ts';
import { modelSize } from '../onnx/size.ts';
import type { PassReport } from '../pass/pass.ts';
import { ALREADY, type PlanResult } from './apply.ts';
import type { FloatRecord, TensorRecord } from './registry.ts';
import { formatRangeMethod, modeName, type QuantizeOptions } from './settings.ts';
import { someNames } from '../some-names.ts';
import { formatMB, percent } from '../units.ts';
import { counted } from '../errors.ts';

/** The settings as plain JSON (the mode as its string). */
export function settingsRecord(o: QuantizeOptions): Record<string, unknown> {
  return {
    mode: modeName(o.mode),
    perChannel: o.perChannel,
    embeddings: o.embeddings,
    format: o.format,
    calibration: formatRangeMethod(o.calibration),
    symmetric: o.symmetric,
    mixedBlockSize: o.mixedBlockSize,
    attention: o.attention,
    // as the canonical settings: absent unless true
    ...(o.reduceRange ? { reduceRange: true } : {}),
  };
}

/** Float initializers left in the output, largest first (the quantized targets' originals are gone by now). */
function remainingFloat(m: Model, keptTensors: ReadonlySet<string>) {
  const all = [...m.graph.initializers.values()].filter((t) => isFloatType(t.dataType) && !keptTensors.has(t.name));
  const bytes = all.reduce((s, t) => s + tensorBytes(t), 0);
  const largest = all
    .sort((a, b) => tensorBytes(b) - tensorBytes(a))
    .slice(0, 5)
    .map((t) => ({ tensor: t.name, dims: t.dims, bytes: tensorBytes(t) }));
  return {
    tensors: all.length,
    bytes,
    largest,
    reason: 'biases, LayerNorm parameters, quantization scales and other small constants stay float (added or multiplied in float; a few kB)',
  };
}

/**
 * Why targets stay float, for the summary line: the first reason with the targets it applies to, '; …' when others
 * follow (the report's keptFloat has every one): ' (embeddings.word, embeddings.position: the table is read by …)'.
 */
function floatWhy(kept: readonly FloatRecord[]): string {
  const left = kept.filter((k) => !k.reason.startsWith(ALREADY));
  if (!left.length) return '';
  const reason = left[0].reason;
  const targets = [...new Set(left.filter((k) => k.reason === reason).map((k) => k.target))];
  return ` (${someNames(targets, 3)}: ${reason}${left.some((k) => k.reason !== reason) ? '; …' : ''})`;
}

/**
 * The quantized weights stored in more bytes than in float, for the summary line: at toy widths a float scale a row
 * (a table 1 wide) or an output channel (a projection of 1 input) outweighs the bytes its int8 values save. Said, not
 * undone: the weights are stored as the settings ask, and perChannel false stores one scale a tensor.
 */
function grownWhy(q: readonly TensorRecord[]): string {
  const grown = q.filter((r) => r.bytesAfter > r.bytesBefore);
  if (!grown.length) return '';
  const r = grown[0];
  const table = r.op === 'Gather';
  const width = table ? r.dims[1] : r.dims[0];
  const perScale = / per-(row|channel)|group /.test(r.scheme)
    ? `, a 4-byte scale for each ${table ? 'row' : 'output channel'} of ${counted(width, 'value')}; perChannel false, flag --per-tensor, stores one scale a tensor`
    : '';
  const bytes = `${grown.length > 1 ? `${r.target} ` : ''}${r.bytesAfter} B against ${r.bytesBefore} B`;
  return `, ${grown.length} larger than in float (${someNames(
    grown.map((g) => g.target),
    3,
  )}: ${r.scheme}, ${bytes}${perScale})`;
}

/** What mixed precision chose, for the summary line: its budget in bytes and the bits of each encoder layer. */
export interface MixedChoice {
  budgetBytes: number;
  bits: readonly number[];
}

/**
 * The pass report. With `mixed` (mode mixed:BUDGET), the summary line says the budget in bytes and the bits each
 * layer got ('mixed:0.5: 0.098 MB → 0.030 MB (30.2%) within a budget of 0.049 MB, layers at 8, 4 bits, …').
 */
export function quantizeReport(o: QuantizeOptions, input: Model, result: PlanResult, extra: Record<string, unknown> = {}, mixed?: MixedChoice): PassReport {
  const before = modelSize(input).bytes;
  const after = modelSize(result.model).bytes;
  const ratio = before ? after / before : 1;
  const q = result.quantized;
  // one record per reader: a weight that layers share (share-layers) or a decoder ties is stored once, counted once
  const distinct = new Set(q.map((r) => r.tensor)).size;
  const maxErr = q.reduce((m, r) => Math.max(m, r.maxAbsError), 0);
  const keptTensors = new Set(result.kept.map((k) => k.tensor));
  const already = result.kept.filter((k) => k.reason.startsWith(ALREADY)).length;
  const summary =
    `${modeName(o.mode)}: ${formatMB(before)} → ${formatMB(after)} (${percent(ratio)})` +
    (mixed ? ` within a budget of ${formatMB(mixed.budgetBytes)}, layers at ${mixed.bits.join(', ')} bits` : '') +
    `, ${distinct} tensors quantized` +
    (q.length > distinct ? ` (read by ${q.length} nodes: shared or tied weights are stored once)` : '') +
    grownWhy(q) +
    (already ? `, ${already} already quantized` : '') +
    (result.kept.length > already ? `, ${result.kept.length - already} left float${floatWhy(result.kept)}` : '') +
    (q.length ? `, max abs error ${maxErr.toExponential(2)}` : '');
  return {
    pass: 'quantize',
    settings: settingsRecord(o),
    summary,
    details: {
      bytesBefore: before,
      bytesAfter: after,
      ratio,
      quantized: q,
      keptFloat: result.kept,
      otherFloat: remainingFloat(result.model, keptTensors),
      notes: result.notes,
      ...extra,
    },
  };
}
