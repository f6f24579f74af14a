/**
 * The fields tokenizers (Rust, which transformers' fast tokenizers load) requires of a tokenizer.json's normalizer,
 * pre-tokenizer, post-processor and decoder parts, as its serde reads them (tokenizers/src/normalizers, pre_tokenizers,
 * processors, decoders: a
 * field with no `#[serde(default)]` must be there, of its type; an enum only by its exact name), where
 * @huggingface/tokenizers reads a file that lacks one or misspells it (a Split of behavior "Isolate" read as Isolated,
 * a ByteLevel without add_prefix_space read as false): such a file, which transformers fails to load, is refused in
 * one line naming the field. Types not listed here are left to the library (it refuses those it does not know).
 * A post-processor tokenizers reads by its fields, not its type (PostProcessorWrapper is an untagged enum:
 * RobertaProcessing, BertProcessing, ByteLevel, TemplateProcessing, Sequence, the first whose fields read; only
 * ByteLevel's and Sequence's types are checked): a RobertaProcessing without trim_offsets is read as a BertProcessing
 * of its sep and cls, as tokenizers reads it (partAsRead).
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
    RobertaProcessing: { sep: { kind: 'token' }, cls: { kind: 'token' }, trim_offsets: { kind: 'bool' }, add_prefix_space: { kind: 'bool' } },
    BertProcessing: { sep: { kind: 'token' }, cls: { kind: 'token' } },
    ByteLevel: BYTE_LEVEL,
    TemplateProcessing: { single: { kind: 'list' }, pair: { kind: 'list' }, special_tokens: { kind: 'map' } },
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
    case 'map':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
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
  }
}

/** The first field of `p` that tokenizers refuses for a part of `type`, in one line naming it (at `where`); undefined for none. */
function fieldsProblem(p: Record<string, unknown>, list: keyof typeof PART_FIELDS, type: string, where: string): string | undefined {
  for (const [name, { kind, defaulted }] of Object.entries(PART_FIELDS[list][type] as Fields)) {
    const v = p[name];
    if (v === undefined && (defaulted || kind.startsWith('optional'))) continue;
    if (v === undefined) return `${where} (${type}): no ${name}, which tokenizers requires (expected ${expected(kind)})`;
    if (!reads(kind, v)) return `${where} (${type}): ${name}: expected ${expected(kind)}, got ${(JSON.stringify(v) ?? String(v)).slice(0, 60)}`;
  }
  return undefined;
}

/**
 * `part` (at `where`, a path such as `pre_tokenizer.pretokenizers[1]`) as tokenizers reads it, its Sequences' parts
 * so too: a post-processor as the first type of PROCESSOR_ORDER whose fields read (its type and those fields alone,
 * where that is another type than its own); `part` itself where nothing changes. Its first field tokenizers refuses, in
 * one line, where none reads; a part of a type not listed, as it is (left to the library).
 */
function partAsRead(part: unknown, list: keyof typeof PART_FIELDS, where: string): { read: unknown } | { problem: string } {
  if (part === null || typeof part !== 'object' || Array.isArray(part)) return { read: part };
  const p = part as Record<string, unknown>;
  const own = typeof p.type === 'string' && Object.hasOwn(PART_FIELDS[list], p.type) ? p.type : undefined;
  const type =
    list === 'processors'
      ? (PROCESSOR_ORDER.find(([t, tagged]) => (!tagged || t === p.type) && fieldsProblem(p, list, t, where) === undefined)?.[0] ?? own)
      : own;
  if (type === undefined) return { read: part };
  const problem = fieldsProblem(p, list, type, where);
  if (problem) return { problem };
  const read = type === p.type ? p : Object.fromEntries([['type', type], ...Object.keys(PART_FIELDS[list][type] as Fields).map((name) => [name, p[name]])]);
  if (type !== 'Sequence') return { read };
  const parts = p[list] as unknown[];
  const partsRead: unknown[] = [];
  for (const [i, q] of parts.entries()) {
    const r = partAsRead(q, list, `${where}.${list}[${i}]`);
    if ('problem' in r) return r;
    partsRead.push(r.read);
  }
  return { read: partsRead.every((r, i) => r === parts[i]) ? read : { ...read, [list]: partsRead } };
}

/** The post-processor types tokenizers tries, in its order, each with whether it must be of that type (impl_serde_type checks it). */
const PROCESSOR_ORDER: ReadonlyArray<readonly [string, boolean]> = [
  ['RobertaProcessing', false],
  ['BertProcessing', false],
  ['ByteLevel', true],
  ['TemplateProcessing', false],
  ['Sequence', true],
];

/**
 * A tokenizer.json's object as tokenizers reads its normalizer, pre-tokenizer, post-processor and decoder (PART_FIELDS:
 * a post-processor as the type whose fields read, partAsRead), `json` itself where nothing changes; what tokenizers
 * refuses of them, in one line naming the part and the field.
 */
export function withPartsAsRead(json: Record<string, unknown>): Record<string, unknown> | string {
  const parts = [
    ['normalizer', 'normalizers'],
    ['pre_tokenizer', 'pretokenizers'],
    ['post_processor', 'processors'],
    ['decoder', 'decoders'],
  ] as const;
  let read = json;
  for (const [key, list] of parts) {
    const r = partAsRead(json[key], list, key);
    if ('problem' in r) return r.problem;
    if (r.read !== json[key]) read = { ...read, [key]: r.read };
  }
  return read;
}
