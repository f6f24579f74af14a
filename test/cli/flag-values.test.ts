/**
 * The flag-value middleware of every command: boolean flags given a value (`--json=yes`) taken as written; repeated
 * single-value flags, numbers that are not numbers and empty strings refused in one line.
 */
import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { checkedFlagValues, checkFlagValues, integerFlags } from '../../src/cli/flag-values.ts';
import { SettingsError, withFlagTexts } from '../../src/errors.ts';
import { describePass } from '../../src/pass/describe.ts';
import { PASS_DECLARATIONS } from '../../src/pass-declarations.ts';
import { refusal } from '../helpers/refusal.ts';
import { runMain } from '../helpers/cli.ts';
import { writeTinyBert } from '../helpers/models.ts';

const OPTIONS = { boolean: ['quantize-embeddings', 'json'], alias: { json: ['j'] }, array: [], number: [], string: [], key: {} };

function apply(...argv: string[]): Record<string, unknown> {
  const args: Record<string, unknown> = { 'quantize-embeddings': false, quantizeEmbeddings: false, json: false, j: false };
  checkFlagValues(args, OPTIONS, argv);
  return args;
}

/** yargs' result for `argv` on a command like the CLI's (a positional, path, number and bare-meaning flags). */
function parse(...argv: string[]): Record<string, unknown> {
  // (the flags' typed texts noted for the refusals to quote, as the CLI runs a command line: withFlagTexts)
  return withFlagTexts(() => parseArgv(argv));
}

function parseArgv(argv: string[]): Record<string, unknown> {
  return yargs(argv)
    .strict()
    .exitProcess(false)
    .fail((msg, e) => {
      throw e ?? new Error(msg);
    })
    .middleware(checkedFlagValues(argv, { bareAllowed: new Set(['optimize']), helpFor: (k) => (k === 'optimize' ? 'compress passes' : '--help') }) as never)
    .command('report <store>', '', (y) =>
      integerFlags(y, { seed: { min: 0 } })
        .positional('store', { type: 'string', demandOption: true })
        .option('out', { alias: 'o', type: 'string' })
        .option('tasks', { type: 'string' })
        .option('seed', { type: 'number' })
        .option('optimize', { type: 'string' }),
    )
    .parseSync() as Record<string, unknown>;
}

