/**
 * Text to model ids. A tokenizer is loaded from a folder's `tokenizer.json` through `@huggingface/tokenizers`, or,
 * when only `vocab.txt` is there, from a WordPiece tokenizer.json built from it (cased or uncased per
 * `tokenizer_config.json`'s `do_lower_case`), or from vocab.json with merges.txt, or from an ALBERT / XLM-R /
 * CamemBERT SentencePiece model (sentencepiece-vocab.ts). Pairs get the tokenizer's own template (`[CLS] A [SEP] B [SEP]` with
 * token types 0/1 for BERT, `<s> A </s></s> B </s>` for RoBERTa-style) after longest-first truncation to the
 * maximum length, counting the special tokens.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tokenizersLibrary from '@huggingface/tokenizers';
import { Tokenizer } from '@huggingface/tokenizers';
import { DataError, NotUtf8Error, SettingsError, choiceRefusal, counted, quotedText, valueText } from '../errors.ts';
import { cappedLength, truncateLongestFirst } from './truncation.ts';
import { addedTokenProblem, mergedToken, shownJson, templateProblem, wholeFloatProblem, withPartsAsRead } from './tokenizer-fields.ts';
import { onigurumaCaseFolds, withOptionGroups, withSensitiveGroupsApart } from './tokenizer-case-fold.ts';
import { regexAtoms } from './regex-atoms.ts';
import { charsmapMapsNothing, charsmapNormalizer, charsmapProblem } from './precompiled-charsmap.ts';
import { mapSequenceLeaves, sequenceLeaves } from './tokenizer-sequence.ts';
import { unicodeScriptsPieces } from './unicode-scripts.ts';
import { UNICODE8_NONSPACING_MARK, UNICODE8_OTHER, UNICODE8_PUNCTUATION, UNICODE9_MARK, UNICODE16_WORD } from './unicode-categories-table.ts';
import { normalizedAsTokenizers } from './unicode-normalization.ts';
import { jsonObjectOf, readJsonObject, readModelFile, sideFilesKeeper } from './model-files.ts';
import { CLASSIFIER_ARCHITECTURES } from './output-config.ts';
import { MODEL_SIDE_FILES, SENTENCEPIECE_FILES } from '../onnx/locate.ts';
import { shellWord } from '../shell-word.ts';
import { jsonWholeFloats } from '../files.ts';
import { DEFAULT_BERT_SPECIAL_TOKENS, readVocabFile, splitsAtLoneCarriageReturn, wordPieceTokenizerJson, type BertSpecialTokens } from './wordpiece-vocab.ts';
import { byteLevelBpeTokenizerJson, DEFAULT_BPE_SPECIAL_TOKENS, mergesReading } from './bpe-vocab.ts';
import {
  CAMEMBERT_ADDITIONAL_SPECIAL_TOKENS,
  nonDecimalDigitComma,
  readSentencePieceModel,
  SENTENCEPIECE_CLASS_OF,
  SENTENCEPIECE_FILE_OF,
  SENTENCEPIECE_SPECIAL_TOKENS,
  type SentencePieceFamily,
  sentencePieceFamily,
  sentencePieceTokenizerJson,
} from './sentencepiece-vocab.ts';

/** Token ids of one example and their token types (all 0 when the template has no second segment type). */
export interface TextEncoding {
  readonly ids: readonly number[];
  readonly typeIds: readonly number[];
}

export interface TextTokenizer {
  /** Where the tokenizer came from (a file path), for messages. */
  readonly source: string;
  /** The id used to pad a batch. */
  readonly padId: number;
  /** The unknown token (a word its vocabulary cannot spell), where the vocabulary has one. */
  readonly unk?: { readonly token: string; readonly id: number };
  /**
   * tokenizer_config.json's `model_max_length` (the most ids the model takes), or null when absent: a length not
   * given caps at it, as Hugging Face's run_glue does (`defaultMaxLength`).
   */
  readonly modelMaxLength?: number | null;
  /**
   * `model_max_length` as the file writes it where that is no whole number (2.5, read as 2: modelMaxLengthOf), for
   * messages to quote the file's value; absent otherwise.
   */
  readonly modelMaxLengthWritten?: number;
  /** Encodes one text or a pair, truncated longest-first so that the result has at most `maxLength` ids. */
  encode(textA: string, textB: string | null, maxLength: number): TextEncoding;
}

/** The fields of tokenizer_config.json / special_tokens_map.json that we read. */
export interface TokenizerConfigJson {
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
  unk_token?: unknown;
  cls_token?: unknown;
  sep_token?: unknown;
  pad_token?: unknown;
  mask_token?: unknown;
  [key: string]: unknown;
}

/** The tokenizer.json fields read beyond what `@huggingface/tokenizers` handles. */
interface TokenizerJsonPadding {
  padding?: { pad_id?: number } | null;
}

/**
 * Loads the tokenizer of a model folder: tokenizer.json if present, else vocab.txt, else vocab.json with merges.txt,
 * else a SentencePiece model. A tokenizer file given (tokenizerFolder: tokenizer.json, vocab.txt, vocab.json,
 * merges.txt, a SentencePiece model, or a file of the folder holding no vocabulary) names its folder, read so, as
 * training and --format transformers.js read it (and copy the folder's files): vocab.txt beside a tokenizer.json
 * gives the tokenizer.json's tokenizer. A folder with none of them is a DataError.
 */
export function loadTokenizer(path: string): TextTokenizer {
  const isFile = existsSync(path) && statSync(path).isFile();
  const dir = tokenizerFolder(path);
  if (isFile) {
    // (one of a slow byte-level BPE tokenizer's two files, alone in a folder of no other tokenizer: said so)
    if (BPE_FILE_NAMES.has(basename(path)) && !bpeFiles(dir) && !existsSync(join(dir, 'tokenizer.json')) && !existsSync(join(dir, 'vocab.txt')))
      throw new DataError(`${path}: a byte-level BPE vocabulary needs vocab.json and merges.txt side by side (give the folder holding both)`);
    return loadTokenizer(dir);
  }
  return loadedTokenizers(dir, () => {
    const found = folderTokenizerJson(dir);
    if (!found)
      throw new DataError(
        `${path}: no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model (give the tokenizer folder with --tokenizer)`,
      );
    const { config } = found;
    const className = Object.hasOwn(found, 'autoClass') ? found.autoClass : autoTokenizerClass(dir, config);
    if (basename(found.file) === 'tokenizer.json') warnSlowOnlyClass(dir, className);
    return tokenizerFromJson(found.json, config, found.file, returnsTokenTypes(dir, config, className) !== false, found.brokenTemplates);
  });
}

/** How many folders' tokenizers (and vocabularies) are kept (the last read). */
const LOADED_TOKENIZERS = 4;

/**
 * The tokenizers loadTokenizer read last, by folder (as given), while the folder's side files' stamp holds
 * (sideFilesKeeper): a sweep's plan, its points' evaluations, calibrations and training read the input model's folder
 * once, not ~50 ms each time.
 */
const loadedTokenizers = sideFilesKeeper<TextTokenizer>(LOADED_TOKENIZERS);

/**
 * Tokenizer classes transformers has no fast (tokenizers) class of (tokenization_auto.py's TOKENIZER_MAPPING_NAMES: None
 * for the fast one), by the model_type that loads them: AutoTokenizer loads such a class's slow Python tokenizer from
 * its own files (vocab.json, merges.txt), never from tokenizer.json.
 */
const SLOW_ONLY_CLASSES: Readonly<Record<string, string>> = { xlm: 'XLMTokenizer', flaubert: 'FlaubertTokenizer' };

/** Whether `className` (autoTokenizerClass's) is one of SLOW_ONLY_CLASSES. */
const isSlowOnlyClass = (className: string | undefined): className is string => className !== undefined && Object.values(SLOW_ONLY_CLASSES).includes(className);

/** Folders already warned about (once per folder and process). */
const warnedSlowOnly = new Set<string>();

/**
 * The one line on stderr for a folder whose tokenizer.json eval reads while the class transformers' AutoTokenizer
 * loads it as (`className`: autoTokenizerClass) is slow only (SLOW_ONLY_CLASSES): transformers tokenizes with that
 * class's own Python rules and files, so its ids may differ from eval's, which are transformers.js's.
 */
function warnSlowOnlyClass(dir: string, className: string | undefined): void {
  if (!isSlowOnlyClass(className) || warnedSlowOnly.has(dir)) return;
  warnedSlowOnly.add(dir);
  process.stderr.write(
    `warning: ${dir}: its tokenizer class ${className} has no fast tokenizer, so transformers tokenizes with the class's own Python rules and vocabulary files, not tokenizer.json, which compress reads (as transformers.js does): its ids may differ from transformers'\n`,
  );
}

/**
 * The tokenizer class AutoTokenizer loads for a config.json's model_type: that of its sequence classifier's family
 * (CLASSIFIER_ARCHITECTURES), or a slow-only one (SLOW_ONLY_CLASSES).
 */
const MODEL_TYPE_TOKENIZERS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(CLASSIFIER_ARCHITECTURES).map(([type, c]) => [type, c.replace(/ForSequenceClassification$/, 'Tokenizer')])),
  ...SLOW_ONLY_CLASSES,
};

/**
 * The other model_types whose class AutoTokenizer loads (4.x's tokenization_auto.py TOKENIZER_MAPPING_NAMES) rebuilds a
 * tokenizer.json's BertNormalizer (CONFIG_NORMALIZER_CLASSES): BertTokenizerFast's
 * BERT-architecture and multimodal types, MobileBERT's, SqueezeBERT's, Funnel's, LayoutLM's and ConvBERT's own, and
 * those of CONFIG_NORMALIZER_CLASSES' version 32; read so since reading version 32 (a folder naming no class was read with the config's settings, else the file's).
 */
const LATER_MODEL_TYPE_TOKENIZERS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    ['align', 'bark', 'blip', 'bros', 'chinese_clip', 'ernie', 'git', 'grounding-dino', 'megatron-bert', 'nezha', 'qdqbert', 'tvp', 'vilt', 'visual_bert'].map(
      (type) => [type, 'BertTokenizer'],
    ),
  ),
  mobilebert: 'MobileBertTokenizer',
  squeezebert: 'SqueezeBertTokenizer',
  funnel: 'FunnelTokenizer',
  layoutlm: 'LayoutLMTokenizer',
  convbert: 'ConvBertTokenizer',
  dpr: 'DPRQuestionEncoderTokenizer',
  realm: 'RealmTokenizer',
  lxmert: 'LxmertTokenizer',
  retribert: 'RetriBertTokenizer',
};

/**
 * MPNet's tokenizer class (Fast or not; AutoTokenizer's for model_type mpnet): a vocab.txt read as MPNetConverter
 * writes it (MPNet's special tokens, two separators between a pair's texts) and no token types returned (its
 * model_input_names), since tokenizer reading version 38, where it was read as an unknown class (BERT's).
 */
const MPNET_CLASS = 'MPNetTokenizer';

/** The other model_types whose tokenizer class is read as transformers reads it: MPNet's (MPNET_CLASS). */
const OTHER_MODEL_TYPE_TOKENIZERS: Readonly<Record<string, string>> = { mpnet: MPNET_CLASS };

/**
 * The class a config.json's model_type loads (MODEL_TYPE_TOKENIZERS, else LATER_MODEL_TYPE_TOKENIZERS, else
 * OTHER_MODEL_TYPE_TOKENIZERS); undefined for none known.
 */
function modelTypeTokenizer(modelType: unknown): string | undefined {
  if (typeof modelType !== 'string') return undefined;
  for (const types of [MODEL_TYPE_TOKENIZERS, LATER_MODEL_TYPE_TOKENIZERS, OTHER_MODEL_TYPE_TOKENIZERS])
    if (Object.hasOwn(types, modelType)) return types[modelType];
  return undefined;
}

/**
 * The tokenizer class transformers' AutoTokenizer loads `dir` as (`config`: its tokenizer_config.json, readConfig's):
 * tokenizer_config.json's tokenizer_class, else config.json's, else the class of config.json's model_type
 * (MODEL_TYPE_TOKENIZERS); undefined where none is named or known.
 */
function autoTokenizerClass(dir: string, config: TokenizerConfigJson): string | undefined {
  const { named, modelType } = classNaming(dir, config);
  return named ?? modelTypeTokenizer(modelType);
}

/**
 * The tokenizer_class `dir`'s tokenizer_config.json (`config`) or config.json names (the first), and config.json's
 * model_type. A config.json model_type null where tokenizer_config.json names no class is refused naming the key, as
 * AutoTokenizer refuses it: it then reads config.json through AutoConfig, whose CONFIG_MAPPING[None] fails ('has model
 * type `None` but Transformers does not recognize this architecture'), config.json's own tokenizer_class unread.
 */
function classNaming(dir: string, config: TokenizerConfigJson): { named?: string; modelType: unknown } {
  const modelConfigFile = join(dir, 'config.json');
  const modelConfig = existsSync(modelConfigFile) ? readJsonObject(modelConfigFile) : {};
  if (modelConfig.model_type === null && !(typeof config.tokenizer_class === 'string' && config.tokenizer_class !== ''))
    throw new DataError(
      `${modelConfigFile}: model_type: null, where tokenizer_config.json names no tokenizer_class: transformers' AutoTokenizer reads the tokenizer's class from config.json's model_type and refuses null (a model type None it does not recognize); write the model's type (e.g. "bert") or tokenizer_config.json's tokenizer_class`,
    );
  const named = [config.tokenizer_class, modelConfig.tokenizer_class].find((c): c is string => typeof c === 'string' && c !== '');
  return { ...(named === undefined ? {} : { named }), modelType: modelConfig.model_type };
}

/**
 * The tokenizer_class a config.json (`modelConfig`) written beside a copy of `dir`'s tokenizer files must name for
 * AutoTokenizer (and this reader) to load them as `dir`'s class: `dir`'s where neither its tokenizer_config.json nor
 * `modelConfig` names one and `modelConfig`'s model_type gives another (a bert: or bilstm: student of an ALBERT,
 * XLM-R, RoBERTa or DistilBERT teacher); where `dir` has no class known, PreTrainedTokenizerFast where the model_type's
 * class would read its tokenizer.json's BertNormalizer otherwise (rebuilt of the class's defaults: a cased file
 * lower-cased) and PreTrainedTokenizerFast (the file's) reads it as `dir` is read; undefined where nothing need be named.
 */
export function tokenizerClassToName(dir: string, modelConfig: Record<string, unknown>): string | undefined {
  const config = readConfig(dir);
  if (typeof config.tokenizer_class === 'string' || typeof modelConfig.tokenizer_class === 'string') return undefined;
  const own = autoTokenizerClass(dir, config);
  const modelType = modelConfig.model_type;
  const given = modelTypeTokenizer(modelType);
  if (own !== undefined || given === undefined) return own !== given ? own : undefined;
  // (no class known for `dir`, whose tokenizer.json's BertNormalizer is read with the config's settings else the
  // file's; a class `given` rebuilds it of its defaults (a cased file lower-cased): PreTrainedTokenizerFast, which reads
  // the file's, names the reading where it is the same)
  const file = join(dir, 'tokenizer.json');
  if (!existsSync(file)) return undefined;
  const json = readJsonObject(file);
  const read = normalizerEffect(json, config, undefined);
  if (normalizerEffect(json, config, given) === read) return undefined;
  return normalizerEffect(json, config, FILE_NORMALIZER_CLASS_NAME) === read ? FILE_NORMALIZER_CLASS_NAME : undefined;
}

/**
 * The tokenizer classes of no family the project reads whose model_input_names in transformers 4.x are input_ids and
 * attention_mask alone (DPRReaderTokenizer and RetriBertTokenizer, Fast or not: their models take no token types), so
 * that a pair's tokens are all of type 0, as the model computes without them; read so since tokenizer reading version
 * 33 (src/eval/tokenizer-reading.ts), where the template's types were fed (a BERT template's second text type 1).
 */
const LATER_TYPELESS_CLASSES: readonly string[] = ['DPRReaderTokenizer', 'RetriBertTokenizer'];

/**
 * The tokenizer classes known here by whether they return token types: transformers' default model_input_names
 * (input_ids, token_type_ids, attention_mask) for BERT's, ELECTRA's and ALBERT's, and none (input_ids, attention_mask)
 * for RoBERTa's, XLM-R's, CamemBERT's and DistilBERT's, as transformers.js's classes (return_token_type_ids true for
 * the first three alone), and for LATER_TYPELESS_CLASSES.
 */
const RETURNS_TOKEN_TYPES: Readonly<Record<string, boolean>> = {
  BertTokenizer: true,
  ElectraTokenizer: true,
  AlbertTokenizer: true,
  RobertaTokenizer: false,
  XLMRobertaTokenizer: false,
  CamembertTokenizer: false,
  DistilBertTokenizer: false,
  ...Object.fromEntries(LATER_TYPELESS_CLASSES.map((name) => [name, false])),
  [MPNET_CLASS]: false,
};

/**
 * Whether the tokenizer transformers' AutoTokenizer loads from `dir` (`config`: its tokenizer_config.json, readConfig's;
 * `className`: autoTokenizerClass's, where the caller has it) returns token types, as its `return_token_type_ids`
 * defaults to 'token_type_ids' in model_input_names: the config's model_input_names where it lists them, else by the
 * class (RETURNS_TOKEN_TYPES); undefined for a class not known here. A model fed no token types computes type 0 for
 * every token (transformers' buffered token_type_ids, transformers.js's zeros for a graph input the tokenizer did not
 * give).
 */
export function returnsTokenTypes(dir: string, config: TokenizerConfigJson, className = autoTokenizerClass(dir, config)): boolean | undefined {
  if (Array.isArray(config.model_input_names)) return config.model_input_names.includes('token_type_ids');
  const name = className?.replace(/Fast$/, '');
  return name !== undefined && Object.hasOwn(RETURNS_TOKEN_TYPES, name) ? RETURNS_TOKEN_TYPES[name] : undefined;
}

/** A folder's SentencePiece model (the first of SENTENCEPIECE_FILES it holds), undefined when it has none. */
export function sentencePieceFile(dir: string): string | undefined {
  const name = SENTENCEPIECE_FILES.find((n) => existsSync(join(dir, n)));
  return name === undefined ? undefined : join(dir, name);
}

/**
 * An ALBERT SentencePiece model's do_lower_case and keep_accents (AlbertTokenizer's, True and False where
 * tokenizer_config.json (`config`) leaves them out) as transformers' AlbertConverter reads them: by Python's truthiness
 * (pythonTruthy: null, 0, '' and [] false; "false", 1 and [0] true), as its `if do_lower_case` and `if not keep_accents`
 * take any value, where a value other than true or false was read as do_lower_case true and keep_accents false (since
 * tokenizer reading version 34).
 */
function albertSettings(config: TokenizerConfigJson): { doLowerCase: boolean; keepAccents: boolean } {
  return { doLowerCase: config.do_lower_case === undefined || pythonTruthy(config.do_lower_case), keepAccents: pythonTruthy(config.keep_accents) };
}

/** Whether Python's `bool` takes a JSON value read from a config for true: false for null (None), false, 0, '', [] and {}. */
function pythonTruthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return value === true;
}

/**
 * The tokenizer.json object for the SentencePiece model of an ALBERT, XLM-R or CamemBERT folder (`dir`), per its
 * tokenizer_config.json (`config`: tokenizer_class, ALBERT's do_lower_case and keep_accents, the special tokens) and
 * config.json (tokenizer_class, model_type): what transformers' converter writes (sentencepiece-vocab.ts), with the
 * folder's added tokens and the slow tokenizer's special tokens as transformers adds them on loading
 * (withAddedTokens); with the model read, the family's own file (SENTENCEPIECE_FILE_OF: ALBERT's spiece.model, the
 * others' sentencepiece.bpe.model) in a folder holding both. A model of another family, or one trained as BPE, is a
 * one-line DataError saying how to write its tokenizer.json (sentencePieceNote); a folder without its family's file
 * (as transformers' slow tokenizer fails on it), one saying so. With the family's tokenizer class (SENTENCEPIECE_CLASS_OF).
 */
export function sentencePieceFolderTokenizerJson(dir: string, config: TokenizerConfigJson): { file: string; json: object; tokenizerClass: string } {
  const modelConfigFile = join(dir, 'config.json');
  const modelConfig = existsSync(modelConfigFile) ? readJsonObject(modelConfigFile) : {};
  const family = sentencePieceFamily(config.tokenizer_class, modelConfig.tokenizer_class, modelConfig.model_type);
  if (family === undefined)
    throw new DataError(
      `${sentencePieceFile(dir) ?? dir}: a SentencePiece model of neither an ALBERT, XLM-R nor CamemBERT tokenizer (tokenizer_config.json's or config.json's tokenizer_class, config.json's model_type): not read${sentencePieceNote(dir)}`,
    );
  const file = join(dir, SENTENCEPIECE_FILE_OF[family]);
  if (!existsSync(file))
    throw new DataError(
      `${sentencePieceFile(dir) ?? dir}: ${SENTENCEPIECE_FAMILY_NAMES[family]} tokenizer reads ${basename(file)}, which the folder lacks: not read (give a folder with its ${basename(file)} or tokenizer.json with --tokenizer)`,
    );
  const json = sentencePieceTokenizerJson(readSentencePieceModel(file), file, family, albertSettings(config), sentencePieceNote(dir));
  // (the slow tokenizers wrap a mask token named by a string as AddedToken(…, lstrip=True, rstrip=False,
  // normalized=False): the fast one takes those fields, for a mask token among the model's pieces too, as tokenizers'
  // add_tokens replaces an added token's fields)
  const maskName = tokenName(config.mask_token) ?? SENTENCEPIECE_SPECIAL_TOKENS[family].mask_token!;
  const mask =
    config.mask_token !== null && typeof config.mask_token === 'object'
      ? config.mask_token
      : { content: maskName, single_word: false, lstrip: true, rstrip: false, normalized: false, special: true };
  const withMask = specialTokenEntries({ mask_token: mask })[0]!;
  const converted = {
    ...json,
    added_tokens: (json.added_tokens as AddedTokenJson[]).map((t) => (t.content === maskName ? { ...withMask, id: t.id } : t)),
  };
  const withDefaults: TokenizerConfigJson = {
    ...config,
    mask_token: mask,
    ...(family === 'camembert' && config.additional_special_tokens === undefined
      ? { additional_special_tokens: [...CAMEMBERT_ADDITIONAL_SPECIAL_TOKENS] }
      : {}),
  };
  return {
    file,
    json: withAddedTokens(converted, slowAddedTokens(dir, config), withDefaults, SENTENCEPIECE_SPECIAL_TOKENS[family]),
    tokenizerClass: SENTENCEPIECE_CLASS_OF[family],
  };
}

/** Each SentencePiece family as a message names its tokenizer. */
const SENTENCEPIECE_FAMILY_NAMES: Record<SentencePieceFamily, string> = { albert: 'an ALBERT', 'xlm-roberta': 'an XLM-R', camembert: 'a CamemBERT' };

/**
 * For a folder holding a SentencePiece model (SENTENCEPIECE_FILES) that is not read (not an ALBERT, XLM-R or
 * CamemBERT one), what to do about it, to end a refusal: its tokenizer.json written with transformers, or a folder
 * with one given with --tokenizer; '' for a folder without one.
 */
export function sentencePieceNote(dir: string): string {
  if (sentencePieceFile(dir) === undefined) return '';
  // (the folder as the command's argument, quoted for the shell: a path in the Python text broke it on a quote)
  return ` (write the folder's tokenizer.json with transformers, python -c "import sys; from transformers import AutoTokenizer as T; T.from_pretrained(sys.argv[1]).save_pretrained(sys.argv[1])" ${shellWord(dir)}, or give a folder with one with --tokenizer)`;
}

/**
 * The folder of the tokenizer a path names (`--tokenizer`): a folder itself, or the folder of a file of its tokenizer
 * given (MODEL_SIDE_FILES: config.json and the tokenizer files), which every reader reads as that folder. Another file (a
 * model.onnx) is a DataError saying what a tokenizer path is, where it was read as a tokenizer.json ('not valid JSON')
 * or named its folder in another command.
 */
export function tokenizerFolder(path: string): string {
  if (!existsSync(path) || !statSync(path).isFile()) return path;
  const name = basename(path);
  if (MODEL_SIDE_FILES.includes(name)) return dirname(path);
  throw new DataError(
    `${path}: not a tokenizer file: give the tokenizer's folder or one of its files (tokenizer.json, vocab.txt, vocab.json, merges.txt, spiece.model, sentencepiece.bpe.model, tokenizer_config.json, config.json)`,
  );
}

/** The two files of a slow byte-level BPE tokenizer: given as a file, either alone in its folder is refused naming the pair. */
const BPE_FILE_NAMES: ReadonlySet<string> = new Set(['vocab.json', 'merges.txt']);

/** A folder's byte-level BPE files of a slow tokenizer (RoBERTa's vocab.json and merges.txt), when it has both. */
export function bpeFiles(dir: string): { vocab: string; merges: string } | undefined {
  const vocab = join(dir, 'vocab.json');
  const merges = join(dir, 'merges.txt');
  return existsSync(vocab) && existsSync(merges) ? { vocab, merges } : undefined;
}

/**
 * The BPE files (bpeFiles) `dir`'s tokenizer is read from: where it holds no tokenizer.json or vocab.txt, which
 * folderTokenizerJson reads first; undefined otherwise.
 */
function bpeFilesRead(dir: string): { vocab: string; merges: string } | undefined {
  return existsSync(join(dir, 'tokenizer.json')) || existsSync(join(dir, 'vocab.txt')) ? undefined : bpeFiles(dir);
}

/**
 * The tokenizer.json object for a folder's vocab.json and merges.txt, per its tokenizer_config.json (`config`). An
 * add_prefix_space there other than true or false is a one-line DataError naming the file, as transformers' converter
 * (RobertaConverter, GPT2Converter) builds tokenizers' ByteLevel pre-tokenizer of it, which takes a bool alone and fails.
 */
export function bpeTokenizerJson(files: { vocab: string; merges: string }, config: TokenizerConfigJson): object {
  if (config.add_prefix_space !== undefined && typeof config.add_prefix_space !== 'boolean')
    throw new DataError(
      choiceRefusal(`${join(dirname(files.vocab), 'tokenizer_config.json')}: add_prefix_space`, config.add_prefix_space, ['true', 'false'], {
        from: 'file',
        note: "(transformers' converter builds its ByteLevel pre-tokenizer of it)",
      }),
    );
  const d = DEFAULT_BPE_SPECIAL_TOKENS;
  const named = {
    bos: tokenName(config.bos_token) ?? d.bos,
    eos: tokenName(config.eos_token) ?? d.eos,
    unk: tokenName(config.unk_token) ?? d.unk,
    pad: tokenName(config.pad_token) ?? d.pad,
    mask: tokenName(config.mask_token) ?? d.mask,
    cls: tokenName(config.cls_token) ?? d.cls,
    sep: tokenName(config.sep_token) ?? d.sep,
  };
  const json = byteLevelBpeTokenizerJson(files.vocab, files.merges, { addPrefixSpace: config.add_prefix_space === true, specialTokens: named });
  return withAddedTokens(json, slowAddedTokens(dirname(files.vocab), config), config, {
    bos_token: named.bos,
    eos_token: named.eos,
    unk_token: named.unk,
    sep_token: named.sep,
    pad_token: named.pad,
    cls_token: named.cls,
    mask_token: named.mask,
  });
}

/** One entry of tokenizer.json's `added_tokens`. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/**
 * The tokens of a tokenizer config's `added_tokens_decoder` (id → the token's fields, as transformers' `AddedToken(**v)`
 * in `_from_pretrained`: flags false where absent, `normalized` not `special`), undefined when it has none; a malformed
 * entry is a one-line DataError naming `configFile`.
 */
