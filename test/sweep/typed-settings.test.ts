/**
 * A sweep file types its values (YAML, JSON): a pass step's number, integer or boolean setting given as text ('0.5'
 * for a ratio, 'true' for a boolean), a boolean given as 1 or 0, or a list of layers holding text (['1', '3']) is
 * refused when the file is read, in one line naming the step and the setting, in the setting's own words, as a train
 * step's settings and the sweep's own fields are; the pass read it as the number. What a setting's own form is in a
 * file stays: a layer list as text ('1,3', YAML's `layers: 1,3`) or one number, heads as text or a mapping. The flags,
 * whose values are text, read them as before. A word setting's value outside its choices (importance 'gr ad') is
 * refused in the same words, the value after the choices with its kind, as a train step's logitLoss. Every other fault
 * of a pass step's settings too (a number out of its range, a text of a small grammar: share, mode, heads…, a rule
 * between settings, an unknown setting) is worded as a file's, naming the setting in the place, not in the frame of a
 * flag's refusal ('settings: share-layers: share 'none': … (flag --share-layers)'), which the flags keep.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerAllPasses } from '../../src/passes.ts';
import { getPass } from '../../src/pass/registry.ts';
import { parseSweep, parseSweepFile } from '../../src/sweep/spec.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'typed-settings-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeModelFolder(join(root, 'm'), tinyBert());

/** The line parseSweep refuses a one-step pipeline with, or undefined where it reads it. */
function refusal(pass: string, settings: Record<string, unknown>): string | undefined {
  try {
    parseSweep(
      { name: 's', models: [{ path: 'm', tasks: ['SST-2'] }], pipelines: [{ name: 'p', steps: [{ pass, settings }] }] },
      join(root, 's.yaml'),
      's.yaml',
    );
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const at = (key: string) => `s.yaml: pipelines[0].steps[0].settings.${key}: `;

describe("a sweep file's pass settings of another type than the setting's", () => {
  it('refuses a number or an integer given as text, naming the step and the setting', () => {
    expect(refusal('prune-ffn', { ratio: '0.5' })).toBe(`${at('ratio')}expected a number in [0, 1), got string "0.5"`);
    expect(refusal('prune-heads', { ratio: '0.25' })).toBe(`${at('ratio')}expected a number in [0, 1), got string "0.25"`);
    expect(refusal('prune-heads', { ratio: 0.25, minHeadsPerLayer: '1' })).toBe(
      `${at('minHeadsPerLayer')}expected an integer from 0 to 2^53 − 1, got string "1"`,
    );
    expect(refusal('prune-heads', { ratio: 0.25, steps: '2' })).toBe(`${at('steps')}expected an integer from 1 to 2^53 − 1, got string "2"`);
    expect(refusal('prune-heads', { ratio: 0.25, importance: 'random', seed: '7' })).toBe(
      `${at('seed')}expected an integer from 0 to 4294967295, got string "7"`,
    );
    expect(refusal('factorize-embeddings', { rank: '8' })).toBe(`${at('rank')}expected an integer from 1 to 2^53 − 1, got string "8"`);
    expect(refusal('quantize', { mode: 'mixed:50%', mixedBlockSize: '64' })).toBe(
      `${at('mixedBlockSize')}expected 16, 32, 64, 128 or 256, the sizes onnxruntime's MatMulNBits takes, got string "64"`,
    );
  });

  it('refuses a boolean given as text or as a number', () => {
    expect(refusal('quantize', { mode: 'int8', perChannel: 'false' })).toBe(`${at('perChannel')}expected true or false, got string "false"`);
    expect(refusal('quantize', { mode: 'int8', perChannel: 0 })).toBe(`${at('perChannel')}expected true or false, got number 0`);
    expect(refusal('quantize', { mode: 'int8', embeddings: 'true' })).toBe(`${at('embeddings')}expected true or false, got string "true"`);
    expect(refusal('quantize', { mode: 'int4-block:32', symmetric: 'false' })).toBe(`${at('symmetric')}expected true or false, got string "false"`);
    expect(refusal('quantize', { mode: 'int8', attention: 1 })).toBe(`${at('attention')}expected true or false, got number 1`);
    expect(refusal('quantize', { mode: 'int8', reduceRange: 'true' })).toBe(`${at('reduceRange')}expected true or false, got string "true"`);
  });

  it('refuses text in a list of layers, naming the item', () => {
    expect(refusal('drop-layers', { layers: ['0'] })).toBe(
      `s.yaml: pipelines[0].steps[0].settings.layers[0]: expected layer indices such as 1,3,5, got string "0"`,
    );
    expect(refusal('drop-layers', { keep: [0, '1'] })).toBe(
      `s.yaml: pipelines[0].steps[0].settings.keep[1]: expected 'every-other' or layer indices such as 0,2,4, got string "1"`,
    );
  });

  // A word setting's value outside its choices is refused as a train step's is (choiceProblem): the value after the
  // choices with its kind, where the pass's refusal framed it as a flag's typed text ("settings: prune-heads: importance
  // 'gr ad': expected one of … (flag --importance)"); the flag keeps that form (test/pass/settings.test.ts).
  it("refuses a word setting's value outside its choices after the choices, with its kind", () => {
    const importance = 'expected one of ablation, gradient, confidence, magnitude, random';
    expect(refusal('prune-heads', { ratio: 0.25, importance: 'gr ad' })).toBe(`${at('importance')}${importance}, got string "gr ad"`);
    expect(refusal('prune-heads', { ratio: 0.25, importance: "it's" })).toBe(`${at('importance')}${importance}, got string "it's"`);
    expect(refusal('prune-heads', { ratio: 0.25, importance: 3 })).toBe(`${at('importance')}${importance}, got number 3`);
    expect(refusal('prune-heads', { ratio: 0.25, importance: null })).toBe(`${at('importance')}${importance}, got null`);
    expect(refusal('prune-heads', { ratio: 0.25, importance: ['magnitude'] })).toBe(`${at('importance')}${importance}, got a list`);
    expect(refusal('prune-heads', { ratio: 0.25, importance: 'gradient', target: 'gold' })).toBe(
      `${at('target')}expected one of predictions, labels, got string "gold"`,
    );
    expect(refusal('quantize', { mode: 'int8', format: 'qoperator' })).toBe(`${at('format')}expected one of contrib, standard, got string "qoperator"`);
    expect(refusal('factorize-embeddings', { rank: 8, weighting: '$HOME' })).toBe(`${at('weighting')}expected one of uniform, tokens, got string "$HOME"`);
  });

  it('reads a word setting as every setting reads words, letter case and spaces around it aside', () => {
    expect(refusal('prune-heads', { ratio: 0.25, importance: ' Ablation ', target: 'LABELS' })).toBeUndefined();
    expect(refusal('quantize', { mode: 'int8', format: 'Standard' })).toBeUndefined();
    expect(refusal('factorize-embeddings', { rank: 8, weighting: 'tokens' })).toBeUndefined();
  });

  it("says the grid point of a grid's value", () => {
    const doc = {
      name: 's',
      models: [{ path: 'm', tasks: ['SST-2'] }],
      pipelines: [{ name: 'g', grid: [{ pass: 'prune-ffn', settings: { ratio: [0.25, '0.5'] } }] }],
    };
    expect(() => parseSweep(doc, join(root, 's.yaml'), 's.yaml')).toThrow(
      's.yaml: pipelines[0].grid[0].settings.ratio (grid point 2: g(ratio=0.5)): expected a number in [0, 1), got string "0.5"',
    );
    const words = {
      ...doc,
      pipelines: [{ name: 'g', grid: [{ pass: 'prune-heads', settings: { ratio: 0.25, importance: ['magnitude', 'Gr ad'] } }] }],
    };
    expect(() => parseSweep(words, join(root, 's.yaml'), 's.yaml')).toThrow(
      's.yaml: pipelines[0].grid[0].settings.importance (grid point 2: g(importance=Gr ad)): expected one of ablation, gradient, confidence, magnitude, random, got string "Gr ad"',
    );
  });

  it('reads the forms a setting takes in a file: numbers, booleans, a layer list as text or one number, heads as text or a mapping, words', () => {
    for (const [pass, settings] of [
      ['prune-ffn', { ratio: 0.5 }],
      ['prune-heads', { ratio: 0.25, minHeadsPerLayer: 1, steps: 2, importance: 'random', seed: 7 }],
      ['prune-heads', { heads: '0:1,2' }],
      ['prune-heads', { heads: { 0: [1, 2] } }],
      ['drop-layers', { layers: '0,1' }],
      ['drop-layers', { layers: 1 }],
      ['drop-layers', { keep: 'every-other' }],
      ['factorize-embeddings', { rank: 8 }],
      ['quantize', { mode: 'int8', perChannel: false, embeddings: true, reduceRange: true }],
      ['share-layers', { share: 'groups:2', from: 'layer:0' }],
      ['optimize', { rewrites: 'all' }],
    ] as const) {
      expect(refusal(pass, settings)).toBeUndefined();
    }
  });

  it('reads a YAML file as it is written: an unquoted number is one, a quoted one text', () => {
    const write = (name: string, settings: string) => {
      const file = join(root, `${name}.yaml`);
      writeFileSync(
        file,
        `name: ${name}\nmodels:\n  - {path: m, tasks: [SST-2]}\npipelines:\n  - name: p\n    steps: [{pass: prune-ffn, settings: ${settings}}]\n`,
      );
      return file;
    };
    expect(parseSweepFile(write('bare', '{ratio: 0.5}')).pipelines.find((p) => p.label === 'p')?.steps[0]?.settings).toEqual({ ratio: 0.5 });
    expect(() => parseSweepFile(write('quoted', "{ratio: '0.5'}"))).toThrow(
      /quoted\.yaml: pipelines\[0\]\.steps\[0\]\.settings\.ratio: expected a number in \[0, 1\), got string "0\.5"$/,
    );
  });

  // Every other fault of a pass step's settings is worded in a file's form too (fileSettingsProblem), where it kept the
  // pass's flag frame: 'settings: prune-ffn: ratio 1.5: expected a number in [0, 1) (flag --prune-ffn)'.
  it("words a value outside a setting's range after the expectation, with its kind", () => {
    expect(refusal('prune-ffn', { ratio: 1.5 })).toBe(`${at('ratio')}expected a number in [0, 1), got number 1.5`);
    // (an infinite one, YAML's .inf, said to be one, as every number's refusal says it)
    expect(refusal('prune-ffn', { ratio: Number.POSITIVE_INFINITY })).toBe(
      `${at('ratio')}expected a finite number in [0, 1), got number Infinity (infinite: .inf, or a number too large to hold)`,
    );
    expect(refusal('prune-heads', { ratio: -0 })).toBeUndefined();
    expect(refusal('factorize-embeddings', { rank: 0 })).toBe(`${at('rank')}expected an integer from 1 to 2^53 − 1, got number 0`);
    expect(refusal('drop-layers', { keep: -1 })).toBe(`${at('keep')}expected an integer from 0 to 2^53 − 1, got number -1`);
  });

  it("words a small grammar's text (share, from, mode, calibration, heads, rewrites) in the file's form", () => {
    const share = "expected 'all' or 'groups:N' with N ≥ 1 groups of consecutive layers";
    // text of none of the grammar's forms: after the expectation with its kind, as a word outside its choices
    expect(refusal('share-layers', { share: 'sideways' })).toBe(`${at('share')}${share}, got string "sideways"`);
    expect(refusal('share-layers', { share: "it's" })).toBe(`${at('share')}${share}, got string "it's"`);
    expect(refusal('share-layers', { share: 'all', from: 'median' })).toBe(
      `${at('from')}expected 'mean' or 'layer:K' (K: the source layer's position within each group, from 0), got string "median"`,
    );
    expect(refusal('quantize', { mode: 'int8', calibration: 'kl' })).toBe(
      `${at('calibration')}expected 'minmax', 'percentile[:P]' or 'entropy[:BINS]', got string "kl"`,
    );
    expect(refusal('quantize', { mode: 'int9' })).toBe(
      `${at('mode')}expected one of int8, int8-static, int8-group:G, int4-block:B, mixed:BUDGET, float16, got string "int9"`,
    );
    expect(refusal('prune-heads', { heads: 'x' })).toBe(`${at('heads')}expected LAYER:HEAD,HEAD;LAYER:HEAD (e.g. 0:1,2;3:0), got string "x"`);
    // a value of another kind than text
    expect(refusal('share-layers', { share: 3 })).toBe(`${at('share')}expected a string (all | groups:N), got number 3`);
    expect(refusal('share-layers', { share: null })).toBe(`${at('share')}expected a string (all | groups:N), got null`);
    expect(refusal('quantize', { mode: ['int8'] })).toBe(
      `${at('mode')}expected a string (int8 | int8-static | int8-group:G | int4-block:B | mixed:BUDGET | float16), got a list`,
    );
    expect(refusal('optimize', { rewrites: 3 })).toMatch(/^s\.yaml: pipelines\[0\]\.steps\[0\]\.settings\.rewrites: expected a string \(.*\), got number 3$/);
    // a fault inside the text's form: the text quoted, then the fault, as a train step's layerMap '2:x'
    expect(refusal('share-layers', { share: 'groups:0' })).toBe(`${at('share')}'groups:0': the number of groups 0: expected an integer from 1 to 2^53 − 1`);
    expect(refusal('share-layers', { share: 'all', from: 'layer:x' })).toBe(
      `${at('from')}'layer:x': the source layer's position 'x': expected an integer from 0 to 2^53 − 1`,
    );
    expect(refusal('quantize', { mode: 'int4-block:33' })).toBe(
      `${at('mode')}'int4-block:33': the block size 33: expected 16, 32, 64, 128 or 256, the sizes onnxruntime's MatMulNBits takes`,
    );
    expect(refusal('quantize', { mode: 'mixed:150%' })).toBe(`${at('mode')}'mixed:150%': the budget '150%': expected a percentage in (0, 100]`);
    expect(refusal('prune-heads', { heads: '0:x' })).toBe(`${at('heads')}'0:x': layer 0's head 'x': expected an integer from 0 to 2^53 − 1`);
    expect(refusal('drop-layers', { layers: '1,x' })).toBe(`${at('layers')}'1,x': the layer 'x': expected an integer from 0 to 2^53 − 1`);
    // a list or a mapping: the fault names its item
    expect(refusal('drop-layers', { layers: [1, 1] })).toBe(`${at('layers')}layer 1 is given twice`);
    expect(refusal('prune-heads', { heads: { 0: [1, 1.5] } })).toBe(`${at('heads')}layer 0's head 1.5: expected an integer from 0 to 2^53 − 1`);
  });

  it('names the setting a rule between settings refuses, and an unknown setting, in the place', () => {
    expect(refusal('prune-heads', { ratio: 0.25, seed: 3 })).toBe(`${at('seed')}only importance random uses a seed (importance is magnitude)`);
    expect(refusal('quantize', { mode: 'int8', calibration: 'entropy' })).toBe(
      `${at('calibration')}'entropy': sets the activation ranges of int8-static only; mode int8 takes none`,
    );
    expect(refusal('quantize', { mode: 'int8-static', symmetric: false })).toBe(
      `${at('symmetric')}applies to 4-bit weights (int4-block:B, mixed:BUDGET); mode int8-static stores none`,
    );
    expect(refusal('quantize', {})).toBe(`${at('mode')}a mode is required (int8 | int8-static | int8-group:G | int4-block:B | mixed:BUDGET | float16)`);
    expect(refusal('prune-heads', { ratio: 0.25, importanse: 'random', b: 1 })).toBe(
      `${at('importanse')}unknown prune-heads setting (known: ratio, heads, importance, minHeadsPerLayer, steps, target, seed)`,
    );
  });

  // (a rule between two settings names both by their keys, a file's words, and the flags that give them, where it named
  // the flags alone: 'give either ratio (--prune-heads 0.4) or heads (--prune-heads "0:1,2;3:0"), …')
  it('names the settings of a rule between two of them, and their flags', () => {
    expect(refusal('prune-heads', { ratio: 0.25, heads: '0:1' })).toBe(
      "s.yaml: pipelines[0].steps[0].settings: give either ratio (the share of the heads to remove, e.g. 0.4) or heads (the heads to remove, e.g. '0:1,2;3:0'), not both or neither (flag --prune-heads gives one)",
    );
    expect(refusal('drop-layers', {})).toBe(
      's.yaml: pipelines[0].steps[0].settings: give either layers (the layers to remove, e.g. 1,3; flag --drop-layers) or keep (the layers to keep, e.g. every-other; flag --keep-layers), not both or neither',
    );
    expect(() => getPass('drop-layers').check({ layers: '1', keep: 'every-other' })).toThrow(
      /^drop-layers: give either layers \(the layers to remove, e\.g\. 1,3; flag --drop-layers\) or keep /,
    );
  });

  it('leaves the flags their frame', () => {
    expect(() => getPass('share-layers').check({ share: 'sideways' })).toThrow(
      "share-layers: share 'sideways': expected 'all' or 'groups:N' with N ≥ 1 groups of consecutive layers (flag --share-layers)",
    );
    expect(() => getPass('prune-ffn').check({ ratio: 1.5 })).toThrow('prune-ffn: ratio 1.5: expected a number in [0, 1) (flag --prune-ffn)');
  });

  it('leaves the flags, whose values are text, reading them as numbers and booleans', () => {
    expect(getPass('prune-ffn').check({ ratio: '0.5' })).toEqual({ ratio: 0.5 });
    expect(getPass('quantize').check({ mode: 'int8', perChannel: 'false' }).perChannel).toBe(false);
  });
});
