/**
 * `(?i:…)` in a tokenizer.json regex (a Split's, a Replace's) as tokenizers' Oniguruma folds it, where
 * @huggingface/tokenizers (and so transformers.js) folds ASCII letters alone: Oniguruma folds every Unicode case pair
 * (é/É, σ/Σ/ς), ſ with s and K (Kelvin) with k, and multi-character folds (ß and ẞ with ss, ﬁ with fi, ﬆ with st, …).
 * A group of plain ASCII text (letters and other characters, alternatives split by `|`: GPT-4's `(?i:'s|'t|'re|…)`) is
 * read exactly by writing its s and k as classes that hold ſ and K (which it reads back as those letters: a folder
 * exported for transformers.js reads again), and one holding groups of plain text at any depth (case-sensitive ones,
 * `(?i:a(?-i:b))` as Oniguruma reads `(?i)a(?-i)b`, `(?i:k(?-i)(?i)'t)`; groups of alternatives, `(?i:'(?:s|t|re))`) as
 * its runs of text folded apart beside those groups (groupsFolded); any other group is refused in one line. The
 * isolated options `(?i)` and `(?-i)`, which @huggingface/tokenizers cannot compile, are read as the groups Oniguruma
 * reads them as (withOptionGroups), and `(?-i:…)` outside a case-insensitive group as the plain group it is there;
 * another option group (`(?m)`, `(?x)`, …) is refused in one line.
 */

import { quotedText } from '../errors.ts';
import { regexAtoms } from './regex-atoms.ts';

/** The characters of a group that make it other than plain text (classes, escapes, groups, quantifiers, anchors, dot). */
const NOT_PLAIN = /[\\[\](){}*+?.^$]/;

/** ASCII letter pairs Oniguruma folds from one character to several (ß, ẞ → ss; ﬀ, ﬁ, ﬂ, ﬃ, ﬄ; ﬅ, ﬆ → st). */
const MULTI_CHARACTER_FOLDS = ['ss', 'ff', 'fi', 'fl', 'st'];

/**
 * The class each ASCII letter with a non-ASCII case partner becomes (ſ U+017F folds to s, the Kelvin sign U+212A to k),
 * written as escapes: NFC, which editors and tools may apply, turns a written U+212A into K.
 */
const WIDER: Readonly<Record<string, string>> = { s: '[sS\u017F]', k: '[kK\u212A]' };

/**
 * The classes earlier versions wrote for a letter, which the folders they exported for transformers.js hold: k's as
 * [kKK] (stop 52 and before, whose Kelvin sign NFC had made a K), which Oniguruma folds as k within the group too.
 */
const WIDER_BEFORE: Readonly<Record<string, string>> = { k: '[kKK]' };

/**
 * `body` (a `(?i:…)` group's) with each class WIDER (or WIDER_BEFORE) writes as the letter it stands for, which
 * Oniguruma folds alike within the group: a regex onigurumaCaseFolds wrote (a folder exported for transformers.js, by
 * this version or an earlier one) reads again as written.
 */
const unwidened = (body: string): string =>
  [...Object.entries(WIDER), ...Object.entries(WIDER_BEFORE)].reduce((b, [letter, wide]) => b.replaceAll(wide, letter), body);

/** What a refused `(?i:…)` group is, after why (groupProblem). */
const FOLDS_PAST_ASCII =
  "tokenizers' Oniguruma folds case there past ASCII letters (é with É, ſ with s, ß with ss), @huggingface/tokenizers (transformers.js) does not";

/**
 * `written` with its option groups as withOptionGroups reads them and each `(?i:…)` group then read as Oniguruma reads
 * it (its s and k written as classes holding ſ and K, which @huggingface/tokenizers leaves as written), or why it
 * cannot be, in one line (a group of other than plain ASCII text, or holding a pair of letters Oniguruma folds from one
 * character; an option group withOptionGroups refuses); `written` itself where it has no such group.
 */