function decoderAddedTokens(config: TokenizerConfigJson, configFile: string): AddedTokenJson[] | undefined {
  const decoder = config.added_tokens_decoder;
  if (decoder === undefined || decoder === null) return undefined;
  if (typeof decoder !== 'object' || Array.isArray(decoder)) throw new DataError(`${configFile}: added_tokens_decoder is not an object of token ids`);
  return Object.entries(decoder as Record<string, unknown>).map(([key, v]) => {
    const id = Number(key);
    const t = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
    if (!/^\d+$/.test(key) || typeof t.content !== 'string')
      throw new DataError(`${configFile}: added_tokens_decoder entry ${quotedText(key)} is not a token id with a "content" string`);
    const special = t.special === true;
    const flag = (name: string, otherwise: boolean) => (typeof t[name] === 'boolean' ? (t[name] as boolean) : otherwise);
    return {
      id,
      content: t.content,
      single_word: flag('single_word', false),
      lstrip: flag('lstrip', false),
      rstrip: flag('rstrip', false),
      normalized: flag('normalized', !special),
      special,
    };
  });
}

/**
 * The added tokens of a folder saved by a slow tokenizer (a fine-tune's new tokens), as transformers loads them and
 * its slow→fast conversion adds them: tokenizer_config.json's `added_tokens_decoder` (id → the token's fields) when
 * it has one, else added_tokens.json (token → id; a token the config names as a special token is special and matched
 * as written, any other is matched on the normalized text, as `AddedToken(t, normalized=not special, special=special)`
 * in `_from_pretrained`); none when the folder has neither. A malformed entry is a one-line DataError.
 */
export function slowAddedTokens(dir: string, config: TokenizerConfigJson): AddedTokenJson[] {
  const decoded = decoderAddedTokens(config, join(dir, 'tokenizer_config.json'));
  if (decoded !== undefined) return decoded;
  const file = join(dir, 'added_tokens.json');
  if (!existsSync(file)) return [];
  const json = readJsonObject(file);
  const specials = new Set(
    [
      ...Object.entries(config)
        .filter(([k]) => k.endsWith('_token'))
        .map(([, v]) => tokenName(v)),
      ...additionalSpecialTokens(config),
    ].filter((t): t is string => t !== undefined),
  );
  return Object.entries(json).map(([content, id]) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      throw new DataError(`${file}: token ${quotedText(content)} has id ${valueText(id)}, not a whole number ≥ 0`);
    const special = specials.has(content);
    return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: !special, special };
  });
}

/**
 * `json` (a tokenizer.json object, read or built from a slow tokenizer's vocabulary) with `slowAdded` (a slow
 * tokenizer's added tokens) among its added tokens: an added token replaces the entry of its id or its content (its
 * fields are the folder's), the list sorted by id. The special tokens of `config` (`specialTokenEntries`) that are not
 * added tokens are special added tokens too (matched whole), as transformers' fast tokenizer adds every special token
 * it lacks (tokenization_utils_fast.py, `tokens_to_add += [… all_special_tokens_extended …]`) through tokenizers'
 * add_tokens, which gives one the model lists its id there and one it lacks the next id after the vocabulary and the
 * added tokens, in order (added_vocabulary.rs, `add_tokens`, `next_id`). The ids of `json`'s own added tokens are
 * those tokenizers gives them on loading (`loadedAddedTokens`), not the ids written there. `configAdded` (a fast
 * folder's tokenizer_config.json `added_tokens_decoder`) goes before those special tokens, by id, as transformers' fast
 * tokenizer passes every entry of it to add_tokens after loading tokenizer.json (tokenization_utils_fast.py,
 * `tokens_to_add = [token for index, token in sorted(added_tokens_decoder.items()) …]`: its filter compares against
 * `self.added_tokens_decoder`'s int keys, so it keeps all), special where the entry or the config says so: one whose
 * content `json` lacks is added with the id add_tokens gives (the decoder's id is not used); one `json` has keeps its
 * entry. `json` itself when nothing changes.
 */
export function withAddedTokens(
  json: object,
  slowAdded: readonly AddedTokenJson[],
  config: TokenizerConfigJson,
  defaults: Partial<Record<SpecialTokenKey, string>> = {},
  configAdded: readonly AddedTokenJson[] = [],
): object {
  const model = modelVocabulary(json) ?? new Map<string, number>();
  const written = (json as { added_tokens?: AddedTokenJson[] }).added_tokens ?? [];
  const present = loadedAddedTokens(written, model);
  const listed = new Set([...slowAdded, ...present].map((t) => t.content));
  let next = Math.max(model.size, ...[...slowAdded, ...present].map((t) => t.id + 1));
  const extra = new Map<string, AddedTokenJson>();
  const specials = specialTokenEntries(config, defaults);
  const named = new Set(specials.map((t) => t.content));
  for (const t of [...configAdded].sort((a, b) => a.id - b.id)) {
    if (t.content === '' || listed.has(t.content) || extra.has(t.content)) continue;
    extra.set(t.content, { ...t, id: model.get(t.content) ?? next++, special: t.special || named.has(t.content) });
  }
  for (const t of specials) {
    if (listed.has(t.content) || extra.has(t.content)) continue;
    extra.set(t.content, { id: model.get(t.content) ?? next++, ...t });
  }
  const added = [...slowAdded, ...extra.values()];
  if (added.length === 0 && present === written) return json;
  const current = present.filter((t) => !added.some((a) => a.id === t.id || a.content === t.content));
  return { ...json, added_tokens: [...current, ...added].sort((a, b) => a.id - b.id) };
}

/**
 * A tokenizer.json's added tokens (`written`) with the ids tokenizers gives them when it loads the file, which are not
 * the ids written there (serialization.rs reads them only to warn 'Token … was expected to have ID …'): it adds the
 * list in order through add_tokens (added_vocabulary.rs), which gives a token the id it already has as an added token,
 * else the model vocabulary's (`model`), else the next id from the vocabulary's size; one with the content of an
 * earlier one keeps that id and takes its fields; an empty one is ignored. So ids written out of order, twice, past the
 * vocabulary or other than the model's are read as transformers reads them (@huggingface/tokenizers, and so
 * transformers.js, take the written ids). `written` itself when every id is as written.
 */
function loadedAddedTokens(written: readonly AddedTokenJson[], model: ReadonlyMap<string, number>): readonly AddedTokenJson[] {
  const loaded = new Map<string, AddedTokenJson>();
  let next = model.size;
  for (const t of written) {
    if (typeof t.content !== 'string' || t.content === '') continue;
    const id = loaded.get(t.content)?.id ?? model.get(t.content) ?? next++;
    loaded.set(t.content, { ...t, id });
  }
  const tokens = [...loaded.values()];
  return tokens.length === written.length && tokens.every((t, i) => t.id === written[i]!.id) ? written : tokens;
}

/** A config's named special tokens, in transformers' SPECIAL_TOKENS_ATTRIBUTES order (additional_special_tokens last). */
const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;
type SpecialTokenKey = (typeof SPECIAL_TOKEN_KEYS)[number];

/**
 * The special tokens a tokenizer config names (each named one, else its entry in `defaults`, the slow tokenizer
 * class's; then `additional_special_tokens`), in transformers' order, as added-token fields: a `{content, …}` entry's
 * flags are its own, a string's are transformers' AddedToken(special=True) defaults (not normalized). An empty one is
 * left out, as tokenizers' add_tokens ignores it.
 */
function specialTokenEntries(config: TokenizerConfigJson, defaults: Partial<Record<SpecialTokenKey, string>> = {}): Omit<AddedTokenJson, 'id'>[] {
  const list = Array.isArray(config.additional_special_tokens) ? (config.additional_special_tokens as unknown[]) : [];
  return [...SPECIAL_TOKEN_KEYS.map((k) => config[k] ?? defaults[k]), ...list].flatMap((v) => {
    const content = tokenName(v);
    if (content === undefined || content === '') return [];
    const fields = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
    const flag = (name: string) => fields[name] === true;
    return [{ content, single_word: flag('single_word'), lstrip: flag('lstrip'), rstrip: flag('rstrip'), normalized: flag('normalized'), special: true }];
  });
}

/**
 * A tokenizer.json file's object (`read`) as transformers' fast tokenizer reads it with its tokenizer config (`config`)
 * as the class AutoTokenizer loads it as (`className`: autoTokenizerClass's, where the caller has it):
 * its normalizer and a ByteLevel pre-tokenizer's add_prefix_space as the config says (withConfigNormalizer,
 * withConfigPrefixSpace), its added tokens and the config's special tokens as
 * tokenizers adds them, after the tokens of the config's added_tokens_decoder that it lacks (withAddedTokens), its
 * post-processor giving ids and token types as tokenizers does (withTokenizersPostProcessor). `read` itself when nothing
 * changes; its post-processor read by its fields as tokenizers reads it (withPartsAsRead: a RobertaProcessing without
 * trim_offsets as a BertProcessing). Added tokens that are no list of `{content, …}` (addedTokensProblem), a normalizer,
 * pre-tokenizer, post-processor or decoder field tokenizers refuses (withPartsAsRead: absent with no default, of another type, a misspelt behavior) and a
 * Metaspace tokenizers refuses (metaspaceProblem) are a one-line DataError naming `file`, as the library's refusal of
 * the rest of it; a template tokenizers reads and then fails on is not (`brokenTemplates`: templateProblems), as
 * tokenizers encodes the other template's texts. A decoder the library cannot compile (`decoderProblem`:
 * decoderOptionProblem's) is left out of `json`, as evaluation never decodes (tokenizers reads it).
 */
export function fastTokenizerJson(
  read: Record<string, unknown>,
  config: TokenizerConfigJson,
  file: string,
  className: string | undefined = autoTokenizerClass(dirname(file), config),
  wholeFloats: ReadonlyMap<string, string> = new Map(),
): { json: Record<string, unknown>; brokenTemplates: BrokenTemplates; decoderProblem?: string } {
  const parts = withPartsAsRead(read);
  const decoderProblem = typeof parts === 'string' ? undefined : decoderOptionProblem(parts);
  const decoded = typeof parts === 'string' || decoderProblem === undefined ? parts : { ...parts, decoder: null };
  const folded = typeof decoded === 'string' ? decoded : withOnigurumaCaseFolds(decoded);
  const problem =
    addedTokensProblem(read.added_tokens) ??
    (typeof parts === 'string' ? parts : (wholeFloatProblem(parts, wholeFloats) ?? metaspaceProblem(read))) ??
    (typeof folded === 'string' ? folded : undefined);
  if (problem || typeof folded === 'string') throw new DataError(`${file}: not a tokenizer we can load: ${problem}`);
  checkProcessorSettings(folded, config, className, join(dirname(file), 'tokenizer_config.json'));
  const configAdded = decoderAddedTokens(config, join(dirname(file), 'tokenizer_config.json')) ?? [];
  const json = withConfigNormalizer(
    withConfigPrefixSpace(withTokenizersPostProcessor(withTokenizersDefaults(folded)), config, className),
    config,
    className,
    join(dirname(file), 'tokenizer_config.json'),
  );
  return {
    json: withAddedTokens(json, [], config, {}, configAdded) as Record<string, unknown>,
    brokenTemplates: templateProblems(folded),
    ...(decoderProblem === undefined ? {} : { decoderProblem }),
  };
}

/**
 * A tokenizer.json object with the parts tokenizers lets a file leave out written as tokenizers reads them
 * (tokenizers/src/tokenizer/serialization.rs, TokenizerVisitor::visit_map: every key but `model` is optional, the
 * added tokens starting as an empty list and the normalizer, pre-tokenizer and decoder unset, so none), where
 * @huggingface/tokenizers refuses a file without them ('added_tokens is not iterable', 'Tokenizer must contain a
 * "normalizer" property'). A missing post-processor is withTokenizersPostProcessor's (none). `json` itself when it
 * has them all.
 */
function withTokenizersDefaults(json: Record<string, unknown>): Record<string, unknown> {
  const defaults: Record<string, unknown> = { added_tokens: [], normalizer: null, pre_tokenizer: null, decoder: null };
  const missing = Object.keys(defaults).filter((k) => json[k] === undefined);
  return missing.length === 0 ? json : { ...json, ...Object.fromEntries(missing.map((k) => [k, defaults[k]])) };
}

/**
 * What is wrong with a tokenizer.json's `added_tokens` (absent, or a list of added tokens as tokenizers reads them:
 * `{id, content, single_word, lstrip, rstrip, normalized, special}`, none of which it defaults: addedTokenProblem), in
 * one line; undefined for nothing. (tokenizers refuses a null list too. The ids are only checked for their type:
 * loadedAddedTokens gives each the id tokenizers does.)
 */
function addedTokensProblem(list: unknown): string | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) return `added_tokens: expected a list of added tokens ({"id": …, "content": "…"}), got ${shownJson(list)}`;
  for (const [at, t] of list.entries()) {
    if (t === null || typeof t !== 'object' || Array.isArray(t) || typeof (t as { content?: unknown }).content !== 'string')
      return `added_tokens[${at}]: expected an added token ({"id": …, "content": "…"}), got ${shownJson(t)}`;
    const problem = addedTokenProblem(t as Record<string, unknown>, `added_tokens[${at}]`);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * What tokenizers refuses in a tokenizer.json's Metaspace (its pre-tokenizer or decoder, or a part of their Sequences at
 * any depth), in one line: `add_prefix_space` false with a `prepend_scheme` other than never, absent included (it reads as always;
 * pre_tokenizers/metaspace.rs: 'add_prefix_space does not match declared prepend_scheme'), which transformers fails to
 * load and @huggingface/tokenizers read as always, prepending ▁ to a text the file says not to; undefined for none.
 */
function metaspaceProblem(json: Record<string, unknown>): string | undefined {
  for (const [where, list] of [
    ['pre_tokenizer', 'pretokenizers'],
    ['decoder', 'decoders'],
  ] as const) {
    const bad = sequenceLeaves(json[where], list)
      .map(({ leaf }) => leaf)
      .find((m) => m.type === 'Metaspace' && m.add_prefix_space === false && (m.prepend_scheme ?? 'always') !== 'never');
    if (bad)
      return `its ${where}'s Metaspace says add_prefix_space false with prepend_scheme ${valueText(bad.prepend_scheme ?? 'always')}${bad.prepend_scheme === undefined ? ' (the default)' : ''}, which tokenizers refuses ('add_prefix_space does not match declared prepend_scheme'): write "prepend_scheme": "never" for no ▁ before the text`;
  }
  return undefined;
}

/**
 * A tokenizer.json whose post-processor gives the ids and token types tokenizers gives, where @huggingface/tokenizers
 * (and so transformers.js) gives others: RoBERTa's RobertaProcessing is the TemplateProcessing `<s> A </s></s> B </s>`
 * with every token type 0 (processors/roberta.rs: 'every encoding is type_id=0'; @huggingface/tokenizers gave
 * `</s> B </s>` type 1, which a RoBERTa graph with token_type_ids of one type cannot take); a ByteLevel post-processor
 * (ByteLevelBPETokenizer's), which only trims offsets in tokenizers, and none at all are the template `A B`, B of type 1,
 * as tokenizers joins a pair's two encodings (Tokenizer::encode gives the second type 1; PostProcessor::default_process)
 * (@huggingface/tokenizers dropped the second text after a ByteLevel one, and gave it type 0 after none); a ByteLevel
 * inside a Sequence is left out (it passed the pair on unjoined). `json` itself when none of them is there.
 */
export function withTokenizersPostProcessor(json: Record<string, unknown>): Record<string, unknown> {
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const sequence = (id: 'A' | 'B', type_id: number) => ({ Sequence: { id, type_id } });
  const joined = { type: 'TemplateProcessing', single: [sequence('A', 0)], pair: [sequence('A', 0), sequence('B', 1)], special_tokens: {} };
  const processor = (p: unknown): unknown => {
    const r = p as { type?: unknown; cls?: unknown; sep?: unknown; processors?: unknown } | null | undefined;
    if (r === null || r === undefined || r.type === 'ByteLevel') return joined;
    if (r.type === 'Sequence' && Array.isArray(r.processors)) {
      const processors = (r.processors as unknown[]).filter((q) => (q as { type?: unknown } | null)?.type !== 'ByteLevel').map(processor);
      if (processors.length === 0) return joined;
      return processors.length === r.processors.length && processors.every((q, i) => q === (r.processors as unknown[])[i]) ? p : { ...r, processors };
    }
    if (r.type !== 'RobertaProcessing' || !Array.isArray(r.cls) || !Array.isArray(r.sep)) return p;
    const [cls, clsId] = r.cls as [string, number];
    const [sep, sepId] = r.sep as [string, number];
    return {
      type: 'TemplateProcessing',
      single: [special(cls), sequence('A', 0), special(sep)],
      pair: [special(cls), sequence('A', 0), special(sep), special(sep), sequence('B', 0), special(sep)],
      special_tokens: { [cls]: { id: cls, ids: [clsId], tokens: [cls] }, [sep]: { id: sep, ids: [sepId], tokens: [sep] } },
    };
  };
  const post = processor(json.post_processor);
  return post === json.post_processor ? json : { ...json, post_processor: post };
}

/**
 * The tokenizer classes (Fast or not) whose fast tokenizer transformers rebuilds a tokenizer.json's BertNormalizer of on
 * loading, with the defaults their `__init__` gives what tokenizer_config.json leaves out (do_lower_case=True,
 * strip_accents=None, tokenize_chinese_chars=True; all three set where any differs from the file's), each with the
 * tokenizer reading version since which its folders are read so (src/eval/tokenizer-reading.ts): 29, 4.x's
 * BertTokenizerFast, DistilBertTokenizerFast and ElectraTokenizerFast, 5.x's classes of those names (a BertNormalizer
 * built of the same three, the file's normalizer unread); 31, 4.x's MobileBertTokenizerFast, SqueezeBertTokenizerFast,
 * FunnelTokenizerFast and LayoutLMTokenizerFast (copies of BertTokenizerFast's `__init__`) and ConvBertTokenizerFast (a
 * BertTokenizerFast); 32, 4.x's DPR tokenizers (DPRQuestionEncoderTokenizerFast, DPRContextEncoderTokenizerFast,
 * DPRReaderTokenizerFast: BertTokenizerFasts), RealmTokenizerFast, LxmertTokenizerFast and RetriBertTokenizerFast
 * (copies of BertTokenizerFast's `__init__`; the last a subclass of it before it moved to models/deprecated); 38, 4.x's
 * MPNetTokenizerFast, which compares and sets do_lower_case and strip_accents alone (MPNET_NORMALIZER_SETTINGS: the
 * file's handle_chinese_chars kept).
 */
const CONFIG_NORMALIZER_CLASSES: ReadonlyMap<string, 29 | 31 | 32 | 38> = new Map([
  ['BertTokenizer', 29],
  ['DistilBertTokenizer', 29],
  ['ElectraTokenizer', 29],
  ['MobileBertTokenizer', 31],
  ['SqueezeBertTokenizer', 31],
  ['FunnelTokenizer', 31],
  ['LayoutLMTokenizer', 31],
  ['ConvBertTokenizer', 31],
  ['DPRQuestionEncoderTokenizer', 32],
  ['DPRContextEncoderTokenizer', 32],
  ['DPRReaderTokenizer', 32],
  ['RealmTokenizer', 32],
  ['LxmertTokenizer', 32],
  ['RetriBertTokenizer', 32],
  [MPNET_CLASS, 38],
]);

/**
 * A BertNormalizer that changes no text, in tokenizers and transformers.js alike: no cleaning, no spaces round Chinese
 * characters, no accents stripped, no lower-casing.
 */
const UNCHANGING_BERT_NORMALIZER = { type: 'BertNormalizer', clean_text: false, handle_chinese_chars: false, strip_accents: false, lowercase: false };

/**
 * `json` (a tokenizer.json object) as a folder naming the class `className` in its tokenizer_config.json must hold it
 * for transformers 4.x to load it: the fast tokenizers of the classes that rebuild a BertNormalizer
 * (CONFIG_NORMALIZER_CLASSES) read the state of the file's normalizer first (`json.loads(self.backend_tokenizer.
 * normalizer.__getstate__())`) and fail on a file with none ('the JSON object must be str, bytes or bytearray, not
 * NoneType'), so one without a normalizer gets UNCHANGING_BERT_NORMALIZER, which reads every text as none does (the
 * folder's tokenizer_config.json must say its settings for the class to keep it: withConfigNormalizer). `json` itself
 * where it has a normalizer or the class reads none.
 */
export function withNormalizerClassLoads(json: Record<string, unknown>, className: string | undefined): Record<string, unknown> {
  if ((json.normalizer ?? null) !== null || !CONFIG_NORMALIZER_CLASSES.has(className?.replace(/Fast$/, '') ?? '')) return json;
  return { ...json, normalizer: { ...UNCHANGING_BERT_NORMALIZER } };
}

/**
 * The class (Fast or not) of no model that reads a tokenizer.json as it is, whatever tokenizer_config.json's
 * do_lower_case, strip_accents or tokenize_chinese_chars say: 4.x's PreTrainedTokenizerFast sets no normalizer, 5.x's
 * (TokenizersBackend) loads the file as its tokenizer.
 */
const FILE_NORMALIZER_CLASS = 'PreTrainedTokenizer';

/** FILE_NORMALIZER_CLASS as a tokenizer_class names it. */
const FILE_NORMALIZER_CLASS_NAME = `${FILE_NORMALIZER_CLASS}Fast`;

/**
 * A tokenizer.json whose BertNormalizer is set as tokenizer_config.json says (do_lower_case, strip_accents,
 * tokenize_chinese_chars) where the class AutoTokenizer loads the folder as (`className`: autoTokenizerClass's) rebuilds
 * it on loading (CONFIG_NORMALIZER_CLASSES), a setting the config leaves out taking the class's default: a cased
 * tokenizer.json beside a tokenizer_config.json naming no do_lower_case (or none at all, the class read from
 * config.json's model_type) lower-cases, as transformers loads it. As 4.x's check compares them by Python's `==`
 * (pythonEqual: 1 is true, 0 false), a config value of another kind that equals the file's, all three equal, leaves the
 * file's normalizer as it is; one that does not is a DataError naming `configFile` (the tokenizer_config.json), where
 * transformers fails to build a BertNormalizer of it (a string "false", null, 0 beside a lower-casing file).
 * PreTrainedTokenizerFast's (FILE_NORMALIZER_CLASS) is the file's. For another class, or none known, the config's
 * settings where it gives them true or false (strip_accents null too) and the file's otherwise. `json` itself when
 * they agree.
 */
export function withConfigNormalizer(
  json: Record<string, unknown>,
  config: TokenizerConfigJson,
  className: string | undefined,
  configFile = 'tokenizer_config.json',
): Record<string, unknown> {
  const norm = json.normalizer as Record<string, unknown> | null | undefined;
  const name = className?.replace(/Fast$/, '') ?? '';
  if (norm?.type !== 'BertNormalizer' || name === FILE_NORMALIZER_CLASS) return json;
  if (CONFIG_NORMALIZER_CLASSES.has(name)) {
    const given = (value: unknown, classDefault: boolean | null) => (value === undefined ? classDefault : value);
    const defaults = {
      lowercase: given(config.do_lower_case, true),
      strip_accents: given(config.strip_accents, null),
      handle_chinese_chars: given(config.tokenize_chinese_chars, true),
    };
    const settings = name === MPNET_CLASS ? MPNET_NORMALIZER_SETTINGS : BERT_NORMALIZER_SETTINGS;
    if (settings.every(([field]) => pythonEqual(norm[field], defaults[field]))) return json;
    for (const [field, setting] of settings) checkNormalizerSetting(setting, defaults[field], configFile, `transformers' ${name}Fast`);
    return { ...json, normalizer: { ...norm, ...Object.fromEntries(settings.map(([field]) => [field, defaults[field]])) } };
  }
  const wanted = {
    lowercase: typeof config.do_lower_case === 'boolean' ? config.do_lower_case : norm.lowercase,
    strip_accents: typeof config.strip_accents === 'boolean' || config.strip_accents === null ? config.strip_accents : norm.strip_accents,
    handle_chinese_chars: typeof config.tokenize_chinese_chars === 'boolean' ? config.tokenize_chinese_chars : norm.handle_chinese_chars,
  };
  const same = BERT_NORMALIZER_SETTINGS.every(([field]) => (norm[field] ?? null) === (wanted[field] ?? null));
  return same ? json : { ...json, normalizer: { ...norm, ...wanted } };
}

/**
 * Throws the one-line DataError naming `configFile` (a tokenizer_config.json) for its `setting` (one of
 * BERT_NORMALIZER_SETTINGS') whose `value` (the class's default where the config leaves it out) is not true or false
 * (strip_accents null too), which `builder` passes to tokenizers' BertNormalizer, which fails on it.
 */
function checkNormalizerSetting(setting: string, value: unknown, configFile: string, builder: string): void {
  if (typeof value === 'boolean' || (setting === 'strip_accents' && value === null)) return;
  const choices = setting === 'strip_accents' ? ['true', 'false', 'null'] : ['true', 'false'];
  throw new DataError(choiceRefusal(`${configFile}: ${setting}`, value, choices, { from: 'file', note: `(${builder} builds its BertNormalizer of it)` }));
}

/** A BertNormalizer's fields that tokenizer_config.json sets, each with the setting that names it there. */
const BERT_NORMALIZER_SETTINGS = [
  ['lowercase', 'do_lower_case'],
  ['strip_accents', 'strip_accents'],
  ['handle_chinese_chars', 'tokenize_chinese_chars'],
] as const;

/** The BertNormalizer settings MPNetTokenizerFast (4.x) compares with the file's and sets: BERT_NORMALIZER_SETTINGS but tokenize_chinese_chars. */
const MPNET_NORMALIZER_SETTINGS = BERT_NORMALIZER_SETTINGS.filter(([field]) => field !== 'handle_chinese_chars');

/**
 * Whether Python's `==` takes a JSON value read from tokenizer_config.json (`a`) for a BertNormalizer field's (`b`), as
 * 4.x's fast BERT tokenizers compare them: booleans and numbers by value (True == 1, False == 0.0), null only null.
 */
function pythonEqual(a: unknown, b: unknown): boolean {
  const numeric = (v: unknown) => typeof v === 'boolean' || typeof v === 'number';
  return numeric(a) && numeric(b) ? Number(a) === Number(b) : (a ?? null) === (b ?? null);
}

/**
 * Whether a tokenizer.json object's BertNormalizer normalizes otherwise under withConfigNormalizer for `className` than
 * under the config's given settings alone, whatever the class (the reading before stop 55): its lowercase, whether it
 * strips accents (strip_accents, else lowercase, as tokenizers reads none) or its handle_chinese_chars.
 */
function normalizerReadOtherwise(json: Record<string, unknown>, config: TokenizerConfigJson, className: string | undefined): boolean {
  return normalizerEffect(json, config, className) !== normalizerEffect(json, config, undefined);
}

/**
 * What a tokenizer.json object's BertNormalizer does as withConfigNormalizer reads it for `className`: its lowercase,
 * whether it strips accents (strip_accents, else lowercase, as tokenizers reads none) and its handle_chinese_chars, as
 * one text ('' for another normalizer; 'refused' where the config's settings are refused for that class).
 */
function normalizerEffect(json: Record<string, unknown>, config: TokenizerConfigJson, className: string | undefined): string {
  let read: Record<string, unknown>;
  try {
    read = withConfigNormalizer(json, config, className);
  } catch {
    return 'refused';
  }
  const n = read.normalizer as Record<string, unknown> | null | undefined;
  return n?.type === 'BertNormalizer' ? [n.lowercase, n.strip_accents ?? n.lowercase, n.handle_chinese_chars].join() : '';
}

/**
 * Whether the tokenizer.json object `json` of the folder `dir` lower-cases as loadTokenizer reads it: its
 * BertNormalizer's lowercase as withConfigNormalizer sets it (tokenizer_config.json's do_lower_case, else the default of
 * the class AutoTokenizer loads the folder as, else the file's); undefined where its normalizer is no BertNormalizer.
 */
export function bertNormalizerLowercase(dir: string, json: Record<string, unknown>): boolean | undefined {
  const config = readConfig(dir);
  const normalizer = withConfigNormalizer(json, config, autoTokenizerClass(dir, config), join(dir, 'tokenizer_config.json')).normalizer as
    | { type?: unknown; lowercase?: unknown }
    | null
    | undefined;
  return normalizer?.type === 'BertNormalizer' && typeof normalizer.lowercase === 'boolean' ? normalizer.lowercase : undefined;
}

