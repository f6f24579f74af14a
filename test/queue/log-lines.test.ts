/**
 * What `compress worker` shows of a point's own log: the point's key and name before it (several points run at
 * once), and, for a training step stopped with a checkpoint (its worker process sent SIGTERM), that the queue runs
 * the point again, not the advice to rerun the command that a sweep gives.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { workerLogLine, workerReadyLine, workerStoppedLine } from '../../src/cli/commands/worker.ts';
import { connectionLog, connectionProblem, parseQueueUrl } from '../../src/queue/connection.ts';
import { jobErrorLine, queuePointLine } from '../../src/queue/worker.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { interruptedLine } from '../../src/train/run.ts';

describe("a queue worker's log lines", () => {
  it('closes with the points done here and the failed runs, one in the singular, where it said "1 points run here (1 failed runs)"', () => {
    expect(workerStoppedLine('gpu-1:41:0a1b2c', { ran: 1, failed: 1 })).toBe('worker gpu-1:41:0a1b2c: stopped after 1 point done here and 1 failed run');
    expect(workerStoppedLine('gpu-1:41:0a1b2c', { ran: 0, failed: 3 })).toBe('worker gpu-1:41:0a1b2c: stopped after 0 points done here and 3 failed runs');
    expect(workerStoppedLine('gpu-1:41:0a1b2c', { ran: 12, failed: 0 })).toBe('worker gpu-1:41:0a1b2c: stopped after 12 points done here and 0 failed runs');
  });

  it('opens with the points it runs at once and their threads, each counted, one in the singular', () => {
    expect(workerReadyLine('gpu-1:41:0a1b2c', { queue: 'redis://h:6379/0', concurrency: 1, threads: 1 })).toBe(
      'worker gpu-1:41:0a1b2c on redis://h:6379/0: 1 point at once, 1 thread each; Ctrl-C to stop',
    );
    expect(workerReadyLine('gpu-1:41:0a1b2c', { queue: 'q', concurrency: 2, threads: 8 })).toBe(
      'worker gpu-1:41:0a1b2c on q: 2 points at once, 8 threads each; Ctrl-C to stop',
    );
  });

  it('says the queue runs an interrupted point again, instead of "rerun the same command"', () => {
    const line = queuePointLine(interruptedLine(12, '/w/models/abc/train-0'));
    expect(line).toBe(
      'interrupted at step 12 with a checkpoint in /w/models/abc/train-0; the queue runs the point again, resuming from it where a worker finds it',
    );
    expect(line).not.toContain('rerun');
    expect(queuePointLine('resuming from step 12 (epoch 2)')).toBe('resuming from step 12 (epoch 2)');
  });

  it("says what happens to a point whose lock BullMQ could not renew (it is gone) or whose result it refused, where it showed the error's code ('-1')", () => {
    const key = 'ab'.repeat(32);
    // (as BullMQ 6 builds them: finished-errors.js, with the numeric code; lock-manager.js)
    const refused = Object.assign(new Error(`Missing key for job ${key}. moveToFinished`), { code: -1 });
    const mismatch = Object.assign(new Error(`Lock mismatch for job ${key}. Cmd moveToFinished from active`), { code: -6 });
    expect(connectionProblem(refused)).toBe(`Missing key for job ${key}. moveToFinished`);
    // (its lock still this worker's, the job moved out of the active list meanwhile: a stalled job moved on)
    const notActive = Object.assign(new Error(`Job ${key} is not in the active state. moveToFinished`), { code: -3 });
    const notActiveRetry = Object.assign(new Error(`Job ${key} is not in the active state. retryJob`), { code: -3 });
    for (const e of [refused, mismatch, notActive, notActiveRetry])
      expect(jobErrorLine(e)).toBe(
        `point ${key.slice(0, 12)}: the queue refused its result (the job is no longer this worker's: its lock expired while the worker paused or Redis was out of reach, or Redis lost the job); another run of the point gives its result, or gave it already`,
      );
    // (BullMQ's lock-manager.js says it where Redis answers that the lock is gone: extendLocks-1.lua, a lock missing or
    // another's; a Redis out of reach throws a connection error instead)
    expect(jobErrorLine(new Error(`could not renew lock for job ${key}`))).toBe(
      `point ${key.slice(0, 12)}: its lock expired before this worker renewed it (the worker paused, or Redis out of reach or restarted, for longer than the lock): the queue gives the point to another worker and refuses this run's result`,
    );
    const refusedConnection = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    expect(jobErrorLine(refusedConnection)).toBeUndefined();
    expect(connectionProblem(refusedConnection)).toBe('ECONNREFUSED');
    const lines: string[] = [];
    const log = connectionLog(parseQueueUrl('redis://h:6379'), (l) => lines.push(l));
    log.connected({ backend: new EventEmitter() } as unknown as Parameters<typeof log.connected>[0]);
    log.onError(refused);
    expect(lines).toEqual([`queue redis://h:6379: Missing key for job ${key}. moveToFinished`]);
  });

  it("names the point of a point's own line as the start line does, and leaves the worker's own lines as they are", () => {
    const point = { key: '0123456789abcdef0123', model: { name: 'tiny-sst2' }, label: 'kd' } as unknown as SweepPoint;
    expect(workerLogLine({ line: 'resuming from step 12 (epoch 2)', point })).toBe('0123456789ab tiny-sst2 · kd: resuming from step 12 (epoch 2)');
    expect(workerLogLine({ line: 'queue redis://h:6379: connected' })).toBe('queue redis://h:6379: connected');
  });

  it("shows without --verbose what becomes of a point whose lock expired or whose result was refused, not a point's stage lines", () => {
    const key = 'cd'.repeat(32);
    for (const e of [new Error(`could not renew lock for job ${key}`), new Error(`Missing lock for job ${key}. moveToFinished`)]) {
      const line = jobErrorLine(e)!;
      expect(workerLogLine({ line })).toBe(line);
    }
    const point = { key: '0123456789abcdef0123', model: { name: 'tiny-sst2' }, label: 'ffn' } as unknown as SweepPoint;
    expect(workerLogLine({ line: 'prune-ffn: running', point })).toBeUndefined();
    expect(workerLogLine({ line: 'prune-ffn: running', point }, true)).toBe('0123456789ab tiny-sst2 · ffn: prune-ffn: running');
  });
});
