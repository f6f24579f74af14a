/**
 * A progress bar with throughput for interactive runs: drawn on stderr only when stderr is a terminal, so logs
 * and pipes stay quiet.
 */
import cliProgress from 'cli-progress';
import type { ProgressListener } from './evaluate.ts';

export interface ProgressBar {
  readonly listener: ProgressListener;
  stop(): void;
}

/** A progress bar on `stream`, or null when it is not a TTY. */
export function createProgressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar | null {
  if (!stream.isTTY) return null;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{task} [{bar}] {value}/{total} | {rate} ex/s | ETA {eta_formatted}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  let started = 0;
  const listener: ProgressListener = ({ task, done, total }) => {
    if (done === 0) {
      if (running) bar.stop();
      started = performance.now();
      bar.start(total, 0, { task: task.name.padEnd(7), rate: '-' });
      running = true;
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    bar.update(done, { rate: seconds > 0 ? (done / seconds).toFixed(0) : '-' });
    if (done >= total) {
      bar.stop();
      running = false;
    }
  };
  return {
    listener,
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
