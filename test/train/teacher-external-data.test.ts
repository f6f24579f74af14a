/**
 * A teacher stored with external data (its .onnx holds the graph, its weights are in model.onnx.data) is known to a
 * run's checkpoints by its weights too: a run stopped with one teacher is not resumed with another of the same graph
 * (other weights in the .data file), where the .onnx's sha256 alone made them the same job and the rerun resumed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/files.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { modelSha256 } from '../../src/onnx/identity.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-teacher-external-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
const teacher = writeModelFolder(join(work, 'teacher'), tinyBert({}, { seed: 1 }));
const student = writeModelFolder(join(work, 'student'), tinyBert({}, { seed: 5 }));
saveModel(tinyBert({}, { seed: 1 }), join(teacher, 'model.onnx'), { externalData: true });
/** Scales the weights in the teacher's .data file: other weights, the same .onnx. */
function retrainTeacher(): void {
  const file = join(teacher, 'model.onnx.data');
  const bytes = readFileSync(file);
  for (let i = 0; i + 4 <= bytes.length; i += 4) bytes.writeFloatLE(bytes.readFloatLE(i) * 1.5, i);
  writeFileSync(file, bytes);
}

describe('a teacher with external data', () => {
  it('whose weights changed (the same .onnx) is another job: its checkpoints are not resumed', async () => {
    const job = (more: Partial<Parameters<typeof runTraining>[0]> = {}) =>
      runTraining({
        task: 'SST-2',
        teacher,
        student,
        glueDir,
        cacheDir: join(work, 'cache'),
        output: join(work, 'out', 'model.onnx'),
        settings: { epochs: 2, batchSize: 4, threads: 1, dropout: 0, checkpointEvery: 1 },
        ...more,
      });
    const controller = new AbortController();
    const stopped = await job({ signal: controller.signal, onStep: (s) => (s.step === 1 ? controller.abort() : undefined) });
    expect(stopped.interrupted).toBe(true);

    const onnx = readFileSync(join(teacher, 'model.onnx'));
    retrainTeacher();
    expect(readFileSync(join(teacher, 'model.onnx')).equals(onnx)).toBe(true);
    const logs: string[] = [];
    await expect(job({ log: (l) => logs.push(l) })).rejects.toThrow(/holds the checkpoints \(step 1\) of a run .*teacher/);
    expect(logs.filter((l) => l.startsWith('resuming'))).toEqual([]);
  });

  it("records the .onnx file's sha256 in the lineage, not the run's identity (which hashes the weights' file too)", async () => {
    const output = join(work, 'lineage', 'model.onnx');
    await runTraining({
      task: 'SST-2',
      teacher,
      student,
      glueDir,
      cacheDir: join(work, 'cache'),
      output,
      settings: { epochs: 1, batchSize: 4, threads: 1, dropout: 0 },
    });
    const lineage = JSON.parse(readFileSync(`${output}.json`, 'utf8'));
    const onnx = join(teacher, 'model.onnx');
    expect(lineage.teacher.sha256).toBe(await sha256File(onnx));
    expect(await modelSha256(onnx)).not.toBe(lineage.teacher.sha256);
  });
});
