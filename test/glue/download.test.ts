import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError, SettingsError } from '../../src/errors.ts';
import { downloadGlue, fileUrl, selectSources } from '../../src/glue/download/download.ts';
import { downloadVerified } from '../../src/glue/download/http-file.ts';
import { GLUE_SOURCES, type TaskSource } from '../../src/glue/download/sources.ts';
import { GLUE_DIR, hasGlue } from '../helpers/paths.ts';
import { serveFiles, type FileServer } from '../helpers/glue-server.ts';
import { buildZip } from '../helpers/glue-zip.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const tmp = () => mkdtempSync(join(tmpdir(), 'glue-dl-'));

let server: FileServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('downloadVerified', () => {
  const payload = Buffer.from(Array.from({ length: 50_000 }, (_, i) => `line ${i}\n`).join(''));

  it('downloads and checks the sha256', async () => {
    server = await serveFiles({ 'f.txt': payload });
    const dest = join(tmp(), 'f.txt');
    await downloadVerified(`${server.baseUrl}/f.txt`, dest, { sha256: sha256(payload), bytes: payload.length });
    expect(readFileSync(dest).equals(payload)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('rejects a checksum mismatch and removes the download', async () => {
    server = await serveFiles({ 'f.txt': payload });
    const dest = join(tmp(), 'f.txt');
    const wrong = sha256(Buffer.from('something else'));
    await expect(downloadVerified(`${server.baseUrl}/f.txt`, dest, { sha256: wrong })).rejects.toThrow(DataError);
    await expect(downloadVerified(`${server.baseUrl}/f.txt`, dest, { sha256: wrong })).rejects.toThrow(/checksum mismatch: expected sha256 /);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('resumes an interrupted download with a Range request', async () => {
    server = await serveFiles({ 'f.txt': payload });
    server.cutNext('f.txt', 100_000);
    const dest = join(tmp(), 'f.txt');
    const expected = { sha256: sha256(payload), bytes: payload.length };
    await expect(downloadVerified(`${server.baseUrl}/f.txt`, dest, expected)).rejects.toThrow(/interrupted at \d+ bytes .*run again to resume/);
    const partial = readFileSync(`${dest}.part`).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(payload.length);
    const starts: number[] = [];
    await downloadVerified(`${server.baseUrl}/f.txt`, dest, expected, { onStart: (_url, from) => starts.push(from) });
    expect(readFileSync(dest).equals(payload)).toBe(true);
    expect(server.requests.map((r) => r.range)).toEqual([undefined, `bytes=${partial}-`]);
    expect(starts).toEqual([partial]);
  });

  it('restarts from zero when the server ignores Range', async () => {
    server = await serveFiles({ 'f.txt': payload }, { ignoreRange: true });
    const dir = tmp();
    const dest = join(dir, 'f.txt');
    writeFileSync(`${dest}.part`, payload.subarray(0, 1234));
    await downloadVerified(`${server.baseUrl}/f.txt`, dest, { sha256: sha256(payload) });
    expect(readFileSync(dest).equals(payload)).toBe(true);
  });

  it('asks again while the server answers 429 or 503 (Retry-After honoured), and says how often when it lasts', async () => {
    server = await serveFiles({ 'f.txt': payload });
    server.failNext('f.txt', 503, 1, { 'Retry-After': '0' });
    const dest = join(tmp(), 'f.txt');
    const retries: string[] = [];
    const onRetry = (url: string, status: number, waitMs: number, nextTry: number) => retries.push(`${url.split('/').pop()} ${status} ${waitMs} ${nextTry}`);
    await downloadVerified(`${server.baseUrl}/f.txt`, dest, { sha256: sha256(payload), bytes: payload.length }, { onRetry });
    expect(readFileSync(dest).equals(payload)).toBe(true);
    expect(retries).toEqual(['f.txt 503 0 2']);
    server.failNext('f.txt', 429, 10, { 'Retry-After': '0' });
    const before = server.requests.length;
    const again = join(tmp(), 'f.txt');
    await expect(downloadVerified(`${server.baseUrl}/f.txt`, again, { sha256: sha256(payload) })).rejects.toThrow(
      new DataError(`${server.baseUrl}/f.txt: HTTP 429 Too Many Requests (4 tries); the server is busy or failing, run again later`),
    );
    expect(server.requests.length - before).toBe(4);
    expect(existsSync(again)).toBe(false);
  });

  it('a resumed part that does not check out (garbage left before) is downloaded again from byte 0 in the same call', async () => {
    server = await serveFiles({ 'f.txt': payload });
    const dest = join(tmp(), 'f.txt');
    writeFileSync(`${dest}.part`, Buffer.alloc(1234, 0x7a));
    const starts: number[] = [];
    await downloadVerified(`${server.baseUrl}/f.txt`, dest, { sha256: sha256(payload), bytes: payload.length }, { onStart: (_url, from) => starts.push(from) });
    expect(readFileSync(dest).equals(payload)).toBe(true);
    expect(server.requests.map((r) => r.range)).toEqual(['bytes=1234-', undefined]);
    expect(starts).toEqual([1234, 0]);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('reports HTTP errors with the URL', async () => {
    server = await serveFiles({});
    await expect(downloadVerified(`${server.baseUrl}/missing.zip`, join(tmp(), 'm'), { sha256: '0' })).rejects.toThrow(/missing\.zip: HTTP 404/);
  });
});

describe('base URL', () => {
  it.each([
    // (the value quoted, as every refused value of a flag or variable is: a blank in it shown)
    ['file:///x', /^--base-url 'file:\/\/\/x': only http:\/\/ and https:\/\/ URLs can be fetched$/],
    ['notaurl', /^--base-url 'notaurl': not a URL; give an http:\/\/ or https:\/\/ URL$/],
    ['http://mirror host/glue', /^--base-url 'http:\/\/mirror host\/glue': not a URL; give an http:\/\/ or https:\/\/ URL$/],
    ['ftp://host/glue', /only http:\/\/ and https:\/\/ URLs/],
  ])('%s is refused in one line before any folder is made', async (baseUrl, re) => {
    const dir = join(mkdtempSync(join(tmpdir(), 'glue-url-')), 'glue');
    await expect(downloadGlue({ tasks: ['SST-2'], dir, baseUrl })).rejects.toThrow(SettingsError);
    await expect(downloadGlue({ tasks: ['SST-2'], dir, baseUrl })).rejects.toThrow(re);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('selectSources', () => {
  it('maps eval task names onto download folders', () => {
    expect(selectSources(['mnli-mm', 'AX', 'sst2', 'MNLI']).map((s) => s.folder)).toEqual(['SST-2', 'MNLI', 'diagnostic']);
    expect(selectSources('all')).toHaveLength(10);
    expect(() => selectSources(['glu'])).toThrow(SettingsError);
  });

  it("names the tasks download takes in an unknown name's message, not eval's (MNLI-m, MNLI-mm)", () => {
    expect(() => selectSources(['mnli-x'])).toThrow(
      /^unknown task 'mnli-x'\. Did you mean 'MNLI'\? Known tasks: CoLA, SST-2, MRPC, QQP, STS-B, MNLI, QNLI, RTE, WNLI, AX, all$/,
    );
    expect(() => selectSources(['diagnostc'])).toThrow(/Did you mean 'AX'\?/);
  });

  it('uses the official download_glue_data.py URLs unless a base URL is given', () => {
    const cola = GLUE_SOURCES.find((s) => s.folder === 'CoLA')!.files[0]!;
    expect(fileUrl(cola, undefined)).toBe('https://dl.fbaipublicfiles.com/glue/data/CoLA.zip');
    expect(fileUrl(cola, 'http://127.0.0.1:9/mirror/')).toBe('http://127.0.0.1:9/mirror/CoLA.zip');
  });
});

describe('downloadGlue against a local server', () => {
  it('installs a zip task (atomically, no temporary files left) and skips it next time', async () => {
    const dev = 'index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n';
    const zip = buildZip([
      { name: 'WNLI/', data: '', stored: true },
      { name: 'WNLI/dev.tsv', data: dev },
      { name: 'WNLI/test.tsv', data: 'index\tsentence1\tsentence2\n' },
    ]);
    const sources: TaskSource[] = [
      { folder: 'WNLI', kind: 'zip', files: [{ name: 'WNLI.zip', url: 'https://unused.invalid/WNLI.zip', sha256: sha256(zip) }], marker: 'WNLI/dev.tsv' },
    ];
    server = await serveFiles({ 'WNLI.zip': zip });
    const dir = tmp();
    const first = await downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources });
    expect(first).toEqual([{ folder: 'WNLI', status: 'installed', files: [join(dir, 'WNLI/dev.tsv'), join(dir, 'WNLI/test.tsv')] }]);
    expect(readFileSync(join(dir, 'WNLI/dev.tsv'), 'utf8')).toBe(dev);
    expect(readdirSync(dir).sort()).toEqual(['WNLI']);
    const second = await downloadGlue({ tasks: ['WNLI'], dir, baseUrl: server.baseUrl, sources });
    expect(second[0]!.status).toBe('skipped');
    expect(server.requests).toHaveLength(1);
  });

  it("two downloads into one folder take turns: the second waits, then finds the task installed; a dead one's lock is taken over", async () => {
    const dev = 'index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n';
    const zip = buildZip([{ name: 'WNLI/dev.tsv', data: dev }]);
    const sources: TaskSource[] = [
      { folder: 'WNLI', kind: 'zip', files: [{ name: 'WNLI.zip', url: 'https://unused.invalid/WNLI.zip', sha256: sha256(zip) }], marker: 'WNLI/dev.tsv' },
    ];
    server = await serveFiles({ 'WNLI.zip': zip });
    const dir = tmp();
    const logs: string[][] = [[], []];
    const runs = await Promise.all(logs.map((log) => downloadGlue({ tasks: ['WNLI'], dir, baseUrl: server!.baseUrl, sources, log: (l) => log.push(l) })));
    expect(runs.map((r) => r[0]!.status).sort()).toEqual(['installed', 'skipped']);
    expect(server.requests).toHaveLength(1);
    expect(logs.flat().filter((l) => l.startsWith('waiting for process'))).toHaveLength(1);
    expect(readdirSync(dir).sort()).toEqual(['WNLI']);

    const other = tmp();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(other, '.downloads.lock'), String(dead));
    expect((await downloadGlue({ tasks: ['WNLI'], dir: other, baseUrl: server.baseUrl, sources }))[0]!.status).toBe('installed');
    expect(readdirSync(other).sort()).toEqual(['WNLI']);
  });

  it('rejects an archive whose checksum does not match and installs nothing', async () => {
    const zip = buildZip([{ name: 'RTE/dev.tsv', data: 'x' }]);
    server = await serveFiles({ 'RTE.zip': zip });
    const dir = tmp();
    // The official RTE.zip checksum cannot match this small archive.
    await expect(downloadGlue({ tasks: ['rte'], dir, baseUrl: server.baseUrl })).rejects.toThrow(/RTE\.zip: checksum mismatch/);
    expect(existsSync(join(dir, 'RTE'))).toBe(false);
  });

  it('honours the GLUE_BASE_URL environment variable', async () => {
    const zip = buildZip([{ name: 'RTE/dev.tsv', data: 'x' }]);
    server = await serveFiles({ 'RTE.zip': zip });
    const sources: TaskSource[] = [
      { folder: 'RTE', kind: 'zip', files: [{ name: 'RTE.zip', url: 'https://unused.invalid/RTE.zip', sha256: sha256(zip) }], marker: 'RTE/dev.tsv' },
    ];
    process.env.GLUE_BASE_URL = server.baseUrl;
    try {
      await downloadGlue({ tasks: ['rte'], dir: tmp(), sources });
    } finally {
      delete process.env.GLUE_BASE_URL;
    }
    expect(server.requests.map((r) => r.path)).toEqual(['RTE.zip']);
  });

  it("reads a base URL with blanks around it (a .env file's trailing one) as the URL, where the blank went inside each file's URL ('http://127.0.0.1:9 /RTE.zip': cannot connect, ERR_INVALID_URL)", async () => {
    const zip = buildZip([{ name: 'RTE/dev.tsv', data: 'x' }]);
    server = await serveFiles({ 'RTE.zip': zip });
    const sources: TaskSource[] = [
      { folder: 'RTE', kind: 'zip', files: [{ name: 'RTE.zip', url: 'https://unused.invalid/RTE.zip', sha256: sha256(zip) }], marker: 'RTE/dev.tsv' },
    ];
    await downloadGlue({ tasks: ['rte'], dir: tmp(), baseUrl: `${server.baseUrl} `, sources });
    process.env.GLUE_BASE_URL = ` ${server.baseUrl}/\t`;
    try {
      await downloadGlue({ tasks: ['rte'], dir: tmp(), sources });
    } finally {
      delete process.env.GLUE_BASE_URL;
    }
    expect(server.requests.map((r) => r.path)).toEqual(['RTE.zip', 'RTE.zip']);
  });

  it.skipIf(!hasGlue)('installs MRPC and AX with the official checksums, resuming a dropped transfer (needs ../shared/glue)', async () => {
    const read = (p: string) => readFileSync(join(GLUE_DIR, p));
    server = await serveFiles({
      'msr_paraphrase_train.txt': read('MRPC/msr_paraphrase_train.txt'),
      'msr_paraphrase_test.txt': read('MRPC/msr_paraphrase_test.txt'),
      'mrpc_dev_ids.tsv': read('MRPC/dev_ids.tsv'),
      'AX.tsv': read('diagnostic/diagnostic.tsv'),
    });
    server.cutNext('msr_paraphrase_train.txt', 300_000);
    const dir = tmp();
    const log: string[] = [];
    await expect(downloadGlue({ tasks: ['mrpc', 'ax'], dir, baseUrl: server.baseUrl, log: (l) => log.push(l) })).rejects.toThrow(/interrupted/);
    const done = await downloadGlue({ tasks: ['mrpc', 'ax'], dir, baseUrl: server.baseUrl, log: (l) => log.push(l) });
    expect(done.map((d) => d.status)).toEqual(['installed', 'installed']);
    expect(log.some((l) => /^resuming .*msr_paraphrase_train\.txt at byte \d+$/.test(l))).toBe(true);
    for (const f of ['MRPC/train.tsv', 'MRPC/dev.tsv', 'MRPC/test.tsv', 'MRPC/dev_ids.tsv', 'diagnostic/diagnostic.tsv']) {
      expect(readFileSync(join(dir, f)).equals(read(f)), f).toBe(true);
    }
    expect(existsSync(join(dir, '.downloads'))).toBe(false);
  });

  it('creates the folder when missing', async () => {
    const zip = buildZip([{ name: 'CoLA/dev.tsv', data: 'src\t1\t\tOk.' }]);
    server = await serveFiles({ 'CoLA.zip': zip });
    const dir = join(tmp(), 'new', 'glue');
    const sources: TaskSource[] = [{ folder: 'CoLA', kind: 'zip', files: [{ name: 'CoLA.zip', url: 'x', sha256: sha256(zip) }], marker: 'CoLA/dev.tsv' }];
    await downloadGlue({ tasks: ['cola'], dir, baseUrl: server.baseUrl, sources });
    expect(readFileSync(join(dir, 'CoLA/dev.tsv'), 'utf8')).toBe('src\t1\t\tOk.');
  });
});
