/**
 * The SST-2 teacher with a dev-accuracy function of a head-pruning choice, for importance-vs-random tests. Its
 * sessions run at one thread (THREADS): onnxruntime's second intra-op thread spins, which nearly doubled the CPU time
 * of these runs (and starved them in a CI beside other jobs) for the same accuracies.
 */
import { join } from 'node:path';
import { encodeModel, loadModel } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { applyHeadPruning } from '../../src/prune/heads.ts';
import { evaluate } from '../../src/eval/index.ts';
import { GLUE_DIR, TEACHERS } from './paths.ts';

/** The onnxruntime intra-op threads of the teacher's sessions, for its scoring runs too. */
const THREADS = 1;

export function sst2TeacherPruning() {
  const dir = join(TEACHERS, 'sst2-L4H256');
  const model = loadModel(join(dir, 'model.onnx'));
  const s = findBert(model);
  /** SST-2 dev accuracy with the heads `drop` (layer → heads) removed. */
  const accuracy = async (drop: Record<number, number[]>) => {
    const r = await evaluate({
      model: encodeModel(applyHeadPruning(model, s, drop)),
      tasks: ['SST-2'],
      glueDir: GLUE_DIR,
      tokenizer: dir,
      modelConfig: dir,
      threads: THREADS,
    });
    return r.tasks[0].metrics.accuracy as number;
  };
  return { dir, model, s, accuracy, threads: THREADS };
}
