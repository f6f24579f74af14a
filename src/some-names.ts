/** Names for a message: all of them when at most `max`, else the first `max` and how many more ('a, b, c and 2 more'). */
export function someNames(names: readonly string[], max: number): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