export function onigurumaCaseFolds(written: string): { regex: string } | { problem: string } {
  const options = withOptionGroups(written);
  if ('problem' in options) return options;
  const { regex } = options;
  let out = '';
  let copied = 0; // regex before this index is in out
  const atoms = regexAtoms(regex);
  for (const { at, inClass } of atoms) {
    if (at < copied || inClass || !regex.startsWith('(?i:', at)) continue;
    const close = closingParen(atoms, at);
    const body = regex.slice(at + 4, close < 0 ? regex.length : close);
    const refused = (problem: string) => ({
      problem: `(?i:${body}${close < 0 ? '' : ')'}${regex === written ? '' : " (as Oniguruma reads the regex's option groups)"} ${problem}: ${FOLDS_PAST_ASCII}`,
    });
    const widened = (plain: string) => `(?i:${[...plain].map((ch) => WIDER[ch.toLowerCase()] ?? ch).join('')})`;
    // (a body holding groups, `(?i:a(?-i:b))` as Oniguruma reads `(?i)a(?-i)b`, `(?i:'(?:s|t|re))`: each run of text
    // folded apart, the groups as plain groups around theirs, as @huggingface/tokenizers folds a group nested in
    // (?i:…) too; a plain group of no alternatives is its text, which Oniguruma joins to the text beside it, a
    // multi-character fold spanning it)
    const spliced = close < 0 ? body : withoutPlainGroups(body);
    if (close >= 0 && regexAtoms(spliced).some((a) => !a.inClass && a.atom === '(')) {
      const grouped = groupsFolded(spliced, true, (text) => widened(unwidened(text)));
      if ('problem' in grouped) return refused(grouped.problem);
      out += `${regex.slice(copied, at)}(?:${grouped.regex})`;
      copied = close + 1;
      continue;
    }
    const plain = unwidened(spliced);
    const problem = groupProblem(plain, close < 0 ? undefined : regex.slice(close, close + 1));
    if (problem) return refused(problem);
    out += `${regex.slice(copied, at)}${widened(plain)}`;
    copied = close + 1;
  }
  return { regex: copied === 0 ? regex : out + regex.slice(copied) };
}

/**
 * The index of the `)` that closes the group opened at `open` (`atoms` being its regex's: regexAtoms), past groups
 * nested in it, escaped parentheses and classes; -1 where none closes it.
 */
function closingParen(atoms: ReadonlyArray<{ at: number; atom: string; inClass: boolean }>, open: number): number {
  let depth = 0;
  for (const { at, atom, inClass } of atoms) {
    if (at <= open || inClass) continue;
    if (atom === '(') depth += 1;
    else if (atom === ')' && depth-- === 0) return at;
  }
  return -1;
}

/** Whether `atoms` (a regex's, outside classes) from index `from` to `end` hold a `|` outside the groups opened there. */
function alternates(atoms: ReadonlyArray<{ at: number; atom: string }>, from: number, end: number): boolean {
  let depth = 0;
  for (const { at, atom } of atoms) {
    if (at < from || at >= end) continue;
    if (atom === '(') depth += 1;
    else if (atom === ')') depth -= 1;
    else if (atom === '|' && depth === 0) return true;
  }
  return false;
}

/**
 * An Oniguruma option group's opening, outside a class: `(?`, the options it turns on, `-` and those it turns off,
 * then `)` (isolated: the options hold to the end of the group it is in) or `:` (for the group it opens).
 */
const OPTION_GROUP = /^\(\?([A-Za-z]*)(?:-([A-Za-z]*))?([:)])/;

/** The case setting of an option group's letters on and off (OPTION_GROUP's): `-i` off, `i` on, '' none (the last of i's settings holds, as in Oniguruma: `(?i-i)` is off). */
const caseSetting = (on: string, off: string | undefined): '-i' | 'i' | '' => (off?.includes('i') ? '-i' : on.includes('i') ? 'i' : '');

/**
 * `regex` with its isolated `(?i)` and `(?-i)` written as the groups Oniguruma reads them as, to the end of the group
 * each is in (`ab(?i)c|d` is `ab(?i:c|d)`, which @huggingface/tokenizers reads, where it cannot compile `(?i)`; one that
 * sets what holds there, `(?i)` within `(?i:…)`, as `(?:…)`, left out where that holds no alternative of its own), and
 * its option groups of i (`(?i:…)`, `(?-i:…)`, `(?ii:…)`, `(?i-i:…)`) as `(?i:…)` where they turn case folding on,
 * else, not within a case-insensitive group, as the plain group `(?:…)` they are there (one within such a group is
 * left as written, for the fold to refuse: its group holds a group); or, in one line, an option group setting another
 * option than i (`(?m)`, `(?x)`, `(?W)`, …, or `(?)`), which @huggingface/tokenizers cannot compile either. `regex`
 * itself where it has none.
 */