describe('boolean flag values', () => {
  it.each([
    ['yes', true],
    ['1', true],
    ['true', true],
    ['YES', true],
    ['no', false],
    ['0', false],
    ['false', false],
  ])('--quantize-embeddings=%s is %s (kebab and camel-case keys)', (value, expected) => {
    const args = apply(`--quantize-embeddings=${value}`);
    expect(args['quantize-embeddings']).toBe(expected);
    expect(args.quantizeEmbeddings).toBe(expected);
  });

  it('--no-flag=yes negates, aliases are set too, and words after -- are not flags', () => {
    expect(apply('--no-json=yes').json).toBe(false);
    expect(apply('--no-json=no')).toMatchObject({ json: true, j: true });
    expect(apply('--', '--json=maybe').json).toBe(false);
  });

  it("takes a value typed in the camel-case form yargs reads as the flag (where '--quantizeEmbeddings=yes' was false, and =maybe taken)", async () => {
    expect(apply('--quantizeEmbeddings=yes')).toMatchObject({ 'quantize-embeddings': true, quantizeEmbeddings: true });
    expect(apply('--no-quantizeEmbeddings=no')).toMatchObject({ 'quantize-embeddings': true, quantizeEmbeddings: true });
    expect(apply('--quantizeEmbeddings=no')).toMatchObject({ 'quantize-embeddings': false, quantizeEmbeddings: false });
    expect(() => apply('--quantizeEmbeddings=maybe')).toThrow(/^--quantizeEmbeddings 'maybe': expected one of yes, true, 1, no, false, 0$/);
    const r = await runMain(['train', 'no-such.onnx', '--task', 'SST-2', '-o', 'no-such/o.onnx', '--newHead=maybe']);
    expect([r.code, r.stderr]).toEqual([2, "compress: --newHead 'maybe': expected one of yes, true, 1, no, false, 0\n"]);
  });

  it("quotes a refused value as a shell takes it, as every refused value, where '--json=$HOME' showed $HOME bare", () => {
    expect(() => apply('--quantize-embeddings=$HOME')).toThrow(/^--quantize-embeddings '\$HOME': expected one of yes, true, 1, no, false, 0$/);
    expect(() => apply("--quantize-embeddings=it's")).toThrow(/^--quantize-embeddings 'it'\\''s': expected one of yes, true, 1, no, false, 0$/);
  });

  it.each(['maybe', '', '2', 'y'])('--quantize-embeddings=%j is refused in one line', (value) => {
    expect(() => apply(`--quantize-embeddings=${value}`)).toThrow(SettingsError);
    expect(() => apply(`--quantize-embeddings=${value}`)).toThrow(/^--quantize-embeddings .*: expected one of yes, true, 1, no, false, 0$/);
  });

  it("--no-json=no and --no-json=yes through the CLI, past yargs' strict check (which took no-json for an unknown flag)", async () => {
    const tiny = writeTinyBert();
    try {
      const json = await runMain(['inspect', tiny.path, '--no-json=no']);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ model: tiny.path });
      const table = await runMain(['inspect', tiny.path, '--no-json=yes']);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^.*model\.onnx$/m);
      expect(() => JSON.parse(table.stdout)).toThrow();
      const bad = await runMain(['inspect', tiny.path, '--no-json=maybe']);
      expect([bad.code, bad.stderr]).toEqual([2, "compress: --no-json 'maybe': expected one of yes, true, 1, no, false, 0\n"]);
      // (--noJson, which yargs reads as a flag noJson, not as --no-json: refused as --nojson is, where it was dropped unread)
      for (const typed of ['--noJson', '--noJson=yes']) {
        const camel = await runMain(['inspect', tiny.path, typed]);
        expect([camel.code, camel.stderr]).toEqual([2, 'compress: unknown flag --noJson (see --help)\n']);
      }
      // (--no-no-json and --no-noJson, which yargs reads as no-json and noJson false: refused, where they were dropped unread)
      for (const typed of ['--no-no-json', '--no-noJson']) {
        const twice = await runMain(['inspect', tiny.path, '--json', typed]);
        expect([twice.code, twice.stderr]).toEqual([2, `compress: unknown flag ${typed} (see --help)\n`]);
      }
    } finally {
      tiny.cleanup();
    }
  });

  it("--per-tensor's help gives its own default (off: per-channel), not its setting's", () => {
    const flag = PASS_DECLARATIONS.flatMap((d) => describePass(d).flags).find((f) => f.flag === '--per-tensor')!;
    expect(flag.help).toMatch(/\[default false, i\.e\. perChannel true\]$/);
  });
});

