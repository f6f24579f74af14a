/**
 * Builds a Hugging Face `tokenizer.json` for a SentencePiece model saved the slow tokenizers' way (`spiece.model`,
 * `sentencepiece.bpe.model`, as older ALBERT, XLM-R and CamemBERT checkpoints ship without a tokenizer.json): the
 * structure transformers' `convert_slow_tokenizer.py` writes (AlbertConverter, XLMRobertaConverter,
 * CamembertConverter over SpmConverter, transformers commit 00111b31): a Unigram model over the model's pieces
 * (re-ordered per family), the family's normalizer, the Metaspace pre-tokenizer and decoder (`▁`, prepended always:
 * these slow tokenizers have no `add_prefix_space` nor `legacy`), the family's template, and the model's control (3)
 * and user-defined (4) pieces as added tokens (not normalized; control ones special). The model is read from its
 * protobuf (sentencepiece_model.proto: pieces, trainer_spec.model_type / unk_id, normalizer_spec.precompiled_charsmap).
 * A BPE-trained model, and a model of another family, is a one-line DataError.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs/light.js';
import type * as Protobuf from 'protobufjs/light.js';
import { DataError, fsReason, NotUtf8Error, quotedText } from '../errors.ts';
import { hexBytes } from '../files.ts';
import { charsmapProblem } from './precompiled-charsmap.ts';

/**
 * The fields of sentencepiece_model.proto that the conversion reads (field numbers as there), a piece's text read as
 * `pieceType`: a string (Node's UTF-8 decoding, U+FFFD for bytes that are not UTF-8) or its bytes.
 */
const spmDescriptor = (pieceType: 'string' | 'bytes') => ({
  nested: {
    sentencepiece: {
      nested: {
        ModelProto: {
          fields: {
            pieces: { rule: 'repeated', type: 'SentencePiece', id: 1 },
            trainerSpec: { type: 'TrainerSpec', id: 2 },
            normalizerSpec: { type: 'NormalizerSpec', id: 3 },
          },
          nested: {
            SentencePiece: {
              fields: { piece: { type: pieceType, id: 1 }, score: { type: 'float', id: 2 }, type: { type: 'int32', id: 3, options: { default: 1 } } },
            },
          },
        },
        TrainerSpec: {
          fields: {
            modelType: { type: 'int32', id: 3, options: { default: 1 } },
            byteFallback: { type: 'bool', id: 35, options: { default: false } },
            unkId: { type: 'int32', id: 40, options: { default: 0 } },
          },
        },
        NormalizerSpec: { fields: { precompiledCharsmap: { type: 'bytes', id: 2 } } },
      },
    },
  },
});

const modelProto = (pieceType: 'string' | 'bytes') =>
  protobuf.Root.fromJSON(spmDescriptor(pieceType) as Protobuf.INamespace).lookupType('sentencepiece.ModelProto');
const ModelProto = modelProto('string');
const ModelProtoBytes = modelProto('bytes');

/** SentencePiece's piece types (ModelProto.SentencePiece.Type; NORMAL 1, UNUSED 5). */
const UNKNOWN = 2;
const CONTROL = 3;
const USER_DEFINED = 4;
const BYTE = 6;

/** One piece of a SentencePiece model, with its id (its index). */
export interface SentencePiece {
  piece: string;
  score: number;
  type: number;
}

/** What the conversion reads of a SentencePiece model. */
export interface SentencePieceModel {
  pieces: SentencePiece[];
  /** trainer_spec.model_type: 1 Unigram, 2 BPE, 3 word, 4 char. */
  modelType: number;
  unkId: number;
  /** normalizer_spec.precompiled_charsmap (empty when the model has none). */
  precompiledCharsmap: Uint8Array;
}

