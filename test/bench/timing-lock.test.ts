/**
 * The machine-wide timing lock and a stale lock file: one whose pid now belongs to another process (its start time
 * differs) is taken over, and one that cannot be removed (another user's in a shared temporary folder; a read-only
 * folder) lets the benchmark time at once, recorded as not exclusive, instead of waiting for it in vain (or spinning:
 * it used to retry without end). Tests may run as root, where permissions do not stop a rename: it is made to fail.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { acquireTimingLock, checkBenchEnvironment, UNWRITTEN_LOCK_GRACE_MS } from '../../src/bench/timing-lock.ts';
import { UsageError } from '../../src/errors.ts';
import { processStartTime } from '../../src/processes.ts';

/** Renaming a file named `from` fails with EACCES, `times` times (then succeeds: a taker that retried without end). */
const denied = vi.hoisted(() => ({ from: undefined as string | undefined, times: 0, before: undefined as (() => void) | undefined }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const renameSync = ((from: Parameters<typeof fs.renameSync>[0], to: Parameters<typeof fs.renameSync>[1]) => {
    if (denied.from !== undefined && String(from) === denied.from && denied.before) {
      const before = denied.before;
      denied.before = undefined;
      before();
    }
    if (denied.from !== undefined && String(from) === denied.from && denied.times-- > 0)
      throw Object.assign(new Error(`EACCES: permission denied, rename '${from}' -> '${to}'`), { code: 'EACCES', errno: -13, syscall: 'rename' });
    return fs.renameSync(from, to);
  }) as typeof fs.renameSync;
  // a full disk while `full.under` is set (test/helpers/full-disk.ts)
  const { fullDiskFs } = await import('../helpers/full-disk.ts');
  const mocked = { renameSync, ...fullDiskFs(fs, full) };
  return { ...fs, default: { ...fs, ...mocked }, ...mocked };
});
const full = vi.hoisted(() => ({ under: undefined as string | undefined }));

