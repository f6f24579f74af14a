/**
 * `data download` stopped by Ctrl-C or SIGTERM: the download lock it holds in the GLUE folder is removed with the
 * process's other clean-ups (it was left behind, a file in the user's folder naming a dead process), as is a task's
 * half-built staging folder in the cache; a rerun installs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { downloadGlue } from '../../src/glue/download/download.ts';
import type { TaskSource } from '../../src/glue/download/sources.ts';
import { serveFiles, type FileServer } from '../helpers/glue-server.ts';
import { buildZip } from '../helpers/glue-zip.ts';

/** Set by the second test: the zip extraction (a task being installed in its staging folder) is where the signal comes. */
const stopInExtract = vi.hoisted(() => ({ on: false, staged: [] as string[], stagedAfter: [] as string[] }));
vi.mock('../../src/glue/download/zip.ts', async (importOriginal) => {
  const zip = await importOriginal<typeof import('../../src/glue/download/zip.ts')>();
  const { existsSync, readdirSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  const staged = (stage: string) => (existsSync(dirname(stage)) ? readdirSync(dirname(stage)).filter((f) => f.startsWith('stage-')) : []);
  return {
    ...zip,
    extractZip: (file: string, stage: string) => {
      if (!stopInExtract.on) return zip.extractZip(file, stage);
      stopInExtract.staged = staged(stage);
      process.emit('SIGINT', 'SIGINT');
      stopInExtract.stagedAfter = staged(stage);
      throw new Error('stopped'); // (the process would end here)
    },
  };
});

const DEV = 'index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n';
const zip = buildZip([{ name: 'WNLI/dev.tsv', data: DEV }]);
const sources: TaskSource[] = [
  {
    folder: 'WNLI',
    kind: 'zip',
    files: [{ name: 'WNLI.zip', url: 'https://unused.invalid/WNLI.zip', sha256: createHash('sha256').update(zip).digest('hex') }],
    marker: 'WNLI/dev.tsv',
  },
];

let server: FileServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = undefined;
});

describe('data download interrupted', () => {
  it('removes its lock file from the GLUE folder when SIGINT comes mid-download; a rerun installs', async () => {
    server = await serveFiles({ 'WNLI.zip': zip });
    const dir = mkdtempSync(join(tmpdir(), 'glue-interrupt-'));
    const lock = join(dir, '.downloads.lock');
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true); // (the signal re-raised to end the process)
    expect(process.listenerCount('SIGINT')).toBe(0); // (the clean-ups run only where no other handler decides)
    let lockAfterSignal: boolean | undefined;
    const log = (line: string) => {
      if (!line.startsWith('downloading ')) return;
      expect(existsSync(lock)).toBe(true);
      process.emit('SIGINT', 'SIGINT');
      lockAfterSignal = existsSync(lock);
      throw new Error('stopped'); // (the process would end here)
    };
    await expect(downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources, log })).rejects.toThrow('stopped');
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
    expect(lockAfterSignal).toBe(false);
    const done = await downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources });
    expect(done[0]!.status).toBe('installed');
    expect(readFileSync(join(dir, 'WNLI/dev.tsv'), 'utf8')).toBe(DEV);
    expect(existsSync(lock)).toBe(false);
  });

  it('removes the half-built staging folder from its cache when SIGINT comes while a task is installed; a rerun installs', async () => {
    server = await serveFiles({ 'WNLI.zip': zip });
    const dir = mkdtempSync(join(tmpdir(), 'glue-interrupt-'));
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true); // (the signal re-raised to end the process)
    stopInExtract.on = true;
    try {
      await expect(downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources })).rejects.toThrow('stopped');
    } finally {
      stopInExtract.on = false;
    }
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
    expect(stopInExtract.staged).toHaveLength(1);
    expect(stopInExtract.stagedAfter).toEqual([]);
    const done = await downloadGlue({ tasks: ['wnli'], dir, baseUrl: server.baseUrl, sources });
    expect(done[0]!.status).toBe('installed');
    expect(readFileSync(join(dir, 'WNLI/dev.tsv'), 'utf8')).toBe(DEV);
  });
});