/**
 * Throws a one-line DataError naming `configFile` (the tokenizer_config.json) where the folder is loaded as
 * RobertaTokenizer (`className`, Fast or not) and the config's add_prefix_space or trim_offsets (false and true where
 * left out, RobertaTokenizerFast's defaults) is not true or false and not equal by Python's `==` (pythonEqual) to its
 * RobertaProcessing's or ByteLevel post-processor's (`json`'s, as read; tokenizers' default true where the file
 * leaves it out): transformers 4.x's RobertaTokenizerFast then rebuilds that post-processor of the value, which
 * tokenizers takes as a bool alone, and fails to load the folder. A true or false there moves offsets only.
 */
function checkProcessorSettings(json: Record<string, unknown>, config: TokenizerConfigJson, className: string | undefined, configFile: string): void {
  const post = json.post_processor as Record<string, unknown> | null | undefined;
  if (className?.replace(/Fast$/, '') !== 'RobertaTokenizer' || (post?.type !== 'RobertaProcessing' && post?.type !== 'ByteLevel')) return;
  for (const [setting, classDefault] of [
    ['add_prefix_space', false],
    ['trim_offsets', true],
  ] as const) {
    const value = config[setting] === undefined ? classDefault : config[setting];
    if (typeof value === 'boolean' || pythonEqual(post[setting] ?? true, value)) continue;
    throw new DataError(
      choiceRefusal(`${configFile}: ${setting}`, value, ['true', 'false'], {
        from: 'file',
        note: `(transformers' RobertaTokenizerFast builds its ${post.type} post-processor of it)`,
      }),
    );
  }
}

/** The classes transformers builds a ByteLevel pre-tokenizer of tokenizer_config.json's add_prefix_space for (withConfigPrefixSpace). */
const PREFIX_SPACE_CLASSES = new Set(['RobertaTokenizer', 'GPT2Tokenizer']);

/**
 * How many Kelvin signs (U+212A) the parts of a tokenizer.json object that withOnigurumaCaseFolds rewrites hold (its
 * pre-tokenizer, normalizer and decoder; not its vocabulary, which may be megabytes).
 */
const kelvinSigns = (json: Record<string, unknown>): number => JSON.stringify([json.pre_tokenizer, json.normalizer, json.decoder]).split('\u212A').length - 1;

/**
 * A tokenizer.json whose Splits' (its pre-tokenizer's) and Replaces' (its normalizer's) regexes fold case in `(?i:…)`
 * as tokenizers' Oniguruma does (onigurumaCaseFolds: s and k written as classes holding ſ and K, which
 * @huggingface/tokenizers and transformers.js fold with ASCII letters alone), or what keeps one from it, in one line;
 * and whose decoder's Replaces have their option groups as Oniguruma reads them (withOptionGroups: `(?i)`, which the
 * library cannot compile, as a group; the text decoded is no id, so a decoder's `(?i:…)` is left to the library; one of
 * an option group it does not read is left as written: decoderOptionProblem); `json` itself where none folds case.
 */
function withOnigurumaCaseFolds(json: Record<string, unknown>): Record<string, unknown> | string {
  let problem: string | undefined;
  const fold = (part: string, type: string) => (leaf: Record<string, unknown>) => {
    const pattern = leaf.pattern as { Regex?: unknown } | undefined;
    if (problem !== undefined || leaf.type !== type || typeof pattern?.Regex !== 'string') return leaf;
    const folded = onigurumaCaseFolds(pattern.Regex);
    if ('problem' in folded) problem = `its ${part}'s ${type} of ${valueText(pattern)}: ${folded.problem}`;
    return 'regex' in folded && folded.regex !== pattern.Regex ? { ...leaf, pattern: { Regex: folded.regex } } : leaf;
  };
  const pre = mapSequenceLeaves(json.pre_tokenizer, 'pretokenizers', fold('pre_tokenizer', 'Split'));
  const normalizer = mapSequenceLeaves(json.normalizer, 'normalizers', fold('normalizer', 'Replace'));
  const decoder = mapSequenceLeaves(json.decoder, 'decoders', (leaf) => {
    const pattern = leaf.pattern as { Regex?: unknown } | undefined;
    if (problem !== undefined || leaf.type !== 'Replace' || typeof pattern?.Regex !== 'string') return leaf;
    const read = withOptionGroups(pattern.Regex);
    const regex = 'regex' in read ? withSensitiveGroupsApart(read.regex) : pattern.Regex;
    return regex !== pattern.Regex ? { ...leaf, pattern: { Regex: regex } } : leaf;
  });
  if (problem !== undefined) return problem;
  return pre === json.pre_tokenizer && normalizer === json.normalizer && decoder === json.decoder ? json : { ...json, pre_tokenizer: pre, normalizer, decoder };
}

/**
 * Why a tokenizer.json object's decoder cannot be read, in one line: a Replace (a Sequence's at any depth) whose regex
 * holds an option group withOptionGroups does not read (`(?m)`, `(?x:…)`), which tokenizers' Oniguruma reads and
 * @huggingface/tokenizers (and so transformers.js) cannot compile; undefined where none does.
 */
export function decoderOptionProblem(json: object): string | undefined {
  for (const { leaf } of sequenceLeaves((json as { decoder?: unknown }).decoder, 'decoders')) {
    const regex = (leaf.pattern as { Regex?: unknown } | undefined)?.Regex;
    if (leaf.type !== 'Replace' || typeof regex !== 'string') continue;
    const read = withOptionGroups(regex);
    if ('problem' in read) return `its decoder's Replace of ${valueText({ Regex: regex })}: ${read.problem}`;
  }
  return undefined;
}

/**
 * The regexes of a tokenizer.json object's decoder Replaces (a Sequence's at any depth) holding a `(?i:…)` group that
 * @huggingface/tokenizers (and so transformers.js) folds otherwise than tokenizers' Oniguruma (onigurumaCaseFolds
 * refuses or widens it: é with É, ſ with s, ß with ss): eval leaves a decoder to the library, as the text decoded is no
 * id, but transformers.js's decode() then gives other text than tokenizers'.
 */
export function decoderFoldsOtherwise(json: object): string[] {
  return sequenceLeaves((json as { decoder?: unknown }).decoder, 'decoders').flatMap(({ leaf }) => {
    const regex = (leaf.pattern as { Regex?: unknown } | undefined)?.Regex;
    if (leaf.type !== 'Replace' || typeof regex !== 'string') return [];
    const read = withOptionGroups(regex);
    const folded = onigurumaCaseFolds(regex);
    return 'regex' in read && !('regex' in folded && folded.regex === withSensitiveGroupsApart(read.regex)) ? [regex] : [];
  });
}

/**
 * A tokenizer.json whose pre-tokenizer, a ByteLevel itself (not within a Sequence), prepends a space as
 * tokenizer_config.json's `add_prefix_space` says (false where it says nothing) where transformers loads the folder as
 * RobertaTokenizer or GPT2Tokenizer (`className`: autoTokenizerClass's; Fast or not), as both its versions do: 4.x's
 * PreTrainedTokenizerFast rewrites the pre-tokenizer's add_prefix_space to the config's (`kwargs.get(
 * "add_prefix_space", False)`), 5.x's classes build their ByteLevel of it; a config value other than true or false is
 * left to the file's (4.x fails to build that and keeps the file's). `json` itself otherwise: the file's, as
 * @huggingface/tokenizers, transformers.js and 5.x's PreTrainedTokenizerFast read it (4.x applies the config's to
 * every class). trim_offsets moves offsets only.
 */
export function withConfigPrefixSpace(json: Record<string, unknown>, config: TokenizerConfigJson, className: string | undefined): Record<string, unknown> {
  const pre = json.pre_tokenizer as Record<string, unknown> | null | undefined;
  const wanted = config.add_prefix_space === undefined ? false : config.add_prefix_space;
  if (
    pre?.type !== 'ByteLevel' ||
    !PREFIX_SPACE_CLASSES.has(className?.replace(/Fast$/, '') ?? '') ||
    typeof wanted !== 'boolean' ||
    pre.add_prefix_space === wanted
  )
    return json;
  return { ...json, pre_tokenizer: { ...pre, add_prefix_space: wanted } };
}

/**
 * The tokenizer.json object of a model folder's tokenizer files as loadTokenizer reads them (tokenizer.json if present,
 * as its fast tokenizer reads it with the folder's config (fastTokenizerJson), else the one it builds from vocab.txt,
 * else from vocab.json with merges.txt, else from an ALBERT, XLM-R or CamemBERT SentencePiece model), with the file
 * read and `asRead` set where that is the folder's tokenizer.json unchanged (`bytes`: that file's bytes as read, which
 * --format transformers.js writes, the file its checks read), and `tokenizerClass` where the reading
 * chose the tokenizer's class (a SentencePiece model's family, by tokenizer_config.json's or config.json's
 * tokenizer_class or config.json's model_type); undefined when the folder has none of them; with the folder's
 * tokenizer config (`config`: readConfig's) and, where the reading looked it up (a tokenizer.json's, a vocab.txt's), the class
 * AutoTokenizer loads the folder as (`autoClass`: autoTokenizerClass's), so that loadTokenizer reads neither again.
 * The one reading of a folder's tokenizer files that the vocabulary checks and --format transformers.js share, kept for
 * the last folders read while their side files' stamp holds (sideFilesKeeper, as loadTokenizer keeps tokenizers): a
 * sweep's plan asks it of each folder for its check that the folder holds a tokenizer, its tokenizer reading version,
 * its tokenizer and its vocabulary, each of which read and parsed the folder's tokenizer.json again. What it gives is
 * shared: not to be changed.
 */
export function folderTokenizerJson(dir: string): FolderTokenizerJson | undefined {
  return tokenizerFolders(dir, () => readFolderTokenizerJson(dir));
}

/** The tokenizer.json objects folderTokenizerJson read last, by folder (as loadedTokenizers keeps tokenizers). */
const tokenizerFolders = sideFilesKeeper<FolderTokenizerJson | undefined>(LOADED_TOKENIZERS);

/** A folder's tokenizer files read (folderTokenizerJson). */
type FolderTokenizerJson = NonNullable<ReturnType<typeof readFolderTokenizerJson>>;

/** folderTokenizerJson's reading, done anew. */
function readFolderTokenizerJson(dir: string):
  | {
      file: string;
      json: Record<string, unknown>;
      asRead: boolean;
      /** The bytes of tokenizer.json as read, where `asRead`. */
      bytes?: Buffer;
      tokenizerClass?: string;
      config: TokenizerConfigJson;
      autoClass?: string;
      brokenTemplates?: BrokenTemplates;
      /** Why its decoder, left out of `json`, cannot be read (fastTokenizerJson's decoderProblem). */
      decoderProblem?: string;
      /** The folder's tokenizer.json as parsed, before fastTokenizerJson read it (`json`), where it has one. */
      parsed?: Record<string, unknown>;
    }
  | undefined {
  const jsonFile = join(dir, 'tokenizer.json');
  const config = readConfig(dir);
  if (existsSync(jsonFile)) {
    const bytes = readModelFile(jsonFile);
    const read = jsonObjectOf(bytes, jsonFile);
    const autoClass = autoTokenizerClass(dir, config);
    // (its integers written as floats, 3.0, which JSON.parse reads as 3 and tokenizers refuses)
    const wholeFloats = jsonWholeFloats(bytes.toString('utf8'));
    const { json, brokenTemplates, decoderProblem } = fastTokenizerJson(read, config, jsonFile, autoClass, wholeFloats);
    return {
      file: jsonFile,
      json,
      asRead: json === read,
      ...(json === read ? { bytes } : {}),
      config,
      autoClass,
      brokenTemplates,
      ...(decoderProblem === undefined ? {} : { decoderProblem }),
      parsed: read,
    };
  }
  const built = (file: string, json: object) => ({ file, json: json as Record<string, unknown>, asRead: false, config });
  const vocabFile = join(dir, 'vocab.txt');
  if (existsSync(vocabFile)) {
    const { json, autoClass } = vocabFolderTokenizerJson(vocabFile, config);
    return { ...built(vocabFile, json), autoClass };
  }
  const slowOnly = slowOnlyBpeClass(dir, config);
  if (slowOnly !== undefined)
    throw new DataError(
      `${dir}: its vocab.json and merges.txt are ${slowOnly}'s BPE (word ends marked </w>, Moses pre-tokenizing), which compress does not read (it reads these files as byte-level BPE): give a folder holding a tokenizer.json of this tokenizer (tokenizers' BPE with end_of_word_suffix "</w>")`,
    );
  const bpe = bpeFiles(dir);
  if (bpe) return built(bpe.vocab, bpeTokenizerJson(bpe, config));
  if (sentencePieceFile(dir) === undefined) return undefined;
  const spm = sentencePieceFolderTokenizerJson(dir, config);
  return { ...built(spm.file, spm.json), tokenizerClass: spm.tokenizerClass };
}

/**
 * The slow-only class (XLMTokenizer, FlaubertTokenizer) whose BPE `dir`'s vocab.json and merges.txt are where it holds
 * no tokenizer.json or vocab.txt, which folderTokenizerJson refuses (their word ends are marked </w>: not byte-level
 * BPE, as it read them before); undefined otherwise.
 */
function slowOnlyBpeClass(dir: string, config: TokenizerConfigJson): string | undefined {
  if (!bpeFilesRead(dir)) return undefined;
  const named = autoTokenizerClass(dir, config);
  return isSlowOnlyClass(named) ? named : undefined;
}

/**
 * The largest id of a tokenizer.json object's model vocabulary (an object of ids: WordPiece, BPE, WordLevel; Unigram's
 * [token, score] list by id), undefined for none; its added tokens are not counted (special tokens a config names that
 * the vocabulary lacks take the ids after it, as transformers adds them).
 */
function largestVocabularyId(tokenizer: object): number | undefined {
  let largest: number | undefined;
  for (const id of modelVocabulary(tokenizer)?.values() ?? []) if (typeof id === 'number' && (largest === undefined || id > largest)) largest = id;
  return largest;
}

/**
 * Throws a one-line SettingsError when the vocabulary of `tokenizer` (a tokenizer.json object, or a tokenizer folder,
 * read as loadTokenizer reads it) has ids past the `rows` of the word embedding of `model` (one of another model, given
 * with --tokenizer): `who` names the tokenizer. Its added tokens are not counted (largestVocabularyId).
 */
export function checkVocabularyRows(tokenizer: object | string, rows: number, who: string, model: string): void {
  const json = typeof tokenizer === 'string' ? folderTokenizerJson(tokenizer)?.json : tokenizer;
  const largest = json && largestVocabularyId(json);
  if (largest !== undefined && largest >= rows)
    throw new SettingsError(
      `${who}: its vocabulary has token ids up to ${largest}, but ${model} has ${rows} rows in its word embedding: the tokenizer's vocabulary is not the model's`,
    );
}

/**
 * The vocabulary (token → id) of a model folder's tokenizer files, read as loadTokenizer reads them (tokenizer.json if
 * present, else the one it builds from vocab.txt, else from vocab.json with merges.txt, else from a SentencePiece model: the model's vocabulary and the
 * added tokens), with the file read; undefined when the folder has none of them. Two folders tokenize alike only if
 * these agree, whatever the files' formatting. Files loadTokenizer refuses as it reads them (folderTokenizerJson: a
 * part of no type tokenizers knows, a model of no vocab, an added token of no id) are refused with its DataError, and
 * a tokenizer.json of no model (`{}`) too, with loadTokenizer's line, where its vocabulary was read (empty:
 * distillation's check said '0 tokens against 30522' before the real refusal); the tokenizer is not built (30–100 ms
 * of CPU), so a refusal of how it reads text (added tokens normalized to one text) is left to its load.
 */
export function readVocabulary(dir: string): FolderVocabulary | undefined {
  return readVocabularies(dir, () => {
    const found = folderTokenizerJson(dir);
    if (found === undefined) return undefined;
    if (modelVocabulary(found.json) === undefined) loadTokenizer(dir);
    return { file: found.file, vocab: folderVocabulary(found.json) };
  });
}

/** A folder's vocabulary as readVocabulary gives it: the file read, and token → id. */
export interface FolderVocabulary {
  readonly file: string;
  readonly vocab: ReadonlyMap<string, number>;
}

/**
 * The vocabularies readVocabulary read last, by folder, kept as loadedTokenizers keeps tokenizers: a sweep's plan
 * compares each distilled point's student and teacher vocabularies, where it read and parsed both folders' tokenizer
 * files for each point.
 */
const readVocabularies = sideFilesKeeper<FolderVocabulary | undefined>(LOADED_TOKENIZERS);

/** The model vocabulary and the added tokens of a tokenizer.json object (`json`), token → id. */
function folderVocabulary(json: { model?: { vocab?: unknown }; added_tokens?: Array<{ id?: unknown; content?: unknown }> }): Map<string, number> {
  const vocab = new Map<string, number>(modelVocabulary(json));
  for (const t of json.added_tokens ?? []) if (typeof t.content === 'string' && typeof t.id === 'number') vocab.set(t.content, t.id);
  return vocab;
}

/** The first difference between two vocabularies (token 'x': id 3 against 5), or undefined when they are equal. */
export function vocabularyDifference(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): string | undefined {
  if (a === b) return undefined;
  if (a.size !== b.size) return `${a.size} tokens against ${b.size}`;
  for (const [token, id] of a) {
    const other = b.get(token);
    if (other !== id) return `token ${quotedText(token)}: id ${id} against ${other ?? 'none'}`;
  }
  return undefined;
}

/**
 * The WordPiece tokenizer.json object for a vocab.txt, cased or uncased per the folder's tokenizer_config.json
 * (`config`, as `readConfig` gives it): what `loadTokenizer` uses when a folder has no tokenizer.json. Its
 * do_lower_case, strip_accents and tokenize_chinese_chars (True, None, True where left out) build the BertNormalizer,
 * as transformers' fast tokenizer converts the slow one's: a value other than true or false (strip_accents null too),
 * on which transformers fails to build it, is a one-line DataError (checkNormalizerSetting).
 */
export function vocabTokenizerJson(vocabFile: string, config: TokenizerConfigJson): object {
  return vocabFolderTokenizerJson(vocabFile, config).json;
}

/**
 * vocabTokenizerJson's object, and the class AutoTokenizer loads the folder as (`autoClass`: autoTokenizerClass's,
 * looked up after the vocabulary is read), which folderTokenizerJson gives on so that config.json is read once.
 */
function vocabFolderTokenizerJson(vocabFile: string, config: TokenizerConfigJson): { json: object; autoClass: string | undefined } {
  const setting = (name: 'do_lower_case' | 'strip_accents' | 'tokenize_chinese_chars', classDefault: boolean | null) => {
    const value = config[name] === undefined ? classDefault : config[name];
    checkNormalizerSetting(name, value, join(dirname(vocabFile), 'tokenizer_config.json'), "transformers' fast tokenizer of vocab.txt");
    return value as boolean | null;
  };
  const vocab = readVocabFile(vocabFile);
  const autoClass = autoTokenizerClass(dirname(vocabFile), config);
  const mpnet = autoClass?.replace(/Fast$/, '') === MPNET_CLASS;
  const named = bertSpecialTokens(config, mpnet ? MPNET_SPECIAL_TOKENS : DEFAULT_BERT_SPECIAL_TOKENS);
  const json = wordPieceTokenizerJson(vocab, vocabFile, {
    doLowerCase: setting('do_lower_case', true) as boolean,
    stripAccents: setting('strip_accents', null),
    tokenizeChineseChars: setting('tokenize_chinese_chars', true) as boolean,
    specialTokens: named,
    clsTypeId: vocabClsType(autoClass),
    mpnet,
  });
  const added = withAddedTokens(json, slowAddedTokens(dirname(vocabFile), config), config, {
    unk_token: named.unk,
    sep_token: named.sep,
    pad_token: named.pad,
    cls_token: named.cls,
    mask_token: named.mask,
  });
  return { json: added, autoClass };
}

/**
 * The token type of [CLS] in a vocab.txt folder's templates as transformers' converter of the class AutoTokenizer loads
 * it as (`autoClass`: autoTokenizerClass's) writes it: 2 for FunnelTokenizer (FunnelConverter, `{cls}:2`: the Funnel Transformer's
 * classifier token type, as its slow tokenizer's cls_token_type_id), else 0 (BertConverter's); since tokenizer reading
 * version 35, where every class's was 0.
 */
function vocabClsType(autoClass: string | undefined): number {
  return autoClass?.replace(/Fast$/, '') === FUNNEL_CLASS ? 2 : 0;
}

/** The class whose converter gives [CLS] its own token type (vocabClsType). */
const FUNNEL_CLASS = 'FunnelTokenizer';

/** MPNetTokenizer's special tokens where tokenizer_config.json names none (its `__init__`'s defaults). */
const MPNET_SPECIAL_TOKENS: BertSpecialTokens = { unk: '[UNK]', cls: '<s>', sep: '</s>', pad: '<pad>', mask: '<mask>' };

/** Whether MPNet's special tokens for what `config` leaves out differ from BERT's, which a vocab.txt of MPNet's class was read with before version 38. */
function mpnetSpecialsOtherwise(config: TokenizerConfigJson): boolean {
  const [mpnet, bert] = [bertSpecialTokens(config, MPNET_SPECIAL_TOKENS), bertSpecialTokens(config)];
  return (Object.keys(mpnet) as Array<keyof BertSpecialTokens>).some((key) => mpnet[key] !== bert[key]);
}

/**
 * The options of a tokenizer_config.json that only transformers' slow (Python) tokenizers read and that
 * @huggingface/tokenizers (and so transformers.js) applies to every tokenizer: `remove_space` (ALBERT's, XLNet's: it
 * trims and collapses the text's whitespace; AlbertConverter writes no Strip, so an ALBERT text ending in a space lost
 * its final ▁) and `do_lowercase_and_remove_accent` (XLMTokenizer's: it lower-cases the text before the normalizer, so
 * a cased tokenizer read 'MOVIE' as 'movie'). tokenizers and transformers' fast tokenizers never apply them.
 */
const SLOW_ONLY_CONFIG_KEYS = ['remove_space', 'do_lowercase_and_remove_accent'] as const;

/** `config` without SLOW_ONLY_CONFIG_KEYS: what a fast tokenizer reads of it. */
export function withoutSlowOnlyOptions<T extends Record<string, unknown>>(config: T): T {
  const out = { ...config };
  for (const key of SLOW_ONLY_CONFIG_KEYS) delete out[key];
  return out;
}

/**
 * Wraps a parsed tokenizer.json (and tokenizer_config.json contents) as a TextTokenizer; `tokenTypes` false (a class
 * that returns none: returnsTokenTypes) gives type 0 for every token, what the model computes without them.
 */
export function tokenizerFromJson(
  json: object,
  config: TokenizerConfigJson,
  source: string,
  tokenTypes = true,
  brokenTemplates: BrokenTemplates = templateProblems(json),
): TextTokenizer {
  let tokenizer: Tokenizer;
  const libraryConfig = withoutSlowOnlyOptions(config);
  try {
    tokenizer = new Tokenizer(withLibraryStandIns(json), libraryConfig);
  } catch (e) {
    throw new DataError(`${source}: not a tokenizer we can load: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  honourSingleWord(tokenizer);
  normalizeAsTokenizers(tokenizer, json, source);
  const sharedText = normalizedAddedTokensAsTokenizers(tokenizer);
  if (sharedText !== undefined) throw new DataError(`${source}: ${sharedText}`);
  splitOnMetaspace(tokenizer, json);
  splitAsTokenizers(tokenizer, json);
  prependFirstAtTextStart(tokenizer, json);
  modelPerPreToken(tokenizer);
  const unigramMayFail = unigramWithoutUnk(tokenizer, json, source);
  unigramByteFallback(tokenizer, json);
  prefixedMergesAsTokenizers(tokenizer, json);
  templateIdsAsTokenizers(tokenizer);
  const tokenId = keepModelVocabulary(tokenizer, json);
  modelPiecesApart(tokenizer);
  const post = tokenizer.post_processor;
  /** The tokenizer's template (special tokens and token types) applied to already-truncated tokens. */
  const template = (a: Piece[], b: Piece[] | null): { tokens: Array<Piece | SpecialPiece>; token_type_ids?: number[] } =>
    post ? post(a as string[], b as string[] | null, true) : { tokens: b ? [...a, ...b] : a };
  // (a template tokenizers fails on refuses the texts it applies to, at their first encode, as tokenizers reads the file)
  const broken = brokenTemplates;
  const specialsSingle = broken.single ? 0 : template([], null).tokens.length;
  const specialsPair = broken.pair ? 0 : template([], []).tokens.length;
  if (!broken.single && !broken.pair && specialsSingle === 0 && specialsPair === 0) warnNoSpecialTokens(tokenId, config, source);
  const unk = unknownToken(tokenId, json);
  const unkId = unk?.id ?? 0;
  // A token is an added token's id first (by its text, or by its normalized text: a token matched on the normalized
  // text comes back normalized, e.g. lower-cased), then the model's, as tokenizers gives an added token found in the
  // text its own id (added_vocabulary.rs, split_with_indices) even where the model lists its normalized text under
  // another id ('Hello' added to an uncased vocabulary that has 'hello'); the model's piece 'hello' of a word holding a
  // single_word 'Hello' is the model's id, as tokenizers reads it (a ModelPiece: modelPiecesApart).
  const added = (tokenizer as unknown as AddedTokenSplitting).added_tokens_map;
  // (a model whose unk_token its vocabulary lacks fails, in tokenizers, on a text holding a piece it does not know)
  const missingUnk = missingUnkToken(json);
  const unknownId = (textA: string, textB: string | null): number => {
    if (missingUnk === undefined) return unkId;
    const { type, unk } = missingUnk;
    const text = quotedText((textB === null ? textA : `${textA} / ${textB}`).slice(0, 60));
    throw new DataError(
      `${source}: its ${type} model's unk_token ${quotedText(unk)} is not in its vocabulary, and ${text} holds a piece the vocabulary lacks: tokenizers fails on such a text (${type === 'BPE' ? `'Unk token \`${unk}\` not found in the vocabulary'` : `'${type} error: Missing [UNK] token from the vocabulary', whatever its unk_token`}); add ${quotedText(unk)} to the model's vocabulary`,
    );
  };
  /** A piece's id: an added token's text's, else the model's (a ModelPiece the model's); undefined where neither lists it. */
  const pieceId = (t: Piece): number | undefined =>
    typeof t === 'string' ? (added?.get(t)?.id ?? tokenizer.token_to_id(t)) : 'addedId' in t ? t.addedId : tokenizer.token_to_id(t.modelPiece);
  const padId = padTokenId(tokenId, json as TokenizerJsonPadding, config);

  const modelMaxLength = modelMaxLengthOf(config);
  const written = modelMaxLengthWritten(config);
  // (a text's tokens as the model gives them, before the post-processor, as tokenizers truncates and then applies it:
  // the library's tokenize passes them through the single template, which a template of no Sequence A, or of two,
  // emptied or repeated, a pair's second text too)
  const tokensOf = (text: string): Piece[] => (tokenizer as unknown as { encode_text(text: string): Piece[] }).encode_text(text);
  const splitsOf = withModelSplitEnds(tokenizer);
  const modelMayFail = missingUnk !== undefined || unigramMayFail;
  return {
    source,
    padId,
    ...(unk ? { unk } : {}),
    modelMaxLength,
    ...(written === undefined ? {} : { modelMaxLengthWritten: written }),
    encode(givenA, givenB, maxLength) {
      const textA = wellFormed(givenA);
      const textB = givenB === null ? null : wellFormed(givenB);
      const problem = textB === null ? broken.single : broken.pair;
      if (problem) throw new DataError(`${source}: ${problem}`);
      const specials = textB === null ? specialsSingle : specialsPair;
      if (maxLength < specials + 1) {
        // (a length of tokenizer_config.json's model_max_length may be it, the length where no --max-length is given)
        const fromConfig =
          maxLength === modelMaxLength
            ? ` (or, where none is given, ${join(dirname(source), 'tokenizer_config.json')}'s model_max_length ${written ?? maxLength})`
            : '';
        throw new SettingsError(
          `--max-length ${maxLength}${fromConfig} leaves no room for text after ${counted(specials, 'special token')}: give --max-length ${specials + 1} or more`,
        );
      }
      // (a pair compared by its texts' lengths as tokenizers counts them where it truncates, cappedLength; a single
      // text's split ends are read only where its model can fail, below)
      const [a, b] =
        textB === null ? [modelMayFail ? splitsOf(textA) : { tokens: tokensOf(textA), ends: [], failed: [] }, null] : [splitsOf(textA), splitsOf(textB)];
      const lengths = b ? ([cappedLength(a.ends, a.tokens.length, maxLength), cappedLength(b.ends, b.tokens.length, maxLength)] as const) : undefined;
      // (tokenizers tokenizes each text up to its early exit, cappedLength, before it truncates: a split the model fails
      // on there, or a piece it lacks, fails though truncation drops it; one past it is never tokenized)
      for (const t of b ? [a, b] : [a]) {
        const reached = cappedLength(t.ends, t.tokens.length, maxLength);
        const failed = t.failed.find((f) => f.at < reached);
        if (failed) throw failed.error;
        if (missingUnk !== undefined && t.tokens.slice(0, reached).some((p) => pieceId(p) === undefined)) unknownId(textA, textB);
      }
      const [ta, tb] = truncateLongestFirst<Piece>(a.tokens, b?.tokens ?? null, maxLength - specials, lengths);
      const out = template(ta, tb);
      const ids = out.tokens.map((t) => (typeof t !== 'string' && 'specialId' in t ? t.specialId : (pieceId(t) ?? unknownId(textA, textB))));
      return { ids, typeIds: (tokenTypes ? out.token_type_ids : undefined) ?? new Array<number>(ids.length).fill(0) };
    },
  };
}

