/**
 * The test files that share one Redis (`.ci/run` starts one for the whole suite, $BERT_COMPRESS_TEST_REDIS) each use a
 * database of their own (`const DB = N`): two files on one database, run at the same time, take, fail or obliterate
 * each other's points (test/sweep/seed-keys.test.ts, on database 7, obliterated the queue that test/queue/stop-before-queueing.test.ts
 * counts the jobs of there).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The test folder's files naming a database, by database. */
function filesByDatabase(): Map<number, string[]> {
  const byDb = new Map<number, string[]>();
  for (const file of readdirSync('test', { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    for (const [, db] of readFileSync(join('test', file), 'utf8').matchAll(/^const DB = (\d+);/gm)) {
      byDb.set(Number(db), [...(byDb.get(Number(db)) ?? []), file]);
    }
  }
  return byDb;
}

describe('the shared Redis database of each test file', () => {
  it('is its own, one of the 16 a redis-server has by default', () => {
    const byDb = filesByDatabase();
    expect(byDb.size).toBeGreaterThan(10);
    expect([...byDb].filter(([, files]) => files.length > 1)).toEqual([]);
    expect([...byDb.keys()].filter((db) => db > 15)).toEqual([]);
  });
});
