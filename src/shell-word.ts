/** `word` as one word of a shell command: as it is when plain, else single-quoted (a quote in it as '\''). */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
