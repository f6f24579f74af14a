/**
 * Where the sweep queue lives: a `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` URL (`rediss://` for TLS) turned into
 * BullMQ connection options, the queue's name, and the checks that make a wrong URL, a server that does not answer
 * or a missing Redis driver one line instead of a hang or a stack trace.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { ConnectionOptions, QueueBase } from 'bullmq';
import { QueueError, SettingsError, errorLine, quotedText } from '../errors.ts';

/** The BullMQ queue every coordinator adds sweep points to and every worker takes them from. */
export const QUEUE_NAME = 'bert-compress-points';

/** How long opening a connection may take before the URL is reported unreachable. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface QueueAddress {
  /** The URL as given, with any password masked (for messages). */
  display: string;
  /** The database number (the URL's path, default 0). */
  db: number;
  /** BullMQ (ioredis) connection options. */
  connection: ConnectionOptions;
}

/**
 * The longest a queue connection waits between two tries to reconnect to a Redis out of reach. BullMQ's default waits
 * e^n ms before the nth try, at least 1 s and at most 20 s: a Redis back after 40 s was seen up to 20 s later, so a
 * coordinator gave up at its 60 s without an answer though Redis had answered for 20 s, and a worker's running point
 * lost its lock to a shorter outage than its lock.
 */
export const RECONNECT_MAX_MS = 2_000;

/** ioredis's wait before its `times`th try to reconnect: BullMQ's (e^times ms, at least 1 s), at most RECONNECT_MAX_MS. */
export function reconnectDelayMs(times: number): number {
  return Math.min(Math.max(Math.exp(times), 1_000), RECONNECT_MAX_MS);
}

/**
 * How long a closing connection waits for Redis to close the socket after its own end before destroying it (ioredis's
 * disconnectTimeout, 2 s by default): a connection closed while it tried to reconnect to a Redis out of reach, its
 * socket closed already, kept a library caller's process alive that long after a worker or a coordinator returned.
 */
export const DISCONNECT_TIMEOUT_MS = 200;

/**
 * How long one blocking read waits for Redis: a worker's wait for a point (BZPOPMIN: BullMQ's drainDelay, 5 s by
 * default) and a coordinator's read of the queue's events (XREAD: BullMQ's blockingTimeout, 10 s by default). BullMQ's
 * watchdog gives up on a read this and 1 s after it began, and the close of a connection trying to reconnect to a Redis
 * out of reach never clears it: it kept a library caller's process alive up to 6 s (a worker) or 11 s (a coordinator)
 * after a stopped call returned. An idle worker or coordinator reads once a second.
 */
export const BLOCKING_MS = 1_000;

/**
 * The longest one command of a coordinator's or a worker's own waits for Redis's answer (a coordinator's look, add or
 * removal; a worker's give-back of a point, its note to the coordinator, its look at the workers connected) before
 * Redis counts as not answering it: a Redis that keeps the connection but answers nothing (paused: CLIENT PAUSE, as a
 * failover pauses writes; stuck, swapped out, stopped) left the call waiting silently for as long.
 */
export const CALL_TIMEOUT_MS = 5_000;

/** What answerWithin gives for a command Redis did not answer within its bound. */
export const NO_ANSWER: unique symbol = Symbol('no answer');

/**
 * `command`'s answer, or NO_ANSWER once `ms` have passed without one (its rejection, as it comes). A command given up on
 * stays sent: Redis may still carry it out once it answers again, and a late refusal of it is dropped here.
 */
