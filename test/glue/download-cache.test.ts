/** `data download` never trusts its cache folder: cached files are checked, installs are staged, failures deleted. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { downloadGlue } from '../../src/glue/download/download.ts';
import type { TaskSource } from '../../src/glue/download/sources.ts';
import { serveFiles, type FileServer } from '../helpers/glue-server.ts';
import { buildZip } from '../helpers/glue-zip.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const tmp = () => mkdtempSync(join(tmpdir(), 'glue-cache-'));
const DEV = 'index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n1\tC.\tD.\t0\n';
const good = buildZip([
  { name: 'WNLI/dev.tsv', data: DEV },
  { name: 'WNLI/train.tsv', data: DEV },
]);
const wnli = (zip: Buffer): TaskSource[] => [
  { folder: 'WNLI', kind: 'zip', files: [{ name: 'WNLI.zip', url: 'https://unused.invalid/WNLI.zip', sha256: sha256(zip) }], marker: 'WNLI/dev.tsv' },
];

let server: FileServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('data download with a hostile cache folder', () => {
  it('does not install a crafted archive found in the cache: it fails the checksum, is deleted and fetched again', async () => {
    server = await serveFiles({ 'WNLI.zip': good });
    const dir = tmp();
    mkdirSync(join(dir, '.downloads'));
    writeFileSync(join(dir, '.downloads', 'WNLI.zip'), buildZip([{ name: 'WNLI/dev.tsv', data: 'index\tsentence1\tsentence2\tlabel\n0\tX.\tY.\t1\n' }]));
    const log: string[] = [];
    await downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources: wnli(good), log: (l) => log.push(l) });
    expect(readFileSync(join(dir, 'WNLI/dev.tsv'), 'utf8')).toBe(DEV);
    expect(log.some((l) => /WNLI\.zip: the cached copy does not match its sha256; removed/.test(l))).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(['WNLI.zip']);
  });

  it('a folder where the cached archive or its .part belongs is removed and the file fetched; a .downloads that is a file is refused in one line', async () => {
    server = await serveFiles({ 'WNLI.zip': good });
    for (const name of ['WNLI.zip', 'WNLI.zip.part']) {
      const dir = tmp();
      mkdirSync(join(dir, '.downloads', name, 'inside'), { recursive: true });
      const done = await downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources: wnli(good) });
      expect(done[0]!.status).toBe('installed');
      expect(readFileSync(join(dir, 'WNLI/dev.tsv'), 'utf8')).toBe(DEV);
      expect(existsSync(join(dir, '.downloads'))).toBe(false);
    }
    // a .part that is a link: removed, not appended to (the file it leads to is left as it was)
    const linked = tmp();
    const outside = join(tmp(), 'outside.txt');
    writeFileSync(outside, 'keep');
    mkdirSync(join(linked, '.downloads'));
    symlinkSync(outside, join(linked, '.downloads', 'WNLI.zip.part'));
    await downloadGlue({ tasks: ['wnli'], dir: linked, baseUrl: server.baseUrl, sources: wnli(good) });
    expect(readFileSync(join(linked, 'WNLI/dev.tsv'), 'utf8')).toBe(DEV);
    expect(readFileSync(outside, 'utf8')).toBe('keep');
    const dir = tmp();
    writeFileSync(join(dir, '.downloads'), 'not a folder');
    await expect(downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources: wnli(good) })).rejects.toThrow(
      new DataError(`--dir ${dir}: ${join(dir, '.downloads')} (the download cache) is a file, not a folder; remove it`),
    );
    expect(readdirSync(dir).sort()).toEqual(['.downloads']);
  });

  it('recovers from a garbage cached archive, with or without --force', async () => {
    server = await serveFiles({ 'WNLI.zip': good });
    for (const force of [false, true]) {
      const dir = tmp();
      mkdirSync(join(dir, '.downloads'));
      writeFileSync(join(dir, '.downloads', 'WNLI.zip'), 'garbage, not a zip');
      const done = await downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources: wnli(good), force });
      expect(done[0]!.status).toBe('installed');
      expect(readFileSync(join(dir, 'WNLI/dev.tsv'), 'utf8')).toBe(DEV);
    }
  });

  it('a refused zip-slip entry leaves nothing extracted, deletes the archive, and the next run does not say "already present"', async () => {
    const evil = buildZip([
      { name: 'WNLI/train.tsv', data: DEV },
      { name: 'WNLI/dev.tsv', data: DEV },
      { name: 'WNLI/../../evil.txt', data: 'x' },
    ]);
    server = await serveFiles({ 'WNLI.zip': evil });
    const root = tmp();
    const dir = join(root, 'glue');
    for (let run = 0; run < 2; run++) {
      await expect(downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources: wnli(evil) })).rejects.toThrow(
        /refused an entry that would be written outside the folder/,
      );
      expect(readdirSync(dir)).toEqual([]);
      expect(existsSync(join(root, 'evil.txt'))).toBe(false);
    }
    expect(server.requests).toHaveLength(2);
  });

  it('installs nothing when the archive lacks the marker file', async () => {
    const partial = buildZip([{ name: 'WNLI/train.tsv', data: DEV }]);
    server = await serveFiles({ 'WNLI.zip': partial });
    const dir = tmp();
    await expect(downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources: wnli(partial) })).rejects.toThrow(
      /WNLI: the download has no WNLI\/dev\.tsv/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a --dir that is a file, before downloading', async () => {
    server = await serveFiles({ 'WNLI.zip': good });
    const file = join(tmp(), 'glue');
    writeFileSync(file, 'x');
    await expect(downloadGlue({ tasks: ['wnli'], dir: file, baseUrl: server.baseUrl, sources: wnli(good) })).rejects.toThrow(
      /--dir .*glue: .*glue is a file, not a folder/,
    );
    expect(server.requests).toHaveLength(0);
  });
});
