/**
 * Dynamic int8 of a recurrent model: a Distilled BiLSTM student (src/train/students/bilstm-export.ts), which has no
 * attention, so discovery finds no BERT structure in it. Its weights are the word table, read by a Gather (int8 per
 * row, as a BERT's tables), the MLP head's MatMuls (DynamicQuantizeMatMul, or MatMulInteger with format standard)
 * and the LSTM: com.microsoft DynamicQuantizeLSTM (W [dirs, in, 4H] and R [dirs, H, 4H] int8, one scale per gate
 * row and direction, or one per direction; zero points 0), what onnxruntime's quantizer writes for an LSTM. Only
 * mode int8 applies: the other modes have no form for the LSTM here.
 */
import { attrInt, type Model, type Node } from '../onnx/graph.ts';
import { RECURRENT_MODEL, recurrentModelLstm } from '../bert/recurrent.ts';
import { DataType } from '../onnx/dtype.ts';
import { float32Tensor, int8Tensor, readFloat32 } from '../onnx/tensor.ts';
import { SettingsError, quotedText } from '../errors.ts';
import type { Linear } from '../bert/structure.ts';
import type { PassResult } from '../pass/pass.ts';
import { applyPlan } from './apply.ts';
import { finishEdit, GraphEditor, MS_DOMAIN } from './graph-edit.ts';
import { int8Qmax, quantizeInt8 } from './int8-weights.ts';
import type { Assignment, TensorRecord } from './registry.ts';
import { quantizeReport } from './report.ts';
import { int8Granularity, modeName, type QuantizeOptions } from './settings.ts';
import type { Target } from './targets.ts';

/** The product and bias nodes of every MatMul reading a float 2-D initializer as its weight (x · W [in, out] + b). */
function matmulTargets(model: Model): Target[] {
  const g = model.graph;
  const readers = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const out: Target[] = [];
  for (const n of g.nodes) {
    if (n.opType !== 'MatMul' || n.domain !== '') continue;
    const w = g.initializers.get(n.inputs[1]);
    if (w?.dims.length !== 2 || w.dataType !== DataType.FLOAT) continue;
    const next = readers.get(n.outputs[0]);
    const add = next?.length === 1 && next[0].opType === 'Add' ? next[0] : undefined;
    const biasName = add?.inputs.find((i) => i !== n.outputs[0]);
    const bias = biasName ? g.initializers.get(biasName) : undefined;
    const hasBias = add && bias?.dims.length === 1 && bias.dims[0] === w.dims[1] && bias.dataType === DataType.FLOAT;
    const linear: Linear = {
      node: n.name,
      weight: n.inputs[1],
      layout: 'in_out',
      inFeatures: w.dims[0],
      outFeatures: w.dims[1],
      output: hasBias ? add.outputs[0] : n.outputs[0],
      ...(hasBias ? { bias: biasName, biasNode: add.name } : {}),
    };
    out.push({ kind: 'linear', id: `head.${out.length}`, linear });
  }
  return out;
}

/** The word table: the float 2-D initializer a Gather on axis 0 reads, when there is one such Gather. */
function tableTarget(model: Model): Target | undefined {
  const g = model.graph;
  const gathers = g.nodes.filter((n) => n.opType === 'Gather' && g.initializers.get(n.inputs[0])?.dims.length === 2);
  if (gathers.length !== 1) return undefined;
  const [n] = gathers;
  const t = g.initializers.get(n.inputs[0])!;
  return { kind: 'embedding', id: 'embeddings.word', table: { weight: n.inputs[0], gather: n.name, rows: t.dims[0] } };
}

/**
 * The LSTM's W or R ([dirs, 4H, in], ONNX's layout) as DynamicQuantizeLSTM reads it: int8 [dirs, in, 4H] with
 * scales [dirs, 4H] (per channel: one per gate row) or [dirs] (one per direction), zero points likewise (0).
 */
function lstmWeight(edit: GraphEditor, name: string, o: QuantizeOptions, node: string): { names: string[]; record: TensorRecord } {
  const t = edit.graph.initializers.get(name)!;
  const [dirs, rows, cols] = t.dims;
  const w = readFloat32(t);
  const perChannel = o.perChannel;
  const values = new Int8Array(dirs * rows * cols);
  const scales = new Float32Array(perChannel ? dirs * rows : dirs);
  let maxAbsError = 0;
  let maxAbs = 0;
  for (let d = 0; d < dirs; d++) {
    const q = quantizeInt8(
      w.subarray(d * rows * cols, (d + 1) * rows * cols),
      rows,
      cols,
      0,
      perChannel ? { kind: 'channel' } : { kind: 'tensor' },
      int8Qmax(o.reduceRange),
    );
    // transposed: [rows, cols] → [cols, rows]
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[d * rows * cols + c * rows + r] = q.values[r * cols + c];
    scales.set(q.scales, perChannel ? d * rows : d);
    maxAbsError = Math.max(maxAbsError, q.maxAbsError);
    maxAbs = Math.max(maxAbs, q.maxAbs);
  }
  const scaleDims = perChannel ? [dirs, rows] : [dirs];
  const names = [
    edit.addInitializer(`${name}_int8`, int8Tensor('', [dirs, cols, rows], values)),
    edit.addInitializer(`${name}_scale`, float32Tensor('', scaleDims, scales)),
    edit.addInitializer(`${name}_zero_point`, int8Tensor('', scaleDims, new Int8Array(scales.length))),
  ];
  const record: TensorRecord = {
    target: name === 'lstm.R' ? 'lstm.recurrence' : name === 'lstm.W' ? 'lstm.input' : name,
    tensor: name,
    node,
    op: 'DynamicQuantizeLSTM',
    scheme: `int8 ${perChannel ? 'per-channel' : 'per-direction'}${o.reduceRange ? ' reduced-range' : ''}`,
    dims: [dirs, cols, rows],
    bytesBefore: 4 * w.length,
    bytesAfter: values.byteLength + 5 * scales.length,
    maxAbsError,
    maxAbs,
  };
  return { names, record };
}

