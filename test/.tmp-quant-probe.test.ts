import { it } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../src/onnx/index.ts';
import { findBert } from '../src/bert/discover.ts';
import { structureProblems } from '../src/bert/discover/structure-check.ts';
import { tinyBert } from './helpers/models.ts';
import { quantize, syntheticCalibration } from './quantize/helpers.ts';
import { FIXTURE_MODELS, fixture, TEACHERS } from './helpers/paths.ts';

const modes: Array<[Record<string, unknown>, boolean]> = [
  [{ mode: 'int8' }, false], [{ mode: 'int8', format: 'standard' }, false], [{ mode: 'int8-group:8' }, false],
  [{ mode: 'int4-block:16' }, false], [{ mode: 'int4-block:16', symmetric: false }, false], [{ mode: 'int8-static' }, true], [{ mode: 'int8-static', perChannel: false }, true],
  [{ mode: 'mixed:0.4', mixedBlockSize: 16 }, true], [{ mode: 'int8', embeddings: false }, false],
];
const models: Array<[string, () => any]> = [
  ['tiny', () => tinyBert({}, { std: 0.1 })],
  ['teacher', () => loadModel(join(TEACHERS, 'sst2-L4H256/model.onnx'))],
  ...FIXTURE_MODELS.map((f) => [f.file, () => loadModel(fixture(f.file))] as [string, () => any]),
];
it('probe', async () => {
  for (const [name, make] of models) {
    const m = make();
    const s = findBert(m);
    for (const [settings, cal] of modes) {
      const fm = FIXTURE_MODELS.find((f) => f.file === name);
      let line = `${name} ${JSON.stringify(settings)}: `;
      try {
        const { model: q } = await quantize(m, s, settings, cal ? syntheticCalibration(Math.min(s.vocabSize, fm?.vocab ?? 1e9), s.head?.numLabels ?? 2, 2, 11, fm?.seq) : undefined);
        const t = findBert(q);
        const same = [t.numLayers === s.numLayers, t.numHeads === s.numHeads, t.hiddenSize === s.hiddenSize, t.intermediateSize === s.intermediateSize, t.vocabSize === s.vocabSize];
        const kinds = new Set(t.layers.flatMap((l) => [l.attention?.q?.quantization?.kind, l.attention?.fused?.quantization?.kind, l.ffn.in.quantization?.kind]));
        line += `ok ${same.every(Boolean)} ${[...kinds]} emb=${t.embeddings.word.quantization?.kind} problems=${structureProblems(q, t).slice(0, 2)}`;
      } catch (e) {
        line += `ERR ${(e as Error).message.slice(0, 300)}`;
      }
      console.log(line);
    }
  }
}, 600_000);
