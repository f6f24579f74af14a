/**
 * Every sweep file of examples/ plans, as `compress sweep FILE --dry-run` does: its pipelines parse, and none is
 * refused on models of its models' depths (the rules that refuse two pipelines that are one point on a model read
 * its depth). The models are tiny stand-ins, at the paths the files name, of the shared teachers (4 and 2 layers,
 * hidden 256 as theirs: the plan checks factorize-embeddings' rank 64 against it)
 * and of those their npm run results:* scripts make first (out/teachers/L2H256-half and L1H256, out/tinybert-general).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

const EXAMPLES = resolve(__dirname, '../../examples');
const root = mkdtempSync(join(tmpdir(), 'examples-plan-'));
const glueDir = join(root, 'glue');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Stand-ins: folder (from `root`, where the repository is `repo`), layers, regression (STS-B). */
const MODELS: Array<[string, number, boolean]> = [
  ['shared/teachers/sst2-L4H256', 4, false],
  ['shared/teachers/sst2-L2H256', 2, false],
  ['shared/teachers/stsb-L4H256', 4, true],
  ['repo/out/teachers/L2H256-half', 2, false],
  ['repo/out/teachers/L1H256', 1, false],
  ['repo/out/tinybert-general', 1, false],
];

beforeAll(() => {
  // (each its own weights: one file named twice is refused)
  MODELS.forEach(([dir, numLayers, regression], seed) => {
    const model = tinyBert({ numLayers, hiddenSize: 256, maxPositions: 128, numLabels: regression ? 1 : 2 }, { seed: seed + 1 });
    writeModelFolder(join(root, dir), model, { regression, maxLength: regression ? 128 : 64 });
  });
  writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
  writeGlueTask(glueDir, 'STS-B', 8, ['train', 'dev']);
  mkdirSync(join(root, 'repo', 'examples'));
});

describe('the sweep files of examples/', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

  it('are there', () => {
    expect(files).toContain('poster.yaml');
  });

  it.each(files)('%s plans on models of its models’ depths', async (name) => {
    const file = join(root, 'repo', 'examples', name);
    cpSync(join(EXAMPLES, name), file);
    const points = await planSweep(parseSweepFile(file), { glueDir, workDir: join(root, 'work') });
    expect(points.length).toBeGreaterThan(0);
  });
});

describe("the README's sweep file", () => {
  it('plans in examples/, every key it shows read (its pipelines, grid, models list, anchors, bench, eval)', async () => {
    const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Sweep files'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toBeDefined();
    const file = join(root, 'repo', 'examples', 'readme-sweep.yaml');
    writeFileSync(file, yaml!);
    const spec = parseSweepFile(file);
    expect(spec.keepModels).toBe(false);
    const points = await planSweep(spec, { glueDir, workDir: join(root, 'work-readme') });
    expect(points.map((p) => `${p.model.name} ${p.label}`).sort()).toEqual(
      [
        ...['baseline', 'heads-40', 'heads-0.2', 'heads-0.6', 'ffn50+kd'].flatMap((l) => [`sst2-L4H256 ${l}`, `sst2-L2H256 ${l}`]),
        'sst2-L4H256 tiny-kd',
      ].sort(),
    );
    // (the anchor's settings merged into the distill step)
    const kd = points.find((p) => p.label === 'ffn50+kd')!;
    expect(kd.steps[1]!.settings).toMatchObject({ epochs: 1, alpha: 0.5, maxExamples: 20000, temperature: 2 });
  });
});
