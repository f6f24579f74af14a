/** The `compress` command end to end, as a user runs it: its main in this process (test/helpers/cli.ts), files on disk, exit codes. */
import { describe, expect, it, afterAll } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyBert } from '../helpers/models.ts';
import { PRUNE_FFN, PRUNE_HEADS } from '../../src/prune/settings.ts';
import { groupedDigits } from '../../src/errors.ts';
import { formatMB } from '../../src/units.ts';
import { runMain } from '../helpers/cli.ts';

const tiny = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
/** Where refused runs would write: a folder of its own (no side files of another model in it). */
const BAD_OUT = join(tiny.dir, 'refused', 'x.onnx');
afterAll(() => tiny.cleanup());

const run = (...args: string[]) => runMain(args);

describe('compress MODEL [passes] -o OUT', () => {
  it('prunes heads and writes the model, its lineage and the model-folder files', async () => {
    const outDir = join(tiny.dir, 'out');
    mkdirSync(outDir);
    writeFileSync(join(tiny.dir, 'config.json'), JSON.stringify({ id2label: { 0: 'negative', 1: 'positive' }, max_length: 32 }));
    const out = join(outDir, 'pruned.onnx');
    const r = await run(tiny.path, '--prune-heads', '0.5', '--prune-ffn', '0.25', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/prune-heads: removed 4 of 8 heads/);
    const lineage = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    // the lineage records each step as it ran: canonical settings (defaults applied) and the pass's version
    expect(lineage.passes.map((p: { step: unknown }) => p.step)).toEqual([
      { pass: 'prune-heads', version: PRUNE_HEADS.version, settings: PRUNE_HEADS.check({ ratio: 0.5 }) },
      { pass: 'prune-ffn', version: PRUNE_FFN.version, settings: PRUNE_FFN.check({ ratio: 0.25 }) },
    ]);
    expect(lineage.after.params).toBeLessThan(lineage.before.params);
    // the weights in formatMB's digits, as the passes' summaries above them say sizes (where it printed two decimals),
    // with their arrow (where it wrote '->' beside the passes' '→')
    expect(r.stdout).toContain(
      `params ${groupedDigits(lineage.before.params)} → ${groupedDigits(lineage.after.params)}, weights ${formatMB(lineage.before.bytes)} → ${formatMB(lineage.after.bytes)} (`,
    );
    expect(r.stdout).not.toContain(' -> ');
    expect(lineage.input.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(join(outDir, 'config.json'))).toBe(true);
    const inspected = await run('inspect', out, '--json');
    expect(inspected.code, inspected.stderr).toBe(0);
    const inspect = JSON.parse(inspected.stdout);
    expect(inspect.layers.map((l: { numHeads: number }) => l.numHeads).reduce((a: number, b: number) => a + b)).toBe(4);
    expect(inspect.params).toBe(lineage.after.params);
  });

  it("says what config.json cannot say of the output as a note on stderr, as compress's other end-of-run lines, not among its results on stdout", async () => {
    const shared = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
    try {
      writeFileSync(join(shared.dir, 'config.json'), JSON.stringify({ model_type: 'bert', id2label: { 0: 'negative', 1: 'positive' } }));
      const r = await run(shared.path, '--share-layers', 'groups:1', '-o', join(shared.dir, 'out', 'shared.onnx'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toContain('cannot say');
      expect(r.stderr).toMatch(/^note: \S+config\.json cannot say \(the graph does\): layers share weights .*$/m);
    } finally {
      shared.cleanup();
    }
  });

  it('inspect --json has the top-level fields machines read', async () => {
    const r = await run('inspect', tiny.path, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ numLayers: 2, numHeads: 4, hiddenSize: 32, intermediateSize: 64, vocabSize: 128 });
    expect(j.params).toBeGreaterThan(0);
    expect(j.bytes).toBeGreaterThan(j.params);
  });

  it.each([
    [['inspect', '/no/such/model.onnx'], /no such file/],
    [['inspect', join(import.meta.dirname, '../../bin/compress.mjs')], /not an ONNX model/],
    [[tiny.path, '--prune-heads', '1.5', '-o', BAD_OUT], /prune-heads: ratio 1\.5: expected a number in \[0, 1\) \(flag --prune-heads\)/],
    [[tiny.path, '--prune-heads', 'abc', '-o', BAD_OUT], /prune-heads: ratio 'abc': expected a number in \[0, 1\) \(flag --prune-heads\)/],
    [[tiny.path, '--quantize', 'int8', '--quantize', 'int4', '-o', BAD_OUT], /--quantize given 2 times/],
    [[tiny.path, '--prune-heads', '0.4', '--calibrate', 'SST-2', '-o', BAD_OUT], /--calibrate SST-2: no pass given uses calibration data/],
    // (--tokenizer was read by neither, and went unread: the output got the input folder's tokenizer files)
    [
      [tiny.path, '--prune-heads', '0.4', '--tokenizer', tiny.dir, '-o', BAD_OUT],
      /^compress: --tokenizer .*: read for --calibrate and --format transformers\.js, and this run has neither/m,
    ],
    // (calibration's data flags were read by neither: the run went on without them, silently)
    [
      [tiny.path, '--prune-heads', '0.4', '--max-length', '64', '-o', BAD_OUT],
      /^compress: --max-length 64: read for --calibrate alone \(its calibration data\), and this run has none: drop it$/m,
    ],
    [[tiny.path, '--prune-ffn', '0.5', '--glue-dir', tiny.dir, '-o', BAD_OUT], /^compress: --glue-dir .*: read for --calibrate alone/m],
    [[tiny.path, '--quantize', 'int8', '--calibration-examples', '8', '-o', BAD_OUT], /^compress: --calibration-examples 8: read for --calibrate alone/m],
    [
      [tiny.path, '--share-layers', 'groups:3', '-o', BAD_OUT],
      /share-layers: share 'groups:3': 3 groups are more than the model's 2 layers \(flag --share-layers\)/,
    ],
    [[tiny.path, '--prune-heads', '0.5'], /missing -o/],
    [[tiny.path, '-o', BAD_OUT], /no pass given/],
    // (it said 'no pass given' alone: writing a model as a transformers.js folder as it is, is compress export's)
    [
      [tiny.path, '--format', 'transformers.js', '-o', BAD_OUT],
      /^compress: no pass given: use .*; to write the model as it is: compress export \S+model\.onnx --format transformers\.js -o \S+$/m,
    ],
    [[tiny.path, '--drop-layers', '7', '-o', BAD_OUT], /layer 7 does not exist/],
    [[tiny.path, '--nonsense', '-o', BAD_OUT], /^compress: unknown flag --nonsense \(see --help\)$/m],
    [[tiny.path, '--quantize', 'int8', '--quantize-mode', 'standard', '-o', BAD_OUT], /^compress: unknown flag --quantize-mode \(see --help\)$/m],
    [['inspect', tiny.path, 'extra'], /^compress: unexpected argument 'extra' \(see --help\)$/m],
  ])('bad input %j: one line on stderr, non-zero exit', async (args, re) => {
    const r = await run(...(args as string[]));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--external-data: the last line names the data file that holds the weights (the .onnx alone is no model)', async () => {
    const outDir = join(tiny.dir, 'external');
    mkdirSync(outDir);
    const out = join(outDir, 'q.onnx');
    const r = await run(tiny.path, '--prune-ffn', '0.5', '--external-data', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(`${out}.data`)).toBe(true);
    expect(JSON.parse(readFileSync(`${out}.json`, 'utf8')).output.dataFile).toBe(`${out}.data`);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(new RegExp(`^wrote ${out}, its weights ${out}\\.data and ${out}\\.json( |$)`));
  });

  it('a failed run writes nothing', async () => {
    const outDir = join(tiny.dir, 'failed');
    mkdirSync(outDir);
    const r = await run(tiny.path, '--drop-layers', '0,1', '-o', join(outDir, 'x.onnx'));
    expect(r.code).not.toBe(0);
    expect(readdirSync(outDir)).toEqual([]);
  });

  it("refuses a folder holding another model's config.json and tokenizer files, naming them and --force; --force writes over them", async () => {
    const input = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
    try {
      const labels = { 0: 'entailment', 1: 'not_entailment' };
      writeFileSync(join(input.dir, 'config.json'), JSON.stringify({ id2label: labels, max_length: 32 }));
      writeFileSync(join(input.dir, 'vocab.txt'), '[PAD]\n[UNK]\nmine\n');
      const outDir = join(input.dir, 'other-model');
      mkdirSync(outDir);
      const theirs = JSON.stringify({ num_hidden_layers: 12, id2label: { 0: 'a', 1: 'b', 2: 'c' } });
      writeFileSync(join(outDir, 'config.json'), theirs);
      writeFileSync(join(outDir, 'vocab.txt'), '[PAD]\n[UNK]\ntheirs\n');
      const out = join(outDir, 'model.onnx');
      const refused = await run(input.path, '--prune-ffn', '0.25', '-o', out);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split('\n')).toEqual([
        `compress: -o ${out}: ${outDir} already holds another model's config.json, vocab.txt; write into an empty folder or pass --force`,
      ]);
      expect(readdirSync(outDir).sort()).toEqual(['config.json', 'vocab.txt']);
      expect(readFileSync(join(outDir, 'config.json'), 'utf8')).toBe(theirs);

      const forced = await run(input.path, '--prune-ffn', '0.25', '-o', out, '--force');
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stdout).toContain("(and beside them: config.json with this model's shape; from the input's folder: vocab.txt)");
      expect(readdirSync(outDir).sort()).toEqual(['config.json', 'model.onnx', 'model.onnx.json', 'vocab.txt']);
      const config = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'));
      expect(config.id2label).toEqual(labels);
      expect(config.num_hidden_layers).toBe(2);
      expect(readFileSync(join(outDir, 'vocab.txt'), 'utf8')).toBe('[PAD]\n[UNK]\nmine\n');

      // with --format transformers.js, -o is a new or empty folder: nothing for --force to write over
      const folder = await run(input.path, '--prune-ffn', '0.25', '--format', 'transformers.js', '-o', join(input.dir, 'tjs'), '--force');
      expect(folder.code).toBe(2);
      expect(folder.stderr.trim().split('\n')).toEqual([
        'compress: --force: with --format transformers.js, -o is a new or empty folder, with nothing of another model to write over; drop --force',
      ]);
      expect(existsSync(join(input.dir, 'tjs'))).toBe(false);
      const help = (await run('--help')).stdout.replace(/\s+/g, ' ');
      expect(help).toContain("--force write over another model's config.json and tokenizer files in the output's folder (refused otherwise)");
      // -o names a folder with --format transformers.js, as both commands' help says
      expect(help).toContain("where OUT's folder has none); with --format transformers.js the folder to write");
      expect((await run('export', '--help')).stdout.replace(/\s+/g, ' ')).toContain(
        '-o, --output output .onnx file; with --format transformers.js the folder to write',
      );
    } finally {
      input.cleanup();
    }
  });

  it('--verbose adds the stack trace', async () => {
    const r = await run('inspect', '/no/such/model.onnx', '--verbose');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});
