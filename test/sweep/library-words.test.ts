/**
 * runSweep as the package exports it names the options a library caller gives (src/sweep/library.ts), while
 * `compress sweep` keeps its flags' words (runSweep of src/sweep/run.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as root from '../../src/index.ts';
import { RERUN_CONTENDED_JOBS, runSweep as runSweepNamingFlags } from '../../src/sweep/run.ts';
import { runSweep } from '../../src/sweep/index.ts';
import { UserError } from '../../src/errors.ts';
import { asyncRefusal } from '../helpers/refusal.ts';
import { writeTinySweep } from './tiny-sweep.ts';

const dir = mkdtempSync(join(tmpdir(), 'bc-sweep-library-words-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The one-line UserError `run` ends in (helpers/refusal's asyncRefusal; a synchronous throw counts too). */
const refusal = (run: () => unknown): Promise<string> => asyncRefusal(Promise.resolve().then(run), UserError);

describe('runSweep of the package', () => {
  it('names rerunContended and jobs, where compress sweep names --rerun-contended and --jobs 1', async () => {
    const opts = { file: join(dir, 'none.yaml'), store: join(dir, 's.sqlite'), jobs: 2, rerunContended: true };
    const library =
      'rerunContended: times contended points again alone, one at a time: give jobs: 1 (points run at once time each other, and would be contended again)';
    expect(await refusal(() => runSweep(opts))).toBe(library);
    expect(await refusal(() => root.runSweep(opts))).toBe(library);
    expect(await refusal(() => runSweepNamingFlags(opts))).toBe(RERUN_CONTENDED_JOBS);
    expect(RERUN_CONTENDED_JOBS).toBe(
      '--rerun-contended: times contended points again alone, one at a time: give --jobs 1 (points run at once time each other, and would be contended again)',
    );
  });

  it('names store and workDir where a file is in their way, where compress sweep names --store and --work-dir', async () => {
    const tiny = writeTinySweep({ rows: 8, pipelines: ['heads'] });
    try {
      const file = join(dir, 'a-file');
      writeFileSync(file, 'x');
      const store = { file: tiny.sweepFile, store: join(file, 's.sqlite'), workDir: join(tiny.root, 'work') };
      const storeWords = await refusal(() => runSweep(store));
      expect(storeWords).toMatch(/^store /);
      expect(await refusal(() => runSweepNamingFlags(store))).toBe(storeWords.replace(/^store /, '--store '));
      const work = { file: tiny.sweepFile, store: join(tiny.root, 's.sqlite'), workDir: file };
      const workWords = await refusal(() => runSweep(work));
      expect(workWords).toMatch(/^workDir /);
      expect(await refusal(() => runSweepNamingFlags(work))).toBe(workWords.replace(/^workDir /, '--work-dir '));
    } finally {
      tiny.cleanup();
    }
  });
});
