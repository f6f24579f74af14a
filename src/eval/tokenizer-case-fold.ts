/**
 * `(?i:…)` in a tokenizer.json regex (a Split's, a Replace's) as tokenizers' Oniguruma folds it, where
 * @huggingface/tokenizers (and so transformers.js) folds ASCII letters alone: Oniguruma folds every Unicode case pair
 * (é/É, σ/Σ/ς), ſ with s and K (Kelvin) with k, and multi-character folds (ß and ẞ with ss, ﬁ with fi, ﬆ with st, …).
 * A group of plain ASCII text (letters and other characters, alternatives split by `|`: GPT-4's `(?i:'s|'t|'re|…)`) is
 * read exactly by writing its s and k as classes that hold ſ and K; any other group is refused in one line.
 */

import { regexAtoms } from './regex-atoms.ts';

/** The characters of a group that make it other than plain text (classes, escapes, groups, quantifiers, anchors, dot). */
const NOT_PLAIN = /[\\[\](){}*+?.^$]/;

/** ASCII letter pairs Oniguruma folds from one character to several (ß, ẞ → ss; ﬀ, ﬁ, ﬂ, ﬃ, ﬄ; ﬅ, ﬆ → st). */
const MULTI_CHARACTER_FOLDS = ['ss', 'ff', 'fi', 'fl', 'st'];

/** The class each ASCII letter with a non-ASCII case partner becomes (ſ U+017F folds to s, K U+212A to k). */
const WIDER: Readonly<Record<string, string>> = { s: '[sSſ]', k: '[kKK]' };

/**
 * `regex` with each `(?i:…)` group read as Oniguruma reads it (its s and k written as classes holding ſ and K, which
 * @huggingface/tokenizers leaves as written), or why it cannot be (a group of other than plain ASCII text, or holding a
 * pair of letters Oniguruma folds from one character); `regex` itself where it has no such group.
 */
export function onigurumaCaseFolds(regex: string): { regex: string } | { problem: string } {
  let out = '';
  let copied = 0; // regex before this index is in out
  for (const { at, inClass } of regexAtoms(regex)) {
    if (at < copied || inClass || !regex.startsWith('(?i:', at)) continue;
    const close = regex.indexOf(')', at + 4);
    const body = regex.slice(at + 4, close < 0 ? regex.length : close);
    const problem = groupProblem(body, close < 0 ? undefined : regex.slice(close, close + 1));
    if (problem) return { problem: `(?i:${body}${close < 0 ? '' : ')'} ${problem}` };
    out += `${regex.slice(copied, at)}(?i:${[...body].map((ch) => WIDER[ch.toLowerCase()] ?? ch).join('')})`;
    copied = close + 1;
  }
  return { regex: copied === 0 ? regex : out + regex.slice(copied) };
}

/** Why a `(?i:…)` group of `body` is not read as Oniguruma reads it; undefined where it is. */
function groupProblem(body: string, closing: string | undefined): string | undefined {
  if (closing === undefined || NOT_PLAIN.test(body)) return 'holds a class, escape, group or quantifier';
  const foreign = [...body].find((ch) => ch.codePointAt(0)! > 0x7f);
  if (foreign !== undefined) return `holds ${JSON.stringify(foreign)}, not ASCII`;
  const pair = body
    .toLowerCase()
    .split('|')
    .flatMap((alternative) => MULTI_CHARACTER_FOLDS.filter((p) => alternative.includes(p)))[0];
  return pair === undefined ? undefined : `holds '${pair}', which Oniguruma also matches as one character (ß, ﬁ, ﬆ, …)`;
}
