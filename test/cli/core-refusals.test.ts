/**
 * Bad input to the core commands (compress, eval, bench, data, export, inspect), as a user runs them: one line on
 * stderr, a non-zero exit, and nothing written (not even into the current folder).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTinyBert } from '../helpers/models.ts';
import { runMain } from '../helpers/cli.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { writeTinySweep } from '../sweep/tiny-sweep.ts';

const BIN = resolve(__dirname, '../../bin/compress.mjs');
const tiny = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
afterAll(() => tiny.cleanup());
let n = 0;

/**
 * Runs the CLI's main (in this process: test/helpers/cli.ts) in a fresh empty folder; returns its exit code, output
 * and what the folder holds afterwards. (The download and the closed-stdout cases below spawn bin/compress.mjs.)
 */
async function run(...args: string[]) {
  const cwd = join(tiny.dir, `cwd-${n++}`);
  mkdirSync(cwd);
  const r = await runMain(args, {}, cwd);
  return { ...r, left: readdirSync(cwd) };
}

describe('core commands refuse bad input in one line, writing nothing', () => {
  const out = () => join(tiny.dir, `out-${n++}`, 'm.onnx');
  it.each([
    ['eval --submission ""', () => ['eval', tiny.dir, '--task', 'SST-2', '--split', 'test', '--submission', ''], /--submission '': an empty value/],
    ['eval --out ""', () => ['eval', tiny.dir, '--task', 'SST-2', '--out', ''], /--out '': an empty value/],
    ['eval --glue-dir ""', () => ['eval', tiny.dir, '--task', 'SST-2', '--glue-dir', ''], /--glue-dir '': an empty value/],
    ['compress --tokenizer ""', () => [tiny.path, '--prune-ffn', '0.5', '--tokenizer', '', '-o', out()], /--tokenizer '': an empty value/],
    ['export -o ""', () => ['export', tiny.dir, '-o', ''], /--output '': an empty value/],
    // (yargs reads a positional '-' as '', which was refused as "model '': an empty value")
    [
      "compress - (a model '-')",
      () => ['-', '--prune-ffn', '0.5', '-o', out()],
      /^compress: model '-': no argument takes '-' for stdin or stdout; write \.\/- to give a file named '-' \(see --help\)$/m,
    ],
    ["report - (a store '-')", () => ['report', '-'], /^compress: store '-': no argument takes '-' for stdin/m],
    ['bench --baseline ""', () => ['bench', tiny.path, '--baseline', ''], /--baseline '': an empty value/],
    ['bench --seq ""', () => ['bench', tiny.path, '--seq', ''], /--seq '': an empty value/],
    [
      'a negative number is a value: the unknown flag after it is named',
      () => ['bench', tiny.path, '--threads', '-1', '--bogus'],
      /^compress: unknown flag --bogus \(see --help\)$/m,
    ],
    [
      'an unknown flag one or two edits from a declared one is asked about (compress --prune-head)',
      () => [tiny.path, '--prune-head', '0.25', '-o', out()],
      /^compress: unknown flag --prune-head \(did you mean --prune-heads\?\) \(see --help\)$/m,
    ],
    [
      "the matched command's own flags are suggested (eval --max-lenght, bench --seqs), each of several",
      () => ['eval', tiny.dir, '--task', 'SST-2', '--max-lenght', '64', '--jsn'],
      /^compress: unknown flags --max-lenght \(did you mean --max-length\?\), --jsn \(did you mean --json\?\) \(see --help\)$/m,
    ],
    [
      'a flag with a dot is unknown, not an option path (eval --task.x SST-2)',
      () => ['eval', tiny.dir, '--task.x', 'SST-2'],
      /^compress: unknown flag --task\.x \(did you mean --tasks\?\) \(see --help\)$/m,
    ],
    [
      'eval --threads.a 3',
      () => ['eval', tiny.dir, '--task', 'SST-2', '--threads.a', '3'],
      /^compress: unknown flag --threads\.a \(did you mean --threads\?\) \(see --help\)$/m,
    ],
    // an unknown flag named as written: a one-letter one with two dashes, a negated one
    ['eval --x', () => ['eval', tiny.dir, '--task', 'SST-2', '--x'], /^compress: unknown flag --x \(see --help\)$/m],
    ['eval --no-x', () => ['eval', tiny.dir, '--task', 'SST-2', '--no-x'], /^compress: unknown flag --no-x \(see --help\)$/m],
    [
      'eval --no-jsn',
      () => ['eval', tiny.dir, '--task', 'SST-2', '--no-jsn'],
      /^compress: unknown flag --no-jsn \(did you mean --no-json\?\) \(see --help\)$/m,
    ],
    ['bench --seqs', () => ['bench', tiny.path, '--seqs', '8'], /^compress: unknown flag --seqs \(did you mean --seq\?\) \(see --help\)$/m],
    // an unknown flag's value starting with '-' and a letter, which yargs reads as one-letter flags ('I', 'n', 'f', …)
    [
      'eval --max-examples -Infinity',
      () => ['eval', tiny.dir, '--task', 'SST-2', '--max-examples', '-Infinity'],
      /^compress: unknown flag --max-examples \(given -Infinity\) \(see --help\)$/m,
    ],
    [
      'eval --max-lenght -Infinity',
      () => ['eval', tiny.dir, '--task', 'SST-2', '--max-lenght', '-Infinity'],
      /^compress: unknown flag --max-lenght \(given -Infinity; did you mean --max-length\?\) \(see --help\)$/m,
    ],
    // (after a flag taking no value, the word itself, where its letters were listed)
    [
      'eval --json -Infinity',
      () => ['eval', tiny.dir, '--task', 'SST-2', '--json', '-Infinity'],
      /^compress: unexpected argument '-Infinity' \(see --help\)$/m,
    ],
    ['train -e -inf', () => ['train', tiny.dir, '--task', 'SST-2', '-e', '-inf'], /^compress: unknown flag -e \(given -inf\) \(see --help\)$/m],
    [
      'a value starting with - (bench --seq -1,8)',
      () => ['bench', tiny.path, '--seq', '-1,8'],
      /^compress: --seq -1,8: a value starting with '-' is read as a flag; write --seq=-1,8$/m,
    ],
    // (a value holding a blank quoted as a shell takes it, where 'write --seq=-1, 8' made two words of it)
    [
      "a value starting with - and holding a blank (bench --seq '-1, 8')",
      () => ['bench', tiny.path, '--seq', '-1, 8'],
      /^compress: --seq '-1, 8': a value starting with '-' is read as a flag; write '--seq=-1, 8'$/m,
    ],
    [
      "compress -o '-my model.onnx'",
      () => [tiny.path, '--prune-ffn', '0.5', '-o', '-my model.onnx'],
      /^compress: -o '-my model\.onnx': a value starting with '-' is read as a flag; write '-o=-my model\.onnx'$/m,
    ],
    [
      'a value starting with - and a letter after a flag taking one (compress -o -x.onnx)',
      () => [tiny.path, '--prune-ffn', '0.5', '-o', '-x.onnx'],
      /^compress: -o -x\.onnx: a value starting with '-' is read as a flag; write -o=-x\.onnx$/m,
    ],
    [
      'a value starting with -- and a name no flag has, after a flag taking one (compress --output --x.onnx)',
      () => [tiny.path, '--prune-ffn', '0.5', '--output', '--x.onnx'],
      /^compress: --output --x\.onnx: a value starting with '-' is read as a flag; write --output=--x\.onnx$/m,
    ],
    [
      '-o --a/b.onnx',
      () => [tiny.path, '--prune-ffn', '0.5', '-o', '--a/b.onnx'],
      /^compress: -o --a\/b\.onnx: a value starting with '-' is read as a flag; write -o=--a\/b\.onnx$/m,
    ],
    [
      'eval --out -',
      () => ['eval', tiny.dir, '--task', 'SST-2', '--out', '-'],
      /^compress: --out -: no flag takes '-' for stdin or stdout; write --out=- to give '-' itself$/m,
    ],
    ['eval with no model', () => ['eval', '--task', 'SST-2'], /^compress: missing <model> \(compress eval <model>; see --help\)$/m],
    ['compress with no model', () => ['--prune-ffn', '0.5', '-o', 'm.onnx'], /^compress: missing <model> \(compress <model>; see --help\)$/m],
    // (an unknown flag before the positional argument, which yargs gave it as its value: said 'missing <model>')
    ['eval --bogus MODEL', () => ['eval', '--bogus', tiny.dir, '--task', 'SST-2'], /^compress: unknown flag --bogus \(see --help\)$/m],
    ['report -q STORE', () => ['report', '-q', join(tiny.dir, 'no-such.sqlite')], /^compress: unknown flag -q \(see --help\)$/m],
    [
      'compress --prunes-heads MODEL',
      () => ['--prunes-heads', tiny.path, '-o', out()],
      /^compress: unknown flag --prunes-heads \(did you mean --prune-heads\?\) \(see --help\)$/m,
    ],
    ['worker with no --queue', () => ['worker'], /^compress: missing --queue \(see --help\)$/m],
    // (in the command's empty folder: no file of that name)
    ['a misspelt command (compress pases)', () => ['pases'], /^compress: unknown command 'pases' \(did you mean passes\?\) \(see --help\)$/m],
    // (quoted as a shell takes it, quotedText: where '${x}' by hand wrote 'swep'' and 'a\nb' broke the line's quotes)
    ['a misspelt command holding a quote', () => ["swep'"], /^compress: unknown command 'swep'\\''' \(did you mean sweep\?\) \(see --help\)$/m],
    [
      'a misspelt command before a model (compress inspct MODEL)',
      () => ['inspct', tiny.path],
      /^compress: unknown command 'inspct' \(did you mean inspect\?\) \(see --help\)$/m,
    ],
    ['a misspelt command after --verbose', () => ['--verbose', 'pases'], /^compress: unknown command 'pases' \(did you mean passes\?\) \(see --help\)$/m],
    [
      'a misspelt command after --no-verbose, before a model',
      () => ['--no-verbose', 'inspct', tiny.path],
      /^compress: unknown command 'inspct' \(did you mean inspect\?\) \(see --help\)$/m,
    ],
    [
      'a command in capitals (compress EVAL MODEL)',
      () => ['EVAL', tiny.dir, '--task', 'SST-2'],
      /^compress: unknown command 'EVAL' \(did you mean eval\?\) \(see --help\)$/m,
    ],
    ['inspect ""', () => ['inspect', ''], /^compress: model '': an empty value; give one \(see --help\)$/m],
    ['compress -o ""', () => [tiny.path, '--prune-ffn', '0.5', '-o', ''], /-o\/--output '': an empty value/],
    ['compress --optimize ""', () => [tiny.path, '--optimize', '', '-o', out()], /--optimize '': an empty value; give one \(see compress passes\)/],
    // a pass flag without its value reads as every flag's does, not as a value '' ('share '': expected …')
    ['compress --share-layers -o', () => [tiny.path, '--share-layers', '-o', out()], /^compress: --share-layers: a value is needed after it$/m],
    ['compress … --quantize (last)', () => [tiny.path, '-o', out(), '--quantize'], /^compress: --quantize: a value is needed after it$/m],
    [
      'compress --quantize-embeddings=maybe',
      () => [tiny.path, '--quantize', 'int8', '--quantize-embeddings=maybe', '-o', out()],
      /--quantize-embeddings 'maybe': expected one of yes, true, 1, no, false, 0$/m,
    ],
    ['compress --json=2', () => [tiny.path, '--prune-ffn', '0.5', '--json=2', '-o', out()], /--json 2: expected one of yes, true, 1, no, false, 0$/m],
    ['eval --threads -3', () => ['eval', tiny.dir, '--task', 'SST-2', '--threads', '-3'], /--threads -3: expected an integer from 0 to 256/],
    ['eval --threads 1.5', () => ['eval', tiny.dir, '--task', 'SST-2', '--threads', '1.5'], /--threads 1\.5: expected an integer from 0 to 256/],
    ['eval --threads 1000', () => ['eval', tiny.dir, '--task', 'SST-2', '--threads', '1000'], /--threads 1000: expected an integer from 0 to 256/],
    // (--batch-size 1e16 is a whole number, past the 2^53 − 1 every integer flag is read up to)
    [
      'eval --batch-size 1e16',
      () => ['eval', tiny.dir, '--task', 'SST-2', '--batch-size', '1e16'],
      /^compress: --batch-size 1e16: expected an integer from 1 to 2\^53 − 1$/m,
    ],
    ['bench --threads 1000', () => ['bench', tiny.path, '--threads', '1000'], /--threads 1000: expected an integer from 0 to 256/],
    ['eval --split train', () => ['eval', tiny.dir, '--task', 'SST-2', '--split', 'train'], /^compress: --split 'train': expected one of dev, test$/m],
    // (a choice refused is quoted as a shell takes it, as every refused value is: yargs' "$HOME" is a text a shell
    // expands, and its "a\nb" a backslash)
    ['eval --split $HOME', () => ['eval', tiny.dir, '--task', 'SST-2', '--split', '$HOME'], /^compress: --split '\$HOME': expected one of dev, test$/m],
    ['eval --split a-newline-b', () => ['eval', tiny.dir, '--task', 'SST-2', '--split', 'a\nb'], /^compress: --split \$'a\\nb': expected one of dev, test$/m],
    ['data foo', () => ['data', 'foo'], /^compress: action 'foo': expected one of download$/m],
    ["data it's", () => ['data', "it's"], /^compress: action 'it'\\''s': expected one of download$/m],
    [
      'compress --format xml',
      () => [tiny.path, '--prune-ffn', '0.5', '--format', 'xml', '-o', out()],
      /^compress: --format 'xml': expected one of onnx, transformers\.js$/m,
    ],
    ['data --dir ""', () => ['data', 'download', '--tasks', 'SST-2', '--dir', ''], /--dir '': an empty value/],
    // (in the command's empty folder: a file named noext would be left there)
    [
      'compress -o noext',
      () => [tiny.path, '--prune-ffn', '0.5', '-o', 'noext'],
      /^compress: -o noext: give a file name ending in \.onnx \(e\.g\. noext\.onnx\)$/m,
    ],
    [
      'compress -o FOLDER',
      () => [tiny.path, '--prune-ffn', '0.5', '-o', '..'],
      /^compress: -o \.\.: \.\. is a folder; give a file name ending in \.onnx \(e\.g\. \.\.\/model\.onnx\)$/m,
    ],
    [
      'compress -o config.json',
      () => [tiny.path, '--prune-ffn', '0.5', '-o', 'config.json'],
      /-o config\.json: the output would be named config\.json, a side file/,
    ],
    ['export -o noext', () => ['export', tiny.dir, '-o', 'noext'], /^compress: -o noext: give a file name ending in \.onnx \(e\.g\. noext\.onnx\)$/m],
  ])('%s', async (_name, args, re) => {
    const r = await run(...args());
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re);
    expect(r.left).toEqual([]);
  });
});

describe('a refused command leaves no folder it created', () => {
  it.each([
    ['compress refused after the destination check', (d: string) => [tiny.path, '--factorize-embeddings', '300', '-o', join(d, 'a', 'b', 'm.onnx')], 1],
    ['eval of an unknown task (a usage mistake)', (d: string) => ['eval', tiny.dir, '--task', 'FOO', '--out', join(d, 'x', 'r.json')], 2],
  ])('%s', async (_name, args, code) => {
    const d = join(tiny.dir, `made-${n++}`);
    const r = await run(...args(d));
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(d)).toBe(false);
  });

  it('data download answered 404', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end('not found'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const d = join(tiny.dir, `glue-${n++}`);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const child = spawn(process.execPath, [BIN, 'data', 'download', '--tasks', 'SST-2', '--dir', d, '--base-url', url], { stdio: 'ignore' });
      const code = await new Promise((r) => child.on('exit', r));
      expect(code).toBe(1);
      expect(existsSync(d)).toBe(false);
    } finally {
      server.close();
    }
  }, 60_000);
});

describe('a reader that closes stdout early', () => {
  it.each([
    ['compress', () => [tiny.path, '--prune-ffn', '0.5', '-o', join(tiny.dir, `piped-${n++}`, 'm.onnx')]],
    ['inspect', () => ['inspect', tiny.path]],
  ])('%s | true: a quiet end, exit 0, no stack trace', (_name, args) => {
    const quoted = [BIN, ...args()].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('bash', ['-c', `'${process.execPath}' ${quoted} | true; exit \${PIPESTATUS[0]}`], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('a reader that closes stderr early', () => {
  it('compress sweep … 2>&1 | true: every point runs, exit 0 (an EPIPE on a progress line ended the sweep, exit 1)', () => {
    const t = writeTinySweep({ rows: 12, pipelines: ['baseline', 'drop-1'] }); // 4 points
    try {
      const store = join(t.root, 'piped.sqlite');
      const quoted = [BIN, 'sweep', t.sweepFile, '--store', store, '--jobs', '1'].map((a) => `'${a}'`).join(' ');
      const r = spawnSync('bash', ['-c', `'${process.execPath}' ${quoted} 2>&1 | true; exit \${PIPESTATUS[0]}`], { encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stderr).toBe(0);
      const s = SweepStore.open(store, { readonly: true });
      try {
        expect(s.finished()).toHaveLength(t.points);
        expect(s.unfinished()).toEqual([]);
      } finally {
        s.close();
      }
    } finally {
      t.cleanup();
    }
  }, 300_000);
});
