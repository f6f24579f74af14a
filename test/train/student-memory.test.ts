/** What a BERT student keeps in memory: one copy of its weights, shared by its graphs with and without dropout. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { canonicalBert } from '../../src/bert/canonical.ts';
import { bertStudent } from '../../src/train/students/index.ts';
import { tinyBert } from '../helpers/models.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('a BERT student in memory', () => {
  it('holds one copy of its weights: its graphs with and without dropout share every initializer', () => {
    const student = bertStudent(canonicalBert(tinyBert()), 'tiny');
    const plain = student.forward(false).graph.initializers;
    const dropout = student.forward(true).graph.initializers;
    expect([...dropout.keys()]).toEqual([...plain.keys()]);
    for (const [name, t] of dropout) expect(t.data.buffer, name).toBe(plain.get(name)!.data.buffer);
  });

  it('does not keep the canonical weights it was built from', async () => {
    let canonical: ReturnType<typeof canonicalBert> | undefined = canonicalBert(tinyBert());
    const weights = new WeakRef(canonical.weights);
    const student = bertStudent(canonical, 'tiny');
    canonical = undefined;
    await new Promise((resolve) => setTimeout(resolve, 0)); // (a WeakRef keeps its target until the job that made it ends)
    gc();
    expect(weights.deref()).toBeUndefined();
    expect(student.configJson({})).toMatchObject({ hidden_size: 32 }); // (the student is alive past the check)
  });
});