describe('values of the other flags and positional arguments', () => {
  it('takes what is given once, a number as a number, and a bare-meaning flag bare', () => {
    expect(parse('report', 's.db', '-o', 'out', '--seed', '3', '--tasks=sst2')).toMatchObject({ store: 's.db', out: 'out', seed: 3, tasks: 'sst2' });
    expect(parse('report', 's.db', '--optimize').optimize).toBe('');
    expect(parse('report', 's.db', '--optimize', '--seed', '1').optimize).toBe('');
  });

  it('refuses, as an internal error, a number flag declared with no range (integerFlags or numberFlags), whatever its value', () => {
    const options = { boolean: [], alias: { jobs: ['j'] }, array: [], number: ['jobs', 'j', 'lr'], string: [], key: { jobs: true, j: true, lr: true } };
    const ranges = { integers: { jobs: { min: 1 } }, numbers: { lr: { min: 0, above: true } } };
    expect(() => checkFlagValues({ jobs: 2, j: 2, lr: 0.5 }, options, ['-j', '2', '--lr', '0.5'], ranges)).not.toThrow();
    expect(() => checkFlagValues({ jobs: 2, j: 2, lr: 0.5 }, options, ['-j', '2', '--lr', '0.5'], { integers: ranges.integers })).toThrow(
      new Error('number flag --lr: declared with neither integerFlags nor numberFlags'),
    );
    // (a fault of the command's declaration, found whether or not the flag was given)
    expect(() => checkFlagValues({ jobs: 2, j: 2 }, options, ['-j', '2'], { integers: ranges.integers })).toThrow(
      new Error('number flag --lr: declared with neither integerFlags nor numberFlags'),
    );
  });

  it.each([
    [['report', 's.db', '-o', 'a', '-o', 'b'], '-o/--out given 2 times (a, b): give it once'],
    // (a value with a blank quoted as a shell takes it, where '(3 , 2)' and '(a b, c)' hid where each ended)
    [['report', 's.db', '-o', 'a b', '-o', 'c'], "-o/--out given 2 times ('a b', c): give it once"],
    [['report', 's.db', '--seed', '3 ', '--seed', '2'], "--seed given 2 times ('3 ', 2): give it once"],
    [['report', 's.db', '--optimize', '--optimize', '-o', 'x'], '--optimize given 2 times (without a value, without a value): give it once'],
    [['report', 's.db', '--seed', 'abc'], "--seed 'abc': expected an integer from 0 to 2^53 − 1"],
    [['report', 's.db', '--seed', ''], "--seed '': expected an integer from 0 to 2^53 − 1"],
    // (yargs reads these as 16, 3 and 7; the pass flags refuse them)
    [['report', 's.db', '--seed', '0x10'], "--seed '0x10': expected an integer from 0 to 2^53 − 1"],
    [['report', 's.db', '--seed=0b11'], "--seed '0b11': expected an integer from 0 to 2^53 − 1"],
    [['report', 's.db', '--seed', '0o7'], "--seed '0o7': expected an integer from 0 to 2^53 − 1"],
    [['report', 's.db', '--seed', '1e400'], '--seed 1e400: expected an integer from 0 to 2^53 − 1'],
    [['report', 's.db', '--seed=-Infinity'], "--seed '-Infinity': expected an integer from 0 to 2^53 − 1"],
    [['report', 's.db', '--out', ''], "-o/--out '': an empty value; give one (see --help)"],
    [['report', 's.db', '-o', ''], "-o/--out '': an empty value; give one (see --help)"],
    [['report', 's.db', '--tasks='], "--tasks '': an empty value; give one (see --help)"],
    [['report', 's.db', '--tasks', ' '], "--tasks ' ': an empty value; give one (see --help)"],
    [['report', 's.db', '--out'], '-o/--out: a value is needed after it'],
    [['report', 's.db', '--seed'], '--seed: an integer is needed after it'],
    [['report', 's.db', '--seed', '--out', 'x'], '--seed: an integer is needed after it'],
    [['report', 's.db', '--seed', '1', '--seed', '1', '--seed', '2'], '--seed given 3 times (1, 1, 2): give it once'],
    // (yargs adds a later 1 to the value before it: 3 and 1 read 4, 0 and 1 read 1)
    [['report', 's.db', '--seed', '3', '--seed', '1'], '--seed given 2 times (3, 1): give it once'],
    [['report', 's.db', '--seed=0', '--seed=1'], '--seed given 2 times (0, 1): give it once'],
    [['report', 's.db', '--optimize', ''], "--optimize '': an empty value; give one (see compress passes)"],
    [['report', 's.db', '--optimize='], "--optimize '': an empty value; give one (see compress passes)"],
    [['report', ''], "store '': an empty value; give one (see --help)"],
    // (yargs reads these as out false, which a path is then resolved from, and seed 0)
    [['report', 's.db', '--no-out'], '--no-out: --out takes a value and has no --no- form; leave it out for its default (see --help)'],
    [['report', 's.db', '--no-o'], '--no-o: -o takes a value and has no --no- form; leave it out for its default (see --help)'],
    [['report', 's.db', '--no-seed'], '--no-seed: --seed takes a value and has no --no- form; leave it out for its default (see --help)'],
    [['report', 's.db', '--no-optimize'], '--no-optimize: --optimize takes a value and has no --no- form; leave it out for its default (see compress passes)'],
  ])('%j is refused in one line', (argv, message) => {
    expect(refusal(() => parse(...argv))).toBe(message);
  });

  it('an integer flag past 2^53 − 1 (rounded by yargs, or 1e16) is refused naming its range and the value as typed, before any model is read', async () => {
    // (9007199254740993 said "--seed '9007199254740993': past 2^53 − 1 (9007199254740991) in size: larger whole numbers
    // are not read exactly", from this check, and 1e16 '--epochs 10000000000000000: expected …', the number yargs read)
    for (const [argv, message] of [
      [
        ['train', 'no-such.onnx', '--task', 'sst2', '-o', 'no-such/o.onnx', '--seed', '9007199254740993'],
        '--seed 9007199254740993: expected an integer from 0 to 2^53 − 1',
      ],
      [
        ['train', 'no-such.onnx', '--task', 'sst2', '-o', 'no-such/o.onnx', '--seed=-9007199254740993'],
        '--seed -9007199254740993: expected an integer from 0 to 2^53 − 1',
      ],
      [['train', 'no-such.onnx', '--task', 'sst2', '-o', 'no-such/o.onnx', '--epochs', ' 1e16'], '--epochs 1e16: expected an integer from 1 to 2^53 − 1'],
      [
        ['distill', '--teacher', 'no-such.onnx', '--task', 'sst2', '--student', 'bert:layers=1', '-o', 'no-such/o.onnx', '--augment', '9007199254740993'],
        '--augment 9007199254740993: expected an integer from 0 to 2^53 − 1',
      ],
      // a flag with a one-letter alias named as its other refusals name it ('-j/--jobs given 2 times', "-j/--jobs 'x':
      // expected an integer …"), however it was typed
      [['sweep', 'no-such.yaml', '-j', '2.0e16'], '-j/--jobs 2.0e16: expected an integer from 1 to 2^53 − 1'],
      [['sweep', 'no-such.yaml', '--jobs=0'], '-j/--jobs 0: expected an integer from 1 to 2^53 − 1'],
      [['sweep', 'no-such.yaml', '-j', '0x10'], "-j/--jobs '0x10': expected an integer from 1 to 2^53 − 1"],
      [['worker', '--queue', 'redis://127.0.0.1:1/0', '-c', '1.5'], '-c/--concurrency 1.5: expected an integer from 1 to 2^53 − 1'],
      [['worker', '--queue', 'redis://127.0.0.1:1/0', '--concurrency', '1e16'], '-c/--concurrency 1e16: expected an integer from 1 to 2^53 − 1'],
    ] as const) {
      const r = await runMain([...argv]);
      expect([r.code, r.stderr]).toEqual([2, `compress: ${message}\n`]);
    }
  });
});

