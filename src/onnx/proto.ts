/**
 * Conversion between the decoded protos (schema.ts: protobufjs types of the vendored ONNX 1.22 schema) and the IR
 * in graph.ts. Each message's fields the IR models are listed below (MODELLED); the rest stay in the IR object's
 * `unmodelled` bag and are merged back on save (fidelity.ts). Nothing outside src/onnx needs this file but `onnx`.
 */
import Long from 'long';
import { DataType, bytesPerElement, isKnownDataType, dataTypeName } from './dtype.ts';
import { domainName, type Attribute, type Dim, type Graph, type Model, type Node, type ProtoFields, type Tensor, type ValueInfo } from './graph.ts';
import { numElements } from './tensor.ts';
import { type ModelledSpec, unmodelledFields, withUnmodelled } from './fidelity.ts';
import {
  onnx,
  messageType,
  type IAttributeProto,
  type IGraphProto,
  type IModelProto,
  type INodeProto,
  type ITensorProto,
  type IValueInfoProto,
} from './schema.ts';
import { quotedText } from '../errors.ts';

export { onnx };
export type { ITensorProto, IModelProto };

const fields = (...names: string[]): ModelledSpec => Object.fromEntries(names.map((n) => [n, true]));

/** The fields of each message that the IR models; anything else a file sets is kept in `unmodelled`. */
export const MODELLED = {
  ModelProto: fields('irVersion', 'opsetImport', 'producerName', 'producerVersion', 'domain', 'modelVersion', 'docString', 'graph', 'metadataProps'),
  GraphProto: fields('node', 'name', 'initializer', 'docString', 'input', 'output', 'valueInfo'),
  NodeProto: fields('input', 'output', 'name', 'opType', 'domain', 'attribute', 'docString'),
  AttributeProto: fields('name', 'type', 'f', 'i', 's', 't', 'g', 'floats', 'ints', 'strings', 'tensors', 'graphs'),
  // segment is refused on load
  TensorProto: fields(
    'dims',
    'dataType',
    'segment',
    'floatData',
    'int32Data',
    'stringData',
    'int64Data',
    'name',
    'docString',
    'rawData',
    'externalData',
    'dataLocation',
    'doubleData',
    'uint64Data',
  ),
  /** A tensor-typed value: element type and dimensions (a value or a name each) modelled, denotations kept. */
  ValueInfoProto: {
    ...fields('name', 'docString'),
    type: { tensorType: { elemType: true, shape: { dim: fields('dimValue', 'dimParam') } } },
  } as ModelledSpec,
  /** A value whose type the IR does not hold (no tensor type, or an empty one): the whole type is kept. */
  UntypedValueInfoProto: fields('name', 'docString'),
} as const;

const TYPES = {
  ModelProto: messageType('ModelProto'),
  GraphProto: messageType('GraphProto'),
  NodeProto: messageType('NodeProto'),
  AttributeProto: messageType('AttributeProto'),
  TensorProto: messageType('TensorProto'),
  ValueInfoProto: messageType('ValueInfoProto'),
};

/** `target` with the fields of `p` that `spec` leaves out, when there are any. */
function keepUnmodelled<T extends { unmodelled?: ProtoFields }>(target: T, type: keyof typeof TYPES, p: object, spec: ModelledSpec = MODELLED[type]): T {
  const rest = unmodelledFields(TYPES[type], p, spec);
  if (rest) target.unmodelled = rest;
  return target;
}

/** Where external tensor data lives, as recorded in the proto. */
export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

/** Reads bytes of an external-data reference (supplied by the loader, which knows the model's folder). */
export type ExternalReader = (ref: ExternalRef, tensorName: string) => Uint8Array;

function toNum(v: number | Long | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : Long.fromValue(v).toNumber();
}

const EXTERNAL = 1;

