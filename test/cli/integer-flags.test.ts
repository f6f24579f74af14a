/**
 * Every integer flag of every command is declared once, with its range, where the command declares its flags
 * (integerFlags), and refused in the one integer wording of src/errors.ts whatever is wrong with its value: a text
 * that writes no decimal number ('0x10', '', 'Infinity'), a fraction, a number out of range; before the command reads
 * any file, as a usage mistake (exit 2).
 */
import { describe, expect, it } from 'vitest';
import yargs, { type Argv } from 'yargs';
import { commands } from '../../src/cli/commands/index.ts';
import { declaredIntegerFlags, declaredNumberFlags, declaredOptions } from '../../src/cli/flag-values.ts';
import { integerOfText, integerRange, type NumberRange, numberProblem, numberRange } from '../../src/errors.ts';
import { runMain } from '../helpers/cli.ts';

/** Each command's name, and a command line that runs it but for the flag under test (a model that is never read). */
const LINES: Record<string, string[]> = {
  eval: ['eval', 'no-such.onnx', '--task', 'SST-2'],
  bench: ['bench', 'no-such.onnx'],
  sweep: ['sweep', 'no-such.yaml'],
  worker: ['worker', '--queue', 'redis://127.0.0.1:1/0'],
  export: ['export', 'no-such', '-o', 'no-such/o.onnx'],
  train: ['train', 'no-such.onnx', '--task', 'SST-2', '-o', 'no-such/o.onnx'],
  distill: ['distill', '--teacher', 'no-such.onnx', '--student', 'bert:layers=1', '--task', 'SST-2', '-o', 'no-such/o.onnx'],
  $0: ['no-such.onnx', '--prune-heads', '0.5', '-o', 'no-such/o.onnx'],
};

async function declared() {
  const found: Array<{
    command: string;
    numbers: string[];
    integers: Record<string, { min: number; max?: number; note?: string }>;
    fractional: Record<string, NumberRange>;
  }> = [];
  for (const c of commands) {
    const y = yargs([]) as unknown as Argv;
    await c.builder(y as never);
    const o = declaredOptions(y);
    const aliases = new Set(Object.values(o.alias).flat());
    found.push({
      command: String(c.command).split(' ')[0]!,
      numbers: o.number.filter((k) => !aliases.has(k)),
      integers: { ...declaredIntegerFlags(y) },
      fractional: { ...declaredNumberFlags(y) },
    });
  }
  return found;
}