/** Why quantize with options `o` refuses a recurrent model whose LSTM is stored in int8 already, in one line. */
export function quantizedLstmRefusal(o: QuantizeOptions): SettingsError {
  return new SettingsError(`quantize ${modeName(o.mode)}: the model is ${RECURRENT_MODEL} whose LSTM is quantized already: quantize the float model instead`);
}

/**
 * Refuses, in one line, what quantizeRecurrent cannot do: modes other than int8, format standard, and on `model`
 * (when given) an LSTM quantized already or not read from float initializers.
 */
export function checkRecurrent(o: QuantizeOptions, model?: Model): void {
  const what = `the model is ${RECURRENT_MODEL}`;
  const lstm = model && recurrentModelLstm(model);
  if (model && !lstm) throw new Error('quantizeRecurrent: not a recurrent model');
  if (lstm?.opType === 'DynamicQuantizeLSTM') throw quantizedLstmRefusal(o);
  if (o.mode.kind === 'float16') throw new SettingsError(`quantize float16: ${what}, and mode float16 converts BERT-family models only: use --quantize int8`);
  if (o.mode.kind !== 'int8')
    throw new SettingsError(
      `quantize ${modeName(o.mode)}: ${what}, and its LSTM has an int8 form only in mode int8 (DynamicQuantizeLSTM): use --quantize int8`,
    );
  if (o.format !== 'contrib')
    throw new SettingsError(
      `quantize ${modeName(o.mode)}: format ${quotedText(o.format)}: ${what}, and its LSTM's int8 form is com.microsoft DynamicQuantizeLSTM, which format standard rules out: leave out --quantize-format`,
    );
  if (!model || !lstm) return;
  const init = model.graph.initializers;
  const bad = [lstm.inputs[1], lstm.inputs[2]].find((n) => init.get(n)?.dataType !== DataType.FLOAT || init.get(n)?.dims.length !== 3);
  if (bad !== undefined)
    throw new SettingsError(
      `quantize ${modeName(o.mode)}: ${what} whose LSTM weight ${quotedText(bad)} is not a float32 [directions, 4·hidden, in] initializer`,
    );
  const layout = attrInt(lstm, 'layout', 0);
  if (layout !== 0)
    throw new SettingsError(
      `quantize ${modeName(o.mode)}: ${what} whose LSTM has layout ${layout} (batch first), which its int8 form, com.microsoft DynamicQuantizeLSTM, does not take: export it with layout 0 (sequence first)`,
    );
}

/** Quantizes a recurrent model (recurrentModelLstm) with mode int8, after checkRecurrent. */
export function quantizeRecurrent(model: Model, o: QuantizeOptions): PassResult {
  checkRecurrent(o, model);
  const found = recurrentModelLstm(model)!;
  const edit = new GraphEditor(model);
  const lstm = edit.node(found.name)!;
  const [W, R] = [lstm.inputs[1], lstm.inputs[2]];
  const w = lstmWeight(edit, W, o, lstm.name);
  const r = lstmWeight(edit, R, o, lstm.name);
  const inputs = [...lstm.inputs];
  while (inputs.length < 8) inputs.push('');
  // (DynamicQuantizeLSTM has no layout: the default, 0, written out (checkRecurrent refuses another) is left out)
  const { layout: _layout, ...attributes } = lstm.attributes;
  const node = edit.makeNode(
    'DynamicQuantizeLSTM',
    [inputs[0], w.names[0], r.names[0], ...inputs.slice(3, 8), w.names[1], w.names[2], r.names[1], r.names[2]],
    [...lstm.outputs],
    attributes,
    MS_DOMAIN,
    lstm.name,
  );
  edit.replaceNode(lstm, [node]);
  edit.importDomain(MS_DOMAIN, 1);
  const withLstm = finishEdit(edit, 'quantize');
  w.record.node = r.record.node = node.name;

  // the word table and the MLP: the BERT quantizers, on targets read off the graph
  const table = tableTarget(withLstm);
  const targets = [...matmulTargets(withLstm), ...(table ? [table] : [])];
  const plan = new Map<string, Assignment>();
  for (const t of targets) {
    if (t.kind === 'linear') plan.set(t.id, { format: 'integer', scheme: { kind: 'int8', granularity: int8Granularity(o), reduceRange: o.reduceRange } });
    else if (t.kind === 'embedding')
      plan.set(
        t.id,
        o.embeddings
          ? { format: 'integer', scheme: { kind: 'int8', granularity: o.perChannel ? { kind: 'channel' } : { kind: 'tensor' }, reduceRange: false } }
          : { format: 'float', reason: 'kept float by the setting embeddings: false, flag --no-quantize-embeddings' },
      );
  }
  const result = applyPlan(withLstm, targets, plan, o);
  result.quantized.unshift(w.record, r.record);
  return { model: result.model, report: quantizeReport(o, model, result) };
}
