/**
 * What evaluation checks against a model's graph before running it, so that a mismatch is one line naming its
 * cause instead of an onnxruntime stack trace or a misleading count: the maximum length against the position table
 * (or the length a keras export fixes), the token ids and types a tokenizer produced against the embedding tables,
 * and config.json's label count against the scores output's width.
 */
import { dirname, join } from 'node:path';
import { otherHeadClass } from '../bert/classifier.ts';
import { inputLimits, sequenceProblem, type InputLimits } from '../bert/input-limits.ts';
import { discovered, idsInputName, roleByName } from '../bert/model-inputs.ts';
import { idTableRows } from '../bert/sample-inputs.ts';
import type { BertStructure } from '../bert/structure.ts';
import { checkIntegerFlag, counted, DataError, SettingsError, shownFlagValue } from '../errors.ts';
import type { Dim, Model } from '../onnx/graph.ts';
import type { GraphInterface } from '../onnx/load.ts';
import { labelCountSource } from './labels.ts';
import type { ModelConfig } from './model-files.ts';
import { HIDDEN_STATE_NAME } from './predict.ts';
import type { TextTokenizer } from './tokenizer.ts';

/** What the checks read from a graph. */
export interface GraphFacts {
  /** Input limits; null when discovery does not read the graph and it looks its ids up in no table (undiscoveredLimits). */
  limits: InputLimits | null;
  /** Scores per example of the scores output (see scoresOutput) when its shape is static. */
  scoreWidth: number | null;
  /** The scores output (see scoresOutput); null when no output can hold scores, undefined when the graph was not read. */
  scoresName?: string | null;
  /**
   * The batch size the graph's inputs fix (an export without a dynamic batch axis); null when dynamic or unknown. Read
   * from the token ids input, discovery's or, in a graph it does not read (a BiLSTM), the one exporters name so.
   */
  fixedBatch: number | null;
  /** The sequence length the graph's inputs fix, read as fixedBatch is; null when dynamic or unknown. */
  fixedSequence: number | null;
  /** Discovery's structure of the graph (undefined when it does not read it), for later uses of the same graph. */
  structure?: BertStructure;
}

/** The facts of `model` (see GraphFacts); `found`: its discovered structure, where the caller has it. */
export function graphFacts(model: Model, found?: BertStructure): GraphFacts {
  const structure = found ?? discovered(model);
  const ids = idsInputName(model, structure);
  const declared = declaredFacts(model.graph, ids, headScoresOutput(model, structure));
  return { ...declared, limits: structure ? inputLimits(model, structure) : undiscoveredLimits(model, ids, declared.fixedSequence), structure };
}

/**
 * The limits a run's length is chosen and checked against and its batches padded to (evaluation's, calibration's):
 * `facts.limits`, else, for a graph discovery does not read whose ids look up no table, the length its inputs fix
 * alone (GraphFacts.fixedSequence); null where neither is known.
 */
export function lengthLimits(facts: Pick<GraphFacts, 'limits' | 'fixedSequence'>): Pick<InputLimits, 'fixedSequence' | 'maxSequence'> | null {
  return facts.limits ?? (facts.fixedSequence !== null ? { fixedSequence: facts.fixedSequence, maxSequence: null } : null);
}

/**
 * The input limits of a graph discovery does not read (a Distilled BiLSTM: recurrentModelLstm, or any other ONNX
 * classifier): token ids below the rows of the tables it looks them up in (idTableRows: the float word table, or the
 * int8 one and its scales), token types likewise where its token types input (by exporter name) looks up a table, no
 * positions known, the length its inputs fix; null where no table is looked up with the ids.
 */
function undiscoveredLimits(model: Model, ids: string | undefined, fixedSequence: number | null): InputLimits | null {
  const rows = ids === undefined ? undefined : idTableRows(model, ids);
  if (rows === undefined) return null;
  const types = model.graph.inputs.find((v) => !model.graph.initializers.has(v.name) && roleByName(v.name) === 'types')?.name;
  const typeRows = types === undefined ? undefined : idTableRows(model, types);
  return { vocabSize: rows, typeVocabSize: typeRows ?? null, maxSequence: null, fixedSequence };
}

