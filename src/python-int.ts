/**
 * Python's readings of a number written as text, for the files Python code writes and reads (GLUE labels, which
 * Hugging Face's GLUE loader reads by int() and float(); config.json's id2label keys, which transformers reads by int()).
 */

/**
 * Whitespace as Python's int() and float() strip it from either end: str.isspace's but for the ASCII separators
 * U+001C to U+001F, which they take as ASCII and refuse (str.strip takes them), and not U+FEFF, as JS's trim takes.
 */
const PYTHON_SPACE =
  /^[\t-\r\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t-\r\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Python's int(): an optional sign, decimal digits (any Unicode Nd) with single underscores between them, whitespace at either end. */
const PYTHON_INT = /^[+-]?\p{Nd}+(_\p{Nd}+)*$/u;

/** `text` without the whitespace Python's int() and float() take from either end (PYTHON_SPACE). */
export function withoutPythonSpace(text: string): string {
  return text.replace(PYTHON_SPACE, '');
}

/**
 * The whole number Python's int(field) gives ('1', ' 1', '+1', '01', '1_0', '１'), undefined where it raises. Each Unicode
 * decimal digit counts its value from the start of its run of digits, which Unicode encodes as 0 to 9 in a row.
 * (Beyond Number.MAX_SAFE_INTEGER, not exact: callers refuse such numbers.)
 */
export function pythonInt(field: string): number | undefined {
  const text = withoutPythonSpace(field);
  if (!PYTHON_INT.test(text)) return undefined;
  let value = 0;
  for (const c of text.replace(/^[+-]/, '').replace(/_/g, '')) {
    let start = c.codePointAt(0)!;
    while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
    value = value * 10 + ((c.codePointAt(0)! - start) % 10);
  }
  return text.startsWith('-') && value !== 0 ? -value : value; // (not -0)
}
