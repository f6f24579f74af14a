/**
 * The inputs and outputs of the model training writes, kept to the original's (the student model's, else the teacher's
 * a student was made from), so that it drops in where the original ran. Training runs a rebuilt graph whose inputs
 * are int64 `input_ids`, `attention_mask` (and `token_type_ids`) of dynamic axes and whose scores are `logits`; the
 * model written takes:
 * - the batch size and sequence length the original fixes (a static-shape export at [1, 128], a keras export's fixed
 *   length), in its inputs and outputs; a dimension the original leaves dynamic stays dynamic;
 * - the original's input names, in its order, and its int32 element type where it has one (a TensorFlow export's),
 *   read through a Cast to int64;
 * - the name of the original's scores output (keras2onnx's `output_1`).
 * The rebuild takes token types as an input only where the original reads them (one that reads none computes type 0
 * for every token, and so does the rebuild: ExtendedBertConfig.zeroTokenTypes); an input the original declares and
 * never reads (`ModelInput.unread`: token_type_ids of an export computing zeros) is declared unread in the model
 * written too, so that what feeds the original (transformers.js feeds every declared input its tokenizer returns,
 * onnxruntime refuses a feed the model does not declare) feeds it. A BiLSTM student
 * (`fedByName`: a graph discovery does not read, fed by its input names) keeps the original's interface too: the fixed
 * sizes, int32 element types and the scores output's name, and the original's inputs where their names are names
 * exporters use (what eval and bench feed such a graph by), those it does not read (token types, position ids)
 * declared unread.
 */
import { attr } from '../bert/build-graph.ts';
import { findBert } from '../bert/discover.ts';
import type { BertStructure } from '../bert/structure.ts';
import { discovered, modelInputs, roleByName, type ModelInput } from '../bert/model-inputs.ts';
import { SettingsError, quotedText } from '../errors.ts';
import { pruneGraph, uniqueName } from '../onnx/analysis.ts';
import { DataType } from '../onnx/dtype.ts';
import type { Dim, Model, Node, ValueInfo } from '../onnx/graph.ts';

/**
 * What the model written takes of the original: the batch size and sequence length its token ids input fixes
 * (undefined where dynamic), its encoder inputs (names, roles, element types, in graph order) and its scores output.
 * Read before training, so that a graph whose inputs cannot be read is refused before any step, not after the last.
 */
export interface OriginalIo {
  batch?: number;
  seq?: number;
  inputs: ModelInput[];
  /** The classifier's scores output (null: none, or not a sequence classifier). */
  scores: string | null;
}

/** The inputs and outputs of `original` the model written keeps (see OriginalIo); `structure`: its discovered one, where the caller has it. */
export function originalIo(original: Model, structure: BertStructure | undefined = discovered(original)): OriginalIo {
  const inputs = modelInputs(original, structure);
  const ids = inputs.find((i) => i.role === 'ids');
  const dims = original.graph.inputs.find((v) => v.name === ids?.name)?.shape;
  const fixed = (d: Dim | undefined) => (typeof d === 'number' && d > 0 ? d : undefined);
  const batch = dims?.length === 2 ? fixed(dims[0]) : undefined;
  const seq = dims?.length === 2 ? fixed(dims[1]) : undefined;
  // (a classifier's one output; not a bare encoder's, whose pooler output a new classifier does not replace; a graph
  // discovery does not read, a BiLSTM student trained again, has its scores as its one output)
  const head = structure?.head;
  const outputs = original.graph.outputs;
  const scores = structure
    ? head?.kind === 'sequence-classification' && head.outputs.length === 1
      ? head.outputs[0]!
      : null
    : outputs.length === 1
      ? outputs[0]!.name
      : null;
  return { ...(batch !== undefined ? { batch } : {}), ...(seq !== undefined ? { seq } : {}), inputs, scores };
}

/**
 * The graph outputs of `original` beside its classifier's scores (an export's hidden states or attentions), which the
 * model written does not have: training rebuilds the classifier, whose one output is its scores; none where the
 * original has no scores output originalIo reads.
 */
export function outputsBesideScores(original: Model, structure?: BertStructure): string[] {
  const { scores } = originalIo(original, structure);
  return scores === null ? [] : original.graph.outputs.map((v) => v.name).filter((name) => name !== scores);
}

/**
 * `written` (the graph training built) with the inputs and outputs of the original (see the module comment); changed in
 * place. `fedByName`: `written` is a graph discovery does not read (a BiLSTM student).
 */
export function withOriginalIo(written: Model, original: OriginalIo, opts: { fedByName?: boolean } = {}): Model {
  if (!opts.fedByName) withPositionsInput(written, original);
  withOriginalShape(written, original);
  withOriginalNames(written, opts.fedByName ? { ...original, inputs: original.inputs.filter((i) => roleByName(i.name) === i.role) } : original);
  return written;
}

/**
 * `written` reading its position ids from a graph input where the original takes them as one (the rebuild computes
 * them; fed the same way, they are the same values): int64 [batch, seq] named as the rebuild's token ids input names
 * its dimensions ([1, seq] where the original takes one row), read by the position lookup in place of what the
 * rebuild computes. Renamed and typed as the original's with the other inputs.
 */