/**
 * The facts of a graph whose inputs are fed by the names exporters use (sessionInputs without a graph), read from the
 * inputs and outputs it declares alone (graphInterface: not its nodes or weights); no limits (nothing is discovered).
 */
export function interfaceFacts(io: GraphInterface): GraphFacts {
  return { ...declaredFacts(io, io.inputs.find((v) => roleByName(v.name) === 'ids')?.name), limits: null };
}

/**
 * The scores output of a sequence classifier whose head discovery found (its one graph output, and its width from
 * that output's shape, else the head's label count); undefined for any other graph. Discovery's answer wins over
 * scoresOutput's reading of names and shapes, which takes a hidden-states output declared without a shape and not
 * named as one (outputs [output_0, output_1]) for the scores.
 */
function headScoresOutput(model: Model, structure: BertStructure | undefined): { name: string; width: number } | undefined {
  const head = structure?.head;
  if (head?.kind !== 'sequence-classification' || head.outputs.length !== 1) return undefined;
  const output = model.graph.outputs.find((o) => o.name === head.outputs[0]);
  if (!output) return undefined;
  return { name: output.name, width: scoresOutput({ graph: { outputs: [output] } }).width ?? head.numLabels };
}

/**
 * Whether `model`'s graph shows a sequence classifier by itself: discovery's head is one (one output), that output is
 * declared [batch, k] with k the head's label count, and the token ids input is [batch, sequence]. A multiple-choice
 * export's head looks like a one-label classifier, but its ids are [batch, choices, sequence] and its scores
 * [batch, choices]; config.json's `architectures` then says which it is.
 */
export function showsSequenceClassifier(model: Model, structure: BertStructure | undefined): boolean {
  const head = structure?.head;
  if (head?.kind !== 'sequence-classification' || head.outputs.length !== 1) return false;
  const shape = model.graph.outputs.find((o) => o.name === head.outputs[0])?.shape;
  const ids = model.graph.inputs.find((v) => v.name === idsInputName(model, structure))?.shape;
  return shape?.length === 2 && shape[1] === head.numLabels && ids?.length === 2;
}

/**
 * The class config.json's `architectures` names (otherHeadClass: BertForMultipleChoice, …ForMaskedLM…) when its head
 * is not a sequence classifier and `model`'s graph (undefined: not read) does not show one by itself
 * (showsSequenceClassifier: then the graph wins over a stale class name); undefined otherwise.
 */
export function namedOtherHead(architectures: unknown, model: Model | undefined, structure?: BertStructure): { name: string; head: string } | undefined {
  const other = otherHeadClass(architectures);
  if (!other || (model && showsSequenceClassifier(model, structure ?? discovered(model)))) return undefined;
  return other;
}

/** 'FILE: architectures names BertForMultipleChoice, a multiple-choice head (…), not a sequence classifier' (namedOtherHead's class). */
export function otherHeadLine(file: string, other: { name: string; head: string }): string {
  return `${file}: architectures names ${other.name}, ${other.head}, not a sequence classifier`;
}

/**
 * The scores output (`head`'s when discovery found it, else scoresOutput's), and the batch size and sequence length
 * the token ids input `ids` fixes.
 */
function declaredFacts(io: GraphInterface, ids: string | undefined, head?: { name: string; width: number }): Omit<GraphFacts, 'limits' | 'structure'> {
  const scores = head ?? scoresOutput({ graph: io });
  const dims = io.inputs.find((v) => v.name === ids)?.shape;
  const fixed = (d: Dim | undefined) => (typeof d === 'number' && d > 0 ? d : null);
  return { scoreWidth: scores.width, scoresName: scores.name, fixedBatch: fixed(dims?.[0]), fixedSequence: fixed(dims?.[1]) };
}

