/**
 * Load → save keeps every field of the vendored ONNX 1.22 schema (IR 13), modelled or not: graphs written here carry
 * the fields added since IR 8 (node metadata_props, overload and device configurations, functions with overloads
 * and attribute defaults, sub-byte and 8-bit float tensor types, graph and value metadata, the model's device
 * configurations) and older ones the IR does not model (training_info, sparse initializers, quantization
 * annotations, denotations, non-tensor types). What the schema does not know, and what a rewrite would leave stale,
 * is refused in one line.
 */
import { describe, expect, it } from 'vitest';
import { cloneModel, decodeModel, encodeModel, type Model } from '../../src/onnx/index.ts';
import { onnx, type IModelProto, type INodeProto } from '../../src/onnx/schema.ts';
import { ModelLoadError, UserError } from '../../src/errors.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { findBert } from '../../src/bert/discover.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const meta = (...kv: string[]) => Array.from({ length: kv.length / 2 }, (_, i) => ({ key: kv[2 * i], value: kv[2 * i + 1] }));
const raw = (...bytes: number[]) => Uint8Array.from(bytes);

/** Bytes of a ModelProto given as a plain object. */
const encodeProto = (m: IModelProto) => onnx.ModelProto.encode(onnx.ModelProto.fromObject(m as Record<string, unknown>)).finish();

/** A message's meaning as a plain object: defaults filled in, so an absent field equals one set to its default. */
const meaning = (bytes: Uint8Array) => onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { longs: String, bytes: String, defaults: true, arrays: true });

/** A graph that sets every field IR 9–13 added and every field the IR does not model. */
function everyFieldModel(): IModelProto {
  const floatType = (dims: Array<{ dimValue?: number; dimParam?: string; denotation?: string }>, denotation?: string) => ({
    tensorType: { elemType: T.FLOAT, shape: { dim: dims } },
    ...(denotation ? { denotation } : {}),
  });
  const addOne: INodeProto = { name: 'fn/add', opType: 'Add', input: ['a', 'one'], output: ['b'] };
  return {
    irVersion: 13,
    opsetImport: [
      { domain: '', version: 21 },
      { domain: 'custom.fn', version: 1 },
    ],
    producerName: 'fidelity test',
    producerVersion: '1',
    domain: 'test.fidelity',
    modelVersion: 3,
    docString: 'model doc',
    metadataProps: meta('author', 'test'),
    configuration: [{ name: 'pair', numDevices: 2, device: ['cpu:0', 'cpu:1'] }],
    functions: [
      {
        name: 'AddOne',
        domain: 'custom.fn',
        overload: 'v2',
        input: ['a'],
        output: ['b'],
        attribute: ['unused'],
        attributeProto: [{ name: 'alpha', type: A.FLOAT, f: 0.5 }],
        node: [{ name: 'fn/one', opType: 'Constant', output: ['one'], attribute: [{ name: 'value_float', type: A.FLOAT, f: 1 }] }, addOne],
        opsetImport: [{ domain: '', version: 21 }],
        valueInfo: [{ name: 'one', type: floatType([]) }],
        docString: 'adds one',
        metadataProps: meta('fn', 'meta'),
      },
    ],
    trainingInfo: [{ initialization: { name: 'init' }, algorithm: { name: 'step' }, updateBinding: meta('w8', 'w8_next') }],
    graph: {
      name: 'every_field',
      docString: 'graph doc',
      metadataProps: meta('graph', 'meta'),
      input: [
        {
          name: 'x',
          type: floatType(
            [
              { dimParam: 'n', denotation: 'DATA_BATCH' },
              { dimValue: 4, denotation: 'DATA_FEATURE' },
            ],
            'TENSOR',
          ),
          metadataProps: meta('input', 'meta'),
        },
      ],
      output: [
        { name: 'y', type: floatType([{ dimParam: 'n' }, { dimValue: 4 }]) },
        { name: 'seq', type: { sequenceType: { elemType: floatType([]) } } },
      ],
      valueInfo: [
        { name: 'x1', type: floatType([{ dimParam: 'n' }, { dimValue: 4 }]), docString: 'value doc', metadataProps: meta('value', 'meta') },
        { name: 'opaque', type: { opaqueType: { domain: 'custom', name: 'Handle' } } },
      ],
      node: [
        {
          name: 'call',
          opType: 'AddOne',
          domain: 'custom.fn',
          overload: 'v2',
          input: ['x'],
          output: ['x1'],
          docString: 'node doc',
          metadataProps: meta('origin', 'layer.0'),
          deviceConfigurations: [
            {
              configurationId: 'pair',
              pipelineStage: 1,
              shardingSpec: [
                {
                  tensorName: 'x',
                  device: [0, 1],
                  indexToDeviceGroupMap: [{ key: 0, value: [0, 1] }],
                  shardedDim: [{ axis: 0, simpleSharding: [{ dimParam: 'n', numShards: 2 }] }],
                },
              ],
            },
          ],
        },
        {
          name: 'relu',
          opType: 'LeakyRelu',
          input: ['x1'],
          output: ['y'],
          attribute: [{ name: 'alpha', type: A.FLOAT, f: 0.25, docString: 'attribute doc' }],
        },
        { name: 'seq', opType: 'SequenceConstruct', input: ['y'], output: ['seq'] },
      ],
      initializer: [
        { name: 'f8e4m3', dataType: T.FLOAT8E4M3FN, dims: [3], rawData: raw(0x38, 0xb8, 0x7e), metadataProps: meta('scale', 'per-tensor') },
        { name: 'f8e5m2', dataType: T.FLOAT8E5M2, dims: [2], rawData: raw(0x3c, 0xc0) },
        { name: 'u4', dataType: T.UINT4, dims: [3], rawData: raw(0x21, 0x0f) },
        { name: 'i4', dataType: T.INT4, dims: [2, 2], rawData: raw(0x8f, 0x17) },
        { name: 'f4', dataType: T.FLOAT4E2M1, dims: [3], rawData: raw(0x12, 0x07) },
        { name: 'e8m0', dataType: T.FLOAT8E8M0, dims: [2], rawData: raw(127, 128) },
        { name: 'u2', dataType: T.UINT2, dims: [5], rawData: raw(0xe4, 0x03) },
        { name: 'i2', dataType: T.INT2, dims: [4], rawData: raw(0x1b) },
        { name: 'w8', dataType: T.FLOAT, dims: [1], rawData: raw(0, 0, 128, 63), docString: 'tensor doc' },
      ],
      sparseInitializer: [
        {
          values: { name: 'sparse', dataType: T.FLOAT, dims: [2], rawData: raw(0, 0, 128, 63, 0, 0, 0, 64) },
          indices: { name: 'sparse_idx', dataType: T.INT64, dims: [2], rawData: raw(1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0) },
          dims: [4],
        },
      ],
      quantizationAnnotation: [{ tensorName: 'x1', quantParameterTensorNames: meta('SCALE_TENSOR', 'w8') }],
    },
  };
}

