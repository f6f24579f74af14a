/**
 * A worker's BullMQ lock settings (lockSettings): the lock in whole milliseconds, and the check for lost workers'
 * points 4 times a lock, so that a dead worker's point (its lock expiring half a lock to a lock after its death) is
 * rerun within 1¼ locks of the death, where a check once a lock (BullMQ's default, which the worker took) let it wait
 * up to 2 (60 s with the default --lock-seconds 30).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCK_MS, lockSettings } from '../../src/queue/worker.ts';

describe("a worker's lock settings", () => {
  it('checks for lost points 4 times a lock: the default lock of 30 s, every 7.5 s', () => {
    expect(lockSettings(DEFAULT_LOCK_MS)).toEqual({ lockDuration: 30_000, stalledInterval: 7_500 });
    expect(lockSettings(2000)).toEqual({ lockDuration: 2000, stalledInterval: 500 });
  });

  it('gives Redis whole milliseconds: --lock-seconds 1.005 (1004.9999999999999 ms) and 1.0001', () => {
    expect(lockSettings(1.005 * 1000)).toEqual({ lockDuration: 1005, stalledInterval: 251 });
    expect(lockSettings(1.0001 * 1000)).toEqual({ lockDuration: 1000, stalledInterval: 250 });
  });

  it("reruns a dead worker's point within 1¼ locks of its death, for every lock --lock-seconds takes", () => {
    for (const seconds of [1, 1.5, 2, 7, 30, 600, 86_400, 2_147_483]) {
      const { lockDuration, stalledInterval } = lockSettings(seconds * 1000);
      expect(Number.isInteger(stalledInterval) && stalledInterval >= 1, `${seconds}`).toBe(true);
      // (the lock expires at most a lock after the death; the first check after that puts the point back)
      expect(lockDuration + stalledInterval, `${seconds}`).toBeLessThanOrEqual(Math.ceil(1.25 * lockDuration));
    }
  });
});
