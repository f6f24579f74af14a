/**
 * A distributed sweep whose Redis goes away. Restarted mid-sweep without its data, the sweep goes on: the
 * coordinator queues again the points that vanished, the workers reconnect, and the store ends complete, with the
 * rows it had before the restart untouched. Gone for good, the coordinator stops with one line, and the store keeps
 * what it had. Both need a redis-server of the test's own (it is stopped).
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QueueError } from '../../src/errors.ts';
import { QUEUE_NAME, RECONNECT_MAX_MS, connectionLog, parseQueueUrl, waitConnected } from '../../src/queue/connection.ts';
import { CALL_TIMEOUT_MS, runQueuedSweep } from '../../src/queue/coordinator.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { compress, type CliProcess } from './cli-process.ts';
import { ownRedis, ownRedisSkipReason, withoutResetBeforeRefused, type TestRedis } from './redis.ts';
import { stopOnceQueued } from './tiny-queue.ts';

function results(path: string): Array<{ key: string; finished_at: string }> {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT key, finished_at FROM results ORDER BY key').all() as Array<{ key: string; finished_at: string }>;
    } finally {
      db.close();
    }
  } catch {
    return []; // not created yet
  }
}

describe.skipIf(ownRedisSkipReason !== null)(`a sweep whose Redis goes away${ownRedisSkipReason ? ` (skipped: ${ownRedisSkipReason})` : ''}`, () => {
  let t: TinySweep;
  let redis: TestRedis;
  let keys: string[];
  const processes: CliProcess[] = [];

  beforeAll(async () => {
    t = writeTinySweep({ rows: 40, pipelines: ['baseline', 'heads', 'drop-1'] }); // 8 points
    redis = await ownRedis();
    keys = (await planSweep(parseSweepFile(t.sweepFile), { glueDir: t.glueDir, workDir: join(t.root, 'out') })).map((p) => p.key).sort();
  });
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await redis?.close();
    t?.cleanup();
  });

  it('restarted mid-sweep without its data: the sweep goes on and the store ends complete, nothing lost', async () => {
    const store = join(t.root, 'restart.sqlite');
    const url = redis.url();
    const start = (args: string[]) => {
      const p = compress(args);
      processes.push(p);
      return p;
    };
    const coordinator = start(['sweep', t.sweepFile, '--queue', url, '--store', store]);
    await coordinator.waitFor(new RegExp(`queued ${keys.length} points`));
    // (the default 30-s lock: a worker slow to renew a 2-s lock on a loaded machine lost its point to the other, which
    // ran it a second time; no point here is taken over from a dead worker, the restart's are queued again)
    const workers = [1, 2].map((n) => start(['worker', '--queue', url, '--cache-dir', join(t.root, `worker-${n}`)]));
    const deadline = Date.now() + 120_000;
    while (results(store).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const before = results(store);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.length).toBeLessThan(keys.length);

    await redis.kill();
    await new Promise((r) => setTimeout(r, 1000));
    await redis.start();

    const { code } = await coordinator.exited;
    const log = coordinator.output();
    expect(code, log).toBe(0);
    expect(log).toMatch(/no longer in the queue \(Redis restarted without its data\?\): queued again/);
    expect(log).toContain(`${keys.length} points: 0 already in the store, ${keys.length} collected from the queue now, 0 failed`);
    const after = results(store);
    expect(after.map((r) => r.key)).toEqual(keys);
    for (const r of before) expect(after.find((a) => a.key === r.key)!.finished_at).toBe(r.finished_at);

    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) expect((await w.exited).code, w.output()).toBe(143); // (stopped by SIGTERM)
  }, 300_000);

  it('restarted twice: the coordinator says it connected again after each, and the second outage as the first', async () => {
    await redis.kill();
    await redis.start();
    const lines: string[] = [];
    const waitLine = async (re: RegExp, from: number) => {
      const deadline = Date.now() + 30_000;
      while (!lines.slice(from).some((l) => re.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return lines.slice(from).find((l) => re.test(l));
    };
    const stop = new AbortController();
    const running = runQueuedSweep({
      file: t.sweepFile,
      store: join(t.root, 'twice.sqlite'),
      queue: redis.url(),
      signal: stop.signal,
      onEvent: (e) => void (e.type === 'log' && lines.push(e.line)),
    });
    try {
      expect(await waitLine(new RegExp(`^queued ${keys.length} points`), 0)).toBeDefined();
      const outage = /^queue redis:\/\/127\.0\.0\.1:\d+\/0: (?!connected again)/;
      await redis.kill();
      expect(await waitLine(outage, 0), lines.join('\n')).toBeDefined();
      await redis.start();
      const back = lines.length;
      expect(await waitLine(/^queue redis:\/\/127\.0\.0\.1:\d+\/0: connected again$/, back), lines.join('\n')).toBeDefined();
      const second = lines.length;
      await redis.kill();
      expect(await waitLine(outage, second), lines.join('\n')).toBeDefined();
      await redis.start();
      // (and again after it: stopped before its connections are back, the coordinator waits up to 5 s for them to close)
      const backAgain = lines.length;
      expect(await waitLine(/^queue redis:\/\/127\.0\.0\.1:\d+\/0: connected again$/, backAgain), lines.join('\n')).toBeDefined();
    } finally {
      stop.abort();
      await running;
    }
  }, 120_000);

  it('stopped while Redis is out of reach: the summary says why, for the closing line not to say its points are still queued', async () => {
    await redis.kill();
    await redis.start();
    const stop = new AbortController();
    const running = runQueuedSweep({
      file: t.sweepFile,
      store: join(t.root, 'stopped.sqlite'),
      queue: redis.url(),
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type !== 'log') return;
        if (e.line.startsWith('queued')) void redis.kill();
        else if (/^queue redis:\/\/127\.0\.0\.1:\d+\/0: ECONNREFUSED/.test(e.line)) stop.abort();
      },
    });
    const summary = await running;
    expect([summary.left, summary.unreachable]).toEqual([keys.length, 'ECONNREFUSED']);
  }, 60_000);

  it("stopped while Redis is out of reach: once the call returned, its connections no longer try Redis, where a close waiting for Redis left one trying every 2 s for 40 s, each refusal written to stderr as '[ioredis] Unhandled error event' with its stack, and a library caller's process alive as long", async () => {
    await redis.kill();
    await redis.start();
    const stop = new AbortController();
    const summary = await runQueuedSweep({
      file: t.sweepFile,
      store: join(t.root, 'stopped-dropped.sqlite'),
      queue: redis.url(),
      // (a look every 0.2 s: one waits for Redis when the call is told to stop, its command held by ioredis, which held
      // the close's QUIT behind it)
      rescanMs: 200,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type !== 'log') return;
        if (e.line.startsWith('queued')) void redis.kill();
        else if (/^queue redis:\/\/127\.0\.0\.1:\d+\/0: ECONNREFUSED/.test(e.line)) setTimeout(() => stop.abort(), 1_000);
      },
    });
    expect(summary.unreachable).toBe('ECONNREFUSED');
    // (a listener of the test's on Redis's port counts the connections tried there)
    let tries = 0;
    const server = createServer((socket) => {
      tries++;
      socket.destroy();
    });
    await new Promise<void>((res) => server.listen(Number(new URL(redis.url()).port), '127.0.0.1', res));
    try {
      await new Promise((r) => setTimeout(r, 5_000));
    } finally {
      await new Promise<void>((res) => server.close(() => res()));
    }
    expect(tries).toBe(0);
  }, 60_000);

  it("stopped while a look waits for a Redis out of reach: returns at once, where it waited for the look's own bound, up to 5 s (a Ctrl-C of compress sweep --queue so held up)", async () => {
    await redis.kill();
    await redis.start();
    const stop = new AbortController();
    let stoppedAt = 0;
    let down = false;
    // (told to stop as a look begins that waits for Redis: a call held up by it returns CALL_TIMEOUT_MS after the stop at
    // the soonest, whatever the machine's load, where a bound on the time a loaded machine took to return was not)
    const getJobState = Queue.prototype.getJobState;
    const looks = vi.spyOn(Queue.prototype, 'getJobState').mockImplementation(function (this: Queue, ...args) {
      const look = getJobState.apply(this, args);
      if (down && !stop.signal.aborted) {
        stoppedAt = Date.now();
        stop.abort();
      }
      return look;
    });
    try {
      const summary = await runQueuedSweep({
        file: t.sweepFile,
        store: join(t.root, 'stopped-looking.sqlite'),
        queue: redis.url(),
        rescanMs: 200, // (a look every 0.2 s)
        signal: stop.signal,
        onEvent: (e) => {
          if (e.type !== 'log') return;
          if (e.line.startsWith('queued')) void redis.kill();
          else if (/^queue redis:\/\/127\.0\.0\.1:\d+\/0: ECONNREFUSED/.test(e.line)) down = true;
        },
      });
      const took = Date.now() - stoppedAt;
      expect(stoppedAt).toBeGreaterThan(0);
      expect([summary.left, summary.unreachable]).toEqual([keys.length, 'ECONNREFUSED']);
      expect(took, `${took} ms`).toBeLessThan(CALL_TIMEOUT_MS);
    } finally {
      looks.mockRestore();
    }
  }, 60_000);

  it("stopped while queueing, as a look waits for a Redis that does not answer: returns at once as stopped, where it waited for the look's own bound (5 s) and then refused Redis ('… while queueing the points', exit 1 for a Ctrl-C)", async () => {
    await redis.kill();
    await redis.start();
    const stop = new AbortController();
    let stoppedAt = 0;
    // (the first look, queueing the first point, never answered, as a Redis gone silent: the call told to stop as it begins)
    const looks = vi.spyOn(Queue.prototype, 'getJobState').mockImplementation(() => {
      if (!stop.signal.aborted) {
        stoppedAt = Date.now();
        stop.abort();
      }
      return new Promise<never>(() => {});
    });
    try {
      const summary = await runQueuedSweep({
        file: t.sweepFile,
        store: join(t.root, 'stopped-queueing.sqlite'),
        queue: redis.url(),
        signal: stop.signal,
      });
      const took = Date.now() - stoppedAt;
      expect(stoppedAt).toBeGreaterThan(0);
      expect(looks).toHaveBeenCalledTimes(1);
      expect([summary.added, summary.left, summary.unqueued]).toEqual([0, 0, keys.length]);
      expect(took, `${took} ms`).toBeLessThan(CALL_TIMEOUT_MS);
    } finally {
      looks.mockRestore();
    }
  }, 60_000);

  /**
   * Spies on the coordinator's adds: before the first is sent, Redis holds every write for `ms` (CLIENT PAUSE WRITE, as a
   * failover pauses them), and `then` runs; `unpause` ends the pause.
   */
  const writesHeldAtFirstAdd = (ms: number, then: () => void = () => {}) => {
    let pausedAt = 0;
    const add = Queue.prototype.add;
    const spy = vi.spyOn(Queue.prototype, 'add').mockImplementation(async function (this: Queue, ...args) {
      if (pausedAt === 0) {
        pausedAt = Date.now();
        const client = new Redis(redis.url());
        try {
          await client.call('CLIENT', 'PAUSE', String(ms), 'WRITE');
        } finally {
          client.disconnect();
        }
        then();
      }
      return add.apply(this, args);
    });
    const unpause = async () => {
      spy.mockRestore();
      const client = new Redis(redis.url());
      try {
        await client.call('CLIENT', 'UNPAUSE');
      } finally {
        client.disconnect();
      }
    };
    return { pausedAt: () => pausedAt, unpause };
  };

  it("holding writes (CLIENT PAUSE WRITE) as the coordinator queues its first point: it refuses Redis in one line once the add waited a look's bound (5 s), where it waited silently for as long as Redis held them", async () => {
    await redis.kill();
    await redis.start();
    const held = writesHeldAtFirstAdd(60_000);
    try {
      const error = await runQueuedSweep({
        file: t.sweepFile,
        store: join(t.root, 'writes-held.sqlite'),
        queue: redis.url(),
        ...stopOnceQueued(),
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(held.pausedAt()).toBeGreaterThan(0);
      expect(error).toBeInstanceOf(QueueError);
      expect((error as Error).message).toBe(
        `${redis.url()}: no answer within ${CALL_TIMEOUT_MS / 1000} s while queueing the points; nothing is lost: run the same command again`,
      );
    } finally {
      await held.unpause();
    }
  }, 120_000);

  it('stopped while an add waits for a Redis holding writes (CLIENT PAUSE WRITE): returns as stopped before Redis answers, where a Ctrl-C waited for as long as Redis held them', async () => {
    await redis.kill();
    await redis.start();
    const stop = new AbortController();
    const held = writesHeldAtFirstAdd(60_000, () => stop.abort());
    try {
      const summary = await runQueuedSweep({
        file: t.sweepFile,
        store: join(t.root, 'writes-held-stopped.sqlite'),
        queue: redis.url(),
        signal: stop.signal,
      });
      // (returned before the pause ended: its add given up at the stop, its close not waiting for Redis's answer)
      expect(Date.now() - held.pausedAt()).toBeLessThan(60_000);
      expect([summary.added, summary.left, summary.unqueued]).toEqual([0, 0, keys.length]);
    } finally {
      await held.unpause();
    }
  }, 120_000);

  it("stopped while a look waits for a Redis that holds every command (CLIENT PAUSE ALL): returns at once, its connection dropped, where its close's QUIT, held behind the look, kept it 5 s more", async () => {
    await redis.kill();
    await redis.start();
    const stop = new AbortController();
    let queued = false;
    let stoppedAt = 0;
    const client = new Redis(redis.url());
    // (the first look once the points are queued: Redis pauses first, the look is sent and held, and the call is told to
    // stop as it waits)
    const getJobState = Queue.prototype.getJobState;
    const looks = vi.spyOn(Queue.prototype, 'getJobState').mockImplementation(async function (this: Queue, ...args) {
      if (!queued || stoppedAt > 0) return getJobState.apply(this, args);
      stoppedAt = -1;
      await client.call('CLIENT', 'PAUSE', '60000', 'ALL');
      const look = getJobState.apply(this, args);
      stoppedAt = Date.now();
      stop.abort();
      return look;
    });
    try {
      const summary = await runQueuedSweep({
        file: t.sweepFile,
        store: join(t.root, 'stopped-paused.sqlite'),
        queue: redis.url(),
        rescanMs: 200,
        signal: stop.signal,
        onEvent: (e) => {
          if (e.type === 'log' && e.line.startsWith('queued')) queued = true;
        },
      });
      const took = Date.now() - stoppedAt;
      expect(stoppedAt).toBeGreaterThan(0);
      expect([summary.left, summary.unreachable]).toEqual([keys.length, undefined]);
      // (a close waiting for Redis's answer returns 5 s after the stop at the soonest, whatever the machine's load)
      expect(took, `${took} ms`).toBeLessThan(CALL_TIMEOUT_MS);
    } finally {
      looks.mockRestore();
      client.disconnect();
      // (a paused Redis holds even CLIENT UNPAUSE, from any client, where its pause is of ALL: restarted instead)
      await redis.kill();
      await redis.start();
    }
  }, 120_000);

  it("stopped while a look waits for a Redis out of reach past its unreachableMs: it stops as stopped, where the look's failure then ended it as Redis's silence (a QueueError, exit 1 for a Ctrl-C)", async () => {
    await redis.kill();
    await redis.start();
    const stop = new AbortController();
    const running = runQueuedSweep({
      file: t.sweepFile,
      store: join(t.root, 'stopped-silent.sqlite'),
      queue: redis.url(),
      // (a look starts 0.2 s after Redis went away and waits 5 s for its answer, past the 1 s bound: told to stop meanwhile)
      unreachableMs: 1_000,
      rescanMs: 200,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type !== 'log') return;
        if (e.line.startsWith('queued')) void redis.kill();
        else if (/^queue redis:\/\/127\.0\.0\.1:\d+\/0: ECONNREFUSED/.test(e.line)) stop.abort();
      },
    });
    const summary = await running;
    expect([summary.left, summary.unreachable]).toEqual([keys.length, 'ECONNREFUSED']);
  }, 60_000);

  it("out of reach: the coordinator says the problem once, where its own looks' timeout ('no answer within 5 s; waiting for it') and the problem took turns every few seconds", async () => {
    await redis.kill();
    await redis.start();
    const lines: string[] = [];
    const stop = new AbortController();
    await runQueuedSweep({
      file: t.sweepFile,
      store: join(t.root, 'once.sqlite'),
      queue: redis.url(),
      rescanMs: 200,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type !== 'log') return;
        lines.push(e.line);
        // (a look waits 5 s for its answer: two of them and a try to reconnect after it)
        if (e.line.startsWith('queued')) void redis.kill().then(() => setTimeout(() => stop.abort(), 9_000));
      },
    });
    expect(
      withoutResetBeforeRefused(lines).filter((l) => l.startsWith('queue ')),
      lines.join('\n'),
    ).toEqual([`queue ${redis.url()}: ECONNREFUSED`]);
  }, 60_000);

  it("back after an outage: a look that fails soon after 'connected again' is no silence counted from before the outage, where the coordinator gave up saying 'no answer for 17 s'", async () => {
    await redis.kill();
    await redis.start();
    const lines: string[] = [];
    const stop = new AbortController();
    let queuedAt = 0;
    let outage: Promise<void> = Promise.resolve();
    const waiting = `queue ${redis.url()}: no answer within 5 s; waiting for it`;
    // (its looks once every 12 s, the first as the points are queued: Redis is gone 0.5 s after it, back 9 s after it;
    // writes, and with them the second look, wait from then on for 10 s, which times out 17 s after the first: 6-8 s
    // after the connection came back, less than the 12 s allowed, but more since the first look's answer)
    const running = runQueuedSweep({
      file: t.sweepFile,
      store: join(t.root, 'back.sqlite'),
      queue: redis.url(),
      unreachableMs: 12_000,
      rescanMs: 12_000,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type !== 'log') return;
        lines.push(e.line);
        if (e.line.startsWith('queued')) {
          queuedAt = Date.now();
          const at = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, queuedAt + ms - Date.now())));
          outage = (async () => {
            await at(500);
            await redis.kill();
            await at(9_000);
            await redis.start();
            const client = new Redis(redis.url());
            try {
              await client.call('CLIENT', 'PAUSE', '10000', 'WRITE');
            } finally {
              client.disconnect();
            }
          })();
        }
        if (e.line === waiting) setTimeout(() => stop.abort(), 200);
      },
    }).then(
      () => null,
      (x: unknown) => x,
    );
    const error = await running;
    await outage;
    expect(error, lines.join('\n')).toBeNull();
    expect(
      withoutResetBeforeRefused(lines).filter((l) => l.startsWith('queue ')),
      lines.join('\n'),
    ).toEqual([`queue ${redis.url()}: ECONNREFUSED`, `queue ${redis.url()}: connected again`, waiting]);
  }, 60_000);

  it("a look failing at once after a queueing longer than unreachableMs: its silence counts from Redis's last answer, the queueing's, where it counted from before the queueing and the call gave up at once ('no answer for 4 s', Redis having answered a moment before)", async () => {
    await redis.kill();
    await redis.start();
    const lines: string[] = [];
    const stop = new AbortController();
    const waiting = `queue ${redis.url()}: no answer within 5 s; waiting for it`;
    const answering = `queue ${redis.url()}: answering again`;
    let queued = false;
    let failedOnce = false;
    // (the first two adds each answered 2 s late, a queueing longer than the 3 s allowed, each add well within its own
    // bound, CALL_TIMEOUT_MS, on a loaded machine too (one add 4 s late left 1 s before the add itself was given up on);
    // then the first look of the collecting fails at once, as one sent as the connection broke, and the next is answered)
    const add = Queue.prototype.add;
    const lateAddMs = 2_000;
    const adds = vi.spyOn(Queue.prototype, 'add').mockImplementation(async function (this: Queue, ...args) {
      if (adds.mock.calls.length <= 2) await new Promise((r) => setTimeout(r, lateAddMs));
      return add.apply(this, args);
    });
    const getJobState = Queue.prototype.getJobState;
    const looks = vi.spyOn(Queue.prototype, 'getJobState').mockImplementation(function (this: Queue, ...args) {
      if (queued && !failedOnce) {
        failedOnce = true;
        return Promise.reject(new Error(`no answer within ${CALL_TIMEOUT_MS / 1000} s`));
      }
      return getJobState.apply(this, args);
    });
    try {
      const error = await runQueuedSweep({
        file: t.sweepFile,
        store: join(t.root, 'long-queueing.sqlite'),
        queue: redis.url(),
        unreachableMs: 3_000,
        rescanMs: 200,
        signal: stop.signal,
        onEvent: (e) => {
          if (e.type !== 'log') return;
          lines.push(e.line);
          if (e.line.startsWith('queued')) queued = true;
          if (e.line === answering) stop.abort();
        },
      }).then(
        () => null,
        (x: unknown) => x,
      );
      expect(error, lines.join('\n')).toBeNull();
      expect(failedOnce).toBe(true);
      expect(
        lines.filter((l) => l.startsWith('queue ')),
        lines.join('\n'),
      ).toEqual([waiting, answering]);
    } finally {
      adds.mockRestore();
      looks.mockRestore();
    }
  }, 60_000);

  it("paused past a look's 5 s (CLIENT PAUSE), then answering again: the coordinator says so, and stopped then, does not say Redis is out of reach, where the look's timeout stayed its problem", async () => {
    await redis.kill();
    await redis.start();
    const lines: string[] = [];
    const stop = new AbortController();
    const waiting = `queue ${redis.url()}: no answer within 5 s; waiting for it`;
    const answering = `queue ${redis.url()}: answering again`;
    let paused: Promise<unknown> = Promise.resolve();
    let stopTimer: NodeJS.Timeout | undefined;
    const summary = await runQueuedSweep({
      file: t.sweepFile,
      store: join(t.root, 'paused.sqlite'),
      queue: redis.url(),
      rescanMs: 200,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type !== 'log') return;
        lines.push(e.line);
        if (e.line.startsWith('queued')) {
          // (every other client's commands wait 7 s, the connections kept: a look times out at 5 s, a later one is
          // answered; stopped once the coordinator says so, or 8 s after the pause ended)
          const client = new Redis(redis.url());
          paused = client
            .call('CLIENT', 'PAUSE', '7000', 'ALL')
            .then(() => (stopTimer = setTimeout(() => stop.abort(), 15_000)))
            .finally(() => client.disconnect());
        }
        if (e.line === answering) stop.abort();
      },
    });
    clearTimeout(stopTimer);
    await paused;
    expect(
      lines.filter((l) => l.startsWith('queue ')),
      lines.join('\n'),
    ).toEqual([waiting, answering]);
    expect([summary.left, summary.unreachable]).toEqual([keys.length, undefined]);
  }, 60_000);

  it('gone for good: the coordinator stops with one line, and the store keeps what it had', async () => {
    // An empty Redis (the first test left its results there, which would be collected at once).
    await redis.kill();
    await redis.start();
    const store = join(t.root, 'gone.sqlite');
    const lines: string[] = [];
    const running = runQueuedSweep({
      file: t.sweepFile,
      store,
      queue: redis.url(),
      unreachableMs: 3_000,
      rescanMs: 200, // (its first look after Redis went away at once, not 5 s later)
      onEvent: (e) => {
        if (e.type !== 'log') return;
        lines.push(e.line);
        if (e.line.startsWith('queued')) void redis.kill();
      },
    });
    const error = await running.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error, lines.join('\n')).toBeInstanceOf(QueueError);
    expect((error as Error).message).toMatch(
      /^redis:\/\/127\.0\.0\.1:\d+\/0: no answer for \d+ s \(.*\); the store keeps the 0 points finished so far: run the same command again to go on$/,
    );
    expect(results(store)).toEqual([]);
  }, 120_000);
});

