/**
 * A Precompiled normalizer's precompiled_charsmap as tokenizers reads it (spm_precompiled: base64 of a little-endian
 * u32 trie size in bytes, that many bytes of the trie's u32 units, then the normalized text, UTF-8), where
 * @huggingface/tokenizers never reads it (it applies NFKC).
 */

import { DataError, quotedText } from '../errors.ts';

/** Whether base64 text `s` decodes as tokenizers' base64 decoder reads it (padding optional, no trailing bits, no spaces). */
function decodesAsBase64(s: string): boolean {
  const m = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(s);
  if (!m) return false;
  const [, data, pad] = m as unknown as [string, string, string];
  const rest = data.length % 4;
  if (rest === 1 || (pad.length > 0 && (rest === 0 || rest + pad.length > 4))) return false;
  if (rest === 0) return true;
  // (the last character's bits past the last whole byte are zero)
  const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(data.at(-1)!);
  return (last & (rest === 2 ? 0xf : 0x3)) === 0;
}

/** A double-array unit's offset to its children (spm_precompiled's ArrayUnitTrait::offset). */
const unitOffset = (unit: number): number => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);

/** The first byte of each UTF-8 character but NUL, where a text's every grapheme starts its walk of the trie. */
const FIRST_BYTES = [...Array.from({ length: 0x7f }, (_, i) => i + 1), ...Array.from({ length: 0xf4 - 0xc2 + 1 }, (_, i) => i + 0xc2)];

/**
 * What keeps tokenizers from reading a precompiled_charsmap (`base64`), in words: what it refuses at load ("Cannot
 * parse precompiled_charsmap": not base64, fewer than 4 bytes, a trie size past its bytes, normalized text that is not
 * UTF-8), and a trie it reads and then fails on (an index out of bounds that aborts): one of no unit (every text), one
 * that ends before the unit a character's first byte reads (every text holding such a character); undefined for none.
 */
export function charsmapProblem(base64: string): string | undefined {
  if (!decodesAsBase64(base64)) return `not base64 as tokenizers decodes it (${quotedText(base64.slice(0, 20))}) (tokenizers refuses it)`;
  const bytes = Buffer.from(base64, 'base64');
  const cannot = '(tokenizers refuses it: Cannot parse precompiled_charsmap)';
  if (bytes.length < 4) return `${bytes.length} bytes, fewer than the 4 of its trie's size ${cannot}`;
  const units = Math.floor(bytes.readUInt32LE(0) / 4);
  if (4 + 4 * units > bytes.length) return `its trie's size is ${bytes.readUInt32LE(0)} bytes, but ${bytes.length - 4} follow it ${cannot}`;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4 + 4 * units));
  } catch {
    return `the normalized text after its trie is not UTF-8 ${cannot}`;
  }
  if (units === 0) return 'its trie holds no unit (tokenizers reads it, then fails on every text)';
  const base = unitOffset(bytes.readUInt32LE(4));
  const past = FIRST_BYTES.find((c) => (base ^ c) >= units);
  if (past === undefined) return undefined;
  const hex = `0x${past.toString(16).toUpperCase().padStart(2, '0')}`;
  return `its trie of ${units} units ends before the unit a character's first byte ${hex}${past < 0x80 ? ` (${quotedText(String.fromCharCode(past))})` : ''} reads (tokenizers reads it, then fails on every text holding such a character)`;
}

/** Whether a double-array unit has a leaf below it, its label, its value (spm_precompiled's ArrayUnitTrait). */
const unitHasLeaf = (unit: number): boolean => ((unit >>> 8) & 1) === 1;
const unitLabel = (unit: number): number => (unit & ((1 << 31) | 0xff)) >>> 0;
const unitValue = (unit: number): number => unit & 0x7fffffff;

/**
 * Whether a precompiled_charsmap (`base64`, one charsmapProblem finds nothing wrong with) maps no text: its trie holds
 * no key, and no walk of a text through it passes its end (where tokenizers fails), so tokenizers' Precompiled keeps
 * every text as it is, as no normalizer does. Every byte path the trie holds is walked (each of the 255 bytes but NUL
 * below each node it reaches: more paths than UTF-8 texts take, so a trie one of them passes the end of is not taken).
 */
export function charsmapMapsNothing(base64: string): boolean {
  const bytes = Buffer.from(base64, 'base64');
  const units = Math.floor(bytes.readUInt32LE(0) / 4);
  const unit = (pos: number): number => bytes.readUInt32LE(4 + 4 * pos);
  const seen = new Set<number>();
  const bases = [unitOffset(unit(0))];
  for (let base = bases.pop(); base !== undefined; base = bases.pop()) {
    if (seen.has(base)) continue;
    seen.add(base);
    for (let c = 1; c < 0x100; c++) {
      const pos = base ^ c;
      if (pos >= units) return false;
      const u = unit(pos);
      if (unitLabel(u) !== c) continue;
      if (unitHasLeaf(u)) return false;
      bases.push(pos ^ unitOffset(u));
    }
  }
  return true;
}

