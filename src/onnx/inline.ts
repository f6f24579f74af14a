/**
 * Inlining a model's local functions (ModelProto.functions): torch's dynamo exporter (torch.onnx.export(dynamo=True))
 * and onnxscript write a module or an aten op as a function the graph calls, which hides the ops inside it from
 * whatever reads the graph by its nodes (discovery, the passes). inlineLocalFunctions replaces each call by the
 * function's nodes, as onnx.inliner.inline_local_functions does: the values and nodes inside get names of their own
 * (the call's name and a slash before the function's names), a function's inputs and outputs become the call's, an
 * attribute the function takes from the call (ref_attr_name) gets the call's value (or the function's default), and a
 * call inside a function is inlined in turn. A function that imports another opset of ai.onnx than the model is inlined
 * where each of its ops means the same at the model's opset (op-versions.ts), and refused where one does not. Loading keeps the functions and the calls as written (load → save loses
 * nothing); what reads and rewrites a model's structure inlines them first (the passes' input, the commands' models),
 * so a model it writes is a plain graph. The functions the graph called are dropped with the calls; one nothing calls
 * is kept as written.
 */
import { UserError, quotedText } from '../errors.ts';
import { ensureUniqueNodeNames } from './analysis.ts';
import { type Attribute, domainName, type Graph, type Model, type Node } from './graph.ts';
import { ADDED_DEFAULTS, LATEST_OPSET, OP_VERSIONS, opVersionAt, SAME_MEANING } from './op-versions.ts';
import { graphFromProto } from './proto.ts';
import type { IAttributeProto, IFunctionProto } from './schema.ts';

/** A local function, read once: its nodes and default attributes as the IR has them. */
interface LocalFunction {
  proto: IFunctionProto;
  label: string;
  nodes: Node[];
  defaults: Record<string, Attribute>;
  /** Where it imports another opset of ai.onnx than the model: its opset (`from`) and the model's (`to`). */
  shift?: { from: number; to: number };
}

/** The refusal of local function `label`, which imports opset `version` of `domain` where the model imports `own`. */
function otherOpsetRefusal(label: string, domain: string, version: number, own: number, why: string, by: string | undefined): UserError {
  const name = quotedText(domainName(domain) || 'ai.onnx');
  // (`by`: the function whose import of a domain the model does not import the inlined graph takes)
  const where = by ? `the model's local function ${quotedText(by)} imports opset ${own} (the model imports none of ${name})` : `the model imports opset ${own}`;
  return new UserError(
    `the model's local function ${quotedText(label)} imports opset ${version} of ${name} where ${where}: ${why} (onnx.inliner.inline_local_functions with convert_version in Python)`,
  );
}

const functionKey = (domain: string, name: string, overload: string) => `${domainName(domain)}\u0000${name}\u0000${overload}`;

/** The overload a call names (NodeProto.overload, kept in `unmodelled`), or ''. */
function callOverload(n: Node): string {
  const o = n.unmodelled?.overload;
  return typeof o === 'string' ? o : '';
}

/** The model's local functions by (domain, name, overload); empty when it has none. */
function localFunctions(model: Model): Map<string, IFunctionProto> {
  const functions = model.unmodelled?.functions as IFunctionProto[] | undefined;
  const byKey = new Map<string, IFunctionProto>();
  if (!Array.isArray(functions)) return byKey;
  for (const f of functions) byKey.set(functionKey(f.domain ?? '', f.name ?? '', f.overload ?? ''), f);
  return byKey;
}

/** Every node of `g`, its subgraphs' included. */
function* allNodes(g: Graph): Generator<Node> {
  for (const s of allGraphs(g)) yield* s.nodes;
}

/** `g` and its subgraphs, theirs included. */
function* allGraphs(g: Graph): Generator<Graph> {
  yield g;
  for (const n of g.nodes) {
    for (const a of Object.values(n.attributes)) {
      if (a.type === 'graph') yield* allGraphs(a.value);
      else if (a.type === 'graphs') for (const s of a.value) yield* allGraphs(s);
    }
  }
}

