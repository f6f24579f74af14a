/**
 * Reverse-mode differentiation on the ONNX IR. From a forward graph with a scalar loss, `buildGradientGraph`
 * writes a *training graph*: the same forward nodes, then for each node on the path from the parameters to the
 * loss (in reverse order) the nodes of its op's gradient rule (rules/), contributions to one value summed. The
 * parameters (initializers) become graph inputs, and the outputs are the loss, any forward values asked for, and
 * the gradient of every parameter. Only standard ONNX ops are written, so onnxruntime's ordinary CPU build runs
 * it; no training build is needed. An erf GELU (torch's export) is differentiated as one function (gelu.ts): six
 * passes over the FFN's widest tensor where its five nodes' rules took eight.
 *
 * Embedding tables listed as `sparse` get no dense gradient: the graph outputs the gradient of the rows each of
 * their Gathers looked up, with the looked-up ids, and the optimizer adds them into the touched rows only.
 */
import type { Graph, Model, Node, ValueInfo } from '../onnx/graph.ts';
import { cloneModel, domainName, opsetVersion } from '../onnx/graph.ts';
import { DataType, dataTypeName, isFloatType } from '../onnx/dtype.ts';
import { constantNumbers } from '../onnx/constants.ts';
import type { Feeds } from '../runtime/session.ts';
import { GradContext, GradientError, nodeName } from './context.ts';
import { probeShapes } from './probe.ts';
import { GRADIENT_RULES, ZERO_GRADIENT } from './rules/index.ts';
import { erfGeluGradient, findErfGelus } from './gelu.ts';
import { checkModelArg, checkOptionKinds, checkOptions, checkStringOption, type OptionKind } from '../library-args.ts';
import { quotedText, SettingsError } from '../errors.ts';

export interface GradientGraphOptions {
  /** A scalar float value of the graph (usually a graph output). */
  loss: string;
  /** Float initializers to differentiate with respect to; they become graph inputs. */
  parameters: readonly string[];
  /** Parameters read only by Gather on axis 0 (embedding tables) whose gradient is output as gathered rows. */
  sparse?: readonly string[];
  /** Forward values to output as well (e.g. logits). */
  keep?: readonly string[];
  /** Inputs for the shape probe (default: symbolic dims 2, 3, 5…, ids 0, floats 0.5). */
  probeFeeds?: Feeds;
}

/** The gradient of one Gather of a sparse parameter: output names of the row gradients and of the ids. */
export interface SparseGradient {
  parameter: string;
  /** [...ids dims, width] gradient of the looked-up rows. */
  rows: string;
  /** The ids the Gather read (any shape), as int64, negative ones wrapped into [0, rows) as Gather reads them. */
  ids: string;
}

export interface GradientGraph {
  model: Model;
  loss: string;
  keep: readonly string[];
  /** Output name of each parameter's dense gradient. */
  dense: ReadonlyMap<string, string>;
  sparse: readonly SparseGradient[];
  /** Parameters the loss does not depend on (no gradient output; their gradient is zero). */
  unused: readonly string[];
  /** Shape and type of each parameter input. */
  parameterInfo: ReadonlyMap<string, { dims: number[]; dataType: number }>;
}

/** Lowest forward opset the engine reads, and the opset of every training graph it writes (or the model's, if newer). */
export const MIN_FORWARD_OPSET = 13;
export const TRAINING_OPSET = 17;

/** Output names the training graph uses. */
export const gradOutputName = (param: string) => `grad.${param}`;

/** A list of value names (parameters, sparse, keep), as checkOptionKinds reads one. */
const NAME_LIST = { is: (v: unknown) => Array.isArray(v) && v.every((n) => typeof n === 'string' && n !== ''), expected: 'a list of names' } as const;

/**
 * buildGradientGraph's options by their kinds (checkOptionKinds), before any work: a JavaScript caller's parameters
 * 'w' were read as the names of its letters, keep 'logits' likewise, parameters left out failed with a TypeError, a
 * misspelt option was read as nothing; loss read below.
 */
