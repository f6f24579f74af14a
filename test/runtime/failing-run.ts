/**
 * A run onnxruntime fails (a MatMul of [2, 3] by [5, 4]), through openSession: prints the error's first line. Run in
 * a child process by session.test.ts, which reads what onnxruntime itself wrote to stderr.
 */
import { createModel, DataType, float32Tensor } from '../../src/onnx/index.ts';
import { encodeModel } from '../../src/onnx/save.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';

const model = createModel(
  {
    name: 'g',
    nodes: [{ name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'w'], outputs: ['y'], attributes: {} }],
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['a', 'b'] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT }],
    initializers: new Map([['w', float32Tensor('w', [5, 4], new Float32Array(20))]]),
    valueInfo: [],
  },
  [{ domain: '', version: 17 }],
);
const s = await openSession(encodeModel(model), { threads: 1 });
try {
  await s.run({ x: new Tensor('float32', new Float32Array(6), [2, 3]) });
  console.log('ran');
} catch (e) {
  console.log(`failed: ${String(e).split('\n')[0]}`);
}
