/**
 * A folder's tokenizer reading version (src/eval/tokenizer-reading.ts) is read again while its side files' stamp cannot
 * tell a rewrite (sideFilesStamp: one changed within the last 2 s), as loadTokenizer reads its tokenizer again: on a file
 * system of coarse times, a file rewritten at the same size within one tick keeps its size, times and inode, and the
 * version kept from before the rewrite was given for the other tokenizer.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { tokenizerReadingVersion } from '../../src/eval/tokenizer-reading.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';

/** The times every file under a folder named so shows (one tick of a coarse clock): set by the test. */
const coarse = vi.hoisted(() => ({ folder: 'bc-coarse-times-', at: 0 }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const statSync = ((...args: Parameters<typeof fs.statSync>) => {
    const st = fs.statSync(...args);
    if (st && String(args[0]).includes(coarse.folder)) Object.assign(st, { mtimeMs: coarse.at, ctimeMs: coarse.at });
    return st;
  }) as typeof fs.statSync;
  return { ...fs, statSync, default: { ...fs, statSync } };
});

const root = mkdtempSync(join(tmpdir(), coarse.folder));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

it('reads a folder rewritten within one tick of its times again, as loadTokenizer does', () => {
  // (the clock held 1 s after the tick every write shows)
  vi.useFakeTimers({ toFake: ['Date'] });
  coarse.at = Date.now();
  vi.setSystemTime(coarse.at + 1000);
  const dir = join(root, 'model');
  mkdirSync(dir);
  writeFileSync(join(dir, 'vocab.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ngood\n');
  // (remove_space true: reading version 3; false, at the same size: 1)
  const config = (removeSpace: boolean) => writeFileSync(join(dir, 'tokenizer_config.json'), removeSpace ? '{"remove_space":true }' : '{"remove_space":false}');
  config(true);
  expect(tokenizerReadingVersion(dir, false)).toBe(3);
  const before = loadTokenizer(dir);
  config(false);
  expect(tokenizerReadingVersion(dir, false)).toBe(1);
  expect(loadTokenizer(dir)).not.toBe(before);
  config(true);
  expect(tokenizerReadingVersion(dir, false)).toBe(3);
});
