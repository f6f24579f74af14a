/**
 * fixtures/ is what scripts/make-fixtures.ts writes, byte for byte (`npm run fixtures` regenerates it), and each
 * fixture is the graph it says it is: discovery reads its layout and onnxruntime runs it.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR, FIXTURE_SPECS, fixtureFiles } from '../../scripts/make-fixtures.ts';
import { loadModel } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { REPO_FIXTURES, repoFixture } from '../helpers/repo-fixtures.ts';

describe('fixtures/', () => {
  it('holds exactly what the script writes, byte for byte (regenerate with npm run fixtures)', () => {
    const folders = readdirSync(FIXTURES_DIR, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.sort()).toEqual(FIXTURE_SPECS.map((s) => s.name).sort());
    for (const spec of FIXTURE_SPECS) {
      const files = fixtureFiles(spec);
      expect(readdirSync(join(FIXTURES_DIR, spec.name)).sort(), spec.name).toEqual([...files.keys()].sort());
      for (const [name, bytes] of files) {
        const stored = readFileSync(join(FIXTURES_DIR, spec.name, name));
        expect(Buffer.compare(stored, bytes), `${spec.name}/${name} differs from what the script writes`).toBe(0);
      }
    }
  });

  it('stays small enough to check in', () => {
    const bytes = FIXTURE_SPECS.flatMap((s) => [...fixtureFiles(s).values()]).reduce((n, b) => n + b.byteLength, 0);
    expect(bytes).toBeLessThan(1024 * 1024);
  });

  for (const f of REPO_FIXTURES) {
    it(`${f.name}: discovery reads its layout and onnxruntime runs it`, async () => {
      const model = loadModel(f.path);
      const s = findBert(model);
      expect([s.numLayers, s.numHeads, s.intermediateSize, s.hiddenSize]).toEqual([f.layers, f.heads, f.intermediateSize, 32]);
      const out = Object.values(await outputsOf(model, sampleFeeds(model, s)));
      expect(out).toHaveLength(1);
      expect(out[0]).toHaveLength(3 * 2);
      expect(out[0].every(Number.isFinite)).toBe(true);
    });
  }

  it('the renamed fixture reads TensorFlow input names; the DistilBERT one has no token types', () => {
    expect(findBert(loadModel(repoFixture('tiny-bert-renamed').path)).inputs).toEqual({
      inputIds: 'input_word_ids',
      attentionMask: 'input_mask',
      tokenTypeIds: 'segment_ids',
    });
    const distil = findBert(loadModel(repoFixture('tiny-distilbert').path));
    expect([distil.family, distil.inputs.tokenTypeIds]).toEqual(['distilbert', undefined]);
  });

  it("tiny-bert is a model folder: its tokenizer splits words into the vocabulary's pieces", () => {
    const tok = loadTokenizer(repoFixture('tiny-bert').dir);
    const vocab = readFileSync(join(repoFixture('tiny-bert').dir, 'vocab.txt'), 'utf8').split('\n');
    const ids = tok.encode('A good movie, quirky!', null, 64).ids;
    expect(ids.map((i) => vocab[i])).toEqual(['[CLS]', 'a', 'good', 'movie', ',', 'q', '##u', '##i', '##r', '##k', '##y', '!', '[SEP]']);
  });
});
