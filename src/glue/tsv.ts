/**
 * Reading GLUE's tab-separated files exactly as the official loaders do: lines end at '\n', '\r\n' or a lone '\r' (as
 * Python's csv module and text mode read them: a file saved with old Mac line ends is lines, not one long line), fields
 * split on '\t' with no quote handling (GLUE text holds stray `"` characters that a CSV reader would swallow), a UTF-8
 * byte-order mark stripped (MRPC dev/train begin with one) and a missing final newline accepted (CoLA dev and the
 * diagnostic set end without one). Files must be valid UTF-8.
 */
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { DataError, quotedText } from '../errors.ts';
import { withoutBom } from '../files.ts';

/** A parsed TSV file: column names and the rows, each with its 1-based line number in the file. */
export interface TsvTable {
  /** The path the table was read from, used in error messages. */
  readonly file: string;
  /** Column names: the header line, or the names given for a headerless file. */
  readonly columns: readonly string[];
  /** Whether `columns` came from a header line in the file. */
  readonly hasHeader: boolean;
  readonly rows: readonly TsvRow[];
}

export interface TsvRow {
  /** 1-based line number in the file (the header is line 1 when there is one). */
  readonly line: number;
  readonly fields: readonly string[];
}

export interface TsvParseOptions {
  /**
   * Names for the columns of a file without a header line (CoLA train/dev), by position. When absent the first
   * line is the header.
   */
  headerlessColumns?: readonly string[];
}

/**
 * A line end as Python's csv module (and text mode's universal newlines) reads one: '\r\n', '\n' or a lone '\r'; and
 * '\r\r\n' (any run of '\r' before a '\n'), a CRLF file's line end converted to CRLF again (Python's csv.writer writing
 * '\r\n' to a file opened in text mode on Windows, git's autocrlf), which Python reads as a line end and an empty line
 * that csv.DictReader (Hugging Face's GLUE loader) skips: one line end here, where each row was refused as followed by
 * an empty line.
 */
const LINE_END = /\r+\n|\r|\n/;

/** Splits text into lines as the official loaders read GLUE files: LINE_END's line ends, an optional final one. */
export function splitLines(text: string): string[] {
  const body = withoutBom(text);
  if (body.length === 0) return [];
  const lines = body.split(LINE_END);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Parses TSV text. Every row must have exactly as many fields as there are columns, and no blank line may stand
 * between rows; otherwise a DataError names `file:line`. Blank lines at the end are ignored.
 */
export function parseTsv(text: string, file: string, opts: TsvParseOptions = {}): TsvTable {
  const lines = splitLines(text);
  // Blank lines after the last row (an editor's extra newline) hold nothing: dropped, as csv.DictReader (Hugging Face's
  // GLUE loader) skips them. A blank line between rows is refused below: it may stand for a lost example.
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let columns: readonly string[];
  let first = 0;
  if (opts.headerlessColumns) {
    columns = opts.headerlessColumns;
  } else {
    if (lines.length === 0) throw new DataError(`${file}: empty file, expected a header line`);
    columns = lines[0]!.split('\t');
    first = 1;
  }
  const rows: TsvRow[] = [];
  for (let i = first; i < lines.length; i++) {
    if (lines[i] === '')
      throw new DataError(`${file}:${i + 1}: empty line between rows (expected ${columns.length} tab-separated fields: ${columns.join(', ')})`);
    const fields = lines[i]!.split('\t');
    if (fields.length !== columns.length) {
      throw new DataError(`${file}:${i + 1}: expected ${columns.length} tab-separated fields (${columns.join(', ')}), found ${fields.length}`);
    }
    rows.push({ line: i + 1, fields });
  }
  return { file, columns, hasHeader: !opts.headerlessColumns, rows };
}

/** Reads and parses a TSV file; a missing or unreadable file is a DataError naming it. */
export function readTsv(file: string, opts: TsvParseOptions = {}): TsvTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? e})`;
    throw new DataError(`${file}: ${why}`, { cause: e });
  }
  return parseTsv(decodeUtf8(bytes, file), file, opts);
}

/**
 * The text of UTF-8 bytes; a DataError naming the first line with an invalid byte sequence (a decoder that
 * replaces them would silently change the examples).
 */
export function decodeUtf8(bytes: Buffer, file: string): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let start = 0;
  for (let line = 1; ; line++) {
    // (the next line end, as splitLines ends lines (LINE_END: '\n', '\r\n', '\r\r\n' or a lone '\r'); bytes 0x0a and
    // 0x0d are never inside a UTF-8 sequence)
    let end = start;
    while (end < bytes.length && bytes[end] !== 0x0a && bytes[end] !== 0x0d) end++;
    if (!isUtf8(bytes.subarray(start, end))) throw new DataError(`${file}:${line}: not valid UTF-8 text`);
    if (end >= bytes.length) throw new DataError(`${file}: not valid UTF-8 text`);
    let after = end;
    while (bytes[after] === 0x0d) after++;
    start = bytes[after] === 0x0a ? after + 1 : end + 1;
  }
}

/**
 * Returns the position of a column by header name; a missing column is a DataError that names the file and lists
 * the columns it has.
 */
export function columnIndex(table: TsvTable, name: string): number {
  const i = table.columns.indexOf(name);
  if (i < 0) {
    throw new DataError(`${table.file}:1: missing column ${quotedText(name)} (the file has: ${table.columns.map(quotedText).join(', ')})`);
  }
  return i;
}