describe.skipIf(ownRedisSkipReason !== null)(
  `a queue connection whose Redis is back after 12 s${ownRedisSkipReason ? ` (skipped: ${ownRedisSkipReason})` : ''}`,
  () => {
    it("tries to reconnect at most 2 s apart, so is connected again within 2 s of its return, where BullMQ's reconnection delays (e^n ms, up to 20 s) saw it 6 s later", async () => {
      const redis = await ownRedis();
      const address = parseQueueUrl(redis.url());
      const queue = new Queue(QUEUE_NAME, { connection: address.connection });
      const lines: string[] = [];
      const connection = connectionLog(address, (line) => lines.push(line));
      queue.on('error', connection.onError);
      try {
        await waitConnected(queue, address);
        connection.connected(queue);
        // (each wait before a try, as ioredis says it: the mechanism, where a bound on the time from the return to the
        // line was one a loaded machine could break with no fault)
        const delays: number[] = [];
        (await queue.getBackend().client).on('reconnecting', (ms: number) => delays.push(ms));
        await redis.kill();
        await new Promise((r) => setTimeout(r, 12_000));
        await redis.start();
        const back = Date.now();
        while (!lines.some((l) => l.endsWith(': connected again')) && Date.now() - back < 15_000) await new Promise((r) => setTimeout(r, 20));
        expect(lines.at(-1), lines.join('\n')).toBe(`queue ${address.display}: connected again`);
        // (12 s out of reach: a try every 1 to 2 s, where BullMQ's waits were 3 s from the 8th try, then 8 s)
        expect(delays.length).toBeGreaterThan(0);
        expect(Math.max(...delays), delays.join(', ')).toBeLessThanOrEqual(RECONNECT_MAX_MS);
      } finally {
        await queue.close().catch(() => {});
        await redis.close();
      }
    }, 40_000);
  },
);