/** int32_data as raw bytes: one element per int32, or (4- and 2-bit types) one packed byte per int32. */
function packInt32Field(values: number[], dataType: number): Uint8Array {
  const n = values.length;
  switch (bytesPerElement(dataType)) {
    case 0.25:
    case 0.5:
    case 1: {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i] & 0xff;
      return out;
    }
    case 2: {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i] & 0xffff;
      return new Uint8Array(out.buffer);
    }
    case 4:
      return new Uint8Array(Int32Array.from(values).buffer);
    default:
      throw new Error(`int32_data cannot hold ${dataTypeName(dataType)}`);
  }
}

/** TensorProto to IR tensor: every typed field becomes raw little-endian bytes. */
export function tensorFromProto(p: ITensorProto, readExternal?: ExternalReader): Tensor {
  const name = p.name ?? '';
  const dataType = p.dataType ?? 0;
  const dims = (p.dims ?? []).map(toNum);
  const t = keepUnmodelled<Tensor>({ name, dataType, dims, data: new Uint8Array(0) }, 'TensorProto', p);
  if (p.docString) t.docString = p.docString;
  if (!isKnownDataType(dataType) || dataType === DataType.UNDEFINED) {
    throw new Error(`tensor ${quotedText(name)} has unknown data type ${dataType}`);
  }
  if (p.segment) throw new Error(`tensor ${quotedText(name)} is segmented (TensorProto.segment), which is not supported`);
  if (dataType === DataType.STRING) {
    t.strings = (p.stringData ?? []).map((s) => new Uint8Array(s));
    return t;
  }
  if (p.dataLocation === EXTERNAL) {
    const kv: Record<string, string> = {};
    for (const e of p.externalData ?? []) kv[e.key ?? ''] = e.value ?? '';
    if (!kv.location) throw new Error(`tensor ${quotedText(name)} is external but names no location`);
    if (!readExternal) throw new Error(`tensor ${quotedText(name)} has external data, which needs the model's file path`);
    const want = Math.ceil(numElements(dims) * bytesPerElement(dataType));
    const length = kv.length !== undefined ? Number(kv.length) : want;
    t.data = readExternal({ location: kv.location, offset: Number(kv.offset ?? 0), length }, name);
  } else if (p.rawData && p.rawData.length > 0) {
    t.data = p.rawData;
  } else {
    switch (dataType) {
      case DataType.FLOAT:
      case DataType.COMPLEX64:
        t.data = new Uint8Array(Float32Array.from(p.floatData ?? []).buffer);
        break;
      case DataType.DOUBLE:
      case DataType.COMPLEX128:
        t.data = new Uint8Array(Float64Array.from(p.doubleData ?? []).buffer);
        break;
      case DataType.INT64:
        t.data = new Uint8Array(BigInt64Array.from(p.int64Data ?? [], (v) => BigInt(Long.fromValue(v as Long | number).toString())).buffer);
        break;
      case DataType.UINT32:
        t.data = new Uint8Array(Uint32Array.from(p.uint64Data ?? [], (v) => toNum(v)).buffer);
        break;
      case DataType.UINT64:
        t.data = new Uint8Array(
          BigUint64Array.from(p.uint64Data ?? [], (v) =>
            BigInt(
              Long.fromValue(v as Long | number)
                .toUnsigned()
                .toString(),
            ),
          ).buffer,
        );
        break;
      default:
        t.data = packInt32Field(p.int32Data ?? [], dataType);
    }
  }
  const want = Math.ceil(numElements(dims) * bytesPerElement(dataType));
  if (t.data.byteLength !== want) {
    throw new Error(`tensor ${quotedText(name)} holds ${t.data.byteLength} bytes but dims [${dims.join(', ')}] of ${dataTypeName(dataType)} need ${want}`);
  }
  return t;
}

export function tensorToProto(t: Tensor, external?: ExternalRef): ITensorProto {
  const p: ITensorProto = withUnmodelled({ name: t.name, dataType: t.dataType, dims: t.dims.map((d) => Long.fromNumber(d)) }, t.unmodelled);
  if (t.docString) p.docString = t.docString;
  if (t.dataType === DataType.STRING) {
    p.stringData = t.strings ?? [];
  } else if (external) {
    p.dataLocation = EXTERNAL;
    p.externalData = [
      { key: 'location', value: external.location },
      { key: 'offset', value: String(external.offset) },
      { key: 'length', value: String(external.length) },
    ];
  } else {
    p.rawData = t.data;
  }
  return p;
}

