/**
 * The one rule of the environment variables bert-compress reads (src/environment.ts): a blank value is unset, blanks
 * around a value are not part of it; the folders and files they name follow it.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultLockFile, TIMING_LOCK_ENV } from '../src/bench/timing-lock.ts';
import { defaultDownloadDir } from '../src/cli/commands/data.ts';
import { environmentValue } from '../src/environment.ts';
import { UsageError } from '../src/errors.ts';
import { defaultGlueDir } from '../src/glue/glue-dir.ts';

describe('environment variables', () => {
  it('a blank value is unset, and blanks around a value are not part of it', () => {
    expect([environmentValue({}, 'X'), environmentValue({ X: '' }, 'X'), environmentValue({ X: ' \t' }, 'X')]).toEqual([undefined, undefined, undefined]);
    expect(environmentValue({ X: ' a b ' }, 'X')).toBe('a b');
  });

  it('the timing lock and the GLUE folders they name follow the rule (a blank lock variable named a file " " in the working folder)', () => {
    const lock = join(tmpdir(), 'bert-compress-timing.lock');
    expect([defaultLockFile({}), defaultLockFile({ [TIMING_LOCK_ENV]: ' ' }), defaultLockFile({ [TIMING_LOCK_ENV]: ' /l ' })]).toEqual([lock, lock, '/l']);
    expect(defaultGlueDir({ GLUE_DIR: ' /g ' }, '/w')).toBe('/g');
    expect(defaultGlueDir({ GLUE_DIR: ' ' }, '/w')).toBe('/shared/glue');
    expect(defaultDownloadDir({ GLUE_DIR: ' /g ' })).toBe('/g');
    expect(defaultDownloadDir({ GLUE_DIR: '' })).toBe(resolve('glue_data'));
  });

  it("GLUE_DIR's `~`, `~user` and `$NAME` a shell did not expand are expanded, as the cache variables' are (a quoted GLUE_DIR='~/glue' made data download a folder '~' in the working folder)", () => {
    const env = { GLUE_DIR: '~/glue', HOME: '/h' };
    expect([defaultGlueDir(env, '/w'), defaultDownloadDir(env)]).toEqual(['/h/glue', '/h/glue']);
    const vars = { GLUE_DIR: '$DATA/glue', DATA: '/d' };
    expect([defaultGlueDir(vars, '/w'), defaultDownloadDir(vars)]).toEqual(['/d/glue', '/d/glue']);
    const unknown = { GLUE_DIR: '~nosuchuser57b/glue' };
    for (const read of [() => defaultGlueDir(unknown, '/w'), () => defaultDownloadDir(unknown)])
      expect(read).toThrow(
        new UsageError(
          "'~nosuchuser57b/glue' (GLUE_DIR): no user 'nosuchuser57b' is known here (/etc/passwd, getent passwd), so the home folder ~nosuchuser57b names is unknown; write the folder's path",
        ),
      );
  });

  it("BERT_COMPRESS_TIMING_LOCK's `~` and `$NAME` a shell did not expand are expanded, as GLUE_DIR's and the caches' are (a quoted '~/t.lock' was refused as in no folder: './~' does not exist)", () => {
    const home = tmpdir();
    expect(defaultLockFile({ [TIMING_LOCK_ENV]: '~/t.lock', HOME: home })).toBe(join(home, 't.lock'));
    expect(defaultLockFile({ [TIMING_LOCK_ENV]: '$LOCKS/t.lock', LOCKS: home })).toBe(join(home, 't.lock'));
  });
});
