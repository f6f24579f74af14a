/** writeFileAtomic: a failed write leaves neither the target nor its temporary, and names the file it was writing. */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { fileSystemError } from '../src/destination.ts';

const fail = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
    if (fail.on) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    return (fs.writeSync as (...a: unknown[]) => number)(...args);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const { writeFileAtomic } = await import('../src/files.ts');

describe('writeFileAtomic on a full disk', () => {
  it('removes its temporary, keeps no target, and the error names the target in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const target = join(dir, 'report.csv');
    fail.on = true;
    let caught: unknown;
    try {
      writeFileAtomic(target, 'a,b\n');
    } catch (e) {
      caught = e;
    } finally {
      fail.on = false;
    }
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(fileSystemError(caught)?.message).toBe(`cannot write ${target}: no space left on the device`);
  });
});