export function valueInfoFromProto(p: IValueInfoProto): ValueInfo {
  const v: ValueInfo = { name: p.name ?? '' };
  if (p.docString) v.docString = p.docString;
  const tt = p.type?.tensorType;
  if (tt?.elemType) v.elemType = tt.elemType;
  if (tt?.shape) {
    v.shape = (tt.shape.dim ?? []).map((d): Dim => {
      if (d.value === 'dimParam' || d.dimParam) return d.dimParam ?? null;
      if (d.value === 'dimValue') return toNum(d.dimValue);
      return null;
    });
  }
  const typed = v.elemType !== undefined || v.shape !== undefined;
  return keepUnmodelled(v, 'ValueInfoProto', p, typed ? MODELLED.ValueInfoProto : MODELLED.UntypedValueInfoProto);
}

function valueInfoToProto(v: ValueInfo): IValueInfoProto {
  const p: IValueInfoProto = { name: v.name };
  if (v.docString) p.docString = v.docString;
  if (v.elemType !== undefined || v.shape) {
    p.type = {
      tensorType: {
        elemType: v.elemType ?? 0,
        shape: v.shape
          ? { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: Long.fromNumber(d) } : typeof d === 'string' ? { dimParam: d } : {})) }
          : undefined,
      },
    };
  }
  return withUnmodelled(p, v.unmodelled);
}

function attributeFromProto(a: IAttributeProto, readExternal?: ExternalReader): Attribute {
  const value = attributeValueFromProto(a, readExternal);
  return value.type === 'raw' ? value : keepUnmodelled(value, 'AttributeProto', a);
}

function attributeValueFromProto(a: IAttributeProto, readExternal?: ExternalReader): Attribute {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.FLOAT:
      return { type: 'float', value: a.f ?? 0 };
    case T.INT:
      return { type: 'int', value: toNum(a.i) };
    case T.STRING:
      return { type: 'string', value: a.s ?? new Uint8Array(0) };
    case T.TENSOR:
      return { type: 'tensor', value: tensorFromProto(a.t ?? {}, readExternal) };
    case T.GRAPH:
      return { type: 'graph', value: graphFromProto(a.g ?? {}, readExternal) };
    case T.FLOATS:
      return { type: 'floats', value: [...(a.floats ?? [])] };
    case T.INTS:
      return { type: 'ints', value: (a.ints ?? []).map(toNum) };
    case T.STRINGS:
      return { type: 'strings', value: a.strings ?? [] };
    case T.TENSORS:
      return { type: 'tensors', value: (a.tensors ?? []).map((t) => tensorFromProto(t, readExternal)) };
    case T.GRAPHS:
      return { type: 'graphs', value: (a.graphs ?? []).map((g) => graphFromProto(g, readExternal)) };
    default:
      return { type: 'raw', value: a };
  }
}

function attributeToProto(name: string, a: Attribute): IAttributeProto {
  return withUnmodelled(attributeValueToProto(name, a), a.unmodelled);
}

function attributeValueToProto(name: string, a: Attribute): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'int':
      return { name, type: T.INT, i: Long.fromNumber(a.value) };
    case 'string':
      return { name, type: T.STRING, s: a.value };
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorToProto(a.value) };
    case 'graph':
      return { name, type: T.GRAPH, g: graphToProto(a.value) };
    case 'floats':
      return { name, type: T.FLOATS, floats: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: a.value.map((v) => Long.fromNumber(v)) };
    case 'strings':
      return { name, type: T.STRINGS, strings: a.value };
    case 'tensors':
      return { name, type: T.TENSORS, tensors: a.value.map((t) => tensorToProto(t)) };
    case 'graphs':
      return { name, type: T.GRAPHS, graphs: a.value.map((g) => graphToProto(g)) };
    case 'raw':
      return { ...(a.value as IAttributeProto), name };
  }
}

