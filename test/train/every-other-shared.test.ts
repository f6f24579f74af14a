/**
 * `--student every-other` of a teacher whose layers share weights (share-layers, ALBERT): the teacher's layers 0, 2,
 * 4, … reading the same groups as in the teacher, renumbered, so layers that shared stay shared and uneven layers keep
 * their sizes; where it was refused ('the teacher shares layers; give a student model instead').
 */
import { describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { canonicalBert } from '../../src/bert/canonical.ts';
import type { ExtendedBertConfig } from '../../src/bert/config.ts';
import { findBert } from '../../src/bert/discover.ts';
import { sharedLayerGroups } from '../../src/bert/inspect.ts';
import { initialParameters } from '../../src/train/student.ts';
import { makeStudent } from '../../src/train/students/index.ts';
import { tinyBertConfig } from '../helpers/models.ts';

function everyOther(config: ExtendedBertConfig) {
  const teacher = buildBert(config, { kind: 'random', seed: 3 });
  const { student } = makeStudent({ spec: 'every-other', teacher, maxLength: 16, seed: 1, numLabels: config.numLabels });
  const written = student.export(initialParameters(student.forward(false)));
  return { teacher: canonicalBert(teacher), student: canonicalBert(written), groups: sharedLayerGroups(findBert(written)), description: student.description };
}

describe('every-other of a teacher with shared layers', () => {
  it('all layers shared: two layers reading the one shared set, the same parameters as the teacher', () => {
    const r = everyOther({ ...tinyBertConfig({ numLayers: 4 }), layerGroups: [0, 0, 0, 0] });
    expect(r.description).toBe('every-other layer of the teacher (2 of 4)');
    expect(r.groups).toEqual([0, 0]);
    expect(r.student.config.layerGroups).toEqual([0, 0]);
    expect([...r.student.weights.keys()].sort()).toEqual([...r.teacher.weights.keys()].sort());
    for (const [name, v] of r.teacher.weights) expect(r.student.weights.get(name), name).toEqual(v);
  });

  it('groups and uneven layers (RoBERTa, factorized): the kept layers with their groups renumbered and their sizes', () => {
    const r = everyOther({
      ...tinyBertConfig({ numLayers: 4, typeVocabSize: 1 }),
      family: 'roberta',
      padTokenId: 1,
      embeddingSize: 16,
      layerGroups: [0, 1, 1, 2],
      layers: [
        { numHeads: 0, intermediateSize: 64 },
        { numHeads: 2, intermediateSize: 48 },
        { numHeads: 2, intermediateSize: 48 },
        { numHeads: 4, intermediateSize: 64 },
      ],
    });
    expect(r.description).toBe('every-other layer of the teacher (2 of 4)');
    // layers 0 and 2 read groups 0 and 1: no longer shared
    expect(r.groups).toEqual([0, 1]);
    expect(r.student.config.layerGroups).toBeUndefined();
    expect(r.student.config.embeddingSize).toBe(16);
    expect(r.student.config.layers).toEqual([
      { numHeads: 0, intermediateSize: 64 },
      { numHeads: 2, intermediateSize: 48 },
    ]);
    const layer1 = [...r.student.weights.keys()].filter((n) => n.includes('.layer.1.'));
    expect(layer1.length).toBeGreaterThan(0);
    for (const name of layer1) expect(r.student.weights.get(name), name).toEqual(r.teacher.weights.get(name));
    expect([...r.student.weights.keys()].filter((n) => n.includes('.layer.2.'))).toEqual([]);
  });
});