export function withOptionGroups(regex: string): { regex: string } | { problem: string } {
  let out = regex;
  // (the isolated options, first to last, each made a group to the end of the group it is in)
  for (let isolated = true; isolated; ) {
    isolated = false;
    const atoms = regexAtoms(out).filter((a) => !a.inClass);
    // (whether case folding holds in each group open at the atom, the regex's own first)
    const insensitive: boolean[] = [false];
    for (const { at, atom } of atoms) {
      if (atom === ')') {
        if (insensitive.length > 1) insensitive.pop();
        continue;
      }
      const m = atom === '(' ? OPTION_GROUP.exec(out.slice(at)) : null;
      const outer = insensitive.at(-1)!;
      if (!m || (m[1] === '' && m[2] === undefined && m[3] === ':')) {
        if (atom === '(') insensitive.push(outer);
        continue;
      }
      const [text, on, off, closing] = m as unknown as [string, string, string | undefined, string];
      if (/[^i]/.test(on + (off ?? '')) || (on === '' && off === undefined))
        return {
          problem: `${text} is an option group of Oniguruma that compress does not read (it reads (?i), (?-i), (?i:…) and (?-i:…) alone; @huggingface/tokenizers cannot compile it)`,
        };
      const setting = caseSetting(on, off);
      if (closing === ':') {
        insensitive.push(setting === 'i' || (setting === '' && outer));
        continue;
      }
      // (the `)` of the group it is in: the first after it that closes none opened after it)
      const groupEnd = closingParen(atoms, at + text.length - 1);
      const end = groupEnd < 0 ? out.length : groupEnd;
      // (one that sets what already holds, `(?i)` within a case-insensitive group, only groups what follows it, which
      // changes nothing where that holds no alternative of its own: left out)
      const same = (setting === 'i') === outer;
      if (same && !alternates(atoms, at + text.length, end)) out = out.slice(0, at) + out.slice(at + text.length);
      else out = `${out.slice(0, at)}(?${same ? '' : setting}:${out.slice(at + text.length, end)})${out.slice(end)}`;
      isolated = true;
      break;
    }
  }
  // (each option group of i written as (?i: or, outside a case-insensitive group, (?:)
  let written = '';
  let copied = 0;
  const insensitive: boolean[] = [false];
  for (const { at, atom, inClass } of regexAtoms(out)) {
    if (inClass || (atom !== '(' && atom !== ')')) continue;
    if (atom === ')') {
      if (insensitive.length > 1) insensitive.pop();
      continue;
    }
    const m = OPTION_GROUP.exec(out.slice(at));
    const outer = insensitive.at(-1)!;
    if (!m || (m[1] === '' && m[2] === undefined)) {
      insensitive.push(outer);
      continue;
    }
    const setting = caseSetting(m[1]!, m[2]);
    insensitive.push(setting === 'i' || (setting === '' && outer));
    const as = setting === 'i' ? '(?i:' : outer ? m[0] : '(?:';
    if (as === m[0]) continue;
    written += `${out.slice(copied, at)}${as}`;
    copied = at + m[0].length;
  }
  return { regex: copied === 0 ? out : written + out.slice(copied) };
}

/**
 * `body` (a group's) with each plain group of no alternatives of its own (`(?:ab)`, not `(?:a|b)`) written as its text,
 * which it is (a quantifier after one is refused with the text it stands beside): Oniguruma joins such a group's text
 * to the text beside it (`(?i:s(?:s))` matches ß as `(?i:ss)` does), and does not join a group of alternatives or an
 * option group (`(?i:s(?:s|x))`, `(?i:s(?i:s))` match no ß), checked against the tokenizers 0.23.2 node binding.
 */
function withoutPlainGroups(body: string): string {
  for (;;) {
    const atoms = regexAtoms(body).filter((a) => !a.inClass);
    const joined = atoms.find(({ at, atom }) => {
      const end = atom === '(' && body.startsWith('(?:', at) ? closingParen(atoms, at) : -1;
      return end >= 0 && !alternates(atoms, at + 3, end);
    });
    if (!joined) return body;
    const end = closingParen(atoms, joined.at);
    body = `${body.slice(0, joined.at)}${body.slice(joined.at + 3, end)}${body.slice(end + 1)}`;
  }
}

/** A quantifier (and its lazy or possessive mark) at the start of a text. */
const LEADING_QUANTIFIER = /^(?:[*+?]|\{\d*,?\d*\})[?+]?/;

/** Why a `(?i:…)` group holding a group of another kind than those groupsFolded reads is refused. */
const OTHER_GROUP = 'holds a class, escape, group or quantifier';

/**
 * `body` (a `(?i:…)` group's as withoutPlainGroups leaves it, or a group's in it; `insensitive` where case folding
 * holds there) written with each run of text where case folding holds as `folded` writes it (checked: groupProblem),
 * each other run as written (plain text), its alternatives as written and each group in it (of alternatives, `(?:a|b)`,
 * or of i on or off, `(?i:…)`, `(?-i:…)`) as a plain group of its own body so written; or why not, in a few words
 * (another group: capturing, a look-around; a class, escape or quantifier).
 */
