/**
 * A GLUE folder given as a file (`--glue-dir FILE`, GLUE_DIR set to a file, a sweep file's glueDir, a library caller's
 * glueDir): refused in one line naming where it was given, where each task's file was said not to be found under it
 * (`FILE/SST-2/dev.tsv: file not found (GLUE SST-2 dev; set --glue-dir or GLUE_DIR)`), which hid that the folder given
 * was a file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate, loadCalibration } from '../../src/eval/index.ts';
import { glueDirOf } from '../../src/glue/glue-dir.ts';
import { runTraining } from '../../src/train/library.ts';
import { runMain } from '../helpers/cli.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-glue-dir-file-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const file = join(work, 'glue.txt');
writeFileSync(file, 'not a folder\n');
const model = writeModelFolder(join(work, 'model'), tinyBert({ numLabels: 2 }));
const TAIL = 'is a file, not a folder: give the GLUE folder, which holds a folder per task (SST-2/dev.tsv, …)';

describe('a GLUE folder that is a file', () => {
  it('glueDirOf names the flag, GLUE_DIR or the default as given, with the path read where it differs', () => {
    expect(() => glueDirOf('glue.txt', '--glue-dir', {}, work)).toThrow(`--glue-dir glue.txt (${file}) ${TAIL}`);
    expect(() => glueDirOf(file, '--glue-dir', {}, work)).toThrow(`--glue-dir ${file} ${TAIL}`);
    expect(() => glueDirOf(undefined, '--glue-dir', { GLUE_DIR: ' glue.txt ' }, work)).toThrow(`GLUE_DIR=glue.txt (${file}) ${TAIL}`);
    expect(() => glueDirOf(undefined, '--glue-dir', {}, join(work, 'a', 'b'))).not.toThrow();
    // (a folder, or none there, is returned as given: the reads say which file they miss)
    expect(glueDirOf('model', '--glue-dir', {}, work)).toBe('model');
    expect(glueDirOf('none', '--glue-dir', {}, work)).toBe('none');
    expect(glueDirOf(undefined, '--glue-dir', { GLUE_DIR: join(work, 'model') }, work)).toBe(join(work, 'model'));
  });

  it('compress eval refuses --glue-dir FILE and GLUE_DIR=FILE in one line, where it said FILE/SST-2/dev.tsv: file not found', async () => {
    const flag = await runMain(['eval', model, '--tasks', 'SST-2', '--glue-dir', file]);
    expect([flag.code, flag.stderr]).toEqual([1, `compress: --glue-dir ${file} ${TAIL}\n`]);
    const variable = await runMain(['eval', model, '--tasks', 'all'], { GLUE_DIR: file });
    expect([variable.code, variable.stderr]).toEqual([1, `compress: GLUE_DIR=${file} ${TAIL}\n`]);
  });

  it('compress data download names GLUE_DIR or the default folder where it gave the folder to fill, not a --dir the user did not type', async () => {
    const variable = await runMain(['data', 'download', '--tasks', 'SST-2'], { GLUE_DIR: file, GLUE_BASE_URL: 'http://127.0.0.1:9' });
    expect([variable.code, variable.stderr]).toEqual([1, `compress: GLUE_DIR=${file}: ${file} is a file, not a folder\n`]);
    // (the default ./glue_data, in a working folder where it is a file)
    const cwd = mkdtempSync(join(work, 'cwd-'));
    writeFileSync(join(cwd, 'glue_data'), 'not a folder\n');
    const fallback = await runMain(['data', 'download', '--tasks', 'SST-2'], { GLUE_DIR: '', GLUE_BASE_URL: 'http://127.0.0.1:9' }, cwd);
    expect([fallback.code, fallback.stderr]).toEqual([
      1,
      `compress: the default download folder glue_data (no --dir or GLUE_DIR given): ${join(cwd, 'glue_data')} is a file, not a folder\n`,
    ]);
    // --dir FILE: the flag, a usage mistake (exit 2), as before
    const flag = await runMain(['data', 'download', '--tasks', 'SST-2', '--dir', file], { GLUE_BASE_URL: 'http://127.0.0.1:9' });
    expect([flag.code, flag.stderr]).toEqual([2, `compress: --dir ${file}: ${file} is a file, not a folder\n`]);
  });

  it("a sweep names its file's glueDir, and --glue-dir where given", async () => {
    const sweep = join(work, 'sweep.yaml');
    writeFileSync(sweep, `glueDir: glue.txt\nmodels:\n  - {path: model, tasks: [SST-2]}\npipelines:\n  - baseline\n`);
    const store = join(work, 'store.sqlite');
    const fromFile = await runMain(['sweep', sweep, '--store', store]);
    expect([fromFile.code, fromFile.stderr]).toEqual([1, `compress: ${sweep}: glueDir ${file} ${TAIL}\n`]);
    const fromFlag = await runMain(['sweep', sweep, '--store', store, '--glue-dir', file]);
    expect([fromFlag.code, fromFlag.stderr]).toEqual([1, `compress: --glue-dir ${file} ${TAIL}\n`]);
  });

  it('the library names its glueDir option', async () => {
    expect(await asyncRefusal(evaluate({ model, tasks: ['SST-2'], glueDir: file }))).toBe(`glueDir ${file} ${TAIL}`);
    expect(await asyncRefusal(loadCalibration({ model, task: 'SST-2', glueDir: file }))).toBe(`glueDir ${file} ${TAIL}`);
    const training = runTraining({ task: 'SST-2', student: model, output: join(work, 'trained', 'model.onnx'), glueDir: file, settings: { epochs: 1 } });
    expect(await asyncRefusal(training)).toBe(`glueDir ${file} ${TAIL}`);
  });
});
