import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadModel,
  decodeModel,
  encodeModel,
  saveModel,
  createModel,
  float32Tensor,
  int64Tensor,
  readFloat32,
  readNumbers,
  DataType,
  type Model,
} from '../../src/onnx/index.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { openSession } from '../../src/runtime/session.ts';
import { ModelLoadError } from '../../src/errors.ts';
import { FIXTURE_MODELS, fixture, hasFixtures, hasTeachers, TEACHERS } from '../helpers/paths.ts';
import { encoderFeeds, runAll, bitIdentical } from '../helpers/feeds.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'bc-onnx-'));

/** y = x·W + b on a [1, 4] float input: the smallest model that shows initializers at work. */
function linearModel(w: number[], b: number[]): Model {
  return createModel(
    {
      name: 'linear',
      nodes: [
        { name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'W'], outputs: ['xw'], attributes: {} },
        { name: 'add', opType: 'Add', domain: '', inputs: ['xw', 'b'], outputs: ['y'], attributes: {} },
      ],
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['n', 4] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['n', 2] }],
      initializers: new Map([
        ['W', float32Tensor('W', [4, 2], w)],
        ['b', float32Tensor('b', [2], b)],
      ]),
      valueInfo: [],
    },
    [{ domain: '', version: 14 }],
  );
}

describe.skipIf(!hasFixtures)('load then save keeps every exporter graph bit-identical in onnxruntime (needs ../shared/fixtures/onnx)', () => {
  for (const f of FIXTURE_MODELS) {
    it(f.file, async () => {
      const path = fixture(f.file);
      const model = loadModel(path);
      const bytes = encodeModel(model);
      const again = decodeModel(bytes);
      expect(again.graph.nodes.length).toBe(model.graph.nodes.length);
      expect([...again.graph.initializers.keys()]).toEqual([...model.graph.initializers.keys()]);
      const a = await openSession(path, { graphOptimizationLevel: 'disabled' });
      const b = await openSession(bytes, { graphOptimizationLevel: 'disabled' });
      const feeds = encoderFeeds(a, { batch: 2, seq: f.seq ?? 9, vocab: f.vocab, seed: 7 });
      const [ra, rb] = [await runAll(a, feeds), await runAll(b, feeds)];
      for (const k of Object.keys(ra)) expect(bitIdentical(ra[k], rb[k]), k).toBe(true);
    });
  }
});

