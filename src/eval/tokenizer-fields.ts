/**
 * The fields tokenizers (Rust, which transformers' fast tokenizers load) requires of a tokenizer.json's normalizer,
 * pre-tokenizer, post-processor and decoder parts, as its serde reads them (tokenizers/src/normalizers, pre_tokenizers,
 * processors, decoders: a
 * field with no `#[serde(default)]` must be there, of its type; an enum only by its exact name), where
 * @huggingface/tokenizers reads a file that lacks one or misspells it (a Split of behavior "Isolate" read as Isolated,
 * a ByteLevel without add_prefix_space read as false): such a file, which transformers fails to load, is refused in
 * one line naming the field. A part is read as the type tokenizers reads it as (READINGS, partAsRead): a post-processor
 * by its fields, not its type (PostProcessorWrapper is an untagged enum: a RobertaProcessing without trim_offsets is a
 * BertProcessing of its sep and cls), a normalizer, decoder or model of no type, or of a type tokenizers' tagged reading
 * does not name, as the first of its untagged reading's types whose fields read (a normalizer holding strip_left and
 * strip_right as a Strip).
 */

import { charsmapProblem } from './precompiled-charsmap.ts';
import { sequenceLeaves } from './tokenizer-sequence.ts';
import { counted, quotedText } from '../errors.ts';

/** What a field takes, as tokenizers' serde reads it. */
type FieldKind =
  | 'bool'
  | 'optional bool'
  | 'char'
  | 'string'
  | 'optional string'
  | 'count'
  | 'optional count'
  | 'optional number'
  | 'positive count'
  | 'id'
  | 'list'
  | 'token'
  | 'map'
  | 'template'
  | 'special tokens'
  | 'pattern'
  | 'behavior'
  | 'prepend scheme'
  | 'direction'
  | 'truncation strategy'
  | 'padding strategy';

/** A part's fields: each with its kind and whether tokenizers reads a default where it is absent. */
type Fields = Readonly<Record<string, { kind: FieldKind; defaulted?: true }>>;

const BEHAVIORS = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
const PREPEND_SCHEMES = ['first', 'never', 'always'];
const DIRECTIONS = ['Left', 'Right'];
const TRUNCATION_STRATEGIES = ['LongestFirst', 'OnlyFirst', 'OnlySecond'];
const MODEL_TYPES = ['BPE', 'WordPiece', 'WordLevel', 'Unigram'];

const BYTE_LEVEL: Fields = { add_prefix_space: { kind: 'bool' }, trim_offsets: { kind: 'bool' }, use_regex: { kind: 'bool', defaulted: true } };
const METASPACE: Fields = {
  replacement: { kind: 'char' },
  add_prefix_space: { kind: 'optional bool' },
  prepend_scheme: { kind: 'prepend scheme', defaulted: true },
  split: { kind: 'optional bool' },
  str_rep: { kind: 'optional string' },
};
const PATTERN_CONTENT: Fields = { pattern: { kind: 'pattern' }, content: { kind: 'string' } };

