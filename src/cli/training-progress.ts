/**
 * What `compress train` / `compress distill` show while they run: on a terminal, a bar with steps, epoch, loss
 * (mean of the last steps), examples per second and ETA, with log lines (teacher cache, resume, each epoch's dev
 * score) printed above it; otherwise only the log lines, so logs and pipes get one line per event.
 */
import cliProgress from 'cli-progress';
import type { StepProgress } from '../train/trainer.ts';

export interface TrainingProgress {
  /** After every optimizer step. */
  step(p: StepProgress): void;
  /** One line of the run's log. */
  log(line: string): void;
  /** Removes the bar (pending log lines are written first); safe to call twice. */
  stop(): void;
}

/** Steps whose losses the bar averages. */
const LOSS_WINDOW = 20;

export function createTrainingProgress(stream: NodeJS.WriteStream = process.stderr): TrainingProgress {
  if (!stream.isTTY) {
    return { step: () => {}, log: (line) => void stream.write(line + '\n'), stop: () => {} };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: 'train [{bar}] {value}/{total} steps | epoch {epoch}/{epochs} | loss {loss} | {rate} ex/s | ETA {eta_formatted}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      gracefulExit: false,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let stopped = false;
  let lastStep = 0;
  const losses: number[] = [];
  return {
    step(p) {
      if (stopped) return;
      // A new phase (intermediate layers first, then predictions) counts its steps from 1 again.
      const restart = p.step <= lastStep;
      lastStep = p.step;
      if (restart) losses.length = 0;
      losses.push(p.loss);
      if (losses.length > LOSS_WINDOW) losses.shift();
      const payload = {
        epoch: p.epoch + 1,
        epochs: p.epochs, // (the phase's: an intermediate phase runs --intermediate-epochs)
        loss: (losses.reduce((a, b) => a + b, 0) / losses.length).toFixed(4),
        rate: p.examplesPerSecond.toFixed(0),
      };
      if (!bar) bar = multi.create(p.totalSteps, p.step - 1, payload);
      else if (restart) bar.start(p.totalSteps, p.step - 1, payload);
      bar.update(p.step, payload);
    },
    log(line) {
      if (bar && !stopped) multi.log(line + '\n');
      else stream.write(line + '\n');
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (bar) {
        multi.update(); // writes pending log lines
        multi.stop();
      }
    },
  };
}
