/**
 * tokenizers' UnicodeScripts pre-tokenizer (tokenizers/src/pre_tokenizers/unicode_scripts), which @huggingface/tokenizers
 * (and so transformers.js) does not know: a text split where a character's script (fixedScript) differs from the last
 * script before it other than Any. The scripts are those of tokenizers' own table (scripts.rs get_script, generated
 * from Unicode 9.0's Scripts.txt, embedded as src/eval/unicode-scripts-table.ts), not JS's `\p{Script=…}` (Node's
 * ICU, a later Unicode): a character Unicode assigned after 9.0 (CJK ideographs U+9FD6–9FFF and Extensions F to I,
 * emoji, the scripts added since) is Any there, which joins the piece before it, where JS gives it a script (about
 * 170,000 code points differ, private use ones included).
 */
import { SCRIPT_NAMES, SCRIPT_RANGES } from './unicode-scripts-table.ts';

/** A script of tokenizers' Script enum. */
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** SCRIPT_RANGES decoded: each range's first and last code point and its script's index in SCRIPT_NAMES, in order. */
interface DecodedRanges {
  first: Uint32Array;
  last: Uint32Array;
  script: Uint8Array;
}

/**
 * Ranges written as scripts/make-unicode-scripts.ts encodeRanges writes them (`gap.length.script` in base 36, joined
 * by spaces), as [first, last, script's index], in order.
 */
export function decodeRanges(encoded: string): Array<[number, number, number]> {
  let next = 0;
  return encoded.split(' ').map((entry) => {
    const [gap, length, script] = entry.split('.').map((n) => Number.parseInt(n, 36)) as [number, number, number];
    const first = next + gap;
    next = first + length + 1;
    return [first, first + length, script];
  });
}

let decoded: DecodedRanges | undefined;

/** SCRIPT_RANGES decoded (decodeRanges), once per process. */
function ranges(): DecodedRanges {
  if (decoded) return decoded;
  const all = decodeRanges(SCRIPT_RANGES);
  decoded = { first: Uint32Array.from(all, (r) => r[0]), last: Uint32Array.from(all, (r) => r[1]), script: Uint8Array.from(all, (r) => r[2]) };
  return decoded;
}

/** The script tokenizers' get_script gives code point `cp` (Any where its table lists none). */
export function rawScript(cp: number): ScriptName {
  const { first, last, script } = ranges();
  let [lo, hi] = [0, first.length - 1];
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (last[mid]! < cp) lo = mid + 1;
    else if (first[mid]! > cp) hi = mid - 1;
    else return SCRIPT_NAMES[script[mid]!]!;
  }
  return 'Any';
}

/**
 * The script tokenizers' UnicodeScripts reads code point `cp` as (pre_tokenizer.rs fixed_script, sentencepiece's
 * IsValidSentencePiece): U+30FC (ー) and Hiragana and Katakana are Han, a space (U+0020 only) is Any, others get_script's.
 */
export function fixedScript(cp: number): ScriptName {
  if (cp === 0x30fc) return 'Han';
  if (cp === 0x20) return 'Any';
  const raw = rawScript(cp);
  return raw === 'Hiragana' || raw === 'Katakana' ? 'Han' : raw;
}

/**
 * `text` split as tokenizers' UnicodeScripts pre-tokenizer splits it (pre_tokenizer.rs): a piece starts at each
 * character whose script (fixedScript) is not Any and differs from that of the last character before it that is not
 * Any; a character of Any stays in the piece before it, and those before the first character of another script are
 * dropped (tokenizers' split starts at that character: a text of spaces alone gives no piece).
 */
export function unicodeScriptsPieces(text: string): string[] {
  const pieces: string[] = [];
  let last: ScriptName | undefined;
  let start = -1;
  let at = 0;
  for (const c of text) {
    const script = fixedScript(c.codePointAt(0)!);
    if (script !== 'Any' && script !== last) {
      if (start >= 0) pieces.push(text.slice(start, at));
      start = at;
      last = script;
    }
    at += c.length;
  }
  if (start >= 0) pieces.push(text.slice(start));
  return pieces;
}
