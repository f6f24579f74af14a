import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { extractZip, readZipEntries } from '../../src/glue/download/zip.ts';
import { buildZip, type ZipInput } from '../helpers/glue-zip.ts';

function zipFile(entries: ZipInput[]): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'zip-'));
  const file = join(dir, 'a.zip');
  writeFileSync(file, buildZip(entries));
  return { file, dir: join(dir, 'out') };
}

describe('zip extraction', () => {
  it('lists and extracts stored and deflated entries, skipping folders and __MACOSX', async () => {
    const big = 'index\tsentence\n' + Array.from({ length: 2000 }, (_, i) => `${i}\tsentence number ${i}`).join('\n') + '\n';
    const { file, dir } = zipFile([
      { name: 'RTE/', data: '', stored: true },
      { name: 'RTE/dev.tsv', data: big },
      { name: 'RTE/readme.txt', data: 'hello', stored: true },
      { name: '__MACOSX/RTE/._dev.tsv', data: 'junk' },
    ]);
    expect(readZipEntries(file).map((e) => e.name)).toEqual(['RTE/', 'RTE/dev.tsv', 'RTE/readme.txt', '__MACOSX/RTE/._dev.tsv']);
    const written = await extractZip(file, dir);
    expect(written).toEqual([join(dir, 'RTE/dev.tsv'), join(dir, 'RTE/readme.txt')]);
    expect(readFileSync(join(dir, 'RTE/dev.tsv'), 'utf8')).toBe(big);
    expect(readFileSync(join(dir, 'RTE/readme.txt'), 'utf8')).toBe('hello');
    expect(existsSync(join(dir, '__MACOSX'))).toBe(false);
    expect(readdirSync(join(dir, 'RTE')).some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('refuses entries that escape the target folder', async () => {
    const { file, dir } = zipFile([{ name: '../evil.txt', data: 'x' }]);
    await expect(extractZip(file, dir)).rejects.toThrow(/would be written outside/);
  });

  it('detects a corrupt entry by its CRC and leaves no file behind', async () => {
    const { file, dir } = zipFile([{ name: 'WNLI/dev.tsv', data: 'a\tb\n', badCrc: true }]);
    await expect(extractZip(file, dir)).rejects.toThrow(DataError);
    expect(existsSync(join(dir, 'WNLI/dev.tsv'))).toBe(false);
  });

  it('rejects a file that is not a zip', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zip-'));
    writeFileSync(join(dir, 'x.zip'), 'not a zip at all, just text that is long enough to scan');
    expect(() => readZipEntries(join(dir, 'x.zip'))).toThrow(/not a ZIP archive/);
  });
});