export async function answerWithin<T>(command: Promise<T>, ms = CALL_TIMEOUT_MS): Promise<T | typeof NO_ANSWER> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof NO_ANSWER>((res) => {
    timer = setTimeout(() => res(NO_ANSWER), ms);
  });
  try {
    const answer = await Promise.race([command, late]);
    if (answer === NO_ANSWER) command.catch(() => {});
    return answer;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Parses a `--queue` URL; a SettingsError naming it when it is not `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`
 * (`rediss://` for TLS), with its password masked as the queue's other lines mask it.
 */
export function parseQueueUrl(text: string): QueueAddress {
  // (the password runs to the authority's last '@', as URL reads it: 'redis://:p@ss@host' holds the password 'p@ss')
  const masked = text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^/?#]*@/i, '$1***@');
  const bad = (why: string) =>
    new SettingsError(`--queue ${quotedText(masked)}: ${why} (expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], rediss:// for TLS)`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw bad(`unsupported scheme ${quotedText(url.protocol.replace(/:$/, ''))}`);
  if (!url.hostname) throw bad('no host');
  const port = url.port === '' ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\/+|\/+$/g, '');
  if (path !== '' && !/^\d+$/.test(path)) throw bad(`database ${quotedText(path)} is not a number`);
  if (url.search || url.hash) throw bad('query or fragment not supported');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const db = path === '' ? 0 : Number(path);
  const connection: ConnectionOptions = {
    host,
    port,
    db,
    retryStrategy: reconnectDelayMs,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
  };
  const shown = new URL(url.href);
  if (shown.password) shown.password = '***';
  return { display: shown.href.replace(/\/$/, ''), db, connection };
}

/**
 * Throws a QueueError unless BullMQ's Redis driver (ioredis, an optional peer dependency of BullMQ) can be loaded:
 * BullMQ would otherwise fail on first use with a message about its internals.
 */
export function checkRedisDriver(): void {
  try {
    createRequire(import.meta.url).resolve('ioredis');
  } catch {
    throw new QueueError("the queue needs the 'ioredis' package (BullMQ's Redis driver), which is not installed: npm install ioredis");
  }
}

/** A one-line reason from a Redis connection error (ECONNREFUSED, ENOTFOUND, NOAUTH …). */
export function connectionProblem(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { errors?: unknown[] };
  // (a system error's code, ECONNREFUSED …; not the numeric code of an error of BullMQ's, -1, which says nothing alone)
  if (typeof err?.code === 'string' && err.code) return err.code;
  if (Array.isArray(err?.errors) && err.errors.length > 0) return connectionProblem(err.errors[0]);
  return errorLine(e);
}

/**
 * Whether `e` is ioredis's refusal of the commands it held while reconnecting, at every 21st try (maxRetriesPerRequest,
 * 20, of a connection that does not block): no new problem, the connection's own (ECONNREFUSED …) goes on, where its
 * line ('Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for
 * details.') came between two ECONNREFUSED ones, every 40 s of an outage.
 */
export function isRetriesGivenUp(e: unknown): boolean {
  return e instanceof Error && e.name === 'MaxRetriesPerRequestError';
}

/** Logs the connection problems of BullMQ objects once each until they change: see `connectionLog`. */
export interface ConnectionLog {
  /** The last problem seen; '' when connected. */
  problem: string;
  /**
   * When Redis last answered (Date.now()): the connection's own handshake, at connected and at each 'ready' after a
   * reconnection, and any command of the caller's that it marks answered here (the coordinator's looks, adds and
   * removals); 0 before connected. A caller judging how long Redis has not answered counts from it: the one clock of
   * the contact (a coordinator's own clock of its looks beside it, set before it queued its points, counted a queueing
   * longer than its `unreachableMs` as Redis's silence).
   */
  answeredAt: number;
  /** For their 'error' events. */
  onError(e: unknown): void;
  /**
   * Call once waitConnected has succeeded on `target` (a worker, or a coordinator's queue): problems before it are
   * waitConnected's to report, not logged. From then on, each time `target`'s Redis backend is ready again (its
   * 'ready' event, after each reconnection; a worker's own 'ready' comes once, at its start), 'connected again' is
   * said after a problem, and the next problem is logged again.
   */
  connected(target: Pick<QueueBase, 'backend'>): void;
}

/** A ConnectionLog writing `queue URL: PROBLEM` lines to `log`. */
export function connectionLog(address: QueueAddress, log: (line: string) => void): ConnectionLog {
  let live = false;
  const state: ConnectionLog = {
    problem: '',
    answeredAt: 0,
    onError: (e) => {
      if (isRetriesGivenUp(e) && state.problem) return;
      const problem = connectionProblem(e);
      if (problem !== state.problem && live) log(`queue ${address.display}: ${problem}`);
      state.problem = problem;
    },
    connected: (target) => {
      live = true;
      state.problem = '';
      state.answeredAt = Date.now();
      (target.backend as unknown as Pick<EventEmitter, 'on'>).on('ready', () => {
        if (state.problem) log(`queue ${address.display}: connected again`);
        state.problem = '';
        state.answeredAt = Date.now();
      });
    },
  };
  return state;
}

/** Redis's answer to a SELECT of a database it does not have. */
const NO_DATABASE = /^ERR DB index is out of range/;

/** Redis's answers to a client without the password it asks for, and to a wrong user or password. */
const NOAUTH = /^NOAUTH\b/;
const WRONGPASS = /^WRONGPASS\b/;

/** Connection errors that waiting will not cure: nothing listens there, no such host. */
const HOPELESS = /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH)/;

