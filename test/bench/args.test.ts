import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWhole, splitBenchArgs } from '../../bench/args.ts';

const ROOT = resolve(__dirname, '../..');

describe('splitBenchArgs', () => {
  it('chooses by the words before the first --flag and forwards the rest unchanged', () => {
    expect(splitBenchArgs(['train', '--kernel', 'js', '--rounds', '15'])).toEqual({
      names: ['train'],
      flags: ['--kernel', 'js', '--rounds', '15'],
    });
    expect(splitBenchArgs(['quantize', 'eval'])).toEqual({ names: ['quantize', 'eval'], flags: [] });
    expect(splitBenchArgs(['--rounds', '3'])).toEqual({ names: [], flags: ['--rounds', '3'] });
    expect(splitBenchArgs([])).toEqual({ names: [], flags: [] });
  });
});

describe('parseWhole', () => {
  it('accepts whole numbers at or above the minimum', () => {
    expect(parseWhole('--rounds', '15', 1)).toBe(15);
    expect(parseWhole('--threads', '0', 0)).toBe(0);
  });
  it('refuses text, fractions, blanks and values below the minimum, naming the flag', () => {
    for (const [text, min] of [
      ['abc', 1],
      ['2.5', 1],
      ['', 1],
      ['0', 1],
      ['-1', 0],
    ] as const) {
      expect(() => parseWhole('--rounds', text, min)).toThrow(/^--rounds .*expected a whole number ≥/);
    }
  });
});

describe('npm run bench', () => {
  it('passes flags to the chosen benchmark: a bad --rounds reaches it and ends it with one line', () => {
    const r = spawnSync(process.execPath, [resolve(ROOT, 'bin/run-ts.mjs'), resolve(ROOT, 'bench/index.ts'), 'train', '--rounds', 'abc'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('=== train exited with 2');
    expect(r.stderr.trim()).toBe('--rounds "abc": expected a whole number ≥ 1');
  });

  it('refuses a --kernel the training benchmark does not have, with one line', () => {
    const r = spawnSync(process.execPath, [resolve(ROOT, 'bin/run-ts.mjs'), resolve(ROOT, 'bench/train.ts'), '--kernel', 'simd'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('--kernel "simd": expected one of wasm, js');
  });
});
