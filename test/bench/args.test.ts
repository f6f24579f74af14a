import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flagProblem, flagsOf, parseWhole, splitBenchArgs } from '../../bench/args.ts';
import { BENCHMARKS } from '../../bench/suites.ts';
import { glueSubset, TEACHERS, hasGlue, hasTeachers } from '../helpers/paths.ts';

const ROOT = resolve(__dirname, '../..');

/** Runs the benchmark script `script` (relative to the repository) with `args`, as `npm run bench` runs it. */
const runBench = (script: string, args: readonly string[], timeout = 60_000) =>
  spawnSync(process.execPath, [resolve(ROOT, 'bin/run-ts.mjs'), resolve(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8', timeout });

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

describe('flagProblem', () => {
  const train = { '--rounds': 'value', '--threads': 'value', '--kernel': 'value' } as const;
  const problem = (...argv: string[]) => flagProblem(argv, train, 'train');
  it('accepts the declared flags with their values, negative values included (refused later by their parser)', () => {
    expect(problem()).toBeUndefined();
    expect(problem('--rounds', '15', '--kernel', 'js')).toBeUndefined();
    expect(problem('--threads', '-1')).toBeUndefined();
    expect(flagProblem(['--keep'], { '--keep': 'switch' }, 'load-save')).toBeUndefined();
  });
  it('refuses, in one line, what the benchmark used to ignore: an unknown or misspelt flag, a missing value, a repeated flag, a stray word', () => {
    expect(problem('--roundz', '3')).toBe('unknown flag --roundz (did you mean --rounds?); the flags of train: --rounds, --threads, --kernel');
    expect(problem('--seed', '3')).toBe('unknown flag --seed; the flags of train: --rounds, --threads, --kernel');
    expect(flagProblem(['--rounds', '2'], {}, 'passes-base')).toBe('unknown flag --rounds; passes-base takes no flags');
    expect(problem('--rounds')).toBe('--rounds: a value is needed after it');
    expect(problem('--rounds', '--threads', '1')).toBe('--rounds: a value is needed after it');
    expect(problem('--rounds', '3', '--rounds', '5')).toBe('--rounds given twice: give it once');
    expect(problem('--rounds=3')).toBe('--rounds=3: write --rounds 3');
    expect(flagProblem(['--keep=1'], { '--keep': 'switch' }, 'load-save')).toBe('--keep=1: --keep takes no value');
    expect(problem('--rounds', '3', 'extra')).toBe("unexpected argument 'extra' (the flags of train: --rounds, --threads, --kernel)");
  });
  it('flagsOf keeps the flags one benchmark reads, with their values', () => {
    const all = { ...train, '--modes': 'value', '--no-fp32': 'switch' } as const;
    const argv = ['--modes', 'int8', '--rounds', '3', '--no-fp32', '--kernel', 'js'];
    expect(flagsOf(argv, all, train)).toEqual(['--rounds', '3', '--kernel', 'js']);
    expect(flagsOf(argv, all, { '--modes': 'value', '--no-fp32': 'switch' })).toEqual(['--modes', 'int8', '--no-fp32']);
  });
});

describe('bench/suites.ts', () => {
  it('declares exactly the flags each benchmark reads, and each benchmark checks its command line against them', () => {
    for (const b of BENCHMARKS) {
      const source = readFileSync(resolve(ROOT, 'bench', b.file), 'utf8');
      expect(source, b.file).toContain(`checkFlags('${b.name}'`);
      const read = new Set([...source.matchAll(/(?:arg|Arg|flagValue|includes|indexOf)\('(--[a-z0-9-]+)'/g)].map((m) => m[1]!));
      read.delete('--child'); // load-save's own child process
      expect([...read].sort(), b.file).toEqual(Object.keys(b.flags).sort());
    }
  });

  it('every benchmark that prints times or speed-ups prints the machine (CPU model, AVX2/AVX-512/VNNI, onnxruntime, threads) with them', () => {
    // (quantize printed int8 speed-ups, whose size depends on VNNI, without the CPU's flags)
    for (const b of BENCHMARKS.filter((b) => b.name !== 'prune-importance')) {
      expect(readFileSync(resolve(ROOT, 'bench', b.file), 'utf8'), b.file).toMatch(/describeMachine\(/);
    }
  });
});

describe('npm run bench', () => {
  it('passes flags to the chosen benchmark: a bad --rounds reaches it and ends it with one line', () => {
    const r = runBench('bench/index.ts', ['train', '--rounds', 'abc']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('=== train exited with 2');
    expect(r.stderr.trim()).toBe('--rounds "abc": expected a whole number ≥ 1');
  });

  it('refuses a --kernel the training benchmark does not have, with one line', () => {
    const r = runBench('bench/train.ts', ['--kernel', 'simd']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('--kernel "simd": expected one of wasm, js');
  });

  it('refuses, before running anything, a word that names no benchmark beside one that does, and a flag the chosen ones do not read', () => {
    // ('quantise train' ran train alone, '--roundz 3' was ignored)
    for (const [args, line] of [
      [['quantise', 'train'], /^no benchmark matches quantise; known: load-save, eval-throughput, /],
      [['train', '--roundz', '3'], /^unknown flag --roundz \(did you mean --rounds\?\); the flags of train: --rounds, --threads, --kernel, --profile$/],
      [['train', 'quantize', '--modes', 'int8', '--bogus'], /^unknown flag --bogus; the flags of quantize, train together: /],
    ] as const) {
      const r = runBench('bench/index.ts', args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr.trim(), args.join(' ')).toMatch(line);
    }
  });

  it('a benchmark run on its own refuses a flag it does not read, with one line', () => {
    const r = runBench('bench/passes-base.ts', ['--rounds', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('unknown flag --rounds; passes-base takes no flags');
  });
});

describe.skipIf(!hasTeachers || !hasGlue)('the eval-throughput benchmark (needs ../shared)', () => {
  it('gives ratios to the direct calls for the harness lines only, and prints the machine', () => {
    // ('direct onnxruntime-node … ratio median 1.000, best 1.000': the direct line was compared with itself)
    // (on SST-2's first 64 dev examples, two batches: the lines are those of the whole dev set)
    const glue = glueSubset(mkdtempSync(join(tmpdir(), 'bert-compress-eval-throughput-')), ['SST-2/dev.tsv'], 64);
    const args = ['--model', resolve(TEACHERS, 'sst2-L2H256'), '--glue-dir', glue, '--rounds', '1', '--threads', '1'];
    const r = runBench('bench/eval-throughput.ts', args, 120_000);
    rmSync(dirname(glue), { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('direct onnxruntime-node'))).not.toContain('ratio');
    expect(lines.find((l) => l.startsWith('harness (end to end)'))).toMatch(/ratio median \d/);
    expect(lines.find((l) => l.startsWith('machine: '))).toMatch(/cores; .*\), onnxruntime .*, 1 thread$/);
  });
});
