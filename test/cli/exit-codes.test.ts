/**
 * The CLI's exit codes and the words it meets a user with: a usage mistake (a flag, its value, a missing argument,
 * flags that do not go together) exits 2, whichever check finds it (yargs, the flag-value middleware, the command, a
 * pass's schema, a task name); a fault in what the command reads exits 1. `-h` is `--help`.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { commands } from '../../src/cli/commands/index.ts';
import { runMain } from '../helpers/cli.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-exit-codes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const model = writeModelFolder(join(root, 'model'), tinyBert({}, { std: 0.2 }));
const out = join(root, 'out', 'model.onnx');
const onnxFolder = join(root, 'folder', 'x.onnx'); // (a folder named like a model file)
mkdirSync(onnxFolder, { recursive: true });
writeFileSync(join(root, 'sweep.yaml'), `models: [${JSON.stringify(model)}]\npipelines:\n  base: []\n`);

// (compress reads its pass flags' order from process.argv)
let argv: string[];
beforeEach(() => void (argv = process.argv));
afterEach(() => void (process.argv = argv));
function cli(...args: string[]) {
  process.argv = [process.execPath, 'compress', ...args];
  return runMain(args);
}

describe('exit codes', () => {
  it.each([
    [['eval', model, '--task', 'SST-2', '--threads'], /^compress: --threads: an integer is needed after it$/],
    [['train', model, '--task', 'SST-2', '--epochs', 'x', '-o', out], /^compress: --epochs 'x': expected an integer from 1 to 2\^53 − 1$/],
    [['inspect', model, '--json=maybe'], /^compress: --json 'maybe': expected one of yes, true, 1, no, false, 0$/],
    [[model, '--prune-heads', 'abc', '-o', out], /^compress: prune-heads: ratio 'abc': expected a number in \[0, 1\) \(flag --prune-heads\)$/],
    [[model, '--importance', 'ablation', '-o', out], /^compress: --importance sets prune-heads's importance, but no --prune-heads is given$/],
    // a flag the command needs, left out: one wording, as yargs' 'missing --queue (see --help)'
    [[model, '--prune-heads', '0.5'], /^compress: missing -o\/--output: where to write the compressed model \(see --help\)$/],
    [['export', model], /^compress: missing -o\/--output: where to write the ONNX model \(see --help\)$/],
    [['train', model, '--task', 'SST-2'], /^compress: missing -o\/--output: where to write the trained model \(e\.g\. -o out\/model\.onnx\) \(see --help\)$/],
    [['train', model, '-o', out], /^compress: missing --task: the GLUE task to train on \(e\.g\. --task SST-2\) \(see --help\)$/],
    [['distill', '--student', 'every-other', '--task', 'SST-2', '-o', out], /^compress: missing --teacher: the model to distil from \(see --help\)$/],
    [
      ['distill', '--teacher', model, '--task', 'SST-2', '-o', out],
      /^compress: missing --student: a model path, every-other, bert:… or bilstm:… \(see --help\)$/,
    ],
    [['eval', model, '--tasks', 'FOO'], /^compress: unknown task 'FOO'/],
    [['eval', model, '--task', 'SST-2', '--batch-size', '0'], /^compress: --batch-size 0: expected an integer from 1 to 2\^53 − 1$/],
    [['train', model, '--task', 'FOO', '-o', out], /^compress: unknown task 'FOO'/],
    [['bench', model, '--batch', '0'], /^compress: --batch 0: expected an integer from 1 to 2\^53 − 1$/],
    [['inspect', model, '--jsno'], /^compress: unknown flag --jsno/],
    // a model argument written as a hub reference that is none: its syntax, before any download (both of distill's
    // and bench's model arguments first)
    [['eval', 'hf:org/x@', '--task', 'SST-2'], /^compress: hf:org\/x@: empty revision after '@' \(expected hf:org\/name\[@revision\], /],
    [['inspect', 'hf:'], /^compress: hf:: no repo name /],
    [['export', 'hf:a/b/c', '-o', out], /^compress: hf:a\/b\/c: repo 'a\/b\/c' has more than one '\/' /],
    [['distill', '--teacher', 'hf:org/name', '--student', 'hf:org/x@', '--task', 'SST-2', '-o', out], /^compress: hf:org\/x@: empty revision/],
    [['bench', 'hf:org/name', '--baseline', 'hf:'], /^compress: hf:: no repo name /],
    // --tokenizer written as a hub reference, which it does not take: one line, where it was read as a local folder
    // ('hf:org/name: no tokenizer.json, vocab.txt, …', exit 1, as if the repo had none)
    ...[
      ['eval', model, '--task', 'SST-2'],
      ['train', model, '--task', 'SST-2', '-o', out],
      ['distill', '--teacher', model, '--student', 'every-other', '--task', 'SST-2', '-o', out],
      ['export', model, '--format', 'transformers.js', '-o', join(root, 'tjs')],
      [model, '--quantize', 'int8', '--calibrate', 'SST-2', '-o', out],
    ].map((args): [string[], RegExp] => [
      [...args, '--tokenizer', 'hf:org/name'],
      /^compress: --tokenizer hf:org\/name: a hub reference, which --tokenizer does not take: give a local tokenizer folder or file \(an hf: model argument brings its own tokenizer files\)$/,
    ]),
    // -o's name, seen before any file is read, as --format transformers.js's -o file.onnx is
    [[model, '--prune-ffn', '0.5', '-o', join(root, 'noext')], /^compress: -o \S+noext: give a file name ending in \.onnx/],
    [[model, '--prune-ffn', '0.5', '-o', root], /^compress: -o \S+: \S+ is a folder; give a file name ending in \.onnx/],
    // (a folder named like a model file: as any folder, where compress exited 1 and export named the parent's side files)
    [
      [model, '--prune-ffn', '0.5', '-o', onnxFolder],
      /^compress: -o \S+x\.onnx: \S+x\.onnx is a folder; give a file name ending in \.onnx \(e\.g\. \S+x\.onnx\/model\.onnx\)$/,
    ],
    [
      ['export', model, '-o', onnxFolder],
      /^compress: -o \S+x\.onnx: \S+x\.onnx is a folder; give a file name ending in \.onnx \(e\.g\. \S+x\.onnx\/model\.onnx\)$/,
    ],
    [[model, '--prune-ffn', '0.5', '-o', join(root, 'out', 'config.json')], /^compress: -o \S+config\.json: the output would be named config\.json/],
    [['export', model, '-o', join(root, 'noext')], /^compress: -o \S+noext: give a file name ending in \.onnx/],
    [['train', model, '--task', 'SST-2', '-o', join(root, 'noext')], /^compress: -o \S+noext: give a file name ending in \.onnx/],
    [['train', model, '--task', 'SST-2', '-o', root], /^compress: -o \S+ is a folder: give the \.onnx file to write/],
    [
      ['distill', '--teacher', model, '--student', 'every-other', '--task', 'SST-2', '-o', join(root, 'noext')],
      /^compress: -o \S+noext: give a file name ending/,
    ],
    // --intermediate written as no file (a mistyped preset), as --student's value outside its forms: a usage mistake
    [
      ['distill', '--teacher', model, '--student', 'every-other', '--intermediate', 'tinybrt', '--task', 'SST-2', '-o', out],
      /^compress: --intermediate 'tinybrt': expected one of tinybert, pkd-skip, pkd-last, or a JSON or YAML file of matches \(no such file\)/,
    ],
    // a --student spec's form (every-other, bert:…, bilstm:…), as a pass flag's value, named by the flag as its other
    // refusals ('--student 'ever-other': …'), where it said "student 'bert:layerz=1': …"
    [
      ['distill', '--teacher', model, '--student', 'bert:layerz=1', '--task', 'SST-2', '-o', out],
      /^compress: --student 'bert:layerz=1': unknown setting 'layerz=1'/,
    ],
    [
      ['distill', '--teacher', model, '--student', 'bilstm:hidden=0', '--task', 'SST-2', '-o', out],
      /^compress: --student 'bilstm:hidden=0': hidden 0: expected an integer from 1 to 2\^53 − 1$/,
    ],
    // a bert:… spec's heads that do not divide the hidden width it gives (its own, or its default heads')
    [
      ['distill', '--teacher', model, '--student', 'bert:layers=1,hidden=30,heads=4', '--task', 'SST-2', '-o', out],
      /^compress: --student 'bert:layers=1,hidden=30,heads=4': hidden 30 is not divisible by heads 4$/,
    ],
    [
      ['distill', '--teacher', model, '--student', 'bert:hidden=200', '--task', 'SST-2', '-o', out],
      /^compress: --student 'bert:hidden=200': hidden 200 is not divisible by heads 3 \(the default for hidden 200: hidden \/ 64, rounded\); give heads=A, e\.g\. heads=4$/,
    ],
    // data download's task names and --base-url, as eval's --tasks
    [['data', 'download', '--tasks', 'FOO', '--dir', join(root, 'glue')], /^compress: unknown task 'FOO'/],
    // (no task: one refusal for both commands, which take --task and --tasks alike, where data download said
    // 'use --tasks NAME[,NAME…]' and eval 'use --task NAME')
    [['data', 'download', '--dir', join(root, 'glue')], /^compress: no task given: use --task NAME\[,NAME…\] or --tasks all$/],
    [['eval', model], /^compress: no task given: use --task NAME\[,NAME…\] or --tasks all$/],
    [['eval', model, '--task', ','], /^compress: no task given: use --task NAME\[,NAME…\] or --tasks all$/],
    [['data', 'download', '--tasks', 'SST-2', '--dir', join(root, 'glue'), '--base-url', 'notaurl'], /^compress: --base-url 'notaurl': not a URL/],
    // --threads as eval's
    [
      ['train', model, '--task', 'SST-2', '-o', out, '--threads', '-1'],
      /^compress: --threads -1: expected an integer from 0 to 256 \(0: one per physical core\)$/,
    ],
    [
      ['distill', '--teacher', model, '--student', 'every-other', '--task', 'SST-2', '-o', out, '--threads', '1000'],
      /^compress: --threads 1000: expected an integer from 0 to 256 /,
    ],
    // bench's timing flags, as its --batch
    [['bench', model, '--repeats', '0'], /^compress: --repeats 0: expected an integer from 1 to 2\^53 − 1$/],
    [['bench', model, '--warmup', '-1'], /^compress: --warmup -1: expected an integer from 0 to 2\^53 − 1$/],
    [['bench', model, '--max-time', '0'], /^compress: --max-time 0: expected a number of seconds greater than 0$/],
    [['bench', model, '--threads', '-1'], /^compress: --threads -1: expected an integer from 0 to 256 \(0: one per physical core\)$/],
    // calibration's task, number of examples and length, as train's --task and --max-length
    [[model, '--quantize', 'int8-static', '--calibrate', 'FOO', '-o', out], /^compress: unknown task 'FOO'/],
    [[model, '--quantize', 'int8-static', '--calibrate', 'AX', '-o', out], /^compress: --calibrate AX: AX has no train split /],
    [
      [model, '--quantize', 'int8-static', '--calibrate', 'SST-2', '--calibration-examples', '0', '-o', out],
      /^compress: --calibration-examples 0: expected an integer from 1 to 2\^53 − 1$/,
    ],
    [
      [model, '--prune-heads', '0.5', '--importance', 'gradient', '--calibrate', 'SST-2', '--calibration-examples', '1.5', '-o', out],
      /^compress: --calibration-examples 1.5: expected an integer from 1 to 2\^53 − 1$/,
    ],
    [
      [model, '--quantize', 'mixed:0.5', '--calibrate', 'SST-2', '--max-length', '0', '-o', out],
      /^compress: --max-length 0: expected an integer from 2 to 2\^53 − 1$/,
    ],
    [
      [model, '--quantize', 'mixed:0.5', '--calibrate', 'SST-2', '--max-length', '1', '-o', out],
      /^compress: --max-length 1: expected an integer from 2 to 2\^53 − 1$/,
    ],
    // --max-length below 2 (no token of text between [CLS] and [SEP]): eval's as train's, before the model is read
    [['eval', model, '--task', 'SST-2', '--max-length', '1'], /^compress: --max-length 1: expected an integer from 2 to 2\^53 − 1$/],
    [['eval', join(root, 'absent'), '--task', 'SST-2', '--max-length', '0'], /^compress: --max-length 0: expected an integer from 2 to 2\^53 − 1$/],
    [['train', model, '--task', 'SST-2', '-o', out, '--max-length', '1'], /^compress: --max-length 1: expected an integer from 2 to 2\^53 − 1$/],
    // an -o (eval's --out) naming a file of the input: the command line names the input as its output
    [
      [model, '--prune-ffn', '0.5', '-o', join(model, 'model.onnx')],
      /^compress: -o \S+: the output \S+ is one of the input model's files .*refusing to overwrite it$/,
    ],
    [['train', model, '--task', 'SST-2', '-o', join(model, 'model.onnx')], /^compress: -o \S+: refusing to overwrite the input model /],
    [
      ['train', model, '--task', 'SST-2', '-o', join(model, 'other.onnx')],
      /^compress: -o \S+: the folder of the input model \S+ would get the output's config\.json/,
    ],
    [
      ['eval', model, '--task', 'SST-2', '--out', join(model, 'config.json')],
      /^compress: --out \S+: \S+ is one of the evaluated model's files .*refusing to overwrite it$/,
    ],
    // a --store or --out naming a folder, as an -o naming one
    [['sweep', join(root, 'sweep.yaml'), '--store', root], /^compress: --store \S+: \S+ is a folder; give a file name$/],
    [['sweep', join(root, 'sweep.yaml'), '--store', root, '--dry-run'], /^compress: --store \S+: \S+ is a folder; give a file name$/],
    [['eval', model, '--task', 'SST-2', '--out', root], /^compress: --out \S+: \S+ is a folder; give a file name$/],
  ])('a usage mistake exits 2: %j', async (args, message) => {
    const r = await cli(...args);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect([r.code, r.stdout]).toEqual([2, '']);
  });

  // a folder the command line names that a name cannot make folders of (a file, or under one), as an -o naming a folder
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  const under = join(file, 'sub');
  it.each([
    [['sweep', join(root, 'sweep.yaml'), '--work-dir', under], '--work-dir'],
    [['sweep', join(root, 'sweep.yaml'), '--store', join(under, 's.sqlite')], '--store'],
    [['report', join(root, 'absent.sqlite'), '--out', file], '--out'],
    [['worker', '--queue', 'redis://127.0.0.1:1/0', '--cache-dir', under], '--cache-dir'],
    [['worker', '--queue', 'redis://127.0.0.1:1/0', '--work-dir', file], '--work-dir'],
    [['distill', '--teacher', model, '--student', 'every-other', '--task', 'SST-2', '-o', out, '--cache-dir', file], '--cache-dir'],
    [['eval', model, '--task', 'SST-2', '--out', join(under, 'r.json')], '--out'],
    [['eval', model, '--task', 'SST-2', '--split', 'test', '--submission', under], '--submission'],
    [['data', 'download', '--tasks', 'SST-2', '--dir', file], '--dir'],
    [[model, '--prune-ffn', '0.5', '-o', join(under, 'model.onnx')], '-o'],
    [['export', model, '--format', 'transformers.js', '-o', join(under, 'web')], '-o'],
    [['train', model, '--task', 'SST-2', '-o', join(under, 'model.onnx')], '-o'],
  ])('a file where a folder is wanted, or a path under a file, is a usage mistake, exit 2: %j', async (args, flag) => {
    const r = await cli(...args);
    expect(r.stderr).toMatch(new RegExp(`^compress: ${flag} \\S+: \\S+a-file is a file, not a folder\n$`));
    expect([r.code, r.stdout]).toEqual([2, '']);
  });

  // a folder the command line names that is a link to a missing folder (a disk not mounted), or lies under one: the
  // name given, as a file there is, where ensureFolder named it only once the command created its folders (exit 1)
  const dangling = join(root, 'to-nothing');
  symlinkSync(join(root, 'missing-folder'), dangling);
  const beyond = join(dangling, 'sub');
  it.each([
    [['sweep', join(root, 'sweep.yaml'), '--work-dir', dangling], '--work-dir'],
    [['sweep', join(root, 'sweep.yaml'), '--store', join(beyond, 's.sqlite')], '--store'],
    [['report', join(root, 'absent.sqlite'), '--out', dangling], '--out'],
    [['worker', '--queue', 'redis://127.0.0.1:1/0', '--cache-dir', beyond], '--cache-dir'],
    [['distill', '--teacher', model, '--student', 'every-other', '--task', 'SST-2', '-o', out, '--cache-dir', dangling], '--cache-dir'],
    [['eval', model, '--task', 'SST-2', '--out', join(dangling, 'r.json')], '--out'],
    [['eval', model, '--task', 'SST-2', '--split', 'test', '--submission', dangling], '--submission'],
    [['eval', model, '--task', 'SST-2', '--split', 'test', '--submission', beyond], '--submission'],
    [['data', 'download', '--tasks', 'SST-2', '--dir', dangling], '--dir'],
    [[model, '--prune-ffn', '0.5', '-o', join(dangling, 'model.onnx')], '-o'],
    [[model, '--prune-ffn', '0.5', '--format', 'transformers.js', '-o', dangling], '-o'],
    [['export', model, '--format', 'transformers.js', '-o', join(beyond, 'web')], '-o'],
    [['train', model, '--task', 'SST-2', '-o', join(dangling, 'model.onnx')], '-o'],
  ])('a link to a missing folder where a folder is wanted, or a path under one, is a usage mistake, exit 2: %j', async (args, flag) => {
    const r = await cli(...args);
    expect(r.stderr).toBe(
      `compress: ${flag} ${args[args.indexOf(flag) + 1]}: ${dangling} is a link to ${join(root, 'missing-folder')}, which does not exist; create it or give another path\n`,
    );
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(existsSync(join(root, 'missing-folder'))).toBe(false);
  });

  // a name the file system would refuse as too long (a name over NAME_MAX bytes, a path over PATH_MAX), named by its flag
  const long = 'n'.repeat(300);
  const deep = join(root, ...Array<string>(21).fill('d'.repeat(200))); // 21 names of 200 bytes: past 4,095 bytes
  it.each([
    [[model, '--prune-ffn', '0.5', '-o', join(root, `${long}.onnx`)], '-o', /the file name …n{19}\.onnx is too long \(305 bytes; at most 234, /],
    [[model, '--prune-ffn', '0.5', '-o', join(root, long, 'model.onnx')], '-o', /the folder name …n{24} is too long \(300 bytes; at most 255\)/],
    [[model, '--prune-ffn', '0.5', '--format', 'transformers.js', '-o', join(root, long)], '-o', /the folder name …n{24} is too long/],
    [['export', model, '-o', join(deep, 'model.onnx')], '-o', /the path is too long \(42\d\d bytes as an absolute path; at most 4074, /],
    [['train', model, '--task', 'SST-2', '-o', join(root, `${'n'.repeat(228)}.onnx`)], '-o', /the file name …n{14}\.onnx\.json is too long \(238 bytes/],
    [
      ['distill', '--teacher', model, '--student', 'every-other', '--task', 'SST-2', '-o', out, '--cache-dir', deep],
      '--cache-dir',
      /the path is too long \(42\d\d bytes as an absolute path; at most 4095\)/,
    ],
    [['sweep', join(root, 'sweep.yaml'), '--store', join(root, long, 's.sqlite')], '--store', /the folder name …n{24} is too long/],
    [['sweep', join(root, 'sweep.yaml'), '--work-dir', join(root, long)], '--work-dir', /the folder name …n{24} is too long/],
    [['worker', '--queue', 'redis://127.0.0.1:1/0', '--work-dir', join(root, long)], '--work-dir', /the folder name …n{24} is too long/],
    [['report', join(root, 'absent.sqlite'), '--out', join(root, long)], '--out', /the folder name …n{24} is too long/],
    [['eval', model, '--task', 'SST-2', '--out', join(root, long, 'r.json')], '--out', /the folder name …n{24} is too long/],
    [['eval', model, '--task', 'SST-2', '--split', 'test', '--submission', join(root, long)], '--submission', /the folder name …n{24} is too long/],
    [['data', 'download', '--tasks', 'SST-2', '--dir', join(root, long)], '--dir', /the folder name …n{24} is too long/],
  ])('a name too long for the file system is a usage mistake naming its flag, exit 2: %j', async (args, flag, message) => {
    const r = await cli(...(args as string[]));
    expect(r.stderr).toMatch(new RegExp(`^compress: ${flag} \\S+: ${(message as RegExp).source}.*\n$`));
    expect([r.code, r.stdout]).toEqual([2, '']);
  });

  it('--format transformers.js -o naming a file: a usage mistake, exit 2', async () => {
    const r = await cli(model, '--prune-ffn', '0.5', '--format', 'transformers.js', '-o', file);
    expect(r.stderr).toMatch(/^compress: -o \S+a-file: \S+a-file is a file; with --format transformers\.js, -o is the folder to write\n$/);
    expect([r.code, r.stdout]).toEqual([2, '']);
  });

  it('--format transformers.js -o the folder the input model is in (one it wrote): a usage mistake, exit 2', async () => {
    const folder = join(root, 'tjs');
    expect((await cli(model, '--prune-ffn', '0.25', '--format', 'transformers.js', '-o', folder)).code).toBe(0);
    const r = await cli(join(folder, 'onnx', 'model.onnx'), '--prune-ffn', '0.5', '--format', 'transformers.js', '-o', folder);
    expect(r.stderr.trim()).toMatch(/^compress: -o \S+: \S+ is one of the input model's files; refusing to write over it$/);
    expect([r.code, r.stdout]).toEqual([2, '']);
  });

  it.each([
    [['inspect', '--', model], `'${model}'`],
    [[model, '--prune-ffn', '0.5', '-o', out, '--', 'extra'], "'extra'"],
    [['report', join(root, 'absent.sqlite'), '--', '--out', join(root, 'r')], `'--out', '${join(root, 'r')}'`],
  ])("words after '--', which no command reads, are a usage mistake naming them, exit 2, where yargs passed them over: %j", async (args, named) => {
    const r = await cli(...args);
    expect(r.stderr).toBe(
      `compress: unexpected argument${args.length - args.indexOf('--') > 2 ? 's' : ''} ${named} after '--': no command reads words after it; give them before '--' (a path starting with '-' as ./-x.onnx) (see --help)\n`,
    );
    expect([r.code, r.stdout]).toEqual([2, '']);
  });

  it('a --work-dir that takes no files (/proc) fails a sweep of baselines alone, which writes no model there, exit 1, leaving no store', async () => {
    const glueDir = join(root, 'glue-base');
    writeGlueTask(glueDir, 'SST-2', 4);
    const sweep = join(root, 'baselines.yaml');
    writeFileSync(sweep, `models:\n  - {path: ${JSON.stringify(model)}, tasks: [SST-2]}\ncalibration: false\npipelines: [baseline]\n`);
    const store = join(root, 'baselines', 'store.sqlite');
    const r = await cli('sweep', sweep, '--store', store, '--glue-dir', glueDir, '--work-dir', '/proc/x');
    expect(r.stderr).toMatch(/^compress: --work-dir \/proc\/x: cannot create folder \/proc\/x: \/proc takes no new files .*\n$/);
    expect([r.code, r.stdout]).toEqual([1, '']);
    // (checked before the store opens: neither the store nor the folder made for it is left)
    expect(existsSync(dirname(store))).toBe(false);
  });

  it('a BERT_COMPRESS_ORT_LOG_LEVEL other than 0-4 is refused in one line before any work, exit 2 (a bad value of a setting), where it was passed over', async () => {
    const folder = join(root, 'log-level');
    process.argv = [process.execPath, 'compress', model, '--prune-ffn', '0.5', '-o', join(folder, 'model.onnx')];
    const r = await runMain([model, '--prune-ffn', '0.5', '-o', join(folder, 'model.onnx')], { BERT_COMPRESS_ORT_LOG_LEVEL: 'verbose' });
    expect(r.stderr).toBe(
      "compress: BERT_COMPRESS_ORT_LOG_LEVEL 'verbose': expected 0 (verbose), 1 (info), 2 (warning), 3 (error) or 4 (fatal only, as when unset)\n",
    );
    expect([r.code, r.stdout, existsSync(folder)]).toEqual([2, '', false]);
  });

  it('a BERT_COMPRESS_ORT_LOG_LEVEL it cannot read leaves --help and the commands that start no onnxruntime session alone, which never read it', async () => {
    const env = { BERT_COMPRESS_ORT_LOG_LEVEL: 'verbose' };
    const help = await runMain(['--help'], env);
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^compress <command> \[options\]/);
    const trainHelp = await runMain(['train', '--help'], env);
    expect([trainHelp.code, trainHelp.stderr]).toEqual([0, '']);
    const passes = await runMain(['passes'], env);
    expect([passes.code, passes.stderr]).toEqual([0, '']);
    const report = await runMain(['report', join(root, 'no-store.sqlite')], env);
    expect([report.code, report.stderr]).toEqual([1, expect.stringMatching(/^compress: .*no-store\.sqlite.*\n$/)]);
  });

  it('a blank GLUE_BASE_URL is unset, as a blank HF_ENDPOINT is, and blanks around it are not part of it', async () => {
    // (a folder whose download cache is a file: refused once the base URL is read, before anything is fetched)
    const dir = join(root, 'glue-cache-file');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.downloads'), '');
    for (const value of [' ', ' ftp://mirror ']) {
      const r = await runMain(['data', 'download', '--tasks', 'SST-2', '--dir', dir], { GLUE_BASE_URL: value });
      // (' ': the official URLs, the command going on to its folder; ' ftp://mirror ': the URL refused as it is written)
      expect(r.stderr, value).toMatch(
        value === ' '
          ? /^compress: --dir .*glue-cache-file: .*\.downloads \(the download cache\) is a file/
          : /^compress: GLUE_BASE_URL 'ftp:\/\/mirror': only http/,
      );
    }
  });

  it.each([
    ['BERT_COMPRESS_MACHINE_LOAD', 'no', () => ['bench', model], /^compress: BERT_COMPRESS_MACHINE_LOAD 'no': expected off /],
    ['HF_HUB_DOWNLOAD_TIMEOUT', '-3', () => ['eval', 'hf:org/model', '--task', 'SST-2'], /^compress: HF_HUB_DOWNLOAD_TIMEOUT -3: /],
    ['HF_ENDPOINT', 'notaurl', () => ['eval', 'hf:org/model', '--task', 'SST-2'], /^compress: HF_ENDPOINT 'notaurl': not a URL/],
    [
      'GLUE_BASE_URL',
      'ftp://mirror',
      () => ['data', 'download', '--tasks', 'SST-2', '--dir', join(root, 'env-glue')],
      /^compress: GLUE_BASE_URL 'ftp:\/\/mirror': /,
    ],
  ])(
    "a bad %s (%s) is a bad value of a setting, as a flag's is: one line, exit 2, where it exited 1 as a fault in what the command read",
    async (name, value, args, message) => {
      const r = await runMain(args(), { [name]: value, HF_HUB_OFFLINE: '', HF_HOME: join(root, 'env-hf') });
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect([r.code, r.stdout, existsSync(join(root, 'env-glue'))]).toEqual([2, '', false]);
    },
  );

  it.each([
    [['eval', join(root, 'absent.onnx'), '--task', 'SST-2'], /absent\.onnx: no such file or folder/],
    [['inspect', join(root, 'absent.onnx')], /absent\.onnx/],
    // (a file of matches written as one, missing: what the command could not read)
    [
      ['distill', '--teacher', model, '--student', 'every-other', '--intermediate', join(root, 'matches.yaml'), '--task', 'SST-2', '-o', out],
      /--intermediate '\S+matches\.yaml': expected one of tinybert, pkd-skip, pkd-last, or a JSON or YAML file of matches \(no such file\)/,
    ],
    [
      ['distill', '--teacher', model, '--student', 'every-other', '--intermediate', 'matches.JSON', '--task', 'SST-2', '-o', out],
      /--intermediate 'matches\.JSON': .* \(no such file\)/,
    ],
  ])('a fault in what the command reads exits 1: %j', async (args, message) => {
    const r = await cli(...args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(1);
  });
});

describe('-h', () => {
  const names = commands.map((c) => String(c.command).split(' ')[0]!).filter((n) => n !== '$0');
  it.each(['', ...names])('is --help for compress %s', async (command) => {
    const words = command ? [command] : [];
    const long = await cli(...words, '--help');
    const short = await cli(...words, '-h');
    expect([short.code, short.stderr]).toEqual([0, '']);
    expect(long.stdout).toMatch(/--help/);
    expect(short.stdout).toBe(long.stdout);
  });
});

describe('an unknown command', () => {
  it("before a model, far from every command, is named as one, listing the commands (not 'unexpected argument MODEL')", async () => {
    for (const words of [
      ['evaluate', model],
      ['--verbose', 'evaluate', model],
      ['evaluate', 'hf:org/name'],
    ]) {
      const r = await cli(...words, '--task', 'SST-2');
      expect(r.stderr).toMatch(/^compress: unknown command 'evaluate' \(the commands: inspect, eval, [^)]*\) \(see --help\)\n$/);
      expect(r.code).toBe(2);
    }
    // a word that names a file is still the default command's model
    const plain = await cli(join(root, 'absent.onnx'), model);
    expect(plain.stderr).not.toMatch(/unknown command/);
  });

  it("alone, far from every command and no file, is named as one, listing the commands, where it said 'no pass given: use --prune-heads, …'", async () => {
    for (const words of [['frobnicate'], ['--verbose', 'frobnicate'], ['frobnicate', '--verbose']]) {
      const r = await cli(...words);
      expect(r.stderr).toMatch(
        /^compress: unknown command 'frobnicate', and no file or folder of that name \(the commands: inspect, eval, [^)]*\) \(see --help\)\n$/,
      );
      expect(r.code).toBe(2);
    }
  });
});

describe('the calibration note', () => {
  const glueDir = join(root, 'glue');
  writeGlueTask(glueDir, 'SST-2', 12, ['train']);
  const calibrate = (...flags: string[]) =>
    cli(model, '--quantize', 'int8-static', '--calibrate', 'SST-2', '--glue-dir', glueDir, ...flags, '-o', join(root, `cal-${flags.length}`, 'model.onnx'));

  it('names the default number of examples as the default where --calibration-examples was not given, and the flag where it was', async () => {
    const implicit = await calibrate();
    expect(implicit.code, implicit.stderr).toBe(0);
    expect(implicit.stderr).toMatch(/^warning: the default \d+ calibration examples: SST-2's train split has 12 labelled examples; calibrating on those$/m);
    expect(implicit.stderr).not.toMatch(/--calibration-examples/);
    const given = await calibrate('--calibration-examples', '100');
    expect(given.code, given.stderr).toBe(0);
    expect(given.stderr).toMatch(/^warning: --calibration-examples 100: SST-2's train split has 12 labelled examples; calibrating on those$/m);
  });

  it("counts one labelled example in the singular ('has 1 labelled example'), where it said '1 labelled examples'", async () => {
    const oneDir = join(root, 'glue-one');
    writeGlueTask(oneDir, 'SST-2', 1, ['train']);
    const r = await cli(model, '--quantize', 'int8-static', '--calibrate', 'SST-2', '--glue-dir', oneDir, '-o', join(root, 'cal-one', 'model.onnx'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: the default \d+ calibration examples: SST-2's train split has 1 labelled example; calibrating on those$/m);
  });
});

// A line compress writes on a run that ends well (exit 0, the model written) is a warning, as every command writes
// one ('warning: …'), not 'compress: …', the form of the line a failed run ends with.
describe("compress's warnings on a config.json it keeps", () => {
  const describing = (stderr: string) => stderr.split('\n').find((line) => line.includes('still describes it'));

  it("says the input's config.json, kept beside an output written into the input's folder, in a warning", async () => {
    const dir = writeModelFolder(join(root, 'own'), tinyBert({}, { std: 0.2 }));
    const r = await cli(dir, '--drop-layers', '1', '-o', join(dir, 'small.onnx'));
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'small.onnx'))).toBe(true);
    expect(describing(r.stderr)).toMatch(
      new RegExp(
        `^warning: ${join(dir, 'config.json')} is the input's and still describes it \\(.*num_hidden_layers: none → 1.*\\); write into another folder for a config\\.json of this model$`,
      ),
    );
    expect(r.stderr).not.toMatch(/^compress: /m);
  });

  it('says a config.json written for another model beside the output in a warning', async () => {
    const dir = join(root, 'siblings');
    const a = await cli(model, '--drop-layers', '1', '-o', join(dir, 'a.onnx'));
    expect(a.code, a.stderr).toBe(0);
    const r = await cli(model, '--prune-ffn', '0.5', '-o', join(dir, 'b.onnx'));
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'b.onnx'))).toBe(true);
    expect(describing(r.stderr)).toBe(
      `warning: ${join(dir, 'config.json')} was written for a.onnx beside it and still describes it (num_hidden_layers: 1 → 2, intermediate_size: 64 → 32); write into another folder for a config.json of this model, or pass --force to write it over`,
    );
    expect(r.stderr).not.toMatch(/^compress: /m);
  });
});
