/**
 * The one place that finds which inputs of a model carry the token ids, the attention mask (1 = token, 0 = padding)
 * and the token types, and builds their feeds. Compression, its run check, calibration, benchmarks, evaluation and
 * the teachers of distillation all feed models through here, so a model that can be compressed can be evaluated.
 *
 * Roles come from discovery when it reads the graph: it tells the inputs apart by dataflow (the word-embedding
 * lookup, the token-type lookup, what the attention scores are masked with), so any names work (`ids`, `mask`,
 * `segment`). A graph discovery does not read (a BiLSTM student, a masked-LM) is fed by the input names BERT-family
 * exporters use. An opened session is fed by those names too, and when one is not known the session's graph is
 * read and discovery decides. Only declared inputs are fed (DistilBERT and XLM-R have no token types), one the graph
 * declares and never reads too, by its exporter name (a token_type_ids input of an export computing type 0), each in
 * its declared element type (int64, or int32 for some TensorFlow exports). A graph that takes its position ids as an
 * input (`position_ids`) is fed arange(seq) in each row, or as one row when the input's batch dimension is 1.
 */
import { NotBertError, SettingsError, quotedText } from '../errors.ts';
import { dataTypeName } from '../onnx/dtype.ts';
import { liveValues } from '../onnx/analysis.ts';
import type { Model, ValueInfo } from '../onnx/graph.ts';
import { idFeeds, type IdInput } from '../runtime/feeds.ts';
import type { Feeds, Session } from '../runtime/session.ts';
import { findBert } from './discover.ts';
import type { BertStructure } from './structure.ts';
import { checkModelArg } from '../library-args.ts';

/** What an input carries: token ids, the attention mask, token types (segments) or position ids (0, 1, … seq − 1). */
export type InputRole = 'ids' | 'mask' | 'types' | 'positions';
export type IdElementType = 'int64' | 'int32';

export interface ModelInput {
  readonly name: string;
  readonly role: InputRole;
  readonly elementType: IdElementType;
  /** Fed as one row ([1, seq]) rather than one per row of the batch: a position ids input whose batch dimension is 1. */
  readonly oneRow?: boolean;
  /** Position ids counted as RoBERTa counts them, from this padding_idx (see EncoderInputs.positionPadding); else arange(seq). */
  readonly padding?: number;
  /**
   * Declared and never read (a token_type_ids input of an export that computes type 0 for every token): fed as its
   * role by its exporter name, since onnxruntime refuses a run without every declared input; it changes no output.
   */
  readonly unread?: true;
}

/** A batch of token rows, row-major [batch, seq]; padding has mask 0 and token type 0. */
export interface TokenBatch {
  readonly batch: number;
  readonly seq: number;
  readonly inputIds: BigInt64Array;
  readonly attentionMask: BigInt64Array;
  readonly tokenTypeIds: BigInt64Array;
}

/**
 * The rows a batch runs where the graph fixes its batch size at `rows`: `indices`, then copies of the first filling
 * the batch (their scores or features are dropped by the caller); `indices` themselves where there are `rows` of them
 * or more, or the size is not fixed (undefined).
 */
export function filledRows(indices: readonly number[], rows: number | undefined): number[] {
  return rows !== undefined && indices.length < rows ? [...indices, ...Array<number>(rows - indices.length).fill(indices[0]!)] : [...indices];
}

/** Input names used by BERT-family exporters, by role. */
const ROLE_PATTERNS: ReadonlyArray<[InputRole, RegExp]> = [
  ['ids', /^(input_ids|input_ids:0|input_word_ids|ids)$/i],
  ['mask', /^(attention_mask|attention_mask:0|input_mask|input_mask:0|mask)$/i],
  ['types', /^(token_type_ids|token_type_ids:0|segment_ids|segment_ids:0|input_type_ids)$/i],
  ['positions', /^(position_ids|position_ids:0|pos_ids)$/i],
];

/**
 * The input as fed: one row when it holds position ids and its declared batch dimension is 1 (arange(seq) only:
 * RoBERTa's positions differ by row, and a graph that takes one row of them is refused).
 */
function asFed(input: ModelInput, shape: readonly unknown[] | undefined): ModelInput {
  if (input.role !== 'positions' || shape?.[0] !== 1) return input;
  if (input.padding !== undefined) {
    throw new SettingsError(
      `model input ${quotedText(input.name)} takes one row of position ids (batch dimension 1), but RoBERTa's padding-aware positions differ from row to row`,
    );
  }
  return { ...input, oneRow: true };
}

/** The declared element type as an id type; a SettingsError for anything else. */
function idElementType(name: string, declared: string): IdElementType {
  if (declared !== 'int64' && declared !== 'int32') {
    throw new SettingsError(`model input ${quotedText(name)} has element type ${declared}; expected int64 or int32`);
  }
  return declared;
}