/**
 * `text` with each lone surrogate (half of a UTF-16 pair without the other: a text cut inside an emoji) read as U+FFFD,
 * as the tokenizers Node binding hands such a text to Rust (and as TextEncoder and Buffer write it in UTF-8, and a
 * file's bytes that are no UTF-8 read), where the library read it as a character of its own: another id than tokenizers
 * gives (a vocabulary's U+FFFD piece never found: a byte-fallback model's bytes EF BF BD, a word holding it one unknown
 * token). String.prototype.toWellFormed (Node 20; not in this project's ES2022 lib): the text itself where it has none.
 */
const wellFormed = (text: string): string => (text as string & { toWellFormed(): string }).toWellFormed();

/** A TemplateProcessing's special token's id as templateIdsAsTokenizers gives it: one of its `ids`. */
interface SpecialPiece {
  readonly specialId: number;
}

/** A piece the model gave whose text is an added token's normalized text, as modelPiecesApart marks it: the model's id. */
interface ModelPiece {
  readonly modelPiece: string;
}

/**
 * An added token of normalized true found in the normalized text where its normalized text is another added token's
 * content (which tokenizers finds in the text as written only), as addedTokensByStage marks it: its own id.
 */
interface AddedPiece {
  readonly addedId: number;
}

/** A text's token before the post-processor: its text (an added token's, else the model's piece), a ModelPiece or an AddedPiece. */
type Piece = string | ModelPiece | AddedPiece;

/**
 * Makes `tokenizer`'s model mark each piece it gives whose text is an added token's (its content, or its normalized
 * text) of another id than the model's as a ModelPiece, read as the model's id (undefined, the unknown token, where the
 * model lacks it), as tokenizers gives the model's pieces their model's ids and finds added tokens only with its
 * splitters (added_vocabulary.rs split_with_indices), where the text was looked up as the added token's first: a
 * normalized token 'AB' under a Lowercase whose piece 'ab' the model lists, given inside a word a single_word token is
 * not split out of; a WordLevel's word 'tok' of a text 'TOK' lower-cased, which an added token 'tok' of normalized false
 * is not found in and the model lacks (tokenizers: the unknown token); a Unigram's unknown 'z' alike. An added token's
 * text the model lists under the token's id (ids re-derived on loading) is not marked.
 */
function modelPiecesApart(tokenizer: Tokenizer): void {
  const added = (tokenizer as unknown as AddedTokenSplitting).added_tokens_map;
  const model = (tokenizer as unknown as TokenizerModel).model;
  if (!added || typeof model?._call !== 'function') return;
  const apart = new Set([...added].filter(([key, t]) => tokenizer.token_to_id(key) !== t.id).map(([key]) => key));
  if (apart.size === 0) return;
  const call = model._call.bind(model);
  model._call = (tokens) => call(tokens).map((t): Piece => (apart.has(t) ? { modelPiece: t } : t)) as string[];
}

/**
 * A TemplateProcessing's fields as tokenizers reads them (tokenizer-fields.ts checked them; each special token a template
 * names is there where templateProblems finds nothing wrong with it, and only such a template is applied).
 */
interface TemplateJson {
  type: 'TemplateProcessing';
  single: TemplatePiece[];
  pair: TemplatePiece[];
  special_tokens: Record<string, { ids: number[] }>;
}
type TemplatePiece = { Sequence?: { id: 'A' | 'B'; type_id: number }; SpecialToken?: { id: string; type_id: number } };

/** A post-processor of a Tokenizer: its tokenizer.json object, a Sequence's parts, its processing. */
interface PostProcessorInstance {
  config?: { type?: unknown };
  processors?: Array<PostProcessorInstance | null>;
  post_process(tokens: unknown[], pair?: unknown[] | null, addSpecialTokens?: boolean): { tokens: unknown[]; token_type_ids?: number[] };
}

/**
 * Makes `tokenizer`'s TemplateProcessing post-processors (alone or in a Sequence) give each special token of a template
 * as the ids its special_tokens entry lists, each of the piece's type, as tokenizers does (processors/template.rs,
 * apply_template: an entry's `ids`, several where it lists several), and its BertProcessing ones their cls's and
 * sep's ids (processors/bert.rs), where @huggingface/tokenizers (and so transformers.js) gives the texts, which were
 * then looked up as tokens (an entry of ids [1, 2, 1] one unknown token: specialIdsRead).
 */
function templateIdsAsTokenizers(tokenizer: Tokenizer): void {
  const leaves = (p: PostProcessorInstance | null): Array<PostProcessorInstance | null> => (p?.processors ? p.processors.flatMap(leaves) : [p]);
  for (const p of leaves(tokenizer.post_processor as unknown as PostProcessorInstance | null)) {
    if (p?.config?.type === 'BertProcessing') {
      // (the library adds cls[0] and sep[0], the texts: their ids instead, as processors/bert.rs adds cls.1 and sep.1)
      const { cls, sep } = p.config as unknown as { cls: [string, number]; sep: [string, number] };
      Object.assign(p, { cls: [{ specialId: cls[1] } satisfies SpecialPiece], sep: [{ specialId: sep[1] } satisfies SpecialPiece] });
    }
    if (p?.config?.type !== 'TemplateProcessing') continue;
    const { single, pair, special_tokens: specials } = p.config as TemplateJson;
    p.post_process = (a, b = null, addSpecialTokens = true) => {
      const tokens: unknown[] = [];
      const types: number[] = [];
      for (const piece of b === null ? single : pair) {
        if (piece.Sequence) {
          const part = piece.Sequence.id === 'A' ? a : (b ?? []);
          tokens.push(...part);
          types.push(...part.map(() => piece.Sequence!.type_id));
        } else if (piece.SpecialToken && addSpecialTokens) {
          for (const id of specials[piece.SpecialToken.id]!.ids) {
            tokens.push({ specialId: id } satisfies SpecialPiece);
            types.push(piece.SpecialToken.type_id);
          }
        }
      }
      return { tokens, token_type_ids: types };
    };
  }
}

/** What a tokenizer's TemplateProcessing post-processors hold that tokenizers fails on at every single text or sentence pair (templateProblems). */
export interface BrokenTemplates {
  single?: string;
  pair?: string;
}

/**
 * What a tokenizer.json object's TemplateProcessing post-processors (alone or in a Sequence, as tokenizers reads them:
 * withPartsAsRead) hold that tokenizers fails on at every single text (`single`) or sentence pair (`pair`), in one line
 * each naming where (templateProblem): the first found.
 */
export function templateProblems(json: object): BrokenTemplates {
  const post = (json as { post_processor?: unknown }).post_processor;
  const found: BrokenTemplates = {};
  for (const { leaf, path } of sequenceLeaves(post, 'processors')) {
    if (leaf.type !== 'TemplateProcessing') continue;
    const where = `post_processor${path.map((i) => `.processors[${i}]`).join('')}`;
    for (const template of ['single', 'pair'] as const) found[template] ??= templateProblem(leaf, template, where);
  }
  return found;
}

/**
 * Whether a tokenizer.json object's TemplateProcessing post-processor (alone or in a Sequence) has a single template of
 * other than one Sequence A (none, or two), which tokenizerFromJson read applied to each text before the template too
 * (the library's tokenize passes a text through it): a text repeated or emptied, a pair's texts too.
 */
export function singleTemplateOddA(json: object): { single: boolean; pair: boolean } {
  const post = (json as { post_processor?: unknown }).post_processor;
  const counts = sequenceLeaves(post, 'processors').flatMap(({ leaf }) => {
    const single = (leaf as Partial<TemplateJson>).single;
    return leaf.type === 'TemplateProcessing' && Array.isArray(single) ? [single.filter((piece) => piece?.Sequence?.id === 'A').length] : [];
  });
  // (a single template of no A gave a single text [] before the template as now: its ids are as they were)
  return { single: counts.some((n) => n > 1), pair: counts.some((n) => n !== 1) };
}

/**
 * Which templates of a tokenizer.json object's TemplateProcessing post-processors (alone or in a Sequence; a
 * BertProcessing's cls or sep: both templates) give a special token ids other than its text's (its added token's id,
 * else the model's, else the unknown token's): an entry of several ids, or of an id its text does not have, which
 * tokenizers gives as listed and @huggingface/tokenizers (and so transformers.js) as its text's
 * (templateIdsAsTokenizers).
 */
export function specialIdsRead(json: object): { single: boolean; pair: boolean } {
  const post = (json as { post_processor?: unknown }).post_processor;
  const model = modelVocabulary(json) ?? new Map<string, number>();
  const added = (json as { added_tokens?: unknown }).added_tokens;
  const addedIds = new Map((Array.isArray(added) ? (added as AddedTokenJson[]) : []).map((t) => [t?.content, t?.id]));
  const tokenId: TokenId = (token) => addedIds.get(token) ?? model.get(token);
  const unkId = unknownToken(tokenId, json)?.id;
  const found = { single: false, pair: false };
  const otherId = (text: string, ids: readonly number[] | undefined) => ids !== undefined && (ids.length !== 1 || ids[0] !== (tokenId(text) ?? unkId));
  for (const { leaf } of sequenceLeaves(post, 'processors')) {
    if (leaf.type === 'BertProcessing') {
      const other = [leaf.cls, leaf.sep].some((t) => Array.isArray(t) && otherId(String(t[0]), [t[1] as number]));
      found.single ||= other;
      found.pair ||= other;
    }
    if (leaf.type !== 'TemplateProcessing') continue;
    const p = leaf as unknown as TemplateJson;
    for (const template of ['single', 'pair'] as const) {
      found[template] ||= (p[template] ?? []).some(({ SpecialToken: s }) => {
        return s !== undefined && otherId(s.id, p.special_tokens?.[s.id]?.ids);
      });
    }
  }
  return found;
}

/** A normalizer of a Tokenizer as normalizeAsTokenizers mends it: its tokenizer.json object, a Sequence's parts. */
interface NormalizerInstance {
  config?: {
    type?: unknown;
    clean_text?: unknown;
    handle_chinese_chars?: unknown;
    strip_accents?: unknown;
    lowercase?: unknown;
    strip_left?: unknown;
    strip_right?: unknown;
  };
  normalize(text: string): string;
  normalizers?: Array<NormalizerInstance | null>;
}

/**
 * `text` with each character lower-cased by itself, as tokenizers' NormalizedString::lowercase (char::to_lowercase),
 * where JS's toLowerCase reads the characters around a capital sigma and gives 'ς' at a word's end (Final_Sigma).
 */
export function lowercaseEachChar(text: string): string {
  let out = '';
  for (const c of text) out += c.toLowerCase();
  return out;
}

/**
 * The code point ranges of the characters tokenizers' BertNormalizer puts a space either side of with
 * handle_chinese_chars (normalizers/bert.rs is_chinese_char: the CJK Unified Ideographs blocks and their extensions),
 * in its order.
 */
const CHINESE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b920, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

/** A character of CHINESE_RANGES, by code point. */
const CHINESE_CHARS = new RegExp(`[${CHINESE_RANGES.map(([a, b]) => `\\u{${a.toString(16)}}-\\u{${b.toString(16)}}`).join('')}]`, 'gu');

/** Whether code point `cp` is one of CHINESE_RANGES' characters (a word of its own to a BertNormalizer with handle_chinese_chars). */
export function isChineseChar(cp: number): boolean {
  return CHINESE_RANGES.some(([a, b]) => cp >= a && cp <= b);
}

/** The whitespace a Strip normalizer of tokenizers strips at either end (normalizer.rs lrstrip: char::is_whitespace, White_Space), as regexes. */
const LEADING_WHITE_SPACE = /^\p{White_Space}+/u;
const TRAILING_WHITE_SPACE = /\p{White_Space}+$/u;

/**
 * Makes `tokenizer`'s BertNormalizers (a Sequence's at any depth) normalize as tokenizers' do (normalizers/bert.rs):
 * with handle_chinese_chars, a space either side of each Chinese character by code point (CHINESE_CHARS), where
 * @huggingface/tokenizers read the text's UTF-16 units and left the characters past U+FFFF (CJK extensions B to F,
 * '𠮶') inside their word, so 'ab𠮶cd' was one unknown word where tokenizers gives ab, [UNK], cd; and it and a
 * Lowercase lower-case each character by itself (lowercaseEachChar; a BertNormalizer after stripping accents, as
 * tokenizers orders them), where @huggingface/tokenizers lower-cased the text with toLowerCase, so a capital sigma
 * ending a word became 'ς' where tokenizers gives 'σ' ('ΟΔΟΣ' as ο ##δ ##ος, where tokenizers gives ο ##δ ##ο ##σ).
 * And its Strips strip White_Space (LEADING_WHITE_SPACE, TRAILING_WHITE_SPACE), where @huggingface/tokenizers trimmed with JS's trim, so a text ending
 * in U+FEFF (QQP's dev set has one) lost it, which tokenizers keeps (DeBERTa-v3's unknown token), and U+0085 stayed.
 * And its NFC, NFD, NFKC and NFKD (and a BertNormalizer's NFD before stripping accents) normalize by Unicode 9.0's
 * tables as tokenizers' crate does (normalizedAsTokenizers), where @huggingface/tokenizers read Node's later Unicode,
 * so NFKD made U+A7F2 a C that tokenizers keeps.
 * And its Nmts and ByteLevels (`json`'s, given to the library as empty Sequences, withLibraryStandIns) normalize by
 * nmtNormalized and byteLevelNormalized, and its Precompileds by their charsmaps (charsmapNormalizer, its refusals
 * naming `source`), where @huggingface/tokenizers applied NFKC whatever the charsmap says.
 */
function normalizeAsTokenizers(tokenizer: Tokenizer, json: object, source = 'tokenizer.json'): void {
  const mend = (n: NormalizerInstance | null | undefined) => {
    if (!n) return;
    for (const part of n.config?.type === 'Sequence' ? (n.normalizers ?? []) : []) mend(part);
    const c = n.config;
    if (c?.type === 'Lowercase') n.normalize = lowercaseEachChar;
    if (c?.type === 'StripAccents') n.normalize = (text) => text.replace(COMBINING_MARKS, '');
    if (c?.type === 'NFC' || c?.type === 'NFD' || c?.type === 'NFKC' || c?.type === 'NFKD') {
      const form = c.type;
      n.normalize = (text) => normalizedAsTokenizers(text, form);
    }
    if (c?.type === 'Strip') {
      const [left, right] = [c.strip_left === true, c.strip_right === true];
      n.normalize = (text) => {
        const t = left ? text.replace(LEADING_WHITE_SPACE, '') : text;
        return right ? t.replace(TRAILING_WHITE_SPACE, '') : t;
      };
    }
    if (c?.type !== 'BertNormalizer') return;
    n.normalize = (text) => {
      let t = c.clean_text ? bertCleanText(text) : text;
      if (c.handle_chinese_chars) t = t.replace(CHINESE_CHARS, ' $& ');
      if (c.strip_accents ?? c.lowercase) t = normalizedAsTokenizers(t, 'NFD').replace(NONSPACING_MARKS, '');
      return c.lowercase ? lowercaseEachChar(t) : t;
    };
  };
  const top = (tokenizer as unknown as { normalizer?: NormalizerInstance | null }).normalizer;
  mend(top);
  for (const { leaf, path } of sequenceLeaves((json as { normalizer?: unknown }).normalizer, 'normalizers')) {
    const instance = path.reduce<NormalizerInstance | null | undefined>((n, at) => n?.normalizers?.[at], top);
    if (leaf.type === 'Nmt' && instance) instance.normalize = nmtNormalized;
    if (leaf.type === 'ByteLevel' && instance) instance.normalize = byteLevelNormalized;
    if (leaf.type === 'Precompiled' && instance && typeof leaf.precompiled_charsmap === 'string')
      instance.normalize = charsmapNormalizer(leaf.precompiled_charsmap, source);
  }
}

/**
 * `text` as tokenizers' BertNormalizer cleans it (normalizers/bert.rs do_clean_text): U+0000, U+FFFD and its `is_other`
 * characters (Cc, Cf and Co of the unicode_categories crate's tables, Unicode 8.0: UNICODE8_OTHER) but tab, line feed
 * and carriage return dropped, each White_Space character (char::is_whitespace) made a space. @huggingface/tokenizers
 * read Node's later Unicode, so a format character assigned since 8.0 (U+0890, U+08E2, U+110CD, the Egyptian
 * hieroglyph format controls) was dropped where tokenizers keeps it.
 */
function bertCleanText(text: string): string {
  return text.replace(CLEANED_CHARS, (ch) => (ch === '\t' || ch === '\n' || ch === '\r' || !DROPPED_CHAR.test(ch) ? ' ' : ''));
}

/** What bertCleanText drops: U+0000, U+FFFD, Unicode 8.0's Cc, Cf and Co (and a lone surrogate, as the library did). */
const DROPPED_CLASS = `\\u{0}\\u{FFFD}${UNICODE8_OTHER}\\p{Cs}`;
const DROPPED_CHAR = new RegExp(`^[${DROPPED_CLASS}]$`, 'u');

/** What bertCleanText drops or makes a space (White_Space but those it drops: U+000B, U+000C, U+0085 …). */
const CLEANED_CHARS = new RegExp(`[${DROPPED_CLASS}\\p{White_Space}]`, 'gu');

/**
 * The characters tokenizers' BertNormalizer drops as accents after NFD (normalizers/bert.rs do_strip_accents:
 * `is_mark_nonspacing`, Mn of the unicode_categories crate's tables, Unicode 8.0), where @huggingface/tokenizers'
 * `\p{Mn}` read Node's later Unicode (U+09FE, U+0AFA, the Arabic marks U+0898–U+089F, U+08CA–U+08E1 … dropped where
 * tokenizers keeps them).
 */
const NONSPACING_MARKS = new RegExp(`[${UNICODE8_NONSPACING_MARK}]`, 'gu');

/**
 * The characters tokenizers' StripAccents normalizer drops (normalizers/strip.rs: `is_combining_mark` of the
 * unicode-normalization-alignments crate's tables, Mn, Mc and Me of Unicode 9.0), where @huggingface/tokenizers'
 * `\p{M}` read Node's later Unicode (U+0D00, U+09FE, U+1AC0 … dropped where tokenizers keeps them).
 */
const COMBINING_MARKS = new RegExp(`[${UNICODE9_MARK}]`, 'gu');

/** The characters tokenizers' Nmt normalizer drops and those it makes a space (normalizers/unicode.rs do_nmt), as regex classes Oniguruma and JS read alike. */
const NMT_DROPPED_CLASS = '[\\u0001-\\u0008\\u000B\\u000E-\\u001F\\u007F\\u008F\\u009F]';
const NMT_SPACE_CLASS = '[\\u0009\\u000A\\u000C\\u000D\\u1680\\u200B-\\u200F\\u2028\\u2029\\u2581\\uFEFF\\uFFFD]';
const NMT_DROPPED = new RegExp(NMT_DROPPED_CLASS, 'gu');
const NMT_SPACE = new RegExp(NMT_SPACE_CLASS, 'gu');

/**
 * The character GPT-2's byte-level alphabet writes each byte as (tokenizers' processors/byte_level.rs bytes_char,
 * bytes_to_unicode): the printable bytes !–~, ¡–¬ and ®–ÿ as themselves, the others as U+0100 onwards in byte order.
 */
const BYTE_CHARS: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0x100;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
})();

const UTF8 = new TextEncoder();

/** The byte pieces of `text`'s UTF-8 bytes, as tokenizers' byte fallback names them (é as <0xC3>, <0xA9>). */
function bytePieces(text: string): string[] {
  return Array.from(UTF8.encode(text), bytePiece);
}

/** The byte piece of the byte `b`, as tokenizers' byte fallback names it (<0xC3>). */
const bytePiece = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

/** `text` as a regex matching it literally, in escapes JS and Oniguruma read alike. */
function regexLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `text` as tokenizers' ByteLevel normalizer gives it (normalizers/byte_level.rs): each byte of its UTF-8 as BYTE_CHARS writes it ('我' as æĪĳ, a space as Ġ). */
export function byteLevelNormalized(text: string): string {
  let out = '';
  for (const b of UTF8.encode(text)) out += BYTE_CHARS[b];
  return out;
}

/** `text` as tokenizers' Nmt normalizer gives it (do_nmt): ASCII control characters but tab, line feed, form feed and carriage return dropped (and U+008F, U+009F); those four, U+1680, U+200B–U+200F, U+2028, U+2029, ▁, U+FEFF and U+FFFD each a space. */
export function nmtNormalized(text: string): string {
  return text.replace(NMT_DROPPED, '').replace(NMT_SPACE, ' ');
}

/** What modelPerPreToken reads and mends of a Tokenizer: its model. */
interface TokenizerModel {
  model?: { _call?: (tokens: string[]) => string[]; fuse_unk?: boolean };
}

/**
 * Whether a tokenizer.json object's normalizer holds a Precompiled (a Sequence's at any depth): a SentencePiece model's
 * charsmap, by which eval normalizes (charsmapNormalizer) and transformers.js does not (it applies NFKC).
 */
export function normalizesByCharsmap(json: object): boolean {
  return sequenceLeaves((json as { normalizer?: unknown }).normalizer, 'normalizers').some(({ leaf }) => leaf.type === 'Precompiled');
}

/** Whether a tokenizer.json normalizer normalizes at all: not none (absent, null) nor a Sequence of none at any depth. */
function hasNormalizer(normalizer: unknown): boolean {
  return sequenceLeaves(normalizer, 'normalizers').some(({ leaf }) => leaf.type !== undefined);
}

/** The instance @huggingface/tokenizers built of the pre-tokenizer leaf at `path` (sequenceLeaves) under `top`; undefined where one is missing. */
function instanceAt(top: PreTokenizerInstance | null | undefined, path: readonly number[]): PreTokenizerInstance | undefined {
  return path.reduce<PreTokenizerInstance | null | undefined>((instance, at) => instance?.tokenizers?.[at], top) ?? undefined;
}

/**
 * A tokenizer.json object's Metaspace pre-tokenizers that split (`split` true or absent, as tokenizers reads it), the
 * pre-tokenizer itself or a part of its Sequences at any depth: each one's path (sequenceLeaves; [] for the
 * pre-tokenizer itself) and its replacement character.
 */
function splittingMetaspaces(json: object): Array<{ path: number[]; replacement: string }> {
  return sequenceLeaves((json as { pre_tokenizer?: unknown }).pre_tokenizer, 'pretokenizers').flatMap(({ leaf: m, path }) => {
    if (m.type !== 'Metaspace' || m.split === false) return [];
    return [{ path, replacement: typeof m.replacement === 'string' && m.replacement !== '' ? m.replacement : '▁' }];
  });
}

/**
 * Makes `tokenizer`'s Metaspace pre-tokenizers that split (splittingMetaspaces of `json`) split their text before each
 * replacement character (▁), as tokenizers does (pre_tokenizers/metaspace.rs: split on the replacement with
 * MergedWithNext): @huggingface/tokenizers ignores `split` and gives the whole text as one pre-token, so a Unigram
 * model's best split ran across words (a piece with ▁ inside it matched over two) and its unknown pieces fused across
 * them (a model without a lone ▁ piece read two unknown words as one unknown token, modelPerPreToken mends the
 * fusing). Nothing changes for a tokenizer without such a Metaspace.
 */
function splitOnMetaspace(tokenizer: Tokenizer, json: object): void {
  const top = (tokenizer as unknown as { pre_tokenizer?: PreTokenizerInstance | null }).pre_tokenizer;
  for (const { path, replacement } of splittingMetaspaces(json)) {
    const instance = instanceAt(top, path);
    if (typeof instance?.pre_tokenize_text !== 'function') continue;
    const r = regexLiteral(replacement);
    const pieces = new RegExp(`${r}(?:(?!${r})[^])*|(?:(?!${r})[^])+`, 'gu');
    const pre = instance.pre_tokenize_text.bind(instance);
    instance.pre_tokenize_text = (text, options) => pre(text, options).flatMap((t) => t.match(pieces) ?? []);
  }
}

/**
 * The characters tokenizers' Punctuation pre-tokenizer splits on (pre_tokenizers/punctuation.rs is_punc: ASCII
 * punctuation or Unicode's P categories), as tokenizers reads them: its `is_punctuation` takes the P categories of the
 * unicode_categories crate's tables, Unicode 8.0 (UNICODE8_PUNCTUATION), where JS's `\p{P}` reads Node's later
 * Unicode: a punctuation mark assigned since 8.0 (U+061D, U+2E43–U+2E5D, U+1B7D …) splits no word in tokenizers. The
 * class eval reads (TOKENIZERS_PUNCTUATION_PIECE, TOKENIZERS_BERT_PIECES); PUNCTUATION_CLASS writes it for a
 * transformers.js export.
 */
const TOKENIZERS_PUNCTUATION_CLASS = `${UNICODE8_PUNCTUATION}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E`;

/**
 * `body`, a regex character class's body of `\u{…}` and `\uHHHH` escapes and ranges of them (the generated tables'),
 * written so that Oniguruma (tokenizers' Split) and JS (transformers.js, flag u) read the same characters whatever
 * their Unicode versions: a character of the Basic Multilingual Plane as `\uHHHH`, one past it as itself (`\u{…}` is
 * JS's alone, `\x{…}` Oniguruma's and transformers.js 4's alone).
 */
function portableClass(body: string): string {
  return body.replace(/\\u\{([0-9A-Fa-f]+)\}/g, (_, hex: string) => {
    const code = Number.parseInt(hex, 16);
    return code <= 0xffff ? `\\u${code.toString(16).toUpperCase().padStart(4, '0')}` : String.fromCodePoint(code);
  });
}

/**
 * TOKENIZERS_PUNCTUATION_CLASS as a transformers.js export's Splits write it (portableClass): Unicode 8.0's
 * punctuation, which transformers.js and tokenizers then read as tokenizers' Punctuation and BertPreTokenizer do,
 * where `\p{P}` read the engine's own Unicode (143 characters apart on Node 20.20's Unicode 17.0, each splitting a word
 * in transformers.js that eval keeps whole).
 */
const PUNCTUATION_CLASS = portableClass(TOKENIZERS_PUNCTUATION_CLASS);