const dir = mkdtempSync(join(tmpdir(), 'timing-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const lockFile = () => join(dir, `lock-${n++}`);

describe('a stale timing lock', () => {
  it('that cannot be removed: the benchmark times at once, not exclusive, saying why', async () => {
    const file = lockFile();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(file, `${dead}\n`);
    denied.from = file;
    denied.times = 1000;
    try {
      const lock = await acquireTimingLock({ file, waitSeconds: 600 });
      expect(lock.record).toEqual({
        exclusive: false,
        waitedSeconds: expect.any(Number),
        reason: `cannot remove the stale lock ${file} of pid ${dead}, gone: EACCES: permission denied, rename '${file}' -> '${file}.${process.pid}.stale'`,
      });
      lock.release();
    } finally {
      denied.from = undefined;
    }
    expect(readFileSync(file, 'utf8')).toBe(`${dead}\n`); // not ours
  });

  it.runIf(processStartTime(process.pid) !== undefined)('held by a pid now given to another process: taken over', async () => {
    const file = lockFile();
    const pid = process.ppid; // alive, but not the process that took the lock
    writeFileSync(file, `${pid} ${BigInt(processStartTime(pid)!) + 1n}\n`);
    const lock = await acquireTimingLock({ file, waitSeconds: 2 });
    expect(lock.record).toEqual({ exclusive: true, waitedSeconds: expect.any(Number) });
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid} ${processStartTime(process.pid)}\n`);
    lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it('held by a live process that recorded its start time: waited for', async () => {
    const file = lockFile();
    const pid = process.ppid;
    const start = processStartTime(pid);
    writeFileSync(file, start !== undefined ? `${pid} ${start}\n` : `${pid}\n`);
    const lock = await acquireTimingLock({ file, waitSeconds: 0.3 });
    expect(lock.record).toEqual({ exclusive: false, waitedSeconds: expect.any(Number), heldBy: pid, reason: 'busy' });
  });

  it('left empty or garbled (its writer killed between creating and writing it) and old: taken over', async () => {
    for (const content of ['', 'garbage', '12']) {
      const file = lockFile();
      writeFileSync(file, content);
      const old = (Date.now() - UNWRITTEN_LOCK_GRACE_MS - 60_000) / 1000;
      utimesSync(file, old, old);
      const lock = await acquireTimingLock({ file, waitSeconds: 2 });
      expect(lock.record).toEqual({ exclusive: true, waitedSeconds: expect.any(Number) });
      expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^${process.pid}( \\d+)?\n$`));
      lock.release();
      expect(existsSync(file)).toBe(false);
    }
  });

  it('empty but just created (maybe being written): waited for, not taken over', async () => {
    const file = lockFile();
    writeFileSync(file, '');
    const lock = await acquireTimingLock({ file, waitSeconds: 0.3 });
    expect(lock.record).toEqual({ exclusive: false, waitedSeconds: expect.any(Number), reason: 'busy' });
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it.runIf(processStartTime(process.pid) !== undefined)(
    'replaced, while being taken over, by a new holder with the same pid and another start time: put back',
    async () => {
      const file = lockFile();
      const pid = process.ppid; // alive
      const start = processStartTime(pid)!;
      const stale = `${pid} ${BigInt(start) + 1n}\n`; // its pid since given to another process
      writeFileSync(file, stale);
      // between reading the stale lock and moving it aside, the live process with that pid takes the lock
      denied.from = file;
      denied.times = 0;
      denied.before = () => writeFileSync(file, `${pid} ${start}\n`);
      try {
        const lock = await acquireTimingLock({ file, waitSeconds: 0.5 });
        expect(lock.record).toEqual({ exclusive: false, waitedSeconds: expect.any(Number), heldBy: pid, reason: 'busy' });
      } finally {
        denied.from = undefined;
        denied.before = undefined;
      }
      expect(readFileSync(file, 'utf8')).toBe(`${pid} ${start}\n`);
    },
  );

  it('a disk full while the lock is made: no empty lock left behind (it would be waited on), the benchmark times anyway saying why', async () => {
    const sub = join(dir, `full-${n++}`);
    mkdirSync(sub);
    const file = join(sub, 'lock');
    full.under = sub;
    try {
      const lock = await acquireTimingLock({ file, waitSeconds: 1 });
      expect(lock.record).toEqual({ exclusive: false, waitedSeconds: expect.any(Number), reason: `cannot create ${file}: no space left on the device` });
      lock.release();
    } finally {
      full.under = undefined;
    }
    expect(readdirSync(sub)).toEqual([]);
  });

  it('busy: leaves no file beside the lock', async () => {
    const sub = join(dir, `busy-${n++}`);
    mkdirSync(sub);
    const file = join(sub, 'lock');
    const pid = process.ppid;
    const start = processStartTime(pid);
    writeFileSync(file, start !== undefined ? `${pid} ${start}\n` : `${pid}\n`);
    const lock = await acquireTimingLock({ file, waitSeconds: 0.3 });
    expect(lock.record.reason).toBe('busy');
    expect(readdirSync(sub)).toEqual(['lock']);
  });

  it('leaves no file but the lock beside it', async () => {
    const sub = join(dir, `alone-${n++}`);
    mkdirSync(sub);
    const file = join(sub, 'lock');
    const lock = await acquireTimingLock({ file, waitSeconds: 1 });
    expect(lock.record.exclusive).toBe(true);
    expect(readdirSync(sub)).toEqual(['lock']);
    lock.release();
    expect(readdirSync(sub)).toEqual([]);
  });
});

// (a folder at the path, as $BERT_COMPRESS_TIMING_LOCK=/tmp names one, was taken for a lock another benchmark held and
// waited for, the full 10 minutes; a device, /dev/null, read as an old empty lock, was moved aside and removed)
describe('a timing lock path that holds no file', () => {
  it('a folder: the benchmark times at once, not exclusive, saying why, and the folder stays', async () => {
    const folder = join(dir, `folder-${n++}`);
    mkdirSync(folder);
    writeFileSync(join(folder, 'kept'), 'x');
    const lock = await acquireTimingLock({ file: folder, waitSeconds: 2 });
    expect(lock.record).toMatchObject({ exclusive: false, reason: `${folder} is a folder, not a lock file` });
    expect(lock.record.waitedSeconds).toBeLessThan(1);
    lock.release();
    expect(readdirSync(folder)).toEqual(['kept']);
  });
});