/** Each part type's fields, by the component it is a part of (the key of its Sequence's list; `models` for the model). */
const PART_FIELDS: Readonly<Record<'normalizers' | 'pretokenizers' | 'processors' | 'decoders' | 'models', Readonly<Record<string, Fields>>>> = {
  normalizers: {
    BertNormalizer: {
      clean_text: { kind: 'bool' },
      handle_chinese_chars: { kind: 'bool' },
      strip_accents: { kind: 'optional bool' },
      lowercase: { kind: 'bool' },
    },
    Strip: { strip_left: { kind: 'bool' }, strip_right: { kind: 'bool' } },
    StripAccents: {},
    NFC: {},
    NFD: {},
    NFKC: {},
    NFKD: {},
    Sequence: { normalizers: { kind: 'list' } },
    Lowercase: {},
    Nmt: {},
    Precompiled: { precompiled_charsmap: { kind: 'string' } },
    Replace: PATTERN_CONTENT,
    Prepend: { prepend: { kind: 'string' } },
    ByteLevel: {},
  },
  pretokenizers: {
    BertPreTokenizer: {},
    ByteLevel: BYTE_LEVEL,
    CharDelimiterSplit: { delimiter: { kind: 'char' } },
    Metaspace: METASPACE,
    Whitespace: {},
    Sequence: { pretokenizers: { kind: 'list' } },
    Split: { pattern: { kind: 'pattern' }, behavior: { kind: 'behavior' }, invert: { kind: 'bool' } },
    Punctuation: { behavior: { kind: 'behavior', defaulted: true } },
    WhitespaceSplit: {},
    Digits: { individual_digits: { kind: 'bool' } },
    UnicodeScripts: {},
    // (a length of 0 tokenizers reads and then panics on every text: chunks(0))
    FixedLength: { length: { kind: 'positive count', defaulted: true } },
  },
  processors: {
    RobertaProcessing: { sep: { kind: 'token' }, cls: { kind: 'token' }, trim_offsets: { kind: 'bool' }, add_prefix_space: { kind: 'bool' } },
    BertProcessing: { sep: { kind: 'token' }, cls: { kind: 'token' } },
    ByteLevel: BYTE_LEVEL,
    TemplateProcessing: { single: { kind: 'template' }, pair: { kind: 'template' }, special_tokens: { kind: 'special tokens' } },
    Sequence: { processors: { kind: 'list' } },
  },
  decoders: {
    BPEDecoder: { suffix: { kind: 'string' } },
    ByteLevel: BYTE_LEVEL,
    WordPiece: { prefix: { kind: 'string' }, cleanup: { kind: 'bool' } },
    Metaspace: METASPACE,
    CTC: { pad_token: { kind: 'string' }, word_delimiter_token: { kind: 'string' }, cleanup: { kind: 'bool' } },
    Sequence: { decoders: { kind: 'list' } },
    Replace: PATTERN_CONTENT,
    Fuse: {},
    Strip: { content: { kind: 'char' }, start: { kind: 'count' }, stop: { kind: 'count' } },
    ByteFallback: {},
  },
  // (tokenizers/src/models/*/serialization.rs; a BPE's dropout's range left to the library)
  models: {
    BPE: {
      dropout: { kind: 'optional number' },
      vocab: { kind: 'map' },
      merges: { kind: 'list' },
      unk_token: { kind: 'optional string' },
      continuing_subword_prefix: { kind: 'optional string' },
      end_of_word_suffix: { kind: 'optional string' },
      fuse_unk: { kind: 'optional bool' },
      byte_fallback: { kind: 'optional bool' },
      ignore_merges: { kind: 'optional bool' },
    },
    WordPiece: {
      vocab: { kind: 'map' },
      unk_token: { kind: 'string' },
      continuing_subword_prefix: { kind: 'string' },
      max_input_chars_per_word: { kind: 'count' },
    },
    WordLevel: { vocab: { kind: 'map' }, unk_token: { kind: 'string' } },
    Unigram: { vocab: { kind: 'list' }, unk_id: { kind: 'optional count' }, byte_fallback: { kind: 'bool', defaulted: true } },
  },
};

/** The fields of a tokenizer.json's truncation and padding where they are not null (tokenizers/src/utils/truncation.rs, padding.rs). */
const SETTING_FIELDS: Readonly<Record<'truncation' | 'padding', Fields>> = {
  truncation: {
    direction: { kind: 'direction', defaulted: true },
    max_length: { kind: 'count' },
    strategy: { kind: 'truncation strategy' },
    stride: { kind: 'count' },
  },
  padding: {
    strategy: { kind: 'padding strategy' },
    direction: { kind: 'direction' },
    pad_to_multiple_of: { kind: 'optional count' },
    pad_id: { kind: 'id' },
    pad_type_id: { kind: 'id' },
    pad_token: { kind: 'string' },
  },
};

/** An added token's fields, none of which tokenizers defaults (tokenizers/src/tokenizer/added_vocabulary.rs: AddedTokenWithId, AddedToken). */
const ADDED_TOKEN_FIELDS: Fields = {
  id: { kind: 'id' },
  content: { kind: 'string' },
  single_word: { kind: 'bool' },
  lstrip: { kind: 'bool' },
  rstrip: { kind: 'bool' },
  normalized: { kind: 'bool' },
  special: { kind: 'bool' },
};

/** The first field of added token `t` (at `where`: `added_tokens[3]`) that tokenizers refuses, in one line naming it; undefined for none. */
export function addedTokenProblem(t: Record<string, unknown>, where: string): string | undefined {
  return settingsProblem(t, ADDED_TOKEN_FIELDS, where);
}

/** A tokenizer.json value in a refusal: as the file writes it (JSON), its first 60 characters. */
export function shownJson(v: unknown): string {
  return (JSON.stringify(v) ?? String(v)).slice(0, 60);
}

