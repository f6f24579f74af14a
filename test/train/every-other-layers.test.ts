/**
 * `--student every-other` of teachers whose layers share nothing: the student's layer i is the teacher's layer 2i
 * (0, 2, 4, … as DistilBERT's paper initialises: 4 → 2, 6 → 3, 12 → 6 layers, and 3 → 2, the last layer dropped),
 * every other weight the teacher's own. Checked weight by weight against the teacher, and the student's logits
 * against a float64 forward pass of the teacher's layers 0, 2, … (referenceBertLogits), not against the
 * drop-layers pass, which reads the same list of layers.
 */
import { describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { canonicalBert } from '../../src/bert/canonical.ts';
import type { ExtendedBertConfig } from '../../src/bert/config.ts';
import { initialParameters } from '../../src/train/student.ts';
import { makeStudent } from '../../src/train/students/index.ts';
import { batchLogits, maxRowDiff, paddedBatch, perturbedWeights, referenceBertLogits, tinyBertConfig } from '../helpers/models.ts';

/** The every-other student of a seeded teacher of `config`, written as a model, and both read back canonically. */
function everyOther(config: ExtendedBertConfig) {
  const teacher = buildBert(config, { kind: 'given', tensors: perturbedWeights(config, 5) });
  const { student } = makeStudent({ spec: 'every-other', teacher, maxLength: 16, seed: 1, numLabels: config.numLabels });
  const written = student.export(initialParameters(student.forward(false)));
  return { teacher: canonicalBert(teacher), student: canonicalBert(written), written, description: student.description };
}

/** The teacher's name of a student weight: layer i's is layer 2i's, any other the same name. */
const teacherName = (name: string) => name.replace(/\.layer\.(\d+)\./, (_, i: string) => `.layer.${2 * Number(i)}.`);

describe('every-other of a teacher without shared layers', () => {
  for (const [teacherLayers, kept] of [
    [4, [0, 2]],
    [6, [0, 2, 4]],
    [12, [0, 2, 4, 6, 8, 10]],
    [3, [0, 2]],
  ] as const) {
    it(`${teacherLayers} layers: the teacher's layers ${kept.join(', ')}, weight by weight, and their logits`, async () => {
      const config = tinyBertConfig({ numLayers: teacherLayers, hiddenSize: 16, numHeads: 2, intermediateSize: 24 });
      const r = everyOther(config);
      expect(r.description).toBe(`every-other layer of the teacher (${kept.length} of ${teacherLayers})`);
      expect(r.student.config.numLayers).toBe(kept.length);
      // every weight of the student is the teacher's (layer i: layer 2i), and every teacher weight of a kept layer is used
      for (const [name, v] of r.student.weights) expect(v, name).toEqual(r.teacher.weights.get(teacherName(name)));
      const used = new Set([...r.student.weights.keys()].map(teacherName));
      const layerOf = (name: string) => Number(/\.layer\.(\d+)\./.exec(name)?.[1] ?? -1);
      const expected = [...r.teacher.weights.keys()].filter((n) => layerOf(n) === -1 || (kept as readonly number[]).includes(layerOf(n)));
      expect([...used].sort()).toEqual(expected.sort());

      // the student's logits: a float64 BERT of the teacher's layers 0, 2, … (renumbered 0, 1, …)
      const batch = paddedBatch([9, 5, 12], config.vocabSize, 3);
      const reference = referenceBertLogits({ ...config, numLayers: kept.length }, (name) => r.teacher.weights.get(teacherName(name))!, batch);
      const got = await batchLogits(r.written, batch);
      expect(maxRowDiff(got.rows, reference)).toBeLessThan(1e-4);
    });
  }

  it('DistilBERT (transformer.layer.i) and RoBERTa: the same choice of layers under their names', () => {
    for (const family of ['distilbert', 'roberta'] as const) {
      const config: ExtendedBertConfig = {
        ...tinyBertConfig({ numLayers: 6, hiddenSize: 16, numHeads: 2, intermediateSize: 24, typeVocabSize: 1 }),
        family,
        ...(family === 'roberta' ? { padTokenId: 1 } : {}),
      };
      const r = everyOther(config);
      expect(r.student.config.numLayers, family).toBe(3);
      const names = [...r.student.weights.keys()];
      expect(
        names.some((n) => n.includes('.layer.2.')),
        family,
      ).toBe(true);
      expect(
        names.some((n) => n.includes('.layer.3.')),
        family,
      ).toBe(false);
      for (const [name, v] of r.student.weights) expect(v, `${family} ${name}`).toEqual(r.teacher.weights.get(teacherName(name)));
    }
  });
});