/** An output's shape can hold scores: [batch], [batch, k] or unknown (not an encoder's [batch, seq, hidden]). */
const scoreShaped = (o: Model['graph']['outputs'][number]) => !o.shape || o.shape.length === 1 || o.shape.length === 2;

/**
 * The output holding the class scores and its scores per example (1 for [batch], k for a static [batch, k]; null
 * otherwise): `logits`, else the first output shaped [batch] or [batch, k] that is not named as a hidden state or the
 * pooler's output (a graph exported with outputs [last_hidden_state, logits] under other names, or [pooler_output,
 * output_1]); predict's `scoresOutputName` by names alone. `name` is null when no output can hold scores.
 */
export function scoresOutput(model: { graph: Pick<Model['graph'], 'outputs'> }): { name: string | null; width: number | null } {
  const outs = model.graph.outputs;
  const out = outs.find((o) => o.name === 'logits') ?? outs.find((o) => scoreShaped(o) && !HIDDEN_STATE_NAME.test(o.name));
  const dims = out?.shape;
  const last = dims?.[dims.length - 1];
  const width = dims?.length === 1 ? 1 : dims && dims.length === 2 && typeof last === 'number' && last > 0 ? last : null;
  return { name: out?.name ?? null, width };
}

/** The outputs of `model` with their shapes, for a line saying none of them holds scores. */
export function outputsLine(model: Model): string {
  return model.graph.outputs.map((o) => `${o.name} [${(o.shape ?? ['?']).join(', ')}]`).join(', ');
}

/**
 * The maximum length to evaluate with, unchecked: the one asked (`--max-length`), else config.json's `max_length`,
 * else the length the graph fixes, else `fallback` (128) or the position table's size if smaller.
 */
export function evalLength(
  asked: number | undefined,
  config: Pick<ModelConfig, 'maxLength'>,
  limits: Pick<InputLimits, 'fixedSequence' | 'maxSequence'> | null,
  fallback: number,
): number {
  return asked ?? config.maxLength ?? limits?.fixedSequence ?? Math.min(fallback, limits?.maxSequence ?? fallback);
}

/**
 * Refuses a --max-length (a sequence length asked for) below 2, which leaves no token of text between [CLS] and [SEP]:
 * the same check for eval, train, distill and compress --calibrate (and a sweep's maxLength), before any file is read.
 */
export function checkMaxLength(maxLength: number | undefined): void {
  if (maxLength !== undefined) checkIntegerFlag('--max-length', maxLength, MAX_LENGTH_RANGE.min);
}

/** What a --max-length takes: an integer from 2 ([CLS], a token of text, [SEP]). */
export const MAX_LENGTH_RANGE = { min: 2 } as const;

/**
 * The maximum length to evaluate with (evalLength). A length the graph cannot take is a SettingsError naming where
 * it came from (config.json's `max_length`: with the --max-length the graph takes); `asked` is checked as every
 * --max-length is (checkMaxLength), config.json's where it is read (parseModelConfig).
 */
export function chooseMaxLength(
  asked: number | undefined,
  config: ModelConfig,
  limits: Pick<InputLimits, 'fixedSequence' | 'maxSequence'> | null,
  fallback: number,
  model: string,
): number {
  checkMaxLength(asked);
  const fromConfig = asked === undefined && config.maxLength !== null;
  const length = evalLength(asked, config, limits, fallback);
  const what = fromConfig ? `${config.file}: max_length ${length}` : `--max-length ${shownFlagValue('--max-length', length)}`;
  const problem = limits ? sequenceProblem(length, limits, what) : undefined;
  // (config.json's length, not asked for: say how to ask for one the model takes)
  const most = Math.min(limits?.fixedSequence ?? Infinity, limits?.maxSequence ?? Infinity);
  if (problem) throw new SettingsError(`${model}: ${problem}${fromConfig ? `; give --max-length ${most} or less` : ''}`);
  return length;
}