describe('a timing lock path that is a symbolic link to nothing', () => {
  // (no lock can be created at its name and none was read there: waited for as a lock another benchmark held, the full wait)
  it('the benchmark times at once, not exclusive, saying why; BERT_COMPRESS_TIMING_LOCK naming one is refused in one line', async () => {
    const link = join(dir, `dangling-${n++}`);
    const target = join(dir, `nowhere-${n++}`, 'lock');
    symlinkSync(target, link);
    const lock = await acquireTimingLock({ file: link, waitSeconds: 2 });
    expect(lock.record).toMatchObject({ exclusive: false, reason: `${link} is a symbolic link to nothing (${target}), not a lock file` });
    expect(lock.record.waitedSeconds).toBeLessThan(1);
    lock.release();
    expect(() => checkBenchEnvironment({ BERT_COMPRESS_TIMING_LOCK: link })).toThrow(
      new UsageError(
        `BERT_COMPRESS_TIMING_LOCK: ${link} is a symbolic link to nothing (${target}), not a lock file; name a file (or unset it: a file in the temporary folder)`,
      ),
    );
  });
});

describe('BERT_COMPRESS_TIMING_LOCK naming what is not a file', () => {
  it('is refused in one line (exit 2) by the check a benchmark, a sweep plan and a worker make first; a file or none passes', () => {
    const folder = join(dir, `env-folder-${n++}`);
    mkdirSync(folder);
    expect(() => checkBenchEnvironment({ BERT_COMPRESS_TIMING_LOCK: folder })).toThrow(
      new UsageError(`BERT_COMPRESS_TIMING_LOCK: ${folder} is a folder, not a lock file; name a file (or unset it: a file in the temporary folder)`),
    );
    expect(() => checkBenchEnvironment({ BERT_COMPRESS_TIMING_LOCK: join(folder, 'lock') })).not.toThrow();
    // (a link to a file: no benchmark could make its lock there, and the first that read it stale removed the link)
    writeFileSync(join(folder, 'shared.lock'), '');
    symlinkSync(join(folder, 'shared.lock'), join(folder, 'link.lock'));
    expect(() => checkBenchEnvironment({ BERT_COMPRESS_TIMING_LOCK: join(folder, 'link.lock') })).toThrow(
      new UsageError(
        `BERT_COMPRESS_TIMING_LOCK: ${join(folder, 'link.lock')} is a symbolic link (to ${join(folder, 'shared.lock')}), not a lock file; name a file (or unset it: a file in the temporary folder)`,
      ),
    );
    expect(() => checkBenchEnvironment({ BERT_COMPRESS_TIMING_LOCK: ' ' })).not.toThrow();
    expect(() => checkBenchEnvironment({})).not.toThrow();
  });

  // (no lock file can be made there: every benchmark timed without the lock, each warning with Node's error on the
  // lock's temporary name, 'ENOENT: no such file or directory, open '/x/lock.123.tmp'')
  it("is refused in one line where it names a file in no folder: a missing folder, a file, one under a `~` no shell expanded (expanded, as GLUE_DIR's)", () => {
    const folder = join(dir, `env-in-no-folder-${n++}`);
    mkdirSync(folder);
    const refusal = (lock: string, why: string) =>
      new UsageError(`BERT_COMPRESS_TIMING_LOCK: ${lock} is in no folder (${why}); name a file (or unset it: a file in the temporary folder)`);
    const missing = join(folder, 'no-such', 'dir', 'timing.lock');
    expect(() => checkBenchEnvironment({ BERT_COMPRESS_TIMING_LOCK: missing })).toThrow(refusal(missing, `${dirname(missing)} does not exist`));
    writeFileSync(join(folder, 'a-file'), '');
    const underFile = join(folder, 'a-file', 'timing.lock');
    expect(() => checkBenchEnvironment({ BERT_COMPRESS_TIMING_LOCK: underFile })).toThrow(refusal(underFile, `${join(folder, 'a-file')} is a file`));
    // (a `~` is the home folder, as in BERT_COMPRESS_CACHE and GLUE_DIR, where it was read as a folder '~' in the working folder)
    const home = join(folder, 'no-such', 'timing.lock');
    expect(() => checkBenchEnvironment({ BERT_COMPRESS_TIMING_LOCK: '~/no-such/timing.lock', HOME: folder })).toThrow(
      refusal(home, `${dirname(home)} does not exist`),
    );
    expect(() => checkBenchEnvironment({ BERT_COMPRESS_TIMING_LOCK: '~/timing.lock', HOME: folder })).not.toThrow();
    expect(() => checkBenchEnvironment({ BERT_COMPRESS_TIMING_LOCK: join(folder, 'timing.lock') })).not.toThrow();
    expect(existsSync(join(folder, 'no-such'))).toBe(false);
  });
});
