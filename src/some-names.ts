/**
 * Names (or other texts) for a message: all of them when at most `max`, else the first `max` and how many more,
 * 'a, b, c, d, … (3 more)' (`separator` between them: '; ' where a text holds commas).
 */
export function someNames(names: readonly string[], max: number, separator = ', '): string {
  return names.length <= max ? names.join(separator) : `${names.slice(0, max).join(separator)}${separator}… (${names.length - max} more)`;
}
