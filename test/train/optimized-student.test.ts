/**
 * A model --optimize rewrote (fused com.microsoft ops, a first-token last layer) is trained as its canonical rebuild,
 * the plain graph: `compress train` and `compress distill` say so, and that the output needs --optimize again, where
 * the trained model silently lost the optimization. A plain model gets no such note.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();

const work = mkdtempSync(join(tmpdir(), 'bert-compress-optimized-student-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0 };

describe('training an optimized model', () => {
  it('notes that the output is the plain graph and needs --optimize again; a plain model gets no note', async () => {
    const { model } = await runPipeline(tinyBert(), [{ pass: 'optimize', settings: { rewrites: 'all' } }]);
    const dir = writeModelFolder(join(work, 'optimized'), model);
    const output = join(work, 'out', 'model.onnx');
    const logs: string[] = [];
    await runTraining({ task: 'SST-2', student: dir, glueDir, output, settings, log: (line) => logs.push(line) });
    const notes = logs.filter((l) => l.startsWith('note:'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      new RegExp(
        `^note: ${join(dir, 'model.onnx')} is optimized \\(com\\.microsoft [A-Za-z, ]*Attention[A-Za-z, ]*; a first-token last layer\\); training rebuilds the plain graph, so ${output} is not: optimize it again \\(compress ${output} --optimize -o …\\)$`,
      ),
    );

    const plain = writeModelFolder(join(work, 'plain'), tinyBert());
    const plainLogs: string[] = [];
    await runTraining({ task: 'SST-2', student: plain, glueDir, output: join(work, 'out-plain', 'model.onnx'), settings, log: (line) => plainLogs.push(line) });
    expect(plainLogs.filter((l) => l.startsWith('note:'))).toEqual([]);
  });
});
