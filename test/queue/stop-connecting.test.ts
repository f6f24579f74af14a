/**
 * A worker or a queued sweep's coordinator told to stop (Ctrl-C, SIGTERM) while its Redis had not answered yet (a
 * server that takes the connection and says nothing: a firewall, a wrong port of another service) stops at once, in
 * one line, exit 130 or 143, nothing queued, taken or stored. They waited out the connect timeout (10 s a connection,
 * the coordinator two) and then failed as if the server were down: 'no answer within 10 s', exit 1. Needs no
 * redis-server: a TCP server of the test's own that never answers.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { endsOnReturn } from '../../src/cli/index.ts';
import { CONNECT_TIMEOUT_MS, StoppedConnecting } from '../../src/queue/connection.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import { runQueueWorker, type WorkerSummary } from '../../src/queue/worker.ts';
import { runMain } from '../helpers/cli.ts';
import { compress, type CliProcess } from './cli-process.ts';
import { freePort } from './redis.ts';

/** The call's outcome, or 'still waiting' once `ms` have passed. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'still waiting'> =>
  Promise.race([p, new Promise<'still waiting'>((res) => setTimeout(() => res('still waiting'), ms).unref())]);

/**
 * `call`'s outcome (its error where it fails) and the ms from `stopped` (the abort of its signal) to it. A call that did
 * not stop waited out the connect timeout, CONNECT_TIMEOUT_MS, and then failed as if the server were down ('no answer
 * within 10 s'): its outcome says so, whatever the machine's load; its time, under the connect timeout, that it
 * stopped before it (the call is given twice the connect timeout, not to hang the test).
 */
async function outcomeOfStop<T>(call: Promise<T>, stopped: Promise<void>): Promise<{ outcome: T | unknown; ms: number }> {
  let at = 0;
  void stopped.then(() => (at = Date.now()));
  const outcome = await within(
    call.catch((e: unknown) => e),
    2 * CONNECT_TIMEOUT_MS,
  );
  return { outcome, ms: Date.now() - at };
}

/** A TCP server on a free port that takes connections and never answers; `connected` resolves at its first. */
async function silentServer(): Promise<{ url: string; connected: Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connected: () => void = () => {};
  const first = new Promise<void>((res) => (connected = res));
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    connected();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const address = server.address();
  return {
    url: `redis://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    connected: first,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}

describe('a worker or coordinator stopped while Redis has not answered', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-stop-connecting-'));
  const sweepFile = join(dir, 'sweep.yaml'); // (never read: the coordinator connects first)
  writeFileSync(sweepFile, 'name: s\n');
  const servers: Array<{ close(): Promise<void> }> = [];
  const processes: CliProcess[] = [];
  /** A silent server of the test's own (a connection another test's client retries is not its). */
  const ownServer = async () => {
    const s = await silentServer();
    servers.push(s);
    return s;
  };
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runQueueWorker: returns at once, nothing taken', async () => {
    const { url, connected } = await ownServer();
    const stop = new AbortController();
    const stopped = connected.then(() => stop.abort());
    const { outcome, ms } = await outcomeOfStop(runQueueWorker({ queue: url, cacheDir: join(dir, 'cache'), signal: stop.signal }), stopped);
    expect(outcome).toEqual({ ran: 0, failed: 0 } satisfies WorkerSummary);
    expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS);
  });

  it('runQueuedSweep: refuses at once with StoppedConnecting, no store made', async () => {
    const { url, connected } = await ownServer();
    const stop = new AbortController();
    const stopped = connected.then(() => stop.abort());
    const store = join(dir, 'library.sqlite');
    const { outcome, ms } = await outcomeOfStop(runQueuedSweep({ file: sweepFile, store, queue: url, signal: stop.signal }), stopped);
    expect(outcome).toBeInstanceOf(StoppedConnecting);
    expect((outcome as Error).message).toBe(`${url}: stopped before it answered`);
    expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS);
    expect(existsSync(store)).toBe(false);
  });

  it("main run in-process: a queue command leaves its libraries' leftovers for bin/compress.mjs to end (endsOnReturn), another command does not (run after it too), and main returns to its caller either way", async () => {
    expect((await runMain(['report', join(dir, 'none.sqlite')])).code).not.toBe(0);
    expect(endsOnReturn()).toBe(false);
    const refused = await runMain(['worker', '--queue', `redis://127.0.0.1:${await freePort()}`, '--cache-dir', join(dir, 'in-process')]);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/ECONNREFUSED/)]);
    expect(endsOnReturn()).toBe(true);
    // (the next command in the same process is judged alone: the worker's leftovers were not its)
    expect((await runMain(['report', join(dir, 'none.sqlite')])).code).not.toBe(0);
    expect(endsOnReturn()).toBe(false);
  });

  it.each([
    ['worker', 'SIGTERM', 143],
    ['sweep', 'SIGINT', 130],
  ] as const)(
    "compress %s stopped by %s: exits %i at once in one line, and at its last line, ended with ioredis's socket still open, where it exited once ioredis destroyed it, 2 s after its last line (its wait for the server to close the socket it closed)",
    async (command, signal, status) => {
      const { url, connected } = await ownServer();
      const store = join(dir, `${command}.sqlite`);
      const args =
        command === 'worker' ? ['worker', '--queue', url, '--cache-dir', join(dir, 'cli-cache')] : ['sweep', sweepFile, '--queue', url, '--store', store];
      const c = compress(args, { exitProbe: true });
      processes.push(c);
      await connected; // (its signal handlers are set by then: the command connects once they are)
      const at = Date.now();
      c.child.kill(signal);
      const { code } = await c.exited;
      expect(code, c.output()).toBe(status);
      // (where it waited out the 10 s connect timeout, then failed: 'no answer within 10 s', exit 1, as checked here
      // too; timed to its own exit, not to the test's sight of its end, which a loaded machine's teardown of the
      // process delays by seconds)
      expect(c.exitedAt() - at, c.output()).toBeLessThan(CONNECT_TIMEOUT_MS);
      // (ended by bin/compress.mjs once main returned, before ioredis's 2 s timer destroyed the socket to the silent
      // server; a process left to end of itself ends only once nothing is pending, that socket destroyed: no timing)
      expect(c.leftAtExit()).toContain('TCPSocketWrap');
      expect(c.output()).not.toMatch(/no answer within/);
      if (command === 'sweep') {
        expect(c.output().trim()).toBe(`compress: ${url}: stopped before it answered; nothing planned or queued`);
        expect(existsSync(store)).toBe(false);
      } else expect(c.output()).toMatch(/^worker \S+:\d+:[0-9a-f]{6}: stopped after 0 points done here and 0 failed runs$/m);
    },
  );
});