describe('integer flags', () => {
  it('every number flag of every command is an integer flag with its range, or a number flag that takes fractions with its range (numberFlags)', async () => {
    const all = await declared();
    for (const { command, numbers, integers, fractional } of all) {
      for (const flag of numbers) expect([command, flag, flag in integers !== flag in fractional]).toEqual([command, flag, true]);
      for (const flag of [...Object.keys(integers), ...Object.keys(fractional)]) expect([command, flag, numbers.includes(flag)]).toEqual([command, flag, true]);
    }
    // (every command with an integer flag is run below)
    expect(
      all
        .filter((c) => Object.keys(c.integers).length > 0)
        .map((c) => c.command)
        .sort(),
    ).toEqual(Object.keys(LINES).sort());
  });

  it("refuses a value that is no decimal number, a fraction and a number below the range in the one integer wording, before any file is read (where '0x10' and '' said 'expected a number', and --epochs 1.5 came after the missing files)", async () => {
    for (const { command, integers } of await declared()) {
      for (const [flag, range] of Object.entries(integers)) {
        const expected = `expected an ${integerRange(range.min, range.max)}${range.note ? ` ${range.note}` : ''}`;
        const alias = command === 'sweep' && flag === 'jobs' ? '-j/' : command === 'worker' && flag === 'concurrency' ? '-c/' : '';
        for (const [value, shown] of [
          ['0x10', `'0x10'`],
          ['', `''`],
          ['Infinity', `'Infinity'`],
          [' 1.5', '1.5'],
          // (a fraction that reads as an integer: 1e-400 as 0, which is --threads' one per physical core)
          ['1e-400', '1e-400'],
          [String(range.min - 1), String(range.min - 1)],
        ]) {
          const r = await runMain([...LINES[command]!, `--${flag}=${value}`]);
          expect([command, r.code, r.stderr]).toEqual([command, 2, `compress: ${alias}--${flag} ${shown}: ${expected}\n`]);
        }
      }
    }
  });

  it('judges an integer typed by its digits: a fraction that reads as an integer is refused, an integer written with a fraction or an exponent taken', () => {
    for (const text of ['1e3', ' 32.0 ', '1.5e1', '.5e1', '-0', '0.00e-400', '1e999']) expect([text, integerOfText(text)]).toEqual([text, Number(text)]);
    for (const text of ['1e-400', '3.0000000000000001', '4503599627370495.5', '5e-1', '1.5', '0x10', ''])
      expect([text, integerOfText(text)]).toEqual([text, Number.NaN]);
  });

  it('takes an integer written as any decimal number the flags read (1e1, 2.0, blanks), and says an integer is needed after a bare one', async () => {
    const r = await runMain(['train', 'no-such.onnx', '--task', 'SST-2', '-o', 'no-such/o.onnx', '--epochs', '1e1', '--seed', ' 2.0 ']);
    expect(r.stderr).toMatch(/^compress: no-such\.onnx: no such model/);
    const bare = await runMain(['train', 'no-such.onnx', '--task', 'SST-2', '-o', 'no-such/o.onnx', '--seed']);
    expect([bare.code, bare.stderr]).toEqual([2, 'compress: --seed: an integer is needed after it\n']);
  });
});

describe('number flags that take fractions', () => {
  it("refuses a value that is no decimal number, an infinite one and a number out of the range in the one number wording, before any file is read (where '0x10' said 'expected a number', and --lr 0 '--lr must be a positive number (got 0)' after the missing files)", async () => {
    const seen: string[] = [];
    for (const { command, fractional } of await declared()) {
      for (const [flag, range] of Object.entries(fractional)) {
        const words = `${numberRange(range)}${range.note ? ` ${range.note}` : ''}`;
        const below = range.above ? String(range.min) : String(range.min - 1);
        for (const [value, shown, expected] of [
          ['0x10', `'0x10'`, `expected a ${words}`],
          ['', `''`, `expected a ${words}`],
          ['abc', `'abc'`, `expected a ${words}`],
          ['1e400', '1e400', `expected a finite ${words}`],
          // (a number too small to hold reads as 0: refused whether or not 0 is in the range)
          [
            '1e-400',
            '1e-400',
            `too small for a number to hold (it reads as 0); ${numberProblem(0, range) === undefined ? 'write 0 for 0' : `expected a ${words}`}`,
          ],
          [` ${below}`, below, `expected a ${words}`],
        ]) {
          const r = await runMain([...LINES[command]!, `--${flag}=${value}`]);
          expect([command, r.code, r.stderr]).toEqual([command, 2, `compress: --${flag} ${shown}: ${expected}\n`]);
        }
        seen.push(flag);
      }
    }
    expect(new Set(seen)).toEqual(
      new Set([
        'lr',
        'weight-decay',
        'warmup',
        'clip',
        'dropout',
        'alpha',
        'temperature',
        'pkd-weight',
        'feature-cache-mb',
        'max-time',
        'retry-delay',
        'lock-seconds',
      ]),
    );
  });

  it('words a range as every refusal of a number does, and takes a number in it', async () => {
    expect(numberRange({ min: 0, above: true })).toBe('number greater than 0');
    expect(numberRange({ min: 0 })).toBe('number 0 or greater');
    expect(numberRange({ min: 0, max: 1, below: true })).toBe('number in [0, 1)');
    expect(numberRange({ min: 1e-19, max: 1e19 })).toBe('number in [1e-19, 1e19]');
    expect(numberRange({ min: 0, above: true, unit: 'seconds' })).toBe('number of seconds greater than 0');
    expect(numberProblem(0.5, { min: 0, max: 1, below: true })).toBeUndefined();
    expect(numberProblem(1, { min: 0, max: 1, below: true })).toBe('expected a number in [0, 1)');
    expect(numberProblem(Number.POSITIVE_INFINITY, { min: 0 })).toBe('expected a finite number 0 or greater');
    expect(numberProblem('1', { min: 0 })).toBe('expected a number 0 or greater');
    const r = await runMain([...LINES.train!, '--lr', '0.5', '--warmup', '1', '--dropout', '0', '--clip', '0']);
    expect(r.stderr).toMatch(/^compress: no-such\.onnx: no such model/);
  });
});

