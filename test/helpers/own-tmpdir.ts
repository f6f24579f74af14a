/**
 * For the tests of a describe block: os.tmpdir() (which reads TMPDIR on each call) is a fresh folder of each test's
 * own, removed after it, so that a test can see what the code under test leaves in the temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** Registers the hooks; returns the current test's folder. */
export function ownTmpdir(prefix: string): () => string {
  let dir = '';
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.TMPDIR;
    dir = mkdtempSync(join(tmpdir(), prefix));
    process.env.TMPDIR = dir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}
