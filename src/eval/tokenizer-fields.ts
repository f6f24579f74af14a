/**
 * The fields tokenizers (Rust, which transformers' fast tokenizers load) requires of a tokenizer.json's normalizer,
 * pre-tokenizer, post-processor and decoder parts, as its serde reads them (tokenizers/src/normalizers, pre_tokenizers,
 * processors, decoders: a
 * field with no `#[serde(default)]` must be there, of its type; an enum only by its exact name), where
 * @huggingface/tokenizers reads a file that lacks one or misspells it (a Split of behavior "Isolate" read as Isolated,
 * a ByteLevel without add_prefix_space read as false): such a file, which transformers fails to load, is refused in
 * one line naming the field. Types not listed here are left to the library (it refuses those it does not know).
 */

/** What a field takes, as tokenizers' serde reads it. */
type FieldKind =
  | 'bool'
  | 'optional bool'
  | 'char'
  | 'string'
  | 'optional string'
  | 'count'
  | 'positive count'
  | 'list'
  | 'token'
  | 'map'
  | 'pattern'
  | 'behavior'
  | 'prepend scheme';

/** A part's fields: each with its kind and whether tokenizers reads a default where it is absent. */
type Fields = Readonly<Record<string, { kind: FieldKind; defaulted?: true }>>;

const BEHAVIORS = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
const PREPEND_SCHEMES = ['first', 'never', 'always'];

const BYTE_LEVEL: Fields = { add_prefix_space: { kind: 'bool' }, trim_offsets: { kind: 'bool' }, use_regex: { kind: 'bool', defaulted: true } };
const METASPACE: Fields = {
  replacement: { kind: 'char' },
  add_prefix_space: { kind: 'optional bool' },
  prepend_scheme: { kind: 'prepend scheme', defaulted: true },
  split: { kind: 'optional bool' },
  str_rep: { kind: 'optional string' },
};
const PATTERN_CONTENT: Fields = { pattern: { kind: 'pattern' }, content: { kind: 'string' } };

/** Each part type's fields, by the component it is a part of (the key of its Sequence's list). */
const PART_FIELDS: Readonly<Record<'normalizers' | 'pretokenizers' | 'processors' | 'decoders', Readonly<Record<string, Fields>>>> = {
  normalizers: {
    BertNormalizer: {
      clean_text: { kind: 'bool' },
      handle_chinese_chars: { kind: 'bool' },
      strip_accents: { kind: 'optional bool' },
      lowercase: { kind: 'bool' },
    },
    Strip: { strip_left: { kind: 'bool' }, strip_right: { kind: 'bool' } },
    Sequence: { normalizers: { kind: 'list' } },
    Replace: PATTERN_CONTENT,
    Prepend: { prepend: { kind: 'string' } },
  },
  pretokenizers: {
    ByteLevel: BYTE_LEVEL,
    CharDelimiterSplit: { delimiter: { kind: 'char' } },
    Metaspace: METASPACE,
    Sequence: { pretokenizers: { kind: 'list' } },
    Split: { pattern: { kind: 'pattern' }, behavior: { kind: 'behavior' }, invert: { kind: 'bool' } },
    Punctuation: { behavior: { kind: 'behavior', defaulted: true } },
    Digits: { individual_digits: { kind: 'bool' } },
    // (a length of 0 tokenizers reads and then panics on every text: chunks(0))
    FixedLength: { length: { kind: 'positive count', defaulted: true } },
  },
  processors: {
    ByteLevel: BYTE_LEVEL,
    Sequence: { processors: { kind: 'list' } },
    BertProcessing: { sep: { kind: 'token' }, cls: { kind: 'token' } },
    // (its trim_offsets and add_prefix_space tokenizers defaults, and reads of any type)
    RobertaProcessing: { sep: { kind: 'token' }, cls: { kind: 'token' } },
    TemplateProcessing: { single: { kind: 'list' }, pair: { kind: 'list' }, special_tokens: { kind: 'map' } },
  },
  decoders: {
    BPEDecoder: { suffix: { kind: 'string' } },
    ByteLevel: BYTE_LEVEL,
    WordPiece: { prefix: { kind: 'string' }, cleanup: { kind: 'bool' } },
    Metaspace: METASPACE,
    CTC: { pad_token: { kind: 'string' }, word_delimiter_token: { kind: 'string' }, cleanup: { kind: 'bool' } },
    Sequence: { decoders: { kind: 'list' } },
    Replace: PATTERN_CONTENT,
    Strip: { content: { kind: 'char' }, start: { kind: 'count' }, stop: { kind: 'count' } },
  },
};