/** The ids input must be among `inputs`. */
function requireIds(inputs: ModelInput[], names: readonly string[]): ModelInput[] {
  if (!inputs.some((i) => i.role === 'ids')) throw new SettingsError(`model has no token ids input (inputs: ${names.join(', ')})`);
  return inputs;
}

/** The role of an input by the names exporters use, or undefined: how a graph discovery does not read is fed. */
export function roleByName(name: string): InputRole | undefined {
  return ROLE_PATTERNS.find(([, re]) => re.test(name))?.[0];
}

/**
 * The encoder inputs of `model`: those `structure` (default: discovery on the model) names, and those no node reads
 * whose exporter name gives a role discovery found no input for (`unread`), in graph order; by exporter names when
 * discovery does not read the graph (position ids there only where no output depends on them). Any other input is
 * refused in one line (unfed), but for `extra`'s, which the caller feeds (head masks a pass added, say).
 */
export function modelInputs(model: Model, structure?: BertStructure, extra: readonly string[] = []): ModelInput[] {
  checkModelArg('modelInputs', model);
  const declared = model.graph.inputs.filter((v) => !model.graph.initializers.has(v.name));
  const typeOf = (name: string): string => {
    const code = declared.find((v) => v.name === name)?.elemType;
    return code === undefined ? 'int64' : dataTypeName(code);
  };
  const found = structure ?? discovered(model);
  // (read for an output: an input only a dead node takes, a Cast whose result nothing reads, is read by none)
  const read = liveValues(model.graph);
  if (!found) {
    refuseUnfed(declared, read, (name) => roleByName(name) !== undefined || extra.includes(name));
    // (position ids no output depends on, a BiLSTM student's declared as the original's: fed arange(seq), which
    // changes nothing, where read ones are refused, as their counting is not known)
    const unreadPositions = (v: ValueInfo): ModelInput | undefined =>
      read.has(v.name) ? undefined : asFed({ name: v.name, role: 'positions', elementType: idElementType(v.name, typeOf(v.name)), unread: true }, v.shape);
    return inputsByName(declared, typeOf, unreadPositions);
  }
  const roles = new Map<string, InputRole>([[found.inputs.inputIds, 'ids']]);
  if (found.inputs.attentionMask) roles.set(found.inputs.attentionMask, 'mask');
  if (found.inputs.tokenTypeIds) roles.set(found.inputs.tokenTypeIds, 'types');
  if (found.inputs.positionIds) roles.set(found.inputs.positionIds, 'positions');
  const padding = found.inputs.positionPadding;
  const unread = unreadRoles(declared, read, new Set(roles.values()));
  refuseUnfed(declared, read, (name) => roles.has(name) || unread.has(name) || extra.includes(name));
  const inputs = declared
    .filter((v) => roles.has(v.name) || unread.has(v.name))
    .map((v): ModelInput => {
      const role = roles.get(v.name);
      if (!role) return asFed({ name: v.name, role: unread.get(v.name)!, elementType: idElementType(v.name, typeOf(v.name)), unread: true }, v.shape);
      const input: ModelInput = { name: v.name, role, elementType: idElementType(v.name, typeOf(v.name)) };
      return asFed(role === 'positions' && padding !== undefined ? { ...input, padding } : input, v.shape);
    });
  return requireIds(
    inputs,
    declared.map((v) => v.name),
  );
}

/**
 * The declared inputs no output depends on (no node reads them, or only dead nodes do: liveValues) whose exporter
 * name gives a role not among `found`, by name, one per role: what the graph declares and ignores (a token_type_ids
 * input kept by an export whose graph computes type 0 for every token in its place).
 */
function unreadRoles(declared: readonly { name: string }[], read: ReadonlySet<string>, found: ReadonlySet<InputRole>): Map<string, InputRole> {
  const taken = new Set(found);
  const unread = new Map<string, InputRole>();
  for (const { name } of declared) {
    const role = roleByName(name);
    if (role === undefined || taken.has(role) || read.has(name)) continue;
    taken.add(role);
    unread.set(name, role);
  }
  return unread;
}

/**
 * Refuses a declared input that is not `fed` (a special_tokens_mask an export kept, a second token types input):
 * onnxruntime runs a graph only with every declared input fed, and nothing tells what to feed it. One line, the same
 * in every command that feeds the model, saying whether an output depends on it (`read`: liveValues).
 */
function refuseUnfed(declared: readonly { name: string }[], read: ReadonlySet<string>, fed: (name: string) => boolean): void {
  const other = declared.find((v) => !fed(v.name));
  if (!other) return;
  const name = other.name;
  const feeds = 'bert-compress feeds only token ids, an attention mask, token types and position ids, one input each';
  throw new SettingsError(
    read.has(name)
      ? `model input ${quotedText(name)} is read by the graph, and ${feeds}: export a model that does not read ${quotedText(name)}`
      : `model input ${quotedText(name)} is declared and never read (no output depends on it), and ${feeds}: export the model without ${quotedText(name)}`,
  );
}

