/**
 * Load → save loses nothing. The IR (graph.ts) models the fields the project works with; every other field of the
 * vendored ONNX 1.22 schema (IR 13) that a file sets is kept, as protobufjs decoded it, in the `unmodelled` bag of
 * the IR object its message became (model, graph, node, attribute, tensor, value info) and written back on save:
 * node metadata_props, overload and device_configurations, model-local functions, training_info, the model's
 * device configurations, sparse initializers, quantization annotations, type and dimension denotations, non-tensor
 * value types, tensor metadata_props. A bag travels with its object: a pass that keeps a node (or copies it with a
 * spread) keeps its fields; a node a pass makes new has none.
 *
 * Two things cannot be kept, and are refused in one line instead:
 * - fields the vendored schema does not know (a newer ONNX's): `unknownFieldProblem` finds them before decoding
 *   drops them (fields the schema marks reserved are obsolete ones, ignored as onnx itself ignores them);
 * - fields whose meaning a graph rewrite breaks: `rewriteBlocker` names them (training_info binds initializers the
 *   passes change; sparse initializers and quantization annotations name tensors the passes rewrite; a node's
 *   sharding spec fixes dimensions the passes change).
 * External data's `checksum` key is not kept: save lays the data out afresh.
 */
import type { Graph, Model, ProtoFields } from './graph.ts';
import { type MessageField, type MessageType, Reader, SCHEMA_IR_VERSION, SCHEMA_ONNX_RELEASE, messageType } from './schema.ts';
import { quotedText } from '../errors.ts';

/**
 * Which fields of a message the IR models: `true` for a whole field, or, for a message-typed field whose own fields
 * the IR models only in part, the spec of that message (a repeated one is matched element by element).
 */
export type ModelledSpec = { readonly [field: string]: true | ModelledSpec };

const has = (o: object, k: string) => Object.hasOwn(o, k);

/** Whether a decoded message sets `field` (repeated: non-empty; else present on the wire). */
function isSet(message: Record<string, unknown>, field: MessageField): boolean {
  const v = message[field.name];
  return field.repeated ? Array.isArray(v) && v.length > 0 : has(message, field.name) && v !== null && v !== undefined;
}

/**
 * The fields of decoded `message` (of reflection `type`) that `spec` does not cover, or undefined when there are
 * none. Nested specs give nested bags (an array, with null where an element has nothing left, for repeated fields).
 */
export function unmodelledFields(type: MessageType, message: object, spec: ModelledSpec): ProtoFields | undefined {
  const m = message as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const field of fieldsToKeep(type, spec)) {
    if (!isSet(m, field)) continue;
    const s = spec[field.name] as ModelledSpec | undefined;
    let rest: unknown = m[field.name];
    if (s) {
      const sub = field.resolvedType as MessageType;
      if (field.repeated) {
        const items = (rest as object[]).map((e) => unmodelledFields(sub, e, s) ?? null);
        rest = items.some((e) => e !== null) ? items : undefined;
      } else {
        rest = unmodelledFields(sub, rest as object, s);
      }
    }
    if (rest !== undefined) (out ??= {})[field.name] = rest;
  }
  return out;
}

const plans = new WeakMap<ModelledSpec, { type: MessageType; fields: MessageField[] }>();

/** The fields of `type` that `spec` does not cover whole (computed once per spec: this runs for every node). */
function fieldsToKeep(type: MessageType, spec: ModelledSpec): MessageField[] {
  let plan = plans.get(spec);
  if (plan?.type !== type) {
    plan = { type, fields: type.fieldsArray.filter((f) => spec[f.name] !== true) };
    plans.set(spec, plan);
  }
  return plan.fields;
}

/**
 * `proto` (a plain object being encoded) with `fields` merged back in. The IR never writes a field it does not
 * model, so a field `proto` lacks is set from the bag; a nested bag (a field the IR models in part) merges into the
 * sub-object `proto` has, element by element for a repeated one, as far as both reach.
 */
