/** What a BERT student keeps in memory. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { canonicalBert } from '../../src/bert/canonical.ts';
import { bertStudent } from '../../src/train/students/index.ts';
import { tinyBert } from '../helpers/models.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('a BERT student in memory', () => {
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
