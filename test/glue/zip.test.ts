import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { extractZip } from '../../src/glue/download/zip.ts';
import { buildZip, type ZipInput } from '../helpers/glue-zip.ts';

function zipFile(entries: ZipInput[]): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'zip-'));
  const file = join(dir, 'a.zip');
  writeFileSync(file, buildZip(entries));
  return { file, dir: join(dir, 'out') };
}

describe('zip extraction (yauzl)', () => {
  it('extracts stored and deflated entries, skipping folders and __MACOSX', async () => {
    const big = 'index\tsentence\n' + Array.from({ length: 2000 }, (_, i) => `${i}\tsentence number ${i}`).join('\n') + '\n';
    const { file, dir } = zipFile([
      { name: 'RTE/', data: '', stored: true },
      { name: 'RTE/dev.tsv', data: big },
      { name: 'RTE/readme.txt', data: 'hello', stored: true },
      { name: '__MACOSX/RTE/._dev.tsv', data: 'junk' },
    ]);
    const written = await extractZip(file, dir);
    expect(written).toEqual([join(dir, 'RTE/dev.tsv'), join(dir, 'RTE/readme.txt')]);
    expect(readFileSync(join(dir, 'RTE/dev.tsv'), 'utf8')).toBe(big);
    expect(readFileSync(join(dir, 'RTE/readme.txt'), 'utf8')).toBe('hello');
    expect(existsSync(join(dir, '__MACOSX'))).toBe(false);
  });

  it.each([['../evil.txt'], ['RTE/../../evil.txt'], ['/tmp/evil.txt'], ['RTE\\..\\..\\evil.txt']])('refuses the zip-slip entry %s', async (name) => {
    const { file, dir } = zipFile([{ name, data: 'x' }]);
    await expect(extractZip(file, dir)).rejects.toThrow(/refused an entry that would be written outside the folder/);
    expect(existsSync(join(dir, '..', 'evil.txt'))).toBe(false);
    expect(existsSync(join(dir, '..', '..', 'evil.txt'))).toBe(false);
  });

  it('detects a corrupt entry by its CRC-32', async () => {
    const { file, dir } = zipFile([{ name: 'WNLI/dev.tsv', data: 'a\tb\n', badCrc: true }]);
    await expect(extractZip(file, dir)).rejects.toThrow(DataError);
    await expect(extractZip(file, dir)).rejects.toThrow(/WNLI\/dev\.tsv is corrupt \(CRC-32 mismatch\)/);
  });

  it('rejects a file that is not a zip, and a truncated zip, with one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zip-'));
    writeFileSync(join(dir, 'x.zip'), 'not a zip at all, just text that is long enough to scan');
    await expect(extractZip(join(dir, 'x.zip'), join(dir, 'out'))).rejects.toThrow(/x\.zip: not a readable ZIP archive/);
    const good = buildZip([{ name: 'CoLA/dev.tsv', data: 'a\tb\n'.repeat(100) }]);
    writeFileSync(join(dir, 't.zip'), good.subarray(0, good.length - 30));
    await expect(extractZip(join(dir, 't.zip'), join(dir, 'out'))).rejects.toThrow(/t\.zip: not a readable ZIP archive/);
    expect(readdirSync(dir).sort()).toEqual(['t.zip', 'x.zip']);
  });
});
