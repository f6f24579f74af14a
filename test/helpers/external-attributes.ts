/**
 * A tiny BERT whose tensors lie in external data files outside its initializers, as onnx's convert_attribute=True and
 * other tools write them: the classifier's weight as a Constant node's value (constant.bin) and its bias as the
 * initializer of an If's branches (branch.bin). loadModel and onnxruntime read both.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveModel } from '../../src/onnx/index.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { tinyBert } from './models.ts';

/** Writes that model as `dir`/model.onnx with constant.bin and branch.bin beside it; returns the .onnx's path. */
export function writeExternalAttributeModel(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'model.onnx');
  saveModel(tinyBert(), path, { externalData: false });
  const proto = onnx.ModelProto.decode(readFileSync(path));
  const graph = proto.graph!;
  /** The tensor `name` taken out of the initializers, with its bytes in `file` (an external data entry naming it). */
  const external = (name: string, file: string) => {
    const i = graph.initializer!.findIndex((t) => t.name === name);
    const t = graph.initializer!.splice(i, 1)[0]!;
    writeFileSync(join(dir, file), t.rawData!);
    const entries = { location: file, offset: '0', length: String(t.rawData!.byteLength) };
    return { name, dims: t.dims, dataType: t.dataType, dataLocation: 1, externalData: Object.entries(entries).map(([key, value]) => ({ key, value })) };
  };
  const weight = external('classifier.weight', 'constant.bin');
  graph.node!.unshift({ name: 'weight', opType: 'Constant', output: [weight.name], attribute: [{ name: 'value', type: 4, t: weight }] });
  const bias = external('classifier.bias', 'branch.bin');
  const branch = (b: string) => ({ name: b, initializer: [bias], output: [{ name: bias.name }] });
  graph.node!.unshift(
    { name: 'yes', opType: 'Constant', output: ['yes'], attribute: [{ name: 'value', type: 4, t: { dataType: 9, int32Data: [1] } }] },
    {
      name: 'bias',
      opType: 'If',
      input: ['yes'],
      output: [bias.name],
      attribute: [
        { name: 'then_branch', type: 5, g: branch('then') },
        { name: 'else_branch', type: 5, g: branch('else') },
      ],
    },
  );
  writeFileSync(path, onnx.ModelProto.encode(proto).finish());
  return path;
}
