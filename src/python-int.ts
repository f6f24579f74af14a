/**
 * Python's readings of text, for the files Python code writes and reads: a number written as text (GLUE labels, which
 * Hugging Face's GLUE loader reads by int() and float(); config.json's id2label keys, which transformers reads by int()),
 * and str.strip() (the MRPC rows GLUE's download script strips).
 */

/** str.isspace's characters but the ASCII separators U+001C to U+001F, as a character class's contents (not U+FEFF, which JS's trim takes). */
const SPACE = '\\t-\\r\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** A run of the characters of a class's `contents` at the start or at the end of a text. */
function atEitherEnd(contents: string): RegExp {
  return new RegExp(`^[${contents}]+|[${contents}]+$`, 'g');
}

/**
 * Whitespace as Python's int() and float() strip it from either end: str.isspace's but for the ASCII separators
 * U+001C to U+001F, which they take as ASCII and refuse (str.strip takes them).
 */
const PYTHON_SPACE = atEitherEnd(SPACE);

/** Python's int(): an optional sign, decimal digits (any Unicode Nd) with single underscores between them, whitespace at either end. */
const PYTHON_INT = /^[+-]?\p{Nd}+(_\p{Nd}+)*$/u;

/** Whitespace as Python's str.strip() takes it from either end (str.isspace's): int()'s and U+001C to U+001F. */
const STR_SPACE = atEitherEnd(`${SPACE}\\x1c-\\x1f`);

/** Python's `text.strip()`: without str.isspace's whitespace at either end (U+001C to U+001F and U+0085 too; not U+FEFF, which JS's trim() takes). */
export function pythonStrip(text: string): string {
  return text.replace(STR_SPACE, '');
}

/** A run of str.isspace's characters (U+001C to U+001F too). */
const STR_SPACE_RUN = new RegExp(`[${SPACE}\\x1c-\\x1f]+`);

/** Python's `text.split()`: the words between runs of str.isspace's whitespace, none empty (not U+FEFF, U+180E or U+200B). */
export function pythonSplit(text: string): string[] {
  return text.split(STR_SPACE_RUN).filter((word) => word !== '');
}

/** `text` without the whitespace Python's int() and float() take from either end (PYTHON_SPACE). */
function withoutPythonSpace(text: string): string {
  return text.replace(PYTHON_SPACE, '');
}

/**
 * `text` with each Unicode decimal digit (any Nd) written as the ASCII digit of its value, as Python's int() and float()
 * read them: each counts its value from the start of its run of digits, which Unicode encodes as 0 to 9 in a row.
 */
function asciiDigits(text: string): string {
  return text.replace(/\p{Nd}/gu, (c) => {
    let start = c.codePointAt(0)!;
    while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
    return String((c.codePointAt(0)! - start) % 10);
  });
}

/**
 * The whole number Python's int(field) gives ('1', ' 1', '+1', '01', '1_0', '１'), undefined where it raises.
 * (Beyond Number.MAX_SAFE_INTEGER, not exact: callers refuse such numbers.)
 */
export function pythonInt(field: string): number | undefined {
  const text = withoutPythonSpace(field);
  if (!PYTHON_INT.test(text)) return undefined;
  return Number(asciiDigits(text).replace(/_/g, '')) || 0; // (not -0)
}

/** Python's float() of a number written with ASCII digits: digits with single underscores between them, a point, an exponent. */
const PYTHON_FLOAT = /^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][+-]?\d(_?\d)*)?$/;

/** Python's float() of infinity or not-a-number, in any case. */
const PYTHON_FLOAT_WORD = /^([+-]?)(inf|infinity|nan)$/i;

/**
 * The number Python's float(field) gives ('3.8', ' 3.8', '1_0', '٣.٥', '1e500' as infinity, 'inf', '-Infinity',
 * 'nan'), undefined where it raises ('', '1__0', '0x1', '1,5').
 */
export function pythonFloat(field: string): number | undefined {
  const text = asciiDigits(withoutPythonSpace(field));
  const word = PYTHON_FLOAT_WORD.exec(text);
  if (word) return word[2]!.toLowerCase() === 'nan' ? Number.NaN : word[1] === '-' ? -Infinity : Infinity;
  return PYTHON_FLOAT.test(text) ? Number(text.replace(/_/g, '')) : undefined;
}