/** Whether `model`'s graph (or a subgraph of it) calls one of its local functions. */
export function callsLocalFunctions(model: Model): boolean {
  const functions = localFunctions(model);
  if (!functions.size) return false;
  for (const n of allNodes(model.graph)) if (functions.has(functionKey(n.domain, n.opType, callOverload(n)))) return true;
  return false;
}

/**
 * `model` with every call of its local functions (in its graph and subgraphs, and in the functions called) replaced by
 * the function's nodes; `model` itself when it calls none. The tensors are shared; `model` is not changed. Refused
 * (UserError) where a function imports another version of an opset than the model does and an op of it means another
 * thing in the model's (any op of a domain other than ai.onnx), or calls itself.
 */
export function inlineLocalFunctions(model: Model): Model {
  if (!callsLocalFunctions(model)) return model;
  const protos = localFunctions(model);
  const read = new Map<IFunctionProto, LocalFunction>();
  const called = new Set<IFunctionProto>();
  const opsets = model.opsetImports.map((o) => ({ ...o }));
  /** Per domain the model does not import (its name, '' for ai.onnx), the function whose import of it `opsets` took. */
  const importedBy = new Map<string, string>();
  const taken = new Set<string>();
  // (the names of the graph and of its subgraphs, an If or Loop body's inputs and initializers included: a value
  // inlined into a body must not be named as one of them)
  for (const g of allGraphs(model.graph)) {
    for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) taken.add(v.name);
    for (const k of g.initializers.keys()) taken.add(k);
    for (const n of g.nodes) for (const o of n.outputs) taken.add(o);
  }

  const functionOf = (f: IFunctionProto): LocalFunction => {
    let fn = read.get(f);
    if (fn) return fn;
    const label = `${f.domain ? `${f.domain}.` : ''}${f.name ?? ''}${f.overload ? `:${f.overload}` : ''}`;
    const nodes = graphFromProto({ node: f.node ?? [] }).nodes;
    let shift: LocalFunction['shift'];
    for (const imp of f.opsetImport ?? []) {
      const domain = imp.domain ?? '';
      const version = Number(imp.version ?? 0);
      const own = opsets.find((o) => domainName(o.domain) === domainName(domain));
      if (!own) {
        opsets.push({ domain, version });
        importedBy.set(domainName(domain), label);
      } else if (own.version !== version) {
        // (ai.onnx ops that mean the same at both opsets are inlined as they are, in the model's opset)
        const why = domainName(domain) === '' ? changedOp(nodes, version, own.version) : 'its ops cannot be inlined into the graph as they are';
        if (why) throw otherOpsetRefusal(label, domain, version, own.version, why, importedBy.get(domainName(domain)));
        if (domainName(domain) === '') shift = { from: version, to: own.version };
      }
    }
    const defaults = graphFromProto({
      node: [{ opType: 'Defaults', attribute: (f.attributeProto ?? []) as IAttributeProto[] }],
    }).nodes[0]!.attributes;
    fn = { proto: f, label, nodes, defaults, ...(shift ? { shift } : {}) };
    read.set(f, fn);
    return fn;
  };

  /** A fresh prefix for the values and nodes of call `call`: its name (made unique among the prefixes) and a slash. */
  const prefixes = new Set<string>();
  const prefixOf = (call: Node): string => {
    const base = call.name || call.opType;
    let prefix = `${base}/`;
    for (let i = 1; prefixes.has(prefix); i++) prefix = `${base}_${i}/`;
    prefixes.add(prefix);
    return prefix;
  };

  /** The nodes that stand for `call` of `fn`. */
  const expand = (call: Node, fn: LocalFunction, stack: readonly LocalFunction[]): Node[] => {
    if (stack.includes(fn)) throw new UserError(`the model's local function ${quotedText(fn.label)} calls itself, which ONNX does not allow`);
    const prefix = prefixOf(call);
    const names = new Map<string, string>();
    const inputs = fn.proto.input ?? [];
    const outputs = fn.proto.output ?? [];
    for (const [i, name] of inputs.entries()) names.set(name, call.inputs[i] ?? '');
    const rename = (name: string): string => {
      if (!name) return name;
      let to = names.get(name);
      if (to === undefined) {
        to = `${prefix}${name}`;
        for (let i = 1; taken.has(to); i++) to = `${prefix}${name}_${i}`;
        names.set(name, to);
        taken.add(to);
      }
      return to;
    };
    const produced = new Set<string>();
    for (const n of fn.nodes) for (const o of n.outputs) if (o) produced.add(o);
    for (const [i, name] of outputs.entries()) {
      const to = call.outputs[i];
      if (to && produced.has(name) && !names.has(name)) names.set(name, to);
    }
    /** A node's attributes with those it takes from the call (ref_attr_name) given, in its subgraphs' nodes too. */
    const resolve = (of: Node['attributes']): Record<string, Attribute> => {
      const attributes: Record<string, Attribute> = {};
      for (const [key, a] of Object.entries(of)) {
        const ref = a.unmodelled?.refAttrName;
        if (typeof ref !== 'string' || !ref) {
          attributes[key] = renameSubgraphs(a, rename, resolve);
          continue;
        }
        const given = call.attributes[ref] ?? fn.defaults[ref];
        if (!given) continue; // (neither the call nor the function gives it: the op's default)
        const { unmodelled: _, ...value } = given;
        attributes[key] = value as Attribute;
      }
      return attributes;
    };
    if (fn.shift) {
      // (a Cast's type as the call gives it: one past FIRST_CAST_TYPES is cast by rules later versions changed)
      const { from, to } = fn.shift;
      const why = castPastFirstTypes(fn.nodes, from, to, (ref) => call.attributes[ref] ?? fn.defaults[ref]);
      if (why) throw otherOpsetRefusal(fn.label, '', from, to, why, importedBy.get(''));
    }
    const body: Node[] = fn.nodes.map((n, i) => {
      const node: Node = {
        ...n,
        name: `${prefix}${n.name || `${n.opType}_${i}`}`,
        inputs: n.inputs.map(rename),
        outputs: n.outputs.map(rename),
        attributes: resolve(n.attributes),
      };
      return node;
    });
    // (into an earlier opset: what a later version added, written at its default, the model's version does not take)
    if (fn.shift && fn.shift.to < fn.shift.from) dropAddedDefaults(body, fn.shift.from, fn.shift.to);
    // (an output the function passes on from an input, or leaves unwritten: the call's output by an Identity)
    for (const [i, name] of outputs.entries()) {
      const to = call.outputs[i];
      if (!to || produced.has(name)) continue;
      body.push({ name: `${prefix}${name}_output`, opType: 'Identity', domain: '', inputs: [names.get(name) ?? ''], outputs: [to], attributes: {} });
    }
    return inlineNodes(body, [...stack, fn]);
  };

  /** `nodes` with the calls among them (and in their subgraphs) expanded. */
  const inlineNodes = (nodes: readonly Node[], stack: readonly LocalFunction[]): Node[] => {
    const out: Node[] = [];
    for (const n of nodes) {
      const f = protos.get(functionKey(n.domain, n.opType, callOverload(n)));
      if (f) {
        called.add(f);
        out.push(...expand(n, functionOf(f), stack));
        continue;
      }
      const attributes = Object.fromEntries(Object.entries(n.attributes).map(([k, a]) => [k, inlineSubgraphs(a, stack)]));
      out.push({ ...n, attributes });
    }
    return out;
  };

  const inlineGraph = (g: Graph, stack: readonly LocalFunction[]): Graph => {
    const graph = { ...g, nodes: inlineNodes(g.nodes, stack) };
    ensureUniqueNodeNames(graph);
    return graph;
  };
  const inlineSubgraphs = (a: Attribute, stack: readonly LocalFunction[]): Attribute => {
    if (a.type === 'graph') return { ...a, value: inlineGraph(a.value, stack) };
    if (a.type === 'graphs') return { ...a, value: a.value.map((g) => inlineGraph(g, stack)) };
    return a;
  };

  const graph = inlineGraph(model.graph, []);
  const kept = [...protos.values()].filter((f) => !called.has(f));
  const unmodelled: Record<string, unknown> = { ...model.unmodelled };
  if (kept.length) unmodelled.functions = kept;
  else delete unmodelled.functions;
  // (the domains only the inlined functions had: no node and no function kept names them now)
  const used = new Set([...allNodes(graph)].map((n) => n.domain));
  for (const f of kept) {
    used.add(domainName(f.domain ?? ''));
    for (const n of f.node ?? []) used.add(domainName(n.domain ?? ''));
  }
  const inlinedDomains = new Set([...called].map((f) => domainName(f.domain ?? '')));
  const opsetImports = opsets.filter((o) => used.has(domainName(o.domain)) || !inlinedDomains.has(domainName(o.domain)));
  const inlined: Model = { ...model, opsetImports, metadataProps: { ...model.metadataProps }, graph };
  if (Object.keys(unmodelled).length) inlined.unmodelled = unmodelled;
  else delete inlined.unmodelled;
  return inlined;
}

