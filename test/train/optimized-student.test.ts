/**
 * A model --optimize rewrote (fused com.microsoft ops, a first-token last layer) is trained as its canonical rebuild,
 * the plain graph: `compress train` and `compress distill` say so, and that the output needs --optimize again, where
 * the trained model silently lost the optimization. A float16 model (quantize float16) is trained and written in
 * float32: said, with the command converting the output again (each path as a shell takes it). A model with graph
 * outputs beside its scores (hidden states) is written with its scores alone: said, naming them. A plain model gets no
 * such note.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { runTraining } from '../../src/train/run.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { findBert } from '../../src/bert/discover.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();

const work = mkdtempSync(join(tmpdir(), 'bert-compress-optimized-student-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0 };

describe('training an optimized model', () => {
  it('notes that the output is the plain graph and needs --optimize again, or is float32 and needs float16 again; a plain model gets no note', async () => {
    const { model } = await runPipeline(tinyBert(), [{ pass: 'optimize', settings: { rewrites: 'all' } }]);
    const dir = writeModelFolder(join(work, 'optimized'), model);
    // (its folder's name holds a blank: the command the note gives quotes it, as a shell takes it)
    const output = join(work, 'out dir', 'model.onnx');
    const logs: string[] = [];
    await runTraining({ task: 'SST-2', student: dir, glueDir, output, settings, log: (line) => logs.push(line) });
    const notes = logs.filter((l) => l.startsWith('note:'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      new RegExp(
        `^note: ${join(dir, 'model.onnx')} is optimized \\(com\\.microsoft [A-Za-z, ]*Attention[A-Za-z, ]*; a first-token last layer\\); training rebuilds the plain graph, so ${output} is not: optimize it again \\(compress '${output}' --optimize -o …\\)$`,
      ),
    );

    const { model: half } = await runPipeline(tinyBert(), [{ pass: 'quantize', settings: { mode: 'float16' } }]);
    const halfDir = writeModelFolder(join(work, 'float16'), half);
    const halfOutput = join(work, 'out float16', 'model.onnx');
    const halfLogs: string[] = [];
    await runTraining({ task: 'SST-2', student: halfDir, glueDir, output: halfOutput, settings, log: (line) => halfLogs.push(line) });
    expect(halfLogs.filter((l) => l.startsWith('note:'))).toEqual([
      `note: ${join(halfDir, 'model.onnx')} stores its weights in float16; training computes in float32, so ${halfOutput} is float32: convert it again (compress '${halfOutput}' --quantize float16 -o …)`,
    ]);
    expect([...loadModel(halfOutput).graph.initializers.values()].every((t) => t.dataType === DataType.FLOAT)).toBe(true);

    const plain = writeModelFolder(join(work, 'plain'), tinyBert());
    const plainLogs: string[] = [];
    await runTraining({ task: 'SST-2', student: plain, glueDir, output: join(work, 'out-plain', 'model.onnx'), settings, log: (line) => plainLogs.push(line) });
    expect(plainLogs.filter((l) => l.startsWith('note:'))).toEqual([]);
  });

  it("notes the graph outputs beside the scores (an export's hidden states) that the output, the rebuilt classifier, does not have, where they were dropped without a word", async () => {
    const model = tinyBert();
    const structure = findBert(model);
    const hidden = [structure.embeddings.output, ...structure.layers.map((l) => l.output)];
    for (const name of hidden) model.graph.outputs.push({ name, elemType: DataType.FLOAT, shape: ['batch', 'sequence', 32] });
    const dir = writeModelFolder(join(work, 'hidden-states'), model);
    const output = join(work, 'out-hidden', 'model.onnx');
    const logs: string[] = [];
    await runTraining({ task: 'SST-2', student: dir, glueDir, output, settings, log: (line) => logs.push(line) });
    expect(logs.filter((l) => l.startsWith('note:'))).toEqual([
      `note: ${join(dir, 'model.onnx')} has ${hidden.length} graph outputs beside its scores ('${hidden[0]}', '${hidden[1]}', '${hidden[2]}'); training rebuilds the classifier, whose one output is its scores, so ${output} has none of them`,
    ]);
    expect(loadModel(output).graph.outputs.map((v) => v.name)).toEqual(['logits']);
  });
});
