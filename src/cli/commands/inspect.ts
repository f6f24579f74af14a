/** `compress inspect MODEL [--json]`: what the model is and where its parameters and bytes are. */
import { inlineLocalFunctions } from '../../onnx/inline.ts';
import type { Argv } from 'yargs';
import { loadModel } from '../../onnx/load.ts';
import { type GraphReport, inspectGraph, inspectModel, type InspectReport } from '../../bert/inspect.ts';
import { counted, groupedDigits, NotBertError, quotedText } from '../../errors.ts';
import { NO_LAYERS } from '../../bert/discover.ts';
import { checkDtypeName, describeDtype, locateRunModel } from '../../eval/model-files.ts';
import { out, type CliCommand } from '../command.ts';
import { localModel } from '../model-ref.ts';
import { formatMB } from '../../units.ts';

interface InspectArgs {
  model: string;
  json: boolean;
  dtype?: string;
}

const num = groupedDigits;
const shape = (s: InspectReport['inputs'][number]['shape']) => (s ? `[${s.map((d) => d ?? '?').join(', ')}]` : '?');

/** The compressed forms the model already has: a factorized embedding, shared layers. */
function compressedForm(r: InspectReport): string[] {
  const lines: string[] = [];
  if (r.embeddingSize !== null) lines.push(`  factorized embedding: width ${r.embeddingSize}, projected to ${r.hiddenSize}`);
  const groups = new Set(r.layerGroups).size;
  if (groups < r.layerGroups.length)
    lines.push(`  shared layers: ${r.layerGroups.length} layers read ${counted(groups, 'weight group')} [${r.layerGroups.join(', ')}]`);
  return lines;
}

/** The lines every report starts with: the model, who wrote it (after `exporter`), opsets, inputs and outputs. */
function headerLines(r: GraphReport | InspectReport, exporter = ''): string[] {
  const io = (list: GraphReport['inputs']) => list.map((i) => `${i.name} ${i.type}${shape(i.shape)}`).join(', ');
  const opsets = Object.entries(r.opsets)
    .map(([d, v]) => `${d} ${v}`)
    .join(', ');
  return [
    `${r.model}`,
    `  ${exporter}producer ${quotedText(r.producer)}, IR ${r.irVersion}, opsets ${opsets}`,
    `  inputs  ${io(r.inputs)}`,
    `  outputs ${io(r.outputs)}`,
  ];
}

/** One count when every layer has it, else the range ('1–5') of counts that differ between layers. */
function perLayer(counts: readonly number[]): string {
  if (!counts.length) return '0';
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}

/** perLayer's counts with `noun`, counted ('1 head', '12 heads', '1–5 heads'). */
function perLayerCounted(counts: readonly number[], noun: string): string {
  const lo = Math.min(...counts);
  return counts.length > 0 && counts.every((c) => c === lo) ? counted(lo, noun) : `${perLayer(counts)} ${noun}s`;
}