/** Reads a .model file (a serialized sentencepiece.ModelProto); a one-line DataError for one that is not. */
export function readSentencePieceModel(file: string): SentencePieceModel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataError(`${file}: cannot read it (${fsReason(e)})`, { cause: e });
  }
  let m: Record<string, unknown>;
  try {
    m = ModelProto.toObject(ModelProto.decode(bytes), { defaults: true }) as Record<string, unknown>;
  } catch (e) {
    throw new DataError(`${file}: not a SentencePiece model (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const pieces = m.pieces as SentencePiece[];
  refuseNotUtf8Pieces(pieces, bytes, file);
  if (pieces.length === 0) throw new DataError(`${file}: not a SentencePiece model (it has no pieces)`);
  const refused = invalidPieces(pieces, (m.trainerSpec as { byteFallback?: boolean } | null)?.byteFallback === true);
  if (refused) throw new DataError(`${file}: a SentencePiece model that SentencePiece refuses to load (${refused}): not read`);
  // (every model SentencePiece's trainer writes holds both specs after its pieces (TrainerInterface::Serialize): one
  // without is a file cut short at a piece's end, which would read as a model of fewer pieces and no normalization)
  const missing = [m.trainerSpec ? [] : ['trainer_spec'], m.normalizerSpec ? [] : ['normalizer_spec']].flat();
  if (missing.length > 0)
    throw new DataError(`${file}: a SentencePiece model without its ${missing.join(' and ')}, which every trained model holds: cut short? (download it again)`);
  const trainer = m.trainerSpec as { modelType: number; unkId: number };
  const normalizer = m.normalizerSpec as { precompiledCharsmap: Uint8Array };
  return {
    pieces: pieces.map((p) => ({ piece: p.piece, score: p.score, type: p.type })),
    modelType: trainer.modelType,
    unkId: trainer.unkId,
    precompiledCharsmap: normalizer.precompiledCharsmap,
  };
}

/** Decodes a piece's bytes, refusing those that are not UTF-8. */
const PIECE_TEXT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Refuses `pieces` (decoded from the model's `bytes` with U+FFFD for bytes that are not UTF-8) where a piece's bytes
 * are not UTF-8: a one-line NotUtf8Error naming its id, as transformers fails on it (the slow tokenizer's vocabulary
 * and its converter read every piece as Python text: a UnicodeDecodeError), where it was read with U+FFFD (since
 * tokenizer reading version 37). Only a model with a U+FFFD in some piece (one not UTF-8, or a valid U+FFFD) is decoded
 * again with each piece's bytes to find out: a decoder call per piece of a model of 250,000 would cost a fifth of a second.
 */
function refuseNotUtf8Pieces(pieces: readonly SentencePiece[], bytes: Buffer, file: string): void {
  if (!pieces.some((p) => p.piece.includes('\uFFFD'))) return;
  const raw = (ModelProtoBytes.toObject(ModelProtoBytes.decode(bytes), { defaults: true }) as { pieces: Array<{ piece: Uint8Array }> }).pieces;
  raw.forEach((p, id) => {
    try {
      PIECE_TEXT.decode(p.piece);
    } catch (e) {
      const shown = `${hexBytes(p.piece.subarray(0, 16))}${p.piece.length > 16 ? ' …' : ''}`;
      throw new NotUtf8Error(`${file}: its piece ${id} (bytes ${shown}) is not valid UTF-8 text, which transformers fails to read`, { cause: e });
    }
  });
}

/**
 * Why SentencePiece refuses to load a model of `pieces` (ModelInterface::InitializePieces: a piece empty, a piece
 * listed twice among the normal, user-defined and unused pieces or among the others, no unknown piece or two, a byte
 * piece other than <0x00>…<0xFF> or where trainer_spec.byte_fallback is false, not all 256 where it is true), or
 * undefined: transformers loads a folder's model with sentencepiece (its slow tokenizer) before converting it, so
 * such a model is no tokenizer there. (A valid model's byte_fallback is not read: SpmConverter converts it without,
 * as these families' converters do not handle it, giving the unknown id where SentencePiece gives bytes.)
 */
function invalidPieces(pieces: ReadonlyArray<{ piece: string; type: number }>, byteFallback: boolean): string | undefined {
  const defined = { normal: new Set<string>(), reserved: new Set<string>() };
  const bytes = new Set<string>();
  let unknown: number | undefined;
  for (const [id, p] of pieces.entries()) {
    if (p.piece === '') return `its piece ${id} is empty`;
    const set = p.type === UNKNOWN || p.type === CONTROL || p.type === BYTE ? defined.reserved : defined.normal;
    if (set.has(p.piece)) return `its piece ${quotedText(p.piece)} is listed twice, the second time as id ${id}`;
    set.add(p.piece);
    if (p.type === UNKNOWN) {
      if (unknown !== undefined) return `it has two unknown pieces, ids ${unknown} and ${id}`;
      unknown = id;
    }
    if (p.type === BYTE) {
      if (!byteFallback) return `its byte piece ${quotedText(p.piece)} though its trainer_spec.byte_fallback is false`;
      if (!/^<0x[0-9A-F]{2}>$/.test(p.piece)) return `its byte piece ${quotedText(p.piece)} is not one of <0x00>…<0xFF>`;
      bytes.add(p.piece);
    }
  }
  if (unknown === undefined) return 'it has no unknown piece (of type UNKNOWN)';
  return byteFallback && bytes.size < 256 ? `its trainer_spec.byte_fallback is true, but it has ${bytes.size} of the 256 byte pieces` : undefined;
}

/** The model families whose slow tokenizer is a SentencePiece model, with transformers' converter for each. */
export type SentencePieceFamily = 'albert' | 'xlm-roberta' | 'camembert';

/**
 * The family of a folder's SentencePiece model, as AutoTokenizer picks its class: tokenizer_config.json's
 * `tokenizer_class` when it names one (AlbertTokenizer, XLMRobertaTokenizer, CamembertTokenizer, or their Fast
 * classes), else config.json's (`configTokenizerClass`, as Multilingual-MiniLM's BERT config names XLMRobertaTokenizer),
 * else config.json's `model_type` (MODEL_TYPE_FAMILIES); undefined for any other.
 */
export function sentencePieceFamily(tokenizerClass: unknown, configTokenizerClass: unknown, modelType: unknown): SentencePieceFamily | undefined {
  const className = [tokenizerClass, configTokenizerClass].find((c): c is string => typeof c === 'string' && c !== '');
  if (className !== undefined) {
    const named = className.replace(/Fast$/, '');
    return (Object.keys(SENTENCEPIECE_CLASS_OF) as SentencePieceFamily[]).find((family) => SENTENCEPIECE_CLASS_OF[family] === named);
  }
  return typeof modelType === 'string' && Object.hasOwn(MODEL_TYPE_FAMILIES, modelType) ? MODEL_TYPE_FAMILIES[modelType] : undefined;
}

/** Each family's slow tokenizer class (its Fast class is the name with 'Fast'). */
export const SENTENCEPIECE_CLASS_OF: Record<SentencePieceFamily, string> = {
  albert: 'AlbertTokenizer',
  'xlm-roberta': 'XLMRobertaTokenizer',
  camembert: 'CamembertTokenizer',
};

/**
 * The model types whose tokenizer class is one of the three families' (transformers' TOKENIZER_MAPPING_NAMES,
 * models/auto/tokenization_auto.py): AlbertTokenizer for ALBERT, Nyströmformer and YOSO; XLMRobertaTokenizer for
 * XLM-R, XLM-R XL, X-MOD, Kosmos-2, MetaCLIP 2 and TrOCR; CamembertTokenizer for CamemBERT.
 */
const MODEL_TYPE_FAMILIES: Readonly<Record<string, SentencePieceFamily>> = {
  albert: 'albert',
  nystromformer: 'albert',
  yoso: 'albert',
  'xlm-roberta': 'xlm-roberta',
  'xlm-roberta-xl': 'xlm-roberta',
  xmod: 'xlm-roberta',
  'kosmos-2': 'xlm-roberta',
  metaclip_2: 'xlm-roberta',
  trocr: 'xlm-roberta',
  camembert: 'camembert',
};

/**
 * The SentencePiece model each family's slow tokenizer reads (its VOCAB_FILES_NAMES: AlbertTokenizer's spiece.model,
 * XLMRobertaTokenizer's and CamembertTokenizer's sentencepiece.bpe.model), whichever other one the folder holds.
 */
export const SENTENCEPIECE_FILE_OF: Record<SentencePieceFamily, string> = {
  albert: 'spiece.model',
  'xlm-roberta': 'sentencepiece.bpe.model',
  camembert: 'sentencepiece.bpe.model',
};

/** The special tokens of each family's slow tokenizer (its __init__ defaults), by transformers' attribute name. */
export const SENTENCEPIECE_SPECIAL_TOKENS: Record<SentencePieceFamily, Record<string, string>> = {
  albert: { bos_token: '[CLS]', eos_token: '[SEP]', unk_token: '<unk>', sep_token: '[SEP]', pad_token: '<pad>', cls_token: '[CLS]', mask_token: '[MASK]' },
  'xlm-roberta': { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', sep_token: '</s>', pad_token: '<pad>', cls_token: '<s>', mask_token: '<mask>' },
  camembert: { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', sep_token: '</s>', pad_token: '<pad>', cls_token: '<s>', mask_token: '<mask>' },
};

/** CamembertTokenizer's default `additional_special_tokens`. */
export const CAMEMBERT_ADDITIONAL_SPECIAL_TOKENS: readonly string[] = ['<s>NOTUSED', '</s>NOTUSED', '<unk>NOTUSED'];

/** The options of ALBERT's slow tokenizer that its converter reads (tokenizer_config.json; AlbertTokenizer's defaults). */
export interface AlbertOptions {
  doLowerCase: boolean;
  keepAccents: boolean;
}

/**
 * A character Python's `str.isdigit` takes: the decimal digits (\p{Nd}) and Unicode's Numeric_Type=Digit characters
 * (superscript, subscript, circled, parenthesized and full-stop digits, Ethiopic, Kharoshthi, …), these as Python
 * 3.11's unicodedata (Unicode 14) lists them: `[c for c in map(chr, range(0x110000)) if c.isdigit() and not c.isdecimal()]`.
 */
const PYTHON_DIGIT =
  /^[\p{Nd}\u00B2\u00B3\u00B9\u1369-\u1371\u19DA\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247C\u2488-\u2490\u24EA\u24F5-\u24FD\u24FF\u2776-\u277E\u2780-\u2788\u278A-\u2792\u{10A40}-\u{10A43}\u{10E60}-\u{10E68}\u{11052}-\u{1105A}\u{1F100}-\u{1F10A}]$/u;

/** AlbertConverter's `check_number_comma`: false for a piece of 2+ characters ending in a digit (str.isdigit) and a comma ('1,', '²,'). */
function checkNumberComma(piece: string): boolean {
  const chars = [...piece];
  return chars.length < 2 || chars[chars.length - 1] !== ',' || !PYTHON_DIGIT.test(chars[chars.length - 2]!);
}

/**
 * Whether checkNumberComma lowers `piece` for a digit other than a decimal one ('²,', '①,'): such a piece kept its score
 * before tokenizer reading version 3 (src/eval/tokenizer-reading.ts), when the rule took \p{Nd} alone.
 */
export function nonDecimalDigitComma(piece: string): boolean {
  const chars = [...piece];
  return !checkNumberComma(piece) && !/^\p{Nd}$/u.test(chars[chars.length - 2]!);
}

/**
 * The tokenizer.json object transformers' converter of `family` writes for `model` (read from `file`, for messages),
 * before transformers adds the slow tokenizer's special tokens on loading (the caller's withAddedTokens). A model
 * trained otherwise than as Unigram is a one-line DataError, ending for a BPE-trained one (which transformers converts
 * and this does not) with `bpeNote`.
 */
export function sentencePieceTokenizerJson(
  model: SentencePieceModel,
  file: string,
  family: SentencePieceFamily,
  albert: AlbertOptions,
  bpeNote = '',
): Record<string, unknown> {
  // (SpmConverter converts a BPE-trained model, as transformers' CamemBERT tests do, and no other)
  if (model.modelType !== 1)
    throw new DataError(
      `${file}: a SentencePiece model trained as ${MODEL_TYPES[model.modelType] ?? `type ${model.modelType}`}, not Unigram: not read${model.modelType === 2 ? bpeNote : ' (nor by transformers, whose converter takes Unigram and BPE models)'}`,
    );
  const pieces = model.pieces;
  // vocab and unk_id: SpmConverter.vocab / unk_id as each family overrides them
  let vocab: Array<[string, number]>;
  let unkId: number;
  if (family === 'albert') {
    vocab = pieces.map((p) => [p.piece, checkNumberComma(p.piece) ? p.score : p.score - 100]);
    unkId = model.unkId;
  } else if (family === 'xlm-roberta') {
    vocab = [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0], ...pieces.slice(3).map((p): [string, number] => [p.piece, p.score]), ['<mask>', 0]];
    unkId = 3;
  } else {
    vocab = [
      ['<s>NOTUSED', 0],
      ['<pad>', 0],
      ['</s>NOTUSED', 0],
      ['<unk>', 0],
      ['<unk>NOTUSED', -100],
      ...pieces.slice(1).map((p): [string, number] => [p.piece, p.score]),
      ['<mask>', 0],
    ];
    unkId = 3;
  }
  if (unkId < 0 || unkId >= vocab.length) throw new DataError(`${file}: its unknown piece's id ${unkId} is not one of its ${vocab.length} pieces`);
  // a token's id in the Unigram model (tokenizers' token_to_ids: a token listed twice has its last place)
  const ids = new Map<string, number>(vocab.map(([t], i): [string, number] => [t, i]));
  // the template's ids (the slow tokenizer's convert_tokens_to_ids: its vocabulary is the converted one's order)
  const idOf = (token: string): number => {
    const id = ids.get(token);
    if (id === undefined) throw new DataError(`${file}: the ${family} template's token ${token} is not one of the model's pieces`);
    return id;
  };
  // the model's control pieces (special) and user-defined pieces (not), by their id in the model, added by content
  // (SpmConverter.tokenizer, `tokenizer.add_tokens`): a token gets the Unigram model's id, else the next one after it
  let next = vocab.length;
  const added = pieces.flatMap((p) => {
    if (p.type !== CONTROL && p.type !== USER_DEFINED) return [];
    return [
      { id: ids.get(p.piece) ?? next++, content: p.piece, single_word: false, lstrip: false, rstrip: false, normalized: false, special: p.type === CONTROL },
    ];
  });
  const charsmap =
    model.precompiledCharsmap.length > 0 ? { type: 'Precompiled', precompiled_charsmap: Buffer.from(model.precompiledCharsmap).toString('base64') } : null;
  // (transformers' converter gives it to tokenizers' Precompiled, which reads it as it reads a tokenizer.json's)
  const charsmapRefused = charsmap && charsmapProblem(charsmap.precompiled_charsmap);
  if (charsmapRefused) throw new DataError(`${file}: its normalizer_spec's precompiled_charsmap: ${charsmapRefused}`);
  const replace = (pattern: { String: string } | { Regex: string }, content: string) => ({ type: 'Replace', pattern, content });
  const normalizers =
    family === 'albert'
      ? [
          replace({ String: '``' }, '"'),
          replace({ String: "''" }, '"'),
          ...(albert.keepAccents ? [] : [{ type: 'NFKD' }, { type: 'StripAccents' }]),
          ...(albert.doLowerCase ? [{ type: 'Lowercase' }] : []),
          ...(charsmap ? [charsmap] : []),
          replace({ Regex: ' {2,}' }, ' '),
        ]
      : [...(charsmap ? [charsmap] : []), { type: 'Strip', strip_left: false, strip_right: true }, replace({ Regex: ' {2,}' }, '▁')];
  const [cls, sep, pairMiddle] = family === 'albert' ? ['[CLS]', '[SEP]', false] : ['<s>', '</s>', true];
  const special = (id: string, type_id: number) => ({ SpecialToken: { id, type_id } });
  const sequence = (id: 'A' | 'B', type_id: number) => ({ Sequence: { id, type_id } });
  // AlbertConverter: "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1"; XLM-R's and CamemBERT's: "<s> $A </s> </s> $B </s>" (all type 0)
  const pair = pairMiddle
    ? [special(cls, 0), sequence('A', 0), special(sep, 0), special(sep, 0), sequence('B', 0), special(sep, 0)]
    : [special(cls, 0), sequence('A', 0), special(sep, 0), sequence('B', 1), special(sep, 1)];
  const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'Sequence', normalizers },
    pre_tokenizer: metaspace,
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(cls, 0), sequence('A', 0), special(sep, 0)],
      pair,
      special_tokens: { [cls]: { id: cls, ids: [idOf(cls)], tokens: [cls] }, [sep]: { id: sep, ids: [idOf(sep)], tokens: [sep] } },
    },
    decoder: metaspace,
    model: { type: 'Unigram', unk_id: unkId, vocab, byte_fallback: false },
  };
}

const MODEL_TYPES: Record<number, string> = { 2: 'BPE', 3: 'words', 4: 'characters' };