function nodeFromProto(p: INodeProto, readExternal?: ExternalReader): Node {
  // (fromEntries, not assignment: an attribute or key named '__proto__' is kept as one, not taken as the prototype)
  const attributes: Record<string, Attribute> = Object.fromEntries((p.attribute ?? []).map((a) => [a.name ?? '', attributeFromProto(a, readExternal)]));
  const n: Node = {
    name: p.name ?? '',
    opType: p.opType ?? '',
    // ('ai.onnx', the default domain's other name, which onnxruntime reads as '': one name for the code that reads
    // ops, as the opset imports are read, opsetVersion)
    domain: domainName(p.domain ?? ''),
    inputs: [...(p.input ?? [])],
    outputs: [...(p.output ?? [])],
    attributes,
  };
  if (p.docString) n.docString = p.docString;
  return keepUnmodelled(n, 'NodeProto', p);
}

function nodeToProto(n: Node): INodeProto {
  const p: INodeProto = {
    name: n.name,
    opType: n.opType,
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attributes).map(([k, a]) => attributeToProto(k, a)),
  };
  if (n.domain) p.domain = n.domain;
  if (n.docString) p.docString = n.docString;
  return withUnmodelled(p, n.unmodelled);
}

export function graphFromProto(p: IGraphProto, readExternal?: ExternalReader): Graph {
  const initializers = new Map<string, Tensor>();
  for (const t of p.initializer ?? []) {
    const tensor = tensorFromProto(t, readExternal);
    initializers.set(tensor.name, tensor);
  }
  const g: Graph = {
    name: p.name ?? '',
    nodes: (p.node ?? []).map((n) => nodeFromProto(n, readExternal)),
    inputs: (p.input ?? []).map(valueInfoFromProto),
    outputs: (p.output ?? []).map(valueInfoFromProto),
    initializers,
    valueInfo: (p.valueInfo ?? []).map(valueInfoFromProto),
  };
  if (p.docString) g.docString = p.docString;
  return keepUnmodelled(g, 'GraphProto', p);
}

/** Graph to proto; `externalFor` returns the external placement of an initializer, if it is stored outside. */
export function graphToProto(g: Graph, externalFor?: (t: Tensor) => ExternalRef | undefined): IGraphProto {
  const p: IGraphProto = {
    name: g.name,
    node: g.nodes.map(nodeToProto),
    initializer: [...g.initializers.values()].map((t) => tensorToProto(t, externalFor?.(t))),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    valueInfo: g.valueInfo.map(valueInfoToProto),
  };
  if (g.docString) p.docString = g.docString;
  return withUnmodelled(p, g.unmodelled);
}

export function modelFromProto(p: IModelProto, readExternal?: ExternalReader): Model {
  const metadataProps: Record<string, string> = Object.fromEntries((p.metadataProps ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const m: Model = {
    irVersion: toNum(p.irVersion),
    opsetImports: (p.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: toNum(o.version) })),
    producerName: p.producerName ?? '',
    producerVersion: p.producerVersion ?? '',
    domain: p.domain ?? '',
    modelVersion: toNum(p.modelVersion),
    docString: p.docString ?? '',
    metadataProps,
    graph: graphFromProto(p.graph ?? {}, readExternal),
  };
  return keepUnmodelled(m, 'ModelProto', p);
}

export function modelToProto(m: Model, externalFor?: (t: Tensor) => ExternalRef | undefined): IModelProto {
  const p: IModelProto = {
    irVersion: Long.fromNumber(m.irVersion),
    opsetImport: m.opsetImports.map((o) => ({ domain: o.domain, version: Long.fromNumber(o.version) })),
    producerName: m.producerName,
    producerVersion: m.producerVersion,
    domain: m.domain,
    modelVersion: Long.fromNumber(m.modelVersion),
    docString: m.docString,
    graph: graphToProto(m.graph, externalFor),
    metadataProps: Object.entries(m.metadataProps).map(([key, value]) => ({ key, value })),
  };
  return withUnmodelled(p, m.unmodelled);
}