/** A punctuation character (PUNCTUATION_CLASS), as a regex of the library's flags. */
const PUNCTUATION_PIECE = new RegExp(`[${PUNCTUATION_CLASS}]`, 'gu');

/** A punctuation character as tokenizers' Punctuation pre-tokenizer reads it (TOKENIZERS_PUNCTUATION_CLASS). */
const TOKENIZERS_PUNCTUATION_PIECE = new RegExp(`[${TOKENIZERS_PUNCTUATION_CLASS}]`, 'gu');

/**
 * `text` split as tokenizers' Punctuation pre-tokenizer of `behavior` splits it (pre_tokenizers/punctuation.rs: each
 * punctuation character a match of its own, split by splitPieces): Removed drops each, Isolated keeps each alone (the
 * default), MergedWithPrevious joins one to the piece before it unless that is a match, MergedWithNext to the piece
 * after it unless that is a match, Contiguous joins a run of them into one piece.
 */
export function punctuationPieces(text: string, behavior: string): string[] {
  return splitPieces(text, TOKENIZERS_PUNCTUATION_PIECE, behavior, false);
}

/**
 * `text` split as tokenizers splits a text on a pattern by a SplitDelimiterBehavior (tokenizer/normalizer.rs split,
 * tokenizer/pattern.rs find_matches): the matches of `pattern` (a global regex) found one after another as
 * Oniguruma's find_iter finds them (onig find.rs: an empty match right at the end of the match before it is skipped),
 * each match and each text between two matches a segment, flagged a match (the other way round where `invert`: the
 * text between matches is the match, tokenizers' Invert); then, by `behavior`, Removed drops the flagged segments,
 * Isolated keeps each segment, MergedWithPrevious joins a flagged segment to the one before it unless that is flagged,
 * MergedWithNext to the one after it unless that is flagged, Contiguous joins each run of segments of one flag (any
 * other behavior keeps each, as Isolated); empty pieces are dropped (pre_tokenizer.rs split).
 */
export function splitPieces(text: string, pattern: RegExp, behavior: string, invert: boolean): string[] {
  // (the pattern itself where it is global, as the library's are: its lastIndex is set before each search)
  const regex = pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
  const segments: Array<{ start: number; end: number; flagged: boolean }> = [];
  let [previous, from, lastMatchEnd] = [0, 0, -1];
  while (from <= text.length) {
    regex.lastIndex = from;
    const m = regex.exec(text);
    if (m === null) break;
    const [start, end] = [m.index, m.index + m[0].length];
    if (start === end && end === lastMatchEnd) {
      from += (text.codePointAt(from) ?? 0) > 0xffff ? 2 : 1;
      continue;
    }
    [from, lastMatchEnd] = [end, end];
    if (previous !== start) segments.push({ start: previous, end: start, flagged: invert });
    segments.push({ start, end, flagged: !invert });
    previous = end;
  }
  if (previous !== text.length) segments.push({ start: previous, end: text.length, flagged: invert });
  const next = behavior === 'MergedWithNext';
  const pieces: Array<{ start: number; end: number; removed: boolean }> = [];
  let lastFlagged = false;
  for (const s of next ? [...segments].reverse() : segments) {
    const last = pieces.at(-1);
    const joins = behavior === 'Contiguous' ? s.flagged === lastFlagged : (next || behavior === 'MergedWithPrevious') && s.flagged && !lastFlagged;
    if (joins && last) {
      if (next) last.start = s.start;
      else last.end = s.end;
    } else pieces.push({ start: s.start, end: s.end, removed: behavior === 'Removed' && s.flagged });
    lastFlagged = s.flagged;
  }
  if (next) pieces.reverse();
  return pieces.filter((p) => !p.removed && p.end > p.start).map((p) => text.slice(p.start, p.end));
}

/**
 * Makes `tokenizer`'s Punctuation, Whitespace and Digits pre-tokenizers (`json`'s, a Sequence's at any depth) split as
 * tokenizers' do. A Punctuation by punctuationPieces of its `behavior` (Isolated where absent): @huggingface/tokenizers
 * ignores `behavior` and gives a run of punctuation as one pre-token (Contiguous), so ',,' or '><' was one pre-token
 * (the model's unknown token where it lists no such piece) and Removed or Merged… behaviors were not honoured. A
 * Whitespace by TOKENIZERS_WHITESPACE_PIECES (the regex crate's Unicode 16.0 `\w`): @huggingface/tokenizers matched JS's ASCII `\w`, so a word's letters past ASCII
 * were no word characters ('café' as caf, é; 'α+β' one pre-token; a combining accent apart from its letter). A
 * Digits by digitsRegex: @huggingface/tokenizers matched JS's ASCII `\d`, so '²', 'Ⅻ' or '٣' were no digits. A
 * WhitespaceSplit or BertPreTokenizer given U+FEFF or U+0085 (splitsOnUnicodeWhitespace) on White_Space, as
 * tokenizers' char::is_whitespace: @huggingface/tokenizers split on JS's `\s`, so U+FEFF split a word and U+0085 did not.
 * A Split by splitPieces of its regex, behavior and invert: @huggingface/tokenizers read MergedWithPrevious,
 * MergedWithNext and Contiguous as Isolated, `invert` as keeping only the matches (Isolated, Merged… and Contiguous
 * keep the text between them too), and a String pattern with Removed kept the delimiters. A ByteLevel's regex
 * (use_regex) by BYTE_LEVEL_PIECES, whose `\s` is White_Space as in Oniguruma: @huggingface/tokenizers' JS `\s`
 * took U+FEFF as a space and not U+0085 ('a \uFEFFb' as a, ' ', '\uFEFFb' where tokenizers gives a, ' \uFEFF', b).
 * A UnicodeScripts (given to the library as a WhitespaceSplit, withLibraryStandIns) by unicodeScriptsPieces, and a
 * CharDelimiterSplit (so too) by splitPieces on its delimiter, Removed (pre_tokenizers/delimiter.rs).
 */
function splitAsTokenizers(tokenizer: Tokenizer, json: object): void {
  const top = (tokenizer as unknown as { pre_tokenizer?: PreTokenizerInstance | null }).pre_tokenizer;
  const unicodeWhitespace = splitsOnUnicodeWhitespace(json);
  for (const { leaf, path } of sequenceLeaves((json as { pre_tokenizer?: unknown }).pre_tokenizer, 'pretokenizers')) {
    const instance = instanceAt(top, path);
    if (typeof instance?.pre_tokenize_text !== 'function') continue;
    if (leaf.type === 'Whitespace') instance.pre_tokenize_text = (text) => text.match(TOKENIZERS_WHITESPACE_PIECES) ?? [];
    if (leaf.type === 'WhitespaceSplit' && unicodeWhitespace) instance.pre_tokenize_text = (text) => text.match(WHITESPACE_SPLIT_PIECES) ?? [];
    if (leaf.type === 'BertPreTokenizer') instance.pre_tokenize_text = (text) => text.match(TOKENIZERS_BERT_PIECES) ?? [];
    if (leaf.type === 'Digits') {
      const pieces = new RegExp(`${digitsRegex(leaf)}|\\P{N}+`, 'gu');
      instance.pre_tokenize_text = (text) => text.match(pieces) ?? [];
    }
    if (leaf.type === 'FixedLength') {
      const pieces = new RegExp(fixedLengthRegex(leaf), 'gu');
      instance.pre_tokenize_text = (text) => text.match(pieces) ?? [];
    }
    if (leaf.type === 'UnicodeScripts') instance.pre_tokenize_text = unicodeScriptsPieces;
    if (leaf.type === 'CharDelimiterSplit') {
      const delimiter = new RegExp(regexLiteral(String(leaf.delimiter)), 'gu');
      instance.pre_tokenize_text = (text) => splitPieces(text, delimiter, 'Removed', false);
    }
    const pattern = (instance as { pattern?: unknown }).pattern;
    if (leaf.type === 'Split' && pattern instanceof RegExp) {
      const behavior = String(leaf.behavior);
      instance.pre_tokenize_text = (text) => splitPieces(text, pattern, behavior, leaf.invert === true);
    }
    if (leaf.type === 'ByteLevel' && leaf.use_regex !== false) (instance as { pattern?: RegExp }).pattern = BYTE_LEVEL_PIECES;
    if (leaf.type !== 'Punctuation') continue;
    const behavior = typeof leaf.behavior === 'string' ? leaf.behavior : 'Isolated';
    instance.pre_tokenize_text = (text) => punctuationPieces(text, behavior);
  }
}

/**
 * The pre-tokenizer types tokenizers reads that @huggingface/tokenizers knows none of (it throws 'Unknown PreTokenizer
 * type'): withLibraryStandIns gives it each as a WhitespaceSplit, whose splitting splitAsTokenizers makes tokenizers'.
 */
const LIBRARY_UNKNOWN_PRE_TOKENIZERS: ReadonlySet<unknown> = new Set(['UnicodeScripts', 'CharDelimiterSplit']);

/** The normalizer types tokenizers reads that @huggingface/tokenizers knows none of: given to it as empty Sequences, whose normalizing normalizeAsTokenizers makes tokenizers'. */
const LIBRARY_UNKNOWN_NORMALIZERS: ReadonlySet<unknown> = new Set(['Nmt', 'ByteLevel']);

/**
 * Makes `tokenizer` find its added tokens of normalized true by their content as its normalizer gives it, as
 * tokenizers finds them (added_vocabulary.rs refresh_added_tokens normalizes each with the normalizer):
 * @huggingface/tokenizers normalized them when it was built, with its own normalizer, which normalizeAsTokenizers
 * corrects after (a Lowercase's 'ΟΣ' as 'ος', where tokenizers gives 'οσ') or a stand-in of LIBRARY_UNKNOWN_NORMALIZERS
 * (nothing: ' é' under a ByteLevel, 'ĠÃ©'), so such a token was never found in a normalized text, and a model piece of
 * the library's text ('ος' of 'a ος b') was read as the token. Its added tokens by text are built again in the
 * library's order (each one's content, then its normalized text) and its normalized splitter's dictionary of those
 * texts (its split, which honourSingleWord may have wrapped, reads it).
 */
function normalizedAddedTokensAsTokenizers(tokenizer: Tokenizer): string | undefined {
  const t = tokenizer as unknown as AddedTokenSplitting & {
    added_tokens?: Array<{ id: number; content: string; normalized?: boolean } & StripFlags>;
    normalizer?: ((text: string) => string) | null;
    splitter_normalized?: { trie?: unknown; _build_trie?: (words: string[]) => unknown };
  };
  const splitter = t.splitter_normalized;
  const map = t.added_tokens_map;
  if (!t.added_tokens || !map || typeof t.normalizer !== 'function' || typeof splitter?._build_trie !== 'function') return undefined;
  const texts: string[] = [];
  const normalizedTokens = new Map<string, StripFlags & { id: number; content: string }>();
  map.clear();
  for (const token of t.added_tokens) map.set(token.content, token);
  for (const token of t.added_tokens) {
    const text = normalizedTokenText(token, t.normalizer);
    if (text === undefined) continue;
    const other = normalizedTokens.get(text);
    if (other !== undefined)
      return `its added tokens ${quotedText(other.content)} and ${quotedText(token.content)} are both of normalized true and normalized to ${quotedText(text)}, which tokenizers finds as one or the other from run to run (its order of them is a hash map's): remove one, or give one normalized false`;
    // (another token's content keeps its own id: tokenizers finds it in the text as written, this one in the normalized
    // text, which addedTokensByStage gives as this one's id)
    if (!map.has(text)) map.set(text, token);
    normalizedTokens.set(text, token);
    texts.push(text);
  }
  splitter.trie = splitter._build_trie(texts);
  addedTokensByStage(tokenizer, new Map(t.added_tokens.filter((a) => !a.normalized).map((a) => [a.content, a])), normalizedTokens);
  return undefined;
}

/**
 * An added token's text as its tokenizer's normalized splitter finds it (normalizedAddedTokensAsTokenizers): its
 * content as `normalizer` gives it, where the token is normalized; undefined where it is not (found in the text as
 * written only, as tokenizers finds it).
 */
function normalizedTokenText(token: { content: string; normalized?: boolean }, normalizer: ((text: string) => string) | null | undefined): string | undefined {
  if (!token.normalized) return undefined;
  return typeof normalizer === 'function' ? normalizer(token.content) : token.content;
}

/** An added token's lstrip and rstrip (whether the text before it, after it, is trimmed where it is found). */
type StripFlags = { lstrip?: boolean; rstrip?: boolean };

/**
 * Makes `tokenizer` take a section of the text as an added token only where the splitter of its stage found it, as
 * tokenizers does (added_vocabulary.rs split_with_indices: tokens of normalized false in the text as written, then
 * those of normalized true in the normalized text): @huggingface/tokenizers' encode_text took any section equal to an
 * added token's text (either kind) as that token, so a text that normalizes to a token of normalized false ('＜s＞'
 * under an NFKC, '<s>') was read as the token, which tokenizers never finds there. Its encode_text, otherwise as the
 * library's (lstrip and rstrip trimming the sections beside a token; the slow-only options withoutSlowOnlyOptions drops
 * are never set), reads `unnormalized` (tokens of normalized false, by content) in the text as written and
 * `normalized` (those of normalized true, by normalized text) in the normalized text.
 */
function addedTokensByStage(
  tokenizer: Tokenizer,
  unnormalized: ReadonlyMap<string, StripFlags>,
  normalized: ReadonlyMap<string, StripFlags & { id: number }>,
): void {
  const t = tokenizer as unknown as {
    splitter_unnormalized: { split(text: string): string[] };
    splitter_normalized: { split(text: string): string[] };
    normalizer: ((text: string) => string) | null;
    pre_tokenizer: ((text: string, options: { section_index: number }) => string[]) | null;
    model: (tokens: string[]) => string[];
    encode_text(text: string | null): Piece[] | null;
  };
  const added = (tokenizer as unknown as AddedTokenSplitting).added_tokens_map;
  /** `sections` with the text beside each token its stage found trimmed as the token's lstrip and rstrip say. */
  const stripped = (sections: string[], tokens: ReadonlyMap<string, StripFlags>) => {
    sections.forEach((section, i) => {
      const found = tokens.get(section);
      if (found?.lstrip && i > 0) sections[i - 1] = sections[i - 1]!.trimEnd();
      if (found?.rstrip && i < sections.length - 1) sections[i + 1] = sections[i + 1]!.trimStart();
    });
    return sections;
  };
  t.encode_text = (text) => {
    if (text === null) return null;
    const sections = stripped(t.splitter_unnormalized.split(text), unnormalized);
    return sections.flatMap((section, sectionIndex) => {
      if (section.length === 0) return [];
      if (unnormalized.has(section)) return [section];
      const text = t.normalizer !== null ? t.normalizer(section) : section;
      if (text.length === 0) return [];
      const parts = stripped(t.splitter_normalized.split(text), normalized);
      return parts.flatMap((part) => {
        if (part.length === 0) return [];
        const token = normalized.get(part);
        // (a text that is also another added token's content, which the text of the piece would give: its id)
        if (token !== undefined) return [added?.get(part) === token ? part : ({ addedId: token.id } satisfies AddedPiece)];
        return t.model(t.pre_tokenizer !== null ? t.pre_tokenizer(part, { section_index: sectionIndex }) : [part]);
      });
    });
  };
}

/**
 * `json`'s (a tokenizer.json object's) normalizer as @huggingface/tokenizers builds it (of withLibraryStandIns) and,
 * with `mended`, as normalizeAsTokenizers makes it normalize; null where it has none.
 */
function libraryNormalizer(json: object, mended: boolean): NormalizerInstance | null {
  const written = (withLibraryStandIns(json) as { normalizer?: unknown }).normalizer;
  if (written === null || written === undefined) return null;
  // (the library's Sequence builds its parts as the Tokenizer does; its types name no normalizer class)
  const { SequenceNormalizer } = tokenizersLibrary as unknown as { SequenceNormalizer: new (config: object) => NormalizerInstance };
  const sequence = new SequenceNormalizer({ type: 'Sequence', normalizers: [written] });
  const built = sequence.normalizers?.[0] ?? null;
  if (mended) normalizeAsTokenizers({ normalizer: built } as unknown as Tokenizer, json);
  return built;
}

/**
 * Whether tokenizer.json `json` has an added token of normalized true (as @huggingface/tokenizers reads the flag) whose
 * content its normalizer (but one holding a LIBRARY_UNKNOWN_NORMALIZERS, read by its own normalizing since it was
 * first read) normalizes otherwise than @huggingface/tokenizers did, which normalizedAddedTokensAsTokenizers finds by
 * the former.
 */
export function addedTokensNormalizedOtherwise(json: object): boolean {
  const normalizer = (json as { normalizer?: unknown }).normalizer;
  if (sequenceLeaves(normalizer, 'normalizers').some(({ leaf }) => LIBRARY_UNKNOWN_NORMALIZERS.has(leaf.type))) return false;
  const added = (json as { added_tokens?: unknown }).added_tokens;
  if (!Array.isArray(added)) return false;
  const normalized = added.filter((a) => a !== null && typeof a === 'object' && new tokenizersLibrary.AddedToken(a).normalized);
  if (normalized.length === 0) return false;
  const [library, ours] = [libraryNormalizer(json, false), libraryNormalizer(json, true)];
  if (!library || !ours) return false;
  return normalized.some(({ content }) => typeof content === 'string' && library.normalize(content) !== ours.normalize(content));
}

/**
 * Whether tokenizer.json `json` has an added token of normalized true whose normalized text (as normalizeAsTokenizers
 * normalizes) is another added token's content or normalized text: a text holding the other's content as written was
 * read as this one's id, where tokenizers gives the other's (normalizedAddedTokensAsTokenizers); two such normalized
 * texts are now refused.
 */
export function addedTextsShared(json: object): boolean {
  const added = (json as { added_tokens?: unknown }).added_tokens;
  if (!Array.isArray(added)) return false;
  const tokens = (added as AddedTokenJson[]).filter((a) => a !== null && typeof a === 'object' && typeof a.content === 'string');
  const normalized = tokens.filter((a) => new tokenizersLibrary.AddedToken(a).normalized);
  const normalizer = normalized.length ? libraryNormalizer(json, true) : null;
  if (normalizer === null) return false;
  const contents = new Set(tokens.map((a) => a.content));
  const texts = new Set<string>();
  for (const { content } of normalized) {
    const text = normalizer.normalize(content);
    if ((text !== content && contents.has(text)) || texts.has(text)) return true;
    texts.add(text);
  }
  return false;
}

/**
 * Whether tokenizer.json `json` has a single_word added token of normalized true whose normalized text (as
 * normalizeAsTokenizers normalizes) is other than its content and a piece its model lists: the model gives that piece
 * inside a word the token is not split out of, which modelPiecesApart reads as the model's id, where the added token's
 * was read.
 */
export function addedPiecesApart(json: object): boolean {
  const added = (json as { added_tokens?: unknown }).added_tokens;
  const model = modelVocabulary(json);
  if (!Array.isArray(added) || !model) return false;
  const tokens = (added as AddedTokenJson[]).filter(
    (a) => a !== null && typeof a === 'object' && a.single_word === true && typeof a.content === 'string' && new tokenizersLibrary.AddedToken(a).normalized,
  );
  const normalizer = tokens.length ? libraryNormalizer(json, true) : null;
  return normalizer !== null && tokens.some(({ content }) => normalizer.normalize(content) !== content && model.has(normalizer.normalize(content)));
}

/**
 * Whether tokenizer.json `json`'s model can give as a piece an added token's content its vocabulary lacks, which
 * modelPiecesApart reads as the model's (the unknown token, or a refusal where the model lacks its unk_token too), where
 * the added token's id was read: a WordLevel (a word as it is) or a Unigram (a run of characters none of which is a
 * piece alone) where the token's splitter can miss its content (a token of normalized false behind a normalizer, a
 * single_word one, or a Metaspace or ByteLevel pre-tokenizer, which change the text), or a WordLevel, WordPiece or BPE
 * whose missing unk_token (missingUnkToken) is an added token.
 */
export function unlistedAddedPieces(json: object): boolean {
  const added = (json as { added_tokens?: unknown }).added_tokens;
  const vocab = modelVocabulary(json);
  if (!Array.isArray(added) || !vocab) return false;
  const contents = (added as AddedTokenJson[]).filter((a) => a !== null && typeof a === 'object' && typeof a.content === 'string' && !vocab.has(a.content));
  const unk = missingUnkToken(json);
  if (unk !== undefined && contents.some((a) => a.content === unk.unk)) return true;
  const type = (json as { model?: { type?: unknown } }).model?.type;
  if (type !== 'WordLevel' && type !== 'Unigram') return false;
  const { normalizer, pre_tokenizer: pre } = json as { normalizer?: unknown; pre_tokenizer?: unknown };
  const normalizes = hasNormalizer(normalizer);
  const transforms = sequenceLeaves(pre, 'pretokenizers').some(({ leaf }) => leaf.type === 'Metaspace' || leaf.type === 'ByteLevel');
  const missable = (a: AddedTokenJson) => transforms || a.single_word === true || (normalizes && !new tokenizersLibrary.AddedToken(a).normalized);
  const givable = (content: string) => type === 'WordLevel' || [...content].every((c) => !vocab.has(c));
  return contents.some((a) => a.content !== '' && givable(a.content) && missable(a));
}

/**
 * Whether tokenizer.json `json` has a Metaspace of prepend_scheme first behind a normalizer and an added token of
 * normalized false: a text the normalizer turns into such a token's content (where tokenizers does not find the token)
 * starts the text, and prependFirstAtTextStart gives it its ▁, where it was read as an added token's and got none.
 */
export function metaspaceFirstUnnormalizedAdded(json: object): boolean {
  const { pre_tokenizer: pre, normalizer, added_tokens: added } = json as { pre_tokenizer?: unknown; normalizer?: unknown; added_tokens?: unknown };
  if (!hasMetaspaceFirst(pre) || !hasNormalizer(normalizer) || !Array.isArray(added)) return false;
  return added.some((a) => a !== null && typeof a === 'object' && !new tokenizersLibrary.AddedToken(a).normalized);
}

/**
 * A tokenizer.json object whose pre-tokenizers of LIBRARY_UNKNOWN_PRE_TOKENIZERS (a Sequence's at any depth) are
 * WhitespaceSplits and whose normalizers of LIBRARY_UNKNOWN_NORMALIZERS are empty Sequences, for
 * @huggingface/tokenizers to build (splitAsTokenizers and normalizeAsTokenizers then give each the splitting or
 * normalizing of the type written); `json` itself where it has none.
 */
function withLibraryStandIns(json: object): object {
  const { pre_tokenizer: pre, normalizer } = json as { pre_tokenizer?: unknown; normalizer?: unknown };
  const stood = mapSequenceLeaves(pre, 'pretokenizers', (leaf) => (LIBRARY_UNKNOWN_PRE_TOKENIZERS.has(leaf.type) ? { type: 'WhitespaceSplit' } : leaf));
  const normalizing = mapSequenceLeaves(normalizer, 'normalizers', (leaf) =>
    LIBRARY_UNKNOWN_NORMALIZERS.has(leaf.type) ? { type: 'Sequence', normalizers: [] } : leaf,
  );
  return stood === pre && normalizing === normalizer ? json : { ...json, pre_tokenizer: stood, normalizer: normalizing };
}

/**
 * The regex of the pieces tokenizers' FixedLength pre-tokenizer `fixed` (a tokenizer.json object) cuts a pre-token into
 * (pre_tokenizers/fixed_length.rs: runs of `length` characters, 5 where absent, the last one shorter), where
 * @huggingface/tokenizers cut UTF-16 units (halving a character past U+FFFF) and, without `length`, gave one empty piece.
 */
function fixedLengthRegex(fixed: Record<string, unknown>): string {
  return `[\\s\\S]{1,${typeof fixed.length === 'number' ? fixed.length : 5}}`;
}

/**
 * The regex of what tokenizers' Digits pre-tokenizer `digits` (a tokenizer.json object) gives as pieces of their own
 * (pre_tokenizers/digits.rs: char::is_numeric, Unicode's N categories): each such character alone with
 * individual_digits, else a run of them.
 */
function digitsRegex(digits: Record<string, unknown>): string {
  return digits.individual_digits === true ? '\\p{N}' : '\\p{N}+';
}

/** Whether a tokenizer.json pre-tokenizer (or a Sequence within it, at any depth) holds a Punctuation whose behavior is not Contiguous (splitAsTokenizers). */
function splitsPunctuation(part: unknown): boolean {
  return sequenceLeaves(part, 'pretokenizers').some(({ leaf: p }) => p.type === 'Punctuation' && p.behavior !== 'Contiguous');
}

/** A pre-tokenizer of a Tokenizer as it is mended: its own pre-tokenizing of one text, a Sequence's parts. */
interface PreTokenizerInstance {
  pre_tokenize_text(text: string, options?: { section_index?: number }): string[];
  tokenizers?: Array<PreTokenizerInstance | null>;
}

/** Whether a tokenizer.json pre-tokenizer (or a Sequence within it) holds a Metaspace of prepend_scheme first. */
function hasMetaspaceFirst(part: unknown): boolean {
  return sequenceLeaves(part, 'pretokenizers').some(({ leaf: p }) => p.type === 'Metaspace' && p.prepend_scheme === 'first');
}

/**
 * Makes `tokenizer`'s Metaspace pre-tokenizers of prepend_scheme first put their ▁ before a pre-token only where it
 * starts the text given (its first character the text's first), as tokenizers does (pre_tokenizers/metaspace.rs: First
 * prepends where the split's offsets_original start at 0): @huggingface/tokenizers prepends to every pre-token of the
 * text's first section, so after a WhitespaceSplit or Punctuation every word got a ▁, and a text whose first
 * character the normalizer drops (Strip, a control character) or the text after a normalized added token got one. A
 * pre-token starts the text where it is the first of the first section (no added token before it), the normalizer
 * keeps the text's first character, and each pre-tokenizer before the Metaspace gave it first from the start of what
 * it was given (a Metaspace or ByteLevel drops no character; another splits, keeping a start it begins with).
 * Nothing changes for a tokenizer without such a Metaspace.
 */
function prependFirstAtTextStart(tokenizer: Tokenizer, json: object): void {
  const pre = (json as { pre_tokenizer?: unknown }).pre_tokenizer;
  const t = tokenizer as unknown as AddedTokenSplitting & {
    added_tokens?: Array<{ content: string; normalized?: boolean }>;
    normalizer?: ((text: string) => string) | null;
    pre_tokenizer?: PreTokenizerInstance | null;
  };
  const top = t.pre_tokenizer;
  if (!hasMetaspaceFirst(pre) || !top || !t.splitter_normalized) return;
  // (each leaf's own pre-tokenizing, as splitOnMetaspace and splitAsTokenizers left it, taken before the top one is
  // replaced, in order)
  const steps = sequenceLeaves(pre, 'pretokenizers').flatMap(({ leaf, path }) => {
    const instance = instanceAt(top, path);
    return instance ? [{ part: leaf, call: instance.pre_tokenize_text.bind(instance) }] : [];
  });
  const run = (text: string, textStart: boolean): string[] =>
    steps.reduce(
      ({ pieces, atStart }, { part, call }) => {
        if (part.type === 'Metaspace' && part.prepend_scheme === 'first')
          return { pieces: pieces.flatMap((p, i) => call(p, { section_index: i === 0 && atStart ? 0 : -1 })), atStart };
        const first = pieces.length > 0 ? call(pieces[0]!) : [];
        const kept = part.type === 'Metaspace' || part.type === 'ByteLevel' || pieces[0]!.startsWith(first[0]!);
        return { pieces: [...first, ...pieces.slice(1).flatMap((p) => call(p))], atStart: atStart && first.length > 0 && kept };
      },
      { pieces: [text], atStart: textStart },
    ).pieces;
  // (whether the section being read keeps its first character through the normalizer, and whether the next text given
  // to the pre-tokenizer is its first after the normalized added tokens are split out)
  let keepsFirst = true;
  let firstText = false;
  const normalizer = t.normalizer;
  // (the texts the normalized splitter finds as added tokens: a section equal to a token of normalized false is text
  // there, which tokenizers found in the text as written only, if at all)
  const found = new Set((t.added_tokens ?? []).flatMap((a) => normalizedTokenText(a, normalizer) ?? []));
  if (typeof normalizer === 'function')
    t.normalizer = (text) => {
      keepsFirst = text === '' || normalizer(String.fromCodePoint(text.codePointAt(0)!)) !== '';
      return normalizer(text);
    };
  const splitter = t.splitter_normalized;
  const split = splitter.split.bind(splitter);
  splitter.split = (text) => {
    const sections = split(text);
    firstText = sections.length > 0 && sections[0] !== '' && !found.has(sections[0]!);
    return sections;
  };
  top.pre_tokenize_text = (text, options) => {
    const atStart = options?.section_index === 0 && firstText && keepsFirst;
    firstText = false;
    return run(text, atStart);
  };
}