describe('load → save keeps every field', () => {
  it('a graph with every field added since IR 8 (and the ones the IR does not model) means the same after load, clone, save', () => {
    const bytes = encodeProto(everyFieldModel());
    const model = decodeModel(bytes);
    // the IR sees the new types as ordinary tensors of the right byte length
    expect(model.graph.initializers.get('u2')!.data.byteLength).toBe(2);
    expect(model.graph.initializers.get('i4')!.dims).toEqual([2, 2]);
    expect(model.graph.nodes.map((n) => n.name)).toEqual(['call', 'relu', 'seq']);
    const saved = encodeModel(cloneModel(model));
    expect(meaning(saved)).toEqual(meaning(bytes));
    // and the fields are really there (not both sides empty)
    const back = onnx.ModelProto.decode(saved);
    expect(back.functions?.[0].overload).toBe('v2');
    expect(back.graph?.node?.[0].metadataProps).toEqual(meta('origin', 'layer.0'));
    expect(back.graph?.node?.[0].deviceConfigurations?.[0].shardingSpec?.[0].shardedDim?.[0].simpleSharding?.[0].dimParam).toBe('n');
    expect(back.graph?.input?.[0].type?.tensorType?.shape?.dim?.map((d) => d.denotation)).toEqual(['DATA_BATCH', 'DATA_FEATURE']);
  });

  it("keeps metadata_props and attributes named like JavaScript built-ins ('__proto__', 'constructor')", () => {
    const proto = everyFieldModel();
    proto.metadataProps = meta('__proto__', 'a', 'constructor', 'b', 'author', 'test');
    proto.graph!.node![0]!.attribute = [
      { name: '__proto__', type: A.INT, i: 1 },
      { name: 'constructor', type: A.INT, i: 2 },
    ];
    const bytes = encodeProto(proto);
    const model = decodeModel(bytes);
    expect(Object.entries(model.metadataProps)).toEqual([
      ['__proto__', 'a'],
      ['constructor', 'b'],
      ['author', 'test'],
    ]);
    expect(Object.keys(model.graph.nodes[0]!.attributes)).toEqual(['__proto__', 'constructor']);
    expect(meaning(encodeModel(cloneModel(model)))).toEqual(meaning(bytes));
  });

  it('a value whose shape a rewrite changes keeps the denotations of the dimensions that remain', () => {
    const model = decodeModel(encodeProto(everyFieldModel()));
    const x = model.graph.inputs[0];
    x.shape = ['batch'];
    const back = onnx.ModelProto.decode(encodeModel(model)).graph!.input![0].type!;
    expect(back.denotation).toBe('TENSOR');
    expect(back.tensorType!.shape!.dim!.map((d) => [d.dimParam, d.denotation])).toEqual([['batch', 'DATA_BATCH']]);
  });

  it('reads 2-, 4- and 8-bit types written in int32_data (one packed byte per int32)', () => {
    const proto = everyFieldModel();
    proto.graph!.initializer = [
      { name: 'u4', dataType: T.UINT4, dims: [3], int32Data: [0x21, 0x0f] },
      { name: 'i2', dataType: T.INT2, dims: [4], int32Data: [0x1b] },
      { name: 'f8', dataType: T.FLOAT8E5M2, dims: [2], int32Data: [0x3c, 0xc0] },
      { name: 'w8', dataType: T.FLOAT, dims: [1], floatData: [1] },
    ];
    const m = decodeModel(encodeProto(proto));
    const bytes = (n: string) => Array.from(m.graph.initializers.get(n)!.data);
    expect(bytes('u4')).toEqual([0x21, 0x0f]);
    expect(bytes('i2')).toEqual([0x1b]);
    expect(bytes('f8')).toEqual([0x3c, 0xc0]);
    proto.graph!.initializer[0].int32Data = [0x21];
    expect(() => decodeModel(encodeProto(proto))).toThrow(/'u4' holds 1 bytes but dims \[3\] of uint4 need 2/);
  });
});