describe('a one-letter string flag glued to its value (-oout.onnx)', () => {
  it("is asked to be written apart, and '-o=' refused as an empty value, where yargs' strict check said unexpected arguments 'u', 't' (or '=')", async () => {
    for (const [argv, message] of [
      [
        ['train', 'no-such.onnx', '--task', 'SST-2', '-oout.onnx'],
        "-oout.onnx: write -o out.onnx (glued to -o, a value that starts with a letter, a digit, '_' or '.' is not read as its value)",
      ],
      [
        ['export', 'no-such.onnx', '-o_m/model.onnx'],
        "-o_m/model.onnx: write -o _m/model.onnx (glued to -o, a value that starts with a letter, a digit, '_' or '.' is not read as its value)",
      ],
      // (from a '.', which yargs read as a flag 'o./m.onnx': an unexpected argument)
      [
        ['train', 'no-such.onnx', '--task', 'SST-2', '-o./m.onnx'],
        "-o./m.onnx: write -o ./m.onnx (glued to -o, a value that starts with a letter, a digit, '_' or '.' is not read as its value)",
      ],
      // (a value holding a blank or a line break shown as a shell takes it, where it was shown bare: 'write -o my m.onnx')
      [
        ['train', 'no-such.onnx', '--task', 'SST-2', '-omy m.onnx'],
        "'-omy m.onnx': write -o 'my m.onnx' (glued to -o, a value that starts with a letter, a digit, '_' or '.' is not read as its value)",
      ],
      [
        ['train', 'no-such.onnx', '--task', 'SST-2', "-om'\n.onnx"],
        "$'-om\\'\\n.onnx': write -o $'m\\'\\n.onnx' (glued to -o, a value that starts with a letter, a digit, '_' or '.' is not read as its value)",
      ],
      [['no-such.onnx', '--prune-ffn', '0.5', '-o='], "-o/--output '': an empty value; give one (see --help)"],
      // (as --output= is)
      [['no-such.onnx', '--prune-ffn', '0.5', '--output='], "-o/--output '': an empty value; give one (see --help)"],
    ] as const) {
      const r = await runMain([...argv]);
      expect([argv.join(' '), r.code, r.stderr]).toEqual([argv.join(' '), 2, `compress: ${message}\n`]);
    }
    // (a value yargs reads glued, a path from '/', or '=' before it, runs on to the model)
    for (const glued of ['-o/tmp/no-such-dir/m.onnx', '-o=no-such-dir/m.onnx']) {
      const r = await runMain(['train', 'no-such.onnx', '--task', 'SST-2', glued]);
      expect([glued, r.code, r.stderr]).toEqual([glued, 1, 'compress: no-such.onnx: no such model (train needs a model path)\n']);
    }
  });
});