/**
 * Makes `tokenizer`'s model run on each pre-token alone where it fuses unknown pieces (Unigram's always, BPE's with
 * `fuse_unk`), as tokenizers' does (PreTokenizedString::tokenize calls the model on each split, so a run of unknown
 * pieces is fused within a word only): @huggingface/tokenizers gives the model all the pre-tokens of a text at once and
 * fuses the unknown pieces across them, so two unknown words side by side ('é ü' after a WhitespaceSplit) were one
 * unknown token. A model that fuses nothing gives the same pieces either way.
 */
function modelPerPreToken(tokenizer: Tokenizer): void {
  const model = (tokenizer as unknown as TokenizerModel).model;
  if (model?.fuse_unk !== true || typeof model._call !== 'function') return;
  const call = model._call.bind(model);
  model._call = (tokens) => tokens.flatMap((t) => call([t]));
}

/** A pre-token's last piece as withModelSplitEnds marks it in encode_text's pieces. */
interface SplitEnd {
  readonly lastOfSplit: Piece;
}

/** A pre-token the model refused (a DataError), as withModelSplitEnds marks it in encode_text's pieces: one piece. */
interface SplitFailed {
  readonly failedSplit: DataError;
}

/**
 * A text's pieces before its post-processor, with the ends of its model's splits in them and the splits the model
 * refused (`failed`: at the index of the one piece standing for each, never an id, with its refusal).
 */
interface TextSplits {
  tokens: Piece[];
  ends: number[];
  failed: Array<{ at: number; error: DataError }>;
}

/**
 * A function giving a text's pieces as `tokenizer` gives them before its post-processor (its encode_text) and the ends,
 * in those pieces, of the splits its model tokenized (each pre-token's pieces; not an added token's), which
 * cappedLength reads: the model (as the mends before left it) is called on each pre-token alone while it reads, its last
 * piece marked (SplitEnd), which encode_text passes on as it is. A pre-token of no piece ends no split here. A
 * pre-token the model refuses (a Unigram of no unk_id: unigramWithoutUnk) is one piece ending a split, its refusal kept
 * in `failed`, since tokenizers fails on it only where it reaches it before its early exit (the caller's check).
 */
function withModelSplitEnds(tokenizer: Tokenizer): (text: string) => TextSplits {
  const model = (tokenizer as unknown as TokenizerModel).model;
  const encodeText = (text: string) => (tokenizer as unknown as { encode_text(text: string): Array<Piece | SplitEnd> }).encode_text(text);
  if (typeof model?._call !== 'function') return (text) => ({ tokens: encodeText(text) as Piece[], ends: [], failed: [] });
  const call = model._call.bind(model);
  let marking = false;
  model._call = (tokens) => {
    if (!marking) return call(tokens);
    // (one array pushed to, not one per pre-token: this runs on every piece of a sentence pair)
    const out: Array<string | SplitEnd> = [];
    for (const t of tokens) {
      let pieces: string[];
      try {
        pieces = call([t]);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        pieces = [{ failedSplit: e } satisfies SplitFailed as unknown as string];
      }
      const last = pieces.length - 1;
      for (let i = 0; i < last; i++) out.push(pieces[i]!);
      if (last >= 0) out.push({ lastOfSplit: pieces[last]! });
    }
    return out as string[];
  };
  return (text) => {
    marking = true;
    let read: Array<Piece | SplitEnd>;
    try {
      read = encodeText(text);
    } finally {
      marking = false;
    }
    const ends: number[] = [];
    const failed: TextSplits['failed'] = [];
    const tokens = read.map((t, i): Piece => {
      if (typeof t === 'string' || !('lastOfSplit' in t)) return t;
      ends.push(i + 1);
      const last = t.lastOfSplit as Piece | SplitFailed;
      if (typeof last === 'string' || !('failedSplit' in last)) return last;
      failed.push({ at: i, error: last.failedSplit });
      return '';
    });
    return { tokens, ends, failed };
  };
}

/** A BPE model of @huggingface/tokenizers as prefixedMergesAsTokenizers reads and mends it. */
interface BpeModelInstance {
  config?: {
    type?: unknown;
    continuing_subword_prefix?: unknown;
    end_of_word_suffix?: unknown;
    unk_token?: unknown;
    fuse_unk?: unknown;
    byte_fallback?: unknown;
  };
  merges?: Array<[string, string]>;
  tokens_to_ids: Map<string, number>;
  bpe?: (token: string) => string[];
  /** The library's cache of bpe's pieces by pre-token (an LRU), for pre-tokens shorter than max_length_to_cache. */
  cache?: { get(token: string): string[] | undefined; put(token: string, pieces: string[]): void; clear(): void };
  max_length_to_cache?: number;
}

/**
 * Whether a tokenizer.json object's model is a BPE whose continuing_subword_prefix tokenizers reads (a string that is
 * not empty), which @huggingface/tokenizers (and so transformers.js) ignores (prefixedMergesAsTokenizers).
 */
export function bpeReadsSubwordPrefix(json: object): boolean {
  const model = (json as { model?: { type?: unknown; continuing_subword_prefix?: unknown } | null }).model;
  return model?.type === 'BPE' && typeof model.continuing_subword_prefix === 'string' && model.continuing_subword_prefix !== '';
}

/**
 * Makes `tokenizer`'s BPE model, where its tokenizer.json gives a continuing_subword_prefix (bpeReadsSubwordPrefix),
 * split a pre-token as tokenizers does (models/bpe/model.rs, merge_word and Word::merge_all), by the ids of the
 * model's own vocabulary: each character after the first looked up with the prefix ('##b'), the last with the
 * end_of_word_suffix; one the vocabulary lacks given as the byte pieces of its text, prefix and suffix included
 * ('##é' as <0x23> <0x23> <0xC3> <0xA9>), where byte_fallback is set and the vocabulary holds them all, else as the
 * unknown token (a run of them one unknown token with fuse_unk; a pending one is written after byte pieces that
 * follow it, as merge_word does); then the merge of least rank first (the leftmost of equal ones) of any two
 * neighbours, byte pieces and the unknown token too, a merge (a, ##b) making a + b without the second's prefix ('ab',
 * as BpeBuilder::build names it) and a merge listed twice taking its last rank (BpeBuilder collects them into a
 * map). @huggingface/tokenizers ignores the prefix (characters looked up without it, a merge making a##b). A character
 * the vocabulary cannot spell is dropped where the model names no unknown token (its neighbours may then merge), and
 * left to the library's own reading where the one it names is not in the vocabulary.
 */
function prefixedMergesAsTokenizers(tokenizer: Tokenizer, json: object): void {
  const model = (tokenizer as unknown as { model?: BpeModelInstance }).model;
  const config = model?.config;
  const prefix = config?.continuing_subword_prefix;
  const vocab = modelVocabulary(json);
  if (config?.type !== 'BPE' || typeof prefix !== 'string' || prefix === '' || typeof model?.bpe !== 'function' || !vocab) return;
  const suffix = typeof config.end_of_word_suffix === 'string' ? config.end_of_word_suffix : '';
  const tokenOf = new Map<number, string>();
  for (const [token, id] of vocab) if (!tokenOf.has(id)) tokenOf.set(id, token);
  const unkId = typeof config.unk_token === 'string' ? vocab.get(config.unk_token) : undefined;
  const fuseUnk = config.fuse_unk === true;
  const byteFallback = config.byte_fallback === true;
  const merges = new Map<string, { rank: number; id: number }>();
  for (const [rank, [a, b]] of (model.merges ?? []).entries()) {
    const made = mergedToken(a, b, prefix);
    const [aId, bId, id] = [a, b, made].map((t) => (t === undefined ? undefined : vocab.get(t)));
    if (aId !== undefined && bId !== undefined && id !== undefined) merges.set(`${aId} ${bId}`, { rank, id });
  }
  const bytePieceIds = (text: string): number[] | undefined => {
    const ids = bytePieces(text).map((piece) => vocab.get(piece));
    return ids.every((id) => id !== undefined) ? (ids as number[]) : undefined;
  };
  // (a symbol is a vocabulary id, or the text of a character none stands for, which the library reads)
  const split = (token: string): string[] => {
    const chars = [...token];
    const symbols: Array<number | string> = [];
    let unkPending = false;
    for (const [i, c] of chars.entries()) {
      const s = `${i > 0 ? prefix : ''}${c}${i === chars.length - 1 ? suffix : ''}`;
      const id = vocab.get(s);
      if (id !== undefined) {
        if (unkPending) symbols.push(unkId!);
        unkPending = false;
        symbols.push(id);
        continue;
      }
      const bytes = byteFallback ? bytePieceIds(s) : undefined;
      if (bytes) symbols.push(...bytes);
      else if (typeof config.unk_token !== 'string') continue;
      else if (unkId === undefined) symbols.push(s);
      else {
        if (unkPending && !fuseUnk) symbols.push(unkId);
        unkPending = true;
      }
    }
    if (unkPending) symbols.push(unkId!);
    for (;;) {
      let best: { at: number; rank: number; id: number } | undefined;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const [a, b] = [symbols[i], symbols[i + 1]];
        const merge = typeof a === 'number' && typeof b === 'number' ? merges.get(`${a} ${b}`) : undefined;
        if (merge && (best === undefined || merge.rank < best.rank)) best = { at: i, ...merge };
      }
      if (best === undefined) return symbols.map((s) => (typeof s === 'number' ? tokenOf.get(s)! : s));
      symbols.splice(best.at, 2, best.id);
    }
  };
  // (cached by pre-token in the library's own cache, as its bpe caches its pieces and tokenizers' BPE its words)
  const { cache } = model;
  const cachedUpTo = model.max_length_to_cache ?? 0;
  cache?.clear();
  model.bpe = (token: string): string[] => {
    const cached = cache?.get(token);
    if (cached !== undefined) return cached;
    const pieces = split(token);
    if (token.length < cachedUpTo) cache?.put(token, pieces);
    return pieces;
  };
}

/**
 * Makes `tokenizer`'s Unigram model give an unknown piece (a run of unknown characters, fused) as the byte pieces of its
 * UTF-8 bytes (é as <0xC3> <0xA9>) where tokenizer.json's model says byte_fallback and its vocabulary holds each of
 * them, else as the unknown token, as tokenizers' Unigram::tokenize does: @huggingface/tokenizers (and so
 * transformers.js) ignores a Unigram's byte_fallback and gave the unknown token (unigramByteFallbackOf).
 */
function unigramByteFallback(tokenizer: Tokenizer, json: object): void {
  const model = (tokenizer as unknown as { model?: { _call?: (tokens: string[]) => string[]; tokens_to_ids?: Map<string, number> } }).model;
  const ids = model?.tokens_to_ids;
  if (!unigramByteFallbackOf(json) || typeof model?._call !== 'function' || !(ids instanceof Map)) return;
  const call = model._call.bind(model);
  // (ids is the model's vocabulary as keepModelVocabulary leaves it: the model's pieces alone, as tokenizers looks them up)
  model._call = (tokens) =>
    call(tokens).flatMap((t) => {
      if (ids.has(t)) return [t];
      const bytes = bytePieces(t);
      return bytes.every((b) => ids.has(b)) ? bytes : [t];
    });
}

/**
 * Whether a tokenizer.json object's model is a Unigram of byte_fallback true whose vocabulary holds a byte piece
 * (<0x00>…<0xFF>), so that unigramByteFallback can give a piece as byte pieces: one holding none gives the unknown token
 * there, as it did before and as transformers.js does.
 */
export function unigramByteFallbackOf(json: object): boolean {
  const model = (json as { model?: { type?: unknown; byte_fallback?: unknown } | null }).model;
  if (model?.type !== 'Unigram' || model.byte_fallback !== true) return false;
  return [...(modelVocabulary(json)?.keys() ?? [])].some((piece) => BYTE_PIECE.test(piece));
}

/**
 * Makes `tokenizer`'s Unigram model, where tokenizer.json's gives no unk_id (null or none), refuse a pre-token that
 * tokenizers refuses, in one line (`source`, the file): tokenizers' Unigram::encode_optimized walks the pre-token's
 * characters, and at one that no piece of one character spells, where the unknown token's path (the best path to it, plus
 * the least score less 10) would be the best to the character's end so far, fails ('Encountered an unknown token but
 * `unk_id` is missing'), byte_fallback or not; @huggingface/tokenizers gave it an id. Whether it does (the model may
 * refuse a pre-token).
 */
function unigramWithoutUnk(tokenizer: Tokenizer, json: object, source: string): boolean {
  const model = (json as { model?: { type?: unknown; unk_id?: unknown; vocab?: unknown } | null }).model;
  const instance = (tokenizer as unknown as { model?: { _call?: (tokens: string[]) => string[] } }).model;
  if (model?.type !== 'Unigram' || (model.unk_id !== null && model.unk_id !== undefined) || !Array.isArray(model.vocab)) return false;
  if (typeof instance?._call !== 'function') return false;
  // (a piece's score is its last listing's, as tokenizers' token_to_ids keeps the last id of a piece listed twice)
  const scores = new Map<string, number>();
  let longest = 0;
  let least = Number.POSITIVE_INFINITY;
  for (const [piece, score] of model.vocab as Array<[string, number]>) {
    scores.set(piece, score);
    longest = Math.max(longest, [...piece].length);
    least = Math.min(least, score);
  }
  const unkScore = least - 10;
  const refused = (token: string): string | undefined => {
    const chars = [...token];
    // (it can fail only at a character no piece of one character spells: none, nothing to walk)
    if (chars.every((c) => scores.has(c))) return undefined;
    const best: Array<number | undefined> = Array.from({ length: chars.length + 1 }, () => undefined);
    best[0] = 0;
    for (let at = 0; at < chars.length; at++) {
      const here = best[at] ?? 0;
      let single = false;
      for (let n = 1; n <= Math.min(longest, chars.length - at); n++) {
        const score = scores.get(chars.slice(at, at + n).join(''));
        if (score === undefined) continue;
        if (best[at + n] === undefined || score + here > best[at + n]!) best[at + n] = score + here;
        if (n === 1) single = true;
      }
      if (!single && (best[at + 1] === undefined || unkScore + here > best[at + 1]!)) return chars[at];
    }
    return undefined;
  };
  const call = instance._call.bind(instance);
  instance._call = (tokens) => {
    for (const token of tokens) {
      const char = refused(token);
      if (char !== undefined)
        throw new DataError(
          `${source}: its Unigram model has no unk_id, and ${quotedText(char)} (in ${quotedText(token.slice(0, 40))}) is no piece of its vocabulary alone: tokenizers fails on such a text ('Encountered an unknown token but \`unk_id\` is missing'); give the model an unk_id`,
        );
    }
    return call(tokens);
  };
  return true;
}

/** A byte piece of a vocabulary, as tokenizers' byte fallback names each byte ('<0xC3>'). */
const BYTE_PIECE = /^<0x[0-9A-F]{2}>$/;

/**
 * Takes `tokenizer`'s added tokens back out of its model's vocabulary, which holds what tokenizer.json's model lists and
 * nothing more, as in tokenizers (added_vocabulary.rs keeps the added tokens in an AddedVocabulary of their own, apart
 * from the model, and WordPiece's tokenize looks its pieces up in the model's vocab only): @huggingface/tokenizers puts
 * every added token into the model's vocabulary, so WordPiece read an added `tok` that it did not split out (a
 * single_word token inside a word, a token matched on the raw text only) as a piece: 'toktok' as tok ##tok, where
 * tokenizers gives [UNK]. An added token the model lists keeps the model's id. Returns the tokenizer's id of a token as
 * tokenizers' Tokenizer::token_to_id gives it: an added token's (by its text as written), else the model's.
 */
function keepModelVocabulary(tokenizer: Tokenizer, json: object): TokenId {
  const model = (tokenizer as unknown as { model?: { tokens_to_ids?: Map<string, number> } }).model;
  const added = (tokenizer as unknown as { added_tokens?: Array<{ content: string; id: number }> }).added_tokens ?? [];
  const listed = modelVocabulary(json);
  if (model?.tokens_to_ids instanceof Map && listed) {
    for (const t of added) {
      const id = listed.get(t.content);
      if (id === undefined) model.tokens_to_ids.delete(t.content);
      else model.tokens_to_ids.set(t.content, id);
    }
  }
  const addedIds = new Map(added.map((t) => [t.content, t.id]));
  return (token) => addedIds.get(token) ?? tokenizer.token_to_id(token);
}

/** A token's id in a tokenizer (its added tokens' or its model's), undefined when it has none. */
type TokenId = (token: string) => number | undefined;

/** modelVocabulary's maps by the `vocab` object each was read from (a tokenizer.json object's, never edited once read). */
const vocabularies = new WeakMap<object, ReadonlyMap<string, number>>();

/**
 * A tokenizer.json object's model `vocab` as token → id: an object of ids (WordPiece, BPE, WordLevel) or Unigram's
 * [token, score] list by id; undefined when it has none. Read once per `vocab` object (vocabularies): a load and
 * tokenizerTraits ask for it several times, each a Map of the whole vocabulary (about 17 ms for BERT's 30k pieces).
 */
function modelVocabulary(json: object): ReadonlyMap<string, number> | undefined {
  const raw = (json as { model?: { vocab?: unknown } }).model?.vocab;
  if (raw === null || typeof raw !== 'object') return undefined;
  const held = vocabularies.get(raw);
  if (held !== undefined) return held;
  const read = new Map<string, number>(
    Array.isArray(raw) ? raw.map((e, i): [string, number] => [String(Array.isArray(e) ? e[0] : e), i]) : Object.entries(raw as Record<string, number>),
  );
  vocabularies.set(raw, read);
  return read;
}

/**
 * What tokenizerFromJson and honourSingleWord read of a Tokenizer: its added tokens by text (a normalized token also by
 * its normalized text) and its two splitters on them.
 */
interface AddedTokenSplitting {
  added_tokens_map?: Map<string, { id: number; content: string; single_word?: boolean }>;
  splitter_unnormalized?: { split(text: string): string[] };
  splitter_normalized?: { split(text: string): string[] };
}

/**
 * The regex crate's Unicode `\w` (what tokenizers' regexes of the regex crate read as a word character: Unicode 16.0's,
 * UNICODE16_WORD), as a regex character class's body that transformers.js and tokenizers read alike (portableClass):
 * what a transformers.js export writes (withTokenizersSplits), where `\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}`
 * read the engine's own Unicode (4,699 characters apart on Node 20.20's Unicode 17.0).
 */
const WORD_CLASS = portableClass(UNICODE16_WORD);

/**
 * A word character as tokenizers' single_word test reads one (added_vocabulary.rs: the regex crate's `\w`), by the
 * regex crate's Unicode 16.0 tables (UNICODE16_WORD), where Node's `\p{…}` read its own Unicode (17.0 on Node 20.20).
 */
const WORD_CHAR = new RegExp(`[${UNICODE16_WORD}]`, 'u');

/**
 * The pieces of a text as tokenizers' Whitespace pre-tokenizer gives them (pre_tokenizers/whitespace.rs: the regex
 * crate's `\w+|[^\w\s]+`, Unicode classes: `\s` is White_Space), by WORD_CLASS: the Split a transformers.js export
 * writes.
 */
const WHITESPACE_PIECES = new RegExp(`[${WORD_CLASS}]+|[^${WORD_CLASS}\\p{White_Space}]+`, 'gu');

/**
 * The pieces of tokenizers' Whitespace pre-tokenizer by the regex crate's Unicode 16.0 `\w` (UNICODE16_WORD), as eval
 * splits (WHITESPACE_PIECES is the same split, as an export writes it): a letter assigned in Unicode 17.0 (U+088F,
 * U+0C5C) is no word character to tokenizers 0.23.2 and a pre-token of its own, where Node's joined it to its word.
 */
const TOKENIZERS_WHITESPACE_PIECES = new RegExp(`[${UNICODE16_WORD}]+|[^${UNICODE16_WORD}\\p{White_Space}]+`, 'gu');

/**
 * The pieces of a text as tokenizers' WhitespaceSplit gives them (pre_tokenizers/whitespace.rs: split on
 * char::is_whitespace, White_Space, Removed), and as its BertPreTokenizer does (pre_tokenizers/bert.rs: then each
 * punctuation character alone, is_bert_punc: PUNCTUATION_CLASS).
 */
const WHITESPACE_SPLIT_PIECES = /\P{White_Space}+/gu;
const BERT_PRE_TOKENIZER_PIECES = new RegExp(`[^\\p{White_Space}${PUNCTUATION_CLASS}]+|[${PUNCTUATION_CLASS}]`, 'gu');

/**
 * BERT_PRE_TOKENIZER_PIECES of tokenizers' punctuation (TOKENIZERS_PUNCTUATION_CLASS, Unicode 8.0's): how eval splits
 * at a BertPreTokenizer, where @huggingface/tokenizers' split at JS's `\s` and `\p{P}`.
 */
const TOKENIZERS_BERT_PIECES = new RegExp(`[^\\p{White_Space}${TOKENIZERS_PUNCTUATION_CLASS}]+|[${TOKENIZERS_PUNCTUATION_CLASS}]`, 'gu');

/** tokenizers' ByteLevel pre-tokenizer's regex (pre_tokenizers/byte_level.rs RE, GPT-2's), as Oniguruma reads it: `\s` is White_Space. */
const BYTE_LEVEL_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** BYTE_LEVEL_REGEX as @huggingface/tokenizers compiles a Split's Oniguruma regex (its `\s` White_Space), where its ByteLevel's own regex took JS's `\s`. */
const BYTE_LEVEL_PIECES = compiledSplitRegex(BYTE_LEVEL_REGEX)!;