/** Data types Cast had before opset 19 (float8, int4 and later types are cast by rules later versions changed). */
const FIRST_CAST_TYPES = 16;

/**
 * Why an ai.onnx node of `nodes` (their subgraphs' included), written for opset `from`, means another thing at opset
 * `to`, or undefined where each means the same there: the op's version is the same at both opsets, or each of its
 * versions between them added types only, or an attribute or input the node does not use or writes at its default
 * (from a later opset to an earlier one: ADDED_DEFAULTS; dropAddedDefaults drops it) or whose absence keeps the earlier
 * meaning (SAME_MEANING). An opset past LATEST_OPSET, whose changes are
 * not known here, is refused, as is a CastLike that may cast to a float8 type across version 24; a Cast's type may be
 * the call's (castPastFirstTypes, at each call).
 */
function changedOp(nodes: readonly Node[], from: number, to: number): string | undefined {
  const past = Math.max(from, to);
  if (past > LATEST_OPSET)
    return `opset ${past} is past opset ${LATEST_OPSET}, the latest whose op versions bert-compress knows (ONNX v1.22.0): which of its ops it changed is not known here`;
  for (const n of nodesOf(nodes)) {
    if (n.domain !== '') continue;
    const [a, b] = [opVersionAt(n.opType, from), opVersionAt(n.opType, to)];
    const op = n.name ? `${n.opType} ${quotedText(n.name)}` : n.opType;
    if (a === undefined) return `its ${op} is no ai.onnx op at opset ${from}`;
    if (b === undefined) return `its ${op} is no ai.onnx op at opset ${to}`;
    if (a === b) continue;
    const changes = OP_VERSIONS[n.opType]!.filter((v) => v > Math.min(a, b) && v <= Math.max(a, b));
    const changed = changes.find((v) => !SAME_MEANING[`${n.opType}-${v}`]);
    const because = `version ${a} at opset ${from}, ${b} at opset ${to}`;
    if (changed !== undefined) return `its ${op} means another thing at opset ${to} (${because}: version ${changed} changed it)`;
    // (CastLike's type is its input 1's, unknown here: float8 types, from opset 19 on, CastLike-24 casts infinities to
    // by other rules (E4M3FNUZ, E5M2FNUZ: NaN before, the largest value after))
    if (n.opType === 'CastLike' && Math.min(a, b) >= 19 && Math.max(a, b) >= 24)
      return `its ${op} casts to its input 1's type, which may be a float8 type that version 24 casts infinities to by other rules (${because})`;
    if (to > from) continue;
    // (to an earlier opset: what a later version added, the node must not use)
    for (const v of changes) {
      for (const added of SAME_MEANING[`${n.opType}-${v}`]!) {
        const input = added.startsWith('#') ? Number(added.slice(1)) : undefined;
        const used = input === undefined ? n.attributes[added] !== undefined && !atAddedDefault(added, n.attributes[added]) : Boolean(n.inputs[input]);
        if (used) return `its ${op} takes ${input === undefined ? `attribute ${added}` : `input ${input}`}, which version ${v} added (${because})`;
      }
    }
  }
  return undefined;
}

