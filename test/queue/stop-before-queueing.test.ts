/**
 * A queued sweep's coordinator stopped (Ctrl-C, SIGTERM) before it queued its points (while it planned: a hub model,
 * a model discovery, the store) said 'queued 0 points …; start workers' and 'stopped: N points are still queued and the
 * workers go on; collect them with: … --follow', none of which held: nothing was queued, and --follow then refused
 * ('none of the N points … is queued there'). It now says that it stopped before queueing them and the command that
 * queues them, and exits as a stopped command (130 or 143).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queuedLeftLines } from '../../src/cli/commands/sweep.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import { redisSkipReason } from './redis.ts';
import { tinyQueue } from './tiny-queue.ts';

/** This file's database on a shared Redis. */
const DB = 7;

describe.skipIf(redisSkipReason !== null)(`a coordinator stopped before it queued${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const q = tinyQueue(DB, { rows: 4, pipelines: ['baseline'] }); // (2 points)

  it('counts its points as not queued, not as still queued, and queues none', async () => {
    const stop = new AbortController();
    const lines: string[] = [];
    const summary = await runQueuedSweep({
      file: q.t.sweepFile,
      store: join(q.t.root, 'stopped.sqlite'),
      queue: q.redis.url(DB),
      glueDir: q.t.glueDir,
      signal: stop.signal,
      // (the stop as it planned: the plan is said just before the points are queued)
      onEvent: (e) => (e.type === 'plan' ? stop.abort() : e.type === 'log' ? lines.push(e.line) : undefined),
    });
    expect(summary.total).toBe(2);
    expect({ left: summary.left, unqueued: summary.unqueued, added: summary.added }).toEqual({ left: 0, unqueued: 2, added: 0 });
    expect(await q.queue.getJobCounts()).toMatchObject({ waiting: 0, delayed: 0, active: 0 });
    expect(lines.join('\n')).not.toMatch(/queued 0 points|start workers/);
    expect(queuedLeftLines(summary, 'AGAIN --follow', 'AGAIN')).toEqual(['stopped before queueing 2 points; queue them with: AGAIN']);
  }, 60_000);

  it('says a --follow run stopped first, which queues nothing, as not found yet, and the command that goes on following them', async () => {
    const stop = new AbortController();
    const summary = await runQueuedSweep({
      file: q.t.sweepFile,
      store: join(q.t.root, 'stopped-follow.sqlite'),
      queue: q.redis.url(DB),
      glueDir: q.t.glueDir,
      follow: true,
      signal: stop.signal,
      onEvent: (e) => (e.type === 'plan' ? stop.abort() : undefined),
    });
    expect({ left: summary.left, unqueued: summary.unqueued, notQueued: summary.notQueued.length }).toEqual({ left: 0, unqueued: 2, notQueued: 0 });
    expect(queuedLeftLines(summary, 'AGAIN --follow', 'AGAIN', true)).toEqual([
      'stopped before finding 2 points in the queue; follow them with: AGAIN --follow',
    ]);
    expect(queuedLeftLines({ left: 0, notQueued: [], unqueued: 1 }, 'AGAIN --follow', 'AGAIN', true)).toEqual([
      'stopped before finding 1 point in the queue; follow it with: AGAIN --follow',
    ]);
  }, 60_000);

  it('says one point as one', () => {
    expect(queuedLeftLines({ left: 0, notQueued: [], unqueued: 1 }, 'AGAIN --follow', 'AGAIN')).toEqual([
      'stopped before queueing 1 point; queue it with: AGAIN',
    ]);
  });
});
