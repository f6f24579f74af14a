/**
 * Every integer a user types is checked, and refused, by one integerProblem (src/errors.ts) in one wording, `expected
 * an integer from MIN to MAX` (2^53 − 1 where it has no bound of its own), each in its own frame: a command's flag, a
 * pass's setting (as a flag or in a sweep file), a sweep file's own setting, a train or distill step's setting; and a
 * pass setting's help gives its type in the same words.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkIntegerFlag, valueAndKind } from '../src/errors.ts';
import { describePass } from '../src/pass/describe.ts';
import { PASS_DECLARATIONS } from '../src/pass-declarations.ts';
import { registerAllPasses } from '../src/passes.ts';
import { parseSweep, parseSweepFile } from '../src/sweep/spec.ts';
import { parseLayerMap, parseMatches } from '../src/train/intermediate.ts';
import { readLayerMap } from '../src/cli/commands/distill.ts';
import { augmentExamples } from '../src/train/augment.ts';
import { lrAt } from '../src/train/schedule.ts';
import { checkBilstmConfig } from '../src/train/students/bilstm-config.ts';
import { parseBertSpec } from '../src/train/students/index.ts';
import { runMain } from './helpers/cli.ts';
import { writeModelFolder } from './helpers/model-folder.ts';
import { tinyBert } from './helpers/models.ts';
import { refusal } from './helpers/refusal.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'integer-wording-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeModelFolder(join(root, 'm'), tinyBert());

const sweep = (doc: Record<string, unknown>) =>
  refusal(() =>
    parseSweep(
      { name: 's', models: [{ path: 'm', tasks: ['SST-2'] }], pipelines: [{ name: 'p', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }], ...doc },
      join(root, 's.yaml'),
      's.yaml',
    ),
  );
const step = (pass: string, settings: Record<string, unknown>) => sweep({ pipelines: [{ name: 'p', steps: [{ pass, settings }] }] });
const pass = (name: string) => PASS_DECLARATIONS.find((d) => d.name === name)!;
const factorize = pass('factorize-embeddings');
const PAST = 'got number 10000000000000000 (past 2^53 − 1 a number is not read exactly)';

describe('one integer wording', () => {
  it("shows a number a sweep file types past 2^53 − 1, which YAML reads rounded, with why, in a pass setting as in the sweep's own", () => {
    // (a pass setting quoted the rounded 9007199254740992 with no note, where the sweep's seed and a train step's said why)
    const file = join(root, 'big.yaml');
    const big = (line: string, step = '{pass: prune-ffn, settings: {ratio: 0.5}}') => {
      writeFileSync(file, `name: s\nmodels: [{path: m, tasks: [SST-2]}]\npipelines: [{name: p, steps: [${step}]}]\n${line}\n`);
      return refusal(() => parseSweepFile(file)).replace(`${file}: `, '');
    };
    const note = '9007199254740992 (past 2^53 − 1 a number is not read exactly)';
    expect(big('seed: 9007199254740993')).toBe(`seed: expected an integer from 0 to 2^53 − 1, got number ${note}`);
    expect(big('', '{pass: train, settings: {epochs: 9007199254740993}}')).toBe(
      `pipelines[0].steps[0].settings.epochs: expected an integer from 1 to 2^53 − 1, got number ${note}`,
    );
    expect(big('', '{pass: factorize-embeddings, settings: {rank: 9007199254740993}}')).toBe(
      `pipelines[0].steps[0].settings.rank: expected an integer from 1 to 2^53 − 1, got number ${note}`,
    );
    expect(big('', '{pass: prune-heads, settings: {heads: {0: [1, 9007199254740993]}}}')).toBe(
      `pipelines[0].steps[0].settings.heads: layer 0's head ${note}: expected an integer from 0 to 2^53 − 1`,
    );
    // (a mapping's layer key, which YAML turns into the rounded number's text, was quoted as typed: "the layer '9007199254740992'")
    expect(big('', '{pass: prune-heads, settings: {heads: {9007199254740993: [1]}}}')).toBe(
      `pipelines[0].steps[0].settings.heads: the layer ${note}: expected an integer from 0 to 2^53 − 1`,
    );
    expect(big('', '{pass: prune-heads, settings: {heads: {1e16: [1]}}}')).toBe(
      'pipelines[0].steps[0].settings.heads: the layer 10000000000000000 (past 2^53 − 1 a number is not read exactly): expected an integer from 0 to 2^53 − 1',
    );
    expect(big('', '{pass: distill, settings: {intermediate: pkd-skip, layerMap: [[9007199254740993, 1]]}}')).toBe(
      `pipelines[0].steps[0].settings.layerMap: the teacher layer ${note} of [9007199254740992, 1]: expected an integer from 0 to 2^53 − 1`,
    );
    expect(big('', '{pass: factorize-embeddings, settings: {rank: 1e400}}')).toBe(
      'pipelines[0].steps[0].settings.rank: expected an integer from 1 to 2^53 − 1, got number Infinity (infinite: .inf, or a number too large to hold)',
    );
    // (an infinity written as one, of either sign, is no number too large: it said '-Infinity (too large)' for -.inf)
    expect(big('', '{pass: factorize-embeddings, settings: {rank: .inf}}')).toBe(
      'pipelines[0].steps[0].settings.rank: expected an integer from 1 to 2^53 − 1, got number Infinity (infinite: .inf, or a number too large to hold)',
    );
    expect(big('seed: -.inf')).toBe('seed: expected an integer from 0 to 2^53 − 1, got number -Infinity (infinite: -.inf, or a number too large to hold)');
    expect(big('seed: -1e400')).toBe('seed: expected an integer from 0 to 2^53 − 1, got number -Infinity (infinite: -.inf, or a number too large to hold)');
  });

  it('refuses a whole number past 2^53 − 1 (1e16) naming the range it is outside, in every place an integer is typed', () => {
    expect(refusal(() => checkIntegerFlag('--epochs', 1e16, 1))).toBe('--epochs 10000000000000000: expected an integer from 1 to 2^53 − 1');
    // (a pass's setting, as its flag gives it and as a sweep file does: it is an integer ≥ 1, so that was no reason)
    expect(refusal(() => factorize.check({ rank: '1e16' }))).toBe(
      'factorize-embeddings: rank 1e16: expected an integer from 1 to 2^53 − 1 (flag --factorize-embeddings)',
    );
    expect(step('factorize-embeddings', { rank: 1e16 })).toBe(`s.yaml: pipelines[0].steps[0].settings.rank: expected an integer from 1 to 2^53 − 1, ${PAST}`);
    expect(sweep({ bench: { repeats: 1e16 } })).toBe(`s.yaml: bench.repeats: expected an integer from 1 to 2^53 − 1, ${PAST}`);
    expect(step('train', { epochs: 1e16 })).toBe(`s.yaml: pipelines[0].steps[0].settings.epochs: expected an integer from 1 to 2^53 − 1, ${PAST}`);
    expect(step('distill', { augment: 1e16 })).toBe(`s.yaml: pipelines[0].steps[0].settings.augment: expected an integer from 0 to 2^53 − 1, ${PAST}`);
  });

  it("shows a sweep file's -0 as -0, as a flag shows it typed (where it said 'got number 0', a value the rule takes)", () => {
    expect(step('train', { epochs: -0 })).toBe('s.yaml: pipelines[0].steps[0].settings.epochs: expected an integer from 1 to 2^53 − 1, got number -0');
    expect(sweep({ bench: { repeats: -0 } })).toBe('s.yaml: bench.repeats: expected an integer from 1 to 2^53 − 1, got number -0');
    // (as the file types it: YAML reads -0 as the number -0)
    const file = join(root, 'minus-zero.yaml');
    writeFileSync(
      file,
      'name: s\nmodels:\n  - {path: m, tasks: [SST-2]}\npipelines:\n  - name: p\n    steps:\n      - {pass: train, settings: {epochs: -0}}\n',
    );
    expect(refusal(() => parseSweepFile(file))).toMatch(
      /: pipelines\[0\]\.steps\[0\]\.settings\.epochs: expected an integer from 1 to 2\^53 − 1, got number -0$/,
    );
    expect(valueAndKind(-0, 'file')).toBe('number -0');
    expect(valueAndKind(0, 'file')).toBe('number 0');
  });

  it("words a train or distill step's negative seed as the file's other integers (where it said 'seed: -1: expected …')", () => {
    for (const pass of ['train', 'distill'])
      expect(step(pass, { seed: -1 })).toBe('s.yaml: pipelines[0].steps[0].settings.seed: expected an integer from 0 to 2^53 − 1, got number -1');
    expect(sweep({ seed: -1 })).toBe('s.yaml: seed: expected an integer from 0 to 2^53 − 1, got number -1');
  });

  it("gives a pass's integer setting its type in the refusal's words", () => {
    const type = (pass: string, key: string) => describePass(PASS_DECLARATIONS.find((d) => d.name === pass)!).settings.find((s) => s.name === key)?.type;
    expect(type('factorize-embeddings', 'rank')).toBe('integer from 1 to 2^53 − 1');
    expect(type('prune-heads', 'minHeadsPerLayer')).toBe('integer from 0 to 2^53 − 1');
    expect(type('quantize', 'mixedBlockSize')).toBe('integer from 16 to 256');
    // (layer indices, which the model bounds, keep their least only)
    expect(type('drop-layers', 'layers')).toBe('list of integers ≥ 0');
  });

  it("reads an integer in a setting's text (int8-group:G, int4-block:B, groups:N, layer:K, a student spec's sizes) as the settings read one, and refuses one past 2^53 − 1", () => {
    // (int8-group:9007199254740993 was taken as 9007199254740992; 1e3 and 32.0, which rank reads, were refused)
    expect(refusal(() => pass('quantize').check({ mode: 'int8-group:9007199254740993' }))).toBe(
      "quantize: mode 'int8-group:9007199254740993': the group size 9007199254740993: expected an integer from 1 to 2^53 − 1 (flag --quantize)",
    );
    expect(pass('quantize').check({ mode: 'int4-block:32.0' }).mode).toBe('int4-block:32');
    expect(pass('quantize').check({ mode: 'int8-group:1e3' }).mode).toBe('int8-group:1000');
    expect(pass('share-layers').check({ share: 'groups:2.0', from: 'layer:1e0' })).toEqual({ share: 'groups:2', from: 'layer:1' });
    expect(refusal(() => pass('share-layers').check({ share: 'groups:0x10' }))).toBe(
      "share-layers: share 'groups:0x10': the number of groups '0x10': expected an integer from 1 to 2^53 − 1 (flag --share-layers)",
    );
    expect(parseBertSpec('bert:layers=1e0,hidden=64.0')).toEqual({ layers: 1, hidden: 64 });
    expect(refusal(() => parseBertSpec('bert:hidden=-0'))).toBe("student 'bert:hidden=-0': hidden -0: expected an integer from 1 to 2^53 − 1");
  });

  it("holds an integer of a setting's text to its own rule (entropy:BINS, int4-block:B) in the one wording, read as every integer is", () => {
    const quantize = (settings: Record<string, unknown>) => pass('quantize').check(settings);
    // (entropy:BINS read digits only: 1e3 and 256.0 were refused, and in its own words: 'must be an even number from 128 …')
    expect(quantize({ mode: 'int8-static', calibration: 'entropy:1e3' }).calibration).toBe('entropy:1000');
    expect(quantize({ mode: 'int8-static', calibration: 'entropy: 256.0' }).calibration).toBe('entropy:256');
    expect(refusal(() => quantize({ mode: 'int8-static', calibration: 'entropy:9007199254740993' }))).toBe(
      "quantize: calibration 'entropy:9007199254740993': the entropy histogram bins 9007199254740993: expected an even integer from 128 (the quantized bins) to 2048 (flag --calibration-method)",
    );
    // (int4-block:24 said 'the block size must be 16, 32, 64, 128 or 256, … (got 24)', where mixedBlockSize 24 said 'expected 16, …')
    expect(quantize({ mode: 'int4-block:6.4e1' }).mode).toBe('int4-block:64');
    const block = "expected 16, 32, 64, 128 or 256, the sizes onnxruntime's MatMulNBits takes";
    expect(refusal(() => quantize({ mode: 'int4-block:24' }))).toBe(`quantize: mode 'int4-block:24': the block size 24: ${block} (flag --quantize)`);
    expect(refusal(() => quantize({ mode: 'mixed:50%', mixedBlockSize: 24 }))).toBe(`quantize: mixedBlockSize 24: ${block} (flag --mixed-block-size)`);
  });

  it("refuses an intermediate match's layer that is no integer from 0 to 2^53 − 1 in the one wording, in a matches file and a sweep file", () => {
    const match = { teacherLayer: 2, studentLayer: 1, feature: 'hidden', loss: 'mse' };
    // (Number.isInteger took 1e16, a layer read inexactly, and each said 'expected a layer number ≥ 0'; then its value
    // was given in brackets, nested where a number past 2^53 − 1 said why: '(got 10000000000000000 (past …))')
    expect(refusal(() => parseMatches([{ ...match, teacherLayer: 1e16 }], 'm.yaml'))).toBe(
      'm.yaml[0].teacherLayer: expected an integer from 0 to 2^53 − 1, got number 10000000000000000 (past 2^53 − 1 a number is not read exactly)',
    );
    expect(refusal(() => parseMatches([{ ...match, studentLayer: '1' }], 'm.yaml'))).toBe(
      'm.yaml[0].studentLayer: expected an integer from 0 to 2^53 − 1, got string "1"',
    );
    // a value JSON cannot write (a JavaScript caller's BigInt, which threw a TypeError: an internal error) or would
    // write whole (a list, an object) is named by its kind, as every refusal of a library caller's value names it
    expect(refusal(() => parseMatches([{ ...match, studentLayer: 1n }], 'm.yaml'))).toBe(
      'm.yaml[0].studentLayer: expected an integer from 0 to 2^53 − 1, got bigint 1',
    );
    expect(refusal(() => parseMatches([{ ...match, teacherLayer: [0, 1, 2] }], 'm.yaml'))).toBe(
      'm.yaml[0].teacherLayer: expected an integer from 0 to 2^53 − 1, got a list',
    );
    expect(step('distill', { intermediate: [{ ...match, studentLayer: 1.5 }] })).toBe(
      's.yaml: pipelines[0].steps[0].settings.intermediate[0].studentLayer: expected an integer from 0 to 2^53 − 1, got number 1.5',
    );
  });

  it('reads every number of an integer list (a head list, a layer map, a layer list) as integerText reads one, as a flag and in a sweep file', async () => {
    const heads = (text: string) => pass('prune-heads').check({ heads: text }).heads;
    const drop = (layers: unknown) => pass('drop-layers').check({ layers }).layers;
    // (the head list and the layer map read only digits: 1e3 was a syntax fault there, where drop-layers took it as 1000)
    expect(heads('1e0:3.0,1e1')).toBe('1:3,10');
    expect(heads('0: 1, 2; 3 :0')).toBe('0:1,2;3:0');
    expect(parseLayerMap('2e0:1, 4 : 2.0')).toEqual([
      [2, 1],
      [4, 2],
    ]);
    expect(drop('1e0, 3.0')).toEqual([1, 3]);
    // (9007199254740993 was read as 9007199254740992, which 'layer does not exist' then quoted)
    expect(refusal(() => pass('prune-heads').check({ heads: '0:9007199254740993' }))).toBe(
      "prune-heads: heads '0:9007199254740993': layer 0's head 9007199254740993: expected an integer from 0 to 2^53 − 1 (flag --prune-heads)",
    );
    expect(refusal(() => pass('prune-heads').check({ heads: '0x10:1' }))).toBe(
      "prune-heads: heads '0x10:1': the layer '0x10': expected an integer from 0 to 2^53 − 1 (flag --prune-heads)",
    );
    expect(refusal(() => readLayerMap('9007199254740993:1'))).toBe(
      "--layer-map '9007199254740993:1': the teacher layer 9007199254740993: expected an integer from 0 to 2^53 − 1",
    );
    expect(refusal(() => readLayerMap('2:-1'))).toBe("--layer-map '2:-1': the student layer -1: expected an integer from 0 to 2^53 − 1");
    expect(refusal(() => drop('1,0x10'))).toBe("drop-layers: layers '1,0x10': the layer '0x10': expected an integer from 0 to 2^53 − 1 (flag --drop-layers)");
    expect(refusal(() => pass('drop-layers').check({ keep: '0,1.5' }))).toBe(
      "drop-layers: keep '0,1.5': the layer 1.5: expected an integer from 0 to 2^53 − 1 (flag --keep-layers)",
    );
    // (an empty item is the list's syntax fault, in the list's own words)
    expect(refusal(() => drop('1,,2'))).toBe("drop-layers: layers '1,,2': expected layer indices such as 1,3,5 (flag --drop-layers)");
    expect(refusal(() => pass('prune-heads').check({ heads: '0:1,,2' }))).toBe(
      "prune-heads: heads '0:1,,2': expected LAYER:HEAD,HEAD;LAYER:HEAD (e.g. 0:1,2;3:0) (flag --prune-heads)",
    );
    expect(refusal(() => readLayerMap('2:'))).toBe("--layer-map '2:': expected one of uniform, skip, last, or teacher:student pairs like 3:1,6:2");
    // in a sweep file: the numbers its lists type
    expect(step('drop-layers', { layers: [1, 1e16] })).toBe(
      's.yaml: pipelines[0].steps[0].settings.layers: the layer 10000000000000000 (past 2^53 − 1 a number is not read exactly): expected an integer from 0 to 2^53 − 1',
    );
    // (one layer a sweep file types as a number, not a list, was taken unchecked: layers 1.5 and -1 planned as points;
    // its value is shown once, where a list's layer is named after the list)
    expect(step('drop-layers', { layers: 1.5 })).toBe('s.yaml: pipelines[0].steps[0].settings.layers: expected an integer from 0 to 2^53 − 1, got number 1.5');
    expect(step('drop-layers', { keep: -1 })).toBe('s.yaml: pipelines[0].steps[0].settings.keep: expected an integer from 0 to 2^53 − 1, got number -1');
    expect(step('drop-layers', { layers: 1e16 })).toBe(`s.yaml: pipelines[0].steps[0].settings.layers: expected an integer from 0 to 2^53 − 1, ${PAST}`);
    expect(pass('drop-layers').check({ layers: 2 }).layers).toEqual([2]);
    // (keep, which takes a word too, said 'expected 'every-other' or layer indices such as 0,2,4' of it)
    expect(step('drop-layers', { keep: [0, 1.5] })).toBe('s.yaml: pipelines[0].steps[0].settings.keep: the layer 1.5: expected an integer from 0 to 2^53 − 1');
    expect(step('prune-heads', { heads: { 0: [1, 1.5] } })).toBe(
      "s.yaml: pipelines[0].steps[0].settings.heads: layer 0's head 1.5: expected an integer from 0 to 2^53 − 1",
    );
    expect(step('distill', { intermediate: 'pkd-skip', layerMap: [[1.5, 1]] })).toBe(
      's.yaml: pipelines[0].steps[0].settings.layerMap: the teacher layer 1.5 of [1.5, 1]: expected an integer from 0 to 2^53 − 1',
    );
    expect(step('distill', { intermediate: 'pkd-skip', layerMap: '1:0x1' })).toBe(
      "s.yaml: pipelines[0].steps[0].settings.layerMap: '1:0x1': the student layer '0x1': expected an integer from 0 to 2^53 − 1",
    );
    // and as a user types the flag
    const cli = await runMain([join(root, 'm'), '--prune-heads', '0:9007199254740993', '-o', join(root, 'out.onnx')]);
    expect([cli.code, cli.stderr.trim()]).toEqual([
      2,
      "compress: prune-heads: heads '0:9007199254740993': layer 0's head 9007199254740993: expected an integer from 0 to 2^53 − 1 (flag --prune-heads)",
    ]);
  });

  it('shows a refused value one way, whoever gave it (a sweep file, a matches file, a library caller)', async () => {
    // (a sweep file's setting said 'got number 1.5' where its intermediate layer said 'got 1.5', a library caller's
    // string '"x"' where the sweep file's said 'string "x"', a blank name "''")
    const values: unknown[] = [undefined, null, [1], { a: 1 }, 'x', 1.5, 1e16, Number.POSITIVE_INFINITY, true, 1n];
    expect(values.map((v) => valueAndKind(v, 'file'))).toEqual([
      'nothing',
      'null',
      'a list',
      'a mapping',
      'string "x"',
      'number 1.5',
      'number 10000000000000000 (past 2^53 − 1 a number is not read exactly)',
      'number Infinity (infinite: .inf, or a number too large to hold)',
      'boolean true',
      'bigint 1',
    ]);
    expect(values.map((v) => valueAndKind(v)).filter((t, i) => t !== valueAndKind(values[i], 'file'))).toEqual(['undefined', 'an object']);
    const match = { teacherLayer: 2, studentLayer: 1, feature: 'hidden', loss: 'mse' };
    expect(refusal(() => parseMatches([{ ...match, studentLayer: 'one' }], 'm.yaml'))).toMatch(/, got string "one"$/);
    expect(step('distill', { epochs: 'one' })).toMatch(/, got string "one"$/);
    await expect(augmentExamples({ examples: [], tokenizer: { tokens: [] }, seed: 0, n: 1, k: 'one' } as never)).rejects.toThrow(/, got string "one"$/);
  });

  it("refuses a library caller's integer option (a schedule's steps, augmentation's n and k, a BiLSTM student's sizes) in the one wording", async () => {
    // (each said it in its own words: "schedule 'totalSteps' must be a positive integer, got 1e+16", "'warmupSteps' must
    // be an integer ≥ 0", "augmentation: k must be a positive integer")
    expect(refusal(() => lrAt(0, { lr: 1, totalSteps: 1e16 }))).toBe(
      "schedule 'totalSteps': expected an integer from 1 to 2^53 − 1, got number 10000000000000000 (past 2^53 − 1 a number is not read exactly)",
    );
    expect(refusal(() => lrAt(0, { lr: 1, totalSteps: 10, warmupSteps: 1.5 }))).toBe(
      "schedule 'warmupSteps': expected an integer from 0 to 2^53 − 1, got number 1.5",
    );
    const bilstm = { vocabSize: 10, embeddingSize: 4, hiddenSize: 4, mlpSize: 4, numLabels: 2, maxLength: 8 };
    expect(refusal(() => checkBilstmConfig({ ...bilstm, hiddenSize: 0 }))).toBe(
      "BiLSTM student: 'hiddenSize': expected an integer from 1 to 2^53 − 1, got number 0",
    );
    const augment = { examples: [], tokenizer: { tokens: ['[PAD]'] }, seed: 0 } as unknown as Parameters<typeof augmentExamples>[0];
    await expect(augmentExamples({ ...augment, n: -1 })).rejects.toThrow(/^augmentation: n: expected an integer from 0 to 2\^53 − 1, got number -1$/);
    await expect(augmentExamples({ ...augment, n: 1, k: 2.5 })).rejects.toThrow(/^augmentation: k: expected an integer from 1 to 2\^53 − 1, got number 2\.5$/);
  });
});