describe("a one-letter flag's value written against it (-j2.5)", () => {
  it("is quoted as typed, as the value after -j or --jobs= (where '-j1e-1' showed yargs' 0.1 and '-j02.50' 2.5)", async () => {
    for (const [line, expected] of [
      [['sweep', 'no-such.yaml', '-j1e-1'], '-j/--jobs 1e-1: expected an integer from 1 to 2^53 − 1'],
      [['sweep', 'no-such.yaml', '-j02.50'], '-j/--jobs 02.50: expected an integer from 1 to 2^53 − 1'],
      [['worker', '--queue', 'redis://127.0.0.1:1/0', '-c0.50'], '-c/--concurrency 0.50: expected an integer from 1 to 2^53 − 1'],
      [['sweep', 'no-such.yaml', '-j1e-1', '-j2'], '-j/--jobs given 2 times (1e-1, 2): give it once'],
      // (a queued sweep's --jobs, refused by the command: as typed too, where it showed 2, named -j/--jobs as its other refusals)
      [
        ['sweep', 'no-such.yaml', '--queue', 'redis://127.0.0.1:1/0', '-j2.0'],
        "-j/--jobs 2.0: points of a queued sweep run on workers; give each 'compress worker' --concurrency instead",
      ],
    ] as const) {
      const r = await runMain([...line]);
      expect([line.join(' '), r.code, r.stderr]).toEqual([line.join(' '), 2, `compress: ${expected}\n`]);
    }
  });
});

