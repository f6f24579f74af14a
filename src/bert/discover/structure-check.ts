/**
 * Consistency checks of a BertStructure against the model it describes: every node, initializer and value it names
 * exists; weight shapes agree with each Linear's layout and widths (MatMulNBits blocks: [N, K/block, …] and the
 * node's K / N); head geometry agrees with the projections; every HeadShapeConstant holds the value it claims and
 * is read by its readers; a layer without attention has a [hidden] bias, if any; the layers chain. Used by tests,
 * and by passes that want to verify a structure they rewrote by hand.
 */
import { readNumbers } from '../../onnx/tensor.ts';
import type { Model } from '../../onnx/graph.ts';
import { attrInt } from '../../onnx/graph.ts';
import { numElements } from '../../onnx/tensor.ts';
import type { AttentionBlock, BertStructure, HeadShapeConstant, LayerNorm, Linear, Quantization } from '../structure.ts';
import { constantNodeTensor } from '../../onnx/constants.ts';
import { quotedText } from '../../errors.ts';

/** Problems found, empty when the structure is consistent with the model. */
export function structureProblems(model: Model, s: BertStructure): string[] {
  const g = model.graph;
  const problems: string[] = [];
  const nodes = new Map(g.nodes.map((n) => [n.name, n]));
  const values = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
  for (const n of g.nodes) for (const o of n.outputs) if (o) values.add(o);

  const node = (name: string | undefined, what: string) => {
    if (name !== undefined && !nodes.has(name)) problems.push(`${what}: no node ${quotedText(name)}`);
  };
  const init = (name: string | undefined, what: string) => {
    if (name !== undefined && !g.initializers.has(name)) problems.push(`${what}: no initializer ${quotedText(name)}`);
  };
  const value = (name: string, what: string) => {
    if (!values.has(name)) problems.push(`${what}: no value ${quotedText(name)}`);
  };
  const quantization = (q: Quantization | undefined, what: string) => {
    if (!q) return;
    q.nodes.forEach((x) => node(x, `${what} quantization`));
    init(q.scale, `${what} scale`);
    init(q.zeroPoint, `${what} zero point`);
  };
  const linear = (l: Linear, what: string) => {
    node(l.node, what);
    node(l.biasNode, `${what} bias`);
    init(l.weight, what);
    init(l.bias, `${what} bias`);
    value(l.output, what);
    quantization(l.quantization, what);
    const w = g.initializers.get(l.weight);
    if (w && l.quantization?.kind === 'matmul-nbits') {
      const n = nodes.get(l.node);
      const [K, N] = n ? [attrInt(n, 'K'), attrInt(n, 'N')] : [l.inFeatures, l.outFeatures];
      if (l.layout !== 'out_in' || w.dims[0] !== l.outFeatures || K !== l.inFeatures || N !== l.outFeatures) {
        problems.push(
          `${what}: MatMulNBits weight ${quotedText(l.weight)} [${w.dims}] (K ${K}, N ${N}) does not match ${l.layout} ${l.inFeatures} → ${l.outFeatures}`,
        );
      }
    } else if (w) {
      const [a, b] = w.dims;
      const [inF, outF] = l.layout === 'in_out' ? [a, b] : [b, a];
      if (w.dims.length !== 2 || inF !== l.inFeatures || outF !== l.outFeatures) {
        problems.push(`${what}: weight ${quotedText(l.weight)} [${w.dims}] does not match ${l.layout} ${l.inFeatures} → ${l.outFeatures}`);
      }
    }
  };
  const norm = (n: LayerNorm, what: string) => {
    n.nodes.forEach((x) => node(x, what));
    init(n.scale, `${what} scale`);
    init(n.bias, `${what} bias`);
    value(n.output, what);
  };
  const headConstant = (c: HeadShapeConstant, what: string) => {
    let tensor;
    let readValue: string;
    if (c.source === 'initializer') {
      tensor = g.initializers.get(c.name);
      readValue = c.name;
    } else {
      const cn = nodes.get(c.name);
      tensor = cn && constantNodeTensor(cn);
      readValue = cn?.outputs[0] ?? '';
    }
    if (!tensor) {
      problems.push(`${what}: no ${c.source} ${quotedText(c.name)}`);
      return;
    }
    const v = readNumbers(tensor)[c.index];
    if (v !== c.value) problems.push(`${what}: ${quotedText(c.name)}[${c.index}] is ${v}, not ${c.value}`);
    for (const r of c.readers ?? []) {
      const rn = nodes.get(r);
      if (!rn) problems.push(`${what}: no reader node ${quotedText(r)}`);
      else if (!rn.inputs.includes(readValue) && !readsThroughIdentity(rn.inputs, readValue)) {
        problems.push(`${what}: node ${quotedText(r)} does not read ${quotedText(c.name)}`);
      }
    }
  };
  const readsThroughIdentity = (inputs: string[], v: string) =>
    inputs.some((i) => g.nodes.some((n) => n.opType === 'Identity' && n.outputs[0] === i && n.inputs[0] === v));

  const e = s.embeddings;
  for (const [t, what] of [
    [e.word, 'word embeddings'],
    [e.position, 'position embeddings'],
    [e.tokenType, 'token type embeddings'],
  ] as const) {
    if (!t) continue;
    init(t.weight, what);
    node(t.gather, what);
    quantization(t.quantization, what);
    if (t.projection) linear(t.projection, `${what} projection`);
  }
  norm(e.norm, 'embeddings norm');
  if (e.mapping) linear(e.mapping, 'embeddings mapping');
  node(e.fusedNode, 'embeddings');
  value(e.output, 'embeddings');
  for (const i of [s.inputs.inputIds, s.inputs.attentionMask, s.inputs.tokenTypeIds]) {
    if (i !== undefined && !g.inputs.some((v) => v.name === i)) problems.push(`inputs: ${quotedText(i)} is not a graph input`);
  }

  const attentionProblems = (a: AttentionBlock, what: string) => {
    for (const [l, n] of [
      [a.q, 'Q'],
      [a.k, 'K'],
      [a.v, 'V'],
    ] as const) {
      if (l) {
        linear(l, `${what} ${n}`);
        if (l.outFeatures !== a.numHeads * a.headSize) problems.push(`${what} ${n}: ${l.outFeatures} outputs for ${a.numHeads} × ${a.headSize}`);
      }
    }
    if (a.fused) {
      node(a.fused.node, `${what} attention`);
      init(a.fused.weight, `${what} attention`);
      init(a.fused.bias, `${what} attention`);
      quantization(a.fused.quantization, `${what} attention`);
      const w = g.initializers.get(a.fused.weight);
      if (w && w.dims[1] !== 3 * a.numHeads * a.headSize) problems.push(`${what}: packed weight [${w.dims}] for ${a.numHeads} × ${a.headSize}`);
    }
    if (a.kind === 'unfused' && (!a.q || !a.k || !a.v || !a.softmax)) problems.push(`${what}: unfused attention without Q/K/V/Softmax`);
    if (a.kind === 'fused' && !a.fused) problems.push(`${what}: fused attention without its node`);
    node(a.softmax, `${what} softmax`);
    linear(a.output, `${what} attention output`);
    if (a.output.inFeatures !== a.numHeads * a.headSize) problems.push(`${what}: output projection reads ${a.output.inFeatures} features`);
    a.headShapeConstants.forEach((c, j) => headConstant(c, `${what} head-shape constant ${j}`));
  };

  s.layers.forEach((layer, i) => {
    const what = `layer ${i}`;
    const a = layer.attention;
    if (layer.index !== i) problems.push(`${what}: index ${layer.index}`);
    const prev = i === 0 ? e.output : s.layers[i - 1].output;
    if (layer.input !== prev) problems.push(`${what}: reads ${quotedText(layer.input)}, not ${quotedText(prev)}`);
    value(layer.input, what);
    value(layer.output, what);
    if (a) {
      if (layer.attentionBias !== undefined) problems.push(`${what}: has attention and an attention bias ${quotedText(layer.attentionBias)}`);
      attentionProblems(a, what);
    } else if (layer.attentionBias !== undefined) {
      init(layer.attentionBias, `${what} attention bias`);
      const b = g.initializers.get(layer.attentionBias);
      if (b && numElements(b.dims) !== s.hiddenSize)
        problems.push(`${what}: attention bias ${quotedText(layer.attentionBias)} [${b.dims}] is not ${s.hiddenSize} wide`);
    }
    norm(layer.attentionNorm, `${what} attention norm`);
    linear(layer.ffn.in, `${what} FFN in`);
    linear(layer.ffn.out, `${what} FFN out`);
    layer.ffn.activationNodes.forEach((n) => node(n, `${what} activation`));
    if (layer.ffn.in.outFeatures !== layer.ffn.intermediateSize || layer.ffn.out.inFeatures !== layer.ffn.intermediateSize) {
      problems.push(`${what}: FFN widths ${layer.ffn.in.outFeatures}/${layer.ffn.out.inFeatures} vs intermediate ${layer.ffn.intermediateSize}`);
    }
    norm(layer.outputNorm, `${what} output norm`);
  });
  if (s.layers.length !== s.numLayers) problems.push(`numLayers ${s.numLayers} but ${s.layers.length} layers`);
  if (s.pooler) linear(s.pooler.dense, 'pooler');
  if (s.head) {
    s.head.linears.forEach((l, i) => linear(l, `head linear ${i}`));
    for (const o of s.head.outputs) if (!g.outputs.some((v) => v.name === o)) problems.push(`head: ${quotedText(o)} is not a graph output`);
  }
  return problems;
}
