import { visibleText } from './errors.ts';

/**
 * `word` as one word of a shell command: as it is when plain, else single-quoted (a quote in it as '\''); a word
 * holding a character that shows as nothing or ends the line (a line break, a tab, a zero-width space) in bash's
 * $'…' quotes, those characters escaped as visibleText writes them ($'3\n'), so that the command stays one line.
 */
export function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  const quoted = word.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const visible = visibleText(quoted);
  return visible === quoted ? `'${word.replace(/'/g, `'\\''`)}'` : `$'${visible}'`;
}