/** The words for what a field of `kind` takes. */
function expected(kind: FieldKind): string {
  const oneOf = (names: string[]) => `one of ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
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
    case 'positive count':
      return 'an integer from 1';
    case 'list':
      return 'a list';
    case 'token':
      return 'a token and its id, ["…", N]';
    case 'map':
      return 'an object';
    case 'pattern':
      return '{"String": "…"} or {"Regex": "…"}';
    case 'behavior':
      return oneOf(BEHAVIORS);
    case 'prepend scheme':
      return oneOf(PREPEND_SCHEMES);
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
    case 'positive count':
      return Number.isSafeInteger(v) && (v as number) >= 1;
    case 'list':
      return Array.isArray(v);
    case 'token':
      // (a (String, u32))
      return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isSafeInteger(v[1]) && v[1] >= 0 && v[1] <= 0xffffffff;
    case 'map':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    case 'pattern': {
      const keys = v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
      return keys.length === 1 && (keys[0] === 'String' || keys[0] === 'Regex') && typeof (v as Record<string, unknown>)[keys[0]] === 'string';
    }
    case 'behavior':
      return typeof v === 'string' && BEHAVIORS.includes(v);
    case 'prepend scheme':
      return typeof v === 'string' && PREPEND_SCHEMES.includes(v);
  }
}

/**
 * The first field of `part` (at `where`, a path such as `pre_tokenizer.pretokenizers[1]`), or of a part of its
 * Sequences, that tokenizers refuses, in one line; undefined for none.
 */
function partProblem(part: unknown, list: keyof typeof PART_FIELDS, where: string): string | undefined {
  if (part === null || typeof part !== 'object' || Array.isArray(part)) return undefined;
  const p = part as Record<string, unknown>;
  const type = typeof p.type === 'string' && Object.hasOwn(PART_FIELDS[list], p.type) ? p.type : undefined;
  if (type === undefined) return undefined;
  for (const [name, { kind, defaulted }] of Object.entries(PART_FIELDS[list][type] as Fields)) {
    const v = p[name];
    if (v === undefined && (defaulted || kind.startsWith('optional'))) continue;
    if (v === undefined) return `${where} (${type}): no ${name}, which tokenizers requires (expected ${expected(kind)})`;
    if (!reads(kind, v)) return `${where} (${type}): ${name}: expected ${expected(kind)}, got ${(JSON.stringify(v) ?? String(v)).slice(0, 60)}`;
  }
  if (type !== 'Sequence') return undefined;
  const parts = p[list] as unknown[];
  for (const [i, q] of parts.entries()) {
    const problem = partProblem(q, list, `${where}.${list}[${i}]`);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * What tokenizers refuses of a tokenizer.json's normalizer, pre-tokenizer, post-processor or decoder fields (PART_FIELDS), in one
 * line naming the part and the field; undefined for nothing.
 */
export function partFieldsProblem(json: Record<string, unknown>): string | undefined {
  return (
    partProblem(json.normalizer, 'normalizers', 'normalizer') ??
    partProblem(json.pre_tokenizer, 'pretokenizers', 'pre_tokenizer') ??
    partProblem(json.post_processor, 'processors', 'post_processor') ??
    partProblem(json.decoder, 'decoders', 'decoder')
  );
}