/**
 * A stop (Ctrl-C, SIGTERM: `signal`) while waitConnected waited for a server that had not answered yet: the command
 * stops there, and exits as every command so stopped (130 or 143), where it waited out the connect timeout (10 s a
 * connection) and then failed as if the server were down. Its message says where it stopped alone; what was left undone
 * is its caller's to say (`compress sweep --queue`: nothing planned or queued; a worker, which took nothing, stops
 * without a line).
 */
export class StoppedConnecting extends QueueError {
  override name = 'StoppedConnecting';
}

/**
 * Waits until a BullMQ queue, worker or queue-events object has connected; a QueueError naming the URL and the
 * reason at once when the server refuses or does not exist, or after `timeoutMs` when it does not answer; a
 * StoppedConnecting at once when `signal` aborts first (or has aborted).
 */
export async function waitConnected(target: QueueBase, address: QueueAddress, timeoutMs = CONNECT_TIMEOUT_MS, signal?: AbortSignal): Promise<void> {
  let last: unknown;
  let fail: (e: Error) => void = () => {};
  const stopped = () => fail(new StoppedConnecting(`${address.display}: stopped before it answered`));
  const onError = (e: unknown) => {
    last = e;
    const problem = connectionProblem(e);
    // (ioredis says a SELECT refused as an error, and goes on with database 0: another queue, maybe another team's)
    if (NO_DATABASE.test(problem))
      fail(new QueueError(`${address.display}: no database ${address.db} there (${problem}): give one below the server's 'databases' setting (16 by default)`));
    if (NOAUTH.test(problem))
      fail(new QueueError(`${address.display}: the server asks for a password (NOAUTH): give it in the URL, redis://[USER]:PASSWORD@HOST:PORT[/DB]`));
    else if (WRONGPASS.test(problem)) fail(new QueueError(`${address.display}: the server refuses this user or password (WRONGPASS)`));
    else if (HOPELESS.test(problem)) fail(new QueueError(`${address.display}: cannot connect (${problem}): is redis-server running there, and the URL right?`));
  };
  target.on('error' as never, onError as never);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      target.waitUntilReady(),
      new Promise<never>((_, reject) => {
        fail = reject;
        timer = setTimeout(
          () =>
            reject(
              new QueueError(
                `${address.display}: no answer within ${timeoutMs / 1000} s${last ? ` (${connectionProblem(last)})` : ''}: is redis-server running there?`,
              ),
            ),
          timeoutMs,
        );
        if (signal?.aborted) stopped();
        signal?.addEventListener('abort', stopped);
      }),
    ]);
  } catch (e) {
    if (e instanceof QueueError) throw e;
    throw new QueueError(`${address.display}: cannot connect (${connectionProblem(last ?? e)})`, { cause: e });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stopped);
    target.off('error' as never, onError as never);
  }
}