export function formatInspect(r: InspectReport): string {
  const lines = [
    ...headerLines(r, `exporter ${r.exporter} (${r.family}), `),
    `  ${counted(r.numLayers, 'layer')} × ${perLayerCounted(
      r.layers.map((l) => l.numHeads),
      'head',
    )}, hidden ${r.hiddenSize}, FFN ${perLayer(r.layers.map((l) => l.intermediateSize))}, vocab ${r.vocabSize}` +
      (r.maxPositions ? `, ${r.maxPositions} positions` : '') +
      (r.typeVocabSize ? `, ${counted(r.typeVocabSize, 'token type')}` : '') +
      (r.head ? `; head: ${r.head.kind} (${counted(r.head.numLabels, 'output')})` : ''),
    `  parameters ${num(r.params)}, weights ${formatMB(r.bytes)}${r.floatWeights ? ` (stored ${r.floatWeights})` : ''}`,
    ...compressedForm(r),
    ...(r.inputsProblem === undefined ? [] : [`  inputs: no command can run it: ${r.inputsProblem}`]),
    '',
    `  ${'component'.padEnd(22)}${'params'.padStart(14)}${'bytes'.padStart(14)}`,
  ];
  const row = (name: string, s: { params: number; bytes: number; weights?: string }, note = '') => {
    const stored = s.weights && s.weights !== 'float' ? `weights ${s.weights}` : '';
    const notes = [note, stored].filter(Boolean).join('; ');
    lines.push(`  ${name.padEnd(22)}${num(s.params).padStart(14)}${num(s.bytes).padStart(14)}${notes ? `   ${notes}` : ''}`);
  };
  row('embeddings', r.components.embeddings);
  for (const l of r.layers) {
    row(
      `layer ${l.index} attention`,
      l.attention,
      l.attentionKind === 'none'
        ? 'no attention (all heads pruned)'
        : `${counted(l.numHeads, 'head')} × ${l.headSize}${l.attentionKind === 'fused' ? ' (fused)' : ''}`,
    );
    row(`layer ${l.index} ffn`, l.ffn, `${l.intermediateSize} ${l.activation}`);
  }
  if (r.components.pooler) row('pooler', r.components.pooler);
  if (r.components.head) row('head', r.components.head);
  if (r.components.other.bytes) row('other', r.components.other);
  lines.push("  (a layer's rows include each block's LayerNorm; a shared weight counts once, in the first layer that reads it)");
  return lines.join('\n');
}

/**
 * What the passes do with a recurrent model (src/bert/recurrent.ts recurrentModelLstm: one LSTM, no attention): a
 * float one takes quantize int8, an int8 one (DynamicQuantizeLSTM) none; '' for any other graph.
 */
function recurrentNote(r: GraphReport): string {
  if (r.recurrent === undefined) return '';
  return r.recurrent === 'LSTM'
    ? ', except quantize int8 (a recurrent model: a Distilled BiLSTM student)'
    : ' (a recurrent model, a Distilled BiLSTM student, stored in int8 already)';
}

/** A graph that is not a BERT-family encoder: what it is, and that the passes do not apply. */
export function formatGraph(r: GraphReport): string {
  return [
    ...headerLines(r),
    `  parameters ${num(r.params)}, weights ${formatMB(r.bytes)}`,
    `  operators ${Object.entries(r.operators)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ')}`,
    r.inputsProblem === undefined
      ? r.notBert.endsWith(NO_LAYERS)
        ? `  discovery: ${r.notBert}`
        : `  discovery: ${r.notBert}; the compression passes need one${recurrentNote(r)} (eval and bench run any classifier)`
      : `  discovery: ${r.notBert}; the compression passes need one, and eval and bench cannot run it either: ${r.inputsProblem}`,
  ].join('\n');
}

export const inspectCommand: CliCommand<InspectArgs> = {
  command: 'inspect <model>',
  describe: 'Show exporter, opset, inputs/outputs, layers, heads and parameters/bytes per component',
  builder: (y: Argv) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'ONNX file, model folder or hf:org/name[@revision]' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .option('dtype', {
        type: 'string',
        describe:
          "a transformers.js folder's model file by dtype: fp32 (onnx/model.onnx), q8 (onnx/model_quantized.onnx), q4 (onnx/model_q4.onnx)… (default, and auto: config.json's transformers.js_config dtype, else fp32, as transformers.js loads it on the CPU, and as eval and bench pick it)",
      }) as unknown as Argv<InspectArgs>,
  run: async (args) => {
    checkDtypeName(args.dtype); // (before an hf: model's download)
    const where = locateRunModel(await localModel(args.model), args.dtype);
    if (!args.json && where.transformersJs) out(`inspected ${where.onnx}${describeDtype(where)}`);
    const model = inlineLocalFunctions(loadModel(where.onnx));
    let report: InspectReport | GraphReport;
    try {
      report = inspectModel(model, where.onnx);
    } catch (e) {
      if (!(e instanceof NotBertError)) throw e;
      report = inspectGraph(model, where.onnx, e.message);
    }
    out(args.json ? JSON.stringify(report, null, 2) : 'notBert' in report ? formatGraph(report) : formatInspect(report));
    return 0;
  },
};
