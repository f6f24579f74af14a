/**
 * A sweep's seed that a pass step drawing from it refuses (random importance: below 2^32) refuses the file when it
 * is read, naming the seed, the pipeline and the step, where --dry-run listed the points and each failed when it ran;
 * so does a seed past 2^53 − 1, which the trainer refuses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerAllPasses } from '../../src/passes.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'seed-range-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeModelFolder(join(root, 'm'), tinyBert());

const parse = (seed: number, settings: Record<string, unknown>) =>
  parseSweep(
    { name: 's', seed, models: [{ path: 'm', tasks: ['SST-2'] }], pipelines: [{ name: 'rh', steps: [{ pass: 'prune-heads', settings }] }] },
    join(root, 's.yaml'),
    's.yaml',
  );

describe("a sweep's seed", () => {
  it('is refused when a step drawing from it (random importance without its own seed) would refuse it', () => {
    expect(() => parse(2 ** 32, { ratio: 0.5, importance: 'random' })).toThrow(
      // (in a file's words, as a step's own seed, where it said "seed of pipeline 'rh', step 1 (prune-heads): prune-heads:
      // seed 4294967296: … (flag --seed)", a flag's frame)
      "s.yaml: seed: expected an integer from 0 to 4294967295, got number 4294967296 (pipeline 'rh', step 1 (prune-heads) draws its seed from it)",
    );
    expect(parse(2 ** 32 - 1, { ratio: 0.5, importance: 'random' }).seed).toBe(2 ** 32 - 1);
    // a step with its own seed, or one that draws nothing, does not read the sweep's
    expect(parse(2 ** 32, { ratio: 0.5, importance: 'random', seed: 3 }).seed).toBe(2 ** 32);
    expect(parse(2 ** 32, { ratio: 0.5, importance: 'magnitude' }).seed).toBe(2 ** 32);
  });

  it('is refused past 2^53 − 1 (YAML reads 2^53 + 1 as 2^53), where a train or distill step drawing from it failed at each point', () => {
    expect(() => parse(2 ** 53, { ratio: 0.5, importance: 'magnitude' })).toThrow(
      /^s\.yaml: seed: expected an integer from 0 to 2\^53 − 1, got number 9007199254740992 \(past 2\^53 − 1 a number is not read exactly\)$/,
    );
    expect(parse(2 ** 53 - 1, { ratio: 0.5, importance: 'magnitude' }).seed).toBe(2 ** 53 - 1);
  });
});

describe("a step's seed", () => {
  const steps = (step: Record<string, unknown>) =>
    parseSweep({ name: 's', models: [{ path: 'm', tasks: ['SST-2'] }], pipelines: [{ name: 'p', steps: [step] }] }, join(root, 's.yaml'), 's.yaml');

  it("given as text ('7') is refused in one line naming the field, by a prune-heads step as by a train step and the sweep's seed", () => {
    expect(() => steps({ pass: 'train', settings: { seed: '7' } })).toThrow(/^s\.yaml: pipelines\[0\]\.steps\[0\]\.settings\.seed: expected an integer/);
    expect(() => steps({ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'random', seed: '7' } })).toThrow(
      /^s\.yaml: pipelines\[0\]\.steps\[0\]\.settings\.seed: expected an integer from 0 to 4294967295, got string "7"$/,
    );
    expect(() => parse('7' as unknown as number, { ratio: 0.5, importance: 'magnitude' })).toThrow(
      /^s\.yaml: seed: expected an integer from 0 to 2\^53 − 1, got string "7"$/,
    );
    // past 2^53 − 1 (YAML reads 2^53 + 1 as 2^53), the limit named, as for the sweep's seed
    for (const pass of ['train', 'distill'])
      expect(() => steps({ pass, settings: { seed: 2 ** 53 } })).toThrow(
        /^s\.yaml: pipelines\[0\]\.steps\[0\]\.settings\.seed: expected an integer from 0 to 2\^53 − 1, got number 9007199254740992 \(past 2\^53 − 1 a number is not read exactly\)$/,
      );
    // a number is read as before
    expect(
      steps({ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'random', seed: 7 } }).pipelines.find((p) => p.label === 'p')?.steps[0]?.settings.seed,
    ).toBe(7);
  });
});
