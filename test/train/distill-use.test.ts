/**
 * distillUse, the one definition of the prediction-layer settings a distill run reads (the lineage's settings as used,
 * the sweep plan's steps that train one model): a setting it calls unused is one whose every value gives the same
 * loss (lossTerms), and one it calls used changes the loss.
 */
import { describe, expect, it } from 'vitest';
import { getTask } from '../../src/glue/registry.ts';
import { DEFAULT_DISTILL_SETTINGS, distillUse, lossTerms, type DistillSettings, type PredictionSetting } from '../../src/train/run.ts';

const OTHER: Record<PredictionSetting, (d: DistillSettings) => Partial<DistillSettings>> = {
  alpha: (d) => ({ alpha: d.alpha === 0.5 ? 0.25 : 0.5 }),
  temperature: (d) => ({ temperature: d.temperature * 3 }),
  logitLoss: (d) => ({ logitLoss: d.logitLoss === 'ce' ? 'mse' : 'ce' }),
};

describe('distillUse', () => {
  it('calls a prediction-layer setting of the task stage unused exactly where another value of it gives the same loss, and names the loss of the teacher term', () => {
    for (const task of [getTask('SST-2'), getTask('STS-B')])
      for (const alpha of [0, 0.3, 1])
        for (const logitLoss of ['ce', 'mse'] as const) {
          const d: DistillSettings = { ...DEFAULT_DISTILL_SETTINGS, alpha, logitLoss };
          const use = distillUse(d, task);
          const loss = JSON.stringify(lossTerms(task.regression, d));
          const what = `${task.name} alpha=${alpha} logitLoss=${logitLoss}`;
          for (const key of Object.keys(OTHER) as PredictionSetting[]) {
            const same = JSON.stringify(lossTerms(task.regression, { ...d, ...OTHER[key](d) })) === loss;
            expect(use.unused.includes(key), `${what}: ${key}`).toBe(same);
          }
          expect(use.because !== undefined, what).toBe(use.unused.length > 0);
          const teacher = lossTerms(task.regression, d).find((t) => t.kind !== 'hard-ce' && t.kind !== 'score-mse');
          expect(use.logitLoss, what).toBe(teacher === undefined ? undefined : teacher.kind === 'soft-ce' ? 'ce' : 'mse');
        }
  });

  it('reads none of them in the general stage (intermediate layers only), with or without a task', () => {
    for (const task of [undefined, getTask('STS-B')])
      expect(distillUse({ ...DEFAULT_DISTILL_SETTINGS, stage: 'general' }, task)).toEqual({
        unused: ['alpha', 'temperature', 'logitLoss'],
        because: 'general stage',
      });
  });
});