function withPositionsInput(written: Model, original: OriginalIo): void {
  const o = original.inputs.find((i) => i.role === 'positions' && !i.unread);
  const g = written.graph;
  if (!o) return;
  const s = findBert(written);
  if (s.inputs.positionIds) return;
  const gather = g.nodes.find((n) => n.name === s.embeddings.position?.gather);
  const ids = g.inputs.find((v) => v.name === s.inputs.inputIds);
  if (!gather || !ids?.shape || ids.shape.length !== 2)
    throw new SettingsError(
      `cannot give the model written a position ids input ${quotedText(o.name)} as the original's (no position lookup reads computed positions)`,
    );
  const name = uniqueName(g, 'position_ids');
  gather.inputs[1] = name;
  g.inputs.push({ name, elemType: DataType.INT64, shape: [o.oneRow ? 1 : ids.shape[0]!, ids.shape[1]!] });
  pruneGraph(g);
}

/**
 * `written` with the batch size and sequence length the original fixes: the symbols its inputs name for the batch and
 * sequence dimensions replaced by those sizes wherever a graph input, output or value_info names them.
 */
function withOriginalShape(written: Model, { batch, seq }: OriginalIo): void {
  if (batch === undefined && seq === undefined) return;
  const sizes = new Map<string, number>();
  for (const input of written.graph.inputs) {
    const dims = input.shape;
    if (dims?.length !== 2) continue;
    if (batch !== undefined && typeof dims[0] === 'string') sizes.set(dims[0], batch);
    if (seq !== undefined && typeof dims[1] === 'string') sizes.set(dims[1], seq);
  }
  const fix = (v: ValueInfo) => {
    if (v.shape) v.shape = v.shape.map((d) => (typeof d === 'string' ? (sizes.get(d) ?? d) : d));
  };
  written.graph.inputs.forEach(fix);
  written.graph.outputs.forEach(fix);
  written.graph.valueInfo.forEach(fix);
}

/**
 * `written` with `original`'s input names (in its order) and int32 element types, and its scores output's name.
 * Left as it is where a name the original uses is already a value of the written graph (other than the inputs
 * renamed), which renaming would join to it.
 */
function withOriginalNames(written: Model, original: OriginalIo): void {
  const g = written.graph;
  const own = modelInputs(written);
  const pairs = original.inputs.flatMap((o) => {
    const w = own.find((i) => i.role === o.role);
    return w ? [{ o, w }] : [];
  });
  const taken = new Set<string>([...g.initializers.keys(), ...g.inputs.map((v) => v.name), ...g.nodes.flatMap((n) => n.outputs)]);
  for (const { w } of pairs) taken.delete(w.name);
  // (an input of the original the written graph has no input for: declared, unread. One the original never reads
  // (ModelInput.unread), or one a BiLSTM student does not read: its token types, its position ids)
  const unread = original.inputs.filter((o) => !pairs.some((p) => p.o === o));
  const names = [...pairs, ...unread.map((o) => ({ o }))].map(({ o }) => o.name);
  if (names.some((n) => taken.has(n))) return;
  const int32 = pairs.filter(({ o, w }) => o.elementType === 'int32' && w.elementType === 'int64');
  // (the Casts' outputs: the rebuilt graph's own names where no input takes them, else names of their own)
  const used = new Set([...taken, ...names]);
  const castOutput = new Map(int32.map(({ w }) => [w.name, unusedName(w.name, used)]));
  const inGraph = new Map<string, string>(pairs.map(({ o, w }) => [w.name, castOutput.get(w.name) ?? o.name]));
  for (const n of g.nodes) n.inputs = n.inputs.map((v) => inGraph.get(v) ?? v);
  for (const v of g.valueInfo) v.name = inGraph.get(v.name) ?? v.name;
  const casts: Node[] = int32.map(({ o, w }) => ({
    name: `${o.name}_to_int64`,
    opType: 'Cast',
    domain: '',
    inputs: [o.name],
    outputs: [castOutput.get(w.name)!],
    attributes: { to: attr.int(DataType.INT64) },
  }));
  g.nodes.unshift(...casts);
  const declared = new Map(g.inputs.map((v) => [v.name, v]));
  // (an unread input at the token ids' [batch, seq], or [1, seq] where the original's batch dimension is 1)
  const ids = declared.get(own.find((i) => i.role === 'ids')!.name)?.shape;
  const unreadShape = (o: ModelInput) => (ids?.length === 2 ? { shape: o.oneRow ? [1, ids[1]!] : [...ids] } : {});
  const renamed: ValueInfo[] = original.inputs.flatMap((o): ValueInfo[] => {
    const w = pairs.find((p) => p.o === o)?.w;
    const elemType = o.elementType === 'int32' ? DataType.INT32 : DataType.INT64;
    if (!w) return unread.includes(o) ? [{ name: o.name, elemType, ...unreadShape(o) }] : [];
    return [{ ...declared.get(w.name)!, name: o.name, ...(int32.some((p) => p.w === w) ? { elemType: DataType.INT32 } : {}) }];
  });
  g.inputs = [...renamed, ...g.inputs.filter((v) => !pairs.some(({ w }) => w.name === v.name))];
  // the scores output, under the original's name (a classifier's one output)
  const scores = original.scores;
  const out = g.outputs.length === 1 ? g.outputs[0] : undefined;
  if (!out || scores === null || scores === out.name || taken.has(scores) || names.includes(scores)) return;
  for (const n of g.nodes) n.outputs = n.outputs.map((v) => (v === out.name ? scores : v));
  out.name = scores;
}

/** `name` if not in `used`, else the first of `name_int64`, `name_int64_2`, … that is not; added to `used`. */
function unusedName(name: string, used: Set<string>): string {
  let candidate = name;
  for (let k = 1; used.has(candidate); k++) candidate = `${name}_int64${k === 1 ? '' : `_${k}`}`;
  used.add(candidate);
  return candidate;
}