/** Whether attribute `name`, which a later version of its op added, is written at its default (ADDED_DEFAULTS). */
function atAddedDefault(name: string, a: Attribute): boolean {
  const d = ADDED_DEFAULTS[name];
  if (d === undefined || a.unmodelled?.refAttrName) return false;
  if (d === 'ones') return a.type === 'ints' && a.value.every((v) => v === 1);
  if (typeof d === 'string') return a.type === 'string' && new TextDecoder().decode(a.value) === d;
  return a.type === 'int' && a.value === d;
}

/**
 * Drops from `nodes` (their subgraphs' included), a function's body written for opset `from` and inlined into a model
 * at the earlier opset `to`, the attributes a version between them added that a node writes at its default (which
 * changedOp let pass): the model's version of the op does not take them.
 */
function dropAddedDefaults(nodes: readonly Node[], from: number, to: number): void {
  for (const n of nodesOf(nodes)) {
    if (n.domain !== '') continue;
    const [a, b] = [opVersionAt(n.opType, from), opVersionAt(n.opType, to)];
    if (a === undefined || b === undefined || a === b) continue;
    for (const v of OP_VERSIONS[n.opType]!.filter((v) => v > b && v <= a)) {
      for (const added of SAME_MEANING[`${n.opType}-${v}`] ?? []) {
        const at = n.attributes[added];
        if (at && atAddedDefault(added, at)) delete n.attributes[added];
      }
    }
  }
}

