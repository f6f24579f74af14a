/** A tokenizer.json regex (Oniguruma syntax) read atom by atom, as the eval code's regex checks and rewrites read it. */

/**
 * `regex` (Oniguruma) as its atoms, in order, each with its index and whether it is within a character class: a
 * two-character escape (the rest of a longer one, `\\p{L}`, atoms of its own), a class's opening (`[`, `[^`, with a
 * `]` first in it, which is a character there; within a class, one nested), a POSIX bracket within a class
 * (`[:alpha:]`), any other character.
 */
export function regexAtoms(regex: string): Array<{ at: number; atom: string; inClass: boolean }> {
  const atoms: Array<{ at: number; atom: string; inClass: boolean }> = [];
  let depth = 0;
  for (let i = 0; i < regex.length; ) {
    const c = regex[i]!;
    const inClass = depth > 0;
    let atom = c === '\\' ? regex.slice(i, i + 2) : c;
    if (c === '[') {
      const posix = inClass ? /^\[:\^?[A-Za-z]+:\]/.exec(regex.slice(i)) : null;
      if (posix) atom = posix[0];
      else {
        atom = /^\[\^?\]?/.exec(regex.slice(i))?.[0] ?? '[';
        depth += 1;
      }
    } else if (c === ']' && inClass) depth -= 1;
    atoms.push({ at: i, atom, inClass });
    i += atom.length;
  }
  return atoms;
}