const GRADIENT_OPTION_KINDS = {
  loss: 'checked',
  parameters: { ...NAME_LIST, expected: 'a list of initializer names' },
  sparse: { ...NAME_LIST, expected: 'a list of initializer names (among parameters)' },
  keep: { ...NAME_LIST, expected: 'a list of value names of the graph' },
  probeFeeds: { is: (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v), expected: 'feeds (an object of input tensors by name)' },
} as const satisfies Record<keyof GradientGraphOptions, OptionKind>;

/** The element types gradients are computed in. */
const DIFFERENTIABLE: ReadonlySet<number> = new Set([DataType.FLOAT, DataType.DOUBLE]);

export async function buildGradientGraph(forward: Model, options: GradientGraphOptions): Promise<GradientGraph> {
  checkModelArg('buildGradientGraph', forward, 'forward');
  checkOptionKinds('buildGradientGraph', checkOptions('buildGradientGraph', options, '{loss, parameters, …}'), GRADIENT_OPTION_KINDS);
  checkStringOption('buildGradientGraph', 'loss', options.loss, 'the name of the scalar loss value');
  if (options.parameters === undefined) throw new SettingsError('buildGradientGraph: parameters: missing; expected a list of initializer names');
  const nodeOpset = opsetVersion(forward) ?? 0;
  if (nodeOpset < MIN_FORWARD_OPSET) {
    throw new GradientError(`the forward graph has opset ${nodeOpset}; differentiation needs opset ${MIN_FORWARD_OPSET} or later (rebuild the model)`);
  }
  const g = forward.graph;
  const params = new Set(options.parameters);
  // (none given: it said the loss 'does not depend on any parameter', as if the graph's were unused)
  if (params.size === 0) throw new GradientError('parameters: none given: list the initializers to differentiate the loss by');
  if (params.size < options.parameters.length) {
    const twice = options.parameters.find((p, i) => options.parameters.indexOf(p) !== i);
    throw new GradientError(`parameter ${quotedText(twice!)} is listed twice`);
  }
  const sparse = new Set(options.sparse ?? []);
  for (const p of params) {
    const t = g.initializers.get(p);
    if (!t) throw new GradientError(`parameter ${quotedText(p)} is not an initializer of the graph`);
    if (!isFloatType(t.dataType)) throw new GradientError(`parameter ${quotedText(p)} is not a float tensor`);
    if (!DIFFERENTIABLE.has(t.dataType))
      throw new GradientError(
        `parameter ${quotedText(p)} is ${dataTypeName(t.dataType)}: gradients are float32 or float64 only (convert the model to float32)`,
      );
  }
  for (const p of sparse) if (!params.has(p)) throw new GradientError(`sparse parameter ${quotedText(p)} is not among the parameters`);

  const { facts, ambiguous } = await probeShapes(forward, options.probeFeeds);
  const lossFacts = facts.get(options.loss);
  if (!lossFacts) throw new GradientError(`loss ${quotedText(options.loss)} is not a value of the graph`);
  if (lossFacts.dims.length !== 0) throw new GradientError(`loss ${quotedText(options.loss)} must be a scalar (it has dims [${lossFacts.dims.join(', ')}])`);
  if (!DIFFERENTIABLE.has(lossFacts.dataType))
    throw new GradientError(`loss ${quotedText(options.loss)} must be a float32 or float64 value (it is ${dataTypeName(lossFacts.dataType)})`);
  for (const v of options.keep ?? []) if (!facts.has(v)) throw new GradientError(`kept value ${quotedText(v)} is not a value of the graph`);
  const floatType = lossFacts.dataType;
  const isFloat = (v: string) => {
    const f = facts.get(v);
    return !!f && isFloatType(f.dataType);
  };

  // Values that depend on a parameter through float ops.
  const varying = new Set<string>(params);
  // A node with subgraphs (If, Loop, Scan) also reads the outer values its subgraphs name.
  const reads = new Map<Node, string[]>(g.nodes.map((n) => [n, [...n.inputs, ...subgraphReads(n)]]));
  for (const n of g.nodes) {
    if (ZERO_GRADIENT.has(n.opType)) continue;
    if (!reads.get(n)!.some((i) => i && varying.has(i))) continue;
    for (const o of n.outputs) if (o && isFloat(o)) varying.add(o);
  }
  if (!varying.has(options.loss)) throw new GradientError(`loss ${quotedText(options.loss)} does not depend on any parameter`);

  const opset = Math.max(nodeOpset, TRAINING_OPSET);
  const ctx = new GradContext(facts, floatType, opset, constantNumbers(forward), ambiguous);
  const contributions = new Map<string, string[]>();
  const add = (value: string, grad: string) => {
    const list = contributions.get(value);
    if (list) list.push(grad);
    else contributions.set(value, [grad]);
  };
  const total = (value: string): string | undefined => {
    const list = contributions.get(value);
    if (!list?.length) return undefined;
    if (list.length === 1) return list[0];
    const summed = ctx.op('Sum', list);
    contributions.set(value, [summed]);
    return summed;
  };

  // erf GELUs get their gradient as one function (gelu.ts): their last node writes it, their inner nodes none
  const gelus = findErfGelus(g, new Set([options.loss, ...(options.keep ?? []), ...g.outputs.map((o) => o.name)]), params);
  const insideGelu = new Set([...gelus.values()].flatMap((p) => [...p.inner]));

  add(options.loss, ctx.scalar(1));
  const sparseGrads: Array<{ parameter: string; rows: string; ids: string }> = [];
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k];
    const dy = n.outputs.map((o) => (o && varying.has(o) ? total(o) : undefined));
    if (dy.every((d) => d === undefined)) continue;
    const need = n.inputs.map((i) => !!i && varying.has(i));
    if (!reads.get(n)!.some((i) => i && varying.has(i))) continue;
    if (reads.get(n)!.length > n.inputs.length) ruleFor(n);
    ctx.node = n;
    const gelu = gelus.get(n);
    if (gelu) {
      add(gelu.x, erfGeluGradient(ctx, gelu, dy[0]!, n.outputs[0]));
      continue;
    }
    if (insideGelu.has(n)) throw new GradientError(`node ${nodeName(n)}: a gradient reached the inside of a GELU its last node differentiates`);
    if (n.opType === 'Gather' && sparse.has(n.inputs[0]) && n.domain === '') {
      if ((n.attributes.axis?.type === 'int' ? n.attributes.axis.value : 0) !== 0) {
        throw new GradientError(`sparse parameter ${quotedText(n.inputs[0])} is gathered along an axis other than 0 by ${nodeName(n)}`);
      }
      sparseGrads.push({ parameter: n.inputs[0], rows: dy[0]!, ids: rowIds(ctx, n.inputs[0], n.inputs[1]) });
      continue;
    }
    const inputGrads = ruleFor(n).grad(ctx, n, dy, need);
    n.inputs.forEach((input, i) => {
      const gi = inputGrads[i];
      if (need[i] && gi) add(input, gi);
    });
  }

  // Sum each parameter's contributions now: the Sum nodes must be emitted before ctx.nodes is copied below.
  const paramGrads = new Map<string, string | undefined>();
  for (const p of options.parameters) {
    if (sparse.has(p)) {
      if (contributions.get(p)?.length) throw new GradientError(`sparse parameter ${quotedText(p)} is read by nodes other than Gather`);
      continue;
    }
    paramGrads.set(p, total(p));
  }

  const model = cloneModel(forward);
  const graph = model.graph;
  // the outputs rules read from forward nodes that did not write them (cloneModel keeps the nodes' order)
  if (ctx.addedOutputs.size) {
    const at = new Map(g.nodes.map((n, i) => [n, i]));
    for (const [n, added] of ctx.addedOutputs) {
      const copy = graph.nodes[at.get(n)!]!;
      const outputs = [...copy.outputs];
      for (const [i, name] of added) {
        while (outputs.length < i) outputs.push('');
        outputs[i] = name;
      }
      copy.outputs = outputs;
    }
  }
  const parameterInfo = new Map<string, { dims: number[]; dataType: number }>();
  const paramInputs: ValueInfo[] = [];
  for (const p of options.parameters) {
    const t = graph.initializers.get(p)!;
    graph.initializers.delete(p);
    parameterInfo.set(p, { dims: [...t.dims], dataType: t.dataType });
    paramInputs.push({ name: p, elemType: t.dataType, shape: [...t.dims] });
  }
  // a parameter an older export also lists as a graph input is listed once
  graph.inputs = [...graph.inputs.filter((v) => !params.has(v.name)), ...paramInputs];
  graph.nodes = [...graph.nodes, ...ctx.nodes];

  const outputs: ValueInfo[] = [];
  const expose = (value: string, name: string, elemType?: number) => {
    if (value !== name) graph.nodes.push({ name: `${name}/identity`, opType: 'Identity', domain: '', inputs: [value], outputs: [name], attributes: {} });
    outputs.push({ name, elemType });
  };
  outputs.push({ name: options.loss, elemType: floatType });
  for (const v of options.keep ?? []) if (v !== options.loss) outputs.push({ name: v, elemType: facts.get(v)?.dataType });
  const dense = new Map<string, string>();
  const unused: string[] = [];
  for (const p of options.parameters) {
    if (sparse.has(p)) continue;
    const grad = paramGrads.get(p);
    if (!grad) {
      unused.push(p);
      continue;
    }
    expose(grad, gradOutputName(p), parameterInfo.get(p)!.dataType);
    dense.set(p, gradOutputName(p));
  }
  const sparseOut: SparseGradient[] = [];
  sparseGrads.reverse().forEach((s, i) => {
    const rows = `grad_rows.${s.parameter}.${i}`;
    const ids = `grad_ids.${s.parameter}.${i}`;
    expose(s.rows, rows, floatType);
    expose(s.ids, ids, DataType.INT64);
    sparseOut.push({ parameter: s.parameter, rows, ids });
  });
  for (const p of sparse) if (!sparseGrads.some((s) => s.parameter === p)) unused.push(p);
  graph.outputs = outputs;
  model.opsetImports = model.opsetImports.map((o) => (domainName(o.domain) === '' ? { ...o, version: opset } : o));
  if (model.irVersion < 8) model.irVersion = 8;
  return { model, loss: options.loss, keep: options.keep ?? [], dense, sparse: sparseOut, unused, parameterInfo };
}

