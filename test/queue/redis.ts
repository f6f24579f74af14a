/**
 * A real Redis for the queue tests. `.ci/run` starts one and exports its URL as $BERT_COMPRESS_TEST_REDIS; without
 * it, a test starts a redis-server of its own (on 127.0.0.1, a free port, a temporary folder, no persistence) when
 * the binary is installed. Tests that must stop or restart Redis always use one of their own. `skipReason` says
 * why a test cannot run (no redis-server binary), for `describe.skipIf`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_ENV = 'BERT_COMPRESS_TEST_REDIS';

const binary = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0 ? 'redis-server' : null;

/** Why tests needing a Redis of their own cannot run here, or null. */
export const ownRedisSkipReason: string | null = binary ? null : 'no redis-server binary on this machine (apt-get install redis-server)';

/** Why tests needing any Redis cannot run here, or null. */
export const redisSkipReason: string | null = process.env[REDIS_ENV] ? null : ownRedisSkipReason;

export interface TestRedis {
  /** `redis://127.0.0.1:PORT/DB`. */
  url(db?: number): string;
  /** Stops the server process (an own one only); `start` starts it again on the same port, with no data. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /**
   * Freezes the server process (SIGSTOP, an own one only): it keeps its connections and answers nothing, as a Redis
   * stuck or swapped out; `resume` (SIGCONT) lets it go on, every command sent meanwhile then answered.
   */
  pause(): void;
  resume(): void;
  /** Stops the server and removes its folder (an own one; nothing for the shared one). */
  close(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on (as of now). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

/** Resolves once `PING` answers `+PONG` on the port, within `ms`. */
async function waitPong(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = new Socket();
      s.setTimeout(500);
      s.once('data', (d) => (s.destroy(), res(d.toString().startsWith('+PONG'))));
      s.once('error', () => res(false));
      s.once('timeout', () => (s.destroy(), res(false)));
      s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A redis-server of this test's own. */
export async function ownRedis(): Promise<TestRedis> {
  if (!binary) throw new Error(ownRedisSkipReason!);
  const dir = mkdtempSync(join(tmpdir(), 'test-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
      { stdio: 'ignore' },
    );
    await waitPong(port);
  };
  const kill = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((res) => {
      c.once('exit', () => res());
      c.kill('SIGCONT'); // (a paused server: SIGTERM is held until it goes on)
      c.kill('SIGTERM');
    });
  };
  const signal = (name: 'SIGSTOP' | 'SIGCONT') => {
    if (!child || child.exitCode !== null) throw new Error(`redis-server on port ${port} is not running`);
    child.kill(name);
  };
  await start();
  return {
    url: (db = 0) => `redis://127.0.0.1:${port}/${db}`,
    kill,
    start,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The CI's Redis when there is one (database `db` of it, which the calling test file owns), else one of our own. */
export async function anyRedis(): Promise<TestRedis> {
  const shared = process.env[REDIS_ENV];
  if (!shared) return ownRedis();
  const base = new URL(shared);
  return {
    url: (db = 0) => `redis://${base.host}/${db}`,
    kill: async () => {
      throw new Error(`the shared Redis (${REDIS_ENV}) is not stopped by tests`);
    },
    start: async () => {},
    pause: () => {
      throw new Error(`the shared Redis (${REDIS_ENV}) is not paused by tests`);
    },
    resume: () => {},
    close: async () => {},
  };
}

/**
 * `lines` (a coordinator's or a worker's) but an ECONNRESET said just before an ECONNREFUSED (the next `queue …` line):
 * a Redis stopped while a command it had not read yet was on its way (a look sent as it shut down) resets that
 * connection (ECONNRESET), and then refuses each reconnection (ECONNREFUSED), a race a loaded machine's timing wins now
 * and then; either way one outage, which the refusal names from then on.
 */
export function withoutResetBeforeRefused(lines: readonly string[]): string[] {
  const nextQueueLine = (i: number) => lines.slice(i + 1).find((l) => l.startsWith('queue '));
  return lines.filter((l, i) => !(l.startsWith('queue ') && l.endsWith(': ECONNRESET') && nextQueueLine(i)?.endsWith(': ECONNREFUSED')));
}
