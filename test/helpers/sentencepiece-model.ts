/**
 * Writes SentencePiece model files (a serialized sentencepiece.ModelProto, sentencepiece_model.proto) by hand, field by
 * field in protobuf's wire format, for tests of the reader (src/eval/sentencepiece-vocab.ts) that do not share its
 * decoder: pieces (1: piece 1, score 2, type 3), trainer_spec (2: model_type 3, byte_fallback 35, unk_id 40), normalizer_spec
 * (3: precompiled_charsmap 2, add_dummy_prefix 3, remove_extra_whitespaces 4).
 */

/** One piece: its text, score and type (1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte; 1 when left out). */
export interface TestPiece {
  piece: string;
  score: number;
  type?: number;
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const key = (field: number, wire: number): number[] => varint(field * 8 + wire);
const bytesField = (field: number, bytes: readonly number[]): number[] => [...key(field, 2), ...varint(bytes.length), ...bytes];
const varintField = (field: number, n: number): number[] => [...key(field, 0), ...varint(n)];
function floatField(field: number, x: number): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return [...key(field, 5), ...b];
}

/**
 * The bytes of a SentencePiece model of `pieces` (model_type 1 Unigram unless given, unk_id 0 unless given), its
 * trainer_spec and normalizer_spec after them (the latter empty but for the fields given), as SentencePiece writes them.
 */
export function sentencePieceModelBytes(
  pieces: readonly TestPiece[],
  options: {
    modelType?: number;
    unkId?: number;
    byteFallback?: boolean;
    charsmap?: readonly number[];
    addDummyPrefix?: boolean;
    removeExtraWhitespaces?: boolean;
  } = {},
): Buffer {
  const out: number[] = [];
  for (const p of pieces) {
    const body = [...bytesField(1, [...Buffer.from(p.piece, 'utf8')]), ...floatField(2, p.score), ...(p.type === undefined ? [] : varintField(3, p.type))];
    out.push(...bytesField(1, body));
  }
  const byteFallback = options.byteFallback ? varintField(35, 1) : [];
  out.push(...bytesField(2, [...varintField(3, options.modelType ?? 1), ...byteFallback, ...varintField(40, options.unkId ?? 0)]));
  const normalizer = [
    ...(options.charsmap ? bytesField(2, options.charsmap) : []),
    ...(options.addDummyPrefix === undefined ? [] : varintField(3, Number(options.addDummyPrefix))),
    ...(options.removeExtraWhitespaces === undefined ? [] : varintField(4, Number(options.removeExtraWhitespaces))),
  ];
  out.push(...bytesField(3, normalizer));
  return Buffer.from(out);
}

/** ALBERT's special pieces, its ids 0–4: <pad>, <unk> (the model's unk), [CLS], [SEP], [MASK] (control pieces). */
export const ALBERT_SPECIAL_PIECES: readonly TestPiece[] = [
  { piece: '<pad>', score: 0, type: 3 },
  { piece: '<unk>', score: 0, type: 2 },
  { piece: '[CLS]', score: 0, type: 3 },
  { piece: '[SEP]', score: 0, type: 3 },
  { piece: '[MASK]', score: 0, type: 3 },
];

/**
 * A precompiled_charsmap that tokenizers reads and that maps nothing, as small as one can be: its trie's size (1024
 * bytes), then 256 units of label 0 (each byte a text's character starts with finds its unit, whose label is not that
 * byte: no rule), and no normalized text.
 */
export function identityCharsmap(): number[] {
  const bytes = Buffer.alloc(4 + 256 * 4);
  bytes.writeUInt32LE(256 * 4, 0);
  return [...bytes];
}

/**
 * A precompiled_charsmap mapping each key of `rules` (a character or grapheme) to its text, as tokenizers reads one
 * (spm_precompiled's double array, each node's children in a block of 256 units of its own, its leaf's value, an
 * index into the normalized texts, at the block's start): the tiny tables a test needs, where sentencepiece's builder
 * packs them.
 */
export function charsmapOf(rules: Readonly<Record<string, string>>): number[] {
  type Node = { children: Map<number, Node>; value?: number };
  const root: Node = { children: new Map() };
  const texts: number[] = [];
  for (const [key, text] of Object.entries(rules)) {
    let node = root;
    for (const byte of Buffer.from(key)) {
      if (!node.children.has(byte)) node.children.set(byte, { children: new Map() });
      node = node.children.get(byte)!;
    }
    node.value = texts.length;
    texts.push(...Buffer.from(text), 0);
  }
  const units: number[] = [];
  /** Places `node`'s children (and its leaf's value) in a new block; its unit at `pos` (label `label`) points there. */
  const place = (node: Node, pos: number, label: number): void => {
    const base = Math.ceil(Math.max(units.length, pos + 1) / 256) * 256;
    units.length = base + 256;
    units.fill(0, units.length - 256);
    units[pos] = (((pos ^ base) << 10) | (node.value === undefined ? 0 : 1 << 8) | label) >>> 0;
    if (node.value !== undefined) units[base] = node.value;
    for (const [byte, child] of node.children) place(child, base ^ byte, byte);
  };
  units.length = 1;
  units[0] = 0;
  place(root, 0, 0);
  const bytes = Buffer.alloc(4 + 4 * units.length + texts.length);
  bytes.writeUInt32LE(4 * units.length, 0);
  units.forEach((u, i) => bytes.writeUInt32LE(u ?? 0, 4 + 4 * i));
  Buffer.from(texts).copy(bytes, 4 + 4 * units.length);
  return [...bytes];
}
