/**
 * The learning-rate schedule of BERT fine-tuning: linear warmup from 0 to the peak, then linear decay to 0 at the
 * last step, as Hugging Face's `get_linear_schedule_with_warmup` (and the Trainer's default `linear` schedule).
 * Steps count optimizer steps from 0: step s is trained with `lrAt(s)`, so the first step of a warmup uses lr 0,
 * exactly as the Trainer does.
 */
import { checkIntegerOption, SettingsError } from '../errors.ts';

export interface LinearSchedule {
  /** Peak learning rate. */
  lr: number;
  /** Optimizer steps in the whole run. */
  totalSteps: number;
  /** Warmup length in steps; give this or `warmupRatio` (neither means no warmup). */
  warmupSteps?: number;
  /** Warmup as a fraction of `totalSteps`, rounded up as the Trainer's `warmup_ratio` is. */
  warmupRatio?: number;
}

/** The warmup length in steps, after checking the schedule (a SettingsError names the bad field). */
export function warmupStepsOf(s: LinearSchedule): number {
  if (!(Number.isFinite(s.lr) && s.lr >= 0)) throw new SettingsError(`schedule 'lr' must be a finite number ≥ 0, got ${s.lr}`);
  checkIntegerOption("schedule 'totalSteps'", s.totalSteps, 1);
  if (s.warmupSteps !== undefined && s.warmupRatio !== undefined) throw new SettingsError("give schedule 'warmupSteps' or 'warmupRatio', not both");
  if (s.warmupRatio !== undefined) {
    if (!(s.warmupRatio >= 0 && s.warmupRatio <= 1)) throw new SettingsError(`schedule 'warmupRatio' must be in [0, 1], got ${s.warmupRatio}`);
    return Math.ceil(s.totalSteps * s.warmupRatio);
  }
  const w = s.warmupSteps ?? 0;
  checkIntegerOption("schedule 'warmupSteps'", w, 0);
  return w;
}

/** The learning rate of optimizer step `step` (0-based); 0 from `totalSteps` on. */
export function lrAt(step: number, s: LinearSchedule): number {
  if (!(Number.isSafeInteger(step) && step >= 0)) throw new RangeError(`'step' must be an integer ≥ 0, got ${step}`);
  const warmup = warmupStepsOf(s);
  if (step < warmup) return s.lr * (step / Math.max(1, warmup));
  return s.lr * Math.max(0, (s.totalSteps - step) / Math.max(1, s.totalSteps - warmup));
}
