/**
 * graphInterface: the inputs and outputs a model file declares, read by walking the file's protobuf fields without
 * decoding its nodes or weights, equal to what loadModel reads of them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, loadModel, saveModel } from '../../src/onnx/index.ts';
import { graphInterface } from '../../src/onnx/load.ts';
import { ModelLoadError } from '../../src/errors.ts';
import { FIXTURES, hasFixtures, TEACHERS } from '../helpers/paths.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-graph-interface-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const declared = (path: string) => {
  const { graph } = loadModel(path);
  return { inputs: graph.inputs, outputs: graph.outputs };
};

describe('graphInterface', () => {
  it('reads the inputs and outputs loadModel reads: names, element types, fixed, named and unknown dimensions', () => {
    const model = tinyBert();
    model.graph.inputs[0]!.shape = [1, 16];
    model.graph.inputs[1]!.elemType = DataType.INT32;
    model.graph.inputs[2]!.shape = [null, 'sequence'];
    model.graph.outputs.push({ name: 'untyped' }, { name: 'hidden', elemType: DataType.FLOAT, shape: ['batch', 'sequence', 32] });
    model.graph.nodes.push({ name: 'copy', opType: 'Identity', domain: '', inputs: ['logits'], outputs: ['untyped'], attributes: {} });
    model.graph.nodes.push({ name: 'copy2', opType: 'Identity', domain: '', inputs: ['logits'], outputs: ['hidden'], attributes: {} });
    const file = join(work, 'shapes.onnx');
    saveModel(model, file);
    expect(graphInterface(file)).toEqual(declared(file));
    expect(graphInterface(file).inputs.map((v) => [v.name, v.elemType, v.shape])).toEqual([
      ['input_ids', DataType.INT64, [1, 16]],
      ['attention_mask', DataType.INT32, ['batch_size', 'sequence_length']],
      ['token_type_ids', DataType.INT64, [null, 'sequence']],
    ]);
  });

  it.skipIf(!hasFixtures)('reads what loadModel reads of every exporter fixture and teacher', () => {
    const files = [
      ...readdirSync(FIXTURES)
        .filter((f) => f.endsWith('.onnx'))
        .map((f) => join(FIXTURES, f)),
      ...readdirSync(TEACHERS)
        .filter((t) => !t.includes('.'))
        .map((t) => join(TEACHERS, t, 'model.onnx')),
    ];
    expect(files.length).toBeGreaterThan(6);
    for (const file of files) expect(graphInterface(file), file).toEqual(declared(file));
  });

  it("reads no weights: a model's external data file is not opened", () => {
    const file = join(work, 'external', 'model.onnx');
    saveModel(tinyBert(), file, { externalData: true });
    const expected = declared(file);
    rmSync(`${file}.data`);
    expect(graphInterface(file)).toEqual(expected);
  });

  it('refuses a truncated file in one ModelLoadError naming it', () => {
    const file = join(work, 'whole.onnx');
    saveModel(tinyBert(), file);
    const cut = join(work, 'cut.onnx');
    writeFileSync(cut, readFileSync(file).subarray(0, 1000));
    expect(() => graphInterface(cut)).toThrow(ModelLoadError);
    expect(() => graphInterface(cut)).toThrow(/^\S*cut\.onnx: not an ONNX model \(/);
  });
});