/**
 * Refuses, naming the model's position table (or the length its inputs fix), a model named `model` whose `limits`
 * leave no room for text after the special tokens `tokenizer` adds to a single text (`pair` false) or a sentence pair:
 * no --max-length mends that, where chooseMaxLength asked for a --max-length the tokenizer then refused (a table of 2
 * rows: 'give --max-length 2 or less', then '--max-length 2 leaves no room for text after 2 special tokens'). Checked
 * before the length is chosen; a tokenizer that cannot encode here is left to the data's encodings.
 */
export function checkModelLengthRoom(
  limits: Pick<InputLimits, 'fixedSequence' | 'maxSequence'> | null,
  tokenizer: Pick<TextTokenizer, 'encode'>,
  pair: boolean,
  model: string,
): void {
  const table = limits?.maxSequence ?? Infinity;
  const fixed = limits?.fixedSequence ?? Infinity;
  const most = Math.min(table, fixed);
  if (most === Infinity) return;
  let specials: number;
  try {
    specials = specialTokenCount(tokenizer, pair);
  } catch {
    return;
  }
  if (most > specials) return;
  const holds = fixed < table ? `the model's inputs are fixed to ${counted(most, 'token')}` : `the model's position table covers ${counted(most, 'token')}`;
  throw new SettingsError(
    `${model}: ${holds}, which leaves no room for text after the ${counted(specials, 'special token')} of ${pair ? 'a sentence pair' : 'a single text'}: no --max-length mends that (a model needs ${specials + 1} positions or more)`,
  );
}

/**
 * The tokens `tokenizer` adds to a single text (`pair` false) or a sentence pair: the special tokens of empty texts, at
 * a length that cuts nothing, which only the tokenizer's refusal of every text of that kind fails (a template
 * tokenizers fails on: templateProblems).
 */
export function specialTokenCount(tokenizer: Pick<TextTokenizer, 'encode'>, pair: boolean): number {
  return tokenizer.encode('', pair ? '' : null, Number.MAX_SAFE_INTEGER).ids.length;
}

/**
 * Throws `tokenizer`'s refusal of every single text (`pair` false) or every sentence pair (a template tokenizers fails
 * on: templateProblems), before any data is read, whatever the length: eval skips such a task of `all` for it, and
 * refuses one named before any task is scored.
 */
export function checkTextKind(tokenizer: Pick<TextTokenizer, 'encode'>, pair: boolean): void {
  specialTokenCount(tokenizer, pair);
}

/**
 * Refuses, naming the file and key, a config.json `max_length`, else a tokenizer_config.json `model_max_length` (the
 * length read where no --max-length is asked: `asked` undefined) that leaves no room for text after the special
 * tokens `tokenizer` adds to a single text (`pair` false) or a sentence pair, where tokenizing the first example named
 * a --max-length never given. Other lengths are left to the tokenizer's refusal, which names --max-length.
 */
export function checkConfigLengthRoom(
  asked: number | undefined,
  config: Pick<ModelConfig, 'maxLength' | 'file'>,
  length: number,
  tokenizer: Pick<TextTokenizer, 'encode'> & Partial<Pick<TextTokenizer, 'modelMaxLength' | 'modelMaxLengthWritten' | 'source'>>,
  pair: boolean,
): void {
  if (asked !== undefined) return;
  const fromConfig = config.maxLength !== null && config.maxLength === length;
  const fromTokenizer = !fromConfig && config.maxLength === null && tokenizer.source !== undefined && tokenizer.modelMaxLength === length;
  if (!fromConfig && !fromTokenizer) return;
  const specials = specialTokenCount(tokenizer, pair);
  if (length > specials) return;
  const key = fromConfig
    ? `${config.file ?? 'config.json'}: max_length ${length}`
    : `${join(dirname(tokenizer.source!), 'tokenizer_config.json')}: model_max_length ${tokenizer.modelMaxLengthWritten ?? length}`;
  throw new SettingsError(
    `${key} leaves no room for text after ${counted(specials, 'special token')}${pair ? ' (a sentence pair)' : ''}: give --max-length ${specials + 1} or more${fromConfig ? '' : ', or fix model_max_length'}`,
  );
}