/** A tiny BERT's bytes after `edit` changed its decoded proto. */
function editedTinyBert(edit: (p: IModelProto) => void): Model {
  const p = onnx.ModelProto.decode(encodeModel(tinyBert({ numLayers: 2 }, { std: 0.2 })));
  edit(p);
  return decodeModel(onnx.ModelProto.encode(p).finish());
}

describe('fields kept through a compression pass', () => {
  it('prune-heads keeps node metadata on the nodes it keeps, and the model, graph and value fields', async () => {
    const model = editedTinyBert((p) => {
      for (const n of p.graph!.node!) n.metadataProps = meta('source', n.name!);
      p.graph!.metadataProps = meta('graph', 'meta');
      p.graph!.input![0].metadataProps = meta('input', 'meta');
      p.configuration = [{ name: 'one', numDevices: 1 }];
      p.functions = [
        {
          name: 'Unused',
          domain: 'custom.fn',
          input: ['a'],
          output: ['b'],
          node: [{ opType: 'Identity', input: ['a'], output: ['b'] }],
          opsetImport: [{ domain: '', version: 14 }],
        },
      ];
    });
    const res = await runPipeline(model, [{ pass: 'prune-heads', settings: { ratio: 0.5 } }]);
    const heads = (m: Model) => findBert(m).layers.map((l) => l.attention?.numHeads ?? 0);
    expect(heads(res.model)).not.toEqual(heads(model));
    const back = onnx.ModelProto.decode(encodeModel(res.model));
    const kept = back.graph!.node!.filter((n) => model.graph.nodes.some((o) => o.name === n.name));
    expect(kept.length).toBeGreaterThan(back.graph!.node!.length / 2);
    for (const n of kept) expect(n.metadataProps, n.name!).toEqual(meta('source', n.name!));
    expect(back.graph!.metadataProps).toEqual(meta('graph', 'meta'));
    expect(back.graph!.input![0].metadataProps).toEqual(meta('input', 'meta'));
    expect(back.configuration?.[0].name).toBe('one');
    expect(back.functions?.[0].name).toBe('Unused');
  });

  const blocked: Array<[string, (p: IModelProto) => void, RegExp]> = [
    ['training_info', (p) => (p.trainingInfo = [{ algorithm: { name: 'step' }, updateBinding: meta('classifier.weight', 'w_next') }]), /training_info/],
    [
      'a sparse initializer',
      (p) =>
        (p.graph!.sparseInitializer = [
          {
            values: { name: 's', dataType: T.FLOAT, dims: [1], rawData: raw(0, 0, 0, 0) },
            indices: { name: 's_i', dataType: T.INT64, dims: [1], rawData: new Uint8Array(8) },
            dims: [2],
          },
        ]),
      /sparse initializers/,
    ],
    [
      'a quantization annotation',
      (p) => (p.graph!.quantizationAnnotation = [{ tensorName: 'logits', quantParameterTensorNames: meta('SCALE_TENSOR', 'classifier.bias') }]),
      /quantization annotations/,
    ],
    [
      'a node sharding spec',
      (p) => (p.graph!.node![3].deviceConfigurations = [{ configurationId: 'pair', shardingSpec: [{ tensorName: 'x', device: [0] }] }]),
      /device_configurations/,
    ],
  ];
  for (const [what, edit, re] of blocked) {
    it(`a rewrite of a model with ${what} is refused in one line; loading and saving it is not`, async () => {
      const model = editedTinyBert(edit);
      const err = await runPipeline(model, [{ pass: 'prune-ffn', settings: { ratio: 0.25 } }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain('\n');
      expect(meaning(encodeModel(model))).toEqual(meaning(encodeModel(decodeModel(encodeModel(model)))));
    });
  }
});

/** Protobuf wire pieces, to write fields the schema does not know. */
const varint = (n: number) => {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  return [...out, n];
};
const lengthDelimited = (id: number, body: Uint8Array) => Uint8Array.from([...varint((id << 3) | 2), ...varint(body.length), ...body]);
const varintField = (id: number, v: number) => Uint8Array.from([...varint(id << 3), ...varint(v)]);
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** A one-node model whose node, graph or model carries `extra` bytes after its known fields. */
function modelWithExtra(where: 'model' | 'graph' | 'node', extra: Uint8Array): Uint8Array {
  const node = concat(
    onnx.NodeProto.encode({ name: 'id', opType: 'Identity', input: ['x'], output: ['y'] }).finish(),
    where === 'node' ? extra : new Uint8Array(0),
  );
  const graph = concat(
    onnx.GraphProto.encode({ name: 'g', input: [{ name: 'x' }], output: [{ name: 'y' }] }).finish(),
    lengthDelimited(1, node),
    where === 'graph' ? extra : new Uint8Array(0),
  );
  return concat(
    onnx.ModelProto.encode({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }] }).finish(),
    lengthDelimited(7, graph),
    where === 'model' ? extra : new Uint8Array(0),
  );
}