/**
 * The encoder inputs of an opened session, by exporter names. When a name is not one of those, `graph` (the
 * session's model, read only then) is discovered instead (or `structure`, when the caller already discovered it);
 * without it, a SettingsError.
 */
export function sessionInputs(session: Pick<Session, 'inputNames' | 'inputTypes'>, graph?: () => Model, structure?: BertStructure): ModelInput[] {
  if (!graph || fedByNames(session))
    return inputsByName(
      session.inputNames.map((name) => ({ name })),
      (n) => session.inputTypes[n] ?? 'int64',
    );
  const inputs = modelInputs(graph(), structure);
  const missing = session.inputNames.find((n) => !inputs.some((i) => i.name === n));
  if (missing !== undefined) throw notFillable(missing);
  return inputs;
}

/**
 * Whether sessionInputs feeds the session by its input names alone, reading no graph: each is a name exporters use,
 * other than position ids (how they count, and their batch dimension, are read from the graph).
 */
export function fedByNames(session: Pick<Session, 'inputNames'>): boolean {
  return session.inputNames.every((n) => roleByName(n) && roleByName(n) !== 'positions');
}

/**
 * Inputs by their names alone; position ids are refused (only discovery tells whether they count as BERT's or
 * RoBERTa's), unless `unreadPositions` gives the input as one no output depends on.
 */
function inputsByName(
  declared: readonly Pick<ValueInfo, 'name' | 'shape'>[],
  typeOf: (name: string) => string,
  unreadPositions?: (v: Pick<ValueInfo, 'name' | 'shape'>) => ModelInput | undefined,
): ModelInput[] {
  const names = declared.map((v) => v.name);
  const inputs = declared.map((v): ModelInput => {
    const name = v.name;
    const role = roleByName(name);
    if (!role) throw notFillable(name);
    if (role === 'positions') {
      const unread = unreadPositions?.(v);
      if (unread) return unread;
      throw new SettingsError(
        `model input ${quotedText(name)} takes position ids, and without reading the graph as a BERT-family encoder nothing tells whether they are BERT's arange(seq) or RoBERTa's padding-aware positions`,
      );
    }
    return { name, role, elementType: idElementType(name, typeOf(name)) };
  });
  return requireIds(inputs, names);
}

function notFillable(name: string): SettingsError {
  return new SettingsError(`model input ${quotedText(name)} is not one the encoder reads as token ids, attention mask, token types or position ids`);
}

/**
 * The graph input holding the token ids: discovery's (`structure`), else the one named as exporters name it
 * (`input_ids`, `input_word_ids`, …); undefined when none is.
 */
export function idsInputName(model: Model, structure: BertStructure | undefined): string | undefined {
  return structure?.inputs.inputIds ?? model.graph.inputs.find((v) => !model.graph.initializers.has(v.name) && roleByName(v.name) === 'ids')?.name;
}

/** Discovery's structure, or undefined for a graph it does not read. */
export function discovered(model: Model): BertStructure | undefined {
  try {
    return findBert(model);
  } catch (e) {
    if (e instanceof NotBertError) return undefined;
    throw e;
  }
}

/**
 * Position ids of `rows` rows of `batch`: 0 … seq − 1 in each, or with `padding` RoBERTa's (Hugging Face's
 * create_position_ids_from_input_ids): padding + the count of non-padding ids up to and including each token, and
 * `padding` at padding ids.
 */
function positionIds(batch: TokenBatch, rows: number, padding?: number): BigInt64Array {
  const { seq, inputIds } = batch;
  const out = new BigInt64Array(rows * seq);
  for (let r = 0; r < rows; r++) {
    let count = 0;
    for (let t = 0; t < seq; t++) {
      const at = r * seq + t;
      if (padding === undefined) out[at] = BigInt(t);
      else out[at] = BigInt(inputIds[at] === BigInt(padding) ? padding : padding + ++count);
    }
  }
  return out;
}

/** Each input with its values from `batch`, as [batch, seq] id tensors to be ([1, seq] for one-row position ids). */
export function tokenInputs(inputs: readonly ModelInput[], batch: TokenBatch): IdInput[] {
  return inputs.map((i) => {
    const rows = i.oneRow ? 1 : batch.batch;
    const values =
      i.role === 'ids'
        ? batch.inputIds
        : i.role === 'mask'
          ? batch.attentionMask
          : i.role === 'types'
            ? batch.tokenTypeIds
            : positionIds(batch, rows, i.padding);
    return { name: i.name, type: i.elementType, dims: [rows, batch.seq], values };
  });
}

/** The feeds of `batch` for `inputs`: one [batch, seq] tensor per input, in its element type. */
export function tokenFeeds(inputs: readonly ModelInput[], batch: TokenBatch): Feeds {
  return idFeeds(tokenInputs(inputs, batch));
}
