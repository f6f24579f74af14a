/**
 * GELU fusion: the feed-forward activation written as ops (the erf GELU of torch and keras, the tanh GELU) becomes
 * one com.microsoft node: BiasGelu(x·W, b) or FastGelu(x·W, b) when the first projection's bias is a separate Add
 * (float projections), else Gelu(y) or FastGelu(y) on the biased output (a dynamic int8 projection adds its bias
 * itself). Other activations (ReLU) are left as they are.
 */
import type { EncoderLayer } from '../bert/structure.ts';
import type { OptimizeContext } from './context.ts';
import { quotedText } from '../errors.ts';

const FUSED = new Set(['BiasGelu', 'FastGelu', 'Gelu']);

export function fuseGelus(oc: OptimizeContext, layers: readonly EncoderLayer[]): void {
  for (const l of layers) {
    const f = l.ffn;
    if (f.activation !== 'gelu' && f.activation !== 'gelu_tanh') continue;
    const nodes = f.activationNodes.map((name) => oc.inputNode(name)!);
    if (nodes.length === 1 && FUSED.has(nodes[0].opType)) continue;
    const where = `layer ${l.index}`;
    const out = oc.projectionInput(f.out);
    const producer = out ? oc.view.producer(out) : undefined;
    if (!out || !producer || !f.activationNodes.includes(producer.name)) {
      oc.skip('gelu', where, `the second feed-forward projection ${quotedText(f.out.node)} does not read the activation's output`);
      continue;
    }
    const problem = oc.producerProblem(out);
    if (problem) {
      oc.skip('gelu', where, problem);
      continue;
    }
    const split = oc.splitBias(f.in);
    if (f.activation === 'gelu_tanh') oc.replaceProducer(out, 'FastGelu', split ? [split.product, split.bias] : [f.in.output]);
    else if (split) oc.replaceProducer(out, 'BiasGelu', [split.product, split.bias]);
    else oc.replaceProducer(out, 'Gelu', [f.in.output]);
  }
}