/** `nodes` and the nodes of their subgraphs, theirs included. */
function* nodesOf(nodes: readonly Node[]): Generator<Node> {
  yield* allNodes({ name: '', nodes: [...nodes], inputs: [], outputs: [], initializers: new Map(), valueInfo: [] });
}

/**
 * Why a Cast of `nodes` (their subgraphs' included), written for opset `from` and read at opset `to`, casts by rules
 * the versions between them changed, or undefined: a type past FIRST_CAST_TYPES, as written or as `given` gives the
 * attribute it takes from the call (ref_attr_name).
 */
function castPastFirstTypes(nodes: readonly Node[], from: number, to: number, given: (ref: string) => Attribute | undefined): string | undefined {
  for (const n of nodesOf(nodes)) {
    if (n.domain !== '' || n.opType !== 'Cast' || !n.attributes.to) continue;
    const ref = n.attributes.to.unmodelled?.refAttrName;
    const type = typeof ref === 'string' && ref ? given(ref) : n.attributes.to;
    const [a, b] = [opVersionAt(n.opType, from), opVersionAt(n.opType, to)];
    if (a === b || type?.type !== 'int' || type.value <= FIRST_CAST_TYPES) continue;
    const op = n.name ? `${n.opType} ${quotedText(n.name)}` : n.opType;
    return `its ${op} casts to data type ${type.value}, which later versions cast by other rules (version ${a} at opset ${from}, ${b} at opset ${to})`;
  }
  return undefined;
}

/**
 * `a` with the names its subgraphs read and write renamed by `rename` (a function's body: every name is its own), and
 * their nodes' attributes given by `resolve` (those the function takes from the call).
 */
function renameSubgraphs(a: Attribute, rename: (name: string) => string, resolve: (attributes: Node['attributes']) => Record<string, Attribute>): Attribute {
  const graph = (g: Graph): Graph => ({
    ...g,
    nodes: g.nodes.map((n) => ({
      ...n,
      inputs: n.inputs.map(rename),
      outputs: n.outputs.map(rename),
      attributes: resolve(n.attributes),
    })),
    inputs: g.inputs.map((v) => ({ ...v, name: rename(v.name) })),
    outputs: g.outputs.map((v) => ({ ...v, name: rename(v.name) })),
    valueInfo: g.valueInfo.map((v) => ({ ...v, name: rename(v.name) })),
    initializers: new Map([...g.initializers].map(([k, t]) => [rename(k), { ...t, name: rename(k) }])),
  });
  if (a.type === 'graph') return { ...a, value: graph(a.value) };
  if (a.type === 'graphs') return { ...a, value: a.value.map(graph) };
  return a;
}