describe.skipIf(!hasTeachers)('a trained teacher survives load and save (needs ../shared/teachers)', () => {
  it('sst2 teacher: same logits bit for bit, external-data copy too', async () => {
    const path = join(TEACHERS, 'sst2-L4H256/model.onnx');
    const model = loadModel(path);
    const dir = tmp();
    try {
      const inline = join(dir, 'inline.onnx');
      const ext = join(dir, 'ext.onnx');
      saveModel(model, inline);
      const saved = saveModel(model, ext, { externalData: true });
      expect(saved.data).toBe(join(dir, 'ext.onnx.data'));
      expect(statSync(ext).size).toBeLessThan(100_000);
      expect(statSync(saved.data!).size).toBeGreaterThan(44_000_000);
      const sessions = await Promise.all([path, inline, ext].map((p) => openSession(p)));
      const feeds = encoderFeeds(sessions[0], { batch: 3, seq: 16, vocab: 30522 });
      const outs = await Promise.all(sessions.map((s) => runAll(s, feeds)));
      expect(bitIdentical(outs[0].logits, outs[1].logits)).toBe(true);
      expect(bitIdentical(outs[0].logits, outs[2].logits)).toBe(true);
      // our own loader reads the external data back to the same bytes
      const back = loadModel(ext);
      for (const [name, t] of model.graph.initializers) expect(Buffer.compare(back.graph.initializers.get(name)!.data, t.data), name).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tensor encodings', () => {
  it('reads typed fields (float_data, int64_data, int32_data for int8 and float16) as raw bytes', () => {
    const proto = onnx.ModelProto.encode({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node: [{ name: 'id', opType: 'Identity', input: ['f'], output: ['y'] }],
        output: [{ name: 'y' }],
        initializer: [
          { name: 'f', dataType: DataType.FLOAT, dims: [3], floatData: [1.5, -2, 3.25] },
          { name: 'i64', dataType: DataType.INT64, dims: [2], int64Data: [-5, 9007199254740993] },
          { name: 'i8', dataType: DataType.INT8, dims: [3], int32Data: [-128, 0, 127] },
          { name: 'h', dataType: DataType.FLOAT16, dims: [2], int32Data: [0x3c00, 0xc000] },
          { name: 'd', dataType: DataType.DOUBLE, dims: [1], doubleData: [0.5] },
        ],
      },
    }).finish();
    const m = decodeModel(proto);
    const get = (n: string) => m.graph.initializers.get(n)!;
    expect(Array.from(readFloat32(get('f')))).toEqual([1.5, -2, 3.25]);
    expect(readNumbers(get('i8'))).toEqual([-128, 0, 127]);
    expect(Array.from(readFloat32(get('h')))).toEqual([1, -2]);
    expect(readNumbers(get('d'))).toEqual([0.5]);
    expect(get('i64').data.byteLength).toBe(16);
    expect(readNumbers(get('i64'))[0]).toBe(-5);
    // saved as raw_data, read again: same bytes
    const again = decodeModel(encodeModel(m));
    for (const n of ['f', 'i64', 'i8', 'h', 'd']) expect(Buffer.compare(again.graph.initializers.get(n)!.data, get(n).data)).toBe(0);
  });

  it.skipIf(!hasFixtures)('keeps com.microsoft opset imports and node domains (needs ../shared/fixtures/onnx)', () => {
    const m = loadModel(fixture('bert-toy-pretraining-ort-fused.onnx'));
    const again = decodeModel(encodeModel(m));
    expect(again.opsetImports).toContainEqual({ domain: 'com.microsoft', version: 1 });
    expect(again.graph.nodes.filter((n) => n.domain === 'com.microsoft' && n.opType === 'Attention').length).toBe(5);
  });
});

describe('external data', () => {
  it('round-trips a model whose weights live in a .onnx.data file, with a small size threshold', async () => {
    const dir = tmp();
    try {
      const w = Array.from({ length: 8 }, (_, i) => i / 8 - 0.5);
      const model = linearModel(w, [0.25, -0.75]);
      const path = join(dir, 'm.onnx');
      const files = saveModel(model, path, { externalData: true, dataFile: 'weights.bin', externalSizeThreshold: 16 });
      expect(files.data).toBe(join(dir, 'weights.bin'));
      expect(existsSync(join(dir, 'weights.bin'))).toBe(true);
      const back = loadModel(path);
      expect(Array.from(readFloat32(back.graph.initializers.get('W')!))).toEqual(w.map((v) => Math.fround(v)));
      // 'b' (8 bytes) stays inline under the 16-byte threshold
      const proto = onnx.ModelProto.decode(readFileSync(path));
      const loc = Object.fromEntries(proto.graph!.initializer!.map((t) => [t.name, t.dataLocation ?? 0]));
      expect(loc).toEqual({ W: 1, b: 0 });
      const s = await openSession(path);
      const { Tensor } = await import('../../src/runtime/session.ts');
      const y = (await s.run({ x: new Tensor('float32', Float32Array.from([1, 0, 0, 1]), [1, 4]) })).y.data as Float32Array;
      expect(Array.from(y)).toEqual([Math.fround(w[0] + w[6] + 0.25), Math.fround(w[1] + w[7] - 0.75)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses external data that is missing, out of range, or outside the model folder', () => {
    const dir = tmp();
    try {
      const path = join(dir, 'm.onnx');
      saveModel(linearModel(new Array(8).fill(1), [0, 0]), path, { externalData: true, externalSizeThreshold: 1 });
      const data = join(dir, 'm.onnx.data');
      writeFileSync(data, readFileSync(data).subarray(0, 10));
      expect(() => loadModel(path)).toThrow(/outside 'm.onnx.data'/);
      writeFileSync(data, `version https://git-lfs.github.com/spec/v1\noid sha256:${'cd'.repeat(32)}\nsize 2500000000\n`);
      expect(() => loadModel(path)).toThrow(/external data file 'm.onnx.data' is a Git LFS pointer to a 2500\.0 MB file, not the file itself .*git lfs pull/);
      rmSync(data);
      expect(() => loadModel(path)).toThrow(/external data file 'm.onnx.data' is missing/);
      const evil = onnx.ModelProto.encode({
        irVersion: 8,
        opsetImport: [{ domain: '', version: 14 }],
        graph: {
          name: 'g',
          node: [],
          output: [{ name: 't' }],
          initializer: [{ name: 't', dataType: 1, dims: [1], dataLocation: 1, externalData: [{ key: 'location', value: '../../etc/passwd' }] }],
        },
      }).finish();
      writeFileSync(path, evil);
      expect(() => loadModel(path)).toThrow(/leaves the model's folder/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("'auto' keeps small models in one file and moves large ones to external data", () => {
    const dir = tmp();
    try {
      const m = linearModel(new Array(8).fill(1), [0, 0]);
      expect(saveModel(m, join(dir, 'small.onnx')).data).toBeUndefined();
      const big = saveModel(m, join(dir, 'big.onnx'), { autoThreshold: 16, externalSizeThreshold: 16 });
      expect(big.data).toBe(join(dir, 'big.onnx.data'));
      expect(Array.from(readFloat32(loadModel(join(dir, 'big.onnx')).graph.initializers.get('W')!))).toEqual(new Array(8).fill(1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes atomically: no temporary files are left behind', () => {
    const dir = tmp();
    try {
      saveModel(linearModel(new Array(8).fill(1), [0, 0]), join(dir, 'a.onnx'), { externalData: true, externalSizeThreshold: 1 });
      expect(readdirSync(dir).sort()).toEqual(['a.onnx', 'a.onnx.data']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bad input gets a one-line ModelLoadError naming the file', () => {
  const dir = tmp();
  const write = (name: string, bytes: Uint8Array | string) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const expectLoadError = (path: string, re: RegExp) => {
    let err: unknown;
    try {
      loadModel(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelLoadError);
    const msg = (err as Error).message;
    expect(msg).toMatch(re);
    expect(msg).not.toContain('\n');
    expect(msg.startsWith(path)).toBe(true);
  };

  it('missing file', () => expectLoadError(join(dir, 'nope.onnx'), /no such file/));
  it('empty file', () => expectLoadError(write('empty.onnx', new Uint8Array(0)), /empty file/));
  it('a text file', () => expectLoadError(write('readme.onnx', 'hello, this is not a model\n'), /not an ONNX model/));
  it('a Git LFS pointer (a repository cloned without git-lfs)', () =>
    expectLoadError(
      write('lfs.onnx', `version https://git-lfs.github.com/spec/v1\noid sha256:${'ab'.repeat(32)}\nsize 38400000\n`),
      /lfs\.onnx: a Git LFS pointer to a 38\.4 MB file, not the file itself \(cloned without Git LFS\): run 'git lfs pull' in its repository, or give the model as hf:ORG\/NAME$/,
    ));
  it('truncated model', () => {
    const bytes = encodeModel(linearModel(new Array(8).fill(1), [0, 0]));
    expectLoadError(write('trunc.onnx', bytes.subarray(0, bytes.length - 7)), /not an ONNX model|holds \d+ bytes/);
  });
  it('unknown opset', () => {
    const m = linearModel(new Array(8).fill(1), [0, 0]);
    m.opsetImports = [{ domain: '', version: 99 }];
    expectLoadError(write('opset.onnx', encodeModel(m)), /unknown opset ai.onnx 99/);
  });
  it('a graph with a cycle', () => {
    const m = linearModel(new Array(8).fill(1), [0, 0]);
    m.graph.nodes[0].inputs = ['y', 'W'];
    expectLoadError(write('cycle.onnx', encodeModel(m)), /cycle/);
  });
  it('a node reading an undefined value', () => {
    const m = linearModel(new Array(8).fill(1), [0, 0]);
    m.graph.nodes[1].inputs = ['xw', 'ghost'];
    expectLoadError(write('ghost.onnx', encodeModel(m)), /reads 'ghost', which nothing defines/);
  });
  it('a graph with several problems names the first and counts the rest as every capped list does (where it said "(and 1 more)")', () => {
    const m = linearModel(new Array(8).fill(1), [0, 0]);
    m.graph.nodes[1].inputs = ['ghost', 'phantom'];
    expectLoadError(write('ghosts.onnx', encodeModel(m)), /: invalid graph: node '[^']+' \(Add\) reads 'ghost', which nothing defines; … \(1 more\)$/);
  });
  it('a folder', () => expectLoadError(dir, /is a folder/));
  it('an unsorted but acyclic graph is put in order', () => {
    const m = linearModel(new Array(8).fill(1), [0, 0]);
    m.graph.nodes.reverse();
    const back = decodeModel(encodeModel(m));
    expect(back.graph.nodes.map((n) => n.name)).toEqual(['mm', 'add']);
  });
  it('int64 tensors keep full precision through raw bytes', () => {
    const t = int64Tensor('big', [1], [2n ** 62n + 1n]);
    const m = linearModel(new Array(8).fill(1), [0, 0]);
    m.graph.initializers.set('big', t);
    m.graph.outputs.push({ name: 'big' });
    const back = decodeModel(encodeModel(m));
    expect(new BigInt64Array(new Uint8Array(back.graph.initializers.get('big')!.data).buffer)[0]).toBe(2n ** 62n + 1n);
  });
});