function groupsFolded(body: string, insensitive: boolean, folded: (text: string) => string, checked = true): { regex: string } | { problem: string } {
  const atoms = regexAtoms(body).filter((a) => !a.inClass);
  let out = '';
  let from = 0; // (body before this index is written)
  const run = (end: number): string | undefined => {
    let text = body.slice(from, end);
    if (!checked) {
      // (unchecked, a quantifier after a group quantifies the group: written after it as it is)
      const quantifier = LEADING_QUANTIFIER.exec(text)?.[0] ?? '';
      out += quantifier;
      text = text.slice(quantifier.length);
      if (text !== '') out += insensitive ? folded(text) : text;
      return undefined;
    }
    if (text === '') return undefined;
    const problem = insensitive ? groupProblem(unwidened(text), ')') : NOT_PLAIN.test(text) ? OTHER_GROUP : undefined;
    if (problem === undefined) out += insensitive ? folded(text) : text;
    return problem;
  };
  for (const { at, atom } of atoms) {
    if (at < from || (atom !== '|' && atom !== '(' && atom !== ')')) continue;
    const problem = run(at);
    if (problem) return { problem };
    if (atom === '|') {
      out += '|';
      from = at + 1;
      continue;
    }
    const m = atom === '(' ? OPTION_GROUP.exec(body.slice(at)) : null;
    const end = m?.[3] === ':' ? closingParen(atoms, at) : -1;
    if (!m || end < 0) return { problem: OTHER_GROUP };
    const setting = caseSetting(m[1]!, m[2]);
    const inner = groupsFolded(body.slice(at + m[0].length, end), setting === 'i' || (setting === '' && insensitive), folded, checked);
    if ('problem' in inner) return inner;
    out += `(?:${inner.regex})`;
    from = end + 1;
  }
  const problem = run(body.length);
  return problem ? { problem } : { regex: out };
}

/**
 * `regex` (as withOptionGroups writes it) with each `(?i:…)` group that holds option groups at any depth (case-sensitive
 * ones, `(?i:a(?-i:b))` as Oniguruma reads `(?i)a(?-i)b`, and groups of i within them) written as its runs apart, each
 * where case folding holds as `(?i:…)` (groupsFolded, unchecked: `(?:(?i:a)(?:b))`), its text as written, which
 * @huggingface/tokenizers compiles where it cannot compile an option group within `(?i:…)`: a decoder's Replace, whose
 * `(?i:…)` is left to the library otherwise (the text decoded is no id). `regex` itself where it holds none.
 */
export function withSensitiveGroupsApart(regex: string): string {
  let out = '';
  let copied = 0;
  const atoms = regexAtoms(regex);
  for (const { at, inClass } of atoms) {
    if (at < copied || inClass || !regex.startsWith('(?i:', at)) continue;
    const close = closingParen(atoms, at);
    const body = close < 0 ? '' : regex.slice(at + 4, close);
    const optionGroups = regexAtoms(body).some(({ at: i, atom, inClass: within }) => {
      const m = !within && atom === '(' ? OPTION_GROUP.exec(body.slice(i)) : null;
      return m !== null && (m[1] !== '' || m[2] !== undefined);
    });
    const grouped = optionGroups ? groupsFolded(body, true, (text) => `(?i:${text})`, false) : undefined;
    if (!grouped || 'problem' in grouped) continue;
    out += `${regex.slice(copied, at)}(?:${grouped.regex})`;
    copied = close + 1;
  }
  return copied === 0 ? regex : out + regex.slice(copied);
}

/** Why a `(?i:…)` group of `body` is not read as Oniguruma reads it; undefined where it is. */
function groupProblem(body: string, closing: string | undefined): string | undefined {
  if (closing === undefined || NOT_PLAIN.test(body)) return 'holds a class, escape, group or quantifier';
  const foreign = [...body].find((ch) => ch.codePointAt(0)! > 0x7f);
  if (foreign !== undefined) return `holds ${quotedText(foreign)}, not ASCII`;
  const pair = body
    .toLowerCase()
    .split('|')
    .flatMap((alternative) => MULTI_CHARACTER_FOLDS.filter((p) => alternative.includes(p)))[0];
  return pair === undefined ? undefined : `holds '${pair}', which Oniguruma also matches as one character (ß, ﬁ, ﬆ, …)`;
}
