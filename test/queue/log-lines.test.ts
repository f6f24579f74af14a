/**
 * What `compress worker` shows of a point's own log: the point's key and name before it (several points run at
 * once), and, for a training step stopped with a checkpoint (its worker process sent SIGTERM), that the queue runs
 * the point again, not the advice to rerun the command that a sweep gives.
 */
import { describe, expect, it } from 'vitest';
import { workerLogLine } from '../../src/cli/commands/worker.ts';
import { queuePointLine } from '../../src/queue/worker.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { interruptedLine } from '../../src/train/run.ts';

describe("a queue worker's log lines", () => {
  it('says the queue runs an interrupted point again, instead of "rerun the same command"', () => {
    const line = queuePointLine(interruptedLine(12, '/w/models/abc/train-0'));
    expect(line).toBe(
      'interrupted at step 12 with a checkpoint in /w/models/abc/train-0; the queue runs the point again, resuming from it where a worker finds it',
    );
    expect(line).not.toContain('rerun');
    expect(queuePointLine('resuming from step 12 (epoch 2)')).toBe('resuming from step 12 (epoch 2)');
  });

  it("names the point of a point's own line as the start line does, and leaves the worker's own lines as they are", () => {
    const point = { key: '0123456789abcdef0123', model: { name: 'tiny-sst2' }, label: 'kd' } as unknown as SweepPoint;
    expect(workerLogLine({ line: 'resuming from step 12 (epoch 2)', point })).toBe('0123456789ab tiny-sst2 · kd: resuming from step 12 (epoch 2)');
    expect(workerLogLine({ line: 'queue redis://h:6379: connected' })).toBe('queue redis://h:6379: connected');
  });
});
