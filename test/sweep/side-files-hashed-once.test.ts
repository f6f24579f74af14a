/**
 * A sweep process hashes a model folder's config.json and tokenizer files once (files.ts keptSha256): its plan's hash
 * for the points' keys and the tokenizer's reading version (src/eval/tokenizer-reading.ts) read one kept hash, where
 * each hashed the files, and a file is hashed again once it changed.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinyPlanFolder } from './plan-refusal.ts';

/** The files hashing opened (sha256File streams one, sha256FileSync opens one), in order. */
const hashed = vi.hoisted((): string[] => []);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const counted =
    <A extends unknown[], R>(open: (file: string, ...rest: A) => R) =>
    (file: string, ...rest: A): R => {
      if (/\bsha256File(Sync)?\b/.test(new Error().stack ?? '')) hashed.push(file);
      return open(file, ...rest);
    };
  return { ...fs, createReadStream: counted(fs.createReadStream), openSync: counted(fs.openSync) };
});

const root = writeTinyPlanFolder('bert-compress-side-files-hashed-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

/** The times `file` was hashed since the counts were cleared. */
function hashesOf(file: string): number {
  return hashed.filter((f) => f === file).length;
}

/** Plans the baseline of models/tiny on SST-2. */
function plan(): ReturnType<typeof planSweep> {
  const spec = parseSweep(
    { name: 'once', models: [{ path: 'models/tiny', tasks: ['SST-2'] }], calibration: false, pipelines: ['baseline'] },
    join(root, 'once.yaml'),
    'once.yaml',
  );
  return planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work') });
}

describe("a model folder's side files in one sweep process", () => {
  it('are hashed once for the plan and the tokenizer reading, and again once changed', async () => {
    // (files written a minute before "now": a file changed within the last 2 s keeps no hash, as it keeps no stamp)
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 60_000);
    const vocab = join(root, 'models', 'tiny', 'vocab.txt');
    const config = join(root, 'models', 'tiny', 'config.json');
    hashed.length = 0;
    const [first] = await plan();
    expect([hashesOf(vocab), hashesOf(config)]).toEqual([1, 1]);
    // (another plan in the same process: the files as they were, nothing read again)
    const [again] = await plan();
    expect([hashesOf(vocab), hashesOf(config)]).toEqual([1, 1]);
    expect(again!.data).toEqual(first!.data);

    vi.useRealTimers();
    writeFileSync(vocab, `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'more'].join('\n')}\n`);
    const [edited] = await plan();
    expect(hashesOf(vocab)).toBe(3); // (changed within 2 s: hashed by the plan and by the reading alike, none kept)
    expect(edited!.data?.model).not.toEqual(first!.data?.model);
  });
});