/** An Oniguruma regex (a Split's pattern) as @huggingface/tokenizers compiles it (global); undefined where it compiles none. */
function compiledSplitRegex(regex: string): RegExp | undefined {
  // (the library's types do not resolve its pre-tokenizers under NodeNext: the class is there at run time)
  const { SplitPreTokenizer } = tokenizersLibrary as unknown as { SplitPreTokenizer: new (config: object) => { pattern?: unknown } };
  try {
    const { pattern } = new SplitPreTokenizer({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
    return pattern instanceof RegExp ? pattern : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `json`'s BertPreTokenizer or WhitespaceSplit pre-tokenizers (a Sequence's at any depth) may be given U+FEFF
 * or U+0085, where @huggingface/tokenizers' JS `\s` and tokenizers' char::is_whitespace (White_Space) differ (U+FEFF
 * whitespace to JS only, U+0085 to tokenizers only): it has one, and no BertNormalizer cleaning the text (clean_text,
 * which removes both as control characters: normalizers/bert.rs is_control).
 */
function splitsOnUnicodeWhitespace(json: object): boolean {
  const { normalizer, pre_tokenizer: pre } = json as { normalizer?: unknown; pre_tokenizer?: unknown };
  if (!sequenceLeaves(pre, 'pretokenizers').some(({ leaf }) => leaf.type === 'BertPreTokenizer' || leaf.type === 'WhitespaceSplit')) return false;
  return !sequenceLeaves(normalizer, 'normalizers').some(({ leaf }) => leaf.type === 'BertNormalizer' && leaf.clean_text !== false);
}

/**
 * Makes `tokenizer` match an added token marked `single_word` only where it stands as a word of its own (no word
 * character right before or after it), as tokenizers (and so transformers) match it: @huggingface/tokenizers reads
 * the flag but ignores it, so an added `ab` split 'xaby' into x, ab, y. Its splitters' sections are mended: a
 * single_word token touching a word is text again, joined to the text beside it.
 */
function honourSingleWord(tokenizer: Tokenizer): void {
  const t = tokenizer as unknown as AddedTokenSplitting;
  const added = t.added_tokens_map;
  if (!added || ![...added.values()].some((a) => a.single_word)) return;
  for (const splitter of [t.splitter_unnormalized, t.splitter_normalized]) {
    if (!splitter || typeof splitter.split !== 'function') continue;
    const split = splitter.split.bind(splitter);
    splitter.split = (text: string) => joinWordPieces(split(text), added);
  }
}

/** `sections` (text and added tokens, in order) with each single_word token touching a word character made text, joined to the text beside it. */
function joinWordPieces(sections: string[], added: ReadonlyMap<string, { single_word?: boolean }>): string[] {
  const out: string[] = [];
  let text = false; // (whether out's last section is text, which the next text joins)
  sections.forEach((s, i) => {
    const token = added.get(s);
    const before = sections[i - 1]?.slice(-2) ?? '';
    const after = sections[i + 1]?.slice(0, 2) ?? '';
    const touching = token?.single_word === true && (WORD_CHAR.test([...before].at(-1) ?? '') || WORD_CHAR.test([...after][0] ?? ''));
    if (token && !touching) {
      out.push(s);
      text = false;
    } else {
      if (text) out[out.length - 1] += s;
      else out.push(s);
      text = true;
    }
  });
  return out;
}

/** Sources already warned about (once per file and process). */
const warnedNoSpecials = new Set<string>();

/**
 * The one line on stderr for a tokenizer of the BERT family (its vocabulary has the [CLS] and [SEP] tokens, or those
 * its config names) whose tokenizer.json adds no special tokens (`"post_processor": null`): its ids are what
 * transformers and transformers.js give too, but a BERT-family model expects [CLS] … [SEP], so its scores suffer.
 */
function warnNoSpecialTokens(tokenId: TokenId, config: TokenizerConfigJson, source: string): void {
  const { cls, sep } = bertSpecialTokens(config);
  if (tokenId(cls) === undefined || tokenId(sep) === undefined || warnedNoSpecials.has(source)) return;
  warnedNoSpecials.add(source);
  process.stderr.write(
    `warning: ${source}: the tokenizer adds no special tokens (tokenizer.json's post_processor is null or adds none), so inputs have no ${cls} … ${sep} although its vocabulary has them, as BERT-family models expect; transformers tokenizes the same way, but scores will suffer unless the model was trained so (restore the post_processor to add them)\n`,
  );
}

/**
 * A tokenizer.json object's WordLevel, WordPiece or BPE model's unk_token where its vocabulary lacks it, with the
 * model's type: tokenizers fails on a text holding a piece such a model does not know (WordLevel's and WordPiece's
 * MissingUnkToken, BPE's UnkTokenOutOfVocabulary), where @huggingface/tokenizers gave the piece an id. Undefined otherwise.
 */
export function missingUnkToken(json: object): { type: string; unk: string } | undefined {
  const model = (json as { model?: { type?: unknown; unk_token?: unknown } | null }).model;
  const type = model?.type;
  if ((type !== 'WordLevel' && type !== 'WordPiece' && type !== 'BPE') || typeof model?.unk_token !== 'string') return undefined;
  return modelVocabulary(json)?.has(model.unk_token) === false ? { type, unk: model.unk_token } : undefined;
}

/**
 * Whether a tokenizer.json object's model is a BPE of byte_fallback true whose vocabulary holds every byte piece
 * (<0x00>…<0xFF>): a character it has no piece for is given as the pieces of its UTF-8 bytes, by tokenizers and by
 * transformers.js alike, so no text needs its unknown token (one its vocabulary lacks, missingUnkToken, fails nothing).
 */
export function bytePiecesSpellAll(json: object): boolean {
  const model = (json as { model?: { type?: unknown; byte_fallback?: unknown } | null }).model;
  if (model?.type !== 'BPE' || model.byte_fallback !== true) return false;
  const vocab = modelVocabulary(json);
  return vocab !== undefined && Array.from({ length: 256 }, (_, b) => bytePiece(b)).every((piece) => vocab.has(piece));
}

/** tokenizer.json's model.unk_token, else [UNK] or <unk>, with its id; undefined when the vocabulary has none. */
function unknownToken(tokenId: TokenId, json: object): { token: string; id: number } | undefined {
  const named = (json as { model?: { unk_token?: string } }).model?.unk_token;
  for (const token of [...(named !== undefined ? [named] : []), '[UNK]', '<unk>']) {
    const id = tokenId(token);
    if (id !== undefined) return { token, id };
  }
  return undefined;
}

/** Above this share of a split's tokens being the unknown token, eval warns (GLUE with BERT's vocabulary: under 1%). */
export const UNKNOWN_SHARE_WARNING = 0.2;

/**
 * A line saying that `share` of the tokens of `what` (e.g. 'SST-2 dev') are the tokenizer's unknown token, when that
 * is above UNKNOWN_SHARE_WARNING: a vocabulary that does not fit the text (another model's tokenizer files, or a
 * do_lower_case that does not fit its vocabulary), whose scores mean little; undefined otherwise.
 */
export function unknownTokensNote(encodings: readonly TextEncoding[], tokenizer: Pick<TextTokenizer, 'unk' | 'source'>, what: string): string | undefined {
  const unk = tokenizer.unk;
  if (!unk) return undefined;
  let unknown = 0;
  let total = 0;
  for (const e of encodings) {
    total += e.ids.length;
    for (const id of e.ids) if (id === unk.id) unknown++;
  }
  if (total === 0 || unknown / total <= UNKNOWN_SHARE_WARNING) return undefined;
  return `${what}: ${Math.round((100 * unknown) / total)}% of the tokens are ${unk.token} (${tokenizer.source}): its vocabulary does not spell much of this text (another model's tokenizer files, or a do_lower_case that does not fit the vocabulary?), so the scores say little about the model`;
}

/** tokenizer.json's padding.pad_id, else the config's pad_token, else [PAD] or <pad>, else 0. */
function padTokenId(tokenId: TokenId, json: TokenizerJsonPadding, config: TokenizerConfigJson): number {
  if (typeof json.padding?.pad_id === 'number') return json.padding.pad_id;
  const named = tokenName(config.pad_token);
  return (named !== undefined ? tokenId(named) : undefined) ?? tokenId('[PAD]') ?? tokenId('<pad>') ?? 0;
}

/** A special token is written either as a string or as `{content: string, …}`. */
export function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/** The config's `additional_special_tokens` (strings or `{content}` objects) by name; none when it has no list. */
function additionalSpecialTokens(config: TokenizerConfigJson): string[] {
  const list = config.additional_special_tokens;
  return Array.isArray(list) ? list.map(tokenName).filter((t): t is string => t !== undefined) : [];
}

/** The special tokens tokenizer_config.json names (with special_tokens_map.json's), the class's defaults `d` for the others. */
function bertSpecialTokens(config: TokenizerConfigJson, d: BertSpecialTokens = DEFAULT_BERT_SPECIAL_TOKENS): BertSpecialTokens {
  return {
    unk: tokenName(config.unk_token) ?? d.unk,
    cls: tokenName(config.cls_token) ?? d.cls,
    sep: tokenName(config.sep_token) ?? d.sep,
    pad: tokenName(config.pad_token) ?? d.pad,
    mask: tokenName(config.mask_token) ?? d.mask,
  };
}

/**
 * `model_max_length` of a tokenizer config as a whole number of ids, or null when absent or not a finite number. One
 * below 1 (0, -1, 0.5) is read as the length it is, which leaves no room for text (refused where it is the length
 * taken, naming the file and --max-length): transformers keeps it as the tokenizer's model_max_length, run_glue cuts
 * at it (min with max_seq_length), and the fast tokenizer's enable_truncation fails on a negative one and keeps one
 * token of text at 0.
 */
export function modelMaxLengthOf(config: TokenizerConfigJson): number | null {
  const v = config.model_max_length;
  return typeof v === 'number' && Number.isFinite(v) ? Math.floor(v) : null;
}

/** `model_max_length` as a tokenizer config writes it where modelMaxLengthOf reads it as another number (2.5 as 2); else undefined. */
export function modelMaxLengthWritten(config: TokenizerConfigJson): number | undefined {
  const v = config.model_max_length;
  return typeof v === 'number' && v !== modelMaxLengthOf(config) && Number.isFinite(v) ? v : undefined;
}

/** `model_max_length` of the tokenizer_config.json in `dir` (see `modelMaxLengthOf`), without loading the tokenizer. */
export function tokenizerMaxLength(dir: string): number | null {
  return modelMaxLengthOf(readConfig(dir));
}

/** tokenizer_config.json merged over special_tokens_map.json; both optional. */
export function readConfig(dir: string): TokenizerConfigJson {
  let merged: TokenizerConfigJson = {};
  // (spread defines keys: a key named __proto__ stays a key, where Object.assign set the merged object's prototype)
  for (const name of ['special_tokens_map.json', 'tokenizer_config.json']) {
    const file = join(dir, name);
    if (existsSync(file)) merged = { ...merged, ...readJsonObject(file) };
  }
  return merged;
}

/**
 * What of a folder's tokenizer decides whether a change of how eval and training read tokenizers touches it
 * (tokenizer-reading.ts): `addedTokens`, some added token (one tokenizer.json writes, a slow folder's, a special
 * token its config names that it lacks) is other than a special token matched anywhere that the model vocabulary
 * lists under the id written; `pairTemplate`, tokenizer.json's post-processor is one whose pair tokenizers joins
 * otherwise than @huggingface/tokenizers does (withTokenizersPostProcessor: RobertaProcessing, ByteLevel, none);
 * `albertDigitComma`, it is an ALBERT SentencePiece model read (no tokenizer.json, vocab.txt nor BPE files) with a
 * piece whose comma follows a digit that is not a decimal one ('²,': nonDecimalDigitComma); `otherSentencePiece`, the
 * SentencePiece model it reads is not the first of SENTENCEPIECE_FILES that it holds (an ALBERT folder holding both
 * reads spiece.model, not sentencepiece.bpe.model); `metaspaceSplit`, its pre-tokenizer has a Metaspace that splits
 * (splitOnMetaspace) and its model's vocabulary lacks a lone replacement piece (▁) or has one holding it after its
 * first character, where splitting can give other ids; `removeSpace`, its tokenizer_config.json says remove_space true
 * (which @huggingface/tokenizers applied, tokenizerFromJson); `lowercaseRemoveAccent`, it says
 * do_lowercase_and_remove_accent true (the same); `unknownsAcrossPreTokens`, its model fuses unknown pieces and
 * @huggingface/tokenizers, run as it is, fused them across pre-tokens (fusesUnknownsOfPreTokens, where no Metaspace of
 * the pre-tokenizer or its Sequence's own parts splits: splitOnMetaspace's tokenizers ran their model on each pre-token
 * already), what modelPerPreToken changed; `metaspaceFirst`, its pre-tokenizer has a
 * Metaspace of prepend_scheme first after another pre-tokenizer or behind a normalizer (firstMetaspaceMended);
 * `typesNotReturned`, its post-processor gives a pair's tokens a type other than 0 (givesPairTypes) and the class
 * transformers loads it as returns no token types (returnsTokenTypes), which eval fed; `punctuationSplit`, its
 * pre-tokenizer has a Punctuation of a behavior other than Contiguous (splitAsTokenizers); `slowOnlyBpe`, it
 * is an XLM or FlauBERT folder of vocab.json and merges.txt (slowOnlyBpeClass), now refused, where it was read as
 * byte-level BPE (its other traits false); `wordOrDigitSplit`, its pre-tokenizer has a Whitespace or a Digits
 * (splitAsTokenizers), whose words or digits were ASCII ones; `unicodeWhitespaceSplit`, its BertPreTokenizer or
 * WhitespaceSplit is behind no normalizer cleaning the text (splitsOnUnicodeWhitespace), where U+FEFF split a word and
 * U+0085 did not; `wordEscapeOutsideClass`, a Split's or Replace's regex has a word escape outside a class
 * (readsWordEscapes), which stop 49 read without ², ³, ¹, ¼, ½ and ¾ as word characters; `whiteSpaceStrip`, its
 * normalizer has a Strip before any Precompiled (stripsBeforePrecompiled), which trimmed JS's whitespace; `splitBehavior`,
 * its pre-tokenizer has a Split that @huggingface/tokenizers splits otherwise (splitReadOtherwise: MergedWithPrevious,
 * MergedWithNext, Contiguous, inverted but Removed, Removed of a String or of a Regex with groups), now split as
 * tokenizers does (splitPieces); `byteLevelRegex`, its pre-tokenizer has a ByteLevel with use_regex, whose regex took
 * JS's `\s` (U+FEFF a space, U+0085 none); `configPrefixSpace`, its pre-tokenizer is a ByteLevel whose add_prefix_space
 * tokenizer_config.json's (false where absent) overrides for a RoBERTa or GPT-2 class (withConfigPrefixSpace), where
 * the file's was read; `caseFoldWidened`, a Split's or Replace's `(?i:…)` group holds s or k, which Oniguruma folds
 * with ſ and K too (withOnigurumaCaseFolds), where they were folded with ASCII letters alone; `caseFoldKelvin`, such a
 * group holds k, which version 12 folded with K alone (its class wrote K twice, not the Kelvin sign U+212A); `fixedLength`, its
 * pre-tokenizer has a FixedLength (fixedLengthRegex), which cut UTF-16 units; `processorRetyped`, its post-processor is
 * read as another type than it says (withPartsAsRead: a RobertaProcessing without trim_offsets as a BertProcessing), where
 * its own type was read; `modelRetyped`, its model is of no type or holds fields its type does not read (withPartsAsRead:
 * read as tokenizers' type of its fields, or as its type alone), where @huggingface/tokenizers picked one of its fields
 * (a WordLevel holding a continuing_subword_prefix as a WordPiece); `unigramByteFallback`, its model is a Unigram of
 * byte_fallback true holding byte pieces (unigramByteFallbackOf), whose unknown pieces were the unknown token; `subwordPrefixBpe`, its model
 * is a BPE whose continuing_subword_prefix tokenizers reads (bpeReadsSubwordPrefix), which was ignored; `specialIds`, the
 * templates whose special tokens tokenizers gives other ids than their texts' (specialIdsRead), which were read;
 * `singleTemplateA`, a TemplateProcessing's single template holds other than one Sequence A (singleTemplateOddA), which
 * was applied to each text before the template (`single`: a single text's ids changed, two As; `pair`: a pair's);
 * `addedTokensRenormalized`, an added token of normalized true is normalized otherwise than @huggingface/tokenizers
 * did (addedTokensNormalizedOtherwise), which was looked for by the library's text; `unkTokenMissing`, its model's
 * unk_token is not in its vocabulary (missingUnkToken), where a piece it did not know was read as another id;
 * `addedPiecesApart`, a single_word added token's normalized text is a model's piece (addedPiecesApart), which was read
 * as the added token's id inside a word; `unlistedAddedPieces`, its model can give as a piece an added token's content
 * it lacks (unlistedAddedPieces), which was read as the added token's id; `metaspaceFirstAdded`, a Metaspace of
 * prepend_scheme first behind a normalizer and an added token of normalized false (metaspaceFirstUnnormalizedAdded),
 * whose content a text normalized to was read without the ▁; `addedTextsShared`, an added token of normalized true
 * whose normalized text is another added token's content or normalized text (addedTextsShared), read as the first's id
 * or, for two normalized texts, now refused; `precompiledCharsmap`, its normalizer has a Precompiled, whose charsmap
 * now normalizes (charsmapNormalizer), where NFKC was applied; `nestedMetaspaceSplit`, its pre-tokenizer has a
 * Metaspace that splits in a Sequence within a Sequence, which splits since version 28 (splittingMetaspaces saw one
 * level in; `metaspaceSplit` and `unknownsAcrossPreTokens` count them as they did); `configNormalizerDefaults`, its
 * BertNormalizer lower-cases, strips accents or splits Chinese characters otherwise since the class's defaults fill
 * what tokenizer_config.json leaves out (withConfigNormalizer), where the file's settings were read;
 * `configNormalizerUnread`, it is loaded as PreTrainedTokenizerFast and its BertNormalizer is the file's since, where
 * tokenizer_config.json's do_lower_case, strip_accents or tokenize_chinese_chars made it normalize otherwise;
 * `configNormalizerLaterClasses`, as `configNormalizerDefaults` for a class of CONFIG_NORMALIZER_CLASSES' version 31
 * (MobileBERT's, SqueezeBERT's, Funnel's, LayoutLM's, ConvBERT's), read so since version 31 (`configNormalizerDefaults`
 * false for them); `configNormalizerMoreClasses`, likewise for a tokenizer loaded as a class of
 * CONFIG_NORMALIZER_CLASSES' version 32 (DPR's, REALM's, LXMERT's, RetriBERT's), or by a folder naming no class whose
 * config.json's model_type loads one of those classes or BERT's (LATER_MODEL_TYPE_TOKENIZERS: ernie, megatron-bert,
 * mobilebert …), read as that class since version 32 (as no class known before; `configNormalizerDefaults` and `configNormalizerLaterClasses` false
 * for them); `typesNotReturnedLaterClasses`, as `typesNotReturned` for a class of LATER_TYPELESS_CLASSES (DPRReader's,
 * RetriBERT's) whose tokenizer_config.json lists no model_input_names, whose pairs were fed the template's types until
 * version 33 (`typesNotReturned` false for them); `albertSettingsTruthiness`, it is an ALBERT SentencePiece model read
 * whose tokenizer_config.json's do_lower_case or keep_accents, of a value other than true or false, Python's truthiness
 * reads otherwise than it was read (albertSettingsReadOtherwise: a null do_lower_case keeps case, where it lower-cased);
 * `funnelClsType`, it is a folder of vocab.txt alone loaded as FunnelTokenizer, whose [CLS] is type 2 since version 35
 * (vocabClsType), where it was 0; `vocabLoneCarriageReturn`, it is a vocab.txt read whose lone '\r' ends a line since
 * version 36 (splitsAtLoneCarriageReturn), where it was part of a token; `notUtf8`, its tokenizer files hold bytes that
 * are not UTF-8 (a NotUtf8Error), refused since version 37 (as transformers fails to read them), where they were read as
 * U+FFFD; `mpnetClass`, on single texts and on pairs, it is loaded as MPNetTokenizer (named, or by config.json's model_type
 * mpnet), read as transformers reads it since version 38: a vocab.txt's pairs (two separators between the texts, types
 * 0) and single texts where MPNet's special tokens differ from BERT's for what tokenizer_config.json leaves out
 * (mpnetSpecialsOtherwise; the mask token's lstrip changes no id behind a BertPreTokenizer); a tokenizer.json's
 * pairs where its template gives types other than 0 and the config lists no model_input_names (all 0 now).
 * `configNormalizerMpnet`, it is a tokenizer.json loaded as MPNetTokenizer whose BertNormalizer is read otherwise as
 * 4.x's MPNetTokenizerFast rebuilds it (do_lower_case and strip_accents of the class's defaults where
 * tokenizer_config.json leaves them out: CONFIG_NORMALIZER_CLASSES' 38) than by the config's settings else the file's,
 * as it was read before version 39 (`configNormalizerDefaults` false for it). `bpeMerges`, it is a folder of vocab.json
 * and merges.txt whose merges transformers 4.x reads otherwise, or fails to load (mergesReading), than compress read
 * them before version 40 (its first line dropped only where '#version', its last merge read where no newline ends it,
 * a lone '\r' within a line, an empty line skipped).
 * Undefined where the folder has no tokenizer this code reads, or fails to read it otherwise.
 */
export interface TokenizerTraits {
  addedTokens: boolean;
  pairTemplate: boolean;
  albertDigitComma: boolean;
  otherSentencePiece: boolean;
  metaspaceSplit: boolean;
  removeSpace: boolean;
  lowercaseRemoveAccent: boolean;
  unknownsAcrossPreTokens: boolean;
  metaspaceFirst: boolean;
  typesNotReturned: boolean;
  punctuationSplit: boolean;
  slowOnlyBpe: boolean;
  wordOrDigitSplit: boolean;
  unicodeWhitespaceSplit: boolean;
  wordEscapeOutsideClass: boolean;
  whiteSpaceStrip: boolean;
  splitBehavior: boolean;
  byteLevelRegex: boolean;
  configPrefixSpace: boolean;
  caseFoldWidened: boolean;
  caseFoldKelvin: boolean;
  fixedLength: boolean;
  processorRetyped: boolean;
  modelRetyped: boolean;
  unigramByteFallback: boolean;
  subwordPrefixBpe: boolean;
  specialIds: { single: boolean; pair: boolean };
  singleTemplateA: { single: boolean; pair: boolean };
  addedTokensRenormalized: boolean;
  unkTokenMissing: boolean;
  addedPiecesApart: boolean;
  unlistedAddedPieces: boolean;
  metaspaceFirstAdded: boolean;
  addedTextsShared: boolean;
  precompiledCharsmap: boolean;
  nestedMetaspaceSplit: boolean;
  configNormalizerDefaults: boolean;
  configNormalizerUnread: boolean;
  configNormalizerLaterClasses: boolean;
  configNormalizerMoreClasses: boolean;
  typesNotReturnedLaterClasses: boolean;
  albertSettingsTruthiness: boolean;
  funnelClsType: boolean;
  vocabLoneCarriageReturn: boolean;
  notUtf8: boolean;
  mpnetClass: { single: boolean; pair: boolean };
  configNormalizerMpnet: boolean;
  bpeMerges: boolean;
}

/**
 * A tokenizer.json object whose post-processor gives every token type 0 (a TemplateProcessing's type ids written 0, a
 * BertProcessing written as the TemplateProcessing of its tokens with types 0, each in its Sequences at any depth, as
 * tokenizers applies a Sequence within a Sequence), as eval feeds a
 * tokenizer whose class returns no token types (returnsTokenTypes false): what --format transformers.js writes, since
 * transformers.js's class (BertTokenizer's, for model_input_names without token_type_ids) returns the template's.
 * `json` itself where its post-processor gives a pair no other type (givesPairTypes).
 */
export function withPairTypesZero(json: Record<string, unknown>): Record<string, unknown> {
  if (!givesPairTypes(json)) return json;
  const zero = (p: Record<string, unknown>): Record<string, unknown> => {
    if (p.type === 'BertProcessing') {
      const [[sep, sepId], [cls, clsId]] = [p.sep, p.cls] as Array<[string, number]>;
      const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
      const sequence = (id: string) => ({ Sequence: { id, type_id: 0 } });
      return {
        type: 'TemplateProcessing',
        single: [special(cls!), sequence('A'), special(sep!)],
        pair: [special(cls!), sequence('A'), special(sep!), sequence('B'), special(sep!)],
        special_tokens: { [cls!]: { id: cls, ids: [clsId], tokens: [cls] }, [sep!]: { id: sep, ids: [sepId], tokens: [sep] } },
      };
    }
    if (p.type !== 'TemplateProcessing') return p;
    const typed = (list: unknown) =>
      Array.isArray(list)
        ? (list as Array<Record<string, Record<string, unknown>>>).map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, { ...v, type_id: 0 }])))
        : list;
    return { ...p, single: typed(p.single), pair: typed(p.pair) };
  };
  return { ...json, post_processor: mapSequenceLeaves(json.post_processor, 'processors', zero) };
}

/** Whether a tokenizer.json object's post-processor (as read: withTokenizersPostProcessor) gives some token of a pair a type other than 0. */
function givesPairTypes(json: object): boolean {
  return sequenceLeaves((json as { post_processor?: unknown }).post_processor, 'processors').some(
    ({ leaf: p }) =>
      p.type === 'BertProcessing' ||
      (p.type === 'TemplateProcessing' &&
        Array.isArray(p.pair) &&
        (p.pair as Array<Record<string, { type_id?: unknown } | undefined>>).some((e) => (e.Sequence ?? e.SpecialToken)?.type_id !== 0)),
  );
}

/**
 * Whether a tokenizer.json object has a Metaspace of prepend_scheme first whose ▁ prependFirstAtTextStart can move: one
 * after another pre-tokenizer (a Sequence's), or behind a normalizer (which may drop the text's first character or
 * split out added tokens matched on the normalized text); one alone with no normalizer prepends as before.
 */
function firstMetaspaceMended(json: object): boolean {
  const { pre_tokenizer: pre, normalizer } = json as { pre_tokenizer?: { type?: unknown } | null; normalizer?: unknown };
  return hasMetaspaceFirst(pre) && (pre?.type !== 'Metaspace' || (normalizer !== null && normalizer !== undefined));
}

/** A tokenizer.json object's model and pre-tokenizer, as fusesUnknownsOfPreTokens and fusesUnknownsInTransformersJs read them. */
interface ModelAndPreTokenizer {
  model?: { type?: unknown; fuse_unk?: unknown };
  pre_tokenizer?: { type?: unknown; split?: unknown; prepend_scheme?: unknown; add_prefix_space?: unknown; pretokenizers?: unknown } | null;
}

/**
 * Whether a tokenizer.json object's model fuses a run of unknown pieces into one unknown token (Unigram's always, BPE's
 * with `fuse_unk`) and its pre-tokenizer may give a text several pre-tokens (any but none, or one Metaspace that does
 * not split): where @huggingface/tokenizers, which gives its model all the pre-tokens at once, can fuse them across
 * pre-tokens, and tokenizers, which runs it on each pre-token (modelPerPreToken), does not.
 */
function fusesUnknownsOfPreTokens(json: object): boolean {
  const { model, pre_tokenizer: pre } = json as ModelAndPreTokenizer;
  const fuses = model?.type === 'Unigram' || (model?.type === 'BPE' && model.fuse_unk === true);
  const onePreToken = pre === null || pre === undefined || (pre.type === 'Metaspace' && pre.split === false);
  return fuses && !onePreToken;
}

/**
 * Whether transformers.js, whose @huggingface/tokenizers gives the model all the pre-tokens of a text at once, can fuse
 * unknown pieces of the tokenizer.json object `json` (as read: --format transformers.js writes its splitting
 * Metaspaces so that transformers.js splits alike, withSplitsTransformersJsReads) across pre-tokens where
 * tokenizers and evaluation fuse them within one (modelPerPreToken): it fuses them (fusesUnknownsOfPreTokens), unless
 * every pre-token after the first starts with a Metaspace's replacement (▁) that is a piece of the model, which is then
 * no unknown piece: a pre-tokenizer that is one Metaspace that splits (each pre-token after the first starts with ▁),
 * or a Sequence ending in one (its last part at any depth) that also prepends ▁ to every pre-token (prepend_scheme always).
 */
export function fusesUnknownsInTransformersJs(json: object): boolean {
  if (!fusesUnknownsOfPreTokens(json)) return false;
  const pre = (json as ModelAndPreTokenizer).pre_tokenizer!;
  const metaspaces = splittingMetaspaces(json);
  // (a Sequence's parts at any depth, in the order they run)
  const leaves = sequenceLeaves(pre, 'pretokenizers');
  const last = leaves.at(-1);
  const prefixed =
    last?.leaf.type === 'Metaspace' &&
    metaspaces.some(({ path }) => path.join() === last.path.join()) &&
    (leaves.length === 1 || (last.leaf.prepend_scheme ?? 'always') === 'always');
  const replacement = metaspaces.at(-1)?.replacement;
  return !(prefixed && replacement !== undefined && modelVocabulary(json)?.has(replacement) === true);
}

/**
 * A tokenizer.json pre-tokenizer whose Punctuation pre-tokenizers (a Sequence's at any depth) of a behavior other than
 * Contiguous are written as Splits on each punctuation character of their behavior (splitTransformersJsReads), which
 * tokenizers splits alike (punctuation.rs splits on is_punc by its behavior), where @huggingface/tokenizers ignores a
 * Punctuation's behavior and splits as Contiguous. Its Whitespace pre-tokenizers likewise, as a Split keeping
 * (inverting) the matches of their Unicode words' regex (WHITESPACE_PIECES), where @huggingface/tokenizers matched
 * ASCII words; tokenizers' Whitespace is that split (whitespace.rs: Invert, Removed). And its Digits as a Split
 * isolating the matches of digitsRegex, where it matched ASCII digits. Its BertPreTokenizers as a Split keeping the
 * matches of BERT_PRE_TOKENIZER_PIECES: on White_Space and tokenizers' own punctuation (Unicode 8.0's), where
 * @huggingface/tokenizers' BertPreTokenizer split on JS's `\s` and `\p{P}`, the engine's own Unicode (143 characters
 * apart on Node 20.20: U+061D split a word, U+166D did not), whatever normalizer comes first. And, where
 * `unicodeWhitespace` (splitsOnUnicodeWhitespace), its WhitespaceSplits as a Split keeping the matches of
 * WHITESPACE_SPLIT_PIECES, on White_Space as tokenizers splits, where @huggingface/tokenizers split on JS's `\s`. Its Splits as splitTransformersJsReads writes them, and its ByteLevels
 * that split (use_regex) as a Split on BYTE_LEVEL_REGEX (after a Metaspace of replacement ' ' prepending a space where
 * add_prefix_space, as the ByteLevel prepends one to each text it is given), then the ByteLevel with neither, where
 * @huggingface/tokenizers' ByteLevel regex took JS's `\s`. Its CharDelimiterSplits, which the library does not know,
 * as the Split of their delimiter (a String), Removed, that tokenizers reads alike (pre_tokenizers/delimiter.rs), as
 * splitTransformersJsReads writes it. `part` itself where it has none of them. A UnicodeScripts,
 * which the library does not know, is a one-line SettingsError naming `source`: a Split of one regex splitting as it
 * does needs, for each script, a class of that script's characters or those of none, thousands of ranges each.
 */
function withTokenizersSplits(part: unknown, unicodeWhitespace: boolean, source: string): unknown {
  const split = (pattern: string, behavior: string, invert: boolean, kind: 'Regex' | 'String' = 'Regex') => ({
    type: 'Split',
    pattern: { [kind]: pattern },
    behavior,
    invert,
  });
  return mapSequenceLeaves(part, 'pretokenizers', (p) => {
    if (p.type === 'Whitespace') return split(WHITESPACE_PIECES.source, 'Removed', true);
    if (p.type === 'WhitespaceSplit' && unicodeWhitespace) return split(WHITESPACE_SPLIT_PIECES.source, 'Removed', true);
    if (p.type === 'BertPreTokenizer') return split(BERT_PRE_TOKENIZER_PIECES.source, 'Removed', true);
    if (p.type === 'Digits') return split(digitsRegex(p), 'Isolated', false);
    if (p.type === 'FixedLength') return split(fixedLengthRegex(p), 'Isolated', false);
    if (p.type === 'Split') return splitTransformersJsReads(p, source);
    if (p.type === 'CharDelimiterSplit') return splitTransformersJsReads(split(String(p.delimiter), 'Removed', false, 'String'), source);
    if (p.type === 'UnicodeScripts')
      throw new SettingsError(
        `${source}: its pre_tokenizer's UnicodeScripts, which @huggingface/tokenizers (transformers.js) fails to load, and no Split it reads splits by tokenizers' own table of scripts (an older Unicode's than JS's), so transformers.js cannot be written to split as tokenizers does: not exported`,
      );
    if (p.type === 'ByteLevel' && p.use_regex !== false) {
      const prefix = p.add_prefix_space === true ? [{ type: 'Metaspace', replacement: ' ', prepend_scheme: 'always', split: false }] : [];
      return { type: 'Sequence', pretokenizers: [...prefix, split(BYTE_LEVEL_REGEX, 'Isolated', false), { ...p, add_prefix_space: false, use_regex: false }] };
    }
    const behavior = p.behavior ?? 'Isolated';
    if (p.type !== 'Punctuation' || behavior === 'Contiguous' || !SPLIT_BEHAVIORS.includes(String(behavior))) return p;
    return splitTransformersJsReads(split(PUNCTUATION_PIECE.source, String(behavior), false), source);
  });
}

