/**
 * vitest's global setup: the test run's temporary files go into one folder of their own (TMPDIR, read by
 * os.tmpdir() in the workers and in every process a test starts), removed when the run ends, so that a suite run
 * leaves nothing in the machine's temporary folder (tests make hundreds of scratch folders and do not each remove
 * theirs); and benchmarks do not check the machine's load (see below). KEEP_TEST_TMP=1 keeps it, for looking at what a failed test wrote; its path is printed.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'bert-compress-tests-'));
  // (open to every user as /tmp is, sticky: a test runs the CLI as another user, whose tsx cache goes here too)
  chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  // The suite loads the machine itself (two workers on two cores): every benchmark would be marked contended by its
  // load. Tests of the load check (test/bench/machine-load.test.ts) turn it back on where they need it.
  process.env.BERT_COMPRESS_MACHINE_LOAD = 'off';
  return () => {
    if (process.env.KEEP_TEST_TMP) console.log(`test files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
}