describe('what cannot be kept is refused in one line', () => {
  for (const where of ['model', 'graph', 'node'] as const) {
    it(`a field the schema does not know, on the ${where}`, () => {
      let err: unknown;
      try {
        decodeModel(modelWithExtra(where, varintField(99, 1)), { label: 'future.onnx' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModelLoadError);
      const path = { model: 'ModelProto', graph: 'ModelProto.graph', node: 'ModelProto.graph.node' }[where];
      expect((err as Error).message).toBe(
        `future.onnx: ${path} has field number 99, which the ONNX v1.22.0 schema (IR 13) does not know (a newer ONNX wrote it); saving would drop it`,
      );
    });
  }

  it('the same model without the unknown field loads, and a reserved (obsolete) field number is ignored as onnx ignores it', () => {
    expect(decodeModel(modelWithExtra('node', new Uint8Array(0))).graph.nodes).toHaveLength(1);
    // GraphProto field 3 is reserved ("ir_version" of IR 1)
    expect(decodeModel(modelWithExtra('graph', varintField(3, 1))).graph.nodes).toHaveLength(1);
  });

  it('an IR version newer than the schema', () => {
    const bytes = modelWithExtra('model', varintField(1, 14));
    expect(() => decodeModel(bytes, { label: 'm.onnx' })).toThrow('m.onnx: IR version 14 is newer than the ONNX v1.22.0 schema this reader knows (IR 13)');
  });
});
