/**
 * The time a resumed run records: its epoch's `seconds` and the lineage's `examplesPerSecond` count the part of the
 * run before the resume (as the checkpoint records it), so that they read as an uninterrupted run's, not as the few
 * steps after the resume. The clock the trainer reads (performance.now) is the test's: it moves 250 ms at each of the
 * first run's steps and stands still in the resumed one, so the figures are exact whatever the machine's speed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-resumed-seconds-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The trainer's clock, in ms: moved by the test alone. */
let clock = 0;
afterEach(() => vi.restoreAllMocks());

describe("a resumed run records the whole run's time", () => {
  const teacher = writeModelFolder(join(work, 'teacher'), tinyBert());
  const glueDir = join(work, 'glue');
  writeGlueTask(glueDir, 'SST-2', 48, ['train', 'dev']);
  /** 48 examples at batch 4: 12 steps in the one epoch. */
  const job = (more: Partial<Parameters<typeof runTraining>[0]> = {}): Parameters<typeof runTraining>[0] => ({
    task: 'SST-2',
    teacher,
    student: 'every-other',
    glueDir,
    cacheDir: join(work, 'cache'),
    output: join(work, 'out', 'model.onnx'),
    settings: { epochs: 1, batchSize: 4, threads: 1 },
    ...more,
  });

  it("stopped after 4 steps of 250 ms, then resumed: the epoch's seconds and the rate count the first 4 steps", async () => {
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const stop = new AbortController();
    const stopped = await runTraining(
      job({
        signal: stop.signal,
        onStep: (s) => {
          clock += 250;
          if (s.step === 4) stop.abort();
        },
      }),
    );
    expect(stopped.interrupted).toBe(true);
    const logs: string[] = [];
    const resumed = await runTraining(job({ log: (l) => logs.push(l) }));
    expect(logs).toContain('resuming from step 4 (epoch 1)');
    const lineage = resumed.lineage!;
    expect(lineage.examplesSeen).toBe(48);
    expect(lineage.epochs).toHaveLength(1);
    // (the 4 × 250 ms before the stop, and none after the resume: not the resumed 8 steps' alone)
    expect(lineage.epochs[0]!.seconds).toBe(1);
    expect(lineage.examplesPerSecond).toBe(48);
  });
});