/** tokenizers' SplitDelimiterBehavior, as a Split's or Punctuation's `behavior` names one. */
const SPLIT_BEHAVIORS: readonly string[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

/**
 * A tokenizer.json Split (`p`) written so that @huggingface/tokenizers splits as tokenizers does (splitPieces) and
 * tokenizers reads it alike, where the library reads it otherwise (splitReadOtherwise): Isolated inverted as Isolated
 * (either gives every segment); Removed of a String as Removed of its escaped Regex (the library kept a String's
 * delimiters), and of a Regex with its groups made non-capturing (String.split kept what they captured, and the
 * regexes below read it twice);
 * Contiguous as Isolated of the pattern repeated (`(?:P)+`: a run of adjacent matches, either way inverted);
 * MergedWithPrevious (MergedWithNext inverted) as Isolated of each match with the text before it (`G*(?:P)|G+`, G a
 * character where P does not match), MergedWithNext (MergedWithPrevious inverted) of each match with the text after it
 * (`(?:P)G*|G+`). Where that cannot be written (a pattern that may match empty text, whose empty matches Oniguruma
 * skips otherwise than a repeat or a lookahead reads them; a backreference; a regex the library cannot compile), a
 * one-line SettingsError naming `source`. `p` itself where the library reads it as tokenizers does.
 */
function splitTransformersJsReads(p: Record<string, unknown>, source: string): Record<string, unknown> {
  if (!splitReadOtherwise(p)) return p;
  const pattern = (p.pattern ?? {}) as { String?: unknown; Regex?: unknown };
  const behavior = String(p.behavior);
  const invert = p.invert === true;
  if (behavior === 'Isolated') return { ...p, invert: false };
  // (a String escaped as tokenizers escapes it for Oniguruma, in escapes JS reads alike; a Regex's groups made
  // non-capturing, which repeating it or reading it twice in one regex leaves as one match)
  const escaped = typeof pattern.String === 'string' ? regexLiteral(pattern.String) : undefined;
  const regex = typeof pattern.Regex === 'string' ? withoutCaptures(pattern.Regex) : escaped;
  const refuse = (why: string) =>
    new SettingsError(
      `${source}: its pre_tokenizer's Split of ${valueText(p.pattern)}, ${behavior}${invert ? ', inverted' : ''}, ${why}, so transformers.js cannot be written to split as tokenizers does: not exported`,
    );
  if (!SPLIT_BEHAVIORS.includes(behavior) || (regex === undefined && escaped === undefined && typeof pattern.Regex !== 'string')) return p;
  if (regex === undefined) throw refuse('has a backreference');
  const written = (r: string, b: string) => {
    if (compiledSplitRegex(r) === undefined) throw refuse('is a regex @huggingface/tokenizers cannot compile');
    return { ...p, pattern: { Regex: r }, behavior: b, invert: false };
  };
  if (behavior === 'Removed') return written(regex, 'Removed');
  if (matchesEmpty(regex)) throw refuse('may match empty text');
  const gap = `(?:(?!${regex})[\\s\\S])`;
  if (behavior === 'Contiguous') return written(`(?:${regex})+`, 'Isolated');
  const withBefore = (behavior === 'MergedWithPrevious') !== invert;
  return written(withBefore ? `${gap}*(?:${regex})|${gap}+` : `(?:${regex})${gap}*|${gap}+`, 'Isolated');
}

/**
 * Whether @huggingface/tokenizers splits as the tokenizer.json Split `p` otherwise than tokenizers (splitPieces): only
 * Isolated, Removed inverted (the matches kept), and Removed of a Regex without capturing groups (the text between
 * them kept) split alike; it reads MergedWithPrevious, MergedWithNext and Contiguous as Isolated, inverted as the
 * matches kept, a String with Removed keeping the delimiters, and a Regex with Removed keeping what its groups capture.
 */
function splitReadOtherwise(p: Record<string, unknown>): boolean {
  const regex = (p.pattern as { Regex?: unknown } | undefined)?.Regex;
  const invert = p.invert === true;
  if (p.behavior === 'Isolated' && !invert) return false;
  if (p.behavior === 'Removed' && invert) return false;
  if (p.behavior !== 'Removed' || typeof regex !== 'string') return true;
  const compiled = compiledSplitRegex(regex);
  return compiled === undefined || new RegExp(`${compiled.source}|`, compiled.flags.replace('g', '')).exec('')!.length > 1;
}

/**
 * `regex` (Oniguruma) with its capturing groups (`(…)`, `(?<name>…)`, `(?'name'…)`) made non-capturing (`(?:…)`),
 * which Oniguruma reads as the same match; undefined where it has a backreference or a call (`\\1`, `\\k<…>`, `\\g<…>`).
 */
function withoutCaptures(regex: string): string | undefined {
  let out = '';
  let skipTo = 0;
  for (const { at, atom, inClass } of regexAtoms(regex)) {
    if (at < skipTo) continue;
    if (!inClass && /^\\(?:[1-9]|[kg][<'])/.test(regex.slice(at, at + 3))) return undefined;
    const group = !inClass && atom === '(' ? /^\((?:\?<(?![=!])[^>]*>|\?'[^']*'|(?!\?))/.exec(regex.slice(at)) : null;
    if (group) {
      out += '(?:';
      skipTo = at + group[0].length;
    } else out += atom;
  }
  return out;
}

/**
 * Whether `regex` (Oniguruma) may match empty text: where it matches it with its lookarounds and anchors taken out (so
 * that it matches empty text wherever they hold), or where that cannot be told (it does not compile so).
 */
function matchesEmpty(regex: string): boolean {
  let bare = '';
  let open = 0; // (the depth of groups within a lookaround being taken out; 0 outside one)
  for (const { at, atom, inClass } of regexAtoms(regex)) {
    if (open > 0) {
      if (!inClass && atom === '(') open += 1;
      if (!inClass && atom === ')') open -= 1;
      continue;
    }
    if (!inClass && atom === '(' && /^\(\?<?[=!]/.test(regex.slice(at))) open = 1;
    else if (inClass || !(atom === '^' || atom === '$' || /^\\[bBAzZG]$/.test(atom))) bare += atom;
  }
  const compiled = compiledSplitRegex(bare);
  return compiled === undefined || new RegExp(`^(?:${compiled.source})$`, compiled.flags.replace('g', '')).test('');
}

/** Oniguruma's word escapes (outside a character class: `\\w`, `\\W`, `\\b`, `\\B`, `\\p{Word}`, `\\P{Word}`). */
const ONIG_WORD_ESCAPES = ['w', 'W', 'b', 'B', 'p{Word}', 'P{Word}'];

/**
 * Whether `regex` (Oniguruma) has a word escape outside a character class, which Oniguruma reads by its ISO-8859-1
 * ctype table below U+0100, where ², ³, ¹, ¼, ½ and ¾ are word characters (unicode.c onigenc_unicode_is_code_ctype),
 * and within a class by CR_Word, where they are not: as @huggingface/tokenizers reads them (its `\\w` outside a class
 * adds those six). Stop 49 read them as within a class (tokenizer reading version 8, undone at version 9).
 */
function hasWordEscapeOutsideClass(regex: string): boolean {
  return regexAtoms(regex).some(({ at, atom, inClass }) => !inClass && atom[0] === '\\' && ONIG_WORD_ESCAPES.some((e) => regex.startsWith(e, at + 1)));
}

/**
 * Whether a tokenizer.json object's normalizer has a Strip (a Sequence's at any depth) before any Precompiled (DeBERTa-v3's:
 * Strip, Precompiled), which read a text starting or ending in U+FEFF otherwise (JS's trim took it, tokenizers' keeps
 * it); after a Precompiled (a SentencePiece converter's: Precompiled, Strip) U+FEFF is a space already, and only U+0085
 * was read otherwise, which no GLUE text holds.
 */
function stripsBeforePrecompiled(json: object): boolean {
  const leaves = sequenceLeaves((json as { normalizer?: unknown }).normalizer, 'normalizers').map(({ leaf }) => leaf.type);
  const strip = leaves.indexOf('Strip');
  return strip >= 0 && !leaves.slice(0, strip).includes('Precompiled');
}

/** Whether a tokenizer.json object's normalizer's Replaces or pre-tokenizer's Splits and Replaces (a Sequence's at any depth) have a Regex with a word escape outside a class (hasWordEscapeOutsideClass). */
function readsWordEscapes(json: object): boolean {
  const { normalizer, pre_tokenizer: pre } = json as { normalizer?: unknown; pre_tokenizer?: unknown };
  return [...sequenceLeaves(normalizer, 'normalizers'), ...sequenceLeaves(pre, 'pretokenizers')].some(({ leaf }) => {
    const regex = (leaf.pattern as { Regex?: unknown } | undefined)?.Regex;
    return (leaf.type === 'Split' || leaf.type === 'Replace') && typeof regex === 'string' && hasWordEscapeOutsideClass(regex);
  });
}

/**
 * A tokenizer.json object whose Metaspace pre-tokenizers that split (splittingMetaspaces) are written as transformers.js
 * reads them alike: a Metaspace that does not split, then a Split on a regex that matches the pieces before each ▁
 * (`▁[^▁]*|[^▁]+`, Isolated), which tokenizers reads as the same split (pre_tokenizers/metaspace.rs splits on the
 * replacement MergedWithNext) and @huggingface/tokenizers honours, where it ignores `split` and gave a Unigram model
 * the whole text, a piece holding ▁ matched across two words; its Punctuations, Whitespaces, Digits and
 * BertPreTokenizers, and its WhitespaceSplits where they may meet U+FEFF or U+0085 (splitsOnUnicodeWhitespace), as
 * Splits (withTokenizersSplits). `read` itself when it has none of them.
 */
export function withSplitsTransformersJsReads(read: Record<string, unknown>, source = 'tokenizer.json'): Record<string, unknown> {
  const split = withTokenizersSplits(read.pre_tokenizer, splitsOnUnicodeWhitespace(read), source);
  const json = split === read.pre_tokenizer ? read : { ...read, pre_tokenizer: split };
  const metaspaces = splittingMetaspaces(json);
  if (metaspaces.length === 0) return json;
  // (one replacement character, as tokenizers' Metaspace holds a char; the regex reads alike in Oniguruma and JS)
  const rewrite = (m: Record<string, unknown>, replacement: string) => {
    const literal = regexLiteral(replacement);
    const other = `[^${replacement.replace(/[\]\\^-]/g, '\\$&')}]`;
    return [
      { ...m, split: false },
      { type: 'Split', pattern: { Regex: `${literal}${other}*|${other}+` }, behavior: 'Isolated', invert: false },
    ];
  };
  const pre = json.pre_tokenizer as Record<string, unknown>;
  if (metaspaces[0]!.path.length === 0) return { ...json, pre_tokenizer: { type: 'Sequence', pretokenizers: rewrite(pre, metaspaces[0]!.replacement) } };
  // (a Sequence at `path` with each of its parts that is such a Metaspace as the two parts in its place, at any depth)
  const within = (sequence: Record<string, unknown>, path: readonly number[]): Record<string, unknown> => {
    const pretokenizers = (sequence.pretokenizers as Array<Record<string, unknown>>).flatMap((p, i) => {
      const at = [...path, i].join();
      const found = metaspaces.find((m) => m.path.join() === at);
      if (found) return rewrite(p, found.replacement);
      return metaspaces.some((m) => m.path.join().startsWith(`${at},`)) ? [within(p, [...path, i])] : [p];
    });
    return { ...sequence, pretokenizers };
  };
  return { ...json, pre_tokenizer: within(pre, []) };
}

/** The Chinese characters of CHINESE_RANGES past U+FFFF, as a regex character class written with the characters themselves (Oniguruma and JS read it alike). */
const ASTRAL_CHINESE_CLASS = `[${CHINESE_RANGES.filter(([a]) => a > 0xffff)
  .map(([a, b]) => `${String.fromCodePoint(a)}-${String.fromCodePoint(b)}`)
  .join('')}]`;

/** The pre-tokenizers that split a text at its spaces and drop them, so that a Chinese character a BertNormalizer set apart with spaces is a word of its own. */
const SPACE_SPLITTING_PRE_TOKENIZERS: ReadonlySet<unknown> = new Set(['BertPreTokenizer', 'WhitespaceSplit', 'Whitespace']);

/** The pre-tokenizers that only cut their pieces further (never join them or change their characters). */
const CUTTING_PRE_TOKENIZERS: ReadonlySet<unknown> = new Set([...SPACE_SPLITTING_PRE_TOKENIZERS, 'Punctuation', 'Digits', 'Split']);

/**
 * Whether tokenizer.json pre-tokenizer `pre` (a Sequence's leaves at any depth) leaves a Chinese character that a
 * BertNormalizer set apart with spaces a piece of its own: one of SPACE_SPLITTING_PRE_TOKENIZERS, beside none but
 * CUTTING_PRE_TOKENIZERS.
 */
function isolatesSpacedChinese(pre: unknown): boolean {
  const leaves = sequenceLeaves(pre, 'pretokenizers');
  return leaves.some(({ leaf }) => SPACE_SPLITTING_PRE_TOKENIZERS.has(leaf.type)) && leaves.every(({ leaf }) => CUTTING_PRE_TOKENIZERS.has(leaf.type));
}

/**
 * A tokenizer.json object whose normalizing transformers.js, whose @huggingface/tokenizers normalizes unmended, reads as
 * evaluation does (normalizeAsTokenizers), written so that tokenizers reads it as before: each lower-casing normalizer
 * (a BertNormalizer with lowercase, a Lowercase; a Sequence's at any depth) after a Replace of Σ by σ, so that no
 * capital sigma is left for toLowerCase to make ς; and a BertPreTokenizer, WhitespaceSplit or Whitespace
 * (SPACE_SPLITTING_PRE_TOKENIZERS; or a Sequence holding one, isolatesSpacedChinese) behind a BertNormalizer with handle_chinese_chars followed by a Split isolating
 * each Chinese character past U+FFFF (ASTRAL_CHINESE_CLASS), which tokenizers' normalizer isolated already with spaces; and each Strip as Replaces of White_Space at the text's start
 * (`\\A\\s+`) or end (`\\s+\\z`), which Oniguruma and @huggingface/tokenizers (`\\s` as White_Space) read alike, where
 * it trimmed JS's whitespace. And each Nmt, which @huggingface/tokenizers does not know, as a Replace of
 * NMT_DROPPED_CLASS by nothing and one of NMT_SPACE_CLASS by a space, which tokenizers reads alike. And each Precompiled
 * whose charsmap maps no text (charsmapMapsNothing) as an empty Sequence, which both read as keeping the text, where
 * @huggingface/tokenizers applies NFKC (and its rules for spaces and controls) to any Precompiled. `json` itself where
 * it has none of them. A ByteLevel normalizer, which the library does not know either, is a one-line SettingsError
 * naming `source`.
 */
export function withNormalizingTransformersJsReads(json: Record<string, unknown>, source = 'tokenizer.json'): Record<string, unknown> {
  let chinese = false;
  const normalizer = mapSequenceLeaves(json.normalizer, 'normalizers', (p) => {
    if (p.type === 'BertNormalizer' && p.handle_chinese_chars === true) chinese = true;
    if (p.type === 'Strip') {
      const replace = (regex: string) => ({ type: 'Replace', pattern: { Regex: regex }, content: '' });
      const normalizers = [...(p.strip_left === true ? [replace('\\A\\s+')] : []), ...(p.strip_right === true ? [replace('\\s+\\z')] : [])];
      return normalizers.length === 0 ? p : { type: 'Sequence', normalizers };
    }
    if (p.type === 'ByteLevel')
      throw new SettingsError(
        `${source}: its normalizer's ByteLevel, which @huggingface/tokenizers (transformers.js) fails to load, and which no normalizer it reads writes (each UTF-8 byte as a character of GPT-2's byte-level alphabet), so transformers.js cannot be written to normalize as tokenizers does: not exported`,
      );
    // (a charsmap that maps no text: no normalizer, which transformers.js reads as tokenizers does, where it applies NFKC
    // for a Precompiled whatever its charsmap says)
    if (
      p.type === 'Precompiled' &&
      typeof p.precompiled_charsmap === 'string' &&
      charsmapProblem(p.precompiled_charsmap) === undefined &&
      charsmapMapsNothing(p.precompiled_charsmap)
    )
      return { type: 'Sequence', normalizers: [] };
    if (p.type === 'Nmt')
      return {
        type: 'Sequence',
        normalizers: [
          { type: 'Replace', pattern: { Regex: NMT_DROPPED_CLASS }, content: '' },
          { type: 'Replace', pattern: { Regex: NMT_SPACE_CLASS }, content: ' ' },
        ],
      };
    if (p.type !== 'Lowercase' && !(p.type === 'BertNormalizer' && p.lowercase === true)) return p;
    return { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: { String: 'Σ' }, content: 'σ' }, p] };
  });
  const pre = json.pre_tokenizer as Record<string, unknown> | null | undefined;
  const split = { type: 'Split', pattern: { Regex: ASTRAL_CHINESE_CLASS }, behavior: 'Isolated', invert: false };
  const preTokenizer = chinese && isolatesSpacedChinese(pre) ? { type: 'Sequence', pretokenizers: [pre, split] } : pre;
  return normalizer === json.normalizer && preTokenizer === pre ? json : { ...json, normalizer, pre_tokenizer: preTokenizer };
}

/**
 * Whether albertSettings reads `config`'s do_lower_case or keep_accents otherwise than before tokenizer reading version
 * 34 (a value other than true or false as do_lower_case true and keep_accents false).
 */
function albertSettingsReadOtherwise(config: TokenizerConfigJson): boolean {
  const now = albertSettings(config);
  return now.doLowerCase !== (typeof config.do_lower_case === 'boolean' ? config.do_lower_case : true) || now.keepAccents !== (config.keep_accents === true);
}

/** Whether tokenizers reads the `part` of `raw` (a tokenizer.json's object) otherwise than as it is written (withPartsAsRead). */
function partRetyped(raw: Record<string, unknown>, part: 'post_processor' | 'model'): boolean {
  const read = withPartsAsRead(raw);
  return typeof read !== 'string' && read[part] !== raw[part];
}

/** The traits of a folder none of whose changes touched it (tokenizerTraits' start for one it cannot read as a whole). */
const NO_TRAITS: TokenizerTraits = {
  addedTokens: false,
  pairTemplate: false,
  albertDigitComma: false,
  otherSentencePiece: false,
  metaspaceSplit: false,
  removeSpace: false,
  lowercaseRemoveAccent: false,
  unknownsAcrossPreTokens: false,
  metaspaceFirst: false,
  typesNotReturned: false,
  punctuationSplit: false,
  slowOnlyBpe: false,
  wordOrDigitSplit: false,
  unicodeWhitespaceSplit: false,
  wordEscapeOutsideClass: false,
  whiteSpaceStrip: false,
  splitBehavior: false,
  byteLevelRegex: false,
  configPrefixSpace: false,
  caseFoldWidened: false,
  caseFoldKelvin: false,
  fixedLength: false,
  processorRetyped: false,
  modelRetyped: false,
  unigramByteFallback: false,
  subwordPrefixBpe: false,
  specialIds: { single: false, pair: false },
  singleTemplateA: { single: false, pair: false },
  addedTokensRenormalized: false,
  unkTokenMissing: false,
  addedPiecesApart: false,
  unlistedAddedPieces: false,
  metaspaceFirstAdded: false,
  addedTextsShared: false,
  precompiledCharsmap: false,
  nestedMetaspaceSplit: false,
  configNormalizerDefaults: false,
  configNormalizerUnread: false,
  configNormalizerLaterClasses: false,
  configNormalizerMoreClasses: false,
  typesNotReturnedLaterClasses: false,
  albertSettingsTruthiness: false,
  funnelClsType: false,
  vocabLoneCarriageReturn: false,
  notUtf8: false,
  mpnetClass: { single: false, pair: false },
  configNormalizerMpnet: false,
  bpeMerges: false,
};

/** The TokenizerTraits of the tokenizer in `dir` as loadTokenizer reads it; undefined where it has none this code reads. */
export function tokenizerTraits(dir: string): TokenizerTraits | undefined {
  try {
    const config = readConfig(dir);
    if (slowOnlyBpeClass(dir, config) !== undefined) return { ...NO_TRAITS, slowOnlyBpe: true };
    // (a folder read from vocab.json and merges.txt: its merges as transformers reads them since version 40, or refused)
    const bpe = bpeFilesRead(dir);
    const merges = bpe && mergesReading(bpe.merges, bpe.vocab);
    if (merges === 'refused') return { ...NO_TRAITS, bpeMerges: true };
    const found = folderTokenizerJson(dir);
    if (found === undefined) return undefined;
    const read = found.json;
    const raw = found.parsed;
    const model = modelVocabulary(read) ?? new Map<string, number>();
    const listed = (json: object | undefined): AddedTokenJson[] => {
      const added = (json as { added_tokens?: unknown } | undefined)?.added_tokens;
      return Array.isArray(added) ? (added as AddedTokenJson[]) : [];
    };
    const plain = (t: AddedTokenJson): boolean => t?.special === true && t.single_word !== true && model.get(t.content) === t.id;
    const spm = SENTENCEPIECE_FILES.includes(basename(found.file)) ? basename(found.file) : undefined;
    const preTokenizers = sequenceLeaves((read as { pre_tokenizer?: unknown }).pre_tokenizer, 'pretokenizers');
    const folded = raw === undefined ? undefined : withOnigurumaCaseFolds(raw);
    // (the Metaspaces that split, and those versions 3 and 4 saw split: the pre-tokenizer and its Sequence's own parts)
    const metaspaces = splittingMetaspaces(read);
    // (the class AutoTokenizer loads the folder as, looked up once: the reading's where it looked it up)
    const loadedClass = Object.hasOwn(found, 'autoClass') ? found.autoClass : autoTokenizerClass(dir, config);
    const loaded = loadedClass?.replace(/Fast$/, '') ?? '';
    const fileNormalizerClass = loaded === FILE_NORMALIZER_CLASS;
    const laterNormalizerClass = CONFIG_NORMALIZER_CLASSES.get(loaded) === 31;
    const mpnetNormalizerClass = CONFIG_NORMALIZER_CLASSES.get(loaded) === 38;
    // (a class rebuilding the normalizer since version 32, or one read from config.json's model_type,
    // LATER_MODEL_TYPE_TOKENIZERS)
    const naming = classNaming(dir, config);
    const moreClasses =
      CONFIG_NORMALIZER_CLASSES.get(loaded) === 32 ||
      (naming.named === undefined && typeof naming.modelType === 'string' && Object.hasOwn(LATER_MODEL_TYPE_TOKENIZERS, naming.modelType));
    const ownMetaspaces = metaspaces.filter(({ path }) => path.length <= 1);
    // (a class returning no token types since version 33, its model_input_names not listed)
    const laterTypeless = !Array.isArray(config.model_input_names) && LATER_TYPELESS_CLASSES.includes(loaded);
    // (a tokenizer loaded as MPNetTokenizer, read as transformers reads it since version 38)
    const mpnet = loaded === MPNET_CLASS;
    const vocabTxt = basename(found.file) === 'vocab.txt';
    return {
      addedTokens: ![...listed(raw), ...listed(read)].every(plain),
      pairTemplate: raw !== undefined && withTokenizersPostProcessor(raw) !== raw,
      albertDigitComma: spm === SENTENCEPIECE_FILE_OF.albert && [...model.keys()].some(nonDecimalDigitComma),
      albertSettingsTruthiness: spm === SENTENCEPIECE_FILE_OF.albert && albertSettingsReadOtherwise(config),
      funnelClsType: vocabTxt && vocabClsType(loadedClass) !== 0,
      vocabLoneCarriageReturn: vocabTxt && splitsAtLoneCarriageReturn(found.file),
      notUtf8: false,
      bpeMerges: merges === 'otherwise',
      otherSentencePiece: spm !== undefined && spm !== basename(sentencePieceFile(dir)!),
      metaspaceSplit: ownMetaspaces.some(({ replacement: r }) => !model.has(r) || [...model.keys()].some((t) => t.indexOf(r, 1) > 0)),
      removeSpace: config.remove_space === true,
      lowercaseRemoveAccent: config.do_lowercase_and_remove_accent === true,
      unknownsAcrossPreTokens: fusesUnknownsOfPreTokens(read) && ownMetaspaces.length === 0,
      metaspaceFirst: firstMetaspaceMended(read),
      typesNotReturned: returnsTokenTypes(dir, config, loadedClass) === false && !laterTypeless && !mpnet && givesPairTypes(read),
      mpnetClass: {
        single: mpnet && vocabTxt && mpnetSpecialsOtherwise(config),
        pair: mpnet && (vocabTxt || (!Array.isArray(config.model_input_names) && givesPairTypes(read))),
      },
      typesNotReturnedLaterClasses: laterTypeless && givesPairTypes(read),
      punctuationSplit: splitsPunctuation((read as { pre_tokenizer?: unknown }).pre_tokenizer),
      slowOnlyBpe: false,
      wordOrDigitSplit: preTokenizers.some(({ leaf }) => leaf.type === 'Whitespace' || leaf.type === 'Digits'),
      unicodeWhitespaceSplit: splitsOnUnicodeWhitespace(read),
      wordEscapeOutsideClass: readsWordEscapes(read),
      whiteSpaceStrip: stripsBeforePrecompiled(read),
      splitBehavior: preTokenizers.some(({ leaf }) => leaf.type === 'Split' && splitReadOtherwise(leaf)),
      byteLevelRegex: preTokenizers.some(({ leaf }) => leaf.type === 'ByteLevel' && leaf.use_regex !== false),
      configPrefixSpace: raw !== undefined && withConfigPrefixSpace(raw, config, loadedClass) !== raw,
      caseFoldWidened: raw !== undefined && folded !== raw,
      caseFoldKelvin: raw !== undefined && typeof folded !== 'string' && kelvinSigns(folded!) > kelvinSigns(raw),
      fixedLength: preTokenizers.some(({ leaf }) => leaf.type === 'FixedLength'),
      processorRetyped: raw !== undefined && partRetyped(raw, 'post_processor'),
      modelRetyped: raw !== undefined && partRetyped(raw, 'model'),
      unigramByteFallback: unigramByteFallbackOf(read),
      subwordPrefixBpe: bpeReadsSubwordPrefix(read),
      specialIds: specialIdsRead(read),
      singleTemplateA: singleTemplateOddA(read),
      addedTokensRenormalized: addedTokensNormalizedOtherwise(read),
      unkTokenMissing: missingUnkToken(read) !== undefined,
      addedPiecesApart: addedPiecesApart(read),
      unlistedAddedPieces: unlistedAddedPieces(read),
      metaspaceFirstAdded: metaspaceFirstUnnormalizedAdded(read),
      addedTextsShared: addedTextsShared(read),
      precompiledCharsmap: normalizesByCharsmap(read),
      nestedMetaspaceSplit: metaspaces.length > ownMetaspaces.length,
      configNormalizerDefaults:
        raw !== undefined &&
        !fileNormalizerClass &&
        !laterNormalizerClass &&
        !mpnetNormalizerClass &&
        !moreClasses &&
        normalizerReadOtherwise(raw, config, loadedClass),
      configNormalizerMpnet: raw !== undefined && mpnetNormalizerClass && normalizerReadOtherwise(raw, config, loadedClass),
      configNormalizerLaterClasses: raw !== undefined && laterNormalizerClass && !moreClasses && normalizerReadOtherwise(raw, config, loadedClass),
      configNormalizerUnread: raw !== undefined && fileNormalizerClass && normalizerReadOtherwise(raw, config, loadedClass),
      configNormalizerMoreClasses: raw !== undefined && moreClasses && normalizerReadOtherwise(raw, config, loadedClass),
    };
  } catch (e) {
    // (a folder whose tokenizer files hold bytes that are not UTF-8, refused since version 37, where it was read)
    return e instanceof NotUtf8Error ? { ...NO_TRAITS, notUtf8: true } : undefined;
  }
}