/** "one of A, B or C" for `names`. */
function oneOf(names: readonly string[]): string {
  return `one of ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** The words for what a field of `kind` takes. */
function expected(kind: FieldKind): string {
  switch (kind) {
    case 'bool':
      return 'true or false';
    case 'optional bool':
      return 'true, false or null';
    case 'char':
      return 'a string of one character';
    case 'string':
      return 'a string';
    case 'optional string':
      return 'a string or null';
    case 'count':
      return 'an integer from 0';
    case 'optional count':
      return 'an integer from 0 or null';
    case 'optional number':
      return 'a number or null';
    case 'id':
      return 'an integer from 0 to 2^32 − 1';
    case 'positive count':
      return 'an integer from 1';
    case 'list':
      return 'a list';
    case 'token':
      return 'a token and its id, ["…", N]';
    case 'map':
      return 'an object';
    case 'template':
      return 'a list of {"Sequence": {"id": "A" or "B", "type_id": N}} or {"SpecialToken": {"id": "…", "type_id": N}}';
    case 'special tokens':
      return 'an object of {"id": "…", "ids": [N, …], "tokens": ["…", …]}';
    case 'pattern':
      return '{"String": "…"} or {"Regex": "…"}';
    case 'behavior':
      return oneOf(BEHAVIORS);
    case 'prepend scheme':
      return oneOf(PREPEND_SCHEMES);
    case 'direction':
      return oneOf(DIRECTIONS);
    case 'truncation strategy':
      return oneOf(TRUNCATION_STRATEGIES);
    case 'padding strategy':
      return '"BatchLongest" or {"Fixed": N}';
  }
}

/** Whether `v` is a value tokenizers reads as a field of `kind`. */
function reads(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case 'bool':
      return typeof v === 'boolean';
    case 'optional bool':
      return v === null || typeof v === 'boolean';
    case 'char':
      return typeof v === 'string' && [...v].length === 1;
    case 'string':
      return typeof v === 'string';
    case 'optional string':
      return v === null || typeof v === 'string';
    case 'count':
      return Number.isSafeInteger(v) && (v as number) >= 0;
    case 'optional count':
      return v === null || (Number.isSafeInteger(v) && (v as number) >= 0);
    case 'optional number':
      return v === null || typeof v === 'number';
    case 'id':
      return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
    case 'positive count':
      return Number.isSafeInteger(v) && (v as number) >= 1;
    case 'list':
      return Array.isArray(v);
    case 'map':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    case 'template':
      // (each piece one of Piece's two variants, by its one key; tokenizers reads keys past those a variant has)
      return (
        Array.isArray(v) &&
        v.every((piece: unknown) => {
          if (!reads('map', piece) || Object.keys(piece as object).length !== 1) return false;
          const { Sequence: sequence, SpecialToken: special } = piece as { Sequence?: unknown; SpecialToken?: unknown };
          const of = (sequence ?? special) as { id?: unknown; type_id?: unknown } | undefined;
          if (!reads('map', of) || !reads('id', of!.type_id)) return false;
          return sequence !== undefined ? of!.id === 'A' || of!.id === 'B' : special !== undefined && typeof of!.id === 'string';
        })
      );
    case 'special tokens':
      return (
        reads('map', v) &&
        Object.values(v as object).every((t: unknown) => {
          const { id, ids, tokens } = (reads('map', t) ? t : {}) as { id?: unknown; ids?: unknown; tokens?: unknown };
          return (
            typeof id === 'string' &&
            Array.isArray(ids) &&
            ids.every((i) => reads('id', i)) &&
            Array.isArray(tokens) &&
            tokens.every((x) => typeof x === 'string')
          );
        })
      );
    case 'token':
      // (a (String, u32))
      return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isSafeInteger(v[1]) && v[1] >= 0 && v[1] <= 0xffffffff;
    case 'pattern': {
      const keys = v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
      return keys.length === 1 && (keys[0] === 'String' || keys[0] === 'Regex') && typeof (v as Record<string, unknown>)[keys[0]] === 'string';
    }
    case 'behavior':
      return typeof v === 'string' && BEHAVIORS.includes(v);
    case 'prepend scheme':
      return typeof v === 'string' && PREPEND_SCHEMES.includes(v);
    case 'direction':
      return typeof v === 'string' && DIRECTIONS.includes(v);
    case 'truncation strategy':
      return typeof v === 'string' && TRUNCATION_STRATEGIES.includes(v);
    case 'padding strategy': {
      const fixed = v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 ? (v as { Fixed?: unknown }).Fixed : undefined;
      return v === 'BatchLongest' || (Number.isSafeInteger(fixed) && (fixed as number) >= 0);
    }
  }
}

/** The first of `fields` that tokenizers refuses in `p` (`what`, for the message), in one line naming it; undefined for none. */
function settingsProblem(p: Record<string, unknown>, fields: Fields, what: string): string | undefined {
  for (const [name, { kind, defaulted }] of Object.entries(fields)) {
    const v = p[name];
    if (v === undefined && (defaulted || kind.startsWith('optional'))) continue;
    if (v === undefined) return `${what}: no ${name}, which tokenizers requires (expected ${expected(kind)})`;
    if (!reads(kind, v)) return `${what}: ${name}: expected ${expected(kind)}, got ${shownJson(v)}`;
  }
  return undefined;
}

/**
 * How tokenizers' wrapper enum of a component reads a part (NormalizerWrapper, PreTokenizerWrapper, DecoderWrapper and
 * ModelWrapper: a tagged reading, then an untagged one; PostProcessorWrapper: the untagged one alone):
 * - `tagged`: the names its tagged reading takes (its EnumType), each with the type it reads the part as (a normalizer
 *   of type "Bert" as a BertNormalizer), alone: a part that type's fields do not read is refused;
 * - `untagged`: where the part's type is none of them (absent, another name, not a string), the types tried in order,
 *   the first whose fields read, each with the type field it takes: `any` (serde's derived `tag = "type"` struct, which
 *   reads whatever type is written or none), `own` (impl_serde_type!'s, a MustBe's, Metaspace's and Split's helpers:
 *   its own name alone), `none` (a model's visitor: none, since its own name is tagged).
 */
interface WrapperReading {
  readonly tagged?: Readonly<Record<string, string>>;
  readonly untagged: ReadonlyArray<readonly [string, 'any' | 'own' | 'none']>;
}

/** Each part's name in a message ("type "Foo" is none of tokenizers' normalizers"). */
const PART_NAMES: Readonly<Record<keyof typeof PART_FIELDS, string>> = {
  normalizers: 'normalizers',
  pretokenizers: 'pre-tokenizers',
  processors: 'post-processors',
  decoders: 'decoders',
  models: 'models',
};

/** `names` tagged as themselves. */
const asThemselves = (names: readonly string[]): Record<string, string> => Object.fromEntries(names.map((n) => [n, n]));

/** How tokenizers reads each component's parts (tokenizers/src/{normalizers,pre_tokenizers,processors,decoders,models}/mod.rs). */
const READINGS: Readonly<Record<keyof typeof PART_FIELDS, WrapperReading>> = {
  normalizers: {
    tagged: {
      ...asThemselves([
        'Strip',
        'StripAccents',
        'NFC',
        'NFD',
        'NFKC',
        'NFKD',
        'Sequence',
        'Lowercase',
        'Nmt',
        'Precompiled',
        'Replace',
        'Prepend',
        'ByteLevel',
      ]),
      Bert: 'BertNormalizer',
    },
    untagged: [
      ['BertNormalizer', 'any'],
      ['Strip', 'any'],
      ['StripAccents', 'own'],
      ['NFC', 'own'],
      ['NFD', 'own'],
      ['NFKC', 'own'],
      ['NFKD', 'own'],
      ['Sequence', 'any'],
      ['Lowercase', 'own'],
      ['Nmt', 'own'],
      ['Precompiled', 'own'],
      ['Replace', 'any'],
      ['Prepend', 'any'],
      ['ByteLevel', 'own'],
    ],
  },
  pretokenizers: {
    tagged: {
      ...asThemselves(['BertPreTokenizer', 'ByteLevel', 'Metaspace', 'Whitespace', 'Sequence', 'Split', 'Punctuation', 'WhitespaceSplit', 'Digits']),
      ...asThemselves(['UnicodeScripts', 'FixedLength']),
      Delimiter: 'CharDelimiterSplit',
    },
    untagged: Object.keys(PART_FIELDS.pretokenizers).map((t) => [t, 'own'] as const),
  },
  processors: {
    untagged: [
      ['RobertaProcessing', 'any'],
      ['BertProcessing', 'any'],
      ['ByteLevel', 'own'],
      ['TemplateProcessing', 'any'],
      ['Sequence', 'own'],
    ],
  },
  decoders: {
    tagged: asThemselves(['BPEDecoder', 'ByteLevel', 'WordPiece', 'Metaspace', 'CTC', 'Sequence', 'Replace', 'Fuse', 'Strip', 'ByteFallback']),
    untagged: [
      ['BPEDecoder', 'any'],
      ['ByteLevel', 'own'],
      ['WordPiece', 'any'],
      ['Metaspace', 'own'],
      ['CTC', 'any'],
      ['Sequence', 'own'],
      ['Replace', 'any'],
      ['Fuse', 'own'],
      ['Strip', 'any'],
      ['ByteFallback', 'own'],
    ],
  },
  models: { tagged: asThemselves(MODEL_TYPES), untagged: MODEL_TYPES.map((t) => [t, 'none'] as const) },
};

/** Whether a type `takes` of tokenizers' untagged reading reads a part of type field `written` as `type`. */
function takesType(takes: 'any' | 'own' | 'none', type: string, written: unknown): boolean {
  return takes === 'any' || (takes === 'own' ? written === type : written === undefined);
}

/**
 * `p` (at `where`) read as a part of `type` (one of PART_FIELDS[list]), its Sequence's parts read so too (partAsRead):
 * `p` itself where nothing changes, else its type and that type's fields alone where it is written of another type or
 * is a model holding fields its type does not read; its first field tokenizers refuses, in one line, where they do not read.
 */
function readAs(p: Record<string, unknown>, list: keyof typeof PART_FIELDS, type: string, where: string): { read: unknown } | { problem: string } {
  const fields = PART_FIELDS[list][type] as Fields;
  const problem =
    settingsProblem(p, fields, `${where} (${type})`) ??
    (list === 'models' && type !== 'Unigram' ? vocabIdsProblem(p, `${where} (${type})`) : undefined) ??
    (list === 'models' && type === 'BPE' ? bpeMergesProblem(p, where) : undefined) ??
    (list === 'models' && type === 'Unigram' ? unigramUnkProblem(p, where) : undefined) ??
    (list === 'normalizers' && type === 'Precompiled' ? precompiledProblem(p.precompiled_charsmap as string, where) : undefined);
  if (problem) return { problem };
  // (a model written as its type's fields alone where it holds others: @huggingface/tokenizers picks a model of no
  // type it knows (WordLevel) by its fields, a WordPiece where it holds a continuing_subword_prefix)
  const others = list === 'models' && Object.keys(p).some((name) => name !== 'type' && !Object.hasOwn(fields, name));
  const read =
    type === p.type && !others
      ? p
      : Object.fromEntries([['type', type], ...Object.keys(fields).flatMap((name) => (p[name] === undefined ? [] : [[name, p[name]]]))]);
  if (type !== 'Sequence') return { read };
  const parts = p[list] as unknown[];
  const partsRead: unknown[] = [];
  for (const [i, q] of parts.entries()) {
    const r = partAsRead(q, list, `${where}.${list}[${i}]`);
    if ('problem' in r) return r;
    partsRead.push(r.read);
  }
  return { read: partsRead.every((r, i) => r === parts[i]) ? read : { ...(read as object), [list]: partsRead } };
}

/**
 * The token a BPE merge of `a` and `b` makes, as tokenizers' BpeBuilder::build names it: `a` and `b` less as many bytes
 * at its start as the model's continuing_subword_prefix (`prefix`) has ('ab' of a and ##b); undefined where `b` is
 * shorter than them (tokenizers refuses such a file).
 */
export function mergedToken(a: string, b: string, prefix: string): string | undefined {
  const skip = Buffer.byteLength(prefix);
  return Buffer.byteLength(b) < skip ? undefined : a + Buffer.from(b).subarray(skip).toString();
}

/**
 * What tokenizers refuses in the ids of a BPE, WordPiece or WordLevel model's vocab (at `where`: its serde reads the
 * object as token → u32), in one line naming the token: an id that is no integer from 0 to 2^32 − 1 (-1, 3.5, "3",
 * 4294967296), where @huggingface/tokenizers read the file and gave that token the id as written; undefined for none.
 */
function vocabIdsProblem(p: Record<string, unknown>, where: string): string | undefined {
  for (const [token, id] of Object.entries(p.vocab as Record<string, unknown>))
    if (!reads('id', id)) return `${where}: vocab: token ${quotedText(token)}: expected ${expected('id')}, got ${shownJson(id)}`;
  return undefined;
}

/**
 * What tokenizers refuses in a Unigram model's unk_id (at `where`; models/unigram/model.rs, Unigram::from, as it reads
 * the file), in one line: an index past its vocabulary (UnkIdNotInVocabulary), where @huggingface/tokenizers read it
 * and gave an unknown piece that id; an empty vocabulary (EmptyVocabulary where it has an unk_id; of none, tokenizers
 * reads it and fails on every text holding a character), where the library failed ('Array must not be empty').
 */
function unigramUnkProblem(p: Record<string, unknown>, where: string): string | undefined {
  const pieces = (p.vocab as unknown[]).length;
  if (pieces === 0)
    return typeof p.unk_id === 'number'
      ? `${where} (Unigram): vocab: empty, where its unk_id ${p.unk_id} needs a piece (tokenizers refuses it: EmptyVocabulary)`
      : `${where} (Unigram): vocab: empty, and no unk_id (tokenizers reads it, but fails on every text holding a character: 'Encountered an unknown token but \`unk_id\` is missing')`;
  if (typeof p.unk_id !== 'number' || p.unk_id < pieces) return undefined;
  return `${where} (Unigram): unk_id: ${p.unk_id} is no index of its vocabulary of ${counted(pieces, 'piece')} (tokenizers refuses it: UnkIdNotInVocabulary)`;
}

/**
 * What tokenizers refuses in a BPE model's merges (at `where`; models/bpe/serialization.rs and model.rs), in one line: a
 * list of neither ["a", "b"] pairs nor "a b" strings, a string of other than two tokens split by one space (past
 * "#version" lines: BadMerges), or a token of a merge, or the token it makes (a, then b past the
 * continuing_subword_prefix: BpeBuilder::build), that its vocab lacks (MergeTokenOutOfVocabulary), where
 * @huggingface/tokenizers read the file and never made such a token; undefined for none.
 */
function bpeMergesProblem(p: Record<string, unknown>, where: string): string | undefined {
  const merges = p.merges as unknown[];
  const vocab = p.vocab as Record<string, unknown>;
  const pairs = merges.every((m) => Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string');
  if (!pairs && !merges.every((m) => typeof m === 'string')) {
    const at = merges.findIndex((m) => typeof m !== 'string' && !(Array.isArray(m) && m.length === 2 && m.every((t) => typeof t === 'string')));
    if (at >= 0) return `${where} (BPE): merges[${at}]: expected ["a", "b"] or "a b" as every merge is, got ${shownJson(merges[at])}`;
    // (each merge one of the two, but not all of one: tokenizers reads a list of pairs or a list of strings)
    const other = merges.findIndex((m) => typeof m !== typeof merges[0]);
    return `${where} (BPE): merges[${other}]: expected ${typeof merges[0] === 'string' ? '"a b" as merges[0] is' : '["a", "b"] as merges[0] is'} (tokenizers reads a list of pairs or of strings, not both), got ${shownJson(merges[other])}`;
  }
  const prefix = typeof p.continuing_subword_prefix === 'string' ? p.continuing_subword_prefix : '';
  for (const [i, m] of merges.entries()) {
    if (typeof m === 'string' && m.startsWith('#version')) continue;
    const [a, b, ...more] = typeof m === 'string' ? m.split(' ') : (m as string[]);
    if (b === undefined || more.length > 0) return `${where} (BPE): merges[${i}]: expected two tokens split by one space, got ${shownJson(m)}`;
    const made = mergedToken(a, b, prefix);
    const lacked = [a, b, made].find((t) => t === undefined || !Object.hasOwn(vocab, t));
    if (lacked !== undefined || made === undefined)
      return `${where} (BPE): merges[${i}]: ${lacked === a || lacked === b ? `${quotedText(lacked!)} is not in its vocab` : `${quotedText(a!)} and ${quotedText(b)} make ${made === undefined ? 'no token' : `${quotedText(made)}, which its vocab lacks`}`} (tokenizers refuses the file)`;
  }
  return undefined;
}

/** What tokenizers refuses, or reads and then fails on, in a Precompiled's precompiled_charsmap (at `where`), in one line (charsmapProblem). */
function precompiledProblem(charsmap: string, where: string): string | undefined {
  const problem = charsmapProblem(charsmap);
  return problem && `${where} (Precompiled): precompiled_charsmap: ${problem}`;
}

/**
 * `part` (at `where`, a path such as `pre_tokenizer.pretokenizers[1]`) as tokenizers reads it (READINGS): a part of a
 * type its tagged reading names as that type alone (a normalizer of type "Bert" as a BertNormalizer), any other as the
 * first type of its untagged reading that takes its type field and whose fields read (a normalizer of no type holding
 * strip_left and strip_right as a Strip, a post-processor holding sep and cls as a BertProcessing), its Sequences'
 * parts so too (readAs). What keeps tokenizers from reading it, in one line: its type's first field tokenizers refuses
 * where its type is one of tokenizers' own names, else that none of its types reads it; a part that is no object (null
 * read as none where `nullable`: a tokenizer.json's normalizer, pre-tokenizer, post-processor or decoder, which
 * tokenizers reads as an Option, not its model or a Sequence's part), where the library failed on its JavaScript
 * ("Cannot read properties of null (reading 'type')", "Unknown Normalizer type: undefined"). An absent part as it is.
 */
function partAsRead(part: unknown, list: keyof typeof PART_FIELDS, where: string, nullable = false): { read: unknown } | { problem: string } {
  if (part === undefined || (part === null && nullable)) return { read: part };
  if (part === null || typeof part !== 'object' || Array.isArray(part))
    return { problem: `${where}: expected an object${nullable ? ' or null' : ''}, got ${shownJson(part)}` };
  const p = part as Record<string, unknown>;
  const reading = READINGS[list];
  const tagged = typeof p.type === 'string' && reading.tagged && Object.hasOwn(reading.tagged, p.type) ? reading.tagged[p.type] : undefined;
  if (tagged !== undefined) {
    const strict = reading.untagged.find(([t]) => t === tagged)?.[1] === 'own';
    if (strict && tagged !== p.type) return { problem: `${where} (${tagged}): type: expected ${shownJson(tagged)}, got ${shownJson(p.type)}` };
    return readAs(p, list, tagged, where);
  }
  const takers = reading.untagged.filter(([t, takes]) => takesType(takes, t, p.type)).map(([t]) => t);
  for (const type of takers) {
    const r = readAs(p, list, type, where);
    if ('read' in r) return r;
  }
  // (refused in the words of the type it says where that is one of tokenizers' own: a BertNormalizer without lowercase)
  const named = reading.untagged.find(([t]) => t === p.type)?.[0];
  if (named !== undefined) return readAs(p, list, named, where);
  const names = reading.untagged.map(([t]) => t);
  const expected = names.length > 5 ? `one of tokenizers' ${PART_NAMES[list]} (${names.slice(0, -1).join(', ')} or ${names.at(-1)})` : oneOf(names);
  if (takers.length === 0)
    return {
      problem: `${where}: ${p.type === undefined ? `no type, which tokenizers requires (expected ${expected})` : `type: expected ${expected}, got ${shownJson(p.type)}`}`,
    };
  const fieldsOf = `tokenizers reads its fields as none of ${takers.length === 1 ? takers[0] : oneOf(takers).replace(/^one of /, '')}`;
  return { problem: `${where}: ${p.type === undefined ? 'no type' : `type ${shownJson(p.type)} is none of tokenizers' ${PART_NAMES[list]}`}, and ${fieldsOf}` };
}

/**
 * What a TemplateProcessing's `template` (single or pair, as tokenizers reads it) holds that tokenizers reads and then
 * panics on at every text that template applies to, in one line (at `where`): a special token its special_tokens lacks
 * ("no entry found for key"), or a single template's Sequence B (a single text has no second sequence: apply_template's
 * index out of bounds). Tokenizers reads the file and encodes the other template's texts (processors/template.rs
 * checks the templates in its builder only, not when it reads a file).
 */
export function templateProblem(p: Record<string, unknown>, template: 'single' | 'pair', where: string): string | undefined {
  const known = p.special_tokens as Record<string, unknown>;
  const texts = template === 'single' ? 'single text' : 'sentence pair';
  for (const piece of p[template] as Array<{ SpecialToken?: { id: string }; Sequence?: { id: string } }>) {
    if (template === 'single' && piece.Sequence?.id === 'B')
      return `${where} (TemplateProcessing): single: a Sequence B, which a single text has none of, so tokenizers fails on every single text (sentence pairs read)`;
    const id = piece.SpecialToken?.id;
    if (id !== undefined && !Object.hasOwn(known, id))
      return `${where} (TemplateProcessing): ${template}: the special token ${quotedText(id)} is not in special_tokens, so tokenizers fails on every ${texts} (${template === 'single' ? 'sentence pairs' : 'single texts'} read)`;
  }
  return undefined;
}

/**
 * A tokenizer.json's object as tokenizers reads its normalizer, pre-tokenizer, post-processor, decoder and model
 * (PART_FIELDS: a post-processor as the type whose fields read, partAsRead), `json` itself where nothing changes; what
 * tokenizers refuses of them, of its truncation and padding (SETTING_FIELDS) or of its version (none, or "1.0"), in
 * one line naming the part and the field.
 */
export function withPartsAsRead(json: Record<string, unknown>): Record<string, unknown> | string {
  // (tokenizer/serialization.rs: a version, where the file has one, is the string "1.0")
  if (json.version !== undefined && json.version !== '1.0')
    return `version: expected "1.0", the one tokenizer.json version tokenizers reads, got ${shownJson(json.version)}`;
  const parts = [
    ['normalizer', 'normalizers'],
    ['pre_tokenizer', 'pretokenizers'],
    ['post_processor', 'processors'],
    ['decoder', 'decoders'],
    ['model', 'models'],
  ] as const;
  for (const key of ['truncation', 'padding'] as const) {
    const v = json[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) return `${key}: expected an object or null, got ${shownJson(v)}`;
    const problem = settingsProblem(v as Record<string, unknown>, SETTING_FIELDS[key], key);
    if (problem) return problem;
  }
  let read = json;
  for (const [key, list] of parts) {
    const r = partAsRead(json[key], list, key, key !== 'model');
    if ('problem' in r) return r.problem;
    if (r.read !== json[key]) read = { ...read, [key]: r.read };
  }
  return specialAddersProblem(read.post_processor) ?? read;
}

/** Each component of a tokenizer.json by its key, as the key of its Sequence's list (PART_FIELDS). */
const COMPONENTS: Readonly<Record<string, keyof typeof PART_FIELDS>> = {
  normalizer: 'normalizers',
  pre_tokenizer: 'pretokenizers',
  post_processor: 'processors',
  decoder: 'decoders',
  model: 'models',
};

/** The kinds of field tokenizers reads as an integer (u32 or usize). */
const INTEGER_KINDS: ReadonlySet<FieldKind> = new Set<FieldKind>(['count', 'optional count', 'positive count', 'id']);

/** Whether `v` is a JSON object. */
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The integer that tokenizers reads at `path` (keys and indices from the top) of tokenizer.json object `json` (its
 * parts as tokenizers reads them: withPartsAsRead's), named as the other refusals name fields, with its kind; undefined
 * where the path holds no integer field: an added token's id; truncation's and padding's counts and ids (a Fixed
 * strategy's length); a part's counts and ids (its Sequence's parts too), a post-processor's sep and cls ids, template
 * pieces' type_id and special tokens' ids, and a BPE's, WordPiece's or WordLevel's vocab ids. A BPE's dropout and a
 * Unigram's scores are floats.
 */
function integerFieldAt(json: Record<string, unknown>, path: readonly (string | number)[]): { where: string; kind: FieldKind } | undefined {
  const [top, ...rest] = path;
  if (top === 'added_tokens') return rest.length === 2 && rest[1] === 'id' ? { where: `added_tokens[${rest[0]}]: id`, kind: 'id' } : undefined;
  if (top === 'truncation' || top === 'padding') {
    const name = String(rest[0]);
    const field = Object.hasOwn(SETTING_FIELDS[top], name) ? SETTING_FIELDS[top][name] : undefined;
    if (field !== undefined && INTEGER_KINDS.has(field.kind) && rest.length === 1) return { where: `${top}: ${name}`, kind: field.kind };
    if (field?.kind === 'padding strategy' && rest.length === 2 && rest[1] === 'Fixed') return { where: `${top}: ${name}: Fixed`, kind: 'count' };
    return undefined;
  }
  if (typeof top !== 'string' || !Object.hasOwn(COMPONENTS, top)) return undefined;
  const list = COMPONENTS[top]!;
  let part = json[top];
  let where = top;
  let at = rest;
  while (isObject(part) && part.type === 'Sequence' && at[0] === list && typeof at[1] === 'number' && Array.isArray(part[list])) {
    where += `.${list}[${at[1]}]`;
    part = (part[list] as unknown[])[at[1]];
    at = at.slice(2);
  }
  if (!isObject(part) || typeof part.type !== 'string' || !Object.hasOwn(PART_FIELDS[list], part.type)) return undefined;
  const fields = PART_FIELDS[list][part.type] as Fields;
  const name = String(at[0]);
  const field = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (field === undefined) return undefined;
  const named = `${where} (${part.type}): ${name}`;
  if (INTEGER_KINDS.has(field.kind) && at.length === 1) return { where: named, kind: field.kind };
  if (field.kind === 'token' && at.length === 2 && at[1] === 1) return { where: `${named}[1]`, kind: 'id' };
  if (field.kind === 'template' && at.length === 4 && at[3] === 'type_id') return { where: `${named}[${at[1]}].${at[2]}.type_id`, kind: 'id' };
  if (field.kind === 'special tokens' && at.length === 4 && at[2] === 'ids')
    return { where: `${named}[${quotedText(String(at[1]))}].ids[${at[3]}]`, kind: 'id' };
  if (field.kind === 'map' && list === 'models' && at.length === 2) return { where: `${named}: token ${quotedText(String(at[1]))}`, kind: 'id' };
  return undefined;
}

/**
 * The first integer field (integerFieldAt) of tokenizer.json object `json` (its parts as read: withPartsAsRead's) that
 * the file writes as a float (`floats`: jsonWholeFloats of its text: 3.0, 1e0), in one line naming it; undefined for
 * none. JSON.parse reads 3.0 as 3, where tokenizers' serde reads a float, which an integer field refuses ('invalid type:
 * floating point `3.0`, expected u32'), so transformers fails to load the file.
 */
export function wholeFloatProblem(json: Record<string, unknown>, floats: ReadonlyMap<string, string>): string | undefined {
  for (const [key, written] of floats) {
    const field = integerFieldAt(json, JSON.parse(key) as Array<string | number>);
    if (field !== undefined)
      return `${field.where}: expected ${expected(field.kind)}, got ${written}, a float to tokenizers, which reads integers alone (write ${Number(written)})`;
  }
  return undefined;
}

/** The post-processors that add special tokens, each to the pieces it is given. */
const SPECIAL_ADDERS: ReadonlySet<unknown> = new Set(['TemplateProcessing', 'BertProcessing', 'RobertaProcessing']);

/**
 * A post-processor (as read) whose Sequence holds more than one that adds special tokens (SPECIAL_ADDERS), at any
 * depth, in one line: tokenizers applies the second to each piece the first gives (a BertProcessing after a
 * TemplateProcessing adds [CLS] … [SEP] around each of its special tokens and texts; a TemplateProcessing after another
 * fails on every text), which compress does not read so; undefined for none.
 */
function specialAddersProblem(post: unknown): string | undefined {
  const adders = sequenceLeaves(post, 'processors')
    .filter(({ leaf }) => SPECIAL_ADDERS.has(leaf.type))
    .map(({ leaf, path }) => ({ at: `post_processor${path.map((i) => `.processors[${i}]`).join('')}`, type: String(leaf.type) }));
  if (adders.length < 2) return undefined;
  const [first, second] = adders as [{ at: string; type: string }, { at: string; type: string }];
  return `${second.at} (${second.type}): it adds special tokens after ${first.at} (${first.type}) did, which tokenizers does to each piece the first gives (or fails on every text), and compress does not read: keep one post-processor that adds them`;
}
