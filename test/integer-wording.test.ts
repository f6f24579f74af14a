/**
 * Every integer a user types is checked, and refused, by one integerProblem (src/errors.ts) in one wording, `expected
 * an integer from MIN to MAX` (2^53 − 1 where it has no bound of its own), each in its own frame: a command's flag, a
 * pass's setting (as a flag or in a sweep file), a sweep file's own setting, a train or distill step's setting; and a
 * pass setting's help gives its type in the same words.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkIntegerFlag } from '../src/errors.ts';
import { describePass } from '../src/pass/describe.ts';
import { PASS_DECLARATIONS } from '../src/pass-declarations.ts';
import { registerAllPasses } from '../src/passes.ts';
import { parseSweep } from '../src/sweep/spec.ts';
import { parseBertSpec } from '../src/train/students/index.ts';
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
  it('refuses a whole number past 2^53 − 1 (1e16) naming the range it is outside, in every place an integer is typed', () => {
    expect(refusal(() => checkIntegerFlag('--epochs', 1e16, 1))).toBe('--epochs 10000000000000000: expected an integer from 1 to 2^53 − 1');
    // (a pass's setting, as its flag gives it and as a sweep file does: it is an integer ≥ 1, so that was no reason)
    expect(refusal(() => factorize.check({ rank: '1e16' }))).toBe(
      "factorize-embeddings: rank '1e16': expected an integer from 1 to 2^53 − 1 (flag --factorize-embeddings)",
    );
    expect(step('factorize-embeddings', { rank: 1e16 })).toBe(
      's.yaml: pipelines[0].steps[0].settings: factorize-embeddings: rank 10000000000000000: expected an integer from 1 to 2^53 − 1 (flag --factorize-embeddings)',
    );
    expect(sweep({ bench: { repeats: 1e16 } })).toBe(`s.yaml: bench.repeats: expected an integer from 1 to 2^53 − 1, ${PAST}`);
    expect(step('train', { epochs: 1e16 })).toBe(`s.yaml: pipelines[0].steps[0].settings.epochs: expected an integer from 1 to 2^53 − 1, ${PAST}`);
    expect(step('distill', { augment: 1e16 })).toBe(`s.yaml: pipelines[0].steps[0].settings.augment: expected an integer from 0 to 2^53 − 1, ${PAST}`);
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
      "quantize: mode 'int8-group:9007199254740993': the group size '9007199254740993': expected an integer from 1 to 2^53 − 1 (flag --quantize)",
    );
    expect(pass('quantize').check({ mode: 'int4-block:32.0' }).mode).toBe('int4-block:32');
    expect(pass('quantize').check({ mode: 'int8-group:1e3' }).mode).toBe('int8-group:1000');
    expect(pass('share-layers').check({ share: 'groups:2.0', from: 'layer:1e0' })).toEqual({ share: 'groups:2', from: 'layer:1' });
    expect(refusal(() => pass('share-layers').check({ share: 'groups:0x10' }))).toBe(
      "share-layers: share 'groups:0x10': the number of groups '0x10': expected an integer from 1 to 2^53 − 1 (flag --share-layers)",
    );
    expect(parseBertSpec('bert:layers=1e0,hidden=64.0')).toEqual({ layers: 1, hidden: 64 });
    expect(refusal(() => parseBertSpec('bert:hidden=-0'))).toBe("student 'bert:hidden=-0': hidden '-0': expected an integer from 1 to 2^53 − 1");
  });
});