describe('a one-letter number flag glued to a value yargs splits into one-letter flags (-j0x10)', () => {
  it("is refused as the flag given that value, where yargs' strict check said unexpected arguments '0', 'x'", async () => {
    for (const [line, expected] of [
      [['sweep', 'no-such.yaml', '-j0x10'], "-j/--jobs '0x10': expected an integer from 1 to 2^53 − 1"],
      [['sweep', 'no-such.yaml', '-j3abc'], "-j/--jobs '3abc': expected an integer from 1 to 2^53 − 1"],
      [['sweep', 'no-such.yaml', '-j1_000'], "-j/--jobs '1_000': expected an integer from 1 to 2^53 − 1"],
      [['sweep', 'no-such.yaml', '-jNaN'], "-j/--jobs 'NaN': expected an integer from 1 to 2^53 − 1"],
      [['worker', '--queue', 'redis://127.0.0.1:1/0', '-c0x10'], "-c/--concurrency '0x10': expected an integer from 1 to 2^53 − 1"],
      // (an '=' and nothing after it, which yargs read as the flags j and '=': the flag given nothing, as --jobs= is)
      [['sweep', 'no-such.yaml', '-j='], "-j/--jobs '': expected an integer from 1 to 2^53 − 1"],
      [['sweep', 'no-such.yaml', '--jobs='], "-j/--jobs '': expected an integer from 1 to 2^53 − 1"],
      [['worker', '--queue', 'redis://127.0.0.1:1/0', '-c='], "-c/--concurrency '': expected an integer from 1 to 2^53 − 1"],
      // (a decimal number yargs splits all the same: written apart, it is read)
      [['sweep', 'no-such.yaml', '-j1E3'], "-j1E3: write -j 1E3 (glued to -j, only digits with a '.' or a lower-case 'e' within are read as its value)"],
      // (from a '.', which yargs read as a flag 'j.5': an unexpected argument)
      [['sweep', 'no-such.yaml', '-j.5'], "-j.5: write -j .5 (glued to -j, only digits with a '.' or a lower-case 'e' within are read as its value)"],
      [['sweep', 'no-such.yaml', '-j.x'], "-j/--jobs '.x': expected an integer from 1 to 2^53 − 1"],
      // (a blank the value ends with shown, quoted as a shell takes it, where it said '-j3 : write -j 3  (…)')
      [['sweep', 'no-such.yaml', '-j3 '], "'-j3 ': write -j '3 ' (glued to -j, only digits with a '.' or a lower-case 'e' within are read as its value)"],
      // (a line break within a value written \n in bash's $'…', as a shell takes it: the refusal one line)
      [['sweep', 'no-such.yaml', '--jobs', '3\nx'], "-j/--jobs $'3\\nx': expected an integer from 1 to 2^53 − 1"],
      [['sweep', 'no-such.yaml', '-j\t3x'], "-j/--jobs $'\\x093x': expected an integer from 1 to 2^53 − 1"],
      // (a quote within a value written as a shell takes it, as a flag given twice lists it, where it showed '3'x')
      [['sweep', 'no-such.yaml', "--jobs=3'x"], "-j/--jobs '3'\\''x': expected an integer from 1 to 2^53 − 1"],
      [['sweep', 'no-such.yaml', '--jobs', "3'x\n"], "-j/--jobs $'3\\'x\\n': expected an integer from 1 to 2^53 − 1"],
    ] as const) {
      const r = await runMain([...line]);
      expect([line.join(' '), r.code, r.stderr]).toEqual([line.join(' '), 2, `compress: ${expected}\n`]);
    }
    // (before the positional argument: yargs read '-j3 ' as the flags j, 3 and ' ', the last given the file, and said
    // 'missing <file>' before any flag was checked)
    for (const [line, expected] of [
      [['sweep', '-j3 ', 'no-such.yaml'], "'-j3 ': write -j '3 ' (glued to -j, only digits with a '.' or a lower-case 'e' within are read as its value)"],
      [['sweep', '-j.5 ', 'no-such.yaml'], "'-j.5 ': write -j '.5 ' (glued to -j, only digits with a '.' or a lower-case 'e' within are read as its value)"],
    ] as const) {
      const r = await runMain([...line]);
      expect([line.join(' '), r.code, r.stderr]).toEqual([line.join(' '), 2, `compress: ${expected}\n`]);
    }
    // (a value yargs reads glued runs on to the next check: the sweep file)
    const r = await runMain(['sweep', 'no-such.yaml', '-j2']);
    expect(r.stderr).not.toMatch(/jobs/);
    expect(r.code).not.toBe(0);
  });
});

describe('a flag typed in the camel-case form yargs reads as it (--maxLength for --max-length)', () => {
  it("is checked as the flag typed dashed (where '--maxLength 0x10' ran at 16 and '--batchSize=' said '--batch-size 0')", async () => {
    for (const [line, expected] of [
      [[...LINES.eval!, '--maxLength', '0x10'], "--max-length '0x10': expected an integer from 2 to 2^53 − 1"],
      [[...LINES.eval!, '--batchSize='], "--batch-size '': expected an integer from 1 to 2^53 − 1"],
      [[...LINES.train!, '--weightDecay', '0x10'], "--weight-decay '0x10': expected a number 0 or greater"],
      [[...LINES.eval!, '--max-length', '8', '--maxLength', '9'], '--max-length given 2 times (8, 9): give it once'],
      [[...LINES.eval!, '--glueDir'], '--glue-dir: a value is needed after it'],
    ] as const) {
      const r = await runMain([...line]);
      expect([line.join(' '), r.code, r.stderr]).toEqual([line.join(' '), 2, `compress: ${expected}\n`]);
    }
    // (a number it takes, typed so, runs as typed dashed)
    const r = await runMain([...LINES.eval!, '--maxLength', '8']);
    expect(r.stderr).toMatch(/^compress: no-such\.onnx: /);
  });
});
