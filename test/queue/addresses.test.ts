/** `--queue` URLs and `--path-map` flags: what is accepted, and the one-line refusals. */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { DISCONNECT_TIMEOUT_MS, RECONNECT_MAX_MS, connectionLog, isRetriesGivenUp, parseQueueUrl, reconnectDelayMs } from '../../src/queue/connection.ts';
import { parsePathMapping } from '../../src/queue/files.ts';

describe('--queue URL', () => {
  it('reads host, port and database, defaulting to 6379 and 0', () => {
    expect(parseQueueUrl('redis://10.1.2.3:6380/4').connection).toEqual({
      host: '10.1.2.3',
      port: 6380,
      db: 4,
      retryStrategy: reconnectDelayMs,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    });
    expect(parseQueueUrl('redis://queue.lab').connection).toEqual({
      host: 'queue.lab',
      port: 6379,
      db: 0,
      retryStrategy: reconnectDelayMs,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    });
    expect(parseQueueUrl('redis://[::1]:7000/').connection).toEqual({
      host: '::1',
      port: 7000,
      db: 0,
      retryStrategy: reconnectDelayMs,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    });
  });

  it("tries to reconnect to a Redis out of reach every 2 s at most, where BullMQ's default waited up to 20 s between tries (e^n ms)", () => {
    const delays = Array.from({ length: 100 }, (_, i) => reconnectDelayMs(i + 1));
    expect(delays.slice(0, 6)).toEqual(Array(6).fill(1_000)); // (BullMQ's first tries, at least 1 s apart)
    expect(Math.max(...delays)).toBe(RECONNECT_MAX_MS);
    expect(RECONNECT_MAX_MS).toBe(2_000);
    expect(parseQueueUrl('redis://queue.lab').connection).toHaveProperty('retryStrategy', reconnectDelayMs);
  });

  it('passes credentials and TLS on, and masks the password in messages', () => {
    const a = parseQueueUrl('rediss://alice:s%3Acret@queue.lab:6390/2');
    expect(a.connection).toEqual({
      host: 'queue.lab',
      port: 6390,
      db: 2,
      retryStrategy: reconnectDelayMs,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
      username: 'alice',
      password: 's:cret',
      tls: { servername: 'queue.lab' },
    });
    expect(a.display).toBe('rediss://alice:***@queue.lab:6390/2');
    expect(a.display).not.toContain('cret');
  });

  it.each([
    ['localhost:6379', 'unsupported scheme'],
    ['http://queue.lab:6379', "unsupported scheme 'http'"],
    ['redis://queue.lab:6379/one', "database 'one' is not a number"],
    ['redis://queue.lab:6379/0?timeout=3', 'query or fragment'],
    ['not a url', 'not a URL'],
  ])('refuses %s with one line naming it', (text, why) => {
    let error: unknown;
    try {
      parseQueueUrl(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).message).toContain(`--queue '${text}'`);
    expect((error as Error).message).toContain(why);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('--queue URL with a password', () => {
  it.each([
    ['redis://:SECRET@queue host:6379/0', "--queue 'redis://:***@queue host:6379/0': not a URL"],
    ['redis://alice:SECRET@queue.lab:6379/zero', "--queue 'redis://alice:***@queue.lab:6379/zero': database 'zero' is not a number"],
    ['redis://:SECRET@', "--queue 'redis://:***@': "],
    ['redis://:SE@CRET@queue.lab:6379/x', "--queue 'redis://:***@queue.lab:6379/x': database 'x' is not a number"],
  ])('refuses %s without showing its password, as the queue masks it elsewhere, and gives the form with one', (text, start) => {
    let error: unknown;
    try {
      parseQueueUrl(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const message = (error as Error).message;
    expect(message.startsWith(start), message).toBe(true);
    expect(message).not.toContain('SECRET');
    expect(message).toContain('(expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], rediss:// for TLS)');
  });
});

describe('--path-map FROM=TO', () => {
  it('maps a folder to a folder or to an http(s) URL (trailing slashes dropped)', () => {
    expect(parsePathMapping('/home/a/shared/=/mnt/shared')).toEqual({ from: '/home/a/shared', to: '/mnt/shared' });
    expect(parsePathMapping('/home/a/models=https://files.lab/models/')).toEqual({ from: '/home/a/models', to: 'https://files.lab/models' });
  });

  it.each([
    ['/a', 'expected FROM=TO'],
    ['relative=/b', 'FROM must be an absolute path'],
    ['/a=relative', 'TO must be an absolute folder or an http(s) URL'],
    ['/a=s3://bucket/x', 'only http:// and https://'],
    ['/a=hf:bert-base-uncased', 'hf: ids are not supported yet'],
  ])('refuses %s', (text, why) => {
    expect(() => parsePathMapping(text)).toThrow(SettingsError);
    expect(() => parsePathMapping(text)).toThrow(why);
  });

  it('quotes a value holding a quote or a line break as a shell takes it (quotedText), where plain quotes showed it as it is', () => {
    expect(() => parsePathMapping("it's=/b")).toThrow("--path-map 'it'\\''s=/b': FROM must be an absolute path");
    expect(() => parsePathMapping('/a=rel\native')).toThrow("--path-map $'/a=rel\\native': TO must be an absolute folder");
    expect(() => parseQueueUrl("redis://queue.lab:6379/it's")).toThrow("--queue 'redis://queue.lab:6379/it'\\''s': database 'it'\\''s' is not a number");
  });
});

describe('connection problems in the log', () => {
  it("says nothing of the commands ioredis gives up on while it reconnects (every 21st try), where its 'Reached the max retries per request limit' line came between two ECONNREFUSED ones", () => {
    const lines: string[] = [];
    const c = connectionLog(parseQueueUrl('redis://queue.lab:6390'), (line) => lines.push(line));
    const backend = new EventEmitter();
    c.connected({ backend } as unknown as Parameters<typeof c.connected>[0]);
    const { MaxRetriesPerRequestError } = createRequire(import.meta.url)('ioredis/built/errors') as { MaxRetriesPerRequestError: new (n: number) => Error };
    c.onError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    c.onError(new MaxRetriesPerRequestError(20));
    c.onError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    expect(lines).toEqual(['queue redis://queue.lab:6390: ECONNREFUSED']);
    expect(c.problem).toBe('ECONNREFUSED');
    expect(isRetriesGivenUp(new MaxRetriesPerRequestError(20))).toBe(true);
  });

  it('logs each problem once until it changes, and the return, only after the first connection', () => {
    const lines: string[] = [];
    const c = connectionLog(parseQueueUrl('redis://queue.lab:6390'), (line) => lines.push(line));
    c.onError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    expect(lines).toEqual([]); // waitConnected's to report
    // (a worker's or queue's Redis backend, which says 'ready' after each reconnection)
    const backend = new EventEmitter();
    c.connected({ backend } as unknown as Parameters<typeof c.connected>[0]);
    expect(c.problem).toBe('');
    c.onError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    c.onError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    c.onError(new Error('Connection is closed.'));
    backend.emit('ready');
    backend.emit('ready');
    c.onError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    expect(lines).toEqual([
      'queue redis://queue.lab:6390: ECONNREFUSED',
      'queue redis://queue.lab:6390: Connection is closed.',
      'queue redis://queue.lab:6390: connected again',
      'queue redis://queue.lab:6390: ECONNREFUSED',
    ]);
  });
});
