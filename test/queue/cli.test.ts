/**
 * The queue commands refuse bad input with one line and a non-zero exit, before anything is written: a URL that is
 * not redis://, a server that is not there, flags that do not go together.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { freePort } from './redis.ts';
import { runMain } from '../helpers/cli.ts';

describe('compress sweep --queue / compress worker: bad input', () => {
  let t: TinySweep;
  let closed: string;
  beforeAll(async () => {
    t = writeTinySweep();
    closed = `redis://127.0.0.1:${await freePort()}`;
  });
  afterAll(() => t?.cleanup());

  it('each is refused with one line, exit 1 (exit 2: a usage mistake), and no store written', async () => {
    const store = (name: string) => join(t.root, `${name}.sqlite`);
    const cases: Array<{ name: string; args: string[]; message: RegExp; code?: number }> = [
      {
        name: 'scheme',
        args: ['sweep', t.sweepFile, '--store', store('scheme'), '--queue', 'http://queue.lab:6379'],
        message:
          /^compress: --queue 'http:\/\/queue\.lab:6379': unsupported scheme 'http' \(expected redis:\/\/\[\[USER\]:PASSWORD@\]HOST\[:PORT\]\[\/DB\], rediss:\/\/ for TLS\)$/,
        code: 2, // (a --queue that is no redis:// URL: a usage mistake, as --base-url's)
      },
      {
        name: 'scheme-dry-run',
        args: ['sweep', t.sweepFile, '--store', store('scheme-dry-run'), '--queue', 'redis://queue.lab/x', '--dry-run'],
        message:
          /^compress: --queue 'redis:\/\/queue\.lab\/x': database 'x' is not a number \(expected redis:\/\/\[\[USER\]:PASSWORD@\]HOST\[:PORT\]\[\/DB\], rediss:\/\/ for TLS\)$/,
        code: 2,
      },
      {
        name: 'worker-scheme',
        args: ['worker', '--queue', 'localhost:6379'],
        message:
          /^compress: --queue 'localhost:6379': unsupported scheme 'localhost' \(expected redis:\/\/\[\[USER\]:PASSWORD@\]HOST\[:PORT\]\[\/DB\], rediss:\/\/ for TLS\)$/,
        code: 2,
      },
      {
        name: 'refused',
        args: ['sweep', t.sweepFile, '--store', store('refused'), '--queue', closed],
        message: /^compress: redis:\/\/127\.0\.0\.1:\d+: cannot connect \(ECONNREFUSED\): is redis-server running there, and the URL right\?$/,
      },
      { name: 'worker-refused', args: ['worker', '--queue', closed], message: /^compress: redis:\/\/127\.0\.0\.1:\d+: cannot connect \(ECONNREFUSED\)/ },
      {
        name: 'path-map',
        args: ['worker', '--queue', closed, '--path-map', 'models=/mnt/models'],
        message: /^compress: --path-map 'models=\/mnt\/models': FROM must be an absolute path/,
        code: 2,
      },
      {
        name: 'follow',
        args: ['sweep', t.sweepFile, '--store', store('follow'), '--follow'],
        message: /^compress: --follow: follows a queued sweep; give --queue redis:\/\/HOST:PORT too$/,
        code: 2,
      },
      {
        name: 'jobs',
        args: ['sweep', t.sweepFile, '--store', store('jobs'), '--queue', closed, '--jobs', '2'],
        message: /^compress: -j\/--jobs 2: points of a queued sweep run on workers/,
        code: 2,
      },
    ];
    // (one at a time: runMain captures this process's stdout and stderr)
    for (const c of cases) {
      const r = await runMain(c.args);
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(c.code ?? 1); // (2: a usage mistake)
      expect(r.stderr.trim().split('\n'), c.name).toHaveLength(1);
      expect(r.stderr.trim(), c.name).toMatch(c.message);
      expect(existsSync(store(c.name)), c.name).toBe(false);
    }
  }, 180_000);
});
