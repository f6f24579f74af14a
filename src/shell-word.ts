import { quotedText } from './errors.ts';

/**
 * `word` as one word of a shell command: as it is when plain, else quoted as every message quotes text (quotedText:
 * single quotes, a quote in it as '\''; $'…' with its control characters escaped where it holds one: $'3\n').
 */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : quotedText(word);
}
