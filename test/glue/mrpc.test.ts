import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMrpc } from '../../src/glue/download/mrpc.ts';
import { GLUE_SOURCES } from '../../src/glue/download/sources.ts';
import { GLUE_DIR, hasGlue } from '../helpers/paths.ts';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('formatMrpc', () => {
  it('builds test.tsv with a running index and splits train/dev by the dev ids', () => {
    const header = '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n';
    const train = header + '1\t10\t11\tA .\tB .\r\n0\t20\t21\tC .\tD . \r\n1\t30\t31\tE\tF\r\n';
    const test = header + '1\t40\t41\tG\tH\r\n0\t50\t51\tI\tJ\r\n';
    const built = formatMrpc(train, test, '20\t21\n');
    expect(built.dev).toBe('\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t20\t21\tC .\tD .\n');
    expect(built.train).toBe('\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t10\t11\tA .\tB .\n1\t30\t31\tE\tF\n');
    expect(built.test).toBe('index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t40\t41\tG\tH\n1\t50\t51\tI\tJ\n');
  });

  it("strips each row as download_glue_data.py's row.strip() does (U+001C to U+001F and U+0085 at either end, not a byte-order mark), where JS's trim() kept the first and took the second, so a dev id row ending in U+001F matched no pair", () => {
    const header = '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n';
    const built = formatMrpc(header + '1\t10\t11\tA .\tB .\x1c\r\n\ufeff0\t20\t21\tC\tD\x85\r\n', header, '20\t21\x1f\n');
    // (what Python 3.11 writes for these files)
    expect(built.dev).toBe('\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n\ufeff0\t20\t21\tC\tD\n');
    expect(built.train).toBe('\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t10\t11\tA .\tB .\n');
  });

  it('rejects a row without 5 fields, naming the file and line', () => {
    expect(() => formatMrpc('h\n1\t2\t3\n', 'h\n', '')).toThrow(/msr_paraphrase_train\.txt:2: expected 5 tab-separated fields, found 3/);
  });

  it.skipIf(!hasGlue)('rebuilds the checksum-verified GLUE MRPC files from the shared MSR files byte for byte (needs ../shared/glue)', () => {
    const read = (f: string) => readFileSync(join(GLUE_DIR, 'MRPC', f), 'utf8');
    const built = formatMrpc(read('msr_paraphrase_train.txt'), read('msr_paraphrase_test.txt'), read('dev_ids.tsv'));
    const outputs = GLUE_SOURCES.find((s) => s.folder === 'MRPC')!.outputs!;
    expect(sha256(built.train)).toBe(outputs['MRPC/train.tsv']);
    expect(sha256(built.dev)).toBe(outputs['MRPC/dev.tsv']);
    expect(sha256(built.test)).toBe(outputs['MRPC/test.tsv']);
    expect(built.dev).toBe(read('dev.tsv'));
  });
});
