/**
 * A coordinator (`compress sweep --queue`) stopped by SIGTERM (timeout, docker stop, systemd) stops as Ctrl-C stops
 * it: it stops collecting, says that the queued points stay queued and how to collect them, and exits 143 (130 for
 * Ctrl-C). SIGTERM used to end it at once, without a line or its progress bar's clean-up.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compress, type CliProcess } from './cli-process.ts';
import { redisSkipReason } from './redis.ts';
import { tinyQueue } from './tiny-queue.ts';

/** This file's database on a shared Redis. */
const DB = 6;

describe.skipIf(redisSkipReason !== null)(`a queued sweep's coordinator stopped${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const q = tinyQueue(DB, { rows: 4, pipelines: ['baseline'] }); // (2 points: none runs)
  const processes: CliProcess[] = [];

  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('by %s, with no worker: one line on the points left queued, exit %i', async (signal, status) => {
    const store = join(q.t.root, `${signal}.sqlite`);
    const c = compress(['sweep', q.t.sweepFile, '--queue', q.redis.url(DB), '--store', store]);
    processes.push(c);
    await c.waitFor(/queued \d+ points at redis:|already queued/);
    c.child.kill(signal);
    const { code } = await c.exited;
    expect(code, c.output()).toBe(status);
    expect(c.output()).toMatch(
      /stopped: (?:1 point is still queued and the workers go on; collect it|\d+ points are still queued and the workers go on; collect them) with: compress sweep .* --follow/,
    );
  });
});