/** The ids of a Gather of `table` as int64 row numbers: negative ids (counting from the end) wrapped. */
function rowIds(ctx: GradContext, table: string, ids: string): string {
  return ctx.wrapNegative(ctx.int64(ids), ctx.dimOf(table, 0));
}

/** The names a node's subgraphs (at any depth) read; values they define themselves are read from within too. */
function subgraphReads(n: Node): string[] {
  const names: string[] = [];
  const visit = (graph: Graph) => {
    for (const m of graph.nodes) {
      names.push(...m.inputs.filter(Boolean));
      for (const sub of subgraphsOf(m)) visit(sub);
    }
  };
  for (const sub of subgraphsOf(n)) visit(sub);
  return names;
}

function subgraphsOf(n: Node): Graph[] {
  return Object.values(n.attributes).flatMap((a) => (a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : []));
}

function ruleFor(n: Node) {
  if (n.domain !== '') throw new GradientError(`node ${nodeName(n)}: no gradient rule for ${n.domain} ${n.opType}`);
  const rule = GRADIENT_RULES.get(n.opType);
  if (!rule) {
    const sub = subgraphsOf(n).length ? ' (a node with a subgraph, whose values reach the loss)' : '';
    throw new GradientError(`node ${nodeName(n)}: no gradient rule for op ${n.opType}${sub}`);
  }
  return rule;
}
