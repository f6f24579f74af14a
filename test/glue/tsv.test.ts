import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { columnIndex, decodeUtf8, parseTsv, splitLines } from '../../src/glue/tsv.ts';

describe('splitLines', () => {
  it('strips a UTF-8 BOM (MRPC dev/train begin with one)', () => {
    const t = parseTsv('\ufeffQuality\t#1 ID\n1\t42\n', 'MRPC/dev.tsv');
    expect(t.columns).toEqual(['Quality', '#1 ID']);
    expect(columnIndex(t, 'Quality')).toBe(0);
  });

  it('accepts a missing final newline (CoLA dev, diagnostic)', () => {
    expect(splitLines('a\tb\nc\td')).toEqual(['a\tb', 'c\td']);
    expect(splitLines('a\tb\nc\td\n')).toEqual(['a\tb', 'c\td']);
  });

  it('drops a trailing \\r of CRLF line ends', () => {
    expect(splitLines('a\tb\r\nc\td\r\n')).toEqual(['a\tb', 'c\td']);
  });

  it("ends lines at a lone \\r too (old Mac line ends), as Python's csv module and text mode read GLUE files", () => {
    expect(splitLines('a\tb\rc\td\r')).toEqual(['a\tb', 'c\td']);
    expect(splitLines('\ufeffa\tb\rc\td\r\ne\tf\ng\th')).toEqual(['a\tb', 'c\td', 'e\tf', 'g\th']);
    const t = parseTsv('sentence\tlabel\rgood movie\t1\rbad movie\t0\r', 'SST-2/dev.tsv');
    expect(t.rows.map((r) => [r.line, ...r.fields])).toEqual([
      [2, 'good movie', '1'],
      [3, 'bad movie', '0'],
    ]);
  });

  it('names the line of invalid UTF-8 counting lone \\r line ends as splitLines does', () => {
    const bytes = Buffer.concat([Buffer.from('sentence\tlabel\rgood\t1\r\nbad '), Buffer.from([0xc3, 0x28]), Buffer.from('\t0\r')]);
    expect(() => decodeUtf8(bytes, 'SST-2/dev.tsv')).toThrow(/^SST-2\/dev\.tsv:3: not valid UTF-8 text$/);
  });

  it("reads '\\r\\r\\n' (a CRLF file converted to CRLF again) as one line end, where each row was refused as followed by an empty line, which Hugging Face's csv.DictReader skips", () => {
    const t = parseTsv('sentence\tlabel\r\r\ngood movie\t1\r\r\nbad movie\t0\r\r\r\n', 'SST-2/dev.tsv');
    expect(t.rows.map((r) => [r.line, ...r.fields])).toEqual([
      [2, 'good movie', '1'],
      [3, 'bad movie', '0'],
    ]);
    // (lone '\r' line ends stay line ends: two of them are an empty line)
    expect(splitLines('a\r\rb')).toEqual(['a', '', 'b']);
    // (an invalid byte's line is counted so)
    const bytes = Buffer.concat([Buffer.from('sentence\tlabel\r\r\ngood\t1\r\r\nbad '), Buffer.from([0xc3, 0x28]), Buffer.from('\t0\r\r\n')]);
    expect(() => decodeUtf8(bytes, 'SST-2/dev.tsv')).toThrow(/^SST-2\/dev\.tsv:3: not valid UTF-8 text$/);
  });

  it('gives no lines for an empty file', () => {
    expect(splitLines('')).toEqual([]);
  });
});

describe('parseTsv', () => {
  it('reads a headerless file with the given column names (CoLA)', () => {
    const t = parseTsv('gj04\t1\t\tThe sailors rode the breeze clear of the rocks.\ngj04\t0\t*\tThe more.', 'CoLA/dev.tsv', {
      headerlessColumns: ['source', 'label', 'original_label', 'sentence'],
    });
    expect(t.hasHeader).toBe(false);
    expect(t.rows).toHaveLength(2);
    expect(t.rows[0]!.line).toBe(1);
    expect(t.rows[1]!.fields[columnIndex(t, 'sentence')]).toBe('The more.');
  });

  it('keeps quote characters and trailing spaces as they are (no CSV quoting)', () => {
    const text = 'index\tquestion\tsentence\n0\tWhy?\t"quiescent" stance\n1\tA "b\tc" d \n';
    const t = parseTsv(text, 'QNLI/dev.tsv');
    expect(t.rows[0]!.fields[2]).toBe('"quiescent" stance');
    expect(t.rows[1]!.fields).toEqual(['1', 'A "b', 'c" d ']);
  });

  it('numbers rows by file line (header is line 1)', () => {
    const t = parseTsv('a\tb\nx\ty\nz\tw\n', 'f.tsv');
    expect(t.rows.map((r) => r.line)).toEqual([2, 3]);
  });

  it('rejects a row with the wrong number of fields, naming file:line', () => {
    expect(() => parseTsv('sentence\tlabel\ngood movie\t1\nbad\tmovie\t0\n', 'SST-2/dev.tsv')).toThrow(DataError);
    expect(() => parseTsv('sentence\tlabel\ngood movie\t1\nbad\tmovie\t0\n', 'SST-2/dev.tsv')).toThrow(
      /^SST-2\/dev\.tsv:3: expected 2 tab-separated fields .* found 3$/,
    );
  });

  it('rejects an empty line in the middle, saying so', () => {
    expect(() => parseTsv('a\tb\nx\ty\n\nz\tw\n', 'f.tsv')).toThrow(/^f\.tsv:3: empty line between rows \(expected 2 tab-separated fields: a, b\)$/);
    expect(() => parseTsv('a\tb\r\nx\ty\r\n\r\nz\tw\r\n', 'f.tsv')).toThrow(/^f\.tsv:3: empty line between rows/);
  });

  it("ignores blank lines after the last row (an editor's extra newline), as Hugging Face's csv.DictReader does", () => {
    expect(parseTsv('a\tb\nx\ty\n\n\r\n', 'f.tsv').rows.map((r) => r.fields)).toEqual([['x', 'y']]);
    expect(parseTsv('x\ty\n\n', 'f.tsv', { headerlessColumns: ['a', 'b'] }).rows).toHaveLength(1);
  });

  it('names the file and its columns when a column is missing', () => {
    const t = parseTsv('sentence\tlabel\nx\t1\n', 'SST-2/dev.tsv');
    expect(() => columnIndex(t, 'sentence1')).toThrow(/SST-2\/dev\.tsv:1: missing column 'sentence1' \(the file has: 'sentence', 'label'\)/);
  });
});
