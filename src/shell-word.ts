import { oneLine } from './errors.ts';

/**
 * `word` as one word of a shell command: as it is when plain, else single-quoted (a quote in it as '\''); a word
 * holding a control character (a line break, a tab) in bash's $'…' quotes, those characters escaped as oneLine escapes
 * them in every message ($'3\n', $'\x09x'), so that the command stays one line.
 */
export function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  const quoted = word.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const escaped = oneLine(quoted);
  return escaped === quoted ? `'${word.replace(/'/g, `'\\''`)}'` : `$'${escaped}'`;
}
