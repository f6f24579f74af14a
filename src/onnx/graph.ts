/**
 * The graph IR: plain typed data that mirrors ONNX's ModelProto without protobuf types. Loading (load.ts) and
 * saving (save.ts) are the only places that see protobuf. Tensor payloads are raw little-endian bytes, shared
 * (never mutated) between a graph and the graphs derived from it; a pass that changes a weight makes a new Tensor.
 * Every object also keeps, in `unmodelled`, the fields of its proto message that the IR has no property for, written
 * back on save (fidelity.ts): load → save loses nothing the schema knows.
 */

/**
 * The fields of an object's proto message that the IR does not model (node metadata_props, a model's functions…),
 * by protobufjs field name, as decoded: kept verbatim and written back on save (see fidelity.ts).
 */
export type ProtoFields = Readonly<Record<string, unknown>>;

/** An ONNX tensor: raw little-endian element bytes (or strings for STRING tensors). */
export interface Tensor {
  name: string;
  /** ONNX TensorProto.DataType code (see dtype.ts). */
  dataType: number;
  dims: number[];
  /** Element bytes, little-endian, dense, row-major. Empty for STRING tensors. */
  data: Uint8Array;
  /** Elements of a STRING tensor. */
  strings?: Uint8Array[];
  docString?: string;
  /** TensorProto fields the IR does not model (metadata_props). */
  unmodelled?: ProtoFields;
}

/** One dimension of a value's shape: a fixed size, a symbolic name, or unknown. */
export type Dim = number | string | null;

/** A graph input, output or intermediate value with its (optional) tensor type. */
export interface ValueInfo {
  name: string;
  /** Element type code for a tensor value; undefined when the type is not a tensor or not recorded. */
  elemType?: number;
  /** Shape; undefined = unknown rank. */
  shape?: Dim[];
  docString?: string;
  /** ValueInfoProto fields the IR does not model: metadata_props, denotations, a non-tensor type (sequence, map…). */
  unmodelled?: ProtoFields;
}

export type Attribute = AttributeValue & {
  /** AttributeProto fields the IR does not model (doc_string, ref_attr_name). */
  unmodelled?: ProtoFields;
};

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: Uint8Array }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: Uint8Array[] }
  | { type: 'tensors'; value: Tensor[] }
  | { type: 'graphs'; value: Graph[] }
  /** Attribute kinds the IR does not model (sparse tensors, type protos, ref attributes): kept verbatim. */
  | { type: 'raw'; value: unknown };

export interface Node {
  name: string;
  opType: string;
  /** '' for the default domain (a file's 'ai.onnx', its other name, is read as ''), e.g. 'com.microsoft' for contrib ops. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
  docString?: string;
  /** NodeProto fields the IR does not model: overload, metadata_props, device_configurations. */
  unmodelled?: ProtoFields;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Initializers by name, in file order. */
  initializers: Map<string, Tensor>;
  valueInfo: ValueInfo[];
  docString?: string;
  /** GraphProto fields the IR does not model: sparse_initializer, quantization_annotation, metadata_props. */
  unmodelled?: ProtoFields;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface Model {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  metadataProps: Record<string, string>;
  graph: Graph;
  /** ModelProto fields the IR does not model: functions, training_info, configuration. */
  unmodelled?: ProtoFields;
}

/**
 * A domain by its one name: '' for the default domain, which a file or a library caller may also call 'ai.onnx' (a
 * node's is read as '' at load; an opset import's is kept as written).
 */
export function domainName(domain: string): string {
  return domain === 'ai.onnx' ? '' : domain;
}

/** The opset version imported for a domain ('' and 'ai.onnx' are the same), or undefined. */
export function opsetVersion(model: Model, domain = ''): number | undefined {
  return model.opsetImports.find((o) => domainName(o.domain) === domainName(domain))?.version;
}

/** A shallow copy of a graph whose node list, node objects, initializer map and value lists can be changed freely. */
export function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: { ...n.attributes } })),
    inputs: g.inputs.map((v) => ({ ...v, shape: v.shape && [...v.shape] })),
    outputs: g.outputs.map((v) => ({ ...v, shape: v.shape && [...v.shape] })),
    initializers: new Map(g.initializers),
    valueInfo: g.valueInfo.map((v) => ({ ...v })),
  };
}

/** The names of every value of a graph: its inputs, initializers and node outputs (subgraphs not included). */
export function graphValueNames(g: Graph): Set<string> {
  return new Set([...g.inputs.map((v) => v.name), ...g.initializers.keys(), ...g.nodes.flatMap((n) => n.outputs)]);
}

/** A copy of a model with a cloned graph (see cloneGraph). Tensor bytes are shared. */
export function cloneModel(m: Model): Model {
  return { ...m, opsetImports: m.opsetImports.map((o) => ({ ...o })), metadataProps: { ...m.metadataProps }, graph: cloneGraph(m.graph) };
}

/** Reads an int attribute, or `fallback` when absent. */
export function attrInt(node: Node, name: string, fallback?: number): number | undefined {
  const a = node.attributes[name];
  return a && a.type === 'int' ? a.value : fallback;
}

export function attrFloat(node: Node, name: string, fallback?: number): number | undefined {
  const a = node.attributes[name];
  return a && a.type === 'float' ? a.value : fallback;
}

export function attrInts(node: Node, name: string): number[] | undefined {
  const a = node.attributes[name];
  return a && a.type === 'ints' ? a.value : undefined;
}

export function attrString(node: Node, name: string): string | undefined {
  const a = node.attributes[name];
  return a && a.type === 'string' ? new TextDecoder().decode(a.value) : undefined;
}

export function attrTensor(node: Node, name: string): Tensor | undefined {
  const a = node.attributes[name];
  return a && a.type === 'tensor' ? a.value : undefined;
}

/** A model around `graph` with the given opset imports and empty metadata (IR version 8 unless given). */
export function createModel(graph: Graph, opsetImports: OpsetImport[], opts: { irVersion?: number; producerName?: string } = {}): Model {
  return {
    irVersion: opts.irVersion ?? 8,
    opsetImports,
    producerName: opts.producerName ?? 'bert-compress',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadataProps: {},
    graph,
  };
}
