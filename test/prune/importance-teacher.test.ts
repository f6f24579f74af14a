/**
 * Choosing heads by ablation must keep more accuracy than choosing them at random (the control): on the SST-2
 * teacher at 40% of heads removed, calibrated on 256 train examples, judged on the full dev set. The full table over
 * 20–60% and both teachers is `npm run bench -- prune-importance`.
 */
import { describe, expect, it } from 'vitest';
import { selectHeads } from '../../src/prune/heads.ts';
import { headScores, normalizePerLayer } from '../../src/prune/head-importance.ts';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { GLUE_DIR, hasGlue, hasTeachers } from '../helpers/paths.ts';
import { sst2TeacherPruning } from '../helpers/teacher-pruning.ts';

describe.skipIf(!hasTeachers || !hasGlue)('head importance on the SST-2 teacher (needs ../shared/teachers and ../shared/glue)', () => {
  it('ablation beats the mean of three random choices at 40%', async () => {
    const { dir, model, s, accuracy } = sst2TeacherPruning();
    const calibration = await loadCalibration({ model: dir, task: 'SST-2', examples: 256, glueDir: GLUE_DIR });
    const ablation = await accuracy(selectHeads(normalizePerLayer(await headScores('ablation', model, s, { calibration })), 0.4));
    let random = 0;
    for (const seed of [1, 2, 3]) random += (await accuracy(selectHeads(await headScores('random', model, s, { seed }), 0.4))) / 3;
    expect(ablation).toBeGreaterThan(random);
  });
});