/** A text's extended grapheme clusters, as unicode-segmentation's graphemes(true) gives them. */
const GRAPHEMES = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * The normalizing of a precompiled_charsmap (`base64`, one charsmapProblem finds nothing wrong with), as tokenizers'
 * Precompiled normalizer applies it (normalizers/precompiled.rs over spm_precompiled): each grapheme of fewer than 6
 * UTF-8 bytes replaced by the normalized text of the first (shortest) key of the trie that starts it, where one does,
 * else each of its characters so, where one starts it, or kept; where @huggingface/tokenizers applied NFKC (and its own
 * rules for spaces and controls) whatever the charsmap says. A text whose walk of the trie passes its end, or holding
 * a key whose text starts past the normalized texts or inside a character of them, which tokenizers fails on (an index
 * out of bounds, a slice off a character's boundary), is refused in one line naming `source` (the tokenizer's file).
 */
export function charsmapNormalizer(base64: string, source: string): (text: string) => string {
  const bytes = Buffer.from(base64, 'base64');
  const units = Math.floor(bytes.readUInt32LE(0) / 4);
  const array = Array.from({ length: units }, (_, i) => bytes.readUInt32LE(4 + 4 * i));
  const normalized = bytes.subarray(4 + 4 * units);
  let text = ''; // (the text being normalized, which a refusal names)
  /** The one-line refusal of a text holding `chunk`, whose reading tokenizers fails on: `what` the charsmap holds, `why` it fails. */
  const refused = (chunk: string, what: string, why: string): DataError =>
    new DataError(
      `${source}: its Precompiled normalizer's precompiled_charsmap ${what}, and ${quotedText(text.slice(0, 60))} holds ${quotedText(chunk)}: tokenizers fails on such a text (${why})`,
    );
  const at = (pos: number, chunk: string): number => {
    if (pos < units) return array[pos]!;
    throw refused(chunk, `has a trie of ${units} units, which ends before the unit ${quotedText(chunk)} reads`, 'an index out of bounds in its trie');
  };
  /**
   * The normalized text of the first key of the trie that starts `chunk`; undefined where none does (spm_precompiled's
   * transform). Its walk goes on past that key, through every byte of `chunk` the trie holds, as tokenizers' walk
   * (common_prefix_search, which finds them all) does, so that a trie cut short below it is refused as there.
   */
  const transform = (chunk: string): string | undefined => {
    let pos = unitOffset(at(0, chunk));
    let first: number | undefined;
    for (const c of Buffer.from(chunk)) {
      if (c === 0) break;
      pos ^= c;
      const unit = at(pos, chunk);
      if (unitLabel(unit) !== c) break;
      pos ^= unitOffset(unit);
      // (each key's value unit read, as tokenizers reads them all)
      if (unitHasLeaf(unit)) {
        const value = unitValue(at(pos, chunk));
        first ??= value;
      }
    }
    if (first === undefined) return undefined;
    // (a key's text starts past the normalized texts' end or inside a character of them: spm_precompiled slices the
    // normalized text there, which panics; the text itself is UTF-8, charsmapProblem's check)
    if (first > normalized.length || (normalized[first]! & 0xc0) === 0x80)
      throw refused(
        chunk,
        `maps ${quotedText(chunk)} to byte ${first} of its normalized texts, ${first > normalized.length ? `past their ${normalized.length} bytes` : 'inside a character'}`,
        `a byte index ${first > normalized.length ? 'out of bounds' : 'inside a character'} in its normalized texts`,
      );
    const end = normalized.indexOf(0, first);
    return normalized.subarray(first, end < 0 ? normalized.length : end).toString('utf8');
  };
  // (each grapheme's normalized text, kept: a dataset's texts hold few distinct ones; emptied at SEEN_GRAPHEMES, since
  // loadTokenizer keeps a tokenizer for the process and a worker's texts may hold ever new combining sequences)
  const seen = new Map<string, string>();
  const grapheme = (g: string): string => {
    let out = seen.get(g);
    if (out === undefined) {
      out = (Buffer.byteLength(g) < 6 ? transform(g) : undefined) ?? [...g].map((c) => transform(c) ?? c).join('');
      if (seen.size >= SEEN_GRAPHEMES) seen.clear();
      seen.set(g, out);
    }
    return out;
  };
  // (a text of ASCII characters that the charsmap keeps as they are, CR aside, which starts the grapheme CR LF: its
  // own normalizing, its graphemes its characters; one whose walk fails is left to the text that holds it, refused there)
  const kept = Array.from({ length: 0x80 }, (_, c) => String.fromCharCode(c)).filter((c) => {
    try {
      return c !== '\r' && (transform(c) ?? c) === c;
    } catch {
      return false;
    }
  });
  const unchanged = new RegExp(`^[${kept.map((c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')}]*$`);
  return (given) => {
    text = given;
    if (unchanged.test(text)) return text;
    let out = '';
    if (ASCII.test(text)) {
      // (an ASCII text's graphemes are its characters but CR LF, one grapheme: no segmenting, which costs ~100 µs a text)
      for (let i = 0; i < text.length; i++) {
        const pair = text[i] === '\r' && text[i + 1] === '\n';
        out += grapheme(pair ? '\r\n' : text[i]!);
        if (pair) i += 1;
      }
      return out;
    }
    for (const { segment } of GRAPHEMES.segment(text)) out += grapheme(segment);
    return out;
  };
}

/** How many graphemes' normalized texts a charsmap normalizer keeps (the characters of GLUE's dev and train files: 547). */
const SEEN_GRAPHEMES = 1 << 16;

/** A text of ASCII characters alone. */
const ASCII = /^[\0-\x7f]*$/;
