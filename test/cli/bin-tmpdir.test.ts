/**
 * The bin from a checkout (and bin/run-ts.mjs, which runs benches, scripts and the build) runs the sources through
 * tsx, which keeps compiled sources in TMPDIR/tsx-<uid>. A TMPDIR that cannot hold that folder (a file, /proc, a
 * folder that is missing) turns tsx's cache off rather than failing (a file: ENOTDIR from tsx's mkdir, a stack
 * trace) or hanging (/proc: tsx's recursive mkdir never returns); the tsx children (bench's session-memory child)
 * inherit the setting.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TIMING_LOCK_ENV } from '../../src/bench/timing-lock.ts';
import { writeTinyBert } from '../helpers/models.ts';

const CLI = resolve(__dirname, '../../bin/compress.mjs');
const dir = mkdtempSync(join(tmpdir(), 'bin-tmpdir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const aFile = join(dir, 'a-file');
writeFileSync(aFile, 'not a folder\n');

function compress(tmp: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, [TIMING_LOCK_ENV]: join(dir, 'timing.lock') };
  delete env.TSX_DISABLE_CACHE;
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env });
}

describe('compress from a checkout with a TMPDIR that cannot hold tsx cache', () => {
  it.each([
    ['a file', aFile],
    ['/proc', '/proc'],
  ])('runs with TMPDIR %s', (_, tmp) => {
    const r = compress(tmp, '--help');
    expect(r.error).toBeUndefined(); // (not killed at the timeout)
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('compress inspect');
  });

  it('creates no missing TMPDIR', () => {
    const missing = join(dir, 'missing', 'tmp');
    const r = compress(missing, '--help');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('bin/run-ts.mjs (benches, scripts, the build) runs a TypeScript file with TMPDIR a file', () => {
    const file = join(dir, 'typed.mts');
    writeFileSync(file, 'const n: number = 42;\nconsole.log("n=" + n);\n');
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: aFile };
    delete env.TSX_DISABLE_CACHE;
    const r = spawnSync(process.execPath, [resolve(__dirname, '../../bin/run-ts.mjs'), file], { encoding: 'utf8', timeout: 60_000, env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('n=42\n');
  });

  it('benchmarks, its tsx child included, with TMPDIR a file', () => {
    const model = writeTinyBert({ numLayers: 1 }, { seed: 3 });
    const r = compress(aFile, 'bench', model.path, '--batch', '1', '--seq', '8', '--repeats', '2', '--warmup', '0', '--threads', '1');
    expect(r.stderr).not.toMatch(/error|ENOTDIR/i); // (its progress lines only)
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/memory: model session .* RSS/);
  });
});