export function withUnmodelled<T extends object>(proto: T, fields: ProtoFields | undefined): T {
  if (!fields) return proto;
  const p = proto as Record<string, unknown>;
  for (const [k, v] of Object.entries(fields)) {
    const mine = p[k];
    if (mine === undefined || mine === null) p[k] = v;
    else if (Array.isArray(mine) && Array.isArray(v)) p[k] = mine.map((e, i) => (v[i] ? withUnmodelled({ ...e }, v[i] as ProtoFields) : e));
    else if (typeof mine === 'object' && typeof v === 'object') p[k] = withUnmodelled({ ...mine }, v as ProtoFields);
  }
  return proto;
}

/** Names of a graph's sparse initializers (kept in its bag; values defined like initializers). */
export function sparseInitializerNames(g: Graph): string[] {
  const sparse = (g.unmodelled?.sparseInitializer ?? []) as Array<{ values?: { name?: string | null } | null }>;
  return sparse.map((s) => s.values?.name ?? '').filter((n) => n !== '');
}

/**
 * Why a graph rewrite (a compression pass) cannot keep `model` faithful, or undefined: the first field whose
 * meaning depends on the exact initializers and shapes that passes change.
 */
export function rewriteBlocker(model: Model): string | undefined {
  if (hasItems(model.unmodelled?.trainingInfo)) {
    return 'the model has training_info, whose bindings name initializers that a rewrite changes; remove it first';
  }
  return graphBlocker(model.graph, 'the graph');
}

function graphBlocker(g: Graph, where: string): string | undefined {
  if (hasItems(g.unmodelled?.sparseInitializer)) return `${where} has sparse initializers, which the passes cannot rewrite; densify them first`;
  if (hasItems(g.unmodelled?.quantizationAnnotation)) {
    return `${where} has quantization annotations, which name tensors a rewrite changes; remove them first`;
  }
  for (const n of g.nodes) {
    if (hasItems(n.unmodelled?.deviceConfigurations)) {
      return `node ${quotedText(n.name || n.opType)} has device_configurations (sharding specs of dimensions a rewrite changes); remove them first`;
    }
    for (const a of Object.values(n.attributes)) {
      const subs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
      for (const sg of subs) {
        const p = graphBlocker(sg, `a subgraph of ${quotedText(n.name || n.opType)}`);
        if (p) return p;
      }
    }
  }
  return undefined;
}

const hasItems = (v: unknown) => Array.isArray(v) && v.length > 0;

/**
 * The first field of serialized `bytes` (a message of `typeName`, default ModelProto) that the vendored schema does
 * not know, described in one line, or undefined when there is none. Reserved (obsolete) field numbers pass. Walks the
 * wire format without decoding values (tensor payloads are skipped by length); throws on malformed bytes.
 */
export function unknownFieldProblem(bytes: Uint8Array, typeName = 'ModelProto'): string | undefined {
  const reader = Reader.create(bytes);
  return walk(reader, bytes.byteLength, messageType(typeName), typeName);
}

function walk(reader: Reader, end: number, type: MessageType, path: string): string | undefined {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    const field = type.fieldsById[id];
    if (!field) {
      if (isReserved(type, id)) {
        reader.skipType(wire);
        continue;
      }
      return `${path} has field number ${id}, which the ONNX ${SCHEMA_ONNX_RELEASE} schema (IR ${SCHEMA_IR_VERSION}) does not know (a newer ONNX wrote it); saving would drop it`;
    }
    if (wire === 2 && field.resolvedType && 'fieldsById' in field.resolvedType) {
      const len = reader.uint32();
      const sub = reader.pos + len;
      if (sub > end) throw new RangeError(`${path}.${field.name}: length ${len} runs past the message`);
      const problem = walk(reader, sub, field.resolvedType as MessageType, `${path}.${field.name}`);
      if (problem) return problem;
      reader.pos = sub;
    } else {
      reader.skipType(wire);
    }
  }
  return undefined;
}

/** Whether `id` is among a message's reserved field numbers (ranges inclusive, as the .proto writes them). */
function isReserved(type: MessageType, id: number): boolean {
  return (type.reserved ?? []).some((r) => typeof r !== 'string' && r[0] <= id && id <= r[1]);
}
