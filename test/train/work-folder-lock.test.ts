/**
 * One run at a time trains into a work folder (OUT.train: its checkpoints and best epoch) and writes the output beside
 * it. Two runs of one output used to share it: the second resumed, pruned and removed the first's checkpoints (the
 * first finishing removed the folder, and the second then failed with an internal error reading its best epoch back),
 * and both wrote one model, lineage and projections file. Now the run holds the folder's lock (a file naming its
 * process, as file-lock.ts's): a second run while it runs is refused in one line before any work, and a killed run's
 * lock is taken over by its rerun. A lock that cannot be written (a full disk, a read-only folder) is one line naming
 * it, and the work folder the run made for it is removed again (it was left empty).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { holderText } from '../../src/file-lock.ts';
import { processStartTime } from '../../src/processes.ts';
import { runTraining, type TrainRunOptions } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

/** A full disk: writing a file under `full.under` (or to an open file) fails with ENOSPC. */
const full = vi.hoisted(() => ({ under: undefined as string | undefined }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const { fullDiskFs } = await import('../helpers/full-disk.ts');
  const mocked = fullDiskFs(fs, full);
  return { ...fs, default: { ...fs, ...mocked }, ...mocked };
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-work-folder-lock-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const model = writeModelFolder(join(work, 'model'), tinyBert());
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
const output = join(work, 'out', 'model.onnx');
const options: TrainRunOptions = { task: 'SST-2', student: model, glueDir, output, settings: { epochs: 1, batchSize: 4, threads: 1 } };

describe("a training run's work folder", () => {
  it('held by another live run: refused in one line naming its process and the way out, nothing trained or written; once that process is gone, its lock is taken over', async () => {
    // (another run training into it: a live process named by the lock file, as the run writes it)
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    const exited = new Promise((done) => other.once('exit', done));
    try {
      const workDir = `${output}.train`;
      mkdirSync(workDir, { recursive: true });
      writeFileSync(join(workDir, '.run.lock'), `${holderText({ pid: other.pid!, start: processStartTime(other.pid!) })}\n`);
      await expect(runTraining(options)).rejects.toThrow(
        `-o ${output}: process ${other.pid} is training into it now (its work folder ${workDir}): wait for it to end, or give another -o`,
      );
      // (a work folder the caller gave, as a sweep's point does: another -o would not change it)
      await expect(runTraining({ ...options, workDir })).rejects.toThrow(
        `-o ${output}: process ${other.pid} is training into it now (its work folder ${workDir}): wait for it to end, or train into another work folder`,
      );
      expect(readdirSync(workDir)).toEqual(['.run.lock']);
      expect(existsSync(output)).toBe(false);
    } finally {
      other.kill('SIGKILL');
      await exited;
    }
    // (its process killed: the rerun takes the folder over, trains and removes it, the lock with it)
    const r = await runTraining(options);
    expect(r.interrupted).toBe(false);
    expect(existsSync(output)).toBe(true);
    expect(existsSync(`${output}.train`)).toBe(false);
  });

  it('whose lock cannot be written (a full disk): refused in one line naming the lock, and the work folder made for it removed again', async () => {
    const workDir = join(work, 'full', 'work');
    full.under = workDir;
    try {
      await expect(runTraining({ ...options, output: join(work, 'full', 'model.onnx'), workDir })).rejects.toThrow(
        `-o ${join(work, 'full', 'model.onnx')}: cannot write the lock ${join(workDir, '.run.lock')} of its work folder: no space left on the device`,
      );
    } finally {
      full.under = undefined;
    }
    expect(existsSync(join(work, 'full'))).toBe(false);
  });

  // (a folder there was read as a lock, and the run failed with an internal error and its stack)
  it('whose lock path is a folder: refused in one line naming the lock, the folder left as it was', async () => {
    const workDir = join(work, 'folder', 'work');
    mkdirSync(join(workDir, '.run.lock'), { recursive: true });
    await expect(runTraining({ ...options, output: join(work, 'folder', 'model.onnx'), workDir })).rejects.toThrow(
      new UserError(`-o ${join(work, 'folder', 'model.onnx')}: cannot write the lock ${join(workDir, '.run.lock')} of its work folder: is a folder`),
    );
    expect(readdirSync(workDir)).toEqual(['.run.lock']);
  });

  // (no lock file can be created at the link's name and none was read there: the run tried again without end, at full CPU)
  it('whose lock path is a symbolic link to nothing: refused in one line naming the lock, the link left as it was', async () => {
    const workDir = join(work, 'dangling', 'work');
    mkdirSync(workDir, { recursive: true });
    symlinkSync(join(work, 'dangling', 'nowhere'), join(workDir, '.run.lock'));
    await expect(runTraining({ ...options, output: join(work, 'dangling', 'model.onnx'), workDir })).rejects.toThrow(
      new UserError(
        `-o ${join(work, 'dangling', 'model.onnx')}: cannot write the lock ${join(workDir, '.run.lock')} of its work folder: a symbolic link to nothing`,
      ),
    );
    expect(readdirSync(workDir)).toEqual(['.run.lock']);
  });
});
