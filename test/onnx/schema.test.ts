/**
 * The vendored schema and what is generated from it: src/onnx/onnx-schema.ts is what scripts/make-onnx-schema.ts
 * writes for src/onnx/onnx-ml.proto today, and every field proto.ts claims to model is a field of that schema (a
 * misspelt name would leave the real field unhandled by either the IR or the unmodelled bag).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { PROTO_FILE, SCHEMA_FILE, renderOnnxSchema } from '../../scripts/make-onnx-schema.ts';
import { MODELLED } from '../../src/onnx/proto.ts';
import { messageType, SCHEMA_IR_VERSION } from '../../src/onnx/schema.ts';
import type { ModelledSpec } from '../../src/onnx/fidelity.ts';

describe('vendored ONNX schema', () => {
  it('onnx-schema.ts is what the generator writes for onnx-ml.proto', () => {
    expect(renderOnnxSchema(readFileSync(PROTO_FILE, 'utf8'))).toBe(readFileSync(SCHEMA_FILE, 'utf8'));
  });

  it('is the IR 13 schema with the fields IR 9–13 added', () => {
    expect(SCHEMA_IR_VERSION).toBe(13);
    const fieldNames = (t: string) => messageType(t).fieldsArray.map((f) => f.name);
    expect(fieldNames('NodeProto')).toEqual(expect.arrayContaining(['overload', 'metadataProps', 'deviceConfigurations']));
    expect(fieldNames('FunctionProto')).toEqual(expect.arrayContaining(['overload', 'attributeProto', 'valueInfo', 'metadataProps']));
    expect(fieldNames('ModelProto')).toEqual(expect.arrayContaining(['configuration', 'functions', 'trainingInfo']));
  });

  it('every field proto.ts models is a field of the schema', () => {
    const unknown: string[] = [];
    const check = (typeName: string, spec: ModelledSpec) => {
      const type = messageType(typeName);
      for (const [name, sub] of Object.entries(spec)) {
        const field = type.fields[name];
        if (!field) unknown.push(`${typeName}.${name}`);
        else if (sub !== true) check(field.resolvedType!.fullName.replace(/^\.onnx\./, ''), sub);
      }
    };
    for (const [typeName, spec] of Object.entries(MODELLED)) check(typeName === 'UntypedValueInfoProto' ? 'ValueInfoProto' : typeName, spec);
    expect(unknown).toEqual([]);
  });
});