/**
 * Throws `tokenizer`'s refusal of `length` where it leaves no room for text after the special tokens of a single text
 * (`pair` false) or a sentence pair (its line naming --max-length, and tokenizer_config.json's model_max_length where
 * that gives it), as encoding the first example would: before any data is read.
 */
export function checkLengthRoom(tokenizer: Pick<TextTokenizer, 'encode'>, length: number, pair: boolean): void {
  tokenizer.encode('', pair ? '' : null, length);
}

/**
 * Throws a DataError when the tokenizer produced a token id the word embedding has no row for (a vocab.txt larger
 * than the model's vocabulary) or a token type the token-type table lacks (pairs on a model with one segment).
 */
export function checkEncodings(
  encodings: ReadonlyArray<{ readonly ids: Iterable<number>; readonly typeIds: Iterable<number> }>,
  limits: InputLimits | null,
  tokenizer: string,
  model: string,
): void {
  if (!limits) return;
  let maxId = -1;
  let maxType = -1;
  for (const e of encodings) {
    for (const id of e.ids) if (id > maxId) maxId = id;
    for (const t of e.typeIds) if (t > maxType) maxType = t;
  }
  if (maxId >= limits.vocabSize) {
    throw new DataError(
      `${tokenizer} gives token id ${maxId}, but ${model} has ${limits.vocabSize} rows in its word embedding: the tokenizer's vocabulary is not the model's`,
    );
  }
  if (limits.typeVocabSize !== null && maxType >= limits.typeVocabSize) {
    throw new DataError(
      `${tokenizer} gives token type ${maxType}, but ${model} has ${counted(limits.typeVocabSize, 'token type')}: the tokenizer's template is not the model's`,
    );
  }
}

/**
 * Throws checkEncodings' DataError where a model named `model` (its `limits`) has fewer token types than `tokenizer`'s
 * template gives a sentence pair (`pair` true: one type under a BERT template) or a single text (`pair` false: a
 * Funnel tokenizer's [CLS], type 2): one pair or text encoded at `maxLength`, its types alone (the ids of two words say
 * nothing of a data set's). A tokenizer that cannot encode here is left to the data's encodings. The one check of a
 * text's types before any data is read: eval's, training's and a sweep's plan's.
 */
export function checkTemplateTypes(
  tokenizer: Pick<TextTokenizer, 'encode' | 'source'>,
  maxLength: number,
  limits: InputLimits | null,
  model: string,
  pair: boolean,
): void {
  if (!limits || limits.typeVocabSize === null) return;
  let typeIds: readonly number[];
  try {
    typeIds = tokenizer.encode('a', pair ? 'b' : null, maxLength).typeIds;
  } catch {
    return;
  }
  checkEncodings([{ ids: [], typeIds }], limits, tokenizer.source, model);
}

/** Throws a SettingsError when config.json's label count and the model's scores per example differ (configLabelsProblem). */
export function checkConfigLabels(config: ModelConfig, scoreWidth: number | null, model: string): void {
  const problem = configLabelsProblem(config, scoreWidth, model);
  if (problem !== undefined) throw new SettingsError(problem);
}

/** Why config.json's label count and the model's scores per example differ, in one line; undefined where they agree or either is unknown. */
export function configLabelsProblem(config: ModelConfig, scoreWidth: number | null, model: string): string | undefined {
  if (config.numLabels === null || scoreWidth === null || config.numLabels === scoreWidth) return undefined;
  return `${config.file}: says ${counted(config.numLabels, 'label')} ${labelCountSource(config.id2label)}, but ${model} gives ${counted(scoreWidth, 'score')} per example: fix config.json`;
}
