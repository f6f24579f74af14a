/**
 * The protobuf seam: ONNX's messages as protobufjs reflection types, built from the descriptor generated from the
 * vendored onnx-ml.proto (ONNX 1.22, IR 13: onnx-schema.ts, by scripts/make-onnx-schema.ts). protobufjs compiles
 * each type's encoder and decoder on first use, as its static code generator would have written them. Only
 * src/onnx's proto.ts, load.ts, save.ts and fidelity.ts (and tools that read or write raw protos) use this file.
 */
import protobuf from 'protobufjs/light.js';
import type * as Protobuf from 'protobufjs/light.js';
import {
  AttributeProtoAttributeType,
  ONNX_DESCRIPTOR,
  TensorProtoDataLocation,
  TensorProtoDataType,
  type IGraphProto,
  type IModelProto,
  type INodeProto,
  type ITensorProto,
  type IValueInfoProto,
} from './onnx-schema.ts';

export type * from './onnx-schema.ts';
export { SCHEMA_IR_VERSION, SCHEMA_ONNX_RELEASE } from './onnx-schema.ts';

// protobufjs's light build: reflection and codecs, no .proto parser (the descriptor is generated ahead of time).

export type MessageType = Protobuf.Type;
export type MessageField = Protobuf.Field;

const root = protobuf.Root.fromJSON(ONNX_DESCRIPTOR as Protobuf.INamespace);
root.resolveAll();

/** How `toObject` writes a message: the options of protobufjs's `Type.toObject`. */
export type ToObjectOptions = Protobuf.IConversionOptions;

/** Encoding, decoding and conversion of one message type, typed by its plain-object interface. */
export interface MessageCodec<T> {
  readonly type: MessageType;
  /** Serializes a message or a plain object of its shape (call `.finish()` for the bytes). */
  encode(message: T): { finish(): Uint8Array };
  /** Parses bytes; throws on malformed input. Fields absent from the bytes read as the prototype's defaults. */
  decode(bytes: Uint8Array): T;
  /** A message from a plain object whose fields may be loosely typed (numbers for int64, arrays for bytes…). */
  fromObject(object: Record<string, unknown>): T;
  /** A plain object of a message (see protobufjs's IConversionOptions: longs, bytes, defaults…). */
  toObject(message: T, options?: ToObjectOptions): Record<string, unknown>;
}

/** The reflection type of `onnx.<name>` (e.g. 'TensorProto', 'TypeProto.Tensor'). */
export function messageType(name: string): MessageType {
  return root.lookupType(`onnx.${name}`);
}

function codec<T>(name: string): MessageCodec<T> {
  const type = messageType(name);
  return {
    type,
    encode: (message) => type.encode(message as Protobuf.Message),
    decode: (bytes) => type.decode(bytes) as T,
    fromObject: (object) => type.fromObject(object) as T,
    toObject: (message, options) => type.toObject(message as Protobuf.Message, options),
  };
}

/** The ONNX messages the project reads and writes, and the enums it names. */
export const onnx = {
  ModelProto: codec<IModelProto>('ModelProto'),
  GraphProto: codec<IGraphProto>('GraphProto'),
  NodeProto: codec<INodeProto>('NodeProto'),
  ValueInfoProto: codec<IValueInfoProto>('ValueInfoProto'),
  TensorProto: { ...codec<ITensorProto>('TensorProto'), DataType: TensorProtoDataType, DataLocation: TensorProtoDataLocation },
  AttributeProto: { AttributeType: AttributeProtoAttributeType },
};

/** protobufjs's wire reader (fidelity.ts walks raw messages with it). */
export const Reader = protobuf.Reader;
export type Reader = Protobuf.Reader;
